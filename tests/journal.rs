//! The journal of money-moving calls.
//!
//! - Two processes × 8 threads write one journal at once: no entry lost or
//!   corrupt, SQLite's integrity check passes.
//! - Crash: a child process making money-moving calls with a journal is
//!   killed with SIGKILL at 200 points (after a random number of calls,
//!   while the simulator holds its request, or while an answer is
//!   delayed); after each, a fresh process opens the journal, lists the open
//!   entries and resolves them. Every request the simulator applied must be
//!   closed in the journal as applied or resolved applied (0 lost), every
//!   verdict must agree with the simulator's log (0 wrong), and the journal
//!   must open cleanly every time. The children synchronise with the test
//!   through a pipe (each call prints a line) and the simulator's hold
//!   point; nothing sleeps.
//! - The journal's cost per money-moving call (fsync included), printed.
//!
//! The child processes are this test binary run again on one test
//! (`journal_child`), told what to do by environment variables.

#[path = "common/resolve_env.rs"]
mod resolve_env;

use chinaums::journal::Journal;
use chinaums::resolve::CallRecord;
use resolve_env::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ums_sandbox::Fault;

const CHILD_ENV: &str = "UMS_JOURNAL_TEST_CHILD";

/// Runs this binary's `journal_child` test with `vars`.
fn child(vars: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "journal_child",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// The child's entry point: does nothing unless started by a test here.
#[test]
fn journal_child() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k}"));
    match role.as_str() {
        "writer" => writer(&var("JOURNAL"), &var("TAG")),
        "caller" => caller(
            &var("JOURNAL"),
            &var("BASE"),
            var("OFFSET").parse().unwrap(),
            &var("TAG"),
            var("SEED").parse().unwrap(),
            var("SLOW") == "1",
        ),
        "resolver" => resolver(
            &var("JOURNAL"),
            &var("BASE"),
            var("OFFSET").parse().unwrap(),
        ),
        other => panic!("unknown role {other}"),
    }
}

// ---------------------------------------------------------------- writers

const THREADS: usize = 8;
const PER_THREAD: usize = 40;

fn record_with(marker: &str) -> CallRecord {
    let mut request = Map::new();
    request.insert("msgId".into(), marker.into());
    request.insert("refundOrderId".into(), marker.into());
    request.insert("billNo".into(), "31940000000000000000000000001".into());
    request.insert("refundAmount".into(), 1.into());
    CallRecord {
        operation: &chinaums::ops::REFUND,
        request,
        bill: None,
    }
}

