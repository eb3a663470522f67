//! The web console (its page, the QR code SVG, its forms), the refusal of
//! cross-site requests and DNS rebinding on every state-changing endpoint,
//! the request log, settled bills forgotten after the retention window, the
//! guarantee-state faults and the empty notification values.

#[path = "sandbox_support.rs"]
mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::*;
use ums_sandbox::{demo, Sandbox, SandboxConfig};

const QUERY: &str = "/v1/netpay/bills/query";

fn call(sandbox: &Sandbox, path: &str, extra: Value) -> Value {
    let reply = post_signed(&agent(), sandbox, path, &bills_body(NOW, extra), NOW);
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json
}

/// A one-off code of `amount` fen with bill `bill_no`; returns its qrCodeId.
fn one_off(sandbox: &Sandbox, bill_no: &str, amount: u64, extra: Value) -> String {
    let mut fields = json!({"billNo": bill_no, "billDate": "2020-02-26", "totalAmount": amount});
    for (key, value) in extra.as_object().unwrap() {
        fields[key] = value.clone();
    }
    let got = call(sandbox, GET_QRCODE, fields);
    assert_eq!(got["errCode"], "SUCCESS", "{got}");
    got["qrCodeId"].as_str().unwrap().to_string()
}

fn bill_status(sandbox: &Sandbox, bill_no: &str) -> Value {
    call(
        sandbox,
        QUERY,
        json!({"billNo": bill_no, "billDate": "2020-02-26"}),
    )["billStatus"]
        .clone()
}

/// A raw request (no client adds or changes headers), one response.
fn raw(
    sandbox: &Sandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawResponse {
    let mut text = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut conn = Conn::open(sandbox.addr());
    conn.send(text.as_bytes());
    conn.response().expect("an answer")
}

fn own_host(sandbox: &Sandbox) -> String {
    format!("127.0.0.1:{}", sandbox.addr().port())
}

fn own_origin(sandbox: &Sandbox) -> String {
    format!("http://{}", own_host(sandbox))
}

#[test]
fn the_console_shows_codes_bills_and_their_qr_codes() {
    let sandbox = fixed_sandbox();
    let id = one_off(
        &sandbox,
        "CON001",
        260,
        json!({"billDesc": "<script>alert(1)</script> 咖啡"}),
    );
    let page = raw(&sandbox, "GET", "/", &[("Host", &own_host(&sandbox))], "");
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page.body.contains(demo::SEED_QR_CODE_ID), "the seed code");
    assert!(page.body.contains("data-bill-no=\"CON001\""));
    assert!(page.body.contains("id=\"pay-CON001\""), "a pay button");
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; 咖啡"),
        "billDesc is escaped"
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains(&format!("/console/qr.svg?id={id}")));
    let svg = raw(
        &sandbox,
        "GET",
        &format!("/console/qr.svg?id={id}"),
        &[("Host", &own_host(&sandbox))],
        "",
    );
    assert_eq!(svg.status, 200);
    assert!(svg
        .header("content-type")
        .unwrap()
        .starts_with("image/svg+xml"));
    assert!(
        svg.body.starts_with("<?xml") && svg.body.contains("<svg"),
        "{}",
        svg.body
    );
    let unknown = raw(
        &sandbox,
        "GET",
        "/console/qr.svg?id=nope",
        &[("Host", &own_host(&sandbox))],
        "",
    );
    assert_eq!(unknown.status, 404);
    // The console is not a ChinaUMS path: not counted.
    assert_eq!(sandbox.stats().requests_to("/"), 0);
}

