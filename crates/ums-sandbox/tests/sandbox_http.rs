//! The hand-written HTTP/1.1 server: framing limits, keep-alive, bad input,
//! control endpoints, connection cap, idle timeout and shutdown.

#[path = "sandbox_support.rs"]
mod support;

use chinaums::clock::FixedClock;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use ums_sandbox::{Sandbox, SandboxConfig};

const HEALTH: &[u8] = b"GET /_sandbox/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// Sends `bytes` on a fresh connection and reads one response.
fn exchange(sandbox: &Sandbox, bytes: &[u8]) -> Option<RawResponse> {
    let mut conn = Conn::open(sandbox.addr());
    conn.send(bytes);
    conn.response()
}

fn assert_still_serving(sandbox: &Sandbox) {
    let reply = exchange(sandbox, HEALTH).expect("answered");
    assert_eq!((reply.status, reply.body.as_str()), (200, "{\"ok\":true}"));
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let sandbox = fixed_sandbox();
    let mut conn = Conn::open(sandbox.addr());
    conn.send(HEALTH);
    let first = conn.response().expect("first answer");
    assert_eq!(first.status, 200);
    assert_eq!(first.header("connection"), Some("keep-alive"));
    assert_eq!(
        first.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    assert_eq!(first.header("content-length"), Some("11"));

    let body = bills_body(NOW, json!({}));
    conn.send(&signed_request_bytes(GET_QRCODE, &body, NOW, ""));
    let second = conn.response().expect("second answer");
    assert_eq!(second.status, 200);
    assert_eq!(second.json()["errCode"], "SUCCESS", "{}", second.body);

    // Pipelined: two requests in one write, two answers in order.
    let mut both = signed_request_bytes(GET_QRCODE, &body, NOW, "");
    both.extend_from_slice(&signed_request_bytes(
        "/v1/netpay/bills/nothing",
        &body,
        NOW,
        "",
    ));
    conn.send(&both);
    assert_eq!(conn.response().unwrap().json()["errCode"], "SUCCESS");
    assert_eq!(conn.response().unwrap().status, 404);
    assert_eq!(sandbox.stats().requests_to(GET_QRCODE), 2);
}

#[test]
fn connection_close_is_honoured() {
    let sandbox = fixed_sandbox();
    let mut conn = Conn::open(sandbox.addr());
    conn.send(b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let reply = conn.response().unwrap();
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(conn.is_closed());

    // HTTP/1.0 closes by default.
    let mut conn = Conn::open(sandbox.addr());
    conn.send(b"GET /_sandbox/health HTTP/1.0\r\n\r\n");
    assert_eq!(conn.response().unwrap().status, 200);
    assert!(conn.is_closed());
}

#[test]
fn oversized_body_is_413_and_the_answer_survives() {
    let sandbox = fixed_sandbox();
    // Declared too large: refused before reading.
    let reply = exchange(
        &sandbox,
        b"POST /v1/netpay/bills/get-qrcode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048577\r\n\r\n{",
    )
    .expect("answered");
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["errCode"], "BAD_REQUEST");
    assert_eq!(reply.header("connection"), Some("close"));

    // Actually sent: the client still reads the 413 (no reset).
    let mut conn = Conn::open(sandbox.addr());
    let big = vec![b' '; 2 * 1024 * 1024];
    let head = format!(
        "POST {GET_QRCODE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        big.len()
    );
    conn.send(head.as_bytes());
    let _ = conn.writer.write_all(&big); // may fail once the server has closed
    assert_eq!(conn.response().expect("413 readable").status, 413);

    // Exactly 1 MiB is allowed (and is then not a JSON object).
    let body = format!("{{\"x\":\"{}\"}}", "a".repeat(1024 * 1024 - 8));
    assert_eq!(body.len(), 1024 * 1024);
    let reply = exchange(&sandbox, &signed_request_bytes(GET_QRCODE, &body, NOW, "")).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["errCode"], "BAD_REQUEST");
    assert_eq!(sandbox.stats().malformed_requests, 2);
}

