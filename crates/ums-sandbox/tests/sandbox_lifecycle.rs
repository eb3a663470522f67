//! A bill's whole life in the simulator: QR code, payment by the customer
//! (`/_sandbox/pay`), signed notifications with retries, query, refunds,
//! pre-authorisations, guaranteed trades, expiry and closing.

#[path = "sandbox_support.rs"]
mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use support::*;
use ums_sandbox::{demo, DeliveryStatus, Sandbox, SandboxConfig};

const CLOSE: &str = "/v1/netpay/bills/close-qrcode";
const QUERY: &str = "/v1/netpay/bills/query";
const REFUND: &str = "/v1/netpay/bills/refund";
const INFO: &str = "/v1/netpay/bills/query-qrcode-info";
const PREAUTHED: &str = "/v1/netpay/bills/preauthed";
const PREAUTH_CANCEL: &str = "/v1/netpay/bills/preauth-cancel";
const SECURE_CANCEL: &str = "/v1/netpay/secure-cancel";
const SECURE_COMPLETE: &str = "/v1/netpay/secure-complete";
const DATE: &str = "2020-02-26";

/// A simulator on a clock the test moves, with fast notification retries.
struct Lab {
    sandbox: Sandbox,
    clock: Arc<StepClock>,
    agent: ureq::Agent,
}

impl Lab {
    fn new() -> Lab {
        Lab::with(|_| {})
    }

    fn with(change: impl FnOnce(&mut SandboxConfig)) -> Lab {
        let clock = StepClock::new(NOW);
        let mut config = SandboxConfig {
            clock: clock.clone(),
            notify_backoff: vec![Duration::from_millis(50)],
            ..SandboxConfig::default()
        };
        change(&mut config);
        Lab {
            sandbox: Sandbox::start(config).expect("sandbox starts"),
            clock,
            agent: agent(),
        }
    }

    /// A signed business call with the common fields of the demo merchant.
    fn call(&self, path: &str, extra: Value) -> Value {
        let now = self.clock.now();
        let reply = post_signed(
            &self.agent,
            &self.sandbox,
            path,
            &bills_body(now, extra),
            now,
        );
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        reply.json
    }

    fn ok(&self, path: &str, extra: Value) -> Value {
        let reply = self.call(path, extra.clone());
        assert_eq!(reply["errCode"], "SUCCESS", "{path} {extra}: {reply}");
        reply
    }

    fn refused(&self, path: &str, extra: Value, code: &str) -> Value {
        let reply = self.call(path, extra.clone());
        assert_eq!(reply["errCode"], code, "{path} {extra}: {reply}");
        reply
    }

    fn control(&self, path: &str, body: Value) -> Reply {
        post(
            &self.agent,
            &format!("{}{path}", self.sandbox.base_url()),
            &[("Content-Type", "application/json")],
            &body.to_string(),
        )
    }

    fn pay(&self, body: Value) -> Reply {
        self.control("/_sandbox/pay", body)
    }

    fn paid(&self, body: Value) -> Value {
        let reply = self.pay(body.clone());
        assert_eq!(reply.status, 200, "pay {body}: {}", reply.text);
        assert_eq!(reply.json["ok"], true);
        reply.json
    }

    /// A one-off code for `bill_no` (today, `amount` fen) plus `extra`.
    fn one_off(&self, bill_no: &str, amount: u64, extra: Value) -> String {
        let mut fields = json!({"billNo": bill_no, "billDate": DATE, "totalAmount": amount});
        for (k, v) in extra.as_object().unwrap() {
            fields[k] = v.clone();
        }
        let got = self.ok(GET_QRCODE, fields);
        got["qrCodeId"].as_str().unwrap().to_string()
    }

    fn query(&self, bill_no: &str) -> Value {
        self.ok(QUERY, json!({"billNo": bill_no, "billDate": DATE}))
    }

    fn refund(&self, bill_no: &str, amount: u64, refund_order_id: Option<&str>) -> Value {
        let mut fields = json!({"billNo": bill_no, "billDate": DATE, "refundAmount": amount});
        if let Some(id) = refund_order_id {
            fields["refundOrderId"] = id.into();
        }
        self.call(REFUND, fields)
    }

    fn notifications(&self, query: &str) -> Vec<Value> {
        let reply = get(
            &self.agent,
            &format!("{}/_sandbox/notifications{query}", self.sandbox.base_url()),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json["notifications"].as_array().unwrap().clone()
    }
}

/// What a [`Receiver`] has seen.
#[derive(Debug, Default)]
struct Seen {
    /// Every POST body, in the order received.
    bodies: Vec<String>,
    /// Requests received on connections the notifier has since closed.
    finished: usize,
    /// Whether answers may go out (see [`Receiver::gated`]).
    released: bool,
}

/// A notification receiver on 127.0.0.1: records every POST body and
/// answers with the scripted texts in turn (the last one repeats), keeping
/// the connection open for the next attempt. Tests wait on what it has
/// seen (a condition variable, no polling).
///
/// The simulator delivers a notification from a thread of its own with an
/// HTTP agent that keeps connections for reuse; that agent, and with it
/// every connection it opened, is dropped only after the delivery's
/// outcome (delivered, or given up) has been recorded. So once every
/// request the receiver saw came on a connection the notifier has closed,
/// the simulator's record of those deliveries is final.
struct Receiver {
    url: String,
    seen: Arc<(Mutex<Seen>, Condvar)>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start(replies: &[&'static str]) -> Receiver {
        let receiver = Receiver::gated(replies);
        receiver.release();
        receiver
    }

    /// A receiver that holds every answer until [`Receiver::release`].
    fn gated(replies: &[&'static str]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<(Mutex<Seen>, Condvar)> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let replies = replies.to_vec();
        let thread = {
            let seen = seen.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (seen, replies) = (seen.clone(), replies.clone());
                    std::thread::spawn(move || serve(stream, &seen, &replies));
                }
            })
        };
        Receiver {
            url: format!("http://{addr}/notify"),
            seen,
            stop,
            addr,
            thread: Some(thread),
        }
    }

