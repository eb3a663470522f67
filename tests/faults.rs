//! Every injected fault against the real client: what the caller sees, and
//! how many times the request reached the simulator.
//!
//! The client policy under test (README, "What the client does for each
//! request"): a money-moving call whose outcome is unknown is never resent;
//! a read-only call (query-bill, query-qrcode-info) is retried up to twice
//! within the call's deadline; an errCode other than SUCCESS is never
//! retried; a 401 token rejection in token mode is refreshed and resent once.
//! The simulator's `processed` counter and a query afterwards show whether
//! the work was done: the reason a money-moving call is never resent.
//!
//! Each fault runs on its own simulator, in its own thread, so the cases run
//! side by side and every mismatch is reported at once.

#[path = "../crates/ums-sandbox/tests/sandbox_support.rs"]
mod support;

#[path = "common/refusing_port.rs"]
mod refusing_port;
use chinaums::{Client, Error, ErrorKind};
use refusing_port::RefusingPort;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{ErrorKind as ErrorKindIo, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};
use support::agent;
use ums_sandbox::{demo, Fault, Sandbox, SandboxConfig, Stats, FAULT_HEADER};

const REFUND: &str = "/v1/netpay/bills/refund";
const QUERY: &str = "/v1/netpay/bills/query";
const TOKEN: &str = "/v1/token/access";
const GET_QRCODE: &str = "/v1/netpay/bills/get-qrcode";

/// The call's deadline in most cases: room for three attempts and the
/// 200 / 400 ms pauses between them.
const TIMEOUT_MS: u64 = 4000;
/// The deadline of the `delay` cases.
const SHORT_TIMEOUT_MS: u64 = 1000;
/// How long a `delay` fault holds its answer here: the simulator's longest,
/// far beyond any test. A call that returns at all while such an answer is
/// held gave up at its own deadline; it cannot have waited for the answer.
/// (A held answer is dropped when the simulator shuts down.)
const HELD: Duration = Duration::from_secs(600);

/// `fault`, with a `delay` holding its answer for [`HELD`].
fn held(fault: Fault) -> Fault {
    match fault {
        Fault::Delay(_) => Fault::Delay(HELD),
        other => other,
    }
}

/// A sanity bound on a call with a deadline of `timeout_ms`, 10x that
/// deadline: only a call stuck far beyond its deadline fails it. What a
/// test proves about deadlines it proves by order (a held answer), never by
/// this bound.
fn within_sanity_bound(elapsed: Duration, timeout_ms: u64) {
    assert!(
        elapsed < Duration::from_millis(10 * timeout_ms),
        "the call took {elapsed:?}, deadline {timeout_ms} ms"
    );
}

/// What the client logs at Warn and above, with the thread that logged it,
/// and per-thread hooks run on each such line. The logger is process-wide
/// and installed once; a call logs on the thread that makes it, and every
/// test (every case of [`run_cases`]) runs on a thread of its own.
type LogHook = Arc<dyn Fn(&str) + Send + Sync>;
static WARNINGS: Mutex<Vec<(ThreadId, String)>> = Mutex::new(Vec::new());
static LOG_HOOKS: Mutex<Vec<(ThreadId, LogHook)>> = Mutex::new(Vec::new());

fn install_logger() {
    static LOGGER: std::sync::Once = std::sync::Once::new();
    LOGGER.call_once(|| {
        chinaums::log::set_logger(chinaums::log::Level::Warn, |_, line| {
            let me = thread::current().id();
            WARNINGS.lock().unwrap().push((me, line.to_string()));
            let hook = LOG_HOOKS
                .lock()
                .unwrap()
                .iter()
                .find(|(id, _)| *id == me)
                .map(|(_, hook)| Arc::clone(hook));
            // Run without any lock held: a hook may block its thread.
            if let Some(hook) = hook {
                hook(line);
            }
        });
    });
}

/// Runs `hook` on every line the client logs (Warn and above) on this
/// thread from now on.
fn hook_this_threads_log(hook: impl Fn(&str) + Send + Sync + 'static) {
    install_logger();
    LOG_HOOKS
        .lock()
        .unwrap()
        .push((thread::current().id(), Arc::new(hook)));
}

/// The retry pauses the client announced ("POST ...: <kind>; retrying in
/// N ms") while `call` ran on this thread: (kind, N) in order. The client
/// sleeps exactly the pause it announces, so this is the client's own
/// account of its retries, read without measuring time.
fn retry_pauses<T>(call: impl FnOnce() -> T) -> (T, Vec<(String, u64)>) {
    install_logger();
    let me = thread::current().id();
    let mine = || -> Vec<String> {
        let all = WARNINGS.lock().unwrap();
        all.iter()
            .filter(|(id, _)| *id == me)
            .map(|(_, line)| line.clone())
            .collect()
    };
    let before = mine().len();
    let result = call();
    let pauses = mine()[before..]
        .iter()
        .filter_map(|line| {
            let (head, ms) = line.strip_suffix(" ms")?.split_once("; retrying in ")?;
            let kind = head.rsplit(": ").next()?.to_string();
            Some((kind, ms.parse().ok()?))
        })
        .collect();
    (result, pauses)
}

/// Read retries pause 200 ms, then 400 ms, each plus up to 50 % jitter.
fn check_read_pauses(pauses: &[(String, u64)], retries: usize) {
    assert_eq!(pauses.len(), retries, "retries announced: {pauses:?}");
    for (i, (kind, ms)) in pauses.iter().enumerate() {
        let base = 200 << i;
        assert_eq!(kind, "outcome_unknown", "{pauses:?}");
        assert!(
            (base..=base * 3 / 2).contains(ms),
            "pause {i}: {ms} ms, not {base} ms plus jitter: {pauses:?}"
        );
    }
}

// ---------------------------------------------------------------- helpers

fn client_for(base_url: &str, extra: Value) -> Client {
    let mut config = demo::client_config(
        base_url,
        json!({"timeoutMs": TIMEOUT_MS, "connectTimeoutMs": 1000}),
    );
    for (k, v) in extra.as_object().expect("extra config is an object") {
        config[k] = v.clone();
    }
    Client::from_json(&config.to_string()).expect("valid config")
}

