//! `cargo bench --bench bench`: the Rust-side rows of BENCHMARKS.md, printed as
//! JSON lines (`{"row":..,"median_ns":..}` or `{"row":..,"value":..}`) that
//! `scripts/bench` gathers into one table with the binding rows.
//!
//! A hand-written harness (no criterion): each row runs its closure in
//! batches sized to ~10 ms, 31 batches, and reports the median time per
//! iteration, which is robust to the other core's noise.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ums::clock::{BeijingTime, FixedClock, FixedNonce};
use ums::sandbox::demo;
use ums::{Client, Config};

const BATCHES: usize = 31;

/// Median nanoseconds per call of `f`.
fn median_ns(mut f: impl FnMut()) -> f64 {
    // Size a batch to about 10 ms.
    let mut per_batch = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..per_batch {
            f();
        }
        if t.elapsed() >= Duration::from_millis(10) || per_batch >= 1 << 24 {
            break;
        }
        per_batch *= 2;
    }
    let mut samples: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[BATCHES / 2]
}

fn row_ns(row: &str, ns: f64) {
    println!("{}", json!({"row": row, "median_ns": ns}));
}

fn row_value(row: &str, value: f64, unit: &str) {
    println!("{}", json!({"row": row, "value": value, "unit": unit}));
}

fn seed_request(bill_no: &str) -> serde_json::Map<String, serde_json::Value> {
    json!({
        "subMchntInfo": "", "mid": demo::MID, "tid": demo::TID, "instMid": "QRPAYDEFAULT",
        "qrCodeId": demo::SEED_QR_CODE_ID, "msgId": "800000000010", "srcReserve": "test",
        "billNo": bill_no, "billDate": "2026-11-27", "billDesc": "updateQRCode", "totalAmount": "26",
        "goods": "[{\"goodsId\":\"001\",\"goodsName\":\"鸡蛋\",\"quantity\":\"10\",\"price\":\"1\",\"goodsCategory\":\"food meterial\",\"body\":\"two eggs\"}]",
        "memberId": "20200226001", "counterNo": "06", "expireTime": "2026-11-28 13:31:59",
        "notifyUrl": "http://www.test.com/notify", "returnUrl": "http://www.test.com/return",
        "systemId": demo::SEED_QR_CODE_ID, "secureTransaction": "false", "walletOption": "SINGLE",
        "name": "张*三", "mobile": "131****3453", "certType": "IDENTITY_CARD", "certNo": "110101********9008",
        "fixBuyer": "false", "preauthTransaction": "false", "installmentNumber": "12",
        "retCommParams": "{\"foodOrderType\":\"pre_order\",\"brandId\":\"3421234\",\"storeId\":\"2412343\",\"tableNo\":\"341\",\"parkId\":\"\",\"vehicleNo\":\"\"}",
        "attachedData": "test", "clientIp": "1.1.1.1", "isEfrcPs": "", "psPpt": "",
    })
    .as_object()
    .unwrap()
    .clone()
}

/// `ums-sandbox --port 0` in a child process, killed on drop.
struct ExternalSandbox {
    child: std::process::Child,
    url: String,
}

impl ExternalSandbox {
    fn start() -> ExternalSandbox {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ums-sandbox"))
            .args(["--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start ums-sandbox");
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep draining its output so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = first.trim().rsplit(' ').next().unwrap().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "unexpected first line: {first}"
        );
        ExternalSandbox { child, url }
    }
}

