//! Token mode across a fleet sharing one real Redis: each `Client` stands
//! in for one process (its own token cache, its own connections), the
//! in-process simulator counts the tokens it issues and invalidates (at most
//! 10 valid per appId, docs/protocol.md §3), and one hand-moved clock drives
//! both the clients' token expiry and the simulator's.

#[path = "common/redis_server.rs"]
mod redis_server;

use chinaums::clock::Clock as _;
use chinaums::store::{RedisBackend, RedisTokenStore, SharedToken, TokenStore};
use chinaums::{Client, ErrorKind};
use redis_server::fleet::{pay, run_together, Fleet};
use redis_server::{RedisServer, TlsFiles};
use serde_json::json;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use ums_sandbox::{demo, Fault};

const UPDATE_PATH: &str = "/v1/netpay/bills/update-qrcode";

fn token_key() -> String {
    format!("ums:token:{}", demo::APP_ID)
}

/// The token Redis holds for the demo app, if any.
fn stored_token(redis: &RedisServer) -> Option<String> {
    let value: Option<String> = redis::cmd("GET")
        .arg(token_key())
        .query(&mut redis.connection())
        .unwrap();
    value.map(|v| {
        chinaums::store::decode_token(v.as_bytes())
            .expect("the stored value is a token of this library")
            .value
            .expose()
            .to_string()
    })
}

/// Without redis-server these tests fail, saying what to install; they
/// never skip.
#[test]
#[should_panic(expected = "is not installed: these tests need a real Redis server")]
fn a_missing_redis_server_fails_the_test_clearly() {
    RedisServer::start_program("redis-server-that-is-not-installed");
}

/// (a) Twenty processes making calls together through one Redis: one token.
#[test]
fn twenty_processes_sharing_redis_use_one_token() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let clients = fleet.processes(20, &redis.url());
    let failures = run_together(&clients, 3);
    assert!(failures.is_empty(), "{failures:#?}");
    let stats = fleet.sandbox.stats();
    assert_eq!(stats.tokens_issued, 1, "one token for the whole fleet");
    assert_eq!(stats.tokens_invalidated, 0);
    assert_eq!(stats.auth_failures, 0);
    assert_eq!(stats.requests_to(UPDATE_PATH), 60);
    assert_eq!(
        stored_token(&redis).as_deref(),
        fleet
            .sandbox
            .live_tokens(demo::APP_ID)
            .last()
            .map(String::as_str)
    );
    for c in &clients {
        assert_eq!(
            c.token_store(),
            format!("redis://127.0.0.1:{}/0", redis.port())
        );
        assert!(!c.token_store_down());
    }
}

/// (a, the control) The same fleet with the memory store: every process
/// fetches its own token, more than ten, so the gateway invalidates some:
/// the failure this feature exists for, and proof the test above can fail.
#[test]
fn twenty_processes_with_memory_stores_spend_twenty_tokens() {
    let fleet = Fleet::new();
    let clients = fleet.processes(20, "memory");
    // Calls may fail here (a token pushed out twice): that is the point.
    let _ = run_together(&clients, 1);
    let stats = fleet.sandbox.stats();
    assert!(stats.tokens_issued >= 20, "{stats:?}");
    assert!(stats.tokens_invalidated > 0, "{stats:?}");
}

/// (b) With the clock moved past the tokens' lifetime again and again,
/// the fleet fetches one token per window, not one per process.
#[test]
fn one_refresh_per_expiry_window_fleet_wide() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let clients = fleet.processes(20, &redis.url());
    for window in 1..=3u64 {
        let failures = run_together(&clients, 2);
        assert!(failures.is_empty(), "window {window}: {failures:#?}");
        let stats = fleet.sandbox.stats();
        assert_eq!(stats.tokens_issued, window, "window {window}");
        assert_eq!(stats.tokens_invalidated, 0);
        assert_eq!(stats.auth_failures, 0, "no process used an expired token");
        fleet.expire_local_tokens();
    }
}

