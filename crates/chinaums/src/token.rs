//! OPEN-ACCESS-TOKEN cache: one token per client, fetched when first needed,
//! kept until shortly before it expires, shared by every thread. When it must
//! be (re)fetched, one thread fetches while the others wait for its result
//! (single flight), so a burst of calls never spends the gateway's limit of
//! ten valid tokens per appId.

use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A token is dropped this long before the gateway says it expires, so a
/// request signed with it does not arrive after expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Token {
    pub value: Arc<Secret>,
    pub refresh_at: Instant,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Token>,
    /// One thread is fetching; the others wait on `fetched`.
    fetching: bool,
}

/// The cached token; fetching is single-flight and every wait is bounded by
/// the waiting call's own deadline.
#[derive(Debug, Default)]
pub struct TokenCache {
    slot: Mutex<Slot>,
    fetched: Condvar,
}

impl TokenCache {
    /// A valid token, fetched with `fetch` only when none is cached. `fetch`
    /// returns the token text and the gateway's `expiresIn`. A thread that
    /// finds another one fetching waits for it, but not past `deadline`.
    pub fn get<F>(&self, deadline: Instant, fetch: F) -> Result<Arc<Secret>>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let mut slot = self.lock();
        loop {
            if let Some(token) = valid(&slot) {
                return Ok(token);
            }
            if !slot.fetching {
                slot.fetching = true;
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Connect,
                    "the call's deadline (timeoutMs) passed while waiting for an access token; the request was not sent",
                ));
            }
            slot = self
                .fetched
                .wait_timeout(slot, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(slot);
        // Whatever happens in `fetch` (error or panic), the flag is reset
        // and the waiters woken.
        let done = FetchDone(self);
        let (value, expires_in) = fetch()?;
        let lifetime = expires_in.saturating_sub(EXPIRY_MARGIN.min(expires_in / 2));
        let value = Arc::new(Secret::new(value));
        self.lock().current = Some(Token {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime,
        });
        drop(done);
        Ok(value)
    }

    /// Forgets `rejected` if it is still the cached token, so the next call
    /// fetches a new one. A token another thread already replaced stays.
    pub fn invalidate(&self, rejected: &Arc<Secret>) {
        let mut slot = self.lock();
        if slot
            .current
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(&t.value, rejected))
        {
            slot.current = None;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn valid(slot: &Slot) -> Option<Arc<Secret>> {
    slot.current
        .as_ref()
        .filter(|t| Instant::now() < t.refresh_at)
        .map(|t| t.value.clone())
}

/// Ends a fetch: clears the flag and wakes the waiters.
struct FetchDone<'a>(&'a TokenCache);

impl Drop for FetchDone<'_> {
    fn drop(&mut self) {
        self.0.lock().fetching = false;
        self.0.fetched.notify_all();
    }
}