/// A control request; answers (status, JSON).
fn control(sandbox: &Sandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let agent = agent();
    let url = format!("{}{path}", sandbox.base_url());
    let mut response = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        (_, Some(body)) => agent
            .post(&url)
            .content_type("application/json")
            .send(body.to_string()),
        (_, None) => agent.post(&url).send_empty(),
    }
    .expect("control request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("text answer");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A paid one-off bill of 100 fen.
struct Bill {
    bill_no: String,
    bill_date: String,
}

impl Bill {
    fn new_paid(client: &Client, sandbox: &Sandbox) -> Bill {
        let bill_no = client.new_id().unwrap();
        let bill_date = client.now().date();
        let code = client
            .call(
                GET_QRCODE,
                &json!({"billNo": bill_no, "billDate": bill_date, "totalAmount": 100}).to_string(),
            )
            .unwrap_or_else(|e| panic!("get-qrcode: {e}"));
        let qr_code_id = code.value["qrCodeId"].as_str().unwrap().to_string();
        let (status, paid) = control(
            sandbox,
            "POST",
            "/_sandbox/pay",
            Some(json!({"qrCodeId": qr_code_id})),
        );
        assert_eq!((status, &paid["ok"]), (200, &json!(true)), "{paid}");
        Bill { bill_no, bill_date }
    }

    fn query_request(&self) -> String {
        json!({"billNo": self.bill_no, "billDate": self.bill_date}).to_string()
    }

    fn refund_request(&self, client: &Client) -> String {
        json!({
            "billNo": self.bill_no,
            "billDate": self.bill_date,
            "refundAmount": 30,
            "refundOrderId": client.new_id().unwrap(),
        })
        .to_string()
    }

    /// The bill as the gateway has it now (through a fresh client, so
    /// nothing of the tested client's state is involved).
    fn state(&self, sandbox: &Sandbox) -> Value {
        client_for(&sandbox.base_url(), json!({}))
            .call(QUERY, &self.query_request())
            .unwrap_or_else(|e| panic!("query after the fault: {e}"))
            .value
    }
}

/// What the caller saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Success,
    Failed(ErrorKind),
}

fn seen(result: &Result<chinaums::client::Answer, Error>) -> Seen {
    match result {
        Ok(_) => Seen::Success,
        Err(e) => Seen::Failed(e.kind),
    }
}

const UNKNOWN: Seen = Seen::Failed(ErrorKind::OutcomeUnknown);
const REJECTED: Seen = Seen::Failed(ErrorKind::GatewayRejected);

/// What a caller sees from a call that met `fault` once and was not retried.
fn first_answer(fault: Fault) -> Seen {
    match fault {
        Fault::WrongContentType => Seen::Success,
        Fault::TokenExpired | Fault::ErrCodeBadSign => REJECTED,
        _ => UNKNOWN,
    }
}

/// The errCode and HTTP status the error carries, where the fault fixes them.
fn error_details(fault: Fault) -> (Option<&'static str>, Option<u16>) {
    match fault {
        Fault::Http500Html => (None, Some(500)),
        Fault::Http502Html => (None, Some(502)),
        Fault::TokenExpired => (Some("INVALID_TOKEN"), Some(401)),
        Fault::ErrCodeTimeout => (Some("TIMEOUT"), Some(200)),
        Fault::ErrCodeNetError => (Some("NET_ERROR"), Some(200)),
        Fault::ErrCodeOrderProcessing => (Some("ORDER_PROCESSING"), Some(200)),
        Fault::ErrCodeInternalError => (Some("INTERNAL_ERROR"), Some(200)),
        Fault::ErrCodeBadSign => (Some("BAD_SIGN"), Some(200)),
        _ => (None, None),
    }
}

fn check_details(fault: Fault, result: &Result<chinaums::client::Answer, Error>) {
    let (code, status) = error_details(fault);
    if let Err(e) = result {
        if code.is_some() {
            assert_eq!(e.err_code.as_deref(), code, "errCode of {e}");
        }
        if status.is_some() {
            assert_eq!(e.http_status, status, "HTTP status of {e}");
        }
    }
}

/// A named check, run on its own thread by [`run_cases`].
type Case = (String, Box<dyn FnOnce() + Send>);

