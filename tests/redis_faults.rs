//! A shared token store that fails never fails a payment call: Redis
//! stopped and restarted, Redis frozen (slow), a server answering garbage,
//! an integrator's store returning errors. Each process falls back to its
//! own cache with ONE warning per outage, and rejoins when the store
//! answers again.
//!
//! Each `Client` stands for one process and runs on a thread of its own for
//! the whole test, so the warnings it logs (the logger is process-wide) are
//! told apart by thread.

#[path = "common/redis_server.rs"]
mod redis_server;

use chinaums::log::Level;
use chinaums::store::{SharedToken, StoreError, TokenStore};
use chinaums::Client;
use redis_server::fleet::{pay, Fleet};
use redis_server::RedisServer;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// Every log line, with its level and the thread that logged it.
static LINES: Mutex<Vec<(ThreadId, Level, String)>> = Mutex::new(Vec::new());

fn record_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        chinaums::log::set_logger(Level::Info, |level, line| {
            let me = std::thread::current().id();
            LINES.lock().unwrap().push((me, level, line.to_string()));
        });
    });
}

/// The lines `thread` logged at `level` that contain `text`.
fn lines(thread: ThreadId, level: Level, text: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, l, line)| *t == thread && *l == level && line.contains(text))
        .map(|(_, _, line)| line.clone())
        .collect()
}

/// One "process": a client on its own thread, making `n` calls on request.
struct Process {
    calls: Sender<usize>,
    done: Receiver<Vec<String>>,
    thread: ThreadId,
    client: Arc<Client>,
}

impl Process {
    fn spawn(client: Client) -> Process {
        let client = Arc::new(client);
        let (calls, calls_rx) = channel::<usize>();
        let (done_tx, done) = channel();
        let (id_tx, id_rx) = channel();
        let c = client.clone();
        std::thread::spawn(move || {
            id_tx.send(std::thread::current().id()).unwrap();
            for n in calls_rx {
                let failures: Vec<String> = (0..n)
                    .filter_map(|_| pay(&c).err().map(|e| e.to_string()))
                    .collect();
                if done_tx.send(failures).is_err() {
                    break;
                }
            }
        });
        Process {
            calls,
            done,
            thread: id_rx.recv().unwrap(),
            client,
        }
    }
}

/// Every process makes `n` calls, all at once; the failures.
fn phase(processes: &[Process], n: usize) -> Vec<String> {
    for p in processes {
        p.calls.send(n).unwrap();
    }
    processes
        .iter()
        .flat_map(|p| p.done.recv().unwrap())
        .collect()
}

/// (d) Redis stopped in the middle of a run, then restarted; then frozen,
/// then let go. No call fails; each process warns once per outage, works
/// alone meanwhile, and shares again once Redis answers.
#[test]
fn redis_stopped_restarted_and_paused_never_fails_a_call() {
    record_logs();
    let mut redis = RedisServer::start();
    let fleet = Fleet::new();
    const N: usize = 8;
    let processes: Vec<Process> = (0..N)
        .map(|_| Process::spawn(fleet.process(&redis.url())))
        .collect();
    let failed = format!("shared store redis://127.0.0.1:{}/0 failed", redis.port());
    let again = format!(
        "shared store redis://127.0.0.1:{}/0 answers again",
        redis.port()
    );
    let count = |level: Level, text: &str| -> Vec<usize> {
        processes
            .iter()
            .map(|p| lines(p.thread, level, text).len())
            .collect()
    };

    // 1. Shared: one token.
    assert_eq!(phase(&processes, 2), Vec::<String>::new());
    assert_eq!(fleet.sandbox.stats().tokens_issued, 1);

    // 2. Redis stops; the tokens run out; every process works alone.
    redis.stop();
    fleet.expire_local_tokens();
    assert_eq!(phase(&processes, 3), Vec::<String>::new(), "no failed call");
    assert_eq!(
        fleet.sandbox.stats().tokens_issued,
        1 + N as u64,
        "one each, alone"
    );
    assert_eq!(
        count(Level::Warn, &failed),
        vec![1; N],
        "one warning per process"
    );
    assert!(processes.iter().all(|p| p.client.token_store_down()));
    // Its log lines name neither a password nor a token.
    for (_, _, line) in LINES.lock().unwrap().iter() {
        for token in fleet.sandbox.live_tokens(ums_sandbox::demo::APP_ID) {
            assert!(!line.contains(&token), "{line}");
        }
    }

    // 3. Redis is back (empty) on the same port: after the retry pause
    // (moved on the shared clock) the fleet shares again: one token.
    redis.restart();
    fleet.expire_local_tokens();
    assert_eq!(phase(&processes, 2), Vec::<String>::new());
    assert_eq!(
        fleet.sandbox.stats().tokens_issued,
        2 + N as u64,
        "one refresh, shared"
    );
    assert_eq!(
        count(Level::Info, &again),
        vec![1; N],
        "each process rejoined"
    );
    assert_eq!(count(Level::Warn, &failed), vec![1; N], "no new warning");
    assert!(processes.iter().all(|p| !p.client.token_store_down()));

    // 4. Redis freezes (accepts connections, answers nothing): each process
    // waits at most the store's cap once, then works alone.
    redis.pause();
    fleet.expire_local_tokens();
    let started = Instant::now();
    assert_eq!(phase(&processes, 2), Vec::<String>::new(), "no failed call");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(fleet.sandbox.stats().tokens_issued, 2 + 2 * N as u64);
    assert_eq!(
        count(Level::Warn, &failed),
        vec![2; N],
        "one warning for this outage"
    );

    // 5. Redis runs again: shared again.
    redis.resume();
    fleet.expire_local_tokens();
    assert_eq!(phase(&processes, 2), Vec::<String>::new());
    assert_eq!(fleet.sandbox.stats().tokens_issued, 3 + 2 * N as u64);
    assert_eq!(count(Level::Info, &again), vec![2; N]);
    let stats = fleet.sandbox.stats();
    assert_eq!(stats.tokens_invalidated, 0, "never more than ten at once");
    assert_eq!(stats.auth_failures, 0);
}

