//! `resolve` against the simulator as the judge.
//!
//! Every money-moving operation meets every fault the simulator can inject
//! (the refund-state faults on refunds only: elsewhere they are not
//! faults), and the client-side failure points: the connection refused
//! (nothing sent), the client's timeout while the simulator holds the
//! request before processing it (a request in flight) and then applies it,
//! the same request released only once it can no longer be accepted, and a
//! clean call. For each, the call ends unknown, fails or succeeds; then
//! `resolve` (advancing the shared clock past `retryAfter` when it says the
//! request could still arrive) must answer applied exactly when the
//! simulator's processed log says it applied the request, never a wrong
//! verdict, and "cannot tell" only where the table says so (secure-complete
//! that did complete: completions carry no id). The counts are printed.

#[path = "common/refusing_port.rs"]
mod refusing_port;
#[path = "common/resolve_env.rs"]
mod resolve_env;

use chinaums::clock::{Clock, ManualClock};
use chinaums::error::ErrorKind;
use chinaums::resolve::{CallRecord, Verdict};
use resolve_env::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ffi::{c_char, CString};
use std::sync::Arc;
use std::time::Duration;
use ums_sandbox::{Fault, Sandbox};

/// A client-side failure point, or a simulator fault.
#[derive(Debug, Clone, Copy)]
enum Point {
    Clean,
    Fault(Fault),
    /// Nothing sent: the gateway's port refuses connections.
    Refused,
    /// Held before processing past the client's timeout, then applied.
    HeldThenApplied,
    /// Held past the client's timeout, released after the window.
    HeldPastWindow,
}

impl Point {
    fn name(&self) -> String {
        match self {
            Point::Fault(f) => f.name().to_string(),
            other => format!("{other:?}"),
        }
    }
}

fn points(case: &str) -> Vec<Point> {
    let mut points = vec![
        Point::Clean,
        Point::Refused,
        Point::HeldThenApplied,
        Point::HeldPastWindow,
    ];
    for fault in Fault::ALL {
        if fault.is_refund_state() && case != "refund" {
            continue;
        }
        let fault = match fault {
            Fault::Delay(_) => Fault::Delay(Duration::from_millis(1500)),
            f => f,
        };
        points.push(Point::Fault(fault));
    }
    points
}

struct Env {
    clock: Arc<ManualClock>,
    sandbox: Sandbox,
    setup: chinaums::Client,
    client: chinaums::Client,
    refused: chinaums::Client,
    _journal: TempJournal,
    _port: refusing_port::RefusingPort,
}

fn env() -> Env {
    let clock = Arc::new(ManualClock::starting_now());
    let sandbox = sandbox_on(clock.clone());
    let base = sandbox.base_url();
    let journal = TempJournal::new("resolve");
    let port = refusing_port::RefusingPort::new();
    let money = json!({"resolvable": true, "journal": journal.path(), "timeoutMs": 500});
    let refused_config = json!({"resolvable": true, "journal": journal.path(), "timeoutMs": 500});
    Env {
        setup: client_on(&base, clock.clone(), json!({})),
        client: client_on(&base, clock.clone(), money),
        refused: client_on(&port.url(), clock.clone(), refused_config),
        clock,
        sandbox,
        _journal: journal,
        _port: port,
    }
}

/// Resolves until the verdict no longer waits for the window, moving the
/// shared clock past `retryAfter` (the simulator's clock moves with it).
fn resolve_settled(env: &Env, record: &CallRecord, id: Option<i64>) -> (Vec<Verdict>, Value) {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = env.client.resolve(record.clone(), id).expect("resolve");
        seen.push(r.verdict);
        match (r.verdict, r.retry_after_ms) {
            (Verdict::Pending, Some(at)) => {
                let now = env.clock.now_unix_millis();
                env.clock
                    .advance(Duration::from_millis((at - now).max(0) as u64 + 1000));
            }
            _ => return (seen, r.to_json()),
        }
    }
    panic!("resolve kept answering pending: {seen:?}");
}

/// The outcome of one case, for the summary.
#[derive(Default)]
struct Tally {
    cases: usize,
    verdicts: BTreeMap<&'static str, usize>,
    call_kinds: BTreeMap<String, usize>,
    in_flight_pending: usize,
}

