//! The client against the simulator and against misbehaving local servers:
//! defaults and normalisation on the wire, both auth schemes, the token
//! cache, and the classification of every kind of failure.

#[path = "common/refusing_port.rs"]
mod refusing_port;
use chinaums::clock::{BeijingTime, FixedClock, FixedNonce, SystemClock};
use chinaums::{Client, Config, ErrorKind};
use refusing_port::RefusingPort;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use ums_sandbox::{demo, Sandbox, SandboxConfig};

const UPDATE_PATH: &str = "/v1/netpay/bills/update-qrcode";

fn config(base_url: &str, extra: Value) -> Config {
    let mut c = json!({
        "environment": base_url,
        "appId": demo::APP_ID,
        "appKey": demo::APP_KEY,
        "mid": demo::MID,
        "tid": demo::TID,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    Config::from_json(&c.to_string()).unwrap()
}

fn client(base_url: &str, extra: Value) -> Client {
    Client::new(config(base_url, extra)).unwrap()
}

/// Warnings the client logged, with the thread that logged them. The
/// logger is process-wide and installed once; a call logs on the thread
/// that makes it, and every test runs on a thread of its own.
static WARNINGS: std::sync::Mutex<Vec<(std::thread::ThreadId, String)>> =
    std::sync::Mutex::new(Vec::new());

/// The retry pauses the client announced ("POST ...: <kind>; retrying in
/// N ms") while `call` ran on this thread: (kind, N) in order. The client
/// sleeps exactly the pause it announces, so this is the client's own
/// account of its retries, read without measuring time.
fn retry_pauses(call: impl FnOnce()) -> Vec<(String, u64)> {
    static LOGGER: std::sync::Once = std::sync::Once::new();
    LOGGER.call_once(|| {
        chinaums::log::set_logger(chinaums::log::Level::Warn, |_, line| {
            let me = std::thread::current().id();
            WARNINGS.lock().unwrap().push((me, line.to_string()));
        });
    });
    let me = std::thread::current().id();
    let mine = || -> Vec<String> {
        let all = WARNINGS.lock().unwrap();
        all.iter()
            .filter(|(id, _)| *id == me)
            .map(|(_, line)| line.clone())
            .collect()
    };
    let before = mine().len();
    call();
    mine()[before..]
        .iter()
        .filter_map(|line| {
            let (head, ms) = line.strip_suffix(" ms")?.split_once("; retrying in ")?;
            let kind = head.rsplit(": ").next()?.to_string();
            Some((kind, ms.parse().ok()?))
        })
        .collect()
}

/// Holds `stream` open until the peer closes it (or 60 s pass, so a test
/// that went wrong ends instead of hanging).
fn hold_until_closed(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut sink = [0u8; 4096];
    while let Ok(n) = stream.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

fn today() -> String {
    BeijingTime::from_unix_millis(chinaums::clock::Clock::now_unix_millis(&SystemClock)).date()
}

fn update_request(bill_no: &str) -> String {
    json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": bill_no,
        "billDate": today(),
        "totalAmount": "26",
        "goods": "[{\"goodsId\":\"001\",\"goodsName\":\"鸡蛋\",\"quantity\":\"10\",\"price\":\"1\"}]",
    })
    .to_string()
}

#[test]
fn seed_style_update_succeeds_then_the_same_bill_number_is_a_duplicate() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(&sandbox.base_url(), json!({}));
    let answer = client
        .update_qrcode(&update_request("31940000000000000000000001"))
        .unwrap();
    assert_eq!(answer.value["errCode"], "SUCCESS");
    assert!(answer.value["billQRCode"]
        .as_str()
        .unwrap()
        .ends_with(demo::SEED_QR_CODE_ID));
    assert!(
        answer.text.starts_with("{\"errCode\":\"SUCCESS\""),
        "the answer text is the gateway's own"
    );

    let e = client
        .update_qrcode(&update_request("31940000000000000000000001"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::GatewayRejected);
    assert_eq!(e.err_code.as_deref(), Some("DUP_ORDER"));
    assert_eq!(e.err_msg.as_deref(), Some("账单号重复"));
    assert_eq!(e.http_status, Some(200));
    assert_eq!(sandbox.stats().requests_to(UPDATE_PATH), 2);
}

#[test]
fn defaults_fill_only_absent_fields_and_values_are_normalised_on_the_wire() {
    let at = BeijingTime::parse_date_time("2026-01-02 03:04:05")
        .unwrap()
        .to_unix_millis();
    let client = Client::with_clock_and_nonces(
        config("https://gateway.invalid", json!({})),
        Arc::new(FixedClock(at)),
        Arc::new(FixedNonce("n".into())),
    )
    .unwrap();
    let request = json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "tid": "88880001",
        "billNo": "31940001",
        "billDate": "2026-01-02",
        "totalAmount": "26",
        "goods": "[{\"goodsId\":\"001\",\"price\":\"1\"}]",
        "retCommParams": {"foodOrderType": "pre_order"},
        "name": "张*三",
        "psPpt": "",
    });
    let prepared = client
        .prepare(
            &chinaums::ops::UPDATE_QRCODE,
            request.as_object().unwrap().clone(),
        )
        .unwrap();
    let sent: Value = serde_json::from_slice(&prepared.body).unwrap();
    assert_eq!(sent["requestTimestamp"], "2026-01-02 03:04:05");
    assert_eq!(sent["mid"], demo::MID, "filled from config");
    assert_eq!(sent["tid"], "88880001", "a given value is never replaced");
    assert_eq!(sent["instMid"], "QRPAYDEFAULT");
    assert_eq!(sent["totalAmount"], 26);
    assert_eq!(sent["goods"][0]["goodsId"], "001");
    assert_eq!(sent["retCommParams"]["foodOrderType"], "pre_order");
    assert_eq!(sent["name"], "5bygKuS4iQ==");
    assert_eq!(
        sent["psPpt"], "",
        "empty optional values pass through unchanged"
    );
    // The caller's key order is kept; defaults come after.
    let keys: Vec<&str> = sent
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(&keys[..3], &["qrCodeId", "tid", "billNo"]);
    assert_eq!(
        prepared.url,
        "https://gateway.invalid/v1/netpay/bills/update-qrcode"
    );
}

