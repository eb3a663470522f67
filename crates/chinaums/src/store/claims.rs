//! Notification claims: ChinaUMS resends a notification until it gets
//! `SUCCESS`, for up to 24 hours, and with several receivers (processes or
//! machines) the same `notifyId` may arrive at two of them at once. A claim
//! says which one processes it.
//!
//! - Redis: `SET <prefix>notify:<notifyId> 1 NX EX 90000` (25 h: the 24 h of
//!   retries and a margin). The first receiver gets `claimed`, every other
//!   one "already handled or being handled" (answer `SUCCESS`).
//! - Memory: the same within this process, on the client's clock.
//!
//! A Redis failure never loses a notification: the claim falls back to
//! memory (this process's claims only), so a notification is at worst
//! processed twice by two receivers, never dropped; the answer says
//! `"store":"memory"`. A release that cannot reach Redis is remembered and
//! done when Redis answers again.

use super::{RedisBackend, COMMAND_CAP};
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a claim lives: ChinaUMS retries for 24 hours; one more hour of
/// margin.
pub const CLAIM_TTL: Duration = Duration::from_secs(25 * 3600);

/// The answer to a claim or a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Claim: true the first time (process the notification), false when it
    /// is already handled or being handled (answer `SUCCESS`). Release: true.
    pub claimed: bool,
    /// Where the answer came from: `"redis"` or `"memory"` (configured, or
    /// the fallback while Redis fails).
    pub store: &'static str,
}

/// The claims of one client.
pub struct Claims {
    redis: Option<Arc<RedisBackend>>,
    prefix: String,
    clock: Arc<dyn Clock>,
    memory: Mutex<MemoryClaims>,
    /// Releases Redis did not receive, done at its next answer.
    pending_releases: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("store", &self.describe())
            .finish_non_exhaustive()
    }
}

impl Claims {
    /// Claims in `redis` (or in memory when `None`), keys `<prefix>notify:<id>`.
    pub fn new(redis: Option<Arc<RedisBackend>>, prefix: &str, clock: Arc<dyn Clock>) -> Claims {
        Claims {
            redis,
            prefix: prefix.to_string(),
            clock,
            memory: Mutex::new(MemoryClaims::default()),
            pending_releases: Mutex::new(HashSet::new()),
        }
    }

    /// `"memory"` or `redis://host:port/db`.
    pub fn describe(&self) -> String {
        match &self.redis {
            Some(r) => r.display().to_string(),
            None => "memory".to_string(),
        }
    }

    /// Claims `notify_id`: `claimed` true for the first claim within 25 h.
    pub fn claim(&self, notify_id: &str) -> Result<Claim> {
        check_notify_id(notify_id)?;
        if let Some(redis) = self.usable_redis() {
            let key = self.key(notify_id);
            let answer = self.flush_releases(redis).and_then(|()| {
                redis.run(COMMAND_CAP, |con| {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(1)
                        .arg("NX")
                        .arg("EX")
                        .arg(CLAIM_TTL.as_secs())
                        .query::<redis::Value>(con)
                })
            });
            match answer {
                Ok(redis::Value::Okay) => {
                    redis.health.succeeded();
                    // Mirrored, so that this process still knows its own
                    // claims should Redis fail later.
                    let now = self.clock.now_unix_millis();
                    self.memory().insert(notify_id, now, self.expiry());
                    return Ok(Claim {
                        claimed: true,
                        store: "redis",
                    });
                }
                Ok(redis::Value::Nil) => {
                    redis.health.succeeded();
                    return Ok(Claim {
                        claimed: false,
                        store: "redis",
                    });
                }
                Ok(_) => redis.health.failed(
                    "claiming a notification",
                    &super::StoreError("SET NX answered something other than OK or nil".into()),
                ),
                Err(e) => redis.health.failed("claiming a notification", &e),
            }
        }
        let now = self.clock.now_unix_millis();
        let claimed = self.memory().claim_at(notify_id, now, self.expiry());
        Ok(Claim {
            claimed,
            store: "memory",
        })
    }