fn run_case(env: &Env, case: &str, point: Point, tally: &mut Tally) {
    let op = chinaums::ops::find(operation_of(case)).unwrap();
    let id = msg_id(case);
    let prepared = prepare(&env.setup, &env.sandbox.base_url(), case, &id);
    let request = Value::Object(prepared.request.clone()).to_string();
    let client = match point {
        Point::Refused => &env.refused,
        _ => &env.client,
    };
    match point {
        Point::Fault(fault) => env.sandbox.inject_fault(op.path, fault, 1),
        Point::HeldThenApplied | Point::HeldPastWindow => env.sandbox.hold_requests(op.path, 1),
        _ => {}
    }
    let result = client.execute_json(op, &request);
    env.sandbox.clear_faults();
    let label = format!("{case} × {}", point.name());
    let kind = match &result {
        Ok(_) => "ok".to_string(),
        Err(e) => e.kind.as_str().to_string(),
    };
    *tally.call_kinds.entry(kind).or_default() += 1;

    // The call's own record: from the journal (the last entry), which must
    // equal the result's resolveWith when the outcome is not final.
    let journal = env.client.journal().unwrap();
    let row = journal.all().unwrap().pop().expect("an entry");
    let (journal_id, stored, open) = (row.id, row.request, row.open);
    let record = CallRecord {
        operation: op,
        request: stored,
        bill: prepared.bill.clone(),
    };
    if let Err(e) = &result {
        if matches!(e.kind, ErrorKind::OutcomeUnknown | ErrorKind::Pending) {
            let hint = e.resolve_with.as_ref().expect("resolveWith");
            assert_eq!(hint["journalId"], journal_id, "{label}");
            assert_eq!(
                hint["request"],
                Value::Object(record.request.clone()),
                "{label}"
            );
            assert!(open, "{label}: the entry stays open on an unknown outcome");
        } else {
            assert!(!open, "{label}: a definite failure closes the entry");
        }
        if e.kind.nothing_sent() {
            assert!(judge(&env.sandbox, op.path, &id).is_none(), "{label}");
        }
    } else {
        assert!(!open, "{label}: a success closes the entry");
        assert_eq!(judge(&env.sandbox, op.path, &id), Some(true), "{label}");
    }

    match point {
        Point::HeldThenApplied => {
            assert!(env.sandbox.wait_held(1, Duration::from_secs(10)), "{label}");
            let r = env
                .client
                .resolve(record.clone(), Some(journal_id))
                .unwrap();
            assert_eq!(r.verdict, Verdict::Pending, "{label}: in flight is pending");
            assert!(r.retry_after_ms.is_some(), "{label}");
            tally.in_flight_pending += 1;
            env.sandbox.release_held();
            assert!(env.sandbox.wait_idle(Duration::from_secs(10)), "{label}");
        }
        Point::HeldPastWindow => {
            assert!(env.sandbox.wait_held(1, Duration::from_secs(10)), "{label}");
            let window = env.client.config().resolve_window;
            env.clock.advance(window * 2 + Duration::from_secs(61));
            env.sandbox.release_held();
            assert!(env.sandbox.wait_idle(Duration::from_secs(10)), "{label}");
        }
        _ => {}
    }

    let (seen, doc) = resolve_settled(env, &record, Some(journal_id));
    let verdict = *seen.last().unwrap();
    let applied = judge(&env.sandbox, op.path, &id) == Some(true);
    *tally.verdicts.entry(verdict.as_str()).or_default() += 1;
    tally.cases += 1;
    match verdict {
        Verdict::Applied => assert!(applied, "{label}: applied, the judge says not: {doc}"),
        Verdict::NotApplied => assert!(
            !applied,
            "{label}: not applied, the judge says applied: {doc}"
        ),
        Verdict::CannotTell => assert!(
            case == "secure-complete" && applied,
            "{label}: cannot tell outside the table: {doc}"
        ),
        Verdict::Pending => panic!("{label}: still pending: {doc}"),
    }
    if applied && verdict != Verdict::CannotTell {
        assert_eq!(verdict, Verdict::Applied, "{label}");
    }
    assert_eq!(
        doc["safeToResend"],
        verdict == Verdict::NotApplied,
        "{label}"
    );
    // A final verdict closes the journal entry.
    let (_, outcome) = journal.get(journal_id).unwrap().unwrap();
    assert_eq!(
        outcome.is_some(),
        verdict.is_final() || !open,
        "{label}: {outcome:?}"
    );
}

