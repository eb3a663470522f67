//! No secret or personal value ever appears in an error, an error document
//! or a log line: every error path is driven with a known app key,
//! notification key, access token and real-name values, with the log at its
//! most verbose, and everything produced is searched for them.

use base64::Engine as _;
use chinaums::{Client, Error};
use serde_json::json;
use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use ums_sandbox::{demo, Sandbox};

const APP_KEY: &str = "SECRET-app-key-3c1f0e9a7b5d";
const NOTIFY_KEY: &str = "SECRET-notify-key-8e2d4c6b0a";
const NAME: &str = "张秘密";
const CERT_NO: &str = "110101199001019999";
const MOBILE: &str = "13912345678";

fn forbidden(token: &str) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    vec![
        APP_KEY.into(),
        NOTIFY_KEY.into(),
        NAME.into(),
        CERT_NO.into(),
        MOBILE.into(),
        b64(NAME),
        b64(CERT_NO),
        b64(MOBILE),
        token.into(),
        demo::APP_KEY.into(),
    ]
}

fn request_with_real_names(extra: serde_json::Value) -> String {
    let mut r = json!({
        "qrCodeId": demo::SEED_QR_CODE_ID, "billNo": "31940000000000000000000901", "billDate": "2026-01-02",
        "totalAmount": "26", "name": NAME, "certNo": CERT_NO, "mobile": MOBILE, "certType": "IDENTITY_CARD",
    });
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r.to_string()
}

#[test]
fn no_error_document_or_log_line_contains_a_secret() {
    let logs = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = logs.clone();
    chinaums::log::set_logger(chinaums::log::Level::Debug, move |_, line| {
        sink.lock().unwrap().push(line.to_string())
    });
    let mut produced: Vec<String> = Vec::new();
    let mut record = |e: Error| {
        produced.push(e.to_string());
        produced.push(e.to_json().to_string());
        produced.push(format!("{e:?}"));
    };

    let sandbox = Sandbox::start_default().unwrap();
    let base = |extra: serde_json::Value| {
        let mut c = json!({"environment": sandbox.base_url(), "appId": demo::APP_ID, "appKey": APP_KEY,
                           "notifyKey": NOTIFY_KEY, "mid": demo::MID, "tid": demo::TID});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c.to_string()
    };

    // Config errors, each with the secrets present.
    for bad in [
        json!({"mid": "1"}),
        json!({"timeoutMs": -1}),
        json!({"environment": "http://example.com"}),
        json!({"appKey": ""}),
        json!({"notifyKey": ""}),
        json!({"bogus": APP_KEY}),
    ] {
        record(Client::from_json(&base(bad)).unwrap_err());
    }

    // Validation errors with the real-name fields present.
    let client = Client::from_json(&base(json!({}))).unwrap();
    for extra in [
        json!({"walletOption": "X"}),
        json!({"name": NAME.repeat(20)}),
        json!({"certType": "X"}),
        json!({"fixBuyer": "T", "certNo": ""}),
        json!({"totalAmount": "x"}),
    ] {
        record(
            client
                .update_qrcode(&request_with_real_names(extra))
                .unwrap_err(),
        );
    }

    // The gateway refuses the signature (the app key is wrong for it).
    record(
        client
            .update_qrcode(&request_with_real_names(json!({})))
            .unwrap_err(),
    );
    // Token mode: the token endpoint refuses the wrong key.
    let token_client = Client::from_json(&base(json!({"auth": "token"}))).unwrap();
    record(
        token_client
            .update_qrcode(&request_with_real_names(json!({})))
            .unwrap_err(),
    );

    // Token mode with the right key: a real token exists; a rejection follows.
    let good = Client::from_json(&base(json!({"auth": "token", "appKey": demo::APP_KEY}))).unwrap();
    good.update_qrcode(&request_with_real_names(json!({})))
        .unwrap();
    let token = sandbox
        .live_tokens(demo::APP_ID)
        .pop()
        .expect("a token was issued");
    record(
        good.update_qrcode(&request_with_real_names(json!({})))
            .unwrap_err(),
    ); // DUP_ORDER

    // Outcome unknown: a server that reads the request and hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in listener.incoming().take(1) {
            let mut s = s.unwrap();
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
        }
    });
    let mut c = json!({"environment": url, "appId": "a", "appKey": APP_KEY, "mid": demo::MID, "tid": demo::TID});
    c["notifyKey"] = json!(NOTIFY_KEY);
    let hanging = Client::from_json(&c.to_string()).unwrap();
    record(
        hanging
            .update_qrcode(&request_with_real_names(json!({})))
            .unwrap_err(),
    );

    // Notifications: forged, wrong key, malformed, a body that carries the key.
    let body = chinaums::notify::sign_form(
        NOTIFY_KEY,
        chinaums::sign::NotifySignType::Sha256,
        &[("billNo", "1"), ("name", NAME), ("signType", "SHA256")],
    );
    record(chinaums::notify::verify("another-key", body.as_bytes()).unwrap_err());
    record(
        chinaums::notify::verify(NOTIFY_KEY, body.replace("billNo=1", "billNo=2").as_bytes())
            .unwrap_err(),
    );
    record(
        chinaums::notify::verify(NOTIFY_KEY, format!("a={NOTIFY_KEY}&b").as_bytes()).unwrap_err(),
    );
    // Field names are echoed (they help debugging); values never are.
    record(
        chinaums::notify::verify(
            NOTIFY_KEY,
            format!("a={APP_KEY}&a={APP_KEY}&sign=x").as_bytes(),
        )
        .unwrap_err(),
    );

    chinaums::log::clear_logger();
    let logs = logs.lock().unwrap().clone();
    assert!(logs.len() >= 5, "the log was written: {logs:?}");
    assert!(produced.len() >= 40);
    for text in produced.iter().chain(logs.iter()) {
        for secret in forbidden(&token) {
            assert!(!text.contains(&secret), "a secret leaked into: {text}");
        }
    }
}
