//! Answers kept after `UMS_ERR_BUFFER_TOO_SMALL`.
//!
//! When a call reached the gateway but the caller's buffer cannot hold the
//! answer, the answer is kept here under a digest of the call's arguments. The
//! caller's natural retry (same arguments, bigger buffer) is served from here,
//! so money-moving requests are never sent twice and answers never lost.

use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a kept answer waits for the caller's retry.
pub const KEEP_FOR: Duration = Duration::from_secs(120);
/// At most this many answers are kept per client; the oldest goes first.
const MAX_KEPT: usize = 64;

pub type CallKey = [u8; 32];

struct Kept {
    key: CallKey,
    status: i32,
    doc: String,
    at: Instant,
}

#[derive(Default)]
pub struct PendingAnswers {
    kept: Mutex<Vec<Kept>>,
}

/// The digest identifying a call: operation, then the request exactly as given.
pub fn call_key(operation: &str, request: &str) -> CallKey {
    let mut h = Sha256::new();
    h.update(operation.as_bytes());
    h.update([0u8]);
    h.update(request.as_bytes());
    h.finalize().into()
}

impl PendingAnswers {
    /// Keeps an answer for the retry.
    pub fn keep(&self, key: CallKey, status: i32, doc: String) {
        let mut kept = self.lock();
        kept.retain(|k| k.at.elapsed() < KEEP_FOR && k.key != key);
        if kept.len() >= MAX_KEPT {
            kept.remove(0);
        }
        kept.push(Kept {
            key,
            status,
            doc,
            at: Instant::now(),
        });
    }

    /// Takes the kept answer of this call, if any.
    pub fn take(&self, key: &CallKey) -> Option<(i32, String)> {
        let mut kept = self.lock();
        kept.retain(|k| k.at.elapsed() < KEEP_FOR);
        let index = kept.iter().position(|k| &k.key == key)?;
        let k = kept.remove(index);
        Some((k.status, k.doc))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
