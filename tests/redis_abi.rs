//! The C ABI of the fleet features, called as a C program would (the
//! `extern "C"` functions directly, like tests/vectors.rs):
//! `ums_client_new` with `tokenStore`, `ums_client_new_with_token_store`
//! with callbacks, `ums_notify_claim` and `ums_notify_release`.

#[path = "common/redis_server.rs"]
mod redis_server;

use redis_server::RedisServer;
use serde_json::{json, Value};
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Mutex;
use ums::*;
use ums_sandbox::{demo, Fault, Sandbox};

const UPDATE_PATH: &str = "/v1/netpay/bills/update-qrcode";

fn doc(buf: &[u8]) -> Value {
    let end = buf.iter().position(|b| *b == 0).unwrap();
    serde_json::from_slice(&buf[..end]).unwrap()
}

fn config(sandbox: &Sandbox, extra: Value) -> CString {
    let mut c = demo::client_config(&sandbox.base_url(), json!({"auth": "token"}));
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    CString::new(c.to_string()).unwrap()
}

/// `ums_client_new` (or `_with_token_store` when `store` is given): the
/// status, the handle and the document.
fn new_client(
    config: &CString,
    store: Option<&UmsTokenStore>,
) -> (UmsStatus, *mut UmsClient, Value) {
    let mut client = std::ptr::null_mut();
    let mut buf = vec![0u8; 4096];
    let mut len = 0usize;
    let status = unsafe {
        match store {
            Some(store) => ums_client_new_with_token_store(
                config.as_ptr(),
                store,
                &mut client,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            ),
            None => ums_client_new(
                config.as_ptr(),
                &mut client,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            ),
        }
    };
    (status, client, doc(&buf))
}

fn update(client: *mut UmsClient, n: u32) -> (UmsStatus, Value) {
    let today = chinaums::clock::BeijingTime::from_unix_millis(
        chinaums::clock::Clock::now_unix_millis(&chinaums::clock::SystemClock),
    )
    .date();
    let request = CString::new(
        json!({
            "qrCodeId": demo::SEED_QR_CODE_ID,
            "billNo": format!("3194{:024}", u128::from(n) + u128::from(std::process::id()) * 1_000_000),
            "billDate": today,
            "totalAmount": 26,
        })
        .to_string(),
    )
    .unwrap();
    let mut buf = vec![0u8; 8192];
    let mut len = 0usize;
    let status = unsafe {
        ums_update_qrcode(
            client,
            request.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut len,
        )
    };
    (status, doc(&buf))
}

/// A shared cache as an integrator would have one, behind C callbacks.
#[derive(Default)]
struct TestStore {
    token: Mutex<Option<(String, i64)>>,
    /// What `get` returns: 0 (normal), or a forced status.
    get_rc: AtomicI32,
    /// Forced garbage from `get`: 0 none, 1 too long, 2 not ASCII, 3 no expiry.
    garbage: AtomicI32,
    gets: AtomicUsize,
    puts: AtomicUsize,
    invalidations: AtomicUsize,
    deleted: AtomicUsize,
}

unsafe extern "C" fn store_get(
    userdata: *mut c_void,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
    expires: *mut i64,
) -> c_int {
    let store = &*(userdata as *const TestStore);
    store.gets.fetch_add(1, Ordering::SeqCst);
    let forced = store.get_rc.load(Ordering::SeqCst);
    if forced != 0 {
        return forced;
    }
    match store.garbage.load(Ordering::SeqCst) {
        1 => {
            *len = cap + 1;
            *expires = i64::MAX;
            return 0;
        }
        2 => {
            let bytes = "tök".as_bytes();
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
            *len = bytes.len();
            *expires = i64::MAX;
            return 0;
        }
        3 => {
            *buf = b'x' as c_char;
            *len = 1;
            *expires = 0;
            return 0;
        }
        _ => {}
    }
    match &*store.token.lock().unwrap() {
        Some((token, until)) => {
            assert!(token.len() <= cap);
            std::ptr::copy_nonoverlapping(token.as_ptr(), buf.cast::<u8>(), token.len());
            *len = token.len();
            *expires = *until;
            0
        }
        None => 1,
    }
}