/// Runs every case in its own thread and reports every failure at once.
fn run_cases(cases: Vec<Case>) {
    let handles: Vec<_> = cases
        .into_iter()
        .map(|(name, case)| {
            let handle = thread::Builder::new()
                .name(name.clone())
                .spawn(case)
                .expect("thread starts");
            (name, handle)
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|(name, handle)| {
            handle.join().err().map(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("{name}: {message}")
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn case(name: impl Into<String>, f: impl FnOnce() + Send + 'static) -> Case {
    (name.into(), Box::new(f))
}

/// The faults that spoil an exchange (the refund-state faults set a
/// business answer instead and have their own test).
fn transport_faults() -> impl Iterator<Item = Fault> {
    Fault::ALL.into_iter().filter(|f| !f.is_refund_state())
}

/// One case per fault, named `label/<fault>`, each running `check(fault)`.
fn per_fault(label: &str, check: impl Fn(Fault) + Copy + Send + 'static) -> Vec<Case> {
    transport_faults()
        .map(|f| case(format!("{label}/{}", f.name()), move || check(f)))
        .collect()
}

fn delta(before: &Stats, after: &Stats, path: &str) -> (u64, u64) {
    (
        after.requests_to(path) - before.requests_to(path),
        after.processed_on(path) - before.processed_on(path),
    )
}

/// The faults that make the outcome unknown, as the client sees them.
fn unknown_faults() -> Vec<Fault> {
    transport_faults()
        .filter(|f| first_answer(*f) == UNKNOWN)
        .collect()
}

// ------------------------------------------------- money-moving: refunds

/// A refund of a paid bill meets the fault once: never resent; the error
/// says what the client could know; the simulator's state says whether the
/// refund was in fact done.
fn refund_meets(fault: Fault, token_mode: bool) {
    let sandbox = Sandbox::start_default().unwrap();
    let timeout = match fault {
        Fault::Delay(_) => SHORT_TIMEOUT_MS,
        _ => TIMEOUT_MS,
    };
    let auth = if token_mode { "token" } else { "body-sig" };
    let client = client_for(
        &sandbox.base_url(),
        json!({"timeoutMs": timeout, "auth": auth}),
    );
    let bill = Bill::new_paid(&client, &sandbox);
    let request = bill.refund_request(&client);
    sandbox.inject_fault(REFUND, held(fault), 1);

    let before = sandbox.stats();
    let started = Instant::now();
    let result = client.call(REFUND, &request);
    let elapsed = started.elapsed();
    let after = sandbox.stats();
    let (requests, processed) = delta(&before, &after, REFUND);

    assert_eq!(
        after.faults_injected(fault.name()),
        1,
        "the fault was injected"
    );
    let resent_for_token = token_mode && fault == Fault::TokenExpired;
    let expected = if resent_for_token {
        Seen::Success
    } else {
        first_answer(fault)
    };
    assert_eq!(
        seen(&result),
        expected,
        "caller sees: {:?}",
        result.as_ref().err()
    );
    if !resent_for_token {
        check_details(fault, &result);
    }
    assert_eq!(
        requests,
        if resent_for_token { 2 } else { 1 },
        "times the refund reached the gateway"
    );
    let done = fault.processed() || resent_for_token;
    assert_eq!(processed, u64::from(done), "times the refund was processed");
    // A delayed answer is held far beyond the test: the call ended at its
    // deadline (OutcomeUnknown above), not with the answer.
    within_sanity_bound(elapsed, timeout);

    // The proof: the gateway did (or did not) refund, whatever the caller saw.
    let state = bill.state(&sandbox);
    if done {
        assert_eq!(state["billStatus"], "REFUND", "{state}");
        assert_eq!(state["billPayment"]["refundAmount"], 30, "{state}");
    } else {
        assert_eq!(state["billStatus"], "PAID", "{state}");
    }
    if token_mode {
        let tokens = after.tokens_issued;
        assert_eq!(
            tokens,
            if resent_for_token { 2 } else { 1 },
            "tokens issued"
        );
    }
}

/// A refund answered errCode SUCCESS is done only with refundStatus
/// SUCCESS: PROCESSING and UNKNOWN are pending (query until final), FAIL is
/// a final failure. Before this was classified, all four were `Ok`.
#[test]
fn refund_states_say_whether_money_settled() {
    let cases = [
        (None, None, 1),
        (
            Some(Fault::RefundProcessing),
            Some((ErrorKind::Pending, "PROCESSING")),
            1,
        ),
        (
            Some(Fault::RefundUnknown),
            Some((ErrorKind::Pending, "UNKNOWN")),
            1,
        ),
        (
            Some(Fault::RefundFail),
            Some((ErrorKind::OperationFailed, "FAIL")),
            0,
        ),
    ];
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({}));
    for (fault, expected, refunded) in cases {
        let bill = Bill::new_paid(&client, &sandbox);
        let request = bill.refund_request(&client);
        if let Some(fault) = fault {
            sandbox.inject_fault(REFUND, fault, 1);
        }
        let before = sandbox.stats();
        let result = client.call(REFUND, &request);
        let (requests, _) = delta(&before, &sandbox.stats(), REFUND);
        assert_eq!(requests, 1, "{fault:?}: sent once, never resent");
        match (expected, result) {
            (None, Ok(answer)) => assert_eq!(answer.value["refundStatus"], "SUCCESS"),
            (Some((kind, state)), Err(e)) => {
                assert_eq!(e.kind, kind, "{fault:?}: {e}");
                assert_eq!(
                    e.state,
                    Some(("refundStatus".to_string(), state.to_string()))
                );
                let doc = e.to_json();
                assert_eq!(doc["settled"], kind == ErrorKind::OperationFailed);
                assert_eq!(
                    (doc["stateField"].clone(), doc["state"].clone()),
                    (json!("refundStatus"), json!(state))
                );
                assert_eq!(
                    (doc["nothingSent"].clone(), doc["outcomeUnknown"].clone()),
                    (json!(false), json!(false))
                );
                assert_eq!(doc["response"]["refundStatus"], state);
            }
            (expected, got) => panic!("{fault:?}: expected {expected:?}, got {got:?}"),
        }
        // The gateway's truth: refunded exactly when the refund was made.
        let state = bill.state(&sandbox);
        let want = if refunded == 1 { "REFUND" } else { "PAID" };
        assert_eq!(state["billStatus"], want, "{fault:?}: {state}");
    }
}

#[test]
fn every_fault_on_a_refund_body_sig() {
    run_cases(per_fault("refund", |f| refund_meets(f, false)));
}

#[test]
fn every_fault_on_a_refund_token_mode() {
    run_cases(per_fault("refund/token", |f| refund_meets(f, true)));
}

#[test]
fn delay_on_a_refund_the_gateway_did_it_and_the_client_did_not_resend() {
    // The dangerous case spelled out: the caller hears "outcome unknown",
    // the gateway refunded, a resend would have been a second refund
    // attempt. The client sent it exactly once.
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({"timeoutMs": 800}));
    let bill = Bill::new_paid(&client, &sandbox);
    let request = bill.refund_request(&client);
    // The answer is held far beyond the test: the call can only end at its
    // own deadline.
    sandbox.inject_fault(REFUND, Fault::Delay(HELD), 1);
    let started = Instant::now();
    let e = client.call(REFUND, &request).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
    assert!(e.is_outcome_unknown() && !e.kind.nothing_sent());
    within_sanity_bound(started.elapsed(), 800);
    let stats = sandbox.stats();
    assert_eq!(stats.requests_to(REFUND), 1);
    assert_eq!(stats.processed_on(REFUND), 1);
    let state = bill.state(&sandbox);
    assert_eq!(state["billStatus"], "REFUND");
    assert_eq!(state["billPayment"]["refundAmount"], 30);
    // What the caller should do next: query, then resend with the same
    // refundOrderId if needed, which the gateway answers without refunding
    // twice.
    let again = client.call(REFUND, &request).unwrap();
    assert_eq!(again.value["refundAmount"], 30);
    assert_eq!(bill.state(&sandbox)["billPayment"]["refundAmount"], 30);
}

#[test]
fn update_qrcode_is_money_moving_too() {
    // A bill put on the seed code behind a closed connection: the caller
    // hears "outcome unknown", the bill is there, and the same request
    // resent would be a DUP_ORDER, not a second bill.
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({}));
    let path = "/v1/netpay/bills/update-qrcode";
    let bill_no = client.new_id().unwrap();
    let bill_date = client.now().date();
    let request = json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": bill_no,
        "billDate": bill_date,
        "totalAmount": 26,
    })
    .to_string();
    for fault in [Fault::CloseAfterBody, Fault::ErrCodeOrderProcessing] {
        sandbox.clear_faults();
        sandbox.inject_fault(path, fault, 1);
        let before = sandbox.stats();
        let e = client.call(path, &request).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{}: {e}", fault.name());
        assert_eq!(
            delta(&before, &sandbox.stats(), path),
            (1, 1),
            "{}: sent once, processed once",
            fault.name()
        );
    }
    let bill = Bill { bill_no, bill_date };
    assert_eq!(bill.state(&sandbox)["billStatus"], "UNPAID");
    let e = client.call(path, &request).unwrap_err();
    assert_eq!(e.err_code.as_deref(), Some("DUP_ORDER"));
}