    /// Lets the held answers (and all later ones) go out.
    fn release(&self) {
        let (lock, changed) = &*self.seen;
        lock.lock().unwrap().released = true;
        changed.notify_all();
    }

    fn bodies(&self) -> Vec<String> {
        self.seen.0.lock().unwrap().bodies.clone()
    }

    /// Waits until `done` holds for what the receiver has seen. The 60 s
    /// limit only turns a hang into a failure.
    fn wait_until(&self, what: &str, done: impl Fn(&Seen) -> bool) {
        let (lock, changed) = &*self.seen;
        let (seen, _) = changed
            .wait_timeout_while(lock.lock().unwrap(), Duration::from_secs(60), |seen| {
                !done(seen)
            })
            .unwrap();
        assert!(done(&seen), "never happened: {what}: {seen:?}");
    }

    /// Waits until `n` notification attempts have arrived.
    fn wait_for_bodies(&self, n: usize) {
        self.wait_until(&format!("{n} notification attempt(s)"), |seen| {
            seen.bodies.len() >= n
        });
    }

    /// Waits until the notifier has closed the connections of all `n`
    /// attempts it made: the simulator's record of them is then final.
    fn wait_for_notifier_done(&self, n: usize) {
        self.wait_until(&format!("the notifier done with {n} attempt(s)"), |seen| {
            seen.finished >= n
        });
    }
}

/// Serves one connection: each request is recorded, then answered (once
/// released), until the notifier closes the connection.
fn serve(mut stream: TcpStream, seen: &(Mutex<Seen>, Condvar), replies: &[&str]) {
    let (lock, changed) = seen;
    let mut served = 0;
    while let Some(body) = read_post(&mut stream) {
        served += 1;
        let n = {
            let mut seen = lock.lock().unwrap();
            seen.bodies.push(body);
            let n = seen.bodies.len();
            changed.notify_all();
            // Held here until the test releases the answers.
            drop(changed.wait_while(seen, |seen| !seen.released).unwrap());
            n
        };
        let text = replies[(n - 1).min(replies.len() - 1)];
        let sent = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if sent.is_err() {
            break;
        }
    }
    lock.lock().unwrap().finished += served;
    changed.notify_all();
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.release(); // no connection thread stays held
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one HTTP request with a Content-Length body; returns the body.
fn read_post(stream: &mut TcpStream) -> Option<String> {
    // Between attempts the notifier keeps the connection for the next one;
    // the limit only ends a connection it forgot.
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .ok()?;
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("post "), "{head}");
    assert!(
        head.contains("content-type: application/x-www-form-urlencoded"),
        "{head}"
    );
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().unwrap())?;
    while data.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(data[head_end..head_end + length].to_vec()).ok()
}

fn verified(body: &str) -> chinaums::notify::VerifiedNotification {
    chinaums::notify::verify(demo::NOTIFY_KEY, body.as_bytes())
        .unwrap_or_else(|e| panic!("the simulator's notification must verify: {e}\n{body}"))
}

