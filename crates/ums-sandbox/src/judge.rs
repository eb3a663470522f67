//! The simulator as the judge of `resolve`: a log that says, for every
//! business request it received, whether it applied it (the state changed:
//! the operation answered SUCCESS), with the request's identifying fields;
//! plus a hold point that keeps chosen requests waiting before they are
//! processed (a request "in flight"), and a count of requests being
//! processed, so that tests can synchronise on the simulator instead of
//! sleeping.
//!
//! `GET /_sandbox/processed` (optionally `?since=<seq>`) →
//! `{"ok":true,"processed":[{"seq","path","applied","errCode","fault","request":{..}}]}`;
//! [`super::Sandbox::processed`] in Rust. At most [`MAX_ENTRIES`] are kept
//! (the oldest go first).

use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Entries kept in the processed log: enough for any test run (the crash
/// test makes a few thousand requests), bounded for long benchmark runs
/// (an entry takes about 2 KB with its parsed fields: ~40 MB at most).
pub const MAX_ENTRIES: usize = 20_000;

/// One business request and what the simulator did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// 1, 2, ... in the order the simulator decided.
    pub seq: u64,
    pub path: String,
    /// Whether the simulator did the work (the operation answered SUCCESS
    /// and its state changed), whatever answer the client then got.
    pub applied: bool,
    /// The operation's errCode (or the refusal's), when there was one.
    pub err_code: Option<String>,
    /// The fault injected into the request, if any.
    pub fault: Option<String>,
    /// The request's identifying fields (ids, amounts, mid, msgId,
    /// requestTimestamp); never real-name fields.
    pub request: Map<String, Value>,
}

impl Processed {
    pub fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "path": self.path,
            "applied": self.applied,
            "errCode": self.err_code,
            "fault": self.fault,
            "request": Value::Object(self.request.clone()),
        })
    }

    /// The request's text field `key`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.request.get(key).and_then(Value::as_str)
    }
}

#[derive(Default)]
struct Log {
    next_seq: u64,
    entries: VecDeque<Processed>,
}

#[derive(Default)]
struct Holds {
    /// path ("*" for any) → how many more requests to hold.
    armed: Vec<(String, u32)>,
    /// Requests waiting at the hold point now.
    held: usize,
    /// Bumped by every release: held requests wait for a new generation.
    generation: u64,
}

/// The judge's state, one per gateway.
#[derive(Default)]
pub(crate) struct Judge {
    log: Mutex<Log>,
    logged: Condvar,
    holds: Mutex<Holds>,
    holds_changed: Condvar,
    busy: Mutex<usize>,
    busy_changed: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Leaves the busy count when dropped.
pub(crate) struct Busy<'a>(&'a Judge);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut busy = lock(&self.0.busy);
        *busy -= 1;
        self.0.busy_changed.notify_all();
    }
}

impl Judge {
    /// Records what became of a business request. `body` is the request's
    /// JSON (raw bytes, not parsed yet when the request was not processed).
    pub fn record(
        &self,
        path: &str,
        body: &[u8],
        applied: bool,
        err_code: Option<&str>,
        fault: Option<&str>,
    ) {
        let request = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                chinaums::resolve::identifying(&super::gateway::unwrap_data_envelope(map))
            }
            _ => Map::new(),
        };
        let mut log = lock(&self.log);
        log.next_seq += 1;
        let entry = Processed {
            seq: log.next_seq,
            path: path.to_string(),
            applied,
            err_code: err_code.map(str::to_string),
            fault: fault.map(str::to_string),
            request,
        };
        if log.entries.len() == MAX_ENTRIES {
            log.entries.pop_front();
        }
        log.entries.push_back(entry);
        self.logged.notify_all();
    }

    /// Waits (up to `timeout`) for an entry that `matches`; returns it.
    pub fn wait_processed(
        &self,
        timeout: Duration,
        matches: &dyn Fn(&Processed) -> bool,
    ) -> Option<Processed> {
        let deadline = Instant::now() + timeout;
        let mut log = lock(&self.log);
        loop {
            if let Some(found) = log.entries.iter().rev().find(|e| matches(e)) {
                return Some(found.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            log = self
                .logged
                .wait_timeout(log, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Records a request the gateway answered: applied when the answer is
    /// HTTP 200 with errCode SUCCESS.
    /// `err_code`: the answer's errCode when the caller already read it
    /// (every business answer); else it is read from the answer here.
    pub(crate) fn record_answer(
        &self,
        path: &str,
        body: &[u8],
        answer: &super::http::Answer,
        err_code: Option<&str>,
        fault: Option<&str>,
    ) {
        let code = match err_code {
            Some(code) => Some(code.to_string()),
            None => serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("errCode").and_then(Value::as_str).map(str::to_string)),
        };
        let applied = answer.status == 200 && code.as_deref() == Some("SUCCESS");
        self.record(path, body, applied, code.as_deref(), fault);
    }

    /// Every entry with `seq > since`, oldest first.
    pub fn processed(&self, since: u64) -> Vec<Processed> {
        lock(&self.log)
            .entries
            .iter()
            .filter(|e| e.seq > since)
            .cloned()
            .collect()
    }

    /// The answer of `GET /_sandbox/processed[?since=N]`.
    pub fn processed_json(&self, query: Option<&str>) -> Value {
        let since = query
            .unwrap_or("")
            .split('&')
            .filter_map(|p| p.strip_prefix("since="))
            .find_map(|v| v.parse().ok())
            .unwrap_or(0);
        let list: Vec<Value> = self
            .processed(since)
            .iter()
            .map(Processed::to_json)
            .collect();
        json!({"ok": true, "processed": list})
    }

    /// Holds the next `count` business requests to `path` ("*": any) before
    /// they are processed, until [`Judge::release`].
    pub fn hold(&self, path: &str, count: u32) {
        lock(&self.holds).armed.push((path.to_string(), count));
    }

    /// Waits (up to `timeout`) until `n` requests are held; true if they are.
    pub fn wait_held(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut holds = lock(&self.holds);
        while holds.held < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            holds = self
                .holds_changed
                .wait_timeout(holds, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Lets every held request go on, and disarms the holds not used yet.
    pub fn release(&self) {
        let mut holds = lock(&self.holds);
        holds.armed.clear();
        holds.generation += 1;
        self.holds_changed.notify_all();
    }

    /// Called for every business request before it is processed: waits
    /// while a hold is armed for its path.
    pub fn hold_point(&self, path: &str) {
        if path == super::gateway::TOKEN_PATH {
            return; // only business requests are held
        }
        let mut holds = lock(&self.holds);
        let slot = holds
            .armed
            .iter_mut()
            .find(|(p, n)| *n > 0 && (p == "*" || p == path));
        let Some(slot) = slot else { return };
        slot.1 -= 1;
        holds.armed.retain(|(_, n)| *n > 0);
        let generation = holds.generation;
        holds.held += 1;
        self.holds_changed.notify_all();
        while holds.generation == generation {
            holds = self
                .holds_changed
                .wait(holds)
                .unwrap_or_else(|p| p.into_inner());
        }
        holds.held -= 1;
    }

    /// Counts a request being processed until the guard drops.
    pub fn enter(&self) -> Busy<'_> {
        *lock(&self.busy) += 1;
        Busy(self)
    }

    /// Waits (up to `timeout`) until no request is being processed (held
    /// requests count as being processed: release them first).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut busy = lock(&self.busy);
        while *busy > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            busy = self
                .busy_changed
                .wait_timeout(busy, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}