#[test]
fn resolve_agrees_with_the_judge_for_every_operation_and_failure_point() {
    let env = env();
    let mut tally = Tally::default();
    for case in CASES {
        for point in points(case) {
            run_case(&env, case, point, &mut tally);
        }
    }
    eprintln!(
        "resolve matrix: {} cases ({} operations × failure points), 0 wrong verdicts; verdicts {:?}; calls ended {:?}; {} in-flight requests answered pending before they were applied",
        tally.cases,
        CASES.len(),
        tally.verdicts,
        tally.call_kinds,
        tally.in_flight_pending
    );
    assert!(tally.cases >= CASES.len() * 20);
}

/// Without `resolvable`, the table's "no proof" rows answer cannot tell;
/// with it the same calls are resolved.
#[test]
fn calls_without_identifiers_cannot_be_told_and_resolvable_adds_them() {
    let Scene {
        clock,
        sandbox,
        base,
        client: plain,
        today,
    } = Scene::new();
    // A refund without refundOrderId on a bill that has a refund.
    let (qr, no, date) = one_off(&plain, &today, 100, json!({}));
    pay(&base, &qr);
    let refund = json!({"billNo": no, "billDate": date, "refundAmount": 10});
    plain
        .execute_json(&chinaums::ops::REFUND, &refund.to_string())
        .unwrap();
    let mut request = refund.as_object().unwrap().clone();
    request.insert("requestTimestamp".into(), plain.now().date_time().into());
    let record = CallRecord {
        operation: &chinaums::ops::REFUND,
        request,
        bill: None,
    };
    let r = plain.resolve(record, None).unwrap();
    assert_eq!(r.verdict, Verdict::CannotTell, "{}", r.to_json());
    // A fixed code without qrCodeId, and update-qrcode without billNo.
    for (op, request) in [
        (&chinaums::ops::GET_QRCODE, json!({"totalAmount": 5})),
        (&chinaums::ops::UPDATE_QRCODE, json!({"qrCodeId": qr})),
    ] {
        let mut request = request.as_object().unwrap().clone();
        request.insert("requestTimestamp".into(), plain.now().date_time().into());
        let r = plain
            .resolve(
                CallRecord {
                    operation: op,
                    request,
                    bill: None,
                },
                None,
            )
            .unwrap();
        assert_eq!(r.verdict, Verdict::CannotTell, "{}", r.to_json());
    }
    // resolvable: the client adds the identifiers before sending.
    let resolvable = client_on(&base, clock.clone(), json!({"resolvable": true}));
    for (op, request, added) in [
        (
            &chinaums::ops::REFUND,
            json!({"billNo": no, "billDate": date, "refundAmount": 10}),
            "refundOrderId",
        ),
        (
            &chinaums::ops::GET_QRCODE,
            json!({"totalAmount": 5}),
            "qrCodeId",
        ),
    ] {
        let prepared = resolvable
            .prepare(op, request.as_object().unwrap().clone())
            .unwrap();
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert!(
            body[added].as_str().is_some_and(|id| id.len() == 28),
            "{body}"
        );
    }
    // A given value is never replaced.
    let prepared = resolvable
        .prepare(
            &chinaums::ops::REFUND,
            json!({"billNo": no, "billDate": date, "refundAmount": 1, "refundOrderId": "31940000000001"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    let body: Value = serde_json::from_slice(&prepared.body).unwrap();
    assert_eq!(body["refundOrderId"], "31940000000001");
    // Per call: execute_resolvable on a client without "resolvable".
    let refund = json!({"billNo": no, "billDate": date, "refundAmount": 5});
    plain
        .execute_resolvable(&chinaums::ops::REFUND, refund.as_object().unwrap().clone())
        .unwrap();
    let last = sandbox.processed(0).pop().unwrap();
    assert_eq!(last.path, "/v1/netpay/bills/refund");
    assert!(
        last.field("refundOrderId").is_some_and(|id| id.len() == 28),
        "{last:?}"
    );
    // resolvable needs msgSrcId.
    let mut config = ums_sandbox::demo::client_config(&base, json!({"resolvable": true}));
    config.as_object_mut().unwrap().remove("msgSrcId");
    let e = chinaums::Config::from_json(&config.to_string()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("resolvable"));
}

/// issue 15: a billNo without billDate gets today's Beijing date on the
/// client's clock (get-qrcode, update-qrcode); a given billDate is kept;
/// operations on an existing bill still require it.
#[test]
fn bill_date_defaults_to_today_in_beijing() {
    use chinaums::clock::BeijingTime;
    // 2026-01-01 17:30 UTC is 2026-01-02 01:30 in Beijing.
    let utc = 1_767_288_600_000;
    let client = client_on(
        "http://127.0.0.1:9",
        Arc::new(chinaums::clock::FixedClock(utc)),
        json!({}),
    );
    let now = BeijingTime::from_unix_millis(utc);
    assert_eq!(now.date(), "2026-01-02");
    for op in [&chinaums::ops::GET_QRCODE, &chinaums::ops::UPDATE_QRCODE] {
        let request = json!({"qrCodeId": "31940000001", "billNo": "31940000123", "totalAmount": 1});
        let prepared = client
            .prepare_at(op, request.as_object().unwrap().clone(), now)
            .unwrap();
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(body["billDate"], "2026-01-02", "{}", op.name);
        let given = json!({"qrCodeId": "31940000001", "billNo": "31940000123", "billDate": "2025-12-31", "totalAmount": 1});
        let prepared = client
            .prepare_at(op, given.as_object().unwrap().clone(), now)
            .unwrap();
        let body: Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(body["billDate"], "2025-12-31", "{}", op.name);
    }
    // No billNo: no billDate either (a fixed code stays fixed).
    let prepared = client
        .prepare_at(
            &chinaums::ops::GET_QRCODE,
            json!({"totalAmount": 1}).as_object().unwrap().clone(),
            now,
        )
        .unwrap();
    let body: Value = serde_json::from_slice(&prepared.body).unwrap();
    assert!(body.get("billDate").is_none(), "{body}");
    let e = client
        .prepare_at(
            &chinaums::ops::REFUND,
            json!({"billNo": "31940000123", "refundAmount": 1})
                .as_object()
                .unwrap()
                .clone(),
            now,
        )
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("billDate"));
}

/// `ums_client_new` of the demo app on `base` with `extra`; must succeed.
fn abi_client(base: &str, extra: Value) -> *mut ums::UmsClient {
    let config = ums_sandbox::demo::client_config(base, extra);
    let config = CString::new(config.to_string()).unwrap();
    let mut handle = std::ptr::null_mut();
    let mut buf = vec![0 as c_char; 4096];
    let mut len = 0;
    let s = unsafe {
        ums::ums_client_new(
            config.as_ptr(),
            &mut handle,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, ums::UMS_OK);
    handle
}

/// `ums_journal_pending`: the status and the document.
fn abi_pending(client: *const ums::UmsClient) -> (i32, Value) {
    let mut out = vec![0 as c_char; 64 * 1024];
    let mut len = 0usize;
    let status = unsafe { ums::ums_journal_pending(client, out.as_mut_ptr(), out.len(), &mut len) };
    (status, doc(&out[..len]))
}

/// The JSON document a C export wrote.
fn doc(written: &[c_char]) -> Value {
    let bytes: Vec<u8> = written.iter().map(|c| *c as u8).collect();
    serde_json::from_slice(&bytes).unwrap()
}

fn abi_call(
    f: unsafe extern "C" fn(
        *const ums::UmsClient,
        *const c_char,
        *mut c_char,
        usize,
        *mut usize,
    ) -> i32,
    client: *const ums::UmsClient,
    input: &str,
) -> (i32, Value) {
    let input = CString::new(input).unwrap();
    let mut buf = vec![0 as c_char; 64 * 1024];
    let mut len = 0usize;
    let status = unsafe {
        f(
            client,
            input.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    (status, doc(&buf[..len]))
}

/// The C ABI: an outcome-unknown refund's error document is the input of
/// `ums_resolve`; `ums_journal_pending` lists the open entry until then.
#[test]
fn the_c_abi_resolves_from_the_error_document_and_lists_pending_entries() {
    let Scene {
        clock: _,
        sandbox,
        base,
        client: setup,
        today,
    } = Scene::new();
    let (qr, no, date) = one_off(&setup, &today, 100, json!({}));
    pay(&base, &qr);
    let journal = TempJournal::new("abi");
    let handle = abi_client(
        &base,
        json!({"resolvable": true, "journal": journal.path()}),
    );

    sandbox.inject_fault("/v1/netpay/bills/refund", Fault::CloseAfterBody, 1);
    let refund = json!({"billNo": no, "billDate": date, "refundAmount": 40}).to_string();
    let (status, doc) = abi_call(ums::ums_refund, handle, &refund);
    assert_eq!(status, ums::UMS_ERR_OUTCOME_UNKNOWN, "{doc}");
    assert!(
        doc["resolveWith"]["request"]["refundOrderId"].is_string(),
        "{doc}"
    );
    for key in ["appKey", "signature", "Authorization"] {
        assert!(!doc.to_string().contains(key), "{key} in {doc}");
    }

    let (s, pending) = abi_pending(handle);
    assert_eq!(s, ums::UMS_OK);
    assert_eq!(pending["count"], 1, "{pending}");
    assert_eq!(
        pending["pending"][0]["journalId"],
        doc["resolveWith"]["journalId"]
    );

    let (status, verdict) = abi_call(ums::ums_resolve, handle, &doc.to_string());
    assert_eq!(status, ums::UMS_OK, "{verdict}");
    assert_eq!(verdict["verdict"], "applied", "{verdict}");
    assert_eq!(verdict["journalClosed"], true);
    assert_eq!(
        verdict["evidence"]["answer"]["refundBillPayment"]["refundStatus"],
        "SUCCESS"
    );
    let (s, pending) = abi_pending(handle);
    assert_eq!(s, ums::UMS_OK);
    assert_eq!(pending["count"], 0, "{pending}");

    // Bad input: a clear error, nothing sent.
    let (status, e) = abi_call(
        ums::ums_resolve,
        handle,
        r#"{"operation":"query-bill","request":{}}"#,
    );
    assert_eq!(status, ums::UMS_ERR_INVALID_ARGUMENT, "{e}");
    let (status, e) = abi_call(
        ums::ums_resolve,
        handle,
        r#"{"operation":"refund","request":{"billNo":"x"}}"#,
    );
    assert_eq!(status, ums::UMS_ERR_VALIDATION, "{e}");
    assert_eq!(e["field"], "requestTimestamp");
    let (status, _) = abi_call(ums::ums_resolve, handle, "not json");
    assert_eq!(status, ums::UMS_ERR_INVALID_JSON);
    unsafe { ums::ums_client_free(handle) };

    // A client without a journal: UMS_ERR_CONFIG naming `journal`.
    let handle = abi_client(&base, json!({}));
    let (s, _) = abi_pending(handle);
    assert_eq!(s, ums::UMS_ERR_CONFIG);
    unsafe { ums::ums_client_free(handle) };
}

/// The README's resolve table is the code's table.
#[test]
fn the_readme_has_the_resolve_table_of_the_code() {
    let readme = include_str!("../README.md");
    let table = chinaums::resolve::table::markdown();
    assert!(
        readme.contains(table.trim_end()),
        "README.md \"Reliability\" must contain the table `ums resolve --table` prints:\n{table}"
    );
}

/// `GET /_sandbox/processed`: one entry per business request, applied or
/// not, with its identifying fields; `?since=` skips what was seen.
#[test]
fn the_simulator_serves_its_processed_log() {
    let Scene {
        clock: _,
        sandbox,
        base,
        client,
        today,
    } = Scene::new();
    let (_, bill_no, _) = one_off(&client, &today, 10, json!({}));
    sandbox.inject_fault("/v1/netpay/bills/get-qrcode", Fault::CloseBeforeBody, 1);
    let again = json!({"billNo": bill_no, "billDate": today, "totalAmount": 10});
    let _ = client.execute_json(&chinaums::ops::GET_QRCODE, &again.to_string());
    let _ = client.execute_json(&chinaums::ops::GET_QRCODE, &again.to_string());
    let get = |query: &str| -> Value {
        let text = ureq::get(&format!("{base}/_sandbox/processed{query}"))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let all = get("");
    let list = all["processed"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{all}");
    assert_eq!(list[0]["applied"], true);
    assert_eq!(list[0]["request"]["billNo"], bill_no.as_str());
    assert_eq!(
        (list[1]["applied"].clone(), list[1]["fault"].clone()),
        (json!(false), json!("close-before-body"))
    );
    assert_eq!(
        (list[2]["applied"].clone(), list[2]["errCode"].clone()),
        (json!(false), json!("DUP_ORDER"))
    );
    let later = get(&format!("?since={}", list[1]["seq"]));
    assert_eq!(later["processed"].as_array().unwrap().len(), 1, "{later}");
}

/// `ums_resolve` / `ums_journal_pending` follow the operations' buffer
/// rules: NULLs refused, below `UMS_MIN_OUT_CAP` nothing is done, a
/// document that does not fit is kept for `ums_take_answer`.
#[test]
fn the_resolve_exports_follow_the_buffer_rules() {
    let journal = TempJournal::new("abi-buffers");
    let config = ums_sandbox::demo::client_config(
        "https://gateway.invalid",
        json!({"journal": journal.path()}),
    );
    let config = CString::new(config.to_string()).unwrap();
    let mut handle = std::ptr::null_mut();
    let mut buf = vec![0 as c_char; 4096];
    let mut len = 0usize;
    let s = unsafe {
        ums::ums_client_new(
            config.as_ptr(),
            &mut handle,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, ums::UMS_OK);
    // No proof and no query: a deterministic document without network.
    let input = json!({"operation": "secure-cancel", "request": {
        "merOrderId": "31940000000001", "requestTimestamp": "2026-01-01 00:00:00"}});
    let input = CString::new(input.to_string()).unwrap();
    let s = unsafe {
        ums::ums_resolve(
            std::ptr::null(),
            input.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, ums::UMS_ERR_NULL_POINTER);
    let s = unsafe {
        ums::ums_resolve(
            handle,
            std::ptr::null(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, ums::UMS_ERR_NULL_POINTER);
    let s = unsafe {
        ums::ums_journal_pending(std::ptr::null(), buf.as_mut_ptr(), buf.len(), &mut len)
    };
    assert_eq!(s, ums::UMS_ERR_NULL_POINTER);
    let s = unsafe { ums::ums_resolve(handle, input.as_ptr(), buf.as_mut_ptr(), 100, &mut len) };
    assert_eq!(
        (s, len),
        (ums::UMS_ERR_BUFFER_TOO_SMALL, ums::UMS_MIN_OUT_CAP - 1)
    );
    let s = unsafe {
        ums::ums_resolve(
            handle,
            input.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, ums::UMS_OK);
    let full = len;
    assert!(
        full > ums::UMS_MIN_OUT_CAP,
        "the verdict is longer than the minimum"
    );
    let s = unsafe {
        ums::ums_resolve(
            handle,
            input.as_ptr(),
            buf.as_mut_ptr(),
            ums::UMS_MIN_OUT_CAP,
            &mut len,
        )
    };
    assert_eq!((s, len), (ums::UMS_ERR_BUFFER_TOO_SMALL, full));
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    let note: Value = serde_json::from_slice(&bytes).unwrap();
    let id = CString::new(note["answerId"].as_str().unwrap()).unwrap();
    let s =
        unsafe { ums::ums_take_answer(handle, id.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!((s, len), (ums::UMS_OK, full));
    let bytes: Vec<u8> = buf[..len].iter().map(|c| *c as u8).collect();
    let verdict: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(verdict["verdict"], "cannot_tell", "{verdict}");
    let s = unsafe { ums::ums_journal_pending(handle, buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(s, ums::UMS_OK);
    unsafe { ums::ums_client_free(handle) };
}
