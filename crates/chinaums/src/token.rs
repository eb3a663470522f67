//! OPEN-ACCESS-TOKEN cache: one token per client, fetched when first needed,
//! kept until shortly before it expires, shared by every thread. When it must
//! be (re)fetched, one thread fetches while the others wait for its result
//! (single flight), so a burst of calls never spends the gateway's limit of
//! ten valid tokens per appId.
//!
//! With a shared store ([`crate::store::TokenStore`]: Redis, or the
//! integrator's own) the same holds across the processes of a fleet: a
//! process uses its own copy first; on a miss it reads the store; only one
//! process fetches a new token at a time (the store's lock) while the others
//! wait, within their own call's deadline, and then read the token it
//! stored. A refused token is forgotten in the store only if it is still the
//! stored one (compare-and-delete). A store that fails is left alone for a
//! few seconds while the process works alone, as without a store: a store
//! never fails a call.
//!
//! Expiry is read on the client's [`Clock`] (a test moves it by hand, with
//! the simulator's); call deadlines are [`Instant`]s.

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorKind, Result};
use crate::log::{log, Level};
use crate::secret::Secret;
use crate::store::{self, Health, SharedToken, StoreError, TokenStore, COMMAND_CAP};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A token is dropped this long before the gateway says it expires, so a
/// request signed with it does not arrive after expiry.
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// The fleet lock is held at most this long: a process that died while
/// fetching keeps the others waiting no longer than this.
pub const LOCK_HOLD_MAX: Duration = Duration::from_secs(10);

/// A process waiting for another one's token reads the store after this
/// pause, doubling up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub struct Token {
    pub value: Arc<Secret>,
    /// Unix milliseconds on the client's clock after which it is not used.
    pub use_until_unix_ms: i64,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Token>,
    /// One thread is fetching (or reading the store, or waiting for another
    /// process); the others wait on `fetched`.
    fetching: bool,
}

/// The shared store of a cache and its health.
struct Shared {
    store: Arc<dyn TokenStore>,
    health: Arc<Health>,
}

/// The cached token; fetching is single-flight and every wait is bounded by
/// the waiting call's own deadline.
pub struct TokenCache {
    slot: Mutex<Slot>,
    fetched: Condvar,
    clock: Arc<dyn Clock>,
    shared: Option<Shared>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("store", &self.describe())
            .finish_non_exhaustive()
    }
}

impl Default for TokenCache {
    /// In memory, on the system clock.
    fn default() -> Self {
        TokenCache::new(Arc::new(SystemClock))
    }
}

/// Why the store path stopped without a token.
enum Step {
    /// The store failed before anything was fetched: work alone.
    Store(&'static str, StoreError),
    /// Too little time left to ask the store (under 5 ms): too little to
    /// fetch a token either, so the call gives up, nothing sent.
    NoTime,
    /// The call fails: the fetch failed, or the deadline passed while
    /// another process fetched.
    Call(Error),
}

impl TokenCache {
    /// A cache of this process only, on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> TokenCache {
        TokenCache {
            slot: Mutex::new(Slot::default()),
            fetched: Condvar::new(),
            clock,
            shared: None,
        }
    }

    /// A cache that shares its token through `store`; `health` decides when
    /// the store is used (shared with the claims when they use the same
    /// Redis).
    pub fn shared(
        clock: Arc<dyn Clock>,
        store: Arc<dyn TokenStore>,
        health: Arc<Health>,
    ) -> TokenCache {
        TokenCache {
            shared: Some(Shared { store, health }),
            ..TokenCache::new(clock)
        }
    }

    /// `"memory"`, or the store's description.
    pub fn describe(&self) -> String {
        match &self.shared {
            Some(s) => s.store.describe(),
            None => "memory".to_string(),
        }
    }