/// Reads the token endpoint's answer: `errCode "0000"`, `accessToken`, `expiresIn`.
pub fn parse_token_answer(status: u16, body: &[u8]) -> Result<(String, Duration)> {
    // Strict, like every other input: an answer that repeats a key (two
    // accessTokens?) is not trusted.
    let value = std::str::from_utf8(body)
        .ok()
        .and_then(|text| crate::json::parse_value(text).ok())
        .ok_or_else(|| {
            let mut e = Error::new(
                ErrorKind::TokenRejected,
                "the token endpoint's answer is not a JSON document without repeated keys",
            );
            e.http_status = Some(status);
            e
        })?;
    let err_code = value
        .get("errCode")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let token = value
        .get("accessToken")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty());
    let expires = value.get("expiresIn").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    match (status, err_code.as_deref(), token, expires) {
        (200, Some("0000"), Some(t), Some(secs)) if secs > 0 => {
            Ok((t.to_string(), Duration::from_secs(secs)))
        }
        _ => {
            let mut e = Error::new(
                ErrorKind::TokenRejected,
                "the gateway refused to issue an access token",
            );
            e.http_status = Some(status);
            e.err_msg = value
                .get("errInfo")
                .or_else(|| value.get("errMsg"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            e.err_code = err_code;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_that_repeats_a_key_is_refused() {
        let ok = br#"{"errCode":"0000","accessToken":"t1","expiresIn":3600}"#;
        assert_eq!(parse_token_answer(200, ok).unwrap().0, "t1");
        let twice = br#"{"errCode":"0000","accessToken":"t1","accessToken":"t2","expiresIn":3600}"#;
        assert_eq!(
            parse_token_answer(200, twice).unwrap_err().kind,
            ErrorKind::TokenRejected
        );
    }
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    /// A fetch that blocks until the test releases it, and says when it
    /// has started.
    fn gated_fetch(
        started: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
        token: &'static str,
    ) -> impl FnOnce() -> Result<(String, Duration)> {
        move || {
            started.send(()).unwrap();
            release.recv().unwrap();
            Ok((token.into(), Duration::from_secs(3600)))
        }
    }

    /// The waiter returns at its own deadline while the fetch is still
    /// running (it is released only afterwards), so it cannot have been the
    /// fetch's end that woke it.
    #[test]
    fn a_waiter_gives_up_at_its_own_deadline() {
        let cache = Arc::new(TokenCache::default());
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel();
        let fetcher = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                cache.get(far(), gated_fetch(started_tx, release_rx, "slow"))
            })
        };
        started.recv().unwrap();
        let e = cache
            .get(Instant::now() + Duration::from_millis(50), || {
                panic!("must wait, not fetch")
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connect);
        release.send(()).unwrap();
        assert_eq!(fetcher.join().unwrap().unwrap().expose(), "slow");
    }

    /// 16 threads ask while one fetch is held open: one fetch in all.
    #[test]
    fn many_threads_share_one_fetch() {
        const THREADS: usize = 16;
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let entered = Arc::new(AtomicUsize::new(0));
        let (started_tx, started) = std::sync::mpsc::channel();
        let (release, release_rx) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(Some((started_tx, release_rx))));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                let (entered, gate) = (entered.clone(), gate.clone());
                std::thread::spawn(move || {
                    entered.fetch_add(1, Ordering::SeqCst);
                    cache
                        .get(far(), || {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            let (started, release) = gate.lock().unwrap().take().unwrap();
                            gated_fetch(started, release, "tok")()
                        })
                        .unwrap()
                        .expose()
                        .to_string()
                })
            })
            .collect();
        started.recv().unwrap();
        // Every thread is inside `get` (waiting, or about to) before the
        // fetch may end.
        while entered.load(Ordering::SeqCst) < THREADS {
            std::thread::yield_now();
        }
        release.send(()).unwrap();
        for t in threads {
            assert_eq!(t.join().unwrap(), "tok");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn invalidate_only_drops_the_rejected_token() {
        let cache = TokenCache::default();
        let first = cache
            .get(far(), || Ok(("a".into(), Duration::from_secs(3600))))
            .unwrap();
        cache.invalidate(&first);
        let second = cache
            .get(far(), || Ok(("b".into(), Duration::from_secs(3600))))
            .unwrap();
        assert_eq!(second.expose(), "b");
        cache.invalidate(&first); // stale rejection: keeps "b"
        let third = cache.get(far(), || panic!("must not fetch")).unwrap();
        assert_eq!(third.expose(), "b");
    }

    #[test]
    fn failed_fetch_is_not_cached() {
        let cache = TokenCache::default();
        assert!(cache
            .get(far(), || Err(Error::new(ErrorKind::TokenRejected, "no")))
            .is_err());
        assert_eq!(
            cache
                .get(far(), || Ok(("c".into(), Duration::from_secs(60))))
                .unwrap()
                .expose(),
            "c"
        );
    }

    #[test]
    fn token_answer_parsing() {
        let ok = parse_token_answer(
            200,
            br#"{"errCode":"0000","errInfo":"ok","accessToken":"t1","expiresIn":3600}"#,
        );
        assert_eq!(ok.unwrap(), ("t1".to_string(), Duration::from_secs(3600)));
        let bad =
            parse_token_answer(200, br#"{"errCode":"1001","errInfo":"bad sig"}"#).unwrap_err();
        assert_eq!(
            (bad.kind, bad.err_code.as_deref()),
            (ErrorKind::TokenRejected, Some("1001"))
        );
        assert_eq!(
            parse_token_answer(502, b"<html>").unwrap_err().http_status,
            Some(502)
        );
    }
}