// ------------------------------------------------ read-only: query-bill

/// A query meets the fault `count` times in a row.
fn query_meets(fault: Fault, count: u32, token_mode: bool) {
    let sandbox = Sandbox::start_default().unwrap();
    let delayed = matches!(fault, Fault::Delay(_));
    let timeout = if delayed {
        SHORT_TIMEOUT_MS
    } else {
        TIMEOUT_MS
    };
    let auth = if token_mode { "token" } else { "body-sig" };
    let client = client_for(
        &sandbox.base_url(),
        json!({"timeoutMs": timeout, "auth": auth}),
    );
    let bill = Bill::new_paid(&client, &sandbox);
    sandbox.inject_fault(QUERY, held(fault), count);

    let before = sandbox.stats();
    let started = Instant::now();
    let (result, pauses) = retry_pauses(|| client.call(QUERY, &bill.query_request()));
    let elapsed = started.elapsed();
    let after = sandbox.stats();
    let (requests, _) = delta(&before, &after, QUERY);
    let left: u64 = sandbox
        .queued_faults()
        .iter()
        .map(|q| u64::from(q.remaining))
        .sum();

    let first = first_answer(fault);
    let (expected, expected_requests) = if token_mode && fault == Fault::TokenExpired {
        // Refreshed once and resent once, whatever the operation.
        if count == 1 {
            (Seen::Success, 2)
        } else {
            (REJECTED, 2)
        }
    } else if delayed {
        // The answer is held far beyond the test: the call ends at its
        // deadline, with no time left to retry.
        (UNKNOWN, 1)
    } else if first == UNKNOWN {
        // Up to two more attempts.
        if count < 3 {
            (Seen::Success, u64::from(count) + 1)
        } else {
            (UNKNOWN, 3)
        }
    } else {
        (first, 1)
    };
    assert_eq!(
        seen(&result),
        expected,
        "caller sees: {:?}",
        result.as_ref().err()
    );
    if expected != Seen::Success {
        check_details(fault, &result);
    }
    assert_eq!(
        requests, expected_requests,
        "times the query reached the gateway"
    );
    assert_eq!(
        left,
        u64::from(count).saturating_sub(expected_requests),
        "faults left unused"
    );
    assert_eq!(
        after.faults_injected(fault.name()),
        expected_requests.min(u64::from(count))
    );
    if let Ok(answer) = &result {
        assert_eq!(answer.value["billStatus"], "PAID");
    }
    // The client pauses about 200, then 400 ms before each retry of an
    // unknown outcome (a 401 is resent at once, within its attempt).
    let retries = if first == UNKNOWN && !delayed {
        expected_requests - 1
    } else {
        0
    };
    check_read_pauses(&pauses, retries as usize);
    within_sanity_bound(elapsed, timeout);
}

#[test]
fn every_fault_once_on_a_query_is_retried_when_the_outcome_is_unknown() {
    run_cases(per_fault("query", |f| query_meets(f, 1, false)));
}

#[test]
fn a_query_that_keeps_failing_is_tried_three_times_at_most() {
    run_cases(per_fault("query x5", |f| query_meets(f, 5, false)));
}

#[test]
fn every_fault_on_a_query_token_mode() {
    let mut cases: Vec<_> = per_fault("query/token", |f| query_meets(f, 1, true));
    cases.push(case("query/token/token-expired x2", || {
        query_meets(Fault::TokenExpired, 2, true)
    }));
    run_cases(cases);
}

#[test]
fn query_qrcode_info_is_read_only_too() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({}));
    let path = "/v1/netpay/bills/query-qrcode-info";
    let request =
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "systemId": demo::SEED_QR_CODE_ID}).to_string();
    sandbox.inject_fault(path, Fault::CloseAfterBody, 1);
    client.call(path, &request).unwrap();
    assert_eq!(sandbox.stats().requests_to(path), 2);
    sandbox.inject_fault(path, Fault::Http502Html, 3);
    let e = client.call(path, &request).unwrap_err();
    assert_eq!(
        (e.kind, e.http_status),
        (ErrorKind::OutcomeUnknown, Some(502))
    );
    assert_eq!(sandbox.stats().requests_to(path), 5);
}

#[test]
fn a_token_rejected_twice_is_not_resent_a_third_time() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({"auth": "token"}));
    let bill = Bill::new_paid(&client, &sandbox);
    sandbox.inject_fault(REFUND, Fault::TokenExpired, 2);
    let e = client
        .call(REFUND, &bill.refund_request(&client))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.http_status, e.err_code.as_deref()),
        (ErrorKind::GatewayRejected, Some(401), Some("INVALID_TOKEN"))
    );
    let stats = sandbox.stats();
    assert_eq!(stats.requests_to(REFUND), 2);
    assert_eq!(stats.processed_on(REFUND), 0);
    assert_eq!(stats.tokens_issued, 2);
    assert_eq!(bill.state(&sandbox)["billStatus"], "PAID");
}

// ------------------------------------------------------ deadlines, TLS, connect