/// The memory store on the same clock: a token is kept until its window
/// ends and then refreshed (the cache's expiry follows the client's clock).
#[test]
fn the_local_cache_expires_on_the_clients_clock() {
    let fleet = Fleet::new();
    let client = fleet.process("memory");
    pay(&client).unwrap();
    pay(&client).unwrap();
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    fleet.clock.advance(Duration::from_secs(3000));
    pay(&client).unwrap();
    assert_eq!(
        fleet.sandbox.stats().tokens_issued,
        1,
        "3000 s: still valid"
    );
    fleet.clock.advance(Duration::from_secs(400));
    pay(&client).unwrap();
    assert_eq!(fleet.sandbox.stats().tokens_issued, 2, "3400 s: refreshed");
    assert_eq!(fleet.sandbox.stats().auth_failures, 0);
}

/// (c) A 401 on a stale token does not evict the fresh one: B's 401 makes
/// the fleet's one refresh; A, still holding the old token, gets a 401 too,
/// finds the fresh token in Redis and fetches nothing.
#[test]
fn a_401_on_a_stale_token_does_not_evict_a_fresh_one() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let a = fleet.process(&redis.url());
    let b = fleet.process(&redis.url());
    pay(&a).unwrap();
    pay(&b).unwrap();
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    let first = stored_token(&redis).unwrap();

    fleet
        .sandbox
        .inject_fault(UPDATE_PATH, Fault::TokenExpired, 1);
    pay(&b).unwrap();
    assert_eq!(fleet.sandbox.stats().tokens_issued, 2, "B refreshed once");
    let fresh = stored_token(&redis).unwrap();
    assert_ne!(fresh, first);

    fleet
        .sandbox
        .inject_fault(UPDATE_PATH, Fault::TokenExpired, 1);
    let before = fleet.sandbox.stats();
    pay(&a).unwrap();
    let after = fleet.sandbox.stats();
    assert_eq!(
        after.tokens_issued, 2,
        "A took the fresh token, fetched none"
    );
    assert_eq!(
        stored_token(&redis).as_deref(),
        Some(fresh.as_str()),
        "still stored"
    );
    assert_eq!(after.auth_failures - before.auth_failures, 1);
    assert_eq!(
        after.requests_to(UPDATE_PATH) - before.requests_to(UPDATE_PATH),
        2,
        "refused, resent once"
    );
}

/// (c, all at once) The fleet's token is pushed out at the gateway (ten
/// newer tokens of the same app, fetched by other programs): every process
/// gets a 401 for it, each invalidates it (compare-and-delete) and there is
/// one refresh in all.
#[test]
fn one_invalidation_means_one_refresh_fleet_wide() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let clients = fleet.processes(12, &redis.url());
    assert!(run_together(&clients, 1).is_empty());
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    for _ in 0..10 {
        pay(&fleet.process("memory")).unwrap();
    }
    let before = fleet.sandbox.stats();
    assert_eq!((before.tokens_issued, before.tokens_invalidated), (11, 1));
    let failures = run_together(&clients, 1);
    assert!(failures.is_empty(), "{failures:#?}");
    let after = fleet.sandbox.stats();
    assert_eq!(after.tokens_issued, 12, "one refresh for twelve refusals");
    assert_eq!(after.auth_failures - before.auth_failures, 12);
}

/// Compare-and-delete on the store itself: a stale token's invalidation
/// keeps the fresh token, the stored token's own removes it; the lock is
/// exclusive and released only by its owner.
#[test]
fn the_redis_store_compares_before_it_deletes() {
    let redis = RedisServer::start();
    let url = chinaums::config::RedisUrl::parse("tokenStore", &redis.url()).unwrap();
    let clock: Arc<dyn chinaums::clock::Clock> = Arc::new(chinaums::clock::SystemClock);
    let backend = Arc::new(RedisBackend::new("tokenStore", &url, None, clock.clone()).unwrap());
    let store = RedisTokenStore::new(backend, clock.clone(), "ums:", demo::APP_ID);
    let limit = Duration::from_secs(1);
    let until = clock.now_unix_millis() + 60_000;
    let token = |v: &str| SharedToken {
        value: chinaums::secret::Secret::new(v),
        use_until_unix_ms: until,
    };
    assert!(store.get(limit).unwrap().is_none());
    store.put(&token("fresh"), limit).unwrap();
    store.invalidate("stale", limit).unwrap();
    assert_eq!(store.get(limit).unwrap().unwrap().value.expose(), "fresh");
    store.invalidate("fresh", limit).unwrap();
    assert!(store.get(limit).unwrap().is_none());
    // A key that ends in the token but is another token is not deleted.
    store.put(&token("xfresh"), limit).unwrap();
    store.invalidate("fresh", limit).unwrap();
    assert!(store.get(limit).unwrap().is_some());

    assert!(store.try_lock("owner-1", limit, limit).unwrap());
    assert!(!store.try_lock("owner-2", limit, limit).unwrap());
    store.unlock("owner-2", limit).unwrap();
    assert!(
        !store.try_lock("owner-2", limit, limit).unwrap(),
        "not its lock"
    );
    store.unlock("owner-1", limit).unwrap();
    assert!(store.try_lock("owner-2", limit, limit).unwrap());
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("ums:lock:{}", demo::APP_ID))
        .query(&mut redis.connection())
        .unwrap();
    assert!(ttl > 0 && ttl <= 1000, "the lock expires by itself: {ttl}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(token_key())
        .query(&mut redis.connection())
        .unwrap();
    assert!(
        ttl > 50_000 && ttl <= 60_000,
        "the token's TTL ends at its use-until: {ttl}"
    );
}