    /// Whether the shared store is failing (the client works alone).
    pub fn store_down(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.health.is_down())
    }

    /// A valid token, fetched with `fetch` only when none is cached (nor,
    /// with a shared store, stored). `fetch` returns the token text and the
    /// gateway's `expiresIn`. A thread that finds another one fetching waits
    /// for it, but not past `deadline`.
    pub fn get<F>(&self, deadline: Instant, fetch: F) -> Result<Arc<Secret>>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let mut slot = self.lock();
        loop {
            if let Some(token) = self.valid(&slot) {
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
        // Whatever happens below (error or panic), the flag is reset and
        // the waiters woken.
        let done = FetchDone(self);
        let token = self.obtain(deadline, fetch)?;
        let value = token.value.clone();
        self.lock().current = Some(token);
        drop(done);
        Ok(value)
    }

    /// Forgets `rejected` (refused by the gateway) if it is still the cached
    /// token, and in the shared store if it is still the stored one, so the
    /// next call gets a new one. A token another thread or process already
    /// replaced it with stays.
    pub fn invalidate(&self, rejected: &Arc<Secret>, deadline: Instant) {
        {
            let mut slot = self.lock();
            if slot
                .current
                .as_ref()
                .is_some_and(|t| Arc::ptr_eq(&t.value, rejected))
            {
                slot.current = None;
            }
        }
        let Some(shared) = &self.shared else { return };
        let Some(limit) = store::limit(deadline, COMMAND_CAP) else {
            return;
        };
        if !shared.health.usable() {
            return;
        }
        match shared.store.invalidate(rejected.expose(), limit) {
            Ok(()) => shared.health.succeeded(),
            Err(e) => shared.health.failed("invalidating the refused token", &e),
        }
    }

    /// A token: from the shared store when it answers, else fetched here.
    fn obtain<F>(&self, deadline: Instant, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let mut fetch = Some(fetch);
        if let Some(shared) = self.shared.as_ref().filter(|s| s.health.usable()) {
            match self.through_store(shared, deadline, &mut fetch) {
                Ok(token) => return Ok(token),
                Err(Step::Call(e)) => return Err(e),
                Err(Step::Store(doing, e)) => shared.health.failed(doing, &e),
                // Fetching alone now would send a token request bound to
                // fail on the deadline, and (while another process holds
                // the fetch lock) one more fetch than the fleet needs.
                Err(Step::NoTime) => {
                    return Err(Error::new(
                        ErrorKind::Connect,
                        "the call's deadline (timeoutMs) left no time to get an access token; the request was not sent",
                    ))
                }
            }
        }
        match fetch.take() {
            Some(fetch) => self.fetch_now(fetch),
            // `through_store` returns Ok or Call once it has fetched.
            None => Err(Error::new(
                ErrorKind::Internal,
                "the token was fetched but not kept",
            )),
        }
    }

    /// The fleet protocol: the stored token; else the lock, a second look
    /// (another process may have stored one meanwhile), the fetch and the
    /// store; else wait for the process holding the lock.
    fn through_store<F>(
        &self,
        shared: &Shared,
        deadline: Instant,
        fetch: &mut Option<F>,
    ) -> std::result::Result<Token, Step>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let store = &*shared.store;
        let limit = || store::limit(deadline, COMMAND_CAP).ok_or(Step::NoTime);
        let stored = store
            .get(limit()?)
            .map_err(|e| Step::Store("reading the token", e))?;
        shared.health.succeeded();
        if let Some(token) = self.usable(stored) {
            return Ok(token);
        }
        let owner = store::new_owner();
        let mut pause = POLL_FIRST;
        loop {
            let hold = deadline
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(100), LOCK_HOLD_MAX);
            let locked = store
                .try_lock(&owner, hold, limit()?)
                .map_err(|e| Step::Store("taking the fetch lock", e))?;
            if locked {
                return self.fetch_as_lock_holder(shared, deadline, &owner, fetch);
            }
            // Another process is fetching: wait for the token it stores.
            let left = deadline.saturating_duration_since(Instant::now());
            if left <= pause {
                return Err(Step::Call(Error::new(
                    ErrorKind::Connect,
                    "the call's deadline (timeoutMs) passed while another process was fetching the access token; the request was not sent",
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(POLL_MAX);
            let stored = store
                .get(limit()?)
                .map_err(|e| Step::Store("reading the token", e))?;
            if let Some(token) = self.usable(stored) {
                return Ok(token);
            }
        }
    }

    fn fetch_as_lock_holder<F>(
        &self,
        shared: &Shared,
        deadline: Instant,
        owner: &str,
        fetch: &mut Option<F>,
    ) -> std::result::Result<Token, Step>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let store = &*shared.store;
        let unlock = || {
            if let Some(limit) = store::limit(deadline, COMMAND_CAP) {
                // A lock not released expires by itself.
                let _ = store.unlock(owner, limit);
            }
        };
        let second_look = match store::limit(deadline, COMMAND_CAP) {
            Some(limit) => store.get(limit),
            None => Ok(None),
        };
        match second_look {
            Ok(stored) => {
                if let Some(token) = self.usable(stored) {
                    unlock();
                    return Ok(token);
                }
            }
            Err(e) => {
                unlock();
                return Err(Step::Store("reading the token", e));
            }
        }
        let Some(fetch) = fetch.take() else {
            return Err(Step::Call(Error::new(
                ErrorKind::Internal,
                "the token fetch ran twice",
            )));
        };
        let token = match self.fetch_now(fetch) {
            Ok(token) => token,
            Err(e) => {
                unlock();
                return Err(Step::Call(e));
            }
        };
        let shared_token = SharedToken {
            value: Secret::new(token.value.expose()),
            use_until_unix_ms: token.use_until_unix_ms,
        };
        if let Some(limit) = store::limit(deadline, COMMAND_CAP) {
            match store.put(&shared_token, limit) {
                Ok(()) => unlock(),
                // The token is good: this process uses it alone.
                Err(e) => shared.health.failed("storing the new token", &e),
            }
        }
        Ok(token)
    }

    /// Fetches a token from the gateway and dates it on the client's clock.
    fn fetch_now<F>(&self, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Result<(String, Duration)>,
    {
        let (value, expires_in) = fetch()?;
        let lifetime = expires_in.saturating_sub(EXPIRY_MARGIN.min(expires_in / 2));
        let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        Ok(Token {
            value: Arc::new(Secret::new(value)),
            use_until_unix_ms: self.clock.now_unix_millis().saturating_add(lifetime_ms),
        })
    }

    /// A stored token this process may use now.
    fn usable(&self, stored: Option<SharedToken>) -> Option<Token> {
        let stored = stored?;
        if stored.use_until_unix_ms <= self.clock.now_unix_millis() {
            return None;
        }
        log(Level::Debug, || {
            "access token taken from the shared store".to_string()
        });
        Some(Token {
            value: Arc::new(stored.value),
            use_until_unix_ms: stored.use_until_unix_ms,
        })
    }

    fn valid(&self, slot: &Slot) -> Option<Arc<Secret>> {
        let now = self.clock.now_unix_millis();
        slot.current
            .as_ref()
            .filter(|t| now < t.use_until_unix_ms)
            .map(|t| t.value.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
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
    use crate::clock::ManualClock;

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
        cache.invalidate(&first, far());
        let second = cache
            .get(far(), || Ok(("b".into(), Duration::from_secs(3600))))
            .unwrap();
        assert_eq!(second.expose(), "b");
        cache.invalidate(&first, far()); // stale rejection: keeps "b"
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

    /// A shared store in memory, with a lock, as Redis behaves.
    #[derive(Default)]
    struct FakeStore {
        token: Mutex<Option<SharedToken>>,
        lock: Mutex<Option<String>>,
        fail: std::sync::atomic::AtomicBool,
        calls: AtomicUsize,
    }

    impl FakeStore {
        fn check(&self) -> std::result::Result<(), StoreError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(StoreError("fake failure".into()));
            }
            Ok(())
        }
    }

    impl TokenStore for FakeStore {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn get(&self, _: Duration) -> std::result::Result<Option<SharedToken>, StoreError> {
            self.check()?;
            Ok(self.token.lock().unwrap().clone())
        }
        fn put(&self, t: &SharedToken, _: Duration) -> std::result::Result<(), StoreError> {
            self.check()?;
            *self.token.lock().unwrap() = Some(t.clone());
            Ok(())
        }
        fn invalidate(&self, t: &str, _: Duration) -> std::result::Result<(), StoreError> {
            self.check()?;
            let mut stored = self.token.lock().unwrap();
            if stored.as_ref().is_some_and(|s| s.value.expose() == t) {
                *stored = None;
            }
            Ok(())
        }
        fn try_lock(
            &self,
            owner: &str,
            _: Duration,
            _: Duration,
        ) -> std::result::Result<bool, StoreError> {
            self.check()?;
            let mut lock = self.lock.lock().unwrap();
            if lock.is_some() {
                return Ok(false);
            }
            *lock = Some(owner.to_string());
            Ok(true)
        }
        fn unlock(&self, owner: &str, _: Duration) -> std::result::Result<(), StoreError> {
            self.check()?;
            let mut lock = self.lock.lock().unwrap();
            if lock.as_deref() == Some(owner) {
                *lock = None;
            }
            Ok(())
        }
    }

    fn process(clock: &Arc<ManualClock>, store: &Arc<FakeStore>) -> TokenCache {
        TokenCache::shared(
            clock.clone(),
            store.clone(),
            Arc::new(Health::new("fake".into(), clock.clone())),
        )
    }

    fn hour() -> Result<(String, Duration)> {
        Ok(("t-hour".into(), Duration::from_secs(3600)))
    }

    #[test]
    fn processes_share_one_token_through_the_store() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let store = Arc::new(FakeStore::default());
        let (a, b) = (process(&clock, &store), process(&clock, &store));
        assert_eq!(a.get(far(), hour).unwrap().expose(), "t-hour");
        assert_eq!(
            b.get(far(), || panic!("b must not fetch"))
                .unwrap()
                .expose(),
            "t-hour"
        );
        let stored = store.token.lock().unwrap().clone().unwrap();
        assert_eq!(
            stored.use_until_unix_ms,
            1_000_000_000 + 3_300_000,
            "expiresIn less the margin"
        );
        assert!(
            store.lock.lock().unwrap().is_none(),
            "the lock was released"
        );
        // Local copies first: no store call while they are valid.
        let calls = store.calls.load(Ordering::SeqCst);
        b.get(far(), || panic!("cached")).unwrap();
        assert_eq!(store.calls.load(Ordering::SeqCst), calls);
        // Past its use-until (on the client's clock) nobody uses it.
        clock.advance(Duration::from_secs(3300));
        assert_eq!(
            b.get(far(), || Ok(("t-next".into(), Duration::from_secs(3600))))
                .unwrap()
                .expose(),
            "t-next"
        );
        assert_eq!(
            a.get(far(), || panic!("a takes b's")).unwrap().expose(),
            "t-next"
        );
    }

    #[test]
    fn a_refused_token_is_deleted_from_the_store_only_if_still_stored() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let store = Arc::new(FakeStore::default());
        let (a, b) = (process(&clock, &store), process(&clock, &store));
        let old = a.get(far(), hour).unwrap();
        b.get(far(), || panic!("shared")).unwrap();
        b.invalidate(&b.get(far(), || panic!("cached")).unwrap(), far());
        let fresh = b
            .get(far(), || Ok(("t-fresh".into(), Duration::from_secs(3600))))
            .unwrap();
        a.invalidate(&old, far()); // a late 401 on the old token
        let stored = store.token.lock().unwrap().clone().unwrap();
        assert_eq!(
            stored.value.expose(),
            fresh.expose(),
            "the fresh token stays"
        );
        assert_eq!(
            a.get(far(), || panic!("a takes the fresh one"))
                .unwrap()
                .expose(),
            "t-fresh"
        );
    }

    #[test]
    fn a_process_waits_for_the_lock_holder_then_takes_its_token() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let store = Arc::new(FakeStore::default());
        *store.lock.lock().unwrap() = Some("another process".into());
        let waiter = Arc::new(process(&clock, &store));
        let thread = {
            let waiter = waiter.clone();
            std::thread::spawn(move || waiter.get(far(), || panic!("the holder fetches")))
        };
        // The waiter has asked the store at least three times (a read, the
        // lock, a read again) before the holder stores its token.
        while store.calls.load(Ordering::SeqCst) < 3 {
            std::thread::yield_now();
        }
        *store.token.lock().unwrap() = Some(SharedToken {
            value: Secret::new("from-the-holder"),
            use_until_unix_ms: 1_000_000_000 + 60_000,
        });
        assert_eq!(thread.join().unwrap().unwrap().expose(), "from-the-holder");
        // A waiter whose deadline passes first gives up, nothing sent.
        *store.token.lock().unwrap() = None;
        let late = process(&clock, &store);
        let e = late
            .get(Instant::now() + Duration::from_millis(30), || {
                panic!("locked")
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connect);
    }

    /// With under 5 ms left (too little to ask the store, too little to
    /// fetch), the call gives up without fetching alone. Before, it fetched
    /// alone: the wall-clock window of the test above (30 ms) could end in
    /// that path on a loaded machine and call the fetch.
    #[test]
    fn no_time_left_gives_up_without_fetching() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let store = Arc::new(FakeStore::default());
        *store.lock.lock().unwrap() = Some("another process".into());
        let late = process(&clock, &store);
        let e = late
            .get(Instant::now() + Duration::from_millis(3), || {
                panic!("no fetch without time for it")
            })
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Connect);
        assert!(e.message.contains("not sent"), "{e}");
    }

    #[test]
    fn a_failing_store_is_bypassed_and_retried_after_the_pause() {
        let clock = Arc::new(ManualClock::new(1_000_000_000));
        let store = Arc::new(FakeStore::default());
        store.fail.store(true, Ordering::SeqCst);
        let a = process(&clock, &store);
        assert_eq!(a.get(far(), hour).unwrap().expose(), "t-hour");
        assert!(a.store_down());
        let calls = store.calls.load(Ordering::SeqCst);
        assert_eq!(calls, 1, "one failed read, then alone");
        clock.advance(Duration::from_secs(3300));
        a.get(far(), || Ok(("t-2".into(), Duration::from_secs(3600))))
            .unwrap();
        assert_eq!(
            store.calls.load(Ordering::SeqCst),
            calls + 1,
            "retried once the pause passed"
        );
        store.fail.store(false, Ordering::SeqCst);
        clock.advance(Duration::from_secs(3300));
        a.get(far(), || Ok(("t-3".into(), Duration::from_secs(3600))))
            .unwrap();
        assert!(!a.store_down());
        assert_eq!(
            store.token.lock().unwrap().clone().unwrap().value.expose(),
            "t-3"
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