#[test]
fn the_deadline_bounds_the_retries_of_a_query() {
    // Without a deadline the query would be tried three times, pausing
    // 200-300 ms, then 400-600 ms. 590 ms leave room for the first pause at
    // most (the two together take 600 ms or more), with room to spare for
    // the second attempt after it. The pauses are the client's own account.
    const TIMEOUT: u64 = 590;
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({"timeoutMs": TIMEOUT}));
    let bill = Bill::new_paid(&client, &sandbox);
    sandbox.inject_fault(QUERY, Fault::CloseAfterBody, 10);
    let started = Instant::now();
    let (result, pauses) = retry_pauses(|| client.call(QUERY, &bill.query_request()));
    let elapsed = started.elapsed();
    let e = result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
    let requests = sandbox.stats().requests_to(QUERY);
    assert!(
        (1..=2).contains(&requests),
        "a {TIMEOUT} ms deadline leaves room for the first pause only: {requests} attempts"
    );
    check_read_pauses(&pauses, requests as usize - 1);
    let paused: u64 = pauses.iter().map(|(_, ms)| ms).sum();
    assert!(paused < TIMEOUT, "pauses beyond the deadline: {pauses:?}");
    within_sanity_bound(elapsed, TIMEOUT);
}

#[test]
fn the_deadline_includes_the_token_fetch() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(
        &sandbox.base_url(),
        json!({"auth": "token", "timeoutMs": 600}),
    );
    let bill = {
        let setup = client_for(&sandbox.base_url(), json!({}));
        Bill::new_paid(&setup, &sandbox)
    };
    // Every token answer is held far beyond the test: the call can only end
    // at its own deadline, which covers the token fetch.
    sandbox.inject_fault(TOKEN, Fault::Delay(HELD), 10);
    let started = Instant::now();
    let e = client
        .call(REFUND, &bill.refund_request(&client))
        .unwrap_err();
    within_sanity_bound(started.elapsed(), 600);
    assert_ne!(
        e.kind,
        ErrorKind::OutcomeUnknown,
        "the refund was never sent: {e}"
    );
    let stats = sandbox.stats();
    assert!(stats.requests_to(TOKEN) >= 1);
    assert_eq!(stats.requests_to(REFUND), 0, "the refund was never sent");
}

#[test]
fn a_fault_on_the_token_endpoint_never_sends_the_business_request_twice() {
    for fault in [
        Fault::CloseAfterBody,
        Fault::Http502Html,
        Fault::MalformedJson,
        Fault::ErrCodeInternalError,
    ] {
        let sandbox = Sandbox::start_default().unwrap();
        let setup = client_for(&sandbox.base_url(), json!({}));
        let bill = Bill::new_paid(&setup, &sandbox);
        let client = client_for(&sandbox.base_url(), json!({"auth": "token"}));
        sandbox.inject_fault(TOKEN, fault, 1);
        let result = client.call(REFUND, &bill.refund_request(&client));
        let stats = sandbox.stats();
        assert_eq!(stats.faults_injected(fault.name()), 1, "{}", fault.name());
        match &result {
            // A client may fetch the token again (nothing business was sent).
            Ok(_) => assert_eq!(stats.requests_to(REFUND), 1, "{}", fault.name()),
            Err(e) => {
                assert!(
                    e.kind.nothing_sent() || e.kind == ErrorKind::TokenRejected,
                    "{}: a failed token fetch sends nothing: {e}",
                    fault.name()
                );
                assert_eq!(stats.requests_to(REFUND), 0, "{}", fault.name());
            }
        }
        assert_eq!(stats.processed_on(REFUND), u64::from(result.is_ok()));
    }
}

#[test]
fn a_star_fault_skips_the_token_endpoint() {
    let sandbox = Sandbox::start_default().unwrap();
    let setup = client_for(&sandbox.base_url(), json!({}));
    let bill = Bill::new_paid(&setup, &sandbox);
    let client = client_for(&sandbox.base_url(), json!({"auth": "token"}));
    sandbox.inject_fault("*", Fault::ErrCodeBadSign, 1);
    let e = client
        .call(REFUND, &bill.refund_request(&client))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.err_code.as_deref()),
        (ErrorKind::GatewayRejected, Some("BAD_SIGN"))
    );
    let stats = sandbox.stats();
    assert_eq!((stats.requests_to(TOKEN), stats.tokens_issued), (1, 1));
    assert_eq!(stats.requests_to(REFUND), 1);
    assert!(sandbox.queued_faults().is_empty());
}

#[test]
fn a_delay_shorter_than_the_deadline_is_only_slow() {
    let sandbox = Sandbox::start_default().unwrap();
    // 200 ms against a 20 s deadline: only slow, whatever the machine.
    let client = client_for(&sandbox.base_url(), json!({"timeoutMs": 20000}));
    let bill = Bill::new_paid(&client, &sandbox);
    sandbox.inject_fault(REFUND, Fault::Delay(Duration::from_millis(200)), 1);
    let answer = client.call(REFUND, &bill.refund_request(&client)).unwrap();
    assert_eq!(answer.value["refundAmount"], 30);
    let stats = sandbox.stats();
    assert_eq!(stats.faults_injected("delay"), 1, "the answer was delayed");
    assert_eq!(stats.requests_to(REFUND), 1);
}

#[test]
fn an_answer_within_max_response_bytes_is_read_whole() {
    // oversized-json is 5 MiB: with maxResponseBytes above that it is an
    // ordinary (large) success.
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(
        &sandbox.base_url(),
        json!({"maxResponseBytes": 8 * 1024 * 1024}),
    );
    let bill = Bill::new_paid(&client, &sandbox);
    sandbox.inject_fault(REFUND, Fault::OversizedJson, 1);
    let answer = client.call(REFUND, &bill.refund_request(&client)).unwrap();
    assert_eq!(answer.text.len(), 5 * 1024 * 1024);
    assert_eq!(answer.value["refundAmount"], 30);
}

#[test]
fn a_refused_connection_is_retried_then_reported_as_connect() {
    // Nothing was sent, so any operation is retried: twice, after pauses of
    // 100-150 and 200-300 ms (the client's own account, not measured).
    let refusing = RefusingPort::new();
    for path in [REFUND, QUERY] {
        let client = client_for(&refusing.url(), json!({}));
        let (result, pauses) = retry_pauses(|| {
            client.call(
                path,
                &json!({"billNo": "31940001", "billDate": "2026-01-01", "refundAmount": 1})
                    .to_string(),
            )
        });
        let e = result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connect, "{path}: {e}");
        assert!(e.kind.nothing_sent());
        assert_eq!(pauses.len(), 2, "{path}: two retries: {pauses:?}");
        assert!(pauses.iter().all(|(kind, _)| kind == "connect"));
        assert!(
            (100..=150).contains(&pauses[0].1) && (200..=300).contains(&pauses[1].1),
            "{path}: pauses of 100 and 200 ms plus jitter: {pauses:?}"
        );
    }
}