/// A process that finds the lock taken waits for the token the holder
/// stores (within its own deadline), and one whose deadline passes first
/// fails "nothing sent" without fetching.
#[test]
fn a_process_waits_for_the_lock_holders_token() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let lock_key = format!("ums:lock:{}", demo::APP_ID);
    let mut con = redis.connection();
    let _: () = redis::cmd("SET")
        .arg(&lock_key)
        .arg("another-process")
        .arg("PX")
        .arg(60_000)
        .query(&mut con)
        .unwrap();
    let short = fleet.process_with(json!({"tokenStore": redis.url(), "timeoutMs": 300}));
    let started = Instant::now();
    let e = pay(&short).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connect, "{e}");
    assert!(e.message.contains("another process"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fleet.sandbox.stats().tokens_issued, 0);

    // The test plays the lock holder: while `waiter` waits (it has read
    // the store at least twice: INFO commandstats), it stores a token it
    // got elsewhere and releases the lock; `waiter` uses that token.
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut con)
        .unwrap();
    let waiter = fleet.process(&redis.url());
    let waiting = std::thread::spawn(move || pay(&waiter));
    let gets = |con: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("commandstats").query(con).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    };
    let watching = Instant::now();
    while gets(&mut con) < 2 {
        assert!(
            watching.elapsed() < Duration::from_secs(10),
            "the waiter never polled"
        );
        std::thread::yield_now();
    }
    let elsewhere = fleet.process("memory");
    pay(&elsewhere).unwrap();
    let token = fleet
        .sandbox
        .live_tokens(demo::APP_ID)
        .last()
        .unwrap()
        .clone();
    let until = fleet.clock.now_unix_millis() + 3_000_000;
    let _: () = redis::cmd("SET")
        .arg(token_key())
        .arg(format!("1:{until}:{token}"))
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("DEL").arg(&lock_key).query(&mut con).unwrap();
    waiting.join().unwrap().unwrap();
    let stats = fleet.sandbox.stats();
    assert_eq!(stats.tokens_issued, 1, "the waiter fetched none");
    assert_eq!(stats.auth_failures, 0);
}

/// (e) Claims: eight receivers claim one notifyId together, exactly one
/// gets it; after a release the next claim gets it; with Redis down each
/// receiver falls back to its own memory and says so.
#[test]
fn claims_are_exclusive_across_receivers() {
    let mut redis = RedisServer::start();
    let fleet = Fleet::new();
    let receivers: Vec<Arc<Client>> = fleet.processes(8, &redis.url());
    assert_eq!(receivers[0].claim_store(), receivers[0].token_store());
    let barrier = Arc::new(Barrier::new(receivers.len()));
    let threads: Vec<_> = receivers
        .iter()
        .map(|r| {
            let (r, barrier) = (r.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                r.notification_claim("notify-0001").unwrap()
            })
        })
        .collect();
    let claims: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(claims.iter().filter(|c| c.claimed).count(), 1, "{claims:?}");
    assert!(claims.iter().all(|c| c.store == "redis"));
    let ttl: i64 = redis::cmd("TTL")
        .arg("ums:notify:notify-0001")
        .query(&mut redis.connection())
        .unwrap();
    assert!(
        ttl > 24 * 3600 && ttl <= 25 * 3600,
        "24 h of retries and a margin: {ttl}"
    );

    // Processing failed on the claimer: released, the next delivery is processed.
    let winner = claims.iter().position(|c| c.claimed).unwrap();
    assert_eq!(
        receivers[winner]
            .release_notification("notify-0001")
            .unwrap()
            .store,
        "redis"
    );
    assert!(receivers[(winner + 1) % 8]
        .claim_notification("notify-0001")
        .unwrap());
    assert!(!receivers[winner].claim_notification("notify-0001").unwrap());

    // Redis down: never "already handled" for an unknown notification.
    redis.stop();
    let down = receivers[0].notification_claim("notify-0002").unwrap();
    assert_eq!((down.claimed, down.store), (true, "memory"));
    let again = receivers[0].notification_claim("notify-0002").unwrap();
    assert_eq!((again.claimed, again.store), (false, "memory"));
    assert!(
        receivers[1].claim_notification("notify-0002").unwrap(),
        "its own memory"
    );
}

