//! What the processes of a fleet share: the access token of token mode
//! (ChinaUMS keeps at most 10 valid tokens per appId, docs/protocol.md §3,
//! so twelve processes each with its own token break each other) and
//! notification claims (one receiver of many processes a notification).
//!
//! - [`TokenStore`]: the interface the token cache (`crate::token`) shares
//!   its token through: Redis ([`RedisTokenStore`]), or the integrator's own
//!   shared cache (a Rust implementation, or C callbacks through the C ABI).
//! - [`Health`]: a store that fails is left alone for a few seconds while
//!   the client works alone (its own cache, its own single-flight fetch), with
//!   one warning per outage; it is tried again afterwards.
//! - [`Claims`]: notification claims in Redis or in memory.
//!
//! A store never fails a payment call: every failure (down, slow, restarted,
//! answering garbage, a callback returning an error) is a [`StoreError`] the
//! token cache turns into "work alone for now".

mod claims;
mod redis_store;

pub use claims::{Claim, Claims};
pub use redis_store::{RedisBackend, RedisTokenStore};

use crate::clock::Clock;
use crate::log::{log, Level};
use crate::secret::Secret;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A token as a store keeps it: the token and the instant (Unix
/// milliseconds, the client's clock) after which it must not be used. That
/// instant already includes the safety margin before the gateway's
/// `expiresIn` ([`crate::token::EXPIRY_MARGIN`]), so a store may use it as
/// the entry's expiry.
#[derive(Debug, Clone)]
pub struct SharedToken {
    pub value: Secret,
    pub use_until_unix_ms: i64,
}

/// A failure of a shared store. The message names what went wrong
/// (refused, timed out, not a Redis reply, callback returned -3) and never
/// holds a password or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A place where the processes of a fleet share one access token.
///
/// Every method may be called from any thread, concurrently, and must
/// return within `limit` (the calling payment's remaining time, capped at a
/// fraction of a second): a store that cannot answer in time returns an
/// error, and the client works alone until it is tried again.
pub trait TokenStore: Send + Sync {
    /// For log lines and documents, without secrets: `redis://host:6379/0`,
    /// `callback`.
    fn describe(&self) -> String;

    /// The shared token, if there is one. A token whose `use_until_unix_ms`
    /// has passed (by the client's clock) is ignored by the caller.
    fn get(&self, limit: Duration) -> Result<Option<SharedToken>, StoreError>;

    /// Shares a newly fetched token, replacing any other.
    fn put(&self, token: &SharedToken, limit: Duration) -> Result<(), StoreError>;

    /// Compare-and-delete: forgets the shared token only if it is still
    /// `token` (the one the gateway refused). A newer token another process
    /// stored meanwhile stays, so a late 401 never evicts a fresh token.
    fn invalidate(&self, token: &str, limit: Duration) -> Result<(), StoreError>;

    /// Fleet-wide single flight: `Ok(true)` when the caller may fetch a new
    /// token now, `Ok(false)` when another process holds the lock (the
    /// caller then waits for the token it will store). The lock expires by
    /// itself after `hold`. A store without a lock always answers
    /// `Ok(true)`: processes that miss at the same moment may then each
    /// fetch one token.
    fn try_lock(&self, owner: &str, hold: Duration, limit: Duration) -> Result<bool, StoreError> {
        let _ = (owner, hold, limit);
        Ok(true)
    }

    /// Releases the lock if `owner` still holds it (compare-and-delete).
    fn unlock(&self, owner: &str, limit: Duration) -> Result<(), StoreError> {
        let _ = (owner, limit);
        Ok(())
    }
}

/// After a failure, a store is left alone this long (on the client's clock
/// or the monotonic clock, whichever passes it first).
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The most one store operation (a command, with the connection's set-up
/// when there is none to reuse) may take, even when the call has more time
/// left: a healthy Redis answers in well under a millisecond, and a slow
/// one must not hold payments up.
pub const COMMAND_CAP: Duration = Duration::from_millis(500);

/// Whether a shared store may be used now, with one warning per outage.
///
/// Up: used. After a failure: down, one warning logged, and left alone for
/// [`RETRY_AFTER`]; then one caller tries it again (the others still work
/// alone), and the first success logs that the store answers again.
pub struct Health {
    what: String,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Up,
    /// Down since a failure at this instant / client-clock time; a try is
    /// due once [`RETRY_AFTER`] has passed on either.
    Down {
        at: Instant,
        at_ms: i64,
    },
}

impl Health {
    /// `what`: the store's description, as the log lines name it.
    pub fn new(what: String, clock: Arc<dyn Clock>) -> Health {
        Health {
            what,
            clock,
            state: Mutex::new(State::Up),
        }
    }

    /// Whether to use the store now. While it is down, true for one caller
    /// once the pause is over (its try moves the next one a pause further).
    pub fn usable(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            State::Up => true,
            State::Down { at, at_ms } => {
                let now_ms = self.clock.now_unix_millis();
                let due = at.elapsed() >= RETRY_AFTER
                    || now_ms.saturating_sub(at_ms) >= RETRY_AFTER.as_millis() as i64;
                if due {
                    *state = State::Down {
                        at: Instant::now(),
                        at_ms: now_ms,
                    };
                }
                due
            }
        }
    }

    /// Whether the store is down (a failure since its last success).
    pub fn is_down(&self) -> bool {
        matches!(
            *self.state.lock().unwrap_or_else(|p| p.into_inner()),
            State::Down { .. }
        )
    }

    /// Records a failure; the first of an outage logs one warning.
    pub fn failed(&self, doing: &str, error: &StoreError) {
        let was_up = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let was_up = matches!(*state, State::Up);
            *state = State::Down {
                at: Instant::now(),
                at_ms: self.clock.now_unix_millis(),
            };
            was_up
        };
        if was_up {
            log(Level::Warn, || {
                format!(
                    "shared store {} failed ({doing}: {error}); this process works alone (its own token cache, its own claims) and tries the store again every {} s",
                    self.what,
                    RETRY_AFTER.as_secs()
                )
            });
        } else {
            log(Level::Debug, || {
                format!(
                    "shared store {} still failing ({doing}: {error})",
                    self.what
                )
            });
        }
    }

    /// Records a success; the first after an outage logs that the store
    /// is used again.
    pub fn succeeded(&self) {
        let was_down = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let was_down = matches!(*state, State::Down { .. });
            *state = State::Up;
            was_down
        };
        if was_down {
            log(Level::Info, || {
                format!(
                    "shared store {} answers again; this process shares through it again",
                    self.what
                )
            });
        }
    }
}