#[test]
fn chunked_and_lengthless_posts_are_refused() {
    let sandbox = fixed_sandbox();
    let chunked = exchange(
        &sandbox,
        b"POST /v1/netpay/bills/get-qrcode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(chunked.status, 411);
    let no_length = exchange(
        &sandbox,
        b"POST /v1/netpay/bills/get-qrcode HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n",
    )
    .unwrap();
    assert_eq!(no_length.status, 411);
    let two_lengths = exchange(
        &sandbox,
        b"POST /v1/token/access HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    )
    .unwrap();
    assert_eq!(two_lengths.status, 400);
    let stats = sandbox.stats();
    assert_eq!(stats.malformed_requests, 3);
    assert_eq!(stats.requests_to(GET_QRCODE), 0, "refused before routing");
}

#[test]
fn garbage_is_answered_with_4xx_and_the_server_keeps_serving() {
    let sandbox = fixed_sandbox();
    let cases: Vec<(&[u8], u16)> = vec![
        (b"HELLO\r\n\r\n", 400),
        (b"GET\r\n\r\n", 400),
        (b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET /_sandbox/health HTTP/1.1\r\n\r\n", 400), // no Host
        (b"GET /_sandbox/health HTTP/3.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
        (b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n folded: y\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400), // a TLS ClientHello
        (b"\xff\xfe\x00\x00\r\n\r\n", 400),
        (b"POST /v1/token/access HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 1\r\n\r\n", 417),
    ];
    for (bytes, status) in &cases {
        let reply = exchange(&sandbox, bytes).unwrap_or_else(|| panic!("no answer to {bytes:?}"));
        assert_eq!(
            reply.status,
            *status,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(reply.header("connection"), Some("close"));
    }
    assert_eq!(sandbox.stats().malformed_requests, cases.len() as u64);
    assert_still_serving(&sandbox);
}

#[test]
fn oversized_head_is_431() {
    let sandbox = fixed_sandbox();
    let long = format!(
        "GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nX-Long: {}\r\n\r\n",
        "a".repeat(17 * 1024)
    );
    assert_eq!(exchange(&sandbox, long.as_bytes()).unwrap().status, 431);
    // Never terminated: still refused once it passes 16 KiB.
    let endless = format!(
        "GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nX-Long: {}",
        "a".repeat(20 * 1024)
    );
    assert_eq!(exchange(&sandbox, endless.as_bytes()).unwrap().status, 431);
    let many: String = (0..150).map(|i| format!("X-{i}: v\r\n")).collect();
    let many = format!("GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_eq!(exchange(&sandbox, many.as_bytes()).unwrap().status, 431);
    assert_still_serving(&sandbox);
}

#[test]
fn random_bytes_never_break_the_server() {
    let sandbox = fixed_sandbox();
    let mut seed: u64 = 0x5EED;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let pieces: [&[u8]; 8] = [
        b"POST ",
        b"/v1/netpay/bills/get-qrcode",
        b" HTTP/1.1\r\n",
        b"Host: x\r\n",
        b"Content-Length: 5\r\n",
        b"\r\n",
        b"{\"a\":",
        b"\x00\xff",
    ];
    for _ in 0..60 {
        let mut bytes = Vec::new();
        for _ in 0..(next() % 8 + 1) {
            bytes.extend_from_slice(pieces[(next() % 8) as usize]);
        }
        let mut stream = TcpStream::connect(sandbox.addr()).unwrap();
        // The server answers what it can and closes once our side is shut:
        // the read ends with the server, the limit only turns a hang into a
        // failure.
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let _ = stream.write_all(&bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut answer = Vec::new();
        if let Err(e) = stream.read_to_end(&mut answer) {
            assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the server neither answered nor closed: {e}"
            );
        }
        if !answer.is_empty() {
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 "), "{text}");
        }
    }
    assert_still_serving(&sandbox);
}

#[test]
fn expect_100_continue_is_honoured() {
    let sandbox = fixed_sandbox();
    let body = bills_body(NOW, json!({}));
    let request = signed_request_bytes(GET_QRCODE, &body, NOW, "Expect: 100-continue\r\n");
    let split = request.len() - body.len();
    let mut conn = Conn::open(sandbox.addr());
    conn.send(&request[..split]);
    let interim = conn.response().expect("100 Continue");
    assert_eq!(interim.status, 100);
    conn.send(&request[split..]);
    let reply = conn.response().expect("final answer");
    assert_eq!(reply.json()["errCode"], "SUCCESS", "{}", reply.body);
}

#[test]
fn control_endpoints() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let health = get(&agent, &format!("{}/_sandbox/health", sandbox.base_url()));
    assert_eq!(
        (health.status, health.json.clone()),
        (200, json!({"ok": true}))
    );

    post_signed(
        &agent,
        &sandbox,
        GET_QRCODE,
        &bills_body(NOW, json!({})),
        NOW,
    );
    new_token(&agent, &sandbox, NOW);
    let stats = get(&agent, &format!("{}/_sandbox/stats", sandbox.base_url()));
    assert_eq!(stats.status, 200);
    assert_eq!(stats.json["requests"][GET_QRCODE], 1);
    assert_eq!(stats.json["requests"][TOKEN], 1);
    assert_eq!(stats.json["tokensIssued"], 1);
    assert_eq!(stats.json["tokensInvalidated"], 0);
    assert_eq!(stats.json["authFailures"], 0);
    assert!(
        stats.json["requests"].get("/_sandbox/health").is_none(),
        "control calls are not counted"
    );
    assert_eq!(stats.json, sandbox.stats().to_json());

    let unknown = get(&agent, &format!("{}/_sandbox/nothing", sandbox.base_url()));
    assert_eq!(unknown.status, 404);
    let wrong_method = post(
        &agent,
        &format!("{}/_sandbox/health", sandbox.base_url()),
        &[],
        "",
    );
    assert_eq!(wrong_method.status, 405);
}

#[test]
fn connections_beyond_the_cap_are_closed() {
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(FixedClock(NOW)),
        max_connections: 2,
        ..SandboxConfig::default()
    })
    .unwrap();
    let mut a = Conn::open(sandbox.addr());
    let mut b = Conn::open(sandbox.addr());
    for conn in [&mut a, &mut b] {
        conn.send(HEALTH);
        assert_eq!(conn.response().unwrap().status, 200);
    }
    let mut c = Conn::open(sandbox.addr());
    c.send(HEALTH);
    assert!(
        c.response().is_none(),
        "third connection is closed without an answer"
    );
    assert_eq!(sandbox.stats().connections_refused, 1);

    // Closing one makes room again. The server's side of a connection
    // closes only once its slot is given back, so when `a` sees the close
    // the slot is free: the very next connection is served.
    assert!(a.close_and_wait(), "the server closes after the client");
    let mut d = Conn::open(sandbox.addr());
    d.send(HEALTH);
    assert_eq!(d.response().expect("a slot is free").status, 200);
    assert_eq!(sandbox.stats().connections_refused, 1);
    b.send(HEALTH);
    assert_eq!(b.response().unwrap().status, 200);
}

#[test]
fn idle_connections_are_closed() {
    let sandbox = Sandbox::start(SandboxConfig {
        idle_timeout: Duration::from_millis(200),
        ..SandboxConfig::default()
    })
    .unwrap();
    let mut conn = Conn::open(sandbox.addr());
    conn.send(HEALTH);
    assert_eq!(conn.response().unwrap().status, 200);
    // Closed by the server, not timed out on our side: `is_closed` reads
    // for at most 10 s, 50x the idle timeout (a sanity bound only).
    assert!(conn.is_closed());
}

#[test]
fn shutdown_stops_accepting_and_closes_live_connections() {
    // A clock no other simulator of the test runs has: its time, in the
    // answer of GET /_sandbox/clock, tells this simulator from any other
    // that may take the freed port (another test's, another process').
    let at = chinaums::clock::BeijingTime::parse_date_time("2031-07-15 01:02:03")
        .unwrap()
        .to_unix_millis();
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(FixedClock(at)),
        ..SandboxConfig::default()
    })
    .unwrap();
    const CLOCK: &[u8] = b"GET /_sandbox/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let addr = sandbox.addr();
    let mut conn = Conn::open(addr);
    conn.send(CLOCK);
    let before = conn.response().unwrap();
    assert!(
        before.body.contains("2031-07-15 01:02:03"),
        "{}",
        before.body
    );
    sandbox.shutdown();
    assert!(conn.is_closed());
    if let Ok(stream) = TcpStream::connect(addr) {
        // Someone else has taken the port: whoever it is, it is not us.
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut other = Conn {
            reader: std::io::BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        other.send(CLOCK);
        if let Some(reply) = other.response() {
            assert!(!reply.body.contains("2031-07-15 01:02:03"), "still serving");
        }
    }
}

#[test]
fn concurrent_clients_are_all_served_and_counted() {
    let sandbox = Arc::new(fixed_sandbox());
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let sandbox = Arc::clone(&sandbox);
            std::thread::spawn(move || {
                let agent = agent();
                for _ in 0..10 {
                    let body = bills_body(NOW, json!({"totalAmount": 1}));
                    let reply = post_signed(&agent, &sandbox, GET_QRCODE, &body, NOW);
                    assert_eq!(reply.json["errCode"], "SUCCESS", "{}", reply.text);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    let stats = sandbox.stats();
    assert_eq!(stats.requests_to(GET_QRCODE), 160);
    assert_eq!(stats.total_requests(), 160);
    assert_eq!(stats.auth_failures, 0);
}
