//! Answers kept after `UMS_ERR_BUFFER_TOO_SMALL`, each for its own call only.
//!
//! When an operation's document (the gateway's answer or an error document)
//! does not fit the caller's buffer, it is kept here under a fresh random
//! answer id (16 bytes from the OS, 32 lowercase hex characters) that only
//! the caller of that call learns, in the small document written instead.
//! `ums_take_answer` hands it over by that id. Calls never look in here: a
//! new call always sends a new request and never receives an old answer.
//!
//! Bounds: at most [`MAX_KEPT`] answers per client (the oldest is evicted to
//! make room), each for exactly [`KEEP_FOR`] after it was kept (a take that
//! finds the buffer still too small does not extend it). So a client holds
//! at most 16 documents, each at most about `maxResponseBytes` plus the
//! error document around it.
//!
//! Every method takes "now" as an argument, so tests prove the expiry
//! exactly without sleeping.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a kept answer waits to be taken, from the moment it was kept.
pub const KEEP_FOR: Duration = Duration::from_secs(120);
/// At most this many answers are kept per client; the oldest goes first.
pub(crate) const MAX_KEPT: usize = 16;

struct Kept {
    id: String,
    status: i32,
    doc: String,
    at: Instant,
}

impl Kept {
    /// Alive strictly before `at + KEEP_FOR`: gone at exactly 120 s.
    fn alive(&self, now: Instant) -> bool {
        now.checked_duration_since(self.at)
            .is_none_or(|age| age < KEEP_FOR)
    }
}

/// What [`KeptAnswers::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Take {
    /// The kept document (now removed) and the status it was kept with.
    Taken { status: i32, doc: String },
    /// Still too small: the answer stays, with its expiry unchanged.
    TooSmall { status: i32, len: usize },
    /// No live answer has this id: expired, evicted, taken, or never kept.
    Gone,
}

/// The kept answers of one client.
#[derive(Default)]
pub struct KeptAnswers {
    kept: Mutex<VecDeque<Kept>>,
}

impl KeptAnswers {
    /// Keeps `doc` (returned with `status`) and returns its new answer id.
    pub fn keep(&self, status: i32, doc: String, now: Instant) -> String {
        let id = new_answer_id();
        self.keep_as(id.clone(), status, doc, now);
        id
    }

    fn keep_as(&self, id: String, status: i32, doc: String, now: Instant) {
        let mut kept = self.lock();
        kept.retain(|k| k.alive(now));
        while kept.len() >= MAX_KEPT {
            kept.pop_front();
        }
        kept.push_back(Kept {
            id,
            status,
            doc,
            at: now,
        });
    }

    /// Takes the answer `id` when `fits(its length)`; otherwise leaves it.
    pub fn take(&self, id: &str, fits: impl FnOnce(usize) -> bool, now: Instant) -> Take {
        let mut kept = self.lock();
        kept.retain(|k| k.alive(now));
        let Some(index) = kept.iter().position(|k| k.id == id) else {
            return Take::Gone;
        };
        let (status, len) = (kept[index].status, kept[index].doc.len());
        if !fits(len) {
            return Take::TooSmall { status, len };
        }
        match kept.remove(index) {
            Some(k) => Take::Taken {
                status: k.status,
                doc: k.doc,
            },
            None => Take::Gone,
        }
    }