/// The time a store operation may take: what is left of the call, at most
/// `cap`; `None` when too little is left to be worth asking (the call is
/// about to fail on its own deadline, and a store asked with a 1 ms limit
/// would look down).
pub fn limit(deadline: Instant, cap: Duration) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (left >= Duration::from_millis(5)).then(|| left.min(cap))
}

/// A token as stored in Redis: `1:<useUntilUnixMs>:<token>`.
pub fn encode_token(token: &SharedToken) -> String {
    format!("1:{}:{}", token.use_until_unix_ms, token.value.expose())
}

/// Reads [`encode_token`]'s format; `None` for anything else.
pub fn decode_token(text: &[u8]) -> Option<SharedToken> {
    let text = std::str::from_utf8(text).ok()?;
    let rest = text.strip_prefix("1:")?;
    let (ms, token) = rest.split_once(':')?;
    if ms.is_empty() || ms.len() > 18 || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !valid_token_text(token) {
        return None;
    }
    Some(SharedToken {
        value: Secret::new(token),
        use_until_unix_ms: ms.parse().ok()?,
    })
}

/// A token the library will put into an Authorization header: 1 to 1024
/// printable ASCII characters without spaces, quotes or commas.
pub fn valid_token_text(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 1024
        && token
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b',')
}

/// A random owner for the fleet lock (32 hex characters).
pub fn new_owner() -> String {
    let mut bytes = [0u8; 16];
    crate::clock::fill_random(&mut bytes);
    crate::sign::hex_lower(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn stored_tokens_round_trip_and_garbage_is_refused() {
        let t = SharedToken {
            value: Secret::new("abc123"),
            use_until_unix_ms: 1_700_000_000_000,
        };
        let text = encode_token(&t);
        assert_eq!(text, "1:1700000000000:abc123");
        let back = decode_token(text.as_bytes()).unwrap();
        assert_eq!(
            (back.value.expose(), back.use_until_unix_ms),
            ("abc123", 1_700_000_000_000)
        );
        for bad in [
            &b""[..],
            b"abc123",
            b"2:1:abc",
            b"1::abc",
            b"1:12x:abc",
            b"1:1:",
            b"1:1:a b",
            b"1:1:a\"b",
            b"1:1:\xff",
            b"1:99999999999999999999:abc",
        ] {
            assert!(decode_token(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_down_store_is_tried_again_after_the_pause_by_one_caller() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let health = Health::new("test".into(), clock.clone());
        assert!(health.usable());
        health.failed("get", &StoreError("refused".into()));
        assert!(health.is_down());
        assert!(!health.usable());
        clock.advance(RETRY_AFTER);
        assert!(health.usable(), "due on the client's clock");
        assert!(!health.usable(), "one caller per pause");
        health.succeeded();
        assert!(!health.is_down() && health.usable());
    }

    #[test]
    fn no_limit_when_the_call_has_no_time_left() {
        assert_eq!(limit(Instant::now(), COMMAND_CAP), None);
        let far = Instant::now() + Duration::from_secs(60);
        assert_eq!(limit(far, COMMAND_CAP), Some(COMMAND_CAP));
    }
}