/// A "Redis" that answers garbage (an HTTP server, say): the calls succeed,
/// alone, with one warning per process.
#[test]
fn a_server_answering_garbage_is_a_store_failure_not_a_call_failure() {
    record_logs();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let server = {
        let (stop, served) = (stop.clone(), served.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                served.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            }
        })
    };
    let fleet = Fleet::new();
    let url = format!("redis://127.0.0.1:{port}/0");
    let processes: Vec<Process> = (0..3)
        .map(|_| Process::spawn(fleet.process(&url)))
        .collect();
    assert_eq!(phase(&processes, 3), Vec::<String>::new());
    assert_eq!(fleet.sandbox.stats().tokens_issued, 3, "each alone");
    let failed = format!("shared store redis://127.0.0.1:{port}/0 failed");
    for p in &processes {
        let warnings = lines(p.thread, Level::Warn, &failed);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
    assert!(served.load(Ordering::SeqCst) >= 3);
    stop.store(true, Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    server.join().unwrap();
}

/// An integrator's store (the Rust trait) that fails: calls succeed; it is
/// asked again only after the retry pause; once it works, it is used.
#[test]
fn a_failing_integrator_store_is_left_alone_for_a_while() {
    record_logs();
    struct Flaky {
        failing: AtomicBool,
        gets: AtomicUsize,
        token: Mutex<Option<SharedToken>>,
    }
    impl TokenStore for Flaky {
        fn describe(&self) -> String {
            "flaky-test-store".into()
        }
        fn get(&self, _: Duration) -> Result<Option<SharedToken>, StoreError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            if self.failing.load(Ordering::SeqCst) {
                return Err(StoreError("down for the test".into()));
            }
            Ok(self.token.lock().unwrap().clone())
        }
        fn put(&self, token: &SharedToken, _: Duration) -> Result<(), StoreError> {
            *self.token.lock().unwrap() = Some(token.clone());
            Ok(())
        }
        fn invalidate(&self, token: &str, _: Duration) -> Result<(), StoreError> {
            let mut t = self.token.lock().unwrap();
            if t.as_ref().is_some_and(|t| t.value.expose() == token) {
                *t = None;
            }
            Ok(())
        }
    }
    let store = Arc::new(Flaky {
        failing: AtomicBool::new(true),
        gets: AtomicUsize::new(0),
        token: Mutex::new(None),
    });
    let fleet = Fleet::new();
    let make = || {
        Client::with_parts(
            fleet.config(serde_json::json!({})),
            chinaums::Parts {
                clock: Some(fleet.clock.clone()),
                token_store: Some(store.clone()),
                ..chinaums::Parts::default()
            },
        )
        .unwrap()
    };
    let a = Process::spawn(make());
    assert_eq!(a.client.token_store(), "flaky-test-store");
    assert_eq!(phase(std::slice::from_ref(&a), 2), Vec::<String>::new());
    assert_eq!(store.gets.load(Ordering::SeqCst), 1);
    assert_eq!(
        lines(a.thread, Level::Warn, "flaky-test-store failed").len(),
        1
    );
    // Expired, but within the retry pause on neither clock: not asked.
    fleet.clock.advance(Duration::from_secs(1));
    assert!(a.client.token_store_down());
    store.failing.store(false, Ordering::SeqCst);
    fleet.expire_local_tokens();
    assert_eq!(phase(std::slice::from_ref(&a), 1), Vec::<String>::new());
    // Asked again after the pause: a read, and a second look before the
    // fetch (a store without a lock grants it at once).
    assert_eq!(store.gets.load(Ordering::SeqCst), 3);
    assert!(
        store.token.lock().unwrap().is_some(),
        "and given the new token"
    );
    // A second process takes the stored token.
    let b = Process::spawn(make());
    let before = fleet.sandbox.stats().tokens_issued;
    assert_eq!(phase(std::slice::from_ref(&b), 1), Vec::<String>::new());
    assert_eq!(fleet.sandbox.stats().tokens_issued, before);
}