#[test]
fn a_bill_lives_from_code_to_close() {
    let lab = Lab::new();
    let receiver = Receiver::start(&["SUCCESS"]);
    let id = lab.one_off(
        "LIFE0001",
        1000,
        json!({"notifyUrl": receiver.url, "billDesc": "一杯咖啡", "memberId": "M1"}),
    );

    // The code carries the bill.
    let info = lab.ok(INFO, json!({"qrCodeId": id, "systemId": id, "tid": null}));
    assert_eq!(info["billNo"], "LIFE0001");
    assert_eq!(info["totalAmount"], 1000);
    assert_eq!(info["billDesc"], "一杯咖啡");
    assert_eq!(info["notifyUrl"], receiver.url.as_str());
    assert_eq!(info["qrCodeStatus"], "VALID");
    assert_eq!(
        info["expireTime"], "2020-02-26 14:06:00",
        "30 minutes by default"
    );
    lab.refused(
        INFO,
        json!({"qrCodeId": id, "systemId": "OTHER"}),
        "NO_ORDER",
    );

    let unpaid = lab.query("LIFE0001");
    assert_eq!(unpaid["billStatus"], "UNPAID");
    assert!(unpaid.get("billPayment").is_none());
    lab.refused(
        REFUND,
        json!({"billNo": "LIFE0001", "billDate": DATE, "refundAmount": 1}),
        "OPERATION_NOT_ALLOWED",
    );

    // The customer pays.
    let paid = lab.paid(json!({"qrCodeId": id}));
    assert_eq!(paid["billNo"], "LIFE0001");
    assert_eq!(paid["billStatus"], "PAID");
    let mer_order_id = paid["merOrderId"].as_str().unwrap().to_string();
    assert!(mer_order_id.starts_with("3194") && mer_order_id.len() == 28);
    let notify_id = paid["notifyId"].as_str().unwrap().to_string();

    let query = lab.query("LIFE0001");
    assert_eq!(query["billStatus"], "PAID");
    assert_eq!(query["totalAmount"], 1000);
    let payment = &query["billPayment"];
    assert_eq!(payment["merOrderId"], mer_order_id.as_str());
    assert_eq!(payment["status"], "TRADE_SUCCESS");
    assert_eq!(payment["totalAmount"], 1000);
    assert_eq!(payment["targetSys"], "WXPay");
    assert_eq!(payment["payTime"], "2020-02-26 13:36:00");
    assert_eq!(payment["settleDate"], DATE);

    // The notification arrives and verifies.
    receiver.wait_for_bodies(1);
    let note = verified(&receiver.bodies()[0]);
    assert_eq!(note.get("notifyId"), Some(notify_id.as_str()));
    assert_eq!(note.get("billStatus"), Some("PAID"));
    assert_eq!(note.get("billNo"), Some("LIFE0001"));
    assert_eq!(note.get("totalAmount"), Some("1000"));
    assert_eq!(note.get("billDesc"), Some("一杯咖啡"));
    assert_eq!(note.get("memberId"), Some("M1"));
    assert_eq!(note.get("signType"), Some("SHA256"));
    assert_eq!(
        note.to_json()["fields"]["billPayment"]["merOrderId"],
        mer_order_id.as_str()
    );

    // Partial refund, then the rest.
    let first = lab.refund("LIFE0001", 300, Some("3194REFUND0001"));
    assert_eq!(first["errCode"], "SUCCESS", "{first}");
    assert_eq!(first["refundStatus"], "SUCCESS");
    assert_eq!(first["refundAmount"], 300);
    assert_eq!(first["billStatus"], "REFUND");
    assert!(first["refundTargetOrderId"].as_str().unwrap().len() > 10);
    let with_refund = lab.ok(
        QUERY,
        json!({"billNo": "LIFE0001", "billDate": DATE, "refundOrderId": "3194REFUND0001"}),
    );
    assert_eq!(with_refund["refundBillPayment"]["refundAmount"], 300);
    assert_eq!(
        with_refund["refundBillPayment"]["refundTargetOrderId"],
        first["refundTargetOrderId"]
    );
    assert_eq!(with_refund["billPayment"]["status"], "TRADE_REFUND");
    assert_eq!(with_refund["billPayment"]["refundAmount"], 300);
    lab.refused(
        QUERY,
        json!({"billNo": "LIFE0001", "billDate": DATE, "refundOrderId": "3194NOSUCHREFUND"}),
        "NO_ORDER",
    );
    let rest = lab.refund("LIFE0001", 700, Some("3194REFUND0002"));
    assert_eq!(rest["errCode"], "SUCCESS", "{rest}");
    assert_eq!(lab.query("LIFE0001")["billPayment"]["refundAmount"], 1000);

    // Refunds are notified too, each with its own notifyId.
    receiver.wait_for_bodies(3);
    let refunds: Vec<_> = receiver.bodies()[1..].iter().map(|b| verified(b)).collect();
    assert!(refunds
        .iter()
        .all(|n| n.get("billStatus") == Some("REFUND")));
    assert!(refunds
        .iter()
        .all(|n| n.get("notifyId") != Some(notify_id.as_str())));
    let amounts: Vec<Value> = refunds
        .iter()
        .map(|n| n.to_json()["fields"]["refundBillPayment"]["refundAmount"].clone())
        .collect();
    assert!(amounts.contains(&json!(300)) && amounts.contains(&json!(700)));

    // Closing keeps the refunded bill as it is; the code is gone for good.
    let closed = lab.ok(CLOSE, json!({"qrCodeId": id}));
    assert_eq!(closed["qrCodeId"], id.as_str());
    assert_eq!(closed["billStatus"], "REFUND");
    assert_eq!(lab.pay(json!({"qrCodeId": id})).status, 409);
}

