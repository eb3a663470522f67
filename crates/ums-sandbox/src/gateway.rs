//! Request routing: control endpoints, the token endpoint and the business
//! operations, with the checks every ChinaUMS path shares (method, content
//! type, authentication, JSON object body), and the faults injected into
//! them (`faults.rs`).

use super::auth::{self, Settings};
use super::bills::{self, Call};
use super::customer;
use super::faults::{self, Fault, FaultQueue, Planned, QueuedFault, FAULT_HEADER};
use super::http::{Answer, Head, Rejection, Request, Service};
use super::notifier::{Delivery, Notifier, Policy};
use super::state::State;
use super::Stats;
use chinaums::clock::{BeijingTime, Clock};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

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

/// The simulated gateway: all state behind one mutex.
pub(crate) struct Gateway {
    state: Mutex<State>,
    settings: Settings,
    clock: SimClock,
    notifier: Notifier,
    faults: FaultQueue,
}

impl Gateway {
    pub fn new(
        settings: Settings,
        clock: Arc<dyn Clock>,
        policy: Policy,
        notify_refunds: bool,
    ) -> Gateway {
        let mut state = State::with_demo_data(clock.now_unix_millis());
        state.notify_refunds = notify_refunds;
        Gateway {
            state: Mutex::new(state),
            settings,
            clock: SimClock::new(clock),
            notifier: Notifier::new(policy),
            faults: FaultQueue::default(),
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

    pub fn lock(&self) -> MutexGuard<'_, State> {
        // Handlers do not panic while holding the lock, but if one ever did,
        // the state is still consistent enough for a simulator.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counters now (the simulator's time decides which tokens have
    /// expired).
    pub fn stats(&self) -> Stats {
        let now = self.clock.now();
        self.lock().stats(now.at_ms)
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
        let methods: &[&str] = match request.path.as_str() {
            "/_sandbox/health" | "/_sandbox/stats" | "/_sandbox/notifications" => &["GET"],
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
        let now = self.clock.now();
        let mut state = self.lock();
        let result = customer::pay(&mut state, &body, now.at_ms);
        self.flush(state);
        match result {
            Ok(answer) => Answer::json(200, &answer),
            Err(refusal) => Answer::json(refusal.status, &refusal.to_json()),
        }
    }

    fn move_clock(&self, request: &Request) -> Answer {
        let body = match control_body(request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        let seconds = match body.get("advanceSeconds").and_then(Value::as_i64) {
            Some(s) if (0..=MAX_ADVANCE_SECONDS).contains(&s) => s,
            _ => {
                return control_error(
                    400,
                    "BAD_REQUEST",
                    &format!(
                        "advanceSeconds 必须是 0..={MAX_ADVANCE_SECONDS} 的整数 (时钟只能前进)"
                    ),
                )
            }
        };
        self.clock.advance(seconds.saturating_mul(1000));
        Answer::json(200, &self.clock_json())
    }

    fn clock_json(&self) -> Value {
        let now = self.clock.now();
        json!({
            "ok": true,
            "now": BeijingTime::from_unix_millis(now.at_ms).date_time(),
            "offsetSeconds": self.clock.offset_ms() / 1000,
        })
    }

    fn token(&self, request: &Request, state: &mut State, now: Now) -> Answer {
        if let Some(refusal) = check_post_json(request) {
            return refusal;
        }
        Answer::json(
            200,
            &auth::issue_token(state, self.settings, now.at_ms, now.wall_ms, &request.body),
        )
    }

    fn business(
        &self,
        request: &Request,
        state: &mut State,
        now: Now,
        operation: bills::Operation,
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
            state,
            self.settings,
            now.at_ms,
            now.wall_ms,
            &authorization,
            &request.body,
        ) {
            Ok(app_id) => app_id,
            Err(failure) => {
                state.count_unauthorized(failure.app_id.as_deref());
                return Answer::json(401, &failure.to_json());
            }
        };
        let body: Map<String, Value> = match serde_json::from_slice(&request.body) {
            Ok(Value::Object(map)) => unwrap_data_envelope(map),
            _ => return error(200, "BAD_REQUEST", "请求体必须是 UTF-8 编码的 JSON 对象"),
        };
        state.count_processed(&request.path);
        let call = Call {
            app_id: &app_id,
            now_ms: now.at_ms,
            wall_ms: now.wall_ms,
            skew_ms: self.settings.clock_skew_ms,
            body: &body,
        };
        let answer = match operation(state, &call) {
            Ok(reply) => reply.into_value(),
            Err(reject) => bills::refusal(&reject, &call),
        };
        Answer::json(200, &answer)
    }
}

/// A body that is exactly `{"data": {...}}` (the official SDKs'
/// `needDataTag` envelope) is the inner object.
fn unwrap_data_envelope(mut body: Map<String, Value>) -> Map<String, Value> {
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

fn is_control(path: &str) -> bool {
    path.starts_with(CONTROL_PREFIX) || path == "/_sandbox"
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
        if is_control(&request.path) {
            return self.control(request);
        }
        let now = self.clock.now();
        let mut state = self.lock();
        state.count_request(&request.path);
        let fault = match &request.planned {
            Planned::None => None,
            Planned::Fault(fault) => {
                state.count_fault(fault.name());
                if !fault.processed() {
                    if *fault == Fault::TokenExpired {
                        let app_id = auth::claimed_app(&state, &request.headers);
                        state.count_unauthorized(app_id.as_deref());
                    }
                    return fault.unprocessed_answer(now.at_ms);
                }
                Some(*fault)
            }
            Planned::BadHeader(message) => {
                return error(400, "BAD_REQUEST", &format!("{FAULT_HEADER}: {message}"));
            }
        };
        let answer = if request.path == TOKEN_PATH {
            self.token(request, &mut state, now)
        } else {
            match bills::operation(&request.path) {
                Some(operation) => self.business(request, &mut state, now, operation),
                None => error(404, "NO_SERVICE", "没有这个服务 (路径不存在)"),
            }
        };
        self.flush(state);
        match fault {
            Some(fault) => fault.spoil(answer, now.at_ms),
            None => answer,
        }
    }

    fn rejected(&self, what: Rejection) {
        let mut state = self.lock();
        match what {
            Rejection::Malformed => state.counters.malformed_requests += 1,
            Rejection::TooManyConnections => state.counters.connections_refused += 1,
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