#[test]
fn data_envelope_is_prepared_inside_and_sent_wrapped() {
    let client = client("https://gateway.invalid", json!({}));
    let request = json!({"data": {"qrCodeId": demo::SEED_QR_CODE_ID, "totalAmount": "5"}});
    let prepared = client
        .prepare_call("update-qrcode", &request.to_string(), client.now())
        .unwrap();
    let sent: Value = serde_json::from_slice(&prepared.body).unwrap();
    assert_eq!(sent.as_object().unwrap().len(), 1);
    assert_eq!(sent["data"]["totalAmount"], 5);
    assert_eq!(sent["data"]["mid"], demo::MID);
    let bad = json!({"data": {"qrCodeId": demo::SEED_QR_CODE_ID, "walletOption": "X"}});
    let e = client
        .prepare_call("update-qrcode", &bad.to_string(), client.now())
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("walletOption"));
}

#[test]
fn validation_fails_before_anything_is_sent() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(&sandbox.base_url(), json!({}));
    for (request, field) in [
        (json!({"billNo": "31940001"}), "qrCodeId"),
        (
            json!({"qrCodeId": "1", "totalAmount": "1000001"}),
            "totalAmount",
        ),
        // A missing billDate is filled (today in Beijing); a given one is
        // never replaced, so an empty one is refused.
        (
            json!({"qrCodeId": "1", "billNo": "31940001", "billDate": ""}),
            "billDate",
        ),
        (
            json!({"qrCodeId": "1", "billDate": "2026-02-30"}),
            "billDate",
        ),
        (
            json!({"qrCodeId": "1", "expireTime": "2026-01-01T00:00:00"}),
            "expireTime",
        ),
        (
            json!({"qrCodeId": "1", "certType": "DRIVING_LICENCE"}),
            "certType",
        ),
        (
            json!({"qrCodeId": "1", "installmentNumber": "10"}),
            "installmentNumber",
        ),
        (
            json!({"qrCodeId": "1", "fixBuyer": "T", "name": "张三"}),
            "certNo",
        ),
        (json!({"qrCodeId": "1", "goods": "not json"}), "goods"),
        (
            json!({"qrCodeId": "1", "subMchntInfo": {"subMerId": "x".repeat(21)}}),
            "subMchntInfo.subMerId",
        ),
        (json!({"qrCodeId": "1", "mid": "12345"}), "mid"),
        (json!({"qrCodeId": "1", "msgId": "x".repeat(65)}), "msgId"),
    ] {
        let e = client.update_qrcode(&request.to_string()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation, "{request}: {e}");
        assert_eq!(e.field.as_deref(), Some(field), "{request}: {e}");
        assert!(e.message.contains(field));
    }
    assert_eq!(
        sandbox.stats().total_requests(),
        0,
        "nothing reached the gateway"
    );
    let e = client.update_qrcode("{\"qrCodeId\":").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidJson);
}

