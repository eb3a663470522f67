//! The app key and the notification key are wiped from memory when the
//! client is freed: a global allocator in this test binary looks into every
//! block freed while a client is built, used and dropped, and records any
//! that still holds either key.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const APP_KEY: &[u8] = b"APPKEY-7f3e9c1d2b4a6f8e0d1c3b5a7e9f1d2c";
const NOTIFY_KEY: &[u8] = b"NOTIFYKEY-a1b2c3d4e5f60718293a4b5c6d7e8f90";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FREED_WITH_A_KEY: AtomicUsize = AtomicUsize::new(0);

struct Inspecting;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::Relaxed) && layout.size() >= APP_KEY.len().min(NOTIFY_KEY.len())
        {
            let block = std::slice::from_raw_parts(ptr, layout.size());
            if contains(block, APP_KEY) || contains(block, NOTIFY_KEY) {
                FREED_WITH_A_KEY.fetch_add(1, Ordering::Relaxed);
            }
        }
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: Inspecting = Inspecting;

#[test]
fn keys_are_wiped_before_their_memory_is_freed() {
    // The caller's own text holds the keys; the test wipes it at the end.
    let mut config = format!(
        r#"{{"environment":"https://gateway.invalid","appId":"app","appKey":"{}","notifyKey":"{}","mid":"898340149000005","tid":"00000001"}}"#,
        std::str::from_utf8(APP_KEY).unwrap(),
        std::str::from_utf8(NOTIFY_KEY).unwrap()
    );
    WATCHING.store(true, Ordering::SeqCst);
    {
        let client = chinaums::Client::from_json(&config).unwrap();
        let request = r#"{"qrCodeId":"31942002267733902130410550","totalAmount":"26"}"#;
        let prepared = client
            .prepare_call("update-qrcode", request, client.now())
            .unwrap();
        let authorization = client.authorization_for(&prepared.body);
        assert!(authorization.starts_with("OPEN-BODY-SIG AppId=\"app\""));
        assert!(
            !format!("{client:?}").contains("APPKEY"),
            "Debug never shows the key"
        );
        // A config error must not leak the key either.
        // Built in place (a growing String would free copies of the keys).
        let mut bad = String::with_capacity(config.len());
        bad.push_str(&config);
        bad.replace_range(
            bad.find("898340149000005").unwrap()..bad.find("898340149000005").unwrap() + 15,
            "1",
        );
        assert!(chinaums::Client::from_json(&bad).is_err());
        chinaums::secret::wipe(&mut bad); // the test's own copy
    }
    WATCHING.store(false, Ordering::SeqCst);
    chinaums::secret::wipe(&mut config);
    assert_eq!(
        FREED_WITH_A_KEY.load(Ordering::SeqCst),
        0,
        "a block still holding a key was freed"
    );
    // The check can fail: freeing an unwiped copy is seen.
    WATCHING.store(true, Ordering::SeqCst);
    drop(String::from_utf8(APP_KEY.to_vec()).unwrap());
    WATCHING.store(false, Ordering::SeqCst);
    assert_eq!(FREED_WITH_A_KEY.load(Ordering::SeqCst), 1);
}