unsafe extern "C" fn store_put(userdata: *mut c_void, token: *const c_char, until: i64) -> c_int {
    let store = &*(userdata as *const TestStore);
    store.puts.fetch_add(1, Ordering::SeqCst);
    let token = std::ffi::CStr::from_ptr(token)
        .to_str()
        .unwrap()
        .to_string();
    *store.token.lock().unwrap() = Some((token, until));
    0
}

unsafe extern "C" fn store_invalidate(userdata: *mut c_void, token: *const c_char) -> c_int {
    let store = &*(userdata as *const TestStore);
    store.invalidations.fetch_add(1, Ordering::SeqCst);
    let token = std::ffi::CStr::from_ptr(token).to_str().unwrap();
    let mut stored = store.token.lock().unwrap();
    if stored.as_ref().is_some_and(|(t, _)| t == token) {
        *stored = None;
        store.deleted.fetch_add(1, Ordering::SeqCst);
    }
    0
}

fn callbacks(store: &TestStore) -> UmsTokenStore {
    UmsTokenStore {
        userdata: store as *const TestStore as *mut c_void,
        get: Some(store_get),
        put: Some(store_put),
        invalidate: Some(store_invalidate),
    }
}

#[test]
fn the_client_document_names_the_stores_without_the_password() {
    let sandbox = Sandbox::start_default().unwrap();
    let (status, client, d) = new_client(
        &config(
            &sandbox,
            json!({"tokenStore": "redis://:hunter2-pw@127.0.0.1:1/3"}),
        ),
        None,
    );
    assert_eq!(status, UMS_OK, "{d}");
    assert_eq!(d["tokenStore"], "redis://127.0.0.1:1/3");
    assert_eq!(d["claimStore"], "redis://127.0.0.1:1/3");
    assert!(!d.to_string().contains("hunter2-pw"));
    unsafe { ums_client_free(client) };
    let (_, client, d) = new_client(&config(&sandbox, json!({})), None);
    assert_eq!(
        (d["tokenStore"].as_str(), d["claimStore"].as_str()),
        (Some("memory"), Some("memory"))
    );
    unsafe { ums_client_free(client) };

    let (status, client, d) = new_client(
        &config(
            &sandbox,
            json!({"tokenStore": "redis://:hunter2-pw@127.0.0.1:1/x"}),
        ),
        None,
    );
    assert_eq!((status, client.is_null()), (UMS_ERR_CONFIG, true));
    assert_eq!(d["field"], "tokenStore");
    assert!(!d.to_string().contains("hunter2-pw"), "{d}");
}

/// Three C clients (three processes) share one token through callbacks; a
/// 401 invalidates exactly that token (compare-and-delete) and the fresh
/// one is stored.
#[test]
fn a_callback_store_shares_the_token_between_clients() {
    let sandbox = Sandbox::start_default().unwrap();
    let store = Box::new(TestStore::default());
    let cb = callbacks(&store);
    let cfg = config(&sandbox, json!({}));
    let clients: Vec<*mut UmsClient> = (0..3)
        .map(|_| {
            let (status, client, d) = new_client(&cfg, Some(&cb));
            assert_eq!(status, UMS_OK, "{d}");
            assert_eq!(d["tokenStore"], "callback");
            client
        })
        .collect();
    for (i, client) in clients.iter().enumerate() {
        let (status, d) = update(*client, i as u32);
        assert_eq!(status, UMS_OK, "{d}");
    }
    assert_eq!(sandbox.stats().tokens_issued, 1);
    assert_eq!(store.puts.load(Ordering::SeqCst), 1);
    let first = store.token.lock().unwrap().clone().unwrap();
    assert_eq!(Some(&first.0), sandbox.live_tokens(demo::APP_ID).last());
    let now = chinaums::clock::Clock::now_unix_millis(&chinaums::clock::SystemClock);
    assert!(
        first.1 > now + 3_000_000 && first.1 <= now + 3_300_000,
        "use-until: expiresIn less the margin"
    );

    sandbox.inject_fault(UPDATE_PATH, Fault::TokenExpired, 1);
    let (status, d) = update(clients[1], 10);
    assert_eq!(status, UMS_OK, "{d}");
    assert_eq!(store.invalidations.load(Ordering::SeqCst), 1);
    assert_eq!(store.deleted.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.stats().tokens_issued, 2);
    let fresh = store.token.lock().unwrap().clone().unwrap();
    assert_ne!(fresh.0, first.0);

    // Client 0 still holds the old token: its 401 must not delete the fresh one.
    sandbox.inject_fault(UPDATE_PATH, Fault::TokenExpired, 1);
    let (status, d) = update(clients[0], 11);
    assert_eq!(status, UMS_OK, "{d}");
    assert_eq!(store.invalidations.load(Ordering::SeqCst), 2);
    assert_eq!(
        store.deleted.load(Ordering::SeqCst),
        1,
        "compare-and-delete kept the fresh token"
    );
    assert_eq!(store.token.lock().unwrap().clone().unwrap().0, fresh.0);
    assert_eq!(
        sandbox.stats().tokens_issued,
        2,
        "client 0 took the fresh token"
    );
    for client in clients {
        unsafe { ums_client_free(client) };
    }
}

