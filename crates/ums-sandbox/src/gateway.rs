//! Request routing: control endpoints, the token endpoint and the business
//! operations, with the checks every ChinaUMS path shares (method, content
//! type, authentication, JSON object body), and the faults injected into
//! them (`faults.rs`).

use super::auth::{self, Settings};
use super::bills::{self, Call};
use super::console;
use super::customer;
use super::faults::{self, Fault, FaultQueue, Planned, QueuedFault, FAULT_HEADER};
use super::fields;
use super::http::{Answer, Head, Rejection, Request, Service};
use super::notifier::{Delivery, Notifier, Policy};
use super::reqlog::{Outcome, RequestLog};
use super::state::{demo_apps, Apps, AuthBook, Counters, State};
use super::Stats;
use chinaums::clock::{BeijingTime, Clock};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

pub(crate) const TOKEN_PATH: &str = "/v1/token/access";
pub(crate) const CONTROL_PREFIX: &str = "/_sandbox/";
/// The control clock moves at most this far in one call: 10 years.
const MAX_ADVANCE_SECONDS: i64 = 315_360_000;

/// The simulator's clock: the configured clock plus an offset that
/// `POST /_sandbox/clock` moves forward.
pub(crate) struct SimClock {
    base: Arc<dyn Clock>,
    offset_ms: AtomicI64,
}

/// One reading of the simulator clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    /// Configured clock plus offset: the simulator's "now".
    pub at_ms: i64,
    /// The configured clock alone: what request timestamps are checked against.
    pub wall_ms: i64,
}

impl SimClock {
    pub fn new(base: Arc<dyn Clock>) -> SimClock {
        SimClock {
            base,
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn now(&self) -> Now {
        let wall_ms = self.base.now_unix_millis();
        Now {
            at_ms: wall_ms.saturating_add(self.offset_ms.load(Ordering::SeqCst)),
            wall_ms,
        }
    }

    /// Moves the simulator's time forward; returns the new offset.
    pub fn advance(&self, by_ms: i64) -> i64 {
        let by_ms = by_ms.max(0);
        self.offset_ms.fetch_add(by_ms, Ordering::SeqCst) + by_ms
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }
}

/// How the gateway behaves beyond the time rules ([`Settings`]).
#[derive(Debug, Clone)]
pub(crate) struct Behaviour {
    /// The port the simulator listens on (the console's Host and Origin
    /// checks).
    pub port: u16,
    /// Amounts only as JSON integers (the documented type); otherwise a
    /// string of decimal digits (`"26"`, as the official samples send) is
    /// accepted too.
    pub strict_types: bool,
    /// Whether refunds are notified too (payments always are).
    pub notify_refunds: bool,
    /// Whether notifications carry absent optional fields as empty values.
    pub notify_empty_values: bool,
    /// How long settled bills are kept (simulator time).
    pub retention_ms: i64,
    /// One line per request on stderr.
    pub log_requests: bool,
}

/// The simulated gateway. Its state is in three parts, each behind its own
/// lock held only for a state change: the business books ([`State`]), the
/// tokens and nonces ([`AuthBook`]) and the request counters
/// ([`Counters`]). Signatures, JSON parsing and answers are done outside
/// them; the apps never change and are read without a lock.
pub(crate) struct Gateway {
    apps: Apps,
    state: Mutex<State>,
    auth: Mutex<AuthBook>,
    counters: Mutex<Counters>,
    settings: Settings,
    pub(crate) behaviour: Behaviour,
    pub(crate) clock: SimClock,
    notifier: Notifier,
    faults: FaultQueue,
    pub(crate) requests: RequestLog,
    pub(crate) judge: super::judge::Judge,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Handlers do not panic while holding a lock, but if one ever did, the
    // state is still consistent enough for a simulator.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Gateway {
    pub fn new(
        settings: Settings,
        clock: Arc<dyn Clock>,
        policy: Policy,
        behaviour: Behaviour,
    ) -> Gateway {
        let mut state = State::with_demo_data(clock.now_unix_millis());
        state.notify_refunds = behaviour.notify_refunds;
        state.notify_empty_values = behaviour.notify_empty_values;
        state.retention_ms = behaviour.retention_ms;
        Gateway {
            apps: demo_apps(),
            state: Mutex::new(state),
            auth: Mutex::new(AuthBook::new(demo_apps())),
            counters: Mutex::new(Counters::default()),
            settings,
            requests: RequestLog::new(behaviour.log_requests),
            behaviour,
            clock: SimClock::new(clock),
            notifier: Notifier::new(policy),
            faults: FaultQueue::default(),
            judge: Default::default(),
        }
    }

    /// Queues `fault` for the next `count` requests to `path` (`"*"`: any
    /// path but the token endpoint). False when the queue is full.
    pub fn inject_fault(&self, path: &str, fault: Fault, count: u32) -> bool {
        self.faults.push(path, fault, count)
    }

    /// Forgets every queued fault; returns how many there were.
    pub fn clear_faults(&self) -> usize {
        self.faults.clear()
    }

    pub fn queued_faults(&self) -> Vec<QueuedFault> {
        self.faults.list()
    }

    /// The business books.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The tokens and nonces.
    pub fn auth_book(&self) -> MutexGuard<'_, AuthBook> {
        lock(&self.auth)
    }

    fn counters(&self) -> MutexGuard<'_, Counters> {
        lock(&self.counters)
    }