#[test]
fn token_mode_shares_one_token_between_threads() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = Arc::new(client(&sandbox.base_url(), json!({"auth": "token"})));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || {
                for j in 0..5 {
                    let bill = format!("3194{:04}{:04}", i, j);
                    client
                        .update_qrcode(&update_request(&bill))
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = sandbox.stats();
    assert_eq!(
        stats.tokens_issued, 1,
        "single flight: one token for 80 calls"
    );
    assert_eq!(stats.requests_to(UPDATE_PATH), 80);
    assert_eq!(stats.auth_failures, 0);
}

/// Fetches a token directly, as another process of the same app would.
fn fetch_token_elsewhere(base_url: &str, n: u32) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let now = BeijingTime::from_unix_millis(chinaums::clock::Clock::now_unix_millis(&SystemClock))
        .compact();
    let nonce = format!("other-process-{n}");
    let body = json!({
        "appId": demo::APP_ID, "timestamp": now, "nonce": nonce, "signMethod": "SHA256",
        "signature": chinaums::sign::token_signature(demo::APP_ID, demo::APP_KEY, &now, &nonce),
    });
    let mut resp = agent
        .post(format!("{base_url}/v1/token/access"))
        .content_type("application/json")
        .send(body.to_string())
        .unwrap();
    let answer: Value = serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(answer["errCode"], "0000");
}

#[test]
fn a_rejected_token_is_refreshed_once_and_the_request_resent_once() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(&sandbox.base_url(), json!({"auth": "token"}));
    client
        .update_qrcode(&update_request("31940000000000000000000101"))
        .unwrap();
    // Ten more tokens for the same app push the client's token out (limit 10).
    for n in 0..10 {
        fetch_token_elsewhere(&sandbox.base_url(), n);
    }
    let before = sandbox.stats();
    client
        .update_qrcode(&update_request("31940000000000000000000102"))
        .unwrap();
    let after = sandbox.stats();
    assert_eq!(
        after.requests_to(UPDATE_PATH) - before.requests_to(UPDATE_PATH),
        2,
        "sent, refused, resent"
    );
    assert_eq!(
        after.tokens_issued - before.tokens_issued,
        1,
        "exactly one refresh"
    );
    assert_eq!(after.auth_failures - before.auth_failures, 1);
}

#[test]
fn a_token_refused_at_the_token_endpoint_is_reported_and_nothing_business_is_sent() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(
        &sandbox.base_url(),
        json!({"auth": "token", "appKey": "wrong-key"}),
    );
    let e = client
        .update_qrcode(&update_request("31940000000000000000000201"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TokenRejected);
    assert_eq!(e.err_code.as_deref(), Some("1002"));
    assert!(!e.to_string().contains("wrong-key"));
    assert_eq!(sandbox.stats().requests_to(UPDATE_PATH), 0);
}

#[test]
fn a_bad_body_signature_is_a_rejection_and_is_not_resent() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(&sandbox.base_url(), json!({"appKey": "wrong-key"}));
    let e = client
        .update_qrcode(&update_request("31940000000000000000000301"))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.http_status),
        (ErrorKind::GatewayRejected, Some(401))
    );
    assert_eq!(e.err_code.as_deref(), Some("BAD_SIGN"));
    assert_eq!(sandbox.stats().requests_to(UPDATE_PATH), 1);
}

#[test]
fn generic_call_uses_the_same_signing_and_classification() {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client(&sandbox.base_url(), json!({}));
    let answer = client
        .call(UPDATE_PATH, &update_request("31940000000000000000000401"))
        .unwrap();
    assert_eq!(answer.value["errCode"], "SUCCESS");
    let e = client.call("/v1/netpay/no-such-service", "{}").unwrap_err();
    assert_eq!(
        (e.kind, e.http_status),
        (ErrorKind::GatewayRejected, Some(404))
    );
    assert_eq!(e.err_code.as_deref(), Some("NO_SERVICE"));
    let e = client.call("/v1/../etc", "{}").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn connection_refused_is_a_local_failure_nothing_sent() {
    let refusing = RefusingPort::new();
    let client = client(&refusing.url(), json!({}));
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connect, "{e}");
    assert!(e.kind.nothing_sent());
}

/// A one-connection server that reads a request and then does `respond`.
fn misbehaving_server(respond: impl FnOnce(std::net::TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 65536];
            let mut seen = Vec::new();
            // Read until the body has arrived (headers end + Content-Length).
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map(|v| v.trim().parse().unwrap())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            respond(stream);
        }
    });
    url
}