/// A callback that fails, or returns garbage, never fails a call.
#[test]
fn a_failing_callback_never_fails_a_call() {
    let sandbox = Sandbox::start_default().unwrap();
    for (rc, garbage) in [(-1, 0), (-77, 0), (7, 0), (0, 1), (0, 2), (0, 3)] {
        let store = Box::new(TestStore::default());
        store.get_rc.store(rc, Ordering::SeqCst);
        store.garbage.store(garbage, Ordering::SeqCst);
        let cb = callbacks(&store);
        let (status, client, _) = new_client(&config(&sandbox, json!({})), Some(&cb));
        assert_eq!(status, UMS_OK);
        for n in 0..3 {
            let (status, d) = update(client, 100 + n + 10 * garbage as u32 + rc.unsigned_abs());
            assert_eq!(status, UMS_OK, "rc {rc} garbage {garbage}: {d}");
        }
        assert_eq!(
            store.gets.load(Ordering::SeqCst),
            1,
            "left alone after the failure"
        );
        assert_eq!(store.puts.load(Ordering::SeqCst), 0);
        unsafe { ums_client_free(client) };
    }
}

#[test]
fn bad_token_store_arguments() {
    let sandbox = Sandbox::start_default().unwrap();
    let cfg = config(&sandbox, json!({}));
    let mut client = std::ptr::dangling_mut::<UmsClient>();
    let mut buf = vec![0u8; 1024];
    let mut len = 0usize;
    let s = unsafe {
        ums_client_new_with_token_store(
            cfg.as_ptr(),
            std::ptr::null(),
            &mut client,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!((s, client.is_null()), (UMS_ERR_NULL_POINTER, true));
    let store = TestStore::default();
    for missing in 0..3 {
        let mut cb = callbacks(&store);
        match missing {
            0 => cb.get = None,
            1 => cb.put = None,
            _ => cb.invalidate = None,
        }
        let (s, client, d) = new_client(&cfg, Some(&cb));
        assert_eq!(
            (s, client.is_null()),
            (UMS_ERR_INVALID_ARGUMENT, true),
            "{d}"
        );
    }
    let cb = callbacks(&store);
    let (s, client, d) = new_client(
        &config(&sandbox, json!({"tokenStore": "redis://127.0.0.1:1"})),
        Some(&cb),
    );
    assert_eq!((s, client.is_null()), (UMS_ERR_CONFIG, true));
    assert_eq!(d["field"], "tokenStore");
    let (s, client, _) = new_client(
        &config(&sandbox, json!({"tokenStore": "memory"})),
        Some(&cb),
    );
    assert_eq!(s, UMS_OK);
    unsafe { ums_client_free(client) };
    let s = unsafe {
        ums_client_new_with_token_store(
            cfg.as_ptr(),
            &cb,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, UMS_ERR_NULL_POINTER);
}

fn claim_call(
    f: unsafe extern "C" fn(
        *const UmsClient,
        *const c_char,
        *mut c_char,
        usize,
        *mut usize,
    ) -> UmsStatus,
    client: *const UmsClient,
    id: &[u8],
    cap: usize,
) -> (UmsStatus, usize, Option<Value>) {
    let id = CString::new(id).unwrap();
    let mut buf = vec![0u8; cap.max(1)];
    let mut len = 0usize;
    let s = unsafe { f(client, id.as_ptr(), buf.as_mut_ptr().cast(), cap, &mut len) };
    let d = (buf[0] != 0).then(|| doc(&buf));
    (s, len, d)
}

#[test]
fn notify_claim_and_release_in_memory() {
    let sandbox = Sandbox::start_default().unwrap();
    let (_, client, _) = new_client(&config(&sandbox, json!({})), None);
    let claim = |id: &[u8]| claim_call(ums_notify_claim, client, id, 256);
    let release = |id: &[u8]| claim_call(ums_notify_release, client, id, 256);
    assert_eq!(
        claim(b"n-1").2.unwrap(),
        json!({"claimed": true, "store": "memory"})
    );
    assert_eq!(
        claim(b"n-1").2.unwrap(),
        json!({"claimed": false, "store": "memory"})
    );
    assert_eq!(
        release(b"n-1").2.unwrap(),
        json!({"released": true, "store": "memory"})
    );
    assert_eq!(claim(b"n-1").2.unwrap()["claimed"], true);

    // Below UMS_MIN_OUT_CAP nothing is claimed.
    let (s, len, d) = claim_call(ums_notify_claim, client, b"n-2", 255);
    assert_eq!((s, len), (UMS_ERR_BUFFER_TOO_SMALL, UMS_MIN_OUT_CAP - 1));
    assert_eq!(d.unwrap()["nothingSent"], true);
    assert_eq!(
        claim(b"n-2").2.unwrap()["claimed"],
        true,
        "the small call claimed nothing"
    );

    let (s, _, d) = claim(b"a b");
    assert_eq!(s, UMS_ERR_INVALID_ARGUMENT, "{d:?}");
    let (s, _, _) = claim(b"\xff\xfe");
    assert_eq!(s, UMS_ERR_INVALID_UTF8);
    let mut buf = vec![0u8; 256];
    let mut len = 0usize;
    let s = unsafe {
        ums_notify_claim(
            client,
            std::ptr::null(),
            buf.as_mut_ptr().cast(),
            256,
            &mut len,
        )
    };
    assert_eq!(s, UMS_ERR_NULL_POINTER);
    let id = CString::new("n-3").unwrap();
    let s = unsafe {
        ums_notify_release(
            std::ptr::null(),
            id.as_ptr(),
            buf.as_mut_ptr().cast(),
            256,
            &mut len,
        )
    };
    assert_eq!(s, UMS_ERR_NULL_POINTER);
    unsafe { ums_client_free(client) };
}

/// Two C receivers on one Redis: one claim wins; tokens are shared too.
#[test]
fn notify_claims_and_tokens_through_redis() {
    let mut redis = RedisServer::start();
    let sandbox = Sandbox::start_default().unwrap();
    let cfg = config(&sandbox, json!({"tokenStore": redis.url()}));
    let (_, a, _) = new_client(&cfg, None);
    let (_, b, _) = new_client(&cfg, None);
    assert_eq!(update(a, 200).0, UMS_OK);
    assert_eq!(update(b, 201).0, UMS_OK);
    assert_eq!(sandbox.stats().tokens_issued, 1);
    let first = claim_call(ums_notify_claim, a, b"n-redis", 256).2.unwrap();
    let second = claim_call(ums_notify_claim, b, b"n-redis", 256).2.unwrap();
    assert_eq!(first, json!({"claimed": true, "store": "redis"}));
    assert_eq!(second, json!({"claimed": false, "store": "redis"}));
    assert_eq!(
        claim_call(ums_notify_release, a, b"n-redis", 256)
            .2
            .unwrap(),
        json!({"released": true, "store": "redis"})
    );
    assert_eq!(
        claim_call(ums_notify_claim, b, b"n-redis", 256).2.unwrap()["claimed"],
        true
    );

    // Redis gone: the receivers still answer, from memory, and say so; a
    // release then is sent once Redis answers again.
    redis.stop();
    let down = claim_call(ums_notify_claim, a, b"n-down", 256).2.unwrap();
    assert_eq!(down, json!({"claimed": true, "store": "memory"}));
    assert_eq!(
        claim_call(ums_notify_release, b, b"n-redis", 256)
            .2
            .unwrap(),
        json!({"released": true, "store": "memory"})
    );
    unsafe {
        ums_client_free(a);
        ums_client_free(b);
    }
}
