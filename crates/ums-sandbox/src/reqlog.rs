//! The request log: the last requests to ChinaUMS paths (operation,
//! signature verdict, errCode, duration) for the console, and one line per
//! request on stderr when asked (`ums-sandbox` does, unless `--quiet`).
//!
//! Neither ever holds a key, a signature, a token or a request body: only
//! the method, the path, the appId, the verdict, the errCode and the time.
//! Lines go to stderr through a bounded queue and a thread of their own, so
//! that a slow or blocked stderr never slows a request down: when the queue
//! is full, lines are dropped and counted.

use super::http::{Answer, Request};
use chinaums::clock::BeijingTime;
use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Requests the console shows.
const MAX_ENTRIES: usize = 500;
/// Lines waiting for stderr before new ones are dropped.
const STDERR_QUEUE: usize = 4096;

/// What the gateway learnt about a request while answering it.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// A control or console request (not shown in the console's log).
    pub control: bool,
    /// The appId the request named (authenticated or not).
    pub app_id: Option<String>,
    /// `ok`, the 401 code (`BAD_SIGN`, `INVALID_TOKEN`, ...), `token` for
    /// the token endpoint, empty when authentication was not reached.
    pub verdict: &'static str,
    pub err_code: Option<String>,
    /// The fault injected, if any.
    pub fault: Option<&'static str>,
}

impl Outcome {
    /// Takes `errCode` from a JSON answer.
    pub fn set_err_code(&mut self, answer: &serde_json::Value) {
        self.err_code = answer["errCode"].as_str().map(str::to_string);
    }
}

/// One logged request.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Simulator time of the answer.
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    pub app_id: Option<String>,
    pub verdict: &'static str,
    pub status: u16,
    pub err_code: Option<String>,
    pub fault: Option<&'static str>,
    pub micros: u64,
}

impl Entry {
    /// The last part of the path (`update-qrcode`), or the path.
    pub fn operation(&self) -> &str {
        self.path
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.path)
    }

    /// The stderr line: method, path, appId, errCode, milliseconds.
    fn line(&self) -> String {
        format!(
            "ums-sandbox: {} {} {} appId={} errCode={}{} {:.2}ms",
            BeijingTime::from_unix_millis(self.at_ms).date_time(),
            self.method,
            self.path,
            self.app_id.as_deref().unwrap_or("-"),
            self.err_code.as_deref().unwrap_or("-"),
            self.fault
                .map(|f| format!(" fault={f}"))
                .unwrap_or_default(),
            self.micros as f64 / 1000.0
        )
    }
}

pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<Entry>>,
    stderr: Option<SyncSender<String>>,
    dropped_lines: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RequestLog {
    /// A log; with `to_stderr`, a thread that writes the lines.
    pub fn new(to_stderr: bool) -> RequestLog {
        let stderr = to_stderr.then(|| {
            let (sender, receiver) = sync_channel::<String>(STDERR_QUEUE);
            let spawned = std::thread::Builder::new()
                .name("ums-sandbox-log".into())
                .spawn(move || {
                    for line in receiver {
                        let _ = writeln!(std::io::stderr().lock(), "{line}");
                    }
                });
            spawned.ok().map(|_| sender)
        });
        RequestLog {
            entries: Mutex::new(VecDeque::new()),
            stderr: stderr.flatten(),
            dropped_lines: AtomicU64::new(0),
        }
    }

    /// Records one answered request.
    pub fn record(
        &self,
        request: &Request,
        answer: &Answer,
        outcome: Outcome,
        took: Duration,
        now_ms: i64,
    ) {
        if outcome.control && self.stderr.is_none() {
            return;
        }
        let err_code = outcome.err_code.or_else(|| err_code_of(answer));
        let entry = Entry {
            at_ms: now_ms,
            method: request.method.clone(),
            path: request.path.clone(),
            app_id: outcome.app_id,
            verdict: outcome.verdict,
            status: answer.status,
            err_code,
            fault: outcome.fault,
            micros: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
        };
        if let Some(sender) = &self.stderr {
            if let Err(TrySendError::Full(_)) = sender.try_send(entry.line()) {
                self.dropped_lines.fetch_add(1, Ordering::Relaxed);
            }
        }
        if outcome.control {
            return;
        }
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The logged requests, newest first.
    pub fn newest_first(&self) -> Vec<Entry> {
        lock(&self.entries).iter().rev().cloned().collect()
    }
}

/// `errCode` of a small JSON answer (the rare answers whose code the
/// gateway did not note: 404, 415, bad JSON, control errors).
fn err_code_of(answer: &Answer) -> Option<String> {
    if answer.body.len() > 4096 || !answer.content_type.starts_with("application/json") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    value
        .get("errCode")
        .or_else(|| value.get("error"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stderr_line_names_no_secret() {
        let entry = Entry {
            at_ms: 1_582_695_360_000,
            method: "POST".into(),
            path: "/v1/netpay/bills/query".into(),
            app_id: Some("app".into()),
            verdict: "ok",
            status: 200,
            err_code: Some("SUCCESS".into()),
            fault: None,
            micros: 1234,
        };
        assert_eq!(
            entry.line(),
            "ums-sandbox: 2020-02-26 13:36:00 POST /v1/netpay/bills/query appId=app errCode=SUCCESS 1.23ms"
        );
        assert_eq!(entry.operation(), "query");
    }
}
