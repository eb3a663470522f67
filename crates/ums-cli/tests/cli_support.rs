//! Helpers shared by the `cli_*` tests (included with `#[path]`): run the
//! built `ums` binary with a clean `UMS_*` environment, temporary files, a
//! fake gateway for answers the simulator never gives.
#![allow(dead_code)]

use chinaums::clock::{BeijingTime, Clock, SystemClock};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use ums_sandbox::{demo, Sandbox, SandboxConfig};

pub const BIN: &str = env!("CARGO_BIN_EXE_ums");

/// What one run of `ums` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn stdout_json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
    pub fn stderr_json(&self) -> Value {
        serde_json::from_str(&self.stderr)
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {self:?}"))
    }
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }
}

/// Runs `ums args...` with only the given `UMS_*` variables set.
pub fn ums(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(BIN);
    command.args(args);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("UMS_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the ums binary starts");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        // A separate thread, so a child that does not read cannot block us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let output = child.wait_with_output().expect("ums runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The demo app's credentials and merchant, as environment variables.
pub fn demo_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("UMS_APP_ID", demo::APP_ID),
        ("UMS_APP_KEY", demo::APP_KEY),
        ("UMS_MID", demo::MID),
        ("UMS_TID", demo::TID),
    ]
}

pub fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default()).expect("sandbox starts")
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn create() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ums-cli-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `bytes` to `name` in the directory; returns the path as text.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn now() -> BeijingTime {
    BeijingTime::from_unix_millis(SystemClock.now_unix_millis())
}

/// A bill number unique within the test process (and across runs: time based).
pub fn bill_no() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "T{}{:03}",
        &now().compact()[2..],
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An update-qrcode request for the seed code with a new bill.
pub fn update_request(bill_no: &str) -> String {
    serde_json::json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": bill_no,
        "billDate": now().date(),
        "totalAmount": "26",
        "billDesc": "cli test",
    })
    .to_string()
}

/// A one-request-at-a-time HTTP server that answers every request with
/// `status` and `body`, for answers the simulator never gives. Returns its
/// base URL; the thread ends with the test process.
pub fn fake_gateway(status: u16, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then Content-Length bytes of body.
            let expected = loop {
                let Ok(n) = stream.read(&mut buf) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                request.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&request, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break Some(end + 4 + length);
                }
            };
            let Some(expected) = expected else { continue };
            while request.len() < expected {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    url
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn vectors() -> Value {
    serde_json::from_str(include_str!("../../../tests/data/vectors.json"))
        .expect("vectors.json parses")
}