impl Drop for ExternalSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() {
    let only: Option<String> = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let wants = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));

    let body = vec![b'x'; 1024];
    let (app_id, app_key) = (demo::APP_ID, demo::APP_KEY);
    let (ts, nonce) = ("20261127120000", "0123456789abcdef0123456789abcdef");

    if wants("sign") {
        row_ns(
            "raw SHA-256(1 KiB) + HMAC-SHA256",
            median_ns(|| {
                let digest = Sha256::digest(black_box(&body));
                let mut mac = Hmac::<Sha256>::new_from_slice(app_key.as_bytes()).unwrap();
                mac.update(app_id.as_bytes());
                mac.update(ts.as_bytes());
                mac.update(nonce.as_bytes());
                mac.update(&digest); // same length of input as the hex, close enough for the floor
                mac.update(&digest);
                black_box(mac.finalize());
            }),
        );
        row_ns(
            "OPEN-BODY-SIG 1 KiB (signature + header)",
            median_ns(|| {
                black_box(ums::sign::sign_body(
                    app_id,
                    app_key,
                    ts,
                    nonce,
                    black_box(&body),
                ));
            }),
        );
    }

    let at = BeijingTime::parse_date_time("2026-11-27 12:00:00")
        .unwrap()
        .to_unix_millis();
    let offline_config = Config::from_json(
        &json!({"environment": "https://gateway.invalid", "appId": app_id, "appKey": app_key})
            .to_string(),
    )
    .unwrap();
    let offline = Client::with_clock_and_nonces(
        offline_config,
        Arc::new(FixedClock(at)),
        Arc::new(FixedNonce(nonce.into())),
    )
    .unwrap();

    if wants("build") {
        let request = seed_request("31940000000000000000000001");
        row_ns(
            "build seed update-qrcode (defaults, checks, JSON, signature)",
            median_ns(|| {
                let prepared = offline
                    .prepare(&ums::ops::UPDATE_QRCODE, black_box(request.clone()))
                    .unwrap();
                black_box(offline.authorization_for(&prepared.body));
            }),
        );
    }

    if wants("notify") {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/vectors.json")).unwrap();
        let sha = vectors["notify_sign"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| {
                v["form_body"]
                    .as_str()
                    .is_some_and(|b| b.contains("signType=SHA256"))
                    && v["valid"] == true
            })
            .unwrap();
        let (key, form) = (
            sha["key"].as_str().unwrap(),
            sha["form_body"].as_str().unwrap(),
        );
        row_ns(
            "verify SHA256 notification (vectors.json)",
            median_ns(|| {
                black_box(ums::notify::verify(key, black_box(form.as_bytes())).unwrap());
            }),
        );
    }

    if wants("ffi") {
        let mut out = vec![0u8; 4096];
        let mut len = 0usize;
        let client_ptr = {
            let cfg = std::ffi::CString::new(
                json!({"environment": "https://gateway.invalid", "appId": app_id, "appKey": app_key}).to_string(),
            )
            .unwrap();
            let mut c = std::ptr::null_mut();
            let status = unsafe {
                ums::ffi::ums_client_new(
                    cfg.as_ptr(),
                    &mut c,
                    out.as_mut_ptr().cast(),
                    out.len(),
                    &mut len,
                )
            };
            assert_eq!(status, 0);
            c
        };
        let (ts_c, nonce_c) = (
            std::ffi::CString::new(ts).unwrap(),
            std::ffi::CString::new(nonce).unwrap(),
        );
        let small = b"{\"a\":1}";
        row_ns(
            "C ABI ums_sign_body (7-byte body), no network",
            median_ns(|| unsafe {
                ums::ffi::ums_sign_body(
                    client_ptr,
                    small.as_ptr(),
                    small.len(),
                    ts_c.as_ptr(),
                    nonce_c.as_ptr(),
                    out.as_mut_ptr().cast(),
                    out.len(),
                    &mut len,
                );
            }),
        );
        unsafe { ums::ffi::ums_client_free(client_ptr) };
    }

    if wants("calls") {
        // The simulator runs in its own process, so its growing state (bills,
        // nonces) is not counted in this process's memory.
        let sandbox = ExternalSandbox::start();
        let config = json!({"environment": sandbox.url, "appId": app_id, "appKey": app_key});
        let client = Arc::new(Client::from_json(&config.to_string()).unwrap());
        let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let call = |client: &Client, counter: &std::sync::atomic::AtomicU64| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut request = seed_request(&format!("3194{n:024}"));
            request.remove("requestTimestamp");
            request.remove("expireTime");
            client.execute(&ums::ops::UPDATE_QRCODE, request).unwrap();
        };
        for threads in [1usize, 2] {
            let calls_per_thread = 2000;
            let started = Instant::now();
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (client, counter) = (client.clone(), counter.clone());
                    std::thread::spawn(move || {
                        for _ in 0..calls_per_thread {
                            call(&client, &counter);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            let rate = (threads * calls_per_thread) as f64 / started.elapsed().as_secs_f64();
            row_value(
                &format!("update-qrcode calls/s, keep-alive, {threads} thread(s)"),
                rate,
                "calls/s",
            );
        }
        let started = Instant::now();
        let n = 300;
        for _ in 0..n {
            let fresh = Client::from_json(&config.to_string()).unwrap();
            call(&fresh, &counter);
        }
        let rate = n as f64 / started.elapsed().as_secs_f64();
        row_value(
            "update-qrcode calls/s, new connection per call, 1 thread",
            rate,
            "calls/s",
        );

        if wants("memory") || only.is_none() {
            for _ in 0..5_000 {
                call(&client, &counter);
            }
            let before = rss_bytes();
            for _ in 0..100_000 {
                call(&client, &counter);
            }
            let growth = rss_bytes().saturating_sub(before);
            row_value(
                "resident memory growth over 100 000 calls after warm-up",
                growth as f64 / 1024.0,
                "KiB",
            );
        }
    }
}