    /// The counters now (the simulator's time decides which tokens have
    /// expired).
    pub fn stats(&self) -> Stats {
        let now = self.clock.now();
        let counters = self.counters().clone();
        self.auth_book().stats(&counters, now.at_ms)
    }

    /// Moves the simulator clock forward by `by_ms`; returns the new offset.
    pub fn advance_clock(&self, by_ms: i64) -> i64 {
        self.clock.advance(by_ms)
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.notifier.deliveries()
    }

    /// Stops notification retries (the simulator is going away).
    pub fn stop_notifier(&self) {
        self.notifier.stop();
    }

    /// Hands the notifications queued under the lock to the notifier.
    fn flush(&self, mut state: MutexGuard<'_, State>) {
        let outbox = std::mem::take(&mut state.outbox);
        drop(state);
        if !outbox.is_empty() {
            self.notifier.dispatch(outbox);
        }
    }

    fn control(&self, request: &Request) -> Answer {
        if let Some(refusal) = console::refuse_foreign(request, self.behaviour.port) {
            return refusal;
        }
        if console::is_console(&request.path) {
            return console::handle(self, request);
        }
        let methods: &[&str] = match request.path.as_str() {
            "/_sandbox/health" | "/_sandbox/stats" | "/_sandbox/notifications" => &["GET"],
            "/_sandbox/processed" => &["GET"],
            "/_sandbox/pay" => &["POST"],
            "/_sandbox/clock" => &["GET", "POST"],
            "/_sandbox/faults" => &["GET", "POST", "DELETE"],
            _ => return error(404, "NO_SERVICE", "没有这个模拟器控制接口"),
        };
        if !methods.contains(&request.method.as_str()) {
            return error(
                405,
                "BAD_REQUEST",
                &format!("该控制接口只支持 {}", methods.join(" / ")),
            );
        }
        match (request.method.as_str(), request.path.as_str()) {
            (_, "/_sandbox/health") => Answer::json(200, &json!({"ok": true})),
            (_, "/_sandbox/stats") => Answer::json(200, &self.stats().to_json()),
            (_, "/_sandbox/notifications") => self.notifications(request),
            (_, "/_sandbox/processed") => {
                Answer::json(200, &self.judge.processed_json(request.query.as_deref()))
            }
            (_, "/_sandbox/pay") => self.pay(request),
            (_, "/_sandbox/faults") => self.fault_control(request),
            ("POST", _) => self.move_clock(request),
            _ => Answer::json(200, &self.clock_json()),
        }
    }