/// 8 threads, each with its own connection (as 8 clients would have),
/// each writing PER_THREAD entries and closing every other one.
fn writer(path: &str, tag: &str) {
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let path = path.to_string();
            let tag = tag.to_string();
            std::thread::spawn(move || {
                let journal = Journal::open(&path).expect("open");
                for i in 0..PER_THREAD {
                    let marker = format!("{tag}-{t}-{i}");
                    let id = journal.begin(&record_with(&marker), 0).expect("begin");
                    if i % 2 == 0 {
                        assert!(journal.close(id, "applied").expect("close"));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn two_processes_and_eight_threads_write_one_journal() {
    let journal = TempJournal::new("concurrent");
    let started = Instant::now();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            child(&[
                (CHILD_ENV, "writer".into()),
                ("JOURNAL", journal.path().into()),
                ("TAG", tag.to_string()),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }
    let elapsed = started.elapsed();
    let j = Journal::open(journal.path()).unwrap();
    assert_eq!(j.integrity_check().unwrap(), "ok");
    let all = j.all().unwrap();
    let expected = 2 * THREADS * PER_THREAD;
    assert_eq!(all.len(), expected, "entries lost or added");
    let mut seen = HashMap::new();
    for row in &all {
        let (request, open, outcome) = (&row.request, &row.open, &row.outcome);
        assert_eq!(row.operation, "refund");
        let marker = request["msgId"].as_str().unwrap().to_string();
        assert_eq!(request["refundOrderId"], request["msgId"], "corrupt entry");
        let i: usize = marker.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(*open, i % 2 == 1, "{marker}");
        assert_eq!(outcome.is_some(), i % 2 == 0, "{marker}");
        assert!(seen.insert(marker, ()).is_none(), "an entry twice");
    }
    assert_eq!(j.pending().unwrap().len(), expected / 2);
    eprintln!(
        "journal: 2 processes × {THREADS} threads wrote {expected} entries ({} closed) in {:.2} s: 0 lost, 0 corrupt, integrity ok",
        expected / 2,
        elapsed.as_secs_f64()
    );
}

// ------------------------------------------------------------------ crash

/// The cases the crash child sends (all provable: the table has a proof
/// for each once the client makes it resolvable).
const CRASH_CASES: &[&str] = &["get-qrcode", "get-qrcode-fixed", "update-qrcode", "refund"];
/// The cases whose paths set-up never uses (so that a hold or a delay on
/// those paths meets the journaled call only).
const SLOW_CASES: &[&str] = &["update-qrcode", "refund"];
const SLOW_PATHS: &[&str] = &["/v1/netpay/bills/update-qrcode", "/v1/netpay/bills/refund"];

fn caller(path: &str, base: &str, offset: i64, tag: &str, seed: u64, slow: bool) {
    let clock = Arc::new(OffsetClock::with_offset(offset));
    let config = json!({"resolvable": true, "journal": path, "timeoutMs": 300});
    let client = client_on(base, clock.clone(), config);
    let setup = client_on(base, clock, json!({}));
    let mut rng = seed;
    for n in 0.. {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let cases = if slow { SLOW_CASES } else { CRASH_CASES };
        let case = cases[(rng >> 33) as usize % cases.len()];
        let id = format!("{tag}-{n}");
        let prepared = prepare(&setup, base, case, &id);
        let op = chinaums::ops::find(operation_of(case)).unwrap();
        // The test kills this process at some point of this call.
        println!("CALL {id}");
        let result = client.execute_json(op, &Value::Object(prepared.request).to_string());
        println!(
            "DONE {id} {}",
            result.err().map_or("ok", |e| e.kind.as_str())
        );
    }
}

fn resolver(path: &str, base: &str, offset: i64) {
    let clock = Arc::new(OffsetClock::with_offset(offset));
    let client = client_on(base, clock, json!({"journal": path}));
    for entry in client
        .journal_pending()
        .expect("the journal opens and lists")
    {
        let r = client
            .resolve(entry.record, Some(entry.id))
            .expect("resolve");
        println!("VERDICT {}", r.to_json());
    }
}

/// The text after `marker` in a line of a child's output (libtest may
/// print `test journal_child ... ` before it on the same line).
fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|at| &line[at + marker.len()..])
}

/// How the test picks the moment of the kill.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// After the child announced its n-th call (anywhere in that call).
    Announced(usize),
    /// While the simulator holds the child's next request (in flight).
    Held,
    /// Once the simulator has applied the request and delays its answer.
    Delayed,
}

#[test]
fn crash_at_200_points_loses_no_outcome() {
    let iterations: usize = std::env::var("UMS_CRASH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let clock = Arc::new(OffsetClock::default());
    let sandbox = sandbox_on(clock.clone());
    let base = sandbox.base_url();
    let journal = TempJournal::new("crash");
    let window = Duration::from_secs(300);
    let mut rng: u64 = std::env::var("UMS_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::process::id() as u64);
    eprintln!("crash test: seed {rng} (UMS_CRASH_SEED to repeat)");
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    for iteration in 0..iterations {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let kill_at = match (rng >> 33) % 3 {
            0 => KillAt::Announced(1 + (rng >> 40) as usize % 3),
            1 => KillAt::Held,
            _ => KillAt::Delayed,
        };
        let tag = format!("c{iteration}");
        let slow = !matches!(kill_at, KillAt::Announced(_));
        for path in SLOW_PATHS {
            match kill_at {
                KillAt::Held => sandbox.hold_requests(path, 1),
                KillAt::Delayed => {
                    sandbox.inject_fault(path, Fault::Delay(Duration::from_secs(30)), 1)
                }
                KillAt::Announced(_) => {}
            }
        }
        let mut writer = child(&[
            (CHILD_ENV, "caller".into()),
            ("JOURNAL", journal.path().into()),
            ("BASE", base.clone()),
            ("OFFSET", clock.offset_ms().to_string()),
            ("TAG", tag.clone()),
            ("SEED", (rng >> 11).to_string()),
            ("SLOW", if slow { "1" } else { "0" }.to_string()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
        let mut calls = 0;
        match kill_at {
            KillAt::Announced(n) => {
                while calls < n {
                    let line = lines.next().expect("the child runs").unwrap();
                    calls += after(&line, "CALL ").is_some() as usize;
                }
            }
            KillAt::Held => {
                assert!(
                    sandbox.wait_held(1, Duration::from_secs(20)),
                    "nothing held"
                );
            }
            KillAt::Delayed => {
                let id = loop {
                    let line = lines.next().expect("the child runs").unwrap();
                    if let Some(id) = after(&line, "CALL ") {
                        break id.to_string();
                    }
                };
                let decided = sandbox.wait_processed(Duration::from_secs(20), &|e| {
                    e.field("msgId") == Some(id.as_str())
                });
                assert!(decided.is_some_and(|e| e.applied), "{id} not applied");
            }
        }
        writer.kill().unwrap(); // SIGKILL
        writer.wait().unwrap();
        *tally
            .entry(
                format!("{kill_at:?}")
                    .split('(')
                    .next()
                    .unwrap()
                    .to_string(),
            )
            .or_default() += 1;
        sandbox.release_held();
        sandbox.clear_faults();
        // Past the window: no copy of a request of the dead child can still
        // be accepted; then wait until the simulator is done with every
        // request that read the old time.
        clock.advance_ms(2 * window.as_millis() as i64 + 61_000);
        assert!(sandbox.wait_idle(Duration::from_secs(20)));

        let out = child(&[
            (CHILD_ENV, "resolver".into()),
            ("JOURNAL", journal.path().into()),
            ("BASE", base.clone()),
            ("OFFSET", clock.offset_ms().to_string()),
        ])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
        assert!(
            out.status.success(),
            "iteration {iteration}: the fresh process failed"
        );
        let verdicts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| after(l, "VERDICT "))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        check_iteration(&sandbox, &journal, &tag, &verdicts, iteration, &mut tally);
    }
    eprintln!(
        "crash test: {iterations} SIGKILLs in {:.1} s ({:?}): 0 outcomes lost, 0 wrong verdicts, the journal opened cleanly every time",
        started.elapsed().as_secs_f64(),
        tally
    );
}

/// Every request of this child the simulator applied is closed in the
/// journal as applied or resolved applied; every verdict agrees with the
/// simulator; nothing stays open.
fn check_iteration(
    sandbox: &ums_sandbox::Sandbox,
    journal: &TempJournal,
    tag: &str,
    verdicts: &[Value],
    iteration: usize,
    tally: &mut BTreeMap<String, usize>,
) {
    let prefix = format!("{tag}-");
    let judged: HashMap<String, bool> = sandbox
        .processed(0)
        .into_iter()
        .filter_map(|e| {
            let id = e.field("msgId")?.to_string();
            id.starts_with(&prefix).then_some((id, e.applied))
        })
        .fold(HashMap::new(), |mut m, (id, applied)| {
            *m.entry(id).or_insert(false) |= applied;
            m
        });
    let j = Journal::open(journal.path()).expect("the journal opens");
    assert_eq!(j.integrity_check().unwrap(), "ok");
    let entries: HashMap<String, (bool, Option<String>)> = j
        .all()
        .unwrap()
        .into_iter()
        .filter_map(|row| {
            let id = row.request.get("msgId")?.as_str()?.to_string();
            id.starts_with(&prefix)
                .then_some((id, (row.open, row.outcome)))
        })
        .collect();
    for v in verdicts {
        let id = v["request"]["msgId"].as_str().unwrap_or("");
        if !id.starts_with(&prefix) {
            continue;
        }
        let verdict = v["verdict"].as_str().unwrap();
        let applied = judged.get(id).copied().unwrap_or(false);
        *tally.entry(format!("verdict {verdict}")).or_default() += 1;
        match verdict {
            "applied" => assert!(applied, "iteration {iteration}: wrong verdict {v}"),
            "not_applied" => assert!(!applied, "iteration {iteration}: wrong verdict {v}"),
            other => panic!("iteration {iteration}: {other} after the window: {v}"),
        }
    }
    for (id, applied) in &judged {
        if !applied {
            continue;
        }
        let (open, outcome) = entries.get(id).unwrap_or_else(|| {
            panic!("iteration {iteration}: {id} applied but not in the journal")
        });
        assert!(
            !open,
            "iteration {iteration}: {id} applied, entry still open"
        );
        let outcome = outcome.as_deref().unwrap_or("");
        assert!(
            outcome == "applied" || outcome == "resolved applied",
            "iteration {iteration}: {id} applied, journal says {outcome}"
        );
    }
    for (id, (open, _)) in &entries {
        assert!(
            !open,
            "iteration {iteration}: {id} still open after resolve"
        );
    }
    *tally.entry("journal entries".into()).or_default() += entries.len();
}

// ------------------------------------------------------------------- cost

/// The journal's cost per money-moving call: the same get-qrcode calls
/// against the simulator with and without a journal, and the journal's own
/// begin + close. `UMS_JOURNAL_BENCH_CALLS` sets the number of calls
/// (default 200). Run with `--release --nocapture` for the figures.
#[test]
fn journal_cost_per_money_moving_call() {
    let calls: usize = std::env::var("UMS_JOURNAL_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let clock: Arc<dyn chinaums::clock::Clock> = Arc::new(OffsetClock::default());
    let sandbox = sandbox_on(clock.clone());
    let base = sandbox.base_url();
    let journal = TempJournal::new("bench");
    let plain = client_on(&base, clock.clone(), json!({}));
    let journaled = client_on(&base, clock.clone(), json!({"journal": journal.path()}));
    let today = chinaums::clock::BeijingTime::from_unix_millis(clock.now_unix_millis()).date();
    let run = |client: &chinaums::Client| {
        let started = Instant::now();
        for _ in 0..calls {
            let request = json!({"billNo": new_id(client), "billDate": today, "totalAmount": 1});
            client
                .execute_json(&chinaums::ops::GET_QRCODE, &request.to_string())
                .unwrap();
        }
        started.elapsed() / calls as u32
    };
    run(&plain); // warm up the connection pool and the simulator
    let without = run(&plain);
    let with = run(&journaled);
    let j = Journal::open(journal.path()).unwrap();
    let record = record_with("bench");
    let started = Instant::now();
    for _ in 0..calls {
        let id = j.begin(&record, 0).unwrap();
        j.close(id, "applied").unwrap();
    }
    let own = started.elapsed() / calls as u32;
    assert_eq!(journaled.journal_pending().unwrap().len(), 0);
    eprintln!(
        "journal cost: {calls} get-qrcode calls to the simulator: {:.0} µs/call without a journal, {:.0} µs/call with one (+{:.0} µs); the journal alone (begin, fsynced + close, not fsynced): {:.0} µs/call",
        without.as_secs_f64() * 1e6,
        with.as_secs_f64() * 1e6,
        (with.as_secs_f64() - without.as_secs_f64()) * 1e6,
        own.as_secs_f64() * 1e6
    );
}

/// An entry holds identifiers and amounts only: not the app key, not the
/// signature, not the real-name fields (the raw database files are read).
#[test]
fn the_journal_never_holds_keys_signatures_or_real_name_fields() {
    let clock: Arc<dyn chinaums::clock::Clock> = Arc::new(OffsetClock::default());
    let sandbox = sandbox_on(clock.clone());
    let journal = TempJournal::new("secrets");
    let client = client_on(
        &sandbox.base_url(),
        clock,
        json!({"journal": journal.path(), "resolvable": true}),
    );
    let request = json!({
        "qrCodeId": ums_sandbox::demo::SEED_QR_CODE_ID, "totalAmount": 26,
        "name": "张三丰", "mobile": "13800000000", "certType": "IDENTITY_CARD",
        "certNo": "110101199003071234", "fixBuyer": "T",
    });
    sandbox.inject_fault("/v1/netpay/bills/update-qrcode", Fault::CloseAfterBody, 1);
    let e = client
        .execute_json(&chinaums::ops::UPDATE_QRCODE, &request.to_string())
        .unwrap_err();
    assert!(e.is_outcome_unknown());
    let doc = e.to_json().to_string();
    let dir = journal.0.parent().unwrap();
    let mut bytes = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        bytes.extend(std::fs::read(file.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&bytes);
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for secret in [
        ums_sandbox::demo::APP_KEY.to_string(),
        b64("张三丰"),
        b64("13800000000"),
        b64("110101199003071234"),
        "110101199003071234".to_string(),
        "certNo".to_string(),
        "OPEN-BODY-SIG".to_string(),
    ] {
        assert!(!text.contains(&secret), "the journal holds {secret}");
        assert!(!doc.contains(&secret), "the error document holds {secret}");
    }
    assert!(text.contains("update-qrcode"), "the entry is there");
    let pending = client.journal_pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].record.request.contains_key("billNo"));
}