    /// How many answers are alive at `now` (tests).
    pub fn len_at(&self, now: Instant) -> usize {
        self.lock().iter().filter(|k| k.alive(now)).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Kept>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// 16 random bytes from the OS as 32 lowercase hex characters.
pub fn new_answer_id() -> String {
    let mut bytes = [0u8; 16];
    chinaums::clock::fill_random(&mut bytes);
    chinaums::sign::hex_lower(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: i32 = 0;
    const UNKNOWN: i32 = 11;

    fn take_any(store: &KeptAnswers, id: &str, now: Instant) -> Take {
        store.take(id, |_| true, now)
    }

    #[test]
    fn ids_are_32_lowercase_hex_and_fresh() {
        let a = new_answer_id();
        let b = new_answer_id();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_ne!(a, b);
    }

    #[test]
    fn an_answer_is_taken_once_by_its_own_id() {
        let store = KeptAnswers::default();
        let t0 = Instant::now();
        let a = store.keep(OK, "answer A".into(), t0);
        let b = store.keep(UNKNOWN, "answer B".into(), t0);
        assert_ne!(a, b);
        assert_eq!(
            take_any(&store, "0123456789abcdef0123456789abcdef", t0),
            Take::Gone
        );
        assert_eq!(
            take_any(&store, &b, t0),
            Take::Taken {
                status: UNKNOWN,
                doc: "answer B".into()
            }
        );
        assert_eq!(take_any(&store, &b, t0), Take::Gone, "taken twice");
        assert_eq!(
            take_any(&store, &a, t0),
            Take::Taken {
                status: OK,
                doc: "answer A".into()
            }
        );
    }

    #[test]
    fn a_take_that_does_not_fit_keeps_it_and_its_expiry() {
        let store = KeptAnswers::default();
        let t0 = Instant::now();
        let id = store.keep(OK, "0123456789".into(), t0);
        let late = t0 + KEEP_FOR - Duration::from_millis(1);
        assert_eq!(
            store.take(&id, |len| len < 10, late),
            Take::TooSmall {
                status: OK,
                len: 10
            }
        );
        // Not re-stamped by the failed take: gone at exactly t0 + 120 s.
        assert_eq!(take_any(&store, &id, t0 + KEEP_FOR), Take::Gone);
    }

    #[test]
    fn expiry_is_exactly_120_seconds_after_keeping() {
        let store = KeptAnswers::default();
        let t0 = Instant::now();
        let id = store.keep(OK, "doc".into(), t0);
        let before = t0 + KEEP_FOR - Duration::from_nanos(1);
        assert_eq!(
            store.take(&id, |_| false, before),
            Take::TooSmall { status: OK, len: 3 }
        );
        assert_eq!(
            take_any(&store, &id, before),
            Take::Taken {
                status: OK,
                doc: "doc".into()
            },
            "just before 120 s it is still there"
        );
        let id = store.keep(OK, "doc".into(), t0);
        assert_eq!(
            take_any(&store, &id, t0 + KEEP_FOR),
            Take::Gone,
            "at exactly 120 s it is gone"
        );
        assert_eq!(store.len_at(t0 + KEEP_FOR), 0);
    }

    #[test]
    fn the_seventeenth_evicts_the_first() {
        let store = KeptAnswers::default();
        let t0 = Instant::now();
        let ids: Vec<String> = (0..=MAX_KEPT)
            .map(|i| store.keep(OK, format!("doc {i}"), t0 + Duration::from_millis(i as u64)))
            .collect();
        assert_eq!(MAX_KEPT, 16);
        let now = t0 + Duration::from_secs(1);
        assert_eq!(store.len_at(now), MAX_KEPT);
        assert_eq!(
            take_any(&store, &ids[0], now),
            Take::Gone,
            "the oldest was evicted"
        );
        for (i, id) in ids.iter().enumerate().skip(1) {
            assert_eq!(
                take_any(&store, id, now),
                Take::Taken {
                    status: OK,
                    doc: format!("doc {i}")
                }
            );
        }
    }

    #[test]
    fn expired_answers_make_room_before_anything_is_evicted() {
        let store = KeptAnswers::default();
        let t0 = Instant::now();
        for i in 0..MAX_KEPT - 1 {
            store.keep(OK, format!("old {i}"), t0);
        }
        let young = store.keep(OK, "young".into(), t0 + Duration::from_secs(60));
        // At t0 + 120 s the 15 old ones are gone: the new one evicts nothing.
        let new = store.keep(OK, "new".into(), t0 + KEEP_FOR);
        let now = t0 + KEEP_FOR;
        assert_eq!(store.len_at(now), 2);
        assert!(matches!(take_any(&store, &young, now), Take::Taken { .. }));
        assert!(matches!(take_any(&store, &new, now), Take::Taken { .. }));
    }
}