    fn fault_control(&self, request: &Request) -> Answer {
        let cleared = match request.method.as_str() {
            "POST" => {
                let body = match control_body(request) {
                    Ok(body) => body,
                    Err(answer) => return answer,
                };
                match faults::parse_control(&body) {
                    Ok((path, fault, count)) => {
                        if !self.inject_fault(&path, fault, count) {
                            return control_error(409, "TOO_MANY_FAULTS", "故障队列已满 (1000 项)");
                        }
                    }
                    Err(message) => return control_error(400, "BAD_REQUEST", &message),
                }
                None
            }
            "DELETE" => Some(self.clear_faults()),
            _ => None,
        };
        let list: Vec<Value> = self
            .queued_faults()
            .iter()
            .map(QueuedFault::to_json)
            .collect();
        let mut answer = json!({"ok": true, "faults": list});
        if let Some(n) = cleared {
            answer["cleared"] = json!(n);
        }
        Answer::json(200, &answer)
    }

    fn notifications(&self, request: &Request) -> Answer {
        let filters: Vec<(&str, &str)> = request
            .query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| matches!(*k, "billNo" | "notifyId"))
            .collect();
        let list: Vec<Value> = self
            .deliveries()
            .iter()
            .filter(|d| {
                filters.iter().all(|(k, v)| match *k {
                    "billNo" => d.bill_no == *v,
                    _ => d.notify_id == *v,
                })
            })
            .map(Delivery::to_json)
            .collect();
        Answer::json(200, &json!({"notifications": list}))
    }

    fn pay(&self, request: &Request) -> Answer {
        let body = match control_body(request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        match self.customer_pays(&body) {
            Ok(answer) => Answer::json(200, &answer),
            Err(refusal) => Answer::json(refusal.status, &refusal.to_json()),
        }
    }

    /// The customer pays (`POST /_sandbox/pay` and the console's form).
    pub(crate) fn customer_pays(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Value, customer::PayRefusal> {
        let now = self.clock.now();
        let mut state = self.lock();
        let result = customer::pay(&mut state, body, now.at_ms);
        self.flush(state);
        result
    }

    fn move_clock(&self, request: &Request) -> Answer {
        let body = match control_body(request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        match self.advance_clock_by(body.get("advanceSeconds")) {
            Ok(()) => Answer::json(200, &self.clock_json()),
            Err(message) => control_error(400, "BAD_REQUEST", &message),
        }
    }

    /// Moves the clock by `advanceSeconds` (a JSON integer, or digits from
    /// the console's form).
    pub(crate) fn advance_clock_by(&self, seconds: Option<&Value>) -> Result<(), String> {
        let seconds = match seconds {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match seconds {
            Some(s) if (0..=MAX_ADVANCE_SECONDS).contains(&s) => {
                self.clock.advance(s.saturating_mul(1000));
                Ok(())
            }
            _ => Err(format!(
                "advanceSeconds 必须是 0..={MAX_ADVANCE_SECONDS} 的整数 (时钟只能前进)"
            )),
        }
    }

    fn clock_json(&self) -> Value {
        let now = self.clock.now();
        json!({
            "ok": true,
            "now": BeijingTime::from_unix_millis(now.at_ms).date_time(),
            "offsetSeconds": self.clock.offset_ms() / 1000,
        })
    }

    fn token(&self, request: &Request, now: Now, outcome: &mut Outcome) -> Answer {
        if let Some(refusal) = check_post_json(request) {
            return refusal;
        }
        let answer = auth::issue_token(
            &self.apps,
            &self.auth,
            self.settings,
            now.at_ms,
            now.wall_ms,
            &request.body,
        );
        outcome.verdict = "token";
        outcome.set_err_code(&answer);
        Answer::json(200, &answer)
    }

    /// A ChinaUMS business request: authenticated and parsed without a
    /// lock; the books are locked for the operation only.
    fn business(
        &self,
        request: &Request,
        now: Now,
        operation: bills::Operation,
        outcome: &mut Outcome,
    ) -> Answer {
        if let Some(refusal) = check_post_json(request) {
            return refusal;
        }
        let authorization: Vec<&str> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str())
            .collect();
        let app_id = match auth::authenticate(
            &self.apps,
            &self.auth,
            self.settings,
            now.at_ms,
            now.wall_ms,
            &authorization,
            &request.body,
        ) {
            Ok(app_id) => app_id,
            Err(failure) => {
                outcome.app_id = failure.app_id.clone();
                outcome.verdict = failure.code;
                outcome.err_code = Some(failure.code.to_string());
                self.auth_book()
                    .count_unauthorized(failure.app_id.as_deref());
                return Answer::json(401, &failure.to_json());
            }
        };
        outcome.app_id = Some(app_id.clone());
        outcome.verdict = "ok";
        let mut body: Map<String, Value> = match serde_json::from_slice(&request.body) {
            Ok(Value::Object(map)) => unwrap_data_envelope(map),
            _ => return error(200, "BAD_REQUEST", "请求体必须是 UTF-8 编码的 JSON 对象"),
        };
        if !self.behaviour.strict_types {
            fields::accept_digit_string_amounts(&mut body);
        }
        self.counters().count_processed(&request.path);
        let call = Call {
            app_id: &app_id,
            now_ms: now.at_ms,
            wall_ms: now.wall_ms,
            skew_ms: self.settings.clock_skew_ms,
            body: &body,
        };
        let mut state = self.lock();
        let answer = match operation(&mut state, &call) {
            Ok(reply) => reply.into_value(),
            Err(reject) => bills::refusal(&reject, &call),
        };
        state.sweep_if_due(now.at_ms);
        self.flush(state);
        outcome.set_err_code(&answer);
        Answer::json(200, &answer)
    }
}

/// A body that is exactly `{"data": {...}}` (the official SDKs'
/// `needDataTag` envelope) is the inner object.
pub(crate) fn unwrap_data_envelope(mut body: Map<String, Value>) -> Map<String, Value> {
    if body.len() == 1 && body.get("data").is_some_and(Value::is_object) {
        if let Some(Value::Object(inner)) = body.remove("data") {
            return inner;
        }
    }
    body
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(status, &json!({"errCode": code, "errMsg": message}))
}

fn control_error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({"ok": false, "error": code, "message": message}),
    )
}