#[test]
fn the_console_pays_with_a_same_origin_form() {
    let sandbox = fixed_sandbox();
    let id = one_off(&sandbox, "CON002", 300, json!({}));
    let paid = raw(
        &sandbox,
        "POST",
        "/console/pay",
        &[
            ("Host", &own_host(&sandbox)),
            ("Origin", &own_origin(&sandbox)),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &format!("qrCodeId={id}&amount=300&targetSys=Alipay+2.0"),
    );
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(paid.header("location"), Some("/?paid=CON002#notifications"));
    assert_eq!(bill_status(&sandbox, "CON002"), "PAID");
    // A refusal is a page that says why.
    let again = raw(
        &sandbox,
        "POST",
        "/console/pay",
        &[
            ("Host", &own_host(&sandbox)),
            ("Origin", &own_origin(&sandbox)),
        ],
        &format!("qrCodeId={id}&amount=300"),
    );
    assert_eq!(again.status, 400);
    assert!(again.body.contains("ALREADY_PAID"), "{}", again.body);
}

/// A forged request: path, method, the headers a browser adds, body.
type Forged<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

/// Every state-changing endpoint refuses a request a page of another site
/// makes the browser send (Origin of that site, `null`, Sec-Fetch-Site
/// cross-site) and a request through a rebound DNS name (wrong Host), and
/// nothing changes.
#[test]
fn forged_cross_site_requests_and_dns_rebinding_are_refused() {
    let sandbox = fixed_sandbox();
    let id = one_off(&sandbox, "CON003", 100, json!({}));
    let port = sandbox.addr().port();
    let own = own_host(&sandbox);
    let evil_host = format!("evil.example:{port}");
    let pay_json = format!(r#"{{"qrCodeId":"{id}","amount":100}}"#);
    let pay_form = format!("qrCodeId={id}&amount=100");
    let fault = r#"{"path":"*","fault":"http-502-html"}"#;
    let forged: Vec<Forged> = vec![
        (
            "/_sandbox/pay",
            "POST",
            vec![("Origin", "http://evil.example")],
            &pay_json,
        ),
        ("/_sandbox/pay", "POST", vec![("Origin", "null")], &pay_json),
        (
            "/_sandbox/pay",
            "POST",
            vec![("Sec-Fetch-Site", "cross-site")],
            &pay_json,
        ),
        (
            "/console/pay",
            "POST",
            vec![("Origin", "http://evil.example")],
            &pay_form,
        ),
        (
            "/console/pay",
            "POST",
            vec![("Origin", "http://127.0.0.1:1")],
            &pay_form,
        ),
        (
            "/_sandbox/faults",
            "POST",
            vec![("Origin", "http://evil.example")],
            fault,
        ),
        (
            "/_sandbox/faults",
            "DELETE",
            vec![("Origin", "http://evil.example")],
            "",
        ),
        (
            "/_sandbox/clock",
            "POST",
            vec![("Origin", "http://evil.example")],
            r#"{"advanceSeconds":3600}"#,
        ),
        (
            "/console/clock",
            "POST",
            vec![("Origin", "https://evil.example")],
            "advanceSeconds=60",
        ),
        (
            "/console/faults",
            "POST",
            vec![("Origin", "http://evil.example")],
            "path=*&fault=delay",
        ),
    ];
    for (path, method, headers, body) in &forged {
        let mut all = vec![("Host", own.as_str())];
        all.extend(headers.iter().copied());
        let reply = raw(&sandbox, method, path, &all, body);
        assert_eq!(
            reply.status, 403,
            "{method} {path} {headers:?}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"], "FORBIDDEN_ORIGIN", "{path}");
    }
    // DNS rebinding: the browser sends the attacker's name as Host (and
    // Origin, since the page is "same origin" with itself).
    for (path, body) in [
        ("/_sandbox/pay", pay_json.as_str()),
        ("/console/pay", &pay_form),
    ] {
        let origin = format!("http://{evil_host}");
        let reply = raw(
            &sandbox,
            "POST",
            path,
            &[("Host", &evil_host), ("Origin", &origin)],
            body,
        );
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert_eq!(reply.json()["error"], "FORBIDDEN_HOST");
    }
    let page = raw(&sandbox, "GET", "/", &[("Host", &evil_host)], "");
    assert_eq!(
        page.status, 403,
        "the console page is not served to a rebound name"
    );
    // Nothing changed.
    assert_eq!(bill_status(&sandbox, "CON003"), "UNPAID");
    assert!(sandbox.queued_faults().is_empty());
    let clock = get(&agent(), &format!("{}/_sandbox/clock", sandbox.base_url()));
    assert_eq!(clock.json["offsetSeconds"], 0);
    // A tool on the same machine (no Origin, as curl and the tests' HTTP
    // clients) and the console itself (its own origin) are served.
    let tool = raw(
        &sandbox,
        "POST",
        "/_sandbox/pay",
        &[("Host", &own)],
        &pay_json,
    );
    assert_eq!(tool.status, 200, "{}", tool.body);
    let faults = raw(
        &sandbox,
        "POST",
        "/_sandbox/faults",
        &[("Host", &own), ("Origin", &own_origin(&sandbox))],
        fault,
    );
    assert_eq!(faults.status, 200, "{}", faults.body);
    let localhost = format!("localhost:{port}");
    let cleared = raw(
        &sandbox,
        "DELETE",
        "/_sandbox/faults",
        &[("Host", &localhost)],
        "",
    );
    assert_eq!(cleared.json()["cleared"], 1);
}

#[test]
fn the_request_log_has_the_operation_and_verdict_and_no_secret() {
    let sandbox = fixed_sandbox();
    one_off(&sandbox, "CON004", 100, json!({}));
    let body = bills_body(NOW, json!({"billNo": "CON004", "billDate": "2020-02-26"}));
    let auth = chinaums::sign::sign_body(
        demo::APP_ID,
        "not-the-key",
        &header_ts(NOW),
        &nonce(),
        body.as_bytes(),
    );
    let refused = post(
        &agent(),
        &format!("{}{QUERY}", sandbox.base_url()),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(refused.status, 401);
    let page = raw(&sandbox, "GET", "/", &[("Host", &own_host(&sandbox))], "");
    let requests = &page.body[page.body.find("id=requests").unwrap()..];
    assert!(requests.contains("POST get-qrcode"), "{requests}");
    assert!(requests.contains("POST query"));
    assert!(requests.contains("BAD_SIGN"));
    assert!(requests.contains("SUCCESS"));
    let signature = chinaums::sign::parse_body_sig_header(&auth)
        .unwrap()
        .signature;
    assert!(!page.body.contains(&signature));
    assert!(!page.body.contains(demo::APP_KEY));
}

/// Settled bills go once the retention window has passed on the
/// simulator's clock; open ones (payable, a pre-authorisation waiting for
/// the merchant) stay.
#[test]
fn settled_bills_are_forgotten_after_the_retention_window() {
    let clock = StepClock::new(NOW);
    let sandbox = Sandbox::start(SandboxConfig {
        clock: clock.clone(),
        bill_retention: Duration::from_secs(600),
        ..SandboxConfig::default()
    })
    .expect("sandbox starts");
    let expire = json!({"expireTime": "2020-02-28 00:00:00"});
    let paid = one_off(&sandbox, "RET001", 100, expire.clone());
    one_off(&sandbox, "RET002", 100, expire.clone());
    let mut preauth = expire.clone();
    preauth["preauthTransaction"] = json!("true");
    let authorised = one_off(&sandbox, "RET003", 100, preauth);
    let pay = |id: &str| {
        let reply = post(
            &agent(),
            &format!("{}/_sandbox/pay", sandbox.base_url()),
            &[],
            &json!({"qrCodeId": id}).to_string(),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    };
    pay(&paid);
    pay(&authorised);
    let kept = sandbox.bills_kept();
    assert_eq!(kept, 3);
    // Within the window everything stays.
    clock.advance(599_000);
    let query = |no: &str, now: i64| {
        post_signed(
            &agent(),
            &sandbox,
            QUERY,
            &bills_body(now, json!({"billNo": no, "billDate": "2020-02-26"})),
            now,
        )
        .json["errCode"]
            .clone()
    };
    assert_eq!(query("RET001", clock.now()), "SUCCESS");
    // Past it, the paid bill goes (its sweep runs on the next call).
    clock.advance(61_000);
    assert_eq!(query("RET002", clock.now()), "SUCCESS");
    assert_eq!(query("RET001", clock.now()), "NO_ORDER");
    assert_eq!(
        query("RET003", clock.now()),
        "SUCCESS",
        "awaits the merchant"
    );
    assert_eq!(sandbox.bills_kept(), 2);
}

/// `guarantee-processing` and `guarantee-fail` on secure-complete: the
/// first completes and says PROCESSING, the second says FAIL and does
/// nothing; bills/query tells the truth.
#[test]
fn guarantee_states_are_produced_on_demand() {
    let sandbox = fixed_sandbox();
    let id = one_off(
        &sandbox,
        "GUA001",
        500,
        json!({"secureTransaction": "true"}),
    );
    let paid = post(
        &agent(),
        &format!("{}/_sandbox/pay", sandbox.base_url()),
        &[],
        &json!({"qrCodeId": id}).to_string(),
    );
    let mer = paid.json["merOrderId"].as_str().unwrap().to_string();
    let complete = |fault: &str, amount: u64| {
        let body = bills_body(NOW, json!({"merOrderId": mer, "completedAmount": amount}));
        let auth = chinaums::sign::sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            &header_ts(NOW),
            &nonce(),
            body.as_bytes(),
        );
        post(
            &agent(),
            &format!("{}/v1/netpay/secure-complete", sandbox.base_url()),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
                ("X-Sandbox-Fault", fault),
            ],
            &body,
        )
        .json
    };
    let failed = complete("guarantee-fail", 200);
    assert_eq!(
        (failed["errCode"].clone(), failed["secureStatus"].clone()),
        (json!("SUCCESS"), json!("FAIL"))
    );
    let payment = |sandbox: &Sandbox| {
        call(
            sandbox,
            QUERY,
            json!({"billNo": "GUA001", "billDate": "2020-02-26"}),
        )["billPayment"]
            .clone()
    };
    assert_eq!(
        payment(&sandbox)["secureStatus"],
        "UNCOMPLETED",
        "nothing done"
    );
    let pending = complete("guarantee-processing", 200);
    assert_eq!(pending["secureStatus"], "PROCESSING", "{pending}");
    let settled = payment(&sandbox);
    assert_eq!(settled["secureStatus"], "PARTLY_COMPLETED");
    assert_eq!(settled["completedAmount"], 200);
    let unknown = complete("guarantee-unknown", 300);
    assert_eq!(unknown["secureStatus"], "UNKNOWN");
    assert_eq!(payment(&sandbox)["secureStatus"], "ALL_COMPLETED");
}

/// With `notify_empty_values` off, the optional fields a bill lacks are
/// left out of its notification instead of sent empty.
#[test]
fn empty_notification_values_can_be_switched_off() {
    for empty in [true, false] {
        let sandbox = Sandbox::start(SandboxConfig {
            clock: Arc::new(chinaums::clock::FixedClock(NOW)),
            notify_empty_values: empty,
            ..SandboxConfig::default()
        })
        .expect("sandbox starts");
        // Not loopback: recorded with its body, never sent.
        let id = one_off(
            &sandbox,
            "EMP001",
            100,
            json!({"notifyUrl": "http://www.test.com/notify", "memberId": "M9"}),
        );
        post(
            &agent(),
            &format!("{}/_sandbox/pay", sandbox.base_url()),
            &[],
            &json!({"qrCodeId": id}).to_string(),
        );
        let body = sandbox.notifications()[0].body.clone();
        let note = chinaums::notify::verify(demo::NOTIFY_KEY, body.as_bytes())
            .expect("verifies either way");
        assert_eq!(note.get("memberId"), Some("M9"));
        assert_eq!(note.get("billDesc"), empty.then_some(""), "{body}");
        assert_eq!(note.get("counterNo"), empty.then_some(""), "{body}");
    }
}