#[test]
fn connect_retries_stay_within_the_deadline() {
    // 150 ms leave room for the first pause (100-150 ms) at most, never for
    // both: a client that ignored its deadline would pause 300 ms or more.
    let refusing = RefusingPort::new();
    let client = client_for(&refusing.url(), json!({"timeoutMs": 150}));
    let (result, pauses) = retry_pauses(|| {
        client.call(
            QUERY,
            &json!({"billNo": "31940001", "billDate": "2026-01-01"}).to_string(),
        )
    });
    let e = result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connect, "{e}");
    let paused: u64 = pauses.iter().map(|(_, ms)| ms).sum();
    assert!(
        pauses.len() <= 1 && paused < 150,
        "the pauses must fit in the 150 ms deadline: {pauses:?}"
    );
}

#[test]
fn a_tls_handshake_failure_is_not_retried() {
    // A plain-text server where TLS is expected; it counts connections.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    {
        let accepted = Arc::clone(&accepted);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                // Each connection is answered, then held open until the
                // client gives up on it (so it reads this answer, not a
                // reset), on a thread of its own.
                thread::spawn(move || {
                    let _ =
                        stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                    let mut sink = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut sink) {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
        });
    }
    // The count is final when a call returns, without waiting: a second
    // attempt could only fail after this server accepted it (and counted
    // it) and answered it.
    for path in [QUERY, REFUND] {
        let before = accepted.load(Ordering::SeqCst);
        let client = client_for(&url, json!({}));
        let e = client
            .call(
                path,
                &json!({"billNo": "31940001", "billDate": "2026-01-01", "refundAmount": 1})
                    .to_string(),
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Tls, "{path}: {e}");
        assert_eq!(
            accepted.load(Ordering::SeqCst) - before,
            1,
            "{path}: one handshake attempt"
        );
    }
}

// ------------------------------------------- the simulator side of faults

/// POSTs `body` as JSON with extra headers; answers (status, content type, body).
fn raw_post(
    sandbox: &Sandbox,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let reply = support::post(
        &agent(),
        &format!("{}{path}", sandbox.base_url()),
        &all,
        body,
    );
    (reply.status, reply.content_type, reply.text)
}

#[test]
fn the_control_endpoint_queues_lists_and_clears_faults() {
    let sandbox = Sandbox::start_default().unwrap();
    let (status, answer) = control(
        &sandbox,
        "POST",
        "/_sandbox/faults",
        Some(json!({"path": REFUND, "fault": "delay", "count": 2, "delayMs": 1500})),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["faults"],
        json!([{"fault": "delay", "delayMs": 1500, "path": REFUND, "count": 2}])
    );
    control(
        &sandbox,
        "POST",
        "/_sandbox/faults",
        Some(json!({"path": "*", "fault": "http-502-html"})),
    );
    let (_, listed) = control(&sandbox, "GET", "/_sandbox/faults", None);
    assert_eq!(listed["faults"].as_array().unwrap().len(), 2);
    assert_eq!(
        listed["faults"][1],
        json!({"fault": "http-502-html", "path": "*", "count": 1})
    );
    assert_eq!(sandbox.queued_faults().len(), 2);

    // A '*' fault applies to the next business request, whatever its path.
    let (status, content_type, body) =
        raw_post(&sandbox, "/v1/netpay/bills/close-qrcode", &[], "{}");
    assert_eq!(status, 502);
    assert!(content_type.starts_with("text/html") && body.contains("502 Bad Gateway"));
    assert_eq!(sandbox.stats().faults_injected("http-502-html"), 1);

    let (status, cleared) = control(&sandbox, "DELETE", "/_sandbox/faults", None);
    assert_eq!(
        (status, &cleared["cleared"], &cleared["faults"]),
        (200, &json!(1), &json!([]))
    );
    assert!(sandbox.queued_faults().is_empty());

    for bad in [
        json!({"path": REFUND, "fault": "nope"}),
        json!({"path": "refund", "fault": "delay"}),
        json!({"path": "/_sandbox/pay", "fault": "delay"}),
        json!({"path": REFUND, "fault": "delay", "count": 0}),
        json!({"path": REFUND, "fault": "errcode-TIMEOUT", "delayMs": 10}),
        json!({"path": REFUND, "fault": "delay", "delayMs": 10_000_000}),
        json!({"path": REFUND}),
    ] {
        let (status, answer) = control(&sandbox, "POST", "/_sandbox/faults", Some(bad.clone()));
        assert_eq!(
            (status, &answer["ok"], &answer["error"]),
            (400, &json!(false), &json!("BAD_REQUEST")),
            "{bad}"
        );
    }
    let (status, _) = control(&sandbox, "POST", "/_sandbox/faults", None);
    assert_eq!(status, 400);
    assert!(sandbox.queued_faults().is_empty());
    // Control requests are neither counted nor faulted.
    assert_eq!(sandbox.stats().requests_to("/_sandbox/faults"), 0);
}