/// The JSON object body of a control POST (any Content-Type).
fn control_body(request: &Request) -> Result<Map<String, Value>, Answer> {
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(control_error(400, "BAD_REQUEST", "请求体必须是 JSON 对象")),
    }
}

/// POST with `Content-Type: application/json` (parameters such as charset
/// allowed), as every ChinaUMS path requires.
fn check_post_json(request: &Request) -> Option<Answer> {
    if request.method != "POST" {
        return Some(error(405, "BAD_REQUEST", "只支持 POST"));
    }
    let media_type = request
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or("").trim());
    match media_type {
        Some(t) if t.eq_ignore_ascii_case("application/json") => None,
        _ => Some(error(
            415,
            "BAD_REQUEST",
            "Content-Type 必须是 application/json",
        )),
    }
}

/// Control endpoints and the console: never counted, never given a fault.
fn is_control(path: &str) -> bool {
    path.starts_with(CONTROL_PREFIX) || path == "/_sandbox" || console::is_console(path)
}

impl Service for Gateway {
    /// The request's own `X-Sandbox-Fault` header (ignored on the token
    /// path), else the first queued fault for its path.
    fn plan(&self, path: &str, head: &Head) -> Planned {
        if is_control(path) {
            return Planned::None;
        }
        let header = head
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(FAULT_HEADER))
            .map(|(_, v)| v.as_str());
        match header {
            Some(value) if path != TOKEN_PATH => match value.parse::<Fault>() {
                Ok(fault) => Planned::Fault(fault),
                Err(message) => Planned::BadHeader(message),
            },
            _ => self
                .faults
                .take(path, TOKEN_PATH)
                .map_or(Planned::None, Planned::Fault),
        }
    }

    fn handle(&self, request: &Request) -> Answer {
        let started = Instant::now();
        let mut outcome = Outcome::default();
        let answer = self.route(request, &mut outcome);
        self.requests.record(
            request,
            &answer,
            outcome,
            started.elapsed(),
            self.clock.now().at_ms,
        );
        answer
    }

    fn rejected(&self, what: Rejection) {
        let mut counters = self.counters();
        match what {
            Rejection::Malformed => counters.malformed_requests += 1,
            Rejection::TooManyConnections => counters.connections_refused += 1,
        }
    }
}

