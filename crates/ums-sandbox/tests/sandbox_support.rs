//! Helpers shared by the `sandbox_*` tests (included with `#[path]`).
#![allow(dead_code)]

use chinaums::clock::{BeijingTime, Clock, FixedClock};
use chinaums::sign::{sign_body, token_signature};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use ums_sandbox::{demo, Sandbox, SandboxConfig};

/// 2020-02-26 13:36:00 Beijing time: the seed page's requestTimestamp.
pub const NOW: i64 = 1_582_695_360_000;
pub const GET_QRCODE: &str = "/v1/netpay/bills/get-qrcode";
pub const UPDATE_QRCODE: &str = "/v1/netpay/bills/update-qrcode";
pub const TOKEN: &str = "/v1/token/access";

/// A clock the test moves by hand.
pub struct StepClock(AtomicI64);

impl StepClock {
    pub fn new(at: i64) -> Arc<StepClock> {
        Arc::new(StepClock(AtomicI64::new(at)))
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for StepClock {
    fn now_unix_millis(&self) -> i64 {
        self.now()
    }
}

/// A simulator whose clock stands still at [`NOW`].
pub fn fixed_sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        clock: Arc::new(FixedClock(NOW)),
        ..SandboxConfig::default()
    })
    .expect("sandbox starts")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// A nonce unique within the test process.
pub fn nonce() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("n{:031}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn header_ts(now_ms: i64) -> String {
    BeijingTime::from_unix_millis(now_ms).compact()
}

pub fn request_ts(now_ms: i64) -> String {
    BeijingTime::from_unix_millis(now_ms).date_time()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    pub json: Value,
}

/// POSTs `body` with the given headers (Content-Type is not added).
pub fn post(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = agent.post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.send(body).expect("transport works");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.body_mut().read_to_string().expect("body is text");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        text,
        json,
    }
}

pub fn get(agent: &ureq::Agent, url: &str) -> Reply {
    let mut response = agent.get(url).call().expect("transport works");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body is text");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type: String::new(),
        text,
        json,
    }
}

/// POSTs with an OPEN-BODY-SIG header for the demo app, timestamp `now_ms`.
pub fn post_signed(
    agent: &ureq::Agent,
    sandbox: &Sandbox,
    path: &str,
    body: &str,
    now_ms: i64,
) -> Reply {
    let auth = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(now_ms),
        &nonce(),
        body.as_bytes(),
    );
    post(
        agent,
        &format!("{}{path}", sandbox.base_url()),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json;charset=UTF-8"),
        ],
        body,
    )
}

/// POSTs with an OPEN-ACCESS-TOKEN header.
pub fn post_with_token(
    agent: &ureq::Agent,
    sandbox: &Sandbox,
    path: &str,
    body: &str,
    token: &str,
) -> Reply {
    let auth = format!("OPEN-ACCESS-TOKEN AccessToken={token}");
    post(
        agent,
        &format!("{}{path}", sandbox.base_url()),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body,
    )
}

pub fn token_request(now_ms: i64, nonce: &str) -> Value {
    let ts = header_ts(now_ms);
    json!({
        "appId": demo::APP_ID,
        "timestamp": ts,
        "nonce": nonce,
        "signMethod": "SHA256",
        "signature": token_signature(demo::APP_ID, demo::APP_KEY, &ts, nonce),
    })
}

pub fn ask_token(agent: &ureq::Agent, sandbox: &Sandbox, body: &Value) -> Reply {
    post(
        agent,
        &format!("{}{TOKEN}", sandbox.base_url()),
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
}

/// Issues a token and returns it.
pub fn new_token(agent: &ureq::Agent, sandbox: &Sandbox, now_ms: i64) -> String {
    let reply = ask_token(agent, sandbox, &token_request(now_ms, &nonce()));
    assert_eq!(reply.json["errCode"], "0000", "{}", reply.text);
    reply.json["accessToken"]
        .as_str()
        .expect("token")
        .to_string()
}

/// The common request fields for the demo merchant at `now_ms`, plus `extra`.
pub fn bills_body(now_ms: i64, extra: Value) -> String {
    let mut body = json!({
        "requestTimestamp": request_ts(now_ms),
        "mid": demo::MID,
        "tid": demo::TID,
        "instMid": demo::INST_MID,
    });
    for (key, value) in extra.as_object().expect("object") {
        body[key] = value.clone();
    }
    body.to_string()
}

/// One HTTP response read from a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A raw keep-alive connection.
pub struct Conn {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Conn {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Reads one response; `None` if the connection closed first.
    pub fn response(&mut self) -> Option<RawResponse> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).ok()?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':')?;
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("numeric length"))
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).ok()?;
        Some(RawResponse {
            status,
            headers,
            body: String::from_utf8(body).expect("utf-8 body"),
        })
    }

    /// True when the server has closed the connection (EOF or reset).
    /// A read that times out is not a close: the server kept the
    /// connection open for the whole read timeout (10 s, a limit that only
    /// turns a hang into a failure).
    pub fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(n) => n == 0,
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }

    /// Closes this side for writing and answers whether the server then
    /// closed the connection (see [`Conn::is_closed`]).
    pub fn close_and_wait(&mut self) -> bool {
        let _ = self.writer.shutdown(std::net::Shutdown::Write);
        self.is_closed()
    }
}

/// A complete signed request for a raw connection.
pub fn signed_request_bytes(path: &str, body: &str, now_ms: i64, extra_headers: &str) -> Vec<u8> {
    let auth = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(now_ms),
        &nonce(),
        body.as_bytes(),
    );
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}