    /// Forgets the claim on `notify_id`, so that ChinaUMS's next resend is
    /// processed (after processing failed). When Redis cannot be reached the
    /// release is remembered and sent at its next answer (`store` "memory").
    pub fn release(&self, notify_id: &str) -> Result<Claim> {
        check_notify_id(notify_id)?;
        self.memory().forget(notify_id);
        let Some(redis) = &self.redis else {
            return Ok(Claim {
                claimed: true,
                store: "memory",
            });
        };
        self.pending().insert(notify_id.to_string());
        if redis.health.usable() {
            match self.flush_releases(redis) {
                Ok(()) => {
                    redis.health.succeeded();
                    return Ok(Claim {
                        claimed: true,
                        store: "redis",
                    });
                }
                Err(e) => redis.health.failed("releasing a notification claim", &e),
            }
        }
        Ok(Claim {
            claimed: true,
            store: "memory",
        })
    }

    fn usable_redis(&self) -> Option<&Arc<RedisBackend>> {
        self.redis.as_ref().filter(|r| r.health.usable())
    }

    /// Sends the remembered releases.
    fn flush_releases(&self, redis: &RedisBackend) -> std::result::Result<(), super::StoreError> {
        let ids: Vec<String> = self.pending().iter().cloned().collect();
        for id in ids {
            let key = self.key(&id);
            redis.run(COMMAND_CAP, |con| {
                redis::cmd("DEL").arg(&key).query::<redis::Value>(con)
            })?;
            self.pending().remove(&id);
        }
        Ok(())
    }

    fn key(&self, notify_id: &str) -> String {
        format!("{}notify:{notify_id}", self.prefix)
    }

    fn expiry(&self) -> i64 {
        self.clock
            .now_unix_millis()
            .saturating_add(CLAIM_TTL.as_millis() as i64)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, MemoryClaims> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.pending_releases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// Claims in this process: notifyId → expiry (client clock, Unix ms).
/// Expired claims are swept when the map has doubled since the last sweep,
/// so memory stays proportional to the notifications of the last 25 h.
#[derive(Debug, Default)]
struct MemoryClaims {
    claims: HashMap<String, i64>,
    sweep_at: usize,
}

impl MemoryClaims {
    /// Claims unconditionally (the mirror of a Redis claim).
    fn insert(&mut self, id: &str, now: i64, expires: i64) {
        if self.claims.len() >= self.sweep_at {
            self.claims.retain(|_, e| *e > now);
            self.sweep_at = (self.claims.len() * 2).max(1024);
        }
        self.claims.insert(id.to_string(), expires);
    }

    /// True when `id` was not claimed (or its claim expired): now it is.
    fn claim_at(&mut self, id: &str, now: i64, expires: i64) -> bool {
        if self.claims.get(id).is_some_and(|e| *e > now) {
            return false;
        }
        self.insert(id, now, expires);
        true
    }

    fn forget(&mut self, id: &str) {
        self.claims.remove(id);
    }
}

/// A notifyId as it is used in a key: 1 to 128 printable ASCII characters
/// without spaces.
fn check_notify_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "notify_id must be 1 to 128 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn memory_claims_once_until_released_or_expired() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let claims = Claims::new(None, "ums:", clock.clone());
        let first = claims.claim("n1").unwrap();
        assert_eq!(
            first,
            Claim {
                claimed: true,
                store: "memory"
            }
        );
        assert!(!claims.claim("n1").unwrap().claimed);
        assert!(claims.claim("n2").unwrap().claimed);
        claims.release("n1").unwrap();
        assert!(claims.claim("n1").unwrap().claimed);
        clock.advance(CLAIM_TTL);
        assert!(claims.claim("n2").unwrap().claimed, "expired after 25 h");
    }

    #[test]
    fn bad_notify_ids_are_refused() {
        let claims = Claims::new(None, "ums:", Arc::new(ManualClock::new(0)));
        for bad in ["", "a b", "é", "a\nb", &"x".repeat(129)] {
            assert_eq!(
                claims.claim(bad).unwrap_err().kind,
                ErrorKind::InvalidArgument,
                "{bad:?}"
            );
            assert!(claims.release(bad).is_err());
        }
    }

    #[test]
    fn expired_claims_are_swept() {
        let mut m = MemoryClaims::default();
        for i in 0..2000 {
            assert!(m.claim_at(&format!("old{i}"), 0, 10));
        }
        for i in 0..2000 {
            assert!(m.claim_at(&format!("new{i}"), 20, 100));
        }
        assert!(m.claims.len() <= 2000 + 1024, "{}", m.claims.len());
    }
}
