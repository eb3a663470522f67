//! What the resolve and journal tests share (included with `#[path]`): a
//! simulator on a clock the test moves, clients on the same clock, the
//! prerequisites of every money-moving operation (a code, a paid bill, a
//! paid pre-authorisation, a paid guaranteed trade), and the judge's view
//! of one request.
#![allow(dead_code)]

use chinaums::clock::{BeijingTime, Clock, ManualClock, RandomNonce};
use chinaums::Client;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use ums_sandbox::{demo, Sandbox, SandboxConfig};

/// The money-moving cases: an operation and the kind of request.
pub const CASES: &[&str] = &[
    "get-qrcode",
    "get-qrcode-fixed",
    "update-qrcode",
    "close-qrcode",
    "refund",
    "preauth-complete",
    "preauth-cancel",
    "secure-complete",
    "secure-cancel",
];

/// The operation a case sends.
pub fn operation_of(case: &str) -> &'static str {
    match case {
        "get-qrcode-fixed" => "get-qrcode",
        other => chinaums::ops::find(other).expect("a known operation").name,
    }
}

/// A clock shared by the simulator and the clients: the system clock plus
/// an offset the test moves (forward only).
#[derive(Debug, Default)]
pub struct OffsetClock(pub std::sync::atomic::AtomicI64);