fn answer_with(
    status_line: &'static str,
    content_type: &'static str,
    body: &'static str,
) -> String {
    misbehaving_server(move |mut s| {
        let _ = write!(
            s,
            "HTTP/1.1 {status_line}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    })
}

#[test]
fn failures_after_the_request_may_have_arrived_are_outcome_unknown() {
    let cases: Vec<(&str, String)> = vec![
        ("closed without answering", misbehaving_server(drop)),
        (
            "HTTP 502 with HTML",
            answer_with("502 Bad Gateway", "text/html", "<html>bad gateway</html>"),
        ),
        (
            "HTTP 200 that is not JSON",
            answer_with("200 OK", "text/html", "<html>ok</html>"),
        ),
        (
            "JSON without errCode",
            answer_with("200 OK", "application/json", "{\"ok\":true}"),
        ),
        (
            "errCode TIMEOUT",
            answer_with(
                "200 OK",
                "application/json",
                "{\"errCode\":\"TIMEOUT\",\"errMsg\":\"x\"}",
            ),
        ),
        (
            "errCode ORDER_PROCESSING",
            answer_with(
                "200 OK",
                "application/json",
                "{\"errCode\":\"ORDER_PROCESSING\"}",
            ),
        ),
        (
            "truncated answer",
            misbehaving_server(|mut s| {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"errCode\":\"SUC");
            }),
        ),
    ];
    for (what, url) in cases {
        let client = client(&url, json!({}));
        let e = client
            .update_qrcode(&update_request("31940001"))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{what}: {e}");
        assert!(e.is_outcome_unknown());
    }
}

#[test]
fn a_gateway_that_hangs_times_out_as_outcome_unknown() {
    // The server reads the request, then holds the connection (no answer,
    // no close) until the test lets go, which it does only once the call
    // has returned: the call can only have ended at its own deadline. If
    // the client waited for the server instead, the server's 60 s guard
    // would end the hold and say so.
    let (release, released) = mpsc::channel::<()>();
    let (held_tx, held) = mpsc::channel();
    let url = misbehaving_server(move |s| {
        let until_released = released.recv_timeout(Duration::from_secs(60)).is_ok();
        drop(s);
        held_tx.send(until_released).unwrap();
    });
    let client = client(&url, json!({"timeoutMs": 300}));
    let started = Instant::now();
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    let elapsed = started.elapsed();
    let _ = release.send(()); // the server may have stopped holding already
    assert!(
        held.recv().unwrap(),
        "the call returned only after the server stopped holding: timeoutMs was not honoured"
    );
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
    assert!(
        e.message.contains("timeoutMs"),
        "the deadline ended it: {e}"
    );
    // A sanity bound only, 10x the 300 ms deadline; the proof is the order
    // above.
    assert!(
        elapsed < Duration::from_secs(3),
        "timeoutMs 300 bounds the call: {elapsed:?}"
    );
}

#[test]
fn an_oversized_answer_is_cut_off_and_outcome_unknown() {
    let url = misbehaving_server(|mut s| {
        let body = format!(
            "{{\"errCode\":\"SUCCESS\",\"pad\":\"{}\"}}",
            "x".repeat(4096)
        );
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    });
    let client = client(&url, json!({"maxResponseBytes": 1024}));
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "{e}");
}

#[test]
fn a_tls_handshake_failure_is_a_local_failure_nothing_sent() {
    // A plain-text HTTP server where TLS is expected: it answers the
    // ClientHello with an HTTP response, and the handshake fails.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            // Open until the client gives up on it: the client reads this
            // answer, not a reset.
            hold_until_closed(s);
        }
    });
    let client = client(&url, json!({"connectTimeoutMs": 2000}));
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Tls, "{e}");
}

/// The library never picks a gateway by itself: no default environment, no
/// embedded simulator, no demo credentials (they live with `ums-sandbox`).
#[test]
fn a_client_never_picks_a_gateway_by_itself() {
    let e = Client::from_json("{}").unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::Config, Some("appId"))
    );
    for config in [
        json!({"appId": demo::APP_ID, "appKey": demo::APP_KEY}),
        json!({"appId": demo::APP_ID, "appKey": demo::APP_KEY, "environment": "sandbox"}),
    ] {
        let e = Client::from_json(&config.to_string()).unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::Config, Some("environment")),
            "{config}"
        );
    }
}