#[test]
fn the_fault_header_applies_to_its_request_only() {
    let sandbox = Sandbox::start_default().unwrap();
    let (status, content_type, body) = raw_post(
        &sandbox,
        QUERY,
        &[(FAULT_HEADER, "errcode-NET_ERROR")],
        "{}",
    );
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json;charset=UTF-8")
    );
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["errCode"], "NET_ERROR");
    // The next request, without the header, is checked as usual (no
    // Authorization: 401).
    let (status, _, _) = raw_post(&sandbox, QUERY, &[], "{}");
    assert_eq!(status, 401);

    // delayMs is read from the header: an answer held for 600 s is not
    // there when a 1 s read deadline passes (proven by order: it is due
    // long after the test), and a 1 ms delay is answered as usual.
    let mut held = send_after_continue(sandbox.addr(), "delay; delayMs=600000");
    held.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut early = [0u8; 64];
    match held.read(&mut early) {
        Err(e) if matches!(e.kind(), ErrorKindIo::WouldBlock | ErrorKindIo::TimedOut) => {}
        other => panic!("the delayed answer came early: {other:?}"),
    }
    drop(held);
    let (status, _, _) = raw_post(&sandbox, QUERY, &[(FAULT_HEADER, "delay; delayMs=1")], "{}");
    assert_eq!(
        status, 401,
        "processed (authentication failed), then delayed"
    );

    let (status, content_type, _) = raw_post(
        &sandbox,
        QUERY,
        &[(FAULT_HEADER, "wrong-content-type")],
        "{}",
    );
    assert_eq!(
        (status, content_type.as_str()),
        (401, "text/html;charset=UTF-8")
    );

    // An unknown fault is refused, and nothing is processed.
    let (status, _, body) = raw_post(&sandbox, QUERY, &[(FAULT_HEADER, "explode")], "{}");
    assert_eq!(status, 400);
    assert!(
        body.contains("BAD_REQUEST") && body.contains("explode"),
        "{body}"
    );
    let (status, _, _) = raw_post(
        &sandbox,
        QUERY,
        &[(FAULT_HEADER, "http-500-html;delayMs=5")],
        "{}",
    );
    assert_eq!(status, 400);

    // Ignored on the token endpoint.
    let (status, _, body) = raw_post(&sandbox, TOKEN, &[(FAULT_HEADER, "http-502-html")], "{}");
    assert_eq!(status, 200);
    assert!(body.contains("\"errCode\":\"1000\""), "{body}");

    let stats = sandbox.stats();
    assert_eq!(
        stats.requests_to(QUERY),
        7,
        "faulty requests are counted too"
    );
    assert_eq!(stats.processed_on(QUERY), 0, "none was authenticated");
    assert_eq!(
        stats.faults,
        BTreeMap::from([
            ("delay".to_string(), 2),
            ("errcode-NET_ERROR".to_string(), 1),
            ("wrong-content-type".to_string(), 1),
        ])
    );
    let (_, json_stats) = control(&sandbox, "GET", "/_sandbox/stats", None);
    assert_eq!(json_stats["faults"]["delay"], 2);
    assert_eq!(json_stats, stats.to_json());
}

/// Sends raw bytes and reads until the server closes (the 60 s read
/// limit only turns a hang into a failure).
fn raw_exchange(sandbox: &Sandbox, bytes: &[u8]) -> (Vec<u8>, std::io::Result<()>) {
    let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut got = Vec::new();
    let result = stream.read_to_end(&mut got).map(|_| ());
    (got, result)
}

fn faulty_request(fault: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n{FAULT_HEADER}: {fault}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn faults_on_the_wire() {
    let sandbox = Sandbox::start_default().unwrap();
    // close-before-body: the head is enough; nothing comes back.
    let head_only = format!(
        "POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{FAULT_HEADER}: close-before-body\r\nContent-Length: 100\r\n\r\n"
    );
    let (got, _) = raw_exchange(&sandbox, head_only.as_bytes());
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));

    let (got, _) = raw_exchange(&sandbox, &faulty_request("close-after-body", "{}"));
    assert!(got.is_empty());

    // truncated-json: the whole head, a Content-Length of the whole answer,
    // half of the body.
    let (got, _) = raw_exchange(&sandbox, &faulty_request("truncated-json", "{}"));
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        body.len() < length && body.len() >= length / 2 - 1,
        "{text}"
    );
    assert!(body.starts_with("{\"errCode\":"));

    // close-mid-answer: half of the bytes, head included.
    let (got, _) = raw_exchange(&sandbox, &faulty_request("close-mid-answer", "{}"));
    let full = {
        let (all, _) = raw_exchange(
            &sandbox,
            &format!(
                "POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{{}}"
            )
            .into_bytes(),
        );
        all
    };
    assert!(got.starts_with(b"HTTP/1.1 401 Unauthorized\r\n"));
    // The two answers differ only by their Connection header and time.
    assert!(
        got.len() * 2 <= full.len() + 16 && got.len() * 2 + 16 >= full.len(),
        "{} vs {}",
        got.len(),
        full.len()
    );

    // malformed-json: complete, but not JSON.
    let (got, _) = raw_exchange(&sandbox, &faulty_request("malformed-json", "{}"));
    let text = String::from_utf8_lossy(&got).into_owned();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        body.starts_with("{\"errCode\":\"") && serde_json::from_str::<Value>(body).is_err(),
        "{body}"
    );

    // oversized-json: 5 MiB of valid JSON.
    let (got, _) = raw_exchange(&sandbox, &faulty_request("oversized-json", "{}"));
    let text = String::from_utf8_lossy(&got).into_owned();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    assert_eq!(body.len(), 5 * 1024 * 1024);
    let value: Value = serde_json::from_str(body).unwrap();
    assert_eq!(value["errCode"], "UNAUTHORIZED");

    // The server serves on after all of them.
    let (status, _, _) = raw_post(&sandbox, QUERY, &[], "{}");
    assert_eq!(status, 401);
    assert_eq!(sandbox.stats().requests_to(QUERY), 8);
}

/// Sends `POST /v1/netpay/bills/query` with the fault header `fault`: the
/// head first, with `Expect: 100-continue`, then, once the simulator has
/// answered 100 Continue (it does so after reading the head and planning
/// the fault), the body. Answers the connection (read timeout 60 s).
fn send_after_continue(addr: std::net::SocketAddr, fault: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!(
        "POST {QUERY} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n{FAULT_HEADER}: {fault}\r\nContent-Length: 2\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "100 Continue");
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 "),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stream.write_all(b"{}").unwrap();
    stream
}

#[test]
fn a_slow_fault_does_not_hold_up_shutdown() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let addr = sandbox.addr();
    let (planned_tx, planned) = mpsc::channel();
    let sender = thread::spawn(move || {
        let mut stream = send_after_continue(addr, "delay;delayMs=600000");
        planned_tx.send(()).unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
        sink
    });
    // The 600 s delay is planned for a request whose body is on its way:
    // whether shutdown meets it reading the body or holding the answer,
    // nothing may be sent, and shutdown may not wait for the answer.
    planned.recv().unwrap();
    let started = Instant::now();
    sandbox.shutdown();
    let elapsed = started.elapsed();
    let got = sender.join().unwrap();
    assert!(
        got.is_empty(),
        "no answer after shutdown: {}",
        String::from_utf8_lossy(&got)
    );
    // A sanity bound only (shutdown takes milliseconds): the proof is that
    // it returned and the connection ended while the answer was due only
    // in 600 s.
    assert!(
        elapsed < Duration::from_secs(10),
        "shutdown took {elapsed:?}"
    );
}