#[test]
fn refund_limits() {
    let lab = Lab::new();
    lab.refused(
        REFUND,
        json!({"billNo": "NOBILL", "billDate": DATE, "refundAmount": 1}),
        "NO_ORDER",
    );
    let id = lab.one_off("LIM001", 500, json!({}));
    lab.paid(json!({"qrCodeId": id, "amount": 500, "targetSys": "Alipay 2.0"}));
    lab.refused(
        REFUND,
        json!({"billNo": "LIM001", "billDate": "2020-02-27", "refundAmount": 1}),
        "NO_ORDER",
    );
    let over = lab.refund("LIM001", 501, Some("3194LIM0001"));
    assert_eq!(over["errCode"], "OPERATION_NOT_ALLOWED");
    assert!(
        over["errMsg"]
            .as_str()
            .unwrap()
            .contains("退款金额超过可退金额"),
        "{over}"
    );
    // A refund without refundOrderId is numbered by the gateway.
    let first = lab.refund("LIM001", 200, None);
    assert_eq!(first["errCode"], "SUCCESS", "{first}");
    assert!(first["refundOrderId"].as_str().unwrap().starts_with("3194"));
    // A second refund needs its own refundOrderId.
    let second = lab.refund("LIM001", 100, None);
    assert_eq!(second["errCode"], "OPERATION_NOT_ALLOWED", "{second}");
    assert!(second["errMsg"].as_str().unwrap().contains("refundOrderId"));
    let beyond = lab.refund("LIM001", 301, Some("3194LIM0002"));
    assert_eq!(beyond["errCode"], "OPERATION_NOT_ALLOWED");
    assert!(
        beyond["errMsg"].as_str().unwrap().contains("300"),
        "{beyond}"
    );
    assert_eq!(
        lab.refund("LIM001", 300, Some("3194LIM0003"))["errCode"],
        "SUCCESS"
    );
    assert_eq!(
        lab.refund("LIM001", 1, Some("3194LIM0004"))["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    let query = lab.query("LIM001");
    assert_eq!(query["billStatus"], "REFUND");
    assert_eq!(query["billPayment"]["refundAmount"], 500);
    assert_eq!(query["billPayment"]["targetSys"], "Alipay 2.0");

    // Field checks consistent with the client's table.
    for (fields, needle) in [
        (
            json!({"billNo": "LIM001", "billDate": DATE}),
            "refundAmount",
        ),
        (
            json!({"billNo": "LIM001", "billDate": DATE, "refundAmount": 0}),
            "refundAmount",
        ),
        (
            json!({"billNo": "LIM001", "billDate": DATE, "refundAmount": 1, "refundOrderId": "12345"}),
            "refundOrderId",
        ),
        (
            json!({"billNo": "LIM001", "billDate": DATE, "refundAmount": 1, "platformAmount": 2}),
            "platformAmount",
        ),
        (
            json!({"billNo": "LIM001", "billDate": DATE, "refundAmount": 1, "subOrders": "x"}),
            "subOrders",
        ),
        (json!({"billDate": DATE, "refundAmount": 1}), "billNo"),
    ] {
        let reply = lab.refused(REFUND, fields, "BAD_REQUEST");
        assert!(
            reply["errMsg"].as_str().unwrap().contains(needle),
            "{reply}"
        );
    }
}

#[test]
fn a_repeated_refund_order_id_never_refunds_twice() {
    let lab = Lab::new();
    let id = lab.one_off("REP001", 1000, json!({}));
    lab.paid(json!({"qrCodeId": id}));
    let first = lab.refund("REP001", 400, Some("3194REP000001"));
    assert_eq!(first["errCode"], "SUCCESS");
    for _ in 0..3 {
        let again = lab.refund("REP001", 400, Some("3194REP000001"));
        assert_eq!(again["errCode"], "SUCCESS", "{again}");
        for key in [
            "refundStatus",
            "refundAmount",
            "refundTargetOrderId",
            "refundOrderId",
        ] {
            assert_eq!(again[key], first[key], "{key}");
        }
    }
    // The same refund number with another amount is a duplicate, not a refund.
    let other = lab.refund("REP001", 100, Some("3194REP000001"));
    assert_eq!(other["errCode"], "DUP_ORDER", "{other}");
    assert_eq!(lab.query("REP001")["billPayment"]["refundAmount"], 400);

    // A refund number of another bill of the merchant is a duplicate too.
    let id2 = lab.one_off("REP002", 50, json!({}));
    lab.paid(json!({"qrCodeId": id2}));
    assert_eq!(
        lab.refund("REP002", 10, Some("3194REP000001"))["errCode"],
        "DUP_ORDER"
    );
    assert!(lab.query("REP002")["billPayment"]
        .get("refundAmount")
        .is_none());
}

#[test]
fn closed_codes_cannot_be_paid_or_updated() {
    let lab = Lab::new();
    let id = lab.one_off("CLS001", 100, json!({}));
    lab.refused(
        CLOSE,
        json!({"qrCodeId": id, "systemId": "OTHER"}),
        "NO_ORDER",
    );
    let closed = lab.ok(CLOSE, json!({"qrCodeId": id, "systemId": id}));
    assert_eq!(closed["billStatus"], "CLOSED");
    assert_eq!(lab.query("CLS001")["billStatus"], "CLOSED");
    let pay = lab.pay(json!({"qrCodeId": id}));
    assert_eq!(
        (pay.status, pay.json["error"].as_str()),
        (409, Some("CLOSED"))
    );
    let update = lab.refused(
        UPDATE_QRCODE,
        json!({"qrCodeId": id, "billNo": "CLS002", "billDate": DATE, "totalAmount": 1}),
        "OPERATION_NOT_ALLOWED",
    );
    assert!(update["errMsg"].as_str().unwrap().contains("关闭"));
    lab.refused(CLOSE, json!({"qrCodeId": id}), "OPERATION_NOT_ALLOWED");
    lab.refused(
        CLOSE,
        json!({"qrCodeId": "31949999999999999999999999"}),
        "NO_ORDER",
    );
    lab.refused(
        CLOSE,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "attachRefund": true}),
        "BAD_REQUEST",
    );

    // attachRefund on a paid one-off code refunds what is left.
    let id = lab.one_off("CLS003", 800, json!({}));
    lab.paid(json!({"qrCodeId": id}));
    assert_eq!(
        lab.refund("CLS003", 300, Some("3194CLS00301"))["errCode"],
        "SUCCESS"
    );
    let closed = lab.ok(CLOSE, json!({"qrCodeId": id, "attachRefund": true}));
    assert_eq!(closed["refundAmount"], 500, "{closed}");
    assert_eq!(closed["billStatus"], "REFUND");
    let query = lab.query("CLS003");
    assert_eq!(query["billPayment"]["refundAmount"], 800);
    assert_eq!(
        lab.refund("CLS003", 1, Some("3194CLS00302"))["errCode"],
        "OPERATION_NOT_ALLOWED"
    );

    // A paid one-off code cannot be paid again or updated.
    let id = lab.one_off("CLS004", 10, json!({}));
    lab.paid(json!({"qrCodeId": id}));
    let again = lab.pay(json!({"qrCodeId": id}));
    assert_eq!(
        (again.status, again.json["error"].as_str()),
        (409, Some("ALREADY_PAID"))
    );
    lab.refused(
        UPDATE_QRCODE,
        json!({"qrCodeId": id, "billNo": "CLS005", "billDate": DATE}),
        "OPERATION_NOT_ALLOWED",
    );
}

#[test]
fn one_off_codes_expire_on_the_test_clock() {
    let lab = Lab::new();
    let id = lab.one_off("EXP001", 100, json!({}));
    let short = lab.one_off("EXP002", 100, json!({"expireTime": "2020-02-26 13:40:00"}));
    lab.clock.advance(5 * 60 * 1000);
    let pay = lab.pay(json!({"qrCodeId": short}));
    assert_eq!(
        (pay.status, pay.json["error"].as_str()),
        (409, Some("EXPIRED"))
    );
    lab.paid(json!({"qrCodeId": id}));

    let late = lab.one_off("EXP003", 100, json!({}));
    lab.clock.advance(30 * 60 * 1000);
    let pay = lab.pay(json!({"qrCodeId": late}));
    assert_eq!(pay.status, 409);
    assert!(pay.json["message"]
        .as_str()
        .unwrap()
        .contains("二维码已过期"));
    let update = lab.refused(
        UPDATE_QRCODE,
        json!({"qrCodeId": late, "billNo": "EXP004", "billDate": DATE, "totalAmount": 1}),
        "OPERATION_NOT_ALLOWED",
    );
    assert!(update["errMsg"].as_str().unwrap().contains("过期"));
    let info = lab.ok(INFO, json!({"qrCodeId": late, "systemId": late}));
    assert_eq!(info["qrCodeStatus"], "EXPIRED");
    // The paid bill is still there, and can still be refunded.
    assert_eq!(
        lab.refund("EXP001", 100, Some("3194EXP00101"))["errCode"],
        "SUCCESS"
    );
}