impl OffsetClock {
    pub fn with_offset(ms: i64) -> OffsetClock {
        OffsetClock(std::sync::atomic::AtomicI64::new(ms))
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn offset_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for OffsetClock {
    fn now_unix_millis(&self) -> i64 {
        chinaums::clock::SystemClock.now_unix_millis() + self.0.load(Ordering::SeqCst)
    }
}

/// How most resolve tests start: a simulator on a manual clock, a plain
/// demo client on the same clock, and today's date in Beijing on it.
pub struct Scene {
    pub clock: Arc<ManualClock>,
    pub sandbox: Sandbox,
    pub base: String,
    pub client: Client,
    pub today: String,
}

impl Scene {
    pub fn new() -> Scene {
        let clock = Arc::new(ManualClock::starting_now());
        let sandbox = sandbox_on(clock.clone());
        let base = sandbox.base_url();
        let client = client_on(&base, clock.clone(), json!({}));
        let today = BeijingTime::from_unix_millis(clock.now_unix_millis()).date();
        Scene {
            clock,
            sandbox,
            base,
            client,
            today,
        }
    }
}

/// A simulator on `clock`.
pub fn sandbox_on(clock: Arc<dyn Clock>) -> Sandbox {
    Sandbox::start(SandboxConfig {
        clock,
        ..SandboxConfig::default()
    })
    .expect("the simulator starts")
}

/// A client of the demo app at `base_url` on `clock`, with `extra` config.
pub fn client_on(base_url: &str, clock: Arc<dyn Clock>, extra: Value) -> Client {
    let config = demo::client_config(base_url, extra);
    let config = chinaums::Config::from_json(&config.to_string()).expect("config");
    Client::with_clock_and_nonces(config, clock, Arc::new(RandomNonce)).expect("client")
}

/// A fresh file path for a journal, removed (with its WAL files) on drop.
pub struct TempJournal(pub std::path::PathBuf);

impl TempJournal {
    pub fn new(tag: &str) -> TempJournal {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ums-journal-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempJournal(dir.join("journal.sqlite"))
    }
    pub fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 path")
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A unique msgId (echoed by the gateway, logged by the judge).
pub fn msg_id(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A new merchant id (billNo, order ids) from the demo msgSrcId.
pub fn new_id(client: &Client) -> String {
    client.new_id().expect("an id")
}

/// `POST /_sandbox/pay` for a code; the simulator's answer.
pub fn pay(base_url: &str, qr_code_id: &str) -> Value {
    let answer = ureq::post(&format!("{base_url}/_sandbox/pay"))
        .send(json!({"qrCodeId": qr_code_id}).to_string())
        .expect("pay")
        .into_body()
        .read_to_string()
        .expect("pay answer");
    serde_json::from_str(&answer).expect("pay JSON")
}

fn call(client: &Client, op: &str, request: Value) -> Value {
    client
        .execute_json(chinaums::ops::find(op).expect("op"), &request.to_string())
        .unwrap_or_else(|e| panic!("{op} (set-up): {e}"))
        .value
}

/// A one-off code with a bill of `amount` fen; `extra` members added.
pub fn one_off(
    client: &Client,
    today: &str,
    amount: i64,
    extra: Value,
) -> (String, String, String) {
    let bill_no = new_id(client);
    let mut request = json!({"billNo": bill_no, "billDate": today, "totalAmount": amount});
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            request[k] = v;
        }
    }
    let answer = call(client, "get-qrcode", request);
    let qr = answer["qrCodeId"].as_str().expect("qrCodeId").to_string();
    (qr, bill_no, today.to_string())
}

/// One prepared case: the request to send (without ids the client adds),
/// and the bill of a guaranteed trade for `resolve`.
pub struct Prepared {
    pub request: Map<String, Value>,
    pub bill: Option<(String, String)>,
}

/// Makes what `case` needs with `setup` (a plain client) and returns the
/// request. `msg_id` is set on it so the judge's entry can be found.
pub fn prepare(setup: &Client, base_url: &str, case: &str, msg_id: &str) -> Prepared {
    let today = BeijingTime::from_unix_millis(setup.clock_now_ms()).date();
    let amount = 100;
    let mut bill = None;
    let request = match case {
        "get-qrcode" => json!({"billNo": new_id(setup), "billDate": today, "totalAmount": amount}),
        "get-qrcode-fixed" => json!({"totalAmount": amount}),
        "update-qrcode" => {
            let fixed = call(setup, "get-qrcode", json!({}));
            json!({"qrCodeId": fixed["qrCodeId"], "totalAmount": 55})
        }
        "close-qrcode" => {
            let (qr, _, _) = one_off(setup, &today, amount, json!({}));
            json!({"qrCodeId": qr})
        }
        "refund" => {
            let (qr, no, date) = one_off(setup, &today, amount, json!({}));
            pay(base_url, &qr);
            json!({"billNo": no, "billDate": date, "refundAmount": 30})
        }
        "preauth-complete" | "preauth-cancel" => {
            let (qr, no, date) =
                one_off(setup, &today, amount, json!({"preauthTransaction": "true"}));
            let paid = pay(base_url, &qr);
            let code = paid["authIdRespCd"]
                .as_str()
                .expect("authIdRespCd")
                .to_string();
            if case == "preauth-complete" {
                json!({"billNo": no, "billDate": date, "authedOrderId": new_id(setup),
                       "authIdRespCd": code, "totalAmount": 80, "authedDesc": "done"})
            } else {
                json!({"billNo": no, "billDate": date, "cancelOrderId": new_id(setup),
                       "authIdRespCd": code})
            }
        }
        "secure-complete" | "secure-cancel" => {
            let (qr, no, date) =
                one_off(setup, &today, amount, json!({"secureTransaction": "true"}));
            let paid = pay(base_url, &qr);
            let mer_order_id = paid["merOrderId"].as_str().expect("merOrderId").to_string();
            bill = Some((no, date));
            if case == "secure-complete" {
                json!({"merOrderId": mer_order_id, "completedAmount": amount})
            } else {
                json!({"merOrderId": mer_order_id})
            }
        }
        other => panic!("unknown case {other}"),
    };
    let mut request = match request {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    request.insert("msgId".into(), msg_id.into());
    Prepared { request, bill }
}

/// Whether the simulator applied the request with this msgId on `path`:
/// None when it never processed one (not received, or not processed).
pub fn judge(sandbox: &Sandbox, path: &str, msg_id: &str) -> Option<bool> {
    let entries: Vec<_> = sandbox
        .processed(0)
        .into_iter()
        .filter(|e| e.path == path && e.field("msgId") == Some(msg_id))
        .collect();
    if entries.is_empty() {
        return None;
    }
    Some(entries.iter().any(|e| e.applied))
}