/// A claim made in memory while Redis was down, and released then, is
/// released in Redis when it answers again; the claims' own keys use the
/// configured prefix; `claimStore: "memory"` keeps them in the process.
#[test]
fn claim_store_and_prefix_are_configurable() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let a = fleet.process_with(json!({"tokenStore": redis.url(), "tokenStorePrefix": "shop1:"}));
    assert!(a.claim_notification("n-1").unwrap());
    let exists: i64 = redis::cmd("EXISTS")
        .arg("shop1:notify:n-1")
        .query(&mut redis.connection())
        .unwrap();
    assert_eq!(exists, 1);
    pay(&a).unwrap();
    let exists: i64 = redis::cmd("EXISTS")
        .arg(format!("shop1:token:{}", demo::APP_ID))
        .query(&mut redis.connection())
        .unwrap();
    assert_eq!(exists, 1);

    let local = fleet.process_with(json!({"tokenStore": redis.url(), "claimStore": "memory"}));
    assert_eq!(local.claim_store(), "memory");
    let c = local.notification_claim("n-2").unwrap();
    assert_eq!((c.claimed, c.store), (true, "memory"));

    let claims_only =
        fleet.process_with(json!({"claimStore": redis.url(), "tokenStorePrefix": "shop1:"}));
    assert_eq!(claims_only.token_store(), "memory");
    assert!(
        !claims_only.claim_notification("n-1").unwrap(),
        "a's claim, seen in Redis"
    );
}

/// A release Redis did not receive (it was down) is sent when Redis
/// answers again, so the next delivery is processed by whichever receiver
/// gets it.
#[test]
fn a_release_redis_missed_is_sent_when_it_answers_again() {
    let mut redis = RedisServer::start();
    let fleet = Fleet::new();
    let a = fleet.process(&redis.url());
    let b = fleet.process(&redis.url());
    assert!(a.claim_notification("n-late").unwrap());
    redis.stop();
    assert_eq!(a.release_notification("n-late").unwrap().store, "memory");
    // Back, with the claim still there (as a server that kept its data).
    redis.restart();
    let _: () = redis::cmd("SET")
        .arg("ums:notify:n-late")
        .arg(1)
        .query(&mut redis.connection())
        .unwrap();
    assert!(!b.claim_notification("n-late").unwrap(), "not released yet");
    fleet.clock.advance(chinaums::store::RETRY_AFTER);
    // a's next use of Redis sends the release first.
    assert!(a.claim_notification("n-other").unwrap());
    assert!(b.claim_notification("n-late").unwrap(), "released");
}

/// A Redis restarted between two uses (the kept connection is dead) is not
/// an outage: the connection is replaced at once and the store still used.
#[test]
fn a_restart_between_uses_is_not_an_outage() {
    let mut redis = RedisServer::start();
    let fleet = Fleet::new();
    let clients = fleet.processes(2, &redis.url());
    assert!(run_together(&clients, 1).is_empty());
    redis.restart();
    fleet.expire_local_tokens();
    assert!(run_together(&clients, 1).is_empty());
    assert_eq!(
        fleet.sandbox.stats().tokens_issued,
        2,
        "one refresh, shared"
    );
    assert!(clients.iter().all(|c| !c.token_store_down()));
}

