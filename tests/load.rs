//! Load: 32 threads share one `Client` against the simulator, in both
//! authentication modes, thousands of calls in all. No call may fail, every
//! call reaches the simulator exactly once, and in token mode exactly one
//! token is fetched per refresh period (never the ten-token limit).

use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use ums::sandbox::{demo, Sandbox, SandboxConfig, Stats};
use ums::Client;

const THREADS: usize = 32;
const GET_QRCODE: &str = "/v1/netpay/bills/get-qrcode";
const UPDATE: &str = "/v1/netpay/bills/update-qrcode";
const QUERY: &str = "/v1/netpay/bills/query";
const TOKEN: &str = "/v1/token/access";

fn client_for(sandbox: &Sandbox, auth: &str) -> Arc<Client> {
    let config = json!({
        "environment": sandbox.base_url(),
        "appId": demo::APP_ID,
        "appKey": demo::APP_KEY,
        "mid": demo::MID,
        "tid": demo::TID,
        "msgSrcId": demo::MSG_SRC_ID,
        "auth": auth,
        "timeoutMs": 20000,
    });
    Arc::new(Client::from_json(&config.to_string()).unwrap())
}

/// How many calls of each kind the threads made.
#[derive(Debug, Default)]
struct Made {
    codes: AtomicU64,
    updates: AtomicU64,
    queries: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Made {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }
    fn total(&self) -> u64 {
        self.codes.load(Ordering::SeqCst)
            + self.updates.load(Ordering::SeqCst)
            + self.queries.load(Ordering::SeqCst)
    }
}

/// Every thread gets its own fixed code, then puts bills on it with distinct
/// bill numbers (`per_thread` of them, or until `until`), querying every
/// fourth bill right after it was put on the code.
fn hammer(client: &Arc<Client>, per_thread: usize, until: Option<Instant>) -> Arc<Made> {
    let made = Arc::new(Made::default());
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (client, made) = (Arc::clone(client), Arc::clone(&made));
            thread::spawn(move || {
                let code = match client.call(GET_QRCODE, "{}") {
                    Ok(answer) => answer.value["qrCodeId"].as_str().unwrap().to_string(),
                    Err(e) => return made.fail(format!("thread {t}: get-qrcode: {e}")),
                };
                made.codes.fetch_add(1, Ordering::SeqCst);
                let bill_date = client.now().date();
                let mut i = 0;
                while i < per_thread || until.is_some_and(|u| Instant::now() < u) {
                    let bill_no = client.new_id().unwrap();
                    let update = json!({
                        "qrCodeId": code,
                        "billNo": bill_no,
                        "billDate": bill_date,
                        "totalAmount": i + 1,
                    });
                    made.updates.fetch_add(1, Ordering::SeqCst);
                    if let Err(e) = client.call(UPDATE, &update.to_string()) {
                        made.fail(format!("thread {t}: update {i}: {e}"));
                    }
                    if i % 4 == 0 {
                        let query = json!({"billNo": bill_no, "billDate": bill_date});
                        made.queries.fetch_add(1, Ordering::SeqCst);
                        match client.call(QUERY, &query.to_string()) {
                            Ok(a) if a.value["totalAmount"] == json!(i + 1) => {}
                            Ok(a) => made.fail(format!("thread {t}: query {i}: {}", a.text)),
                            Err(e) => made.fail(format!("thread {t}: query {i}: {e}")),
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panics");
    }
    made
}

/// No failure, and the simulator saw exactly the calls made, each once.
fn check(made: &Made, stats: &Stats) {
    let failures = made.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed call(s), first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let codes = made.codes.load(Ordering::SeqCst);
    let updates = made.updates.load(Ordering::SeqCst);
    let queries = made.queries.load(Ordering::SeqCst);
    assert_eq!(codes, THREADS as u64);
    assert_eq!(stats.requests_to(GET_QRCODE), codes);
    assert_eq!(stats.requests_to(UPDATE), updates);
    assert_eq!(stats.requests_to(QUERY), queries);
    for path in [GET_QRCODE, UPDATE, QUERY] {
        assert_eq!(stats.processed_on(path), stats.requests_to(path), "{path}");
    }
    assert_eq!(stats.requests_to(TOKEN), stats.tokens_issued);
    assert_eq!(
        stats.total_requests(),
        made.total() + stats.tokens_issued,
        "{stats:?}"
    );
    assert_eq!(stats.auth_failures, 0, "no request was refused");
    assert_eq!(stats.token_failures, 0);
    assert_eq!(
        stats.tokens_invalidated, 0,
        "the ten-token limit was never hit"
    );
    assert_eq!(stats.malformed_requests, 0);
    assert_eq!(stats.connections_refused, 0);
    assert!(stats.faults.is_empty());
}

/// 32 threads × 100 calls on one client in `auth` mode, checked with
/// [`check`]; answers what was made and the simulator's stats.
fn hundred_calls_per_thread(auth: &str) -> (Arc<Made>, Stats) {
    let sandbox = Sandbox::start_default().unwrap();
    let client = client_for(&sandbox, auth);
    let started = Instant::now();
    let made = hammer(&client, 100, None);
    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    check(&made, &stats);
    assert_eq!(made.updates.load(Ordering::SeqCst), 3200);
    eprintln!("{auth}: {} calls in {elapsed:?}", made.total());
    (made, stats)
}

#[test]
fn body_sig_32_threads_share_one_client() {
    let (_, stats) = hundred_calls_per_thread("body-sig");
    assert_eq!(stats.tokens_issued, 0);
}

#[test]
fn token_mode_32_threads_share_one_token() {
    let (made, stats) = hundred_calls_per_thread("token");
    assert_eq!(
        stats.tokens_issued,
        1,
        "one token for {} calls",
        made.total()
    );
}

#[test]
fn token_mode_refreshes_once_per_period_under_load() {
    // Tokens live 2 s; the client refreshes at half-life (min(300 s,
    // lifetime / 2) before expiry), so once a second, while 32 threads keep
    // calling for about 4.5 s.
    const LIFETIME: Duration = Duration::from_secs(2);
    const PERIOD: Duration = Duration::from_secs(1);
    const RUN: Duration = Duration::from_millis(4500);
    let sandbox = Sandbox::start(SandboxConfig {
        token_lifetime: LIFETIME,
        ..SandboxConfig::default()
    })
    .unwrap();
    let client = client_for(&sandbox, "token");
    let started = Instant::now();
    let made = hammer(&client, 20, Some(started + RUN));
    let elapsed = started.elapsed();
    let stats = sandbox.stats();
    check(&made, &stats);
    let periods = elapsed.as_millis() / PERIOD.as_millis();
    // The first token, then one per period that ended while calls went on.
    let expected = 1 + periods as u64;
    assert!(
        stats.tokens_issued.abs_diff(expected) <= 1,
        "{} tokens in {elapsed:?}: one per {PERIOD:?} expected ({expected})",
        stats.tokens_issued
    );
    assert!(
        stats.tokens_issued >= 4,
        "the run spanned several refreshes"
    );
    assert!(made.total() >= 1000, "only {} calls", made.total());
    eprintln!(
        "token refresh: {} calls, {} tokens in {elapsed:?}",
        made.total(),
        stats.tokens_issued
    );
}