#[test]
fn the_control_clock_expires_codes_and_tokens_but_not_request_timestamps() {
    // A simulator on the system clock, as non-Rust tests see it.
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let agent = agent();
    let now = || chinaums::clock::Clock::now_unix_millis(&chinaums::clock::SystemClock);
    let token = new_token(&agent, &sandbox, now());
    let body = bills_body(
        now(),
        json!({"billNo": "CLK001", "billDate": today(now()), "totalAmount": 5}),
    );
    let got = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &token);
    assert_eq!(got.json["errCode"], "SUCCESS", "{}", got.text);
    let id = got.json["qrCodeId"].as_str().unwrap().to_string();

    let url = format!("{}/_sandbox/clock", sandbox.base_url());
    let bad = post(&agent, &url, &[], "{\"advanceSeconds\": -5}");
    assert_eq!(bad.status, 400);
    let moved = post(&agent, &url, &[], "{\"advanceSeconds\": 3601}");
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.json["offsetSeconds"], 3601);
    assert_eq!(get(&agent, &url).json["offsetSeconds"], 3601);

    // The token has expired; the code too.
    let body = bills_body(now(), json!({"totalAmount": 5}));
    let expired = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &token);
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json["errCode"], "INVALID_TOKEN");
    let pay = post(
        &agent,
        &format!("{}/_sandbox/pay", sandbox.base_url()),
        &[],
        &json!({"qrCodeId": id}).to_string(),
    );
    assert_eq!(pay.status, 409, "{}", pay.text);
    // Clients keep their own clocks: their timestamps are still accepted,
    // and new tokens work.
    let body = bills_body(now(), json!({"totalAmount": 5}));
    let signed = post_signed(&agent, &sandbox, GET_QRCODE, &body, now());
    assert_eq!(signed.json["errCode"], "SUCCESS", "{}", signed.text);
    let fresh = new_token(&agent, &sandbox, now());
    let body = bills_body(now(), json!({"totalAmount": 5}));
    let before = now();
    let reply = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &fresh);
    let after = now();
    assert_eq!(reply.json["errCode"], "SUCCESS", "{}", reply.text);
    let shifted =
        |ms: i64| chinaums::clock::BeijingTime::from_unix_millis(ms + 3_601_000).date_time();
    let stamp = reply.json["responseTimeStamp"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        stamp >= shifted(before) && stamp <= shifted(after),
        "answers carry the simulator's time: {stamp}"
    );
}

fn today(now_ms: i64) -> String {
    chinaums::clock::BeijingTime::from_unix_millis(now_ms).date()
}

#[test]
fn notifications_are_signed_and_retried_until_success() {
    // An attempt may wait as long as it takes for the receiver here.
    let lab = Lab::with(|c| c.notify_timeout = Duration::from_secs(60));
    // Paying does not wait for the receiver: the receiver answers nothing
    // until the payment has been answered. A payment that waited for the
    // notification would never be answered (the test's agent gives up
    // after 20 s and the test fails).
    let receiver = Receiver::gated(&["FAILED", "  not now ", "SUCCESS\r\n"]);
    let id = lab.one_off(
        "NTF001",
        42,
        json!({"notifyUrl": receiver.url, "counterNo": "06"}),
    );
    let paid = lab.paid(json!({"qrCodeId": id, "signType": "MD5", "targetSys": "Alipay 2.0"}));
    receiver.release();
    let notify_id = paid["notifyId"].as_str().unwrap().to_string();
    receiver.wait_for_notifier_done(3);
    assert_eq!(
        lab.sandbox.notifications()[0].status,
        DeliveryStatus::Delivered
    );
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 3, "two failures, then SUCCESS");
    assert!(
        bodies.iter().all(|b| b == &bodies[0]),
        "the same body every time"
    );
    let note = verified(&bodies[0]);
    assert_eq!(note.sign_type, chinaums::sign::NotifySignType::Md5);
    assert_eq!(note.get("notifyId"), Some(notify_id.as_str()));
    assert_eq!(note.get("counterNo"), Some("06"));
    // The optional fields the bill lacks arrive empty, as real ones can,
    // and the signature (verified above) leaves them out (protocol §6).
    assert_eq!(note.get("billDesc"), Some(""));
    assert_eq!(note.get("memberId"), Some(""));
    assert_eq!(note.get("merName"), Some("银联商务模拟商户"));
    assert_eq!(note.get("mid"), Some(demo::MID));
    assert_eq!(note.get("tid"), Some(demo::TID));
    assert_eq!(note.get("instMid"), Some(demo::INST_MID));
    assert_eq!(note.get("createTime"), Some("2020-02-26 13:36:00"));
    assert!(note.get("billQRCode").unwrap().ends_with(&id));
    assert!(note.get("seqId").is_some());
    let payment = &note.to_json()["fields"]["billPayment"];
    assert_eq!(payment["targetSys"], "Alipay 2.0");
    assert_eq!(payment["totalAmount"], 42);
    // The random extra key: two letters, not one of the named fields.
    let named = [
        "mid",
        "tid",
        "instMid",
        "billNo",
        "billQRCode",
        "billDate",
        "createTime",
        "billStatus",
        "totalAmount",
        "counterNo",
        "billDesc",
        "memberId",
        "merName",
        "notifyId",
        "billPayment",
        "seqId",
        "signType",
    ];
    let extra: Vec<_> = note
        .fields
        .iter()
        .filter(|(k, _)| !named.contains(&k.as_str()))
        .collect();
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert_eq!(extra[0].0.len(), 2);
    assert!(extra[0].0.bytes().all(|b| b.is_ascii_alphabetic()));
    // The sign is upper-case hex, and a tampered body is refused.
    let sign = bodies[0].rsplit("sign=").next().unwrap();
    assert_eq!(sign.len(), 32);
    assert_eq!(sign, sign.to_ascii_uppercase());
    let tampered = bodies[0].replace("totalAmount=42", "totalAmount=43");
    assert!(chinaums::notify::verify(demo::NOTIFY_KEY, tampered.as_bytes()).is_err());

    let listed = lab.notifications(&format!("?notifyId={notify_id}"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["attempts"], 3);
    assert_eq!(listed[0]["status"], "delivered");
    assert_eq!(listed[0]["delivered"], true);
    assert_eq!(listed[0]["lastReply"], "HTTP 200: SUCCESS");
    assert_eq!(listed[0]["url"], receiver.url.as_str());
    assert_eq!(listed[0]["body"], bodies[0].as_str());
    assert_eq!(lab.notifications("?billNo=NTF001").len(), 1);
    assert!(lab.notifications("?billNo=NOPE").is_empty());
}