/// A value in the token key that this library did not write (another
/// program, a hand edit) is not used: it is replaced by the next fetch.
#[test]
fn a_foreign_value_in_the_token_key_is_replaced() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let _: () = redis::cmd("SET")
        .arg(token_key())
        .arg("not-a-token-of-ours")
        .query(&mut redis.connection())
        .unwrap();
    let client = fleet.process(&redis.url());
    pay(&client).unwrap();
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    assert_eq!(
        stored_token(&redis).as_deref(),
        fleet
            .sandbox
            .live_tokens(demo::APP_ID)
            .last()
            .map(String::as_str)
    );
    assert!(!client.token_store_down());
}

/// A Redis with a password: the URL's password is used and never shown.
#[test]
fn a_password_protected_redis_is_used_and_its_password_never_shown() {
    let redis = RedisServer::with_password("s3cret-pass");
    let fleet = Fleet::new();
    let clients = fleet.processes(3, &redis.url());
    assert!(run_together(&clients, 1).is_empty());
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    let shown = format!(
        "{} {:?} {:?}",
        clients[0].token_store(),
        clients[0],
        clients[0].config()
    );
    assert!(!shown.contains("s3cret-pass"), "{shown}");

    // The wrong password: calls still succeed, alone.
    let wrong = redis.url().replace("s3cret-pass", "wrong-pass");
    let alone = fleet.process(&wrong);
    pay(&alone).unwrap();
    assert!(alone.token_store_down());
}

/// `rediss://` with a CA made at test time (`redisCaFile`): shared over
/// TLS. Without the CA (the system's trust store does not know it) the
/// store is refused, and the calls still succeed alone.
#[test]
fn rediss_with_the_configured_ca() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "ums redis test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ums-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = TlsFiles {
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        ca: dir.join("ca.pem"),
    };
    std::fs::write(&files.cert, cert.pem()).unwrap();
    std::fs::write(&files.key, key.serialize_pem()).unwrap();
    std::fs::write(&files.ca, ca.pem()).unwrap();
    let redis = RedisServer::with_tls(files.clone());
    assert!(redis.url().starts_with("rediss://"));

    let fleet = Fleet::new();
    let ca_file = files.ca.to_str().unwrap();
    let clients: Vec<Arc<Client>> = (0..3)
        .map(|_| {
            Arc::new(fleet.process_with(json!({"tokenStore": redis.url(), "redisCaFile": ca_file})))
        })
        .collect();
    let failures = run_together(&clients, 2);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);
    assert!(stored_token(&redis).is_some());

    let untrusting = fleet.process(&redis.url());
    pay(&untrusting).unwrap();
    assert!(untrusting.token_store_down(), "an unknown CA is refused");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad store settings are config errors naming the key; none repeats a
/// password.
#[test]
fn bad_store_settings_are_config_errors() {
    let fleet = Fleet::new();
    let bad = |extra: serde_json::Value| {
        let mut c = json!({
            "environment": fleet.sandbox.base_url(), "appId": demo::APP_ID,
            "appKey": demo::APP_KEY, "auth": "token",
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        chinaums::Config::from_json(&c.to_string()).unwrap_err()
    };
    for (extra, field) in [
        (json!({"tokenStore": "redis//nope"}), "tokenStore"),
        (json!({"tokenStore": "http://127.0.0.1:6379"}), "tokenStore"),
        (json!({"tokenStore": "redis://:pw-123@"}), "tokenStore"),
        (
            json!({"tokenStore": "redis://:pw-123@host:99999/0"}),
            "tokenStore",
        ),
        (
            json!({"tokenStore": "redis://:pw-123@host/x"}),
            "tokenStore",
        ),
        (
            json!({"tokenStore": "rediss://:pw-123@host#insecure"}),
            "tokenStore",
        ),
        (
            json!({"tokenStore": "redis://:pw-123@host?protocol=resp3"}),
            "tokenStore",
        ),
        (json!({"tokenStore": 6379}), "tokenStore"),
        (json!({"claimStore": "memcached://host"}), "claimStore"),
        (json!({"tokenStorePrefix": ""}), "tokenStorePrefix"),
        (json!({"tokenStorePrefix": "a b"}), "tokenStorePrefix"),
        (json!({"redisCaFile": "/etc/hostname"}), "redisCaFile"),
        (
            json!({"tokenStore": "rediss://h:1", "redisCaFile": "/nonexistent.pem"}),
            "redisCaFile",
        ),
    ] {
        let e = bad(extra.clone());
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::Config, Some(field)),
            "{extra}"
        );
        assert!(!e.message.contains("pw-123"), "{}", e.message);
    }
    // A CA file that is not PEM: refused when the client is built.
    let config =
        fleet.config(json!({"tokenStore": "rediss://127.0.0.1:1", "redisCaFile": "/etc/hostname"}));
    let e = Client::new(config).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("redisCaFile"));
}