#[test]
fn every_fault_has_a_name_and_a_side() {
    let processed: Vec<&str> = Fault::ALL
        .into_iter()
        .filter(|f| f.processed())
        .map(Fault::name)
        .collect();
    assert_eq!(
        processed,
        [
            "delay",
            "close-after-body",
            "close-mid-answer",
            "http-500-html",
            "malformed-json",
            "truncated-json",
            "oversized-json",
            "wrong-content-type",
            "errcode-TIMEOUT",
            "errcode-ORDER_PROCESSING",
            "errcode-INTERNAL_ERROR",
            "refund-processing",
            "refund-unknown",
        ]
    );
    assert_eq!(unknown_faults().len(), 13);
    assert_eq!(
        "delay;delayMs=10".parse::<Fault>(),
        Ok(Fault::Delay(Duration::from_millis(10)))
    );
}

#[test]

fn a_failed_token_refresh_does_not_multiply_the_resend() {
    // Policy: a token refused with HTTP 401 is refreshed once and the
    // request resent once. Here the refresh itself fails once (the token
    // endpoint closes the connection) and the gateway keeps refusing the
    // token: the refund may reach the gateway at most twice.
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox.base_url(), json!({"auth": "token"}));
    let bill = Bill::new_paid(&client, &sandbox); // the client holds a token now
    assert_eq!(sandbox.stats().tokens_issued, 1);
    // Token requests: refused (closed), served, refused again, then served.
    sandbox.inject_fault(TOKEN, Fault::CloseAfterBody, 1);
    sandbox.inject_fault(TOKEN, Fault::Delay(Duration::ZERO), 1);
    sandbox.inject_fault(TOKEN, Fault::CloseAfterBody, 1);
    sandbox.inject_fault(REFUND, Fault::TokenExpired, 10);
    let result = client.call(REFUND, &bill.refund_request(&client));
    let stats = sandbox.stats();
    assert!(result.is_err());
    assert_eq!(stats.processed_on(REFUND), 0);
    assert!(
        stats.requests_to(REFUND) <= 2,
        "the refund reached the gateway {} times, {} token requests: {:?}",
        stats.requests_to(REFUND),
        stats.requests_to(TOKEN),
        result.err()
    );
}

/// Waits, without sleeping, until `done` (the simulator's state) holds;
/// the 60 s limit only turns a hang into a failure.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let guard = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < guard, "never happened: {what}");
        thread::yield_now();
    }
}

#[test]
fn a_call_waiting_for_another_threads_token_fetch_keeps_its_deadline() {
    // Thread B's refund goes out with a token the gateway no longer knows;
    // the gateway's 401 is held HOLD ms. When it comes, B stops (inside its
    // own log line, before asking for a new token) until thread A, started
    // only then, has begun the one token fetch, whose answer is held far
    // beyond the test. B then waits for A's fetch and must give up at its
    // own deadline, HOLD ms before A's, and say that nothing was sent. The
    // gap between the two deadlines is the simulator holding B's answer;
    // every other step is ordered by a channel or by the simulator's state.
    const T: u64 = 3000;
    const HOLD: u64 = 1500;
    let sandbox = Sandbox::start_default().unwrap();
    let setup = client_for(&sandbox.base_url(), json!({}));
    let bill = Bill::new_paid(&setup, &sandbox);
    let client = Arc::new(client_for(
        &sandbox.base_url(),
        json!({"auth": "token", "timeoutMs": T}),
    ));
    client.call(QUERY, &bill.query_request()).unwrap(); // caches a token
                                                        // The token expires on the gateway; the client still holds it.
    sandbox.advance_clock(SandboxConfig::default().token_lifetime);
    sandbox.inject_fault(REFUND, Fault::Delay(Duration::from_millis(HOLD)), 1); // B's 401
    sandbox.inject_fault(TOKEN, Fault::Delay(HELD), 1); // A's fetch
    let request = bill.refund_request(&client);
    let (refused_tx, refused) = mpsc::channel();
    let (resume, resume_rx) = mpsc::channel::<()>();
    let resume_rx = Mutex::new(resume_rx);
    let b = {
        let client = Arc::clone(&client);
        thread::spawn(move || {
            hook_this_threads_log(move |line| {
                if line.contains("token refused (HTTP 401)") {
                    let _ = refused_tx.send(());
                    // The limit only keeps a failed test from hanging.
                    let _ = resume_rx
                        .lock()
                        .unwrap()
                        .recv_timeout(Duration::from_secs(60));
                }
            });
            client.call(REFUND, &request)
        })
    };
    refused.recv().unwrap(); // B's 401 has come, HOLD ms after B started
    let a = {
        let (client, query) = (Arc::clone(&client), bill.query_request());
        thread::spawn(move || client.call(QUERY, &query))
    };
    // A meets the 401 at once, drops the token and fetches a new one.
    wait_until("A's token request reaches the gateway", || {
        sandbox.queued_faults().iter().all(|q| q.path != TOKEN)
    });
    resume.send(()).unwrap();
    let e = b.join().unwrap().unwrap_err();
    assert!(
        e.message.contains("waiting for an access token"),
        "B gave up while waiting for A's token fetch: {e}"
    );
    // B returned at its own deadline, while A's fetch, the one B waited
    // for, still runs: it ends at A's deadline, HOLD ms later.
    assert!(
        !a.is_finished(),
        "B returned only when the token fetch it waited for ended"
    );
    assert!(
        e.kind.nothing_sent(),
        "B's refund was never done, yet the caller hears {:?}: {e}",
        e.kind
    );
    let a = a.join().unwrap().unwrap_err();
    assert!(a.kind.nothing_sent(), "A's query: {a}");
    let stats = sandbox.stats();
    assert_eq!(
        (stats.requests_to(REFUND), stats.processed_on(REFUND)),
        (1, 0),
        "B's refund was refused once (401) and never resent"
    );
    assert_eq!(stats.requests_to(TOKEN), 2, "the first token and A's fetch");
    assert_eq!(bill.state(&sandbox)["billStatus"], "PAID");
}
