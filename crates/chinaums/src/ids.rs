//! Merchant-generated identifiers (`billNo`, `merOrderId`, `refundOrderId`, a
//! self-generated `qrCodeId`), by the rule of docs/protocol.md §4.2: the 4-character
//! `msgSrcId`, `yyyyMMddHHmmssSSS` in Beijing time, then 7 digits (28 in all).
//!
//! The 7 digits are a per-process random offset plus a process-wide counter,
//! modulo 10^7. Within a process two identifiers of the same millisecond
//! differ until 10^7 of them are made in it; two processes started in the same
//! millisecond collide only if their random offsets land within the number of
//! identifiers they make of each other (about 1 in 10^7 per identifier).

use crate::clock::BeijingTime;
use crate::error::{Error, Result};
use once_cell::sync::Lazy;
use std::sync::atomic::{AtomicU64, Ordering};

const SUFFIX_SPACE: u64 = 10_000_000;

static PROCESS_OFFSET: Lazy<u64> = Lazy::new(|| {
    let mut bytes = [0u8; 8];
    crate::clock::fill_random(&mut bytes);
    u64::from_le_bytes(bytes) % SUFFIX_SPACE
});
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Checks a `msgSrcId`: exactly 4 ASCII letters or digits.
pub fn check_msg_src_id(msg_src_id: &str) -> Result<()> {
    if msg_src_id.len() == 4 && msg_src_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Error::config("msgSrcId", "must be 4 letters or digits"))
    }
}

/// A new identifier for `msg_src_id` at `now`.
pub fn new_id(msg_src_id: &str, now: BeijingTime) -> Result<String> {
    check_msg_src_id(msg_src_id)?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = (*PROCESS_OFFSET + n) % SUFFIX_SPACE;
    Ok(format!("{msg_src_id}{}{suffix:07}", now.compact_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_have_the_documented_shape() {
        let now = BeijingTime::from_unix_millis(1_704_040_200_123);
        let id = new_id("3194", now).unwrap();
        assert_eq!(id.len(), 28);
        assert!(id.starts_with("319420240101003000123"));
        assert!(id[21..].bytes().all(|b| b.is_ascii_digit()));
        assert!(new_id("31", now).is_err());
        assert!(new_id("31-4", now).is_err());
    }

    #[test]
    fn ids_are_unique_across_threads_in_one_millisecond() {
        let now = BeijingTime::from_unix_millis(1_704_040_200_123);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..5000)
                        .map(|_| new_id("3194", now).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for t in threads {
            for id in t.join().unwrap() {
                assert!(seen.insert(id), "duplicate identifier");
            }
        }
        assert_eq!(seen.len(), 40_000);
    }
}