#[test]
fn sandbox_with_a_fixed_clock_rejects_stale_signatures() {
    // The simulator's clock is a day ahead: our timestamp is outside its window.
    let tomorrow = chinaums::clock::Clock::now_unix_millis(&SystemClock) + 86_400_000;
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(FixedClock(tomorrow)),
        ..Default::default()
    })
    .unwrap();
    let client = client(&sandbox.base_url(), json!({}));
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    assert_eq!(e.err_code.as_deref(), Some("ABNORMAL_REQUEST_TIME"), "{e}");
    assert_eq!(e.http_status, Some(401));
}

#[test]
fn connections_are_kept_alive_and_reused() {
    // A server that accepts exactly one connection and answers three
    // requests on it: the calls succeed only if the client reuses it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        drop(listener);
        let mut pending = Vec::new();
        let mut buf = [0u8; 8192];
        let mut answered = 0;
        while answered < 3 {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "the client closed the kept-alive connection");
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&pending[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map(|v| v.trim().parse().unwrap())
                    .unwrap_or(0);
                if pending.len() < end + 4 + len {
                    break;
                }
                pending.drain(..end + 4 + len);
                let body = r#"{"errCode":"SUCCESS"}"#;
                write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                    .unwrap();
                answered += 1;
            }
        }
        answered
    });
    let client = client(&url, json!({"connectTimeoutMs": 1000}));
    for i in 0..3 {
        client
            .update_qrcode(&update_request(&format!("3194000{i}")))
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    assert_eq!(server.join().unwrap(), 3);
}

#[test]
fn ca_file_must_be_a_readable_pem_file() {
    let base = json!({"environment": "test", "appId": "a", "appKey": "k"});
    let with = |path: &str| {
        let mut c = base.clone();
        c["caFile"] = json!(path);
        Client::from_json(&c.to_string())
            .map(|_| ())
            .map_err(Box::new)
    };
    let e = with("/nonexistent/ca.pem").unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::Config, Some("caFile"))
    );
    let not_pem = std::env::temp_dir().join(format!("ums-not-pem-{}.txt", std::process::id()));
    std::fs::write(&not_pem, "hello").unwrap();
    let e = with(not_pem.to_str().unwrap()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("caFile"));
    std::fs::remove_file(not_pem).unwrap();
    let e = Client::from_json(
        &json!({"environment": "test", "appId": "a", "appKey": "k", "proxy": "not a url"})
            .to_string(),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("proxy"));
}

#[test]
fn a_read_only_query_is_retried_but_a_money_moving_call_never_is() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A server that reads each request and hangs up without answering.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let client = client(&url, json!({}));
    let query = json!({"billNo": "31940001", "billDate": "2026-01-02"});
    let e = client
        .execute(
            &chinaums::ops::QUERY_BILL,
            query.as_object().unwrap().clone(),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "a query is tried three times"
    );

    // The counts are final when the call returns, without waiting: the
    // server counts a request before it hangs up, and the client cannot
    // finish an attempt (nor start another) before the hang-up.
    seen.store(0, Ordering::SeqCst);
    let e = client
        .update_qrcode(&update_request("31940001"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutcomeUnknown);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "a money-moving call is never resent"
    );
}

#[test]
fn the_deadline_bounds_the_whole_call_retries_included() {
    // Connection refused is retried twice, after pauses of 100-150 ms and
    // 200-300 ms (50 % jitter), unless the deadline leaves no room for them.
    // The pauses are the client's own account (its log), not measured.
    let refusing = RefusingPort::new();
    let connect_fails = |client: &Client| {
        let e = client
            .update_qrcode(&update_request("31940001"))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connect, "{e}");
        assert!(e.kind.nothing_sent());
    };
    let patient = client(&refusing.url(), json!({"timeoutMs": 5000}));
    let pauses = retry_pauses(|| connect_fails(&patient));
    assert_eq!(pauses.len(), 2, "two retries with backoff: {pauses:?}");
    assert!(
        pauses.iter().all(|(kind, _)| kind == "connect"),
        "{pauses:?}"
    );
    assert!(
        (100..=150).contains(&pauses[0].1) && (200..=300).contains(&pauses[1].1),
        "{pauses:?}"
    );
    // 150 ms leave room for the first pause at most, never for both: a
    // client that ignored its deadline would pause 300 ms or more.
    let hasty = client(&refusing.url(), json!({"timeoutMs": 150}));
    let pauses = retry_pauses(|| connect_fails(&hasty));
    let paused: u64 = pauses.iter().map(|(_, ms)| ms).sum();
    assert!(
        pauses.len() <= 1 && paused < 150,
        "the pauses must fit in the 150 ms deadline: {pauses:?}"
    );
}