#[test]
fn the_simulator_gives_up_and_never_calls_other_hosts() {
    let lab = Lab::with(|c| {
        c.notify_max_attempts = 3;
        c.notify_backoff = vec![Duration::from_millis(10)];
        c.notify_refunds = false;
    });
    let receiver = Receiver::start(&["FAILED"]);
    let id = lab.one_off("GIV001", 1, json!({"notifyUrl": receiver.url}));
    let notify_id = lab.paid(json!({"qrCodeId": id}))["notifyId"]
        .as_str()
        .unwrap()
        .to_string();
    receiver.wait_for_notifier_done(3);
    let delivery = &lab.sandbox.notifications()[0];
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(delivery.notify_id, notify_id);
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.last_reply.as_deref(), Some("HTTP 200: FAILED"));
    assert_eq!(receiver.bodies().len(), 3);
    let ids: Vec<String> = receiver
        .bodies()
        .iter()
        .map(|b| verified(b).get("notifyId").unwrap().to_string())
        .collect();
    assert!(
        ids.iter().all(|i| *i == notify_id),
        "notifyId is kept across retries"
    );
    // Refund notifications are off in this configuration.
    assert_eq!(lab.refund("GIV001", 1, None)["errCode"], "SUCCESS");

    // Non-loopback URLs are recorded, never called.
    let id = lab.one_off(
        "GIV002",
        1,
        json!({"notifyUrl": "http://www.test.com/notify"}),
    );
    lab.paid(json!({"qrCodeId": id}));
    let listed = lab.notifications("?billNo=GIV002");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "not delivered: not loopback");
    assert_eq!(listed[0]["attempts"], 0);
    // No notifyUrl: nothing to send.
    let id = lab.one_off("GIV003", 1, json!({}));
    assert_eq!(lab.paid(json!({"qrCodeId": id}))["notifyId"], Value::Null);
    assert_eq!(lab.sandbox.notifications().len(), 2);
}