/// The per-call cost of the Redis store against the memory store, in
/// steady state (every process holds its token: Redis is not asked), and
/// of the shared path itself (a process whose local copy expired reads the
/// stored token). Printed; run with
/// `cargo test --release --test redis_tokens -- --nocapture store_cost`.
#[test]
fn store_cost_per_call() {
    let redis = RedisServer::start();
    let fleet = Fleet::new();
    let memory = fleet.process("memory");
    let shared = fleet.process(&redis.url());
    pay(&memory).unwrap();
    pay(&shared).unwrap();
    const CALLS: u32 = 100;
    const ROUNDS: usize = 15;
    let per_call = |client: &Client| {
        let started = Instant::now();
        for _ in 0..CALLS {
            pay(client).unwrap();
        }
        started.elapsed() / CALLS
    };
    // Interleaved rounds (the order swapped every round), and the median of
    // the per-round ratios: this VM's speed drifts between seconds by more
    // than the difference measured, so only neighbouring batches compare.
    let (mut ms, mut rs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (m, r) = if round % 2 == 0 {
            let m = per_call(&memory);
            (m, per_call(&shared))
        } else {
            let r = per_call(&shared);
            (per_call(&memory), r)
        };
        ms.push(m);
        rs.push(r);
        ratios.push(r.as_secs_f64() / m.as_secs_f64());
    }
    ms.sort();
    rs.sort();
    ratios.sort_by(f64::total_cmp);
    let (m, r, ratio) = (ms[ROUNDS / 2], rs[ROUNDS / 2], ratios[ROUNDS / 2]);
    // The shared path: the cache of a process that must read Redis.
    let shared_cache = || {
        let url = chinaums::config::RedisUrl::parse("tokenStore", &redis.url()).unwrap();
        let backend =
            Arc::new(RedisBackend::new("tokenStore", &url, None, fleet.clock.clone()).unwrap());
        let health = backend.health.clone();
        let store = RedisTokenStore::new(backend, fleet.clock.clone(), "ums:", demo::APP_ID);
        chinaums::token::TokenCache::shared(fleet.clock.clone(), Arc::new(store), health)
    };
    let far = Instant::now() + Duration::from_secs(30);
    const READS: u32 = 300;
    let started = Instant::now();
    for _ in 0..READS {
        shared_cache()
            .get(far, || panic!("the stored token is used"))
            .unwrap();
    }
    let cold = started.elapsed() / READS;
    let cache = shared_cache();
    cache
        .get(far, || panic!("the stored token is used"))
        .unwrap();
    let started = Instant::now();
    for _ in 0..READS * 100 {
        cache.get(far, || panic!("cached")).unwrap();
    }
    let hit = started.elapsed() / (READS * 100);
    // One read of the stored token on a kept connection (what a process
    // whose copy expired pays, once per expiry window).
    let url = chinaums::config::RedisUrl::parse("tokenStore", &redis.url()).unwrap();
    let backend =
        Arc::new(RedisBackend::new("tokenStore", &url, None, fleet.clock.clone()).unwrap());
    let store = RedisTokenStore::new(backend, fleet.clock.clone(), "ums:", demo::APP_ID);
    store.get(Duration::from_secs(1)).unwrap().unwrap();
    let started = Instant::now();
    for _ in 0..READS * 10 {
        store.get(Duration::from_secs(1)).unwrap().unwrap();
    }
    let warm = started.elapsed() / (READS * 10);
    println!(
        "store cost: update-qrcode per call (steady state, loopback simulator): memory {m:?}, redis {r:?}, \
         redis/memory {ratio:.3} (median of {ROUNDS} interleaved rounds); \
         local hit of a Redis-backed cache {hit:?}; a read of the stored token: kept connection {warm:?}, \
         new connection {cold:?}"
    );
    assert_eq!(fleet.sandbox.stats().tokens_issued, 2, "one per process");
}