impl Gateway {
    /// Control and console paths, the token endpoint, business paths.
    fn route(&self, request: &Request, outcome: &mut Outcome) -> Answer {
        if is_control(&request.path) {
            outcome.control = true;
            return self.control(request);
        }
        let _busy = self.judge.enter(); // judge.rs: held requests count as busy
        self.judge.hold_point(&request.path);
        let now = self.clock.now();
        self.counters().count_request(&request.path);
        let fault = match &request.planned {
            Planned::None => None,
            Planned::Fault(fault) => {
                self.counters().count_fault(fault.name());
                outcome.fault = Some(fault.name());
                if !fault.processed() {
                    if *fault == Fault::TokenExpired {
                        let mut book = self.auth_book();
                        let app_id = auth::claimed_app(&book, &request.headers);
                        book.count_unauthorized(app_id.as_deref());
                    }
                    let answer = fault.unprocessed_answer(&request.path, now.at_ms);
                    let name = Some(fault.name());
                    self.judge
                        .record(&request.path, &request.body, false, None, name);
                    return answer;
                }
                Some(*fault)
            }
            Planned::BadHeader(message) => {
                return error(400, "BAD_REQUEST", &format!("{FAULT_HEADER}: {message}"));
            }
        };
        let answer = if request.path == TOKEN_PATH {
            self.token(request, now, outcome)
        } else {
            match bills::operation(&request.path) {
                Some(operation) => self.business(request, now, operation, outcome),
                None => error(404, "NO_SERVICE", "没有这个服务 (路径不存在)"),
            }
        };
        if request.path != TOKEN_PATH {
            let name = fault.map(Fault::name);
            self.judge.record_answer(
                &request.path,
                &request.body,
                &answer,
                outcome.err_code.as_deref(),
                name,
            );
        }
        match fault {
            Some(fault) => fault.spoil(answer, now.at_ms),
            None => answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_envelope_is_unwrapped_only_when_alone() {
        let map = |v: Value| match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let inner = unwrap_data_envelope(map(json!({"data": {"mid": "1"}})));
        assert_eq!(Value::Object(inner), json!({"mid": "1"}));
        let both = json!({"data": {"mid": "1"}, "tid": "2"});
        assert_eq!(Value::Object(unwrap_data_envelope(map(both.clone()))), both);
        let text = json!({"data": "x"});
        assert_eq!(Value::Object(unwrap_data_envelope(map(text.clone()))), text);
    }

    #[test]
    fn the_clock_only_moves_forward() {
        let clock = SimClock::new(Arc::new(chinaums::clock::FixedClock(1_000)));
        assert_eq!(clock.advance(500), 500);
        assert_eq!(clock.advance(-100), 500);
        let now = clock.now();
        assert_eq!((now.at_ms, now.wall_ms), (1_500, 1_000));
    }
}