#[test]
fn the_pay_endpoint_refuses_clearly() {
    let lab = Lab::new();
    let cases = [
        (json!({}), 400, "BAD_REQUEST"),
        (json!({"qrCodeId": 5}), 400, "BAD_REQUEST"),
        (
            json!({"qrCodeId": "31940000000000000000000000"}),
            404,
            "NO_ORDER",
        ),
        (
            json!({"qrCodeId": demo::SEED_QR_CODE_ID}),
            400,
            "AMOUNT_REQUIRED",
        ),
        (
            json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": "5"}),
            400,
            "BAD_REQUEST",
        ),
        (
            json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": 0}),
            400,
            "BAD_REQUEST",
        ),
        (
            json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": 5, "targetSys": "PayPal"}),
            400,
            "BAD_REQUEST",
        ),
        (
            json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": 5, "signType": "RSA"}),
            400,
            "BAD_REQUEST",
        ),
    ];
    for (body, status, code) in cases {
        let reply = lab.pay(body.clone());
        assert_eq!(
            (reply.status, reply.json["error"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.json["ok"], false);
        assert!(reply.json["message"].as_str().is_some());
    }
    let not_json = post(
        &lab.agent,
        &format!("{}/_sandbox/pay", lab.sandbox.base_url()),
        &[],
        "qrCodeId=1",
    );
    assert_eq!(not_json.status, 400);
    let wrong_method = get(
        &lab.agent,
        &format!("{}/_sandbox/pay", lab.sandbox.base_url()),
    );
    assert_eq!(wrong_method.status, 405);

    let id = lab.one_off("PAY001", 300, json!({}));
    let mismatch = lab.pay(json!({"qrCodeId": id, "amount": 301}));
    assert_eq!(
        (mismatch.status, mismatch.json["error"].as_str()),
        (400, Some("AMOUNT_MISMATCH"))
    );
    lab.paid(json!({"qrCodeId": id, "amount": 300}));

    // A fixed code without a bill: each payment gets a bill numbered by the
    // gateway, with the amount the customer entered.
    let a = lab.paid(json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": 5}));
    let b = lab.paid(json!({"qrCodeId": demo::SEED_QR_CODE_ID, "amount": 7}));
    assert_ne!(a["billNo"], b["billNo"]);
    assert_ne!(a["merOrderId"], b["merOrderId"]);
    let query = lab.ok(
        QUERY,
        json!({"billNo": b["billNo"], "billDate": b["billDate"]}),
    );
    assert_eq!(query["totalAmount"], 7);
    assert_eq!(query["billStatus"], "PAID");
    // A fixed code with an amount takes exactly that amount.
    let fixed = lab.ok(GET_QRCODE, json!({"totalAmount": 99}));
    let fixed_id = fixed["qrCodeId"].as_str().unwrap();
    assert_eq!(
        lab.pay(json!({"qrCodeId": fixed_id, "amount": 98})).status,
        400
    );
    assert_eq!(lab.paid(json!({"qrCodeId": fixed_id}))["totalAmount"], 99);
    // A bill bound to the seed code by update-qrcode is what the next payment pays.
    lab.ok(
        UPDATE_QRCODE,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "billNo": "PAY002", "billDate": DATE, "totalAmount": 26}),
    );
    let bound = lab.paid(json!({"qrCodeId": demo::SEED_QR_CODE_ID}));
    assert_eq!(bound["billNo"], "PAY002");
    assert_eq!(bound["totalAmount"], 26);
}

#[test]
fn pre_authorisations_complete_once_or_cancel() {
    let lab = Lab::new();
    let id = lab.one_off("PRE001", 1000, json!({"preauthTransaction": "true"}));
    let paid = lab.paid(json!({"qrCodeId": id}));
    let code = paid["authIdRespCd"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert_eq!(
        lab.query("PRE001")["billPayment"]["authIdRespCd"],
        code.as_str()
    );
    lab.refused(
        REFUND,
        json!({"billNo": "PRE001", "billDate": DATE, "refundAmount": 1}),
        "OPERATION_NOT_ALLOWED",
    );
    let complete = |amount: u64, auth: &str, order: &str| {
        lab.call(
            PREAUTHED,
            json!({"billNo": "PRE001", "billDate": DATE, "authedOrderId": order,
                   "authIdRespCd": auth, "totalAmount": amount, "authedDesc": "完成"}),
        )
    };
    assert_eq!(
        complete(800, "000000", "3194AUTH01")["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    assert_eq!(
        complete(1001, &code, "3194AUTH01")["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    let done = complete(800, &code, "3194AUTH01");
    assert_eq!(done["errCode"], "SUCCESS", "{done}");
    assert_eq!(done["authedBillPayment"]["totalAmount"], 800);
    assert_eq!(
        complete(800, &code, "3194AUTH01")["authedBillPayment"],
        done["authedBillPayment"]
    );
    assert_eq!(
        complete(700, &code, "3194AUTH02")["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    let query = lab.ok(
        QUERY,
        json!({"billNo": "PRE001", "billDate": DATE, "authedOrderId": "3194AUTH01"}),
    );
    assert_eq!(query["authedBillPayment"]["authedOrderId"], "3194AUTH01");
    // Only the completed amount can be refunded.
    assert_eq!(
        lab.refund("PRE001", 801, Some("3194PRE0R1"))["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    assert_eq!(
        lab.refund("PRE001", 800, Some("3194PRE0R1"))["errCode"],
        "SUCCESS"
    );
    let cancel = |bill: &str, auth: &str, order: &str| {
        lab.call(
            PREAUTH_CANCEL,
            json!({"billNo": bill, "billDate": DATE, "cancelOrderId": order, "authIdRespCd": auth}),
        )
    };
    assert_eq!(
        cancel("PRE001", &code, "3194CANCEL1")["errCode"],
        "OPERATION_NOT_ALLOWED"
    );

    let id = lab.one_off("PRE002", 500, json!({"preauthTransaction": "true"}));
    let code = lab.paid(json!({"qrCodeId": id}))["authIdRespCd"]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = cancel("PRE002", &code, "3194CANCEL2");
    assert_eq!(cancelled["errCode"], "SUCCESS", "{cancelled}");
    assert_eq!(cancelled["billStatus"], "CLOSED");
    assert_eq!(cancelled["cancelBillPayment"]["status"], "TRADE_CLOSED");
    assert_eq!(cancel("PRE002", &code, "3194CANCEL2")["errCode"], "SUCCESS");
    assert_eq!(
        cancel("PRE002", &code, "3194CANCEL3")["errCode"],
        "HAS_CANCELLED"
    );
    let late = lab.call(
        PREAUTHED,
        json!({"billNo": "PRE002", "billDate": DATE, "authedOrderId": "3194AUTH03",
               "authIdRespCd": code, "totalAmount": 1, "authedDesc": "x"}),
    );
    assert_eq!(late["errCode"], "HAS_CANCELLED");
    assert_eq!(lab.refund("PRE002", 1, None)["errCode"], "HAS_CANCELLED");
    // A plain bill is no pre-authorisation.
    let id = lab.one_off("PRE003", 5, json!({}));
    lab.paid(json!({"qrCodeId": id}));
    assert_eq!(
        cancel("PRE003", "123456", "3194CANCEL4")["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    lab.refused(
        PREAUTHED,
        json!({"billNo": "PRE003", "billDate": DATE, "authedOrderId": "A1", "authIdRespCd": "1", "totalAmount": 1}),
        "BAD_REQUEST",
    );
}

#[test]
fn guaranteed_trades_complete_in_steps_or_cancel() {
    let lab = Lab::new();
    let id = lab.one_off("SEC001", 1000, json!({"secureTransaction": "true"}));
    let mer = lab.paid(json!({"qrCodeId": id}))["merOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        lab.query("SEC001")["billPayment"]["secureStatus"],
        "UNCOMPLETED"
    );
    assert_eq!(
        lab.refund("SEC001", 1, None)["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    let complete = |amount: u64| {
        lab.call(
            SECURE_COMPLETE,
            json!({"merOrderId": mer, "completedAmount": amount}),
        )
    };
    let part = complete(400);
    assert_eq!(part["errCode"], "SUCCESS", "{part}");
    assert_eq!(part["secureStatus"], "PARTLY_COMPLETED");
    assert_eq!(part["completedAmount"], 400);
    assert_eq!(
        lab.call(SECURE_CANCEL, json!({"merOrderId": mer}))["errCode"],
        "OPERATION_NOT_ALLOWED"
    );
    assert_eq!(complete(601)["errCode"], "OPERATION_NOT_ALLOWED");
    let all = complete(600);
    assert_eq!(all["secureStatus"], "ALL_COMPLETED");
    assert_eq!(all["completedAmount"], 1000);
    assert_eq!(complete(1)["errCode"], "OPERATION_NOT_ALLOWED");
    assert_eq!(lab.refund("SEC001", 1000, None)["errCode"], "SUCCESS");

    let id = lab.one_off("SEC002", 300, json!({"secureTransaction": "true"}));
    let mer = lab.paid(json!({"qrCodeId": id}))["merOrderId"]
        .as_str()
        .unwrap()
        .to_string();
    let cancelled = lab.ok(SECURE_CANCEL, json!({"merOrderId": mer}));
    assert_eq!(cancelled["secureStatus"], "CANCELED");
    assert_eq!(cancelled["billStatus"], "CLOSED");
    lab.refused(SECURE_CANCEL, json!({"merOrderId": mer}), "HAS_CANCELLED");
    lab.refused(
        SECURE_COMPLETE,
        json!({"merOrderId": mer, "completedAmount": 1}),
        "HAS_CANCELLED",
    );
    lab.refused(
        SECURE_CANCEL,
        json!({"merOrderId": "3194000000000000000000000001"}),
        "NO_ORDER",
    );
    lab.refused(SECURE_CANCEL, json!({"merOrderId": "12345"}), "BAD_REQUEST");
    // A plain payment is no guaranteed trade.
    let id = lab.one_off("SEC003", 5, json!({}));
    let mer = lab.paid(json!({"qrCodeId": id}))["merOrderId"].clone();
    lab.refused(
        SECURE_CANCEL,
        json!({"merOrderId": mer}),
        "OPERATION_NOT_ALLOWED",
    );
}

#[test]
fn the_data_envelope_is_unwrapped() {
    let lab = Lab::new();
    let inner: Value = serde_json::from_str(&bills_body(
        NOW,
        json!({"billNo": "ENV001", "billDate": DATE, "totalAmount": 3}),
    ))
    .unwrap();
    let body = json!({"data": inner}).to_string();
    let reply = post_signed(&lab.agent, &lab.sandbox, GET_QRCODE, &body, NOW);
    assert_eq!(reply.json["errCode"], "SUCCESS", "{}", reply.text);
    assert_eq!(reply.json["billNo"], "ENV001");
    assert_eq!(lab.query("ENV001")["billStatus"], "UNPAID");
}

#[test]
fn query_qrcode_info_needs_no_tid_but_checks_one() {
    let lab = Lab::new();
    let info = lab.ok(
        INFO,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "systemId": demo::SEED_QR_CODE_ID, "tid": null}),
    );
    assert_eq!(info["qrCodeType"], "FIXED");
    assert!(info.get("billNo").is_none());
    lab.refused(
        INFO,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "systemId": demo::SEED_QR_CODE_ID, "tid": "123"}),
        "BAD_REQUEST",
    );
    lab.refused(
        INFO,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID}),
        "BAD_REQUEST",
    );
    let other = lab.call(
        INFO,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "systemId": demo::SEED_QR_CODE_ID, "mid": demo::SECOND_MID}),
    );
    assert_eq!(other["errCode"], "NO_ORDER");
    // Real-name data never comes back.
    lab.ok(
        UPDATE_QRCODE,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "billNo": "INF001", "billDate": DATE,
               "name": "5bygKuS4iQ==", "certNo": "MTEwMTAxKioqKioqKio5MDA4", "fixBuyer": "T"}),
    );
    let info = lab.ok(
        INFO,
        json!({"qrCodeId": demo::SEED_QR_CODE_ID, "systemId": demo::SEED_QR_CODE_ID}),
    );
    assert_eq!(info["billNo"], "INF001");
    assert!(info.get("name").is_none() && info.get("certNo").is_none());
}

