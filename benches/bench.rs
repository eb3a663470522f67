//! `cargo bench --bench bench [FILTER]`: the Rust-side rows of BENCHMARKS.md,
//! printed as JSON lines that `scripts/bench` gathers into one table with the
//! binding rows:
//!
//! ```text
//! {"row":"sign.raw","median_ns":..}                      a time per call
//! {"row":"calls.keepalive.1t","value":..,"unit":"calls/s"} anything else
//! ```
//!
//! `FILTER` keeps the rows whose id contains it (`sign`, `build`,
//! `build.lib`, `notify`, `ffi`, `calls`, `memory`). `bench tls-front LISTEN
//! BACKEND CA_PEM` is not a row: the HTTPS front of `scripts/bench-link`.
//!
//! A hand-written harness (no criterion): each row runs its closure in batches
//! sized to ~10 ms, 31 batches, and reports the median time per iteration,
//! which is robust to the other core's noise. Two rows that are compared with
//! each other (signing vs. its raw floor) run interleaved, batch by batch, and
//! their ratio is the median of the per-round ratios.
//!
//! `UMS_BENCH_SANDBOX` names the `ums-sandbox` binary to start (default: the
//! one cargo built); `UMS_BENCH_ROUNDS`, `UMS_BENCH_ROUND_MS`,
//! `UMS_BENCH_MEMORY_CALLS` (0 skips the memory row), `UMS_BENCH_MEMORY_WARMUP`
//! shorten the network rows.
//!
//! Profiling aids (see BENCHMARKS.md, "Profiling"):
//! - `UMS_BENCH_ITERS=N` runs each selected time row exactly N times in one
//!   batch (for `valgrind --tool=callgrind`, instructions per call = cost / N);
//! - `UMS_BENCH_SPIN=S` runs each selected time row for S seconds (for `perf record`).

// The test CA of the TLS tests (certificates made at start, never on disk).
#[path = "../tests/common/test_pki.rs"]
mod test_pki;

use chinaums::clock::{BeijingTime, FixedClock, FixedNonce};
use chinaums::{Client, Config};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ums_sandbox::demo;

const BATCHES: usize = 31;
const BATCH_TARGET: Duration = Duration::from_millis(10);

/// The update-qrcode request of the ChinaUMS doc page, made valid JSON
/// (shared with the binding drivers).
const SEED_JSON: &str = include_str!("data/update_qrcode_seed.json");

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// How many iterations make a batch of about `BATCH_TARGET` for a row that
/// runs `n` iterations and returns the time that counts.
fn batch_size(run: &mut dyn FnMut(usize) -> Duration) -> usize {
    let mut n = 1usize;
    loop {
        let elapsed = run(n);
        if elapsed >= BATCH_TARGET || n >= 1 << 24 {
            return n;
        }
        // Jump close to the target once the batch is long enough to time.
        n = if elapsed > Duration::from_micros(500) {
            ((n as f64) * BATCH_TARGET.as_secs_f64() / elapsed.as_secs_f64()).ceil() as usize
        } else {
            n * 4
        };
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Median nanoseconds per call of `f` (a row of its own).
fn median_ns(f: impl FnMut()) -> f64 {
    interleaved_ns(&mut [timed(f)])[0]
}

/// A row for [`interleaved_ns`]: runs its work `n` times and returns the
/// time that counts.
type Timed<'a> = Box<dyn FnMut(usize) -> Duration + 'a>;

/// A row whose every iteration is timed whole.
fn timed<'a>(mut f: impl FnMut() + 'a) -> Timed<'a> {
    Box::new(move |n| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed()
    })
}

/// A row whose input is made just before each call, off the clock (a value
/// the call consumes, such as the request map: as warm in the cache, and the
/// allocator in the same state, as when a caller has just built it). The
/// clock costs ~30 ns a call here, under 0.5% of the rows that use this.
fn timed_with_input<'a, I>(
    mut make: impl FnMut() -> I + 'a,
    mut f: impl FnMut(I) + 'a,
) -> Timed<'a> {
    Box::new(move |n| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let input = make();
            let t = Instant::now();
            f(input);
            total += t.elapsed();
        }
        total
    })
}