#[test]
fn the_client_runs_a_bill_through_the_simulator() {
    use chinaums::ops;
    let sandbox = Sandbox::start_default().unwrap();
    let config = demo::client_config(&sandbox.base_url(), json!({}));
    let client =
        chinaums::Client::new(chinaums::Config::from_json(&config.to_string()).unwrap()).unwrap();
    let object = |v: Value| match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let bill_no = client.new_id().unwrap();
    let date = client.now().date();
    let got = client
        .execute(
            &ops::GET_QRCODE,
            object(json!({"billNo": bill_no, "billDate": date, "totalAmount": "120"})),
        )
        .unwrap();
    let id = got.value["qrCodeId"].as_str().unwrap().to_string();
    let agent = agent();
    let pay = post(
        &agent,
        &format!("{}/_sandbox/pay", sandbox.base_url()),
        &[],
        &json!({"qrCodeId": id}).to_string(),
    );
    assert_eq!(pay.status, 200, "{}", pay.text);
    let refund_id = client.new_id().unwrap();
    let refund = client
        .execute(
            &ops::REFUND,
            object(json!({"billNo": bill_no, "billDate": date, "refundAmount": "20", "refundOrderId": refund_id})),
        )
        .unwrap();
    assert_eq!(refund.value["refundAmount"], 20);
    // The needDataTag envelope, end to end.
    let query = client
        .execute(
            &ops::QUERY_BILL,
            object(
                json!({"data": {"billNo": bill_no, "billDate": date, "refundOrderId": refund_id}}),
            ),
        )
        .unwrap();
    assert_eq!(query.value["billStatus"], "REFUND");
    assert_eq!(query.value["refundBillPayment"]["refundAmount"], 20);
    let over = client
        .execute(
            &ops::REFUND,
            object(json!({"billNo": bill_no, "billDate": date, "refundAmount": 101, "refundOrderId": client.new_id().unwrap()})),
        )
        .unwrap_err();
    assert_eq!(over.kind, chinaums::ErrorKind::GatewayRejected);
    assert_eq!(over.err_code.as_deref(), Some("OPERATION_NOT_ALLOWED"));
    let info = client
        .execute(
            &ops::QUERY_QRCODE_INFO,
            object(json!({"qrCodeId": id, "systemId": id})),
        )
        .unwrap();
    assert_eq!(info.value["billNo"], bill_no.as_str());
    let closed = client
        .execute(&ops::CLOSE_QRCODE, object(json!({"qrCodeId": id})))
        .unwrap();
    assert_eq!(closed.value["qrCodeId"], id.as_str());
}