/// Median ns per iteration of each row, the rows taking turns batch by
/// batch, so that they all see the same machine: on a busy 2-core VM the
/// speed drifts by tens of percent over seconds, more than the differences
/// between these rows.
fn interleaved_ns(rows: &mut [Timed<'_>]) -> Vec<f64> {
    if let Some(n) = env_u64("UMS_BENCH_ITERS") {
        return rows
            .iter_mut()
            .map(|f| f(n as usize).as_nanos() as f64 / n.max(1) as f64)
            .collect();
    }
    if let Some(secs) = env_u64("UMS_BENCH_SPIN") {
        return rows
            .iter_mut()
            .map(|f| {
                let (t, mut n, mut timed) = (Instant::now(), 0u64, Duration::ZERO);
                while t.elapsed() < Duration::from_secs(secs) {
                    timed += f(1000);
                    n += 1000;
                }
                timed.as_nanos() as f64 / n as f64
            })
            .collect();
    }
    let sizes: Vec<usize> = rows.iter_mut().map(|f| batch_size(f)).collect();
    let mut samples = vec![Vec::with_capacity(BATCHES); rows.len()];
    for _ in 0..BATCHES {
        for (i, f) in rows.iter_mut().enumerate() {
            samples[i].push(f(sizes[i]).as_nanos() as f64 / sizes[i] as f64);
        }
    }
    samples.into_iter().map(median).collect()
}

/// Two closures timed in alternating batches: (median ns of `a`, median ns
/// of `b`, median over rounds of b/a). Interleaving makes the ratio immune to
/// drifts in machine speed that would skew two separate measurements.
fn paired_ns(a: impl FnMut(), b: impl FnMut()) -> (f64, f64, f64) {
    let (mut a, mut b) = (timed(a), timed(b));
    let (na, nb) = (batch_size(&mut a), batch_size(&mut b));
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..BATCHES {
        let x = a(na).as_nanos() as f64 / na as f64;
        let y = b(nb).as_nanos() as f64 / nb as f64;
        ta.push(x);
        tb.push(y);
        ratios.push(y / x);
    }
    (median(ta), median(tb), median(ratios))
}

fn row_ns(row: &str, ns: f64) {
    println!("{}", json!({"row": row, "median_ns": ns}));
}

fn row_value(row: &str, value: f64, unit: &str) {
    println!("{}", json!({"row": row, "value": value, "unit": unit}));
}

fn seed_request() -> Map<String, Value> {
    serde_json::from_str(SEED_JSON).expect("benches/data/update_qrcode_seed.json")
}

/// `ums-sandbox --port 0` in a child process, killed on drop.
struct ExternalSandbox {
    child: std::process::Child,
    url: String,
}

impl ExternalSandbox {
    fn start() -> ExternalSandbox {
        use std::io::BufRead;
        // scripts/bench passes the simulator `make lib` built, as for the
        // binding drivers; else the one beside this bench's profile
        // directory (`cargo build --workspace` builds it).
        let program = std::env::var("UMS_BENCH_SANDBOX").unwrap_or_else(|_| {
            let exe = std::env::current_exe().expect("the bench's path");
            let profile = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("profile dir");
            profile.join("ums-sandbox").to_string_lossy().into_owned()
        });
        let mut child = std::process::Command::new(program)
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

/// Resident set size of this process (the library's side only: the
/// simulator is another process).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Calls per second of `call` from `threads` threads: `rounds` rounds of
/// `round` each, median over rounds; with the median latency of one call.
fn throughput(
    threads: usize,
    rounds: usize,
    round: Duration,
    call: Arc<dyn Fn() + Send + Sync>,
) -> (f64, f64) {
    let mut rates = Vec::new();
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let deadline = started + round;
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let call = call.clone();
                std::thread::spawn(move || {
                    let mut lat = Vec::new();
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        call();
                        lat.push(t.elapsed().as_nanos() as f64);
                    }
                    lat
                })
            })
            .collect();
        let mut n = 0usize;
        for h in handles {
            let lat = h.join().unwrap();
            n += lat.len();
            latencies.extend(lat);
        }
        rates.push(n as f64 / started.elapsed().as_secs_f64());
    }
    (median(rates), median(latencies))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("tls-front") {
        return tls_front(&args[1..]);
    }
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // A section runs when the filter names it or one of its rows
    // (`build`, `build.lib`); a row when its id contains the filter.
    let section = |name: &str| {
        only.as_deref()
            .is_none_or(|o| name.contains(o) || o.starts_with(name))
    };
    let row = |id: &str| only.as_deref().is_none_or(|o| id.contains(o));

    let body = vec![b'x'; 1024];
    let (app_id, app_key) = (demo::APP_ID, demo::APP_KEY);
    let (ts, nonce) = ("20261127120000", "0123456789abcdef0123456789abcdef");

    if section("sign") {
        // The floor: what any OPEN-BODY-SIG implementation must compute.
        // SHA-256 of the body, its 64 lower-case hex characters, and one
        // HMAC-SHA256 (key set-up included) over appId+timestamp+nonce+hex.
        // No Base64, no header text.
        let raw = || {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let digest = Sha256::digest(black_box(&body));
            let mut hex = [0u8; 64];
            for (i, b) in digest.iter().enumerate() {
                hex[2 * i] = HEX[(b >> 4) as usize];
                hex[2 * i + 1] = HEX[(b & 0x0f) as usize];
            }
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(app_key).as_bytes()).unwrap();
            mac.update(app_id.as_bytes());
            mac.update(ts.as_bytes());
            mac.update(nonce.as_bytes());
            mac.update(&hex);
            black_box(mac.finalize().into_bytes());
        };
        let header = || {
            black_box(chinaums::sign::sign_body(
                app_id,
                black_box(app_key),
                ts,
                nonce,
                black_box(&body),
            ));
        };
        let signature = || {
            black_box(chinaums::sign::open_body_signature(
                app_id,
                black_box(app_key),
                ts,
                nonce,
                black_box(&body),
            ));
        };
        if env_u64("UMS_BENCH_ITERS").is_some() || env_u64("UMS_BENCH_SPIN").is_some() {
            row_ns("sign.raw", median_ns(raw));
            row_ns("sign.lib", median_ns(header));
        } else {
            let (raw_ns, lib_ns, ratio) = paired_ns(raw, header);
            row_ns("sign.raw", raw_ns);
            row_ns("sign.lib", lib_ns);
            row_value("sign.ratio", ratio, "x");
            let (_, sig_ns, sig_ratio) = paired_ns(raw, signature);
            row_ns("sign.signature_only", sig_ns);
            row_value("sign.signature_only.ratio", sig_ratio, "x");
        }
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

    if section("build") {
        let request = seed_request();
        let now = BeijingTime::from_unix_millis(at);
        // build.lib, the fair row: the caller hands its request map over
        // (moved, as `Client::execute` takes it); the library fills
        // defaults, normalises, validates, serialises and signs. The map is
        // made off the clock.
        // build.with_clone, the old row: the map is cloned on the clock (a
        // caller that keeps a template and copies it per call pays this too).
        // build.from_text: what the C ABI and every binding do: the request
        // arrives as JSON text (strict parse with the repeated-key check).
        let mut rows: Vec<(&str, Timed)> = vec![
            (
                "build.lib",
                timed_with_input(
                    || request.clone(),
                    |r| {
                        let prepared = offline.prepare(&chinaums::ops::UPDATE_QRCODE, r).unwrap();
                        black_box(offline.authorization_for(&prepared.body));
                    },
                ),
            ),
            (
                "build.with_clone",
                timed(|| {
                    let prepared = offline
                        .prepare(&chinaums::ops::UPDATE_QRCODE, black_box(request.clone()))
                        .unwrap();
                    black_box(offline.authorization_for(&prepared.body));
                }),
            ),
            (
                "build.clone_only",
                timed(|| {
                    black_box(black_box(&request).clone());
                }),
            ),
            (
                "build.from_text",
                timed(|| {
                    let prepared = offline
                        .prepare_call("update-qrcode", black_box(SEED_JSON), now)
                        .unwrap();
                    black_box(offline.authorization_for(&prepared.body));
                }),
            ),
            (
                "build.parse_only",
                timed(|| {
                    black_box(chinaums::client::parse_request(black_box(SEED_JSON)).unwrap());
                }),
            ),
        ];
        rows.retain(|(id, _)| row(id));
        let ids: Vec<&str> = rows.iter().map(|(id, _)| *id).collect();
        let mut fns: Vec<Timed> = rows.into_iter().map(|(_, f)| f).collect();
        for (id, ns) in ids.into_iter().zip(interleaved_ns(&mut fns)) {
            row_ns(id, ns);
        }
    }

    if section("notify") {
        let vectors: Value =
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
        if row("notify.verify") {
            row_ns(
                "notify.verify",
                median_ns(|| {
                    black_box(chinaums::notify::verify(key, black_box(form.as_bytes())).unwrap());
                }),
            );
        }
        // The floor: one SHA-256 over a string of the same length as the
        // string to sign plus the key.
        let floor_len = form.len() + key.len();
        let floor_input = vec![b'a'; floor_len];
        if row("notify.raw_sha256") {
            row_ns(
                "notify.raw_sha256",
                median_ns(|| {
                    black_box(Sha256::digest(black_box(&floor_input)));
                }),
            );
        }
    }

    if section("ffi") {
        let mut out = vec![0u8; 4096];
        let mut len = 0usize;
        let client_ptr = {
            let cfg = std::ffi::CString::new(
                json!({"environment": "https://gateway.invalid", "appId": app_id, "appKey": app_key}).to_string(),
            )
            .unwrap();
            let mut c = std::ptr::null_mut();
            let status = unsafe {
                ums::ums_client_new(
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
        if row("ffi.sign_body.rust") {
            row_ns(
                "ffi.sign_body.rust",
                median_ns(|| unsafe {
                    let status = ums::ums_sign_body(
                        client_ptr,
                        small.as_ptr(),
                        small.len(),
                        ts_c.as_ptr(),
                        nonce_c.as_ptr(),
                        out.as_mut_ptr().cast(),
                        out.len(),
                        &mut len,
                    );
                    assert_eq!(status, 0);
                }),
            );
        }
        unsafe { ums::ums_client_free(client_ptr) };
    }

    if section("calls") || section("memory") {
        // The simulator runs in its own process, so its growing state (bills,
        // nonces) and its threads are not counted in this process.
        let sandbox = ExternalSandbox::start();
        let config =
            json!({"environment": sandbox.url, "appId": app_id, "appKey": app_key}).to_string();
        let client = Arc::new(Client::from_json(&config).unwrap());
        let template = {
            let mut r = seed_request();
            r.remove("requestTimestamp");
            r.remove("expireTime");
            r.insert(
                "billDate".into(),
                Value::String(client.now().date()), // today in Beijing
            );
            r
        };
        // billNo: "3194" + 8 digits of this run + 16 of the call = 28 characters.
        let run_id = std::process::id() as u64 % 100_000_000;
        let counter = Arc::new(AtomicU64::new(0));
        let next_request = {
            let (template, counter) = (template.clone(), counter.clone());
            Arc::new(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let mut request = template.clone();
                request.insert(
                    "billNo".into(),
                    Value::String(format!("3194{run_id:08}{n:016}")),
                );
                request
            })
        };
        let make_call = |client: Arc<Client>| -> Arc<dyn Fn() + Send + Sync> {
            let next_request = next_request.clone();
            Arc::new(move || {
                client
                    .execute(&chinaums::ops::UPDATE_QRCODE, next_request())
                    .unwrap();
            })
        };
        let call = make_call(client.clone());
        for _ in 0..200 {
            call(); // connection set up, allocator warmed
        }
        let rounds = env_u64("UMS_BENCH_ROUNDS").unwrap_or(5) as usize;
        let round = Duration::from_millis(env_u64("UMS_BENCH_ROUND_MS").unwrap_or(1000));

        if section("calls") {
            for threads in [1usize, 2] {
                let (rate, p50) = throughput(threads, rounds, round, call.clone());
                row_value(&format!("calls.keepalive.{threads}t"), rate, "calls/s");
                row_ns(&format!("calls.keepalive.{threads}t.latency"), p50);
            }
            // A new Client per call: a new connection (and the client's
            // set-up) each time, as a PHP page or a script run per payment does.
            let fresh: Arc<dyn Fn() + Send + Sync> = {
                let (config, next_request) = (config.clone(), next_request.clone());
                Arc::new(move || {
                    let client = Client::from_json(&config).unwrap();
                    client
                        .execute(&chinaums::ops::UPDATE_QRCODE, next_request())
                        .unwrap();
                })
            };
            let (rate, p50) = throughput(1, rounds, round, fresh);
            row_value("calls.newconn.1t", rate, "calls/s");
            row_ns("calls.newconn.1t.latency", p50);
            row_ns(
                "client.new",
                median_ns(|| {
                    black_box(Client::from_json(black_box(&config)).unwrap());
                }),
            );
        }

        let calls = env_u64("UMS_BENCH_MEMORY_CALLS").unwrap_or(100_000);
        if section("memory") && calls > 0 {
            let warm = env_u64("UMS_BENCH_MEMORY_WARMUP").unwrap_or(5_000);
            for _ in 0..warm {
                call();
            }
            let before = rss_bytes();
            let started = Instant::now();
            let mut checkpoints = Vec::new();
            for i in 1..=calls {
                call();
                if i % (calls / 4).max(1) == 0 {
                    checkpoints.push((rss_bytes() as f64 - before as f64) / 1024.0);
                }
            }
            let growth = rss_bytes().saturating_sub(before);
            println!(
                "{}",
                json!({
                    "row": "memory.growth",
                    "value": growth as f64 / 1024.0,
                    "unit": "KiB",
                    "calls": calls,
                    "warmup": warm,
                    "rss_before_kib": before / 1024,
                    "checkpoints_kib": checkpoints,
                    "calls_per_s": calls as f64 / started.elapsed().as_secs_f64(),
                })
            );
        }
    }
}

// ---- An HTTPS front for scripts/bench-link ---------------------------------
//
// `bench tls-front LISTEN BACKEND CA_PEM` (LISTEN may use port 0; the bound
// address is printed): makes a test CA and a server
// certificate for LISTEN's IP address (rcgen, at start: no key is ever
// written to disk), writes the CA certificate to CA_PEM for the clients'
// caFile / truststore, serves HTTPS on LISTEN and relays each HTTP/1.1
// exchange to the plain simulator at BACKEND (one kept-alive backend
// connection per client connection), until killed. The simulator's own
// HTTPS front (`ums_sandbox::tls`) is a library type for tests; the link
// bench needs one in its own process, on any address (a veth address of the
// server namespace when netem is available).

fn tls_front(args: &[String]) {
    let [listen, backend, ca_pem] = args else {
        eprintln!("usage: bench tls-front LISTEN_ADDR BACKEND_ADDR CA_PEM_PATH");
        std::process::exit(2);
    };
    let listen: std::net::SocketAddr = listen.parse().expect("LISTEN is ip:port");
    let backend: std::net::SocketAddr = backend.parse().expect("BACKEND is ip:port");
    let pki = test_pki::TestPki::new("ums bench-link CA");
    std::fs::write(ca_pem, pki.ca_pem()).expect("write the CA file");
    let tls = pki.server_config(&listen.ip().to_string(), false);
    let front =
        ums_sandbox::tls::HttpsFront::start_on(listen, backend, tls).expect("bind the HTTPS front");
    println!("tls-front listening on https://{}", front.addr());
    loop {
        std::thread::park(); // until killed
    }
}
