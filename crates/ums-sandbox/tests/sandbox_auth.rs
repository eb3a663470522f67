//! OPEN-BODY-SIG authentication and the checks every business path shares.

#[path = "sandbox_support.rs"]
mod support;

use chinaums::sign::{open_body_signature, sign_body};
use serde_json::json;
use support::*;
use ums_sandbox::demo;

fn url(sandbox: &ums_sandbox::Sandbox, path: &str) -> String {
    format!("{}{path}", sandbox.base_url())
}

#[test]
fn signed_request_succeeds() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let reply = post_signed(
        &agent,
        &sandbox,
        GET_QRCODE,
        &bills_body(NOW, json!({})),
        NOW,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.content_type, "application/json;charset=UTF-8");
    assert_eq!(reply.json["errCode"], "SUCCESS");
    assert_eq!(sandbox.stats().auth_failures, 0);
}

#[test]
fn signature_over_other_bytes_is_refused_without_leaking_secrets() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let signed = bills_body(NOW, json!({}));
    // Same JSON, different bytes: the signature covers bytes, not meaning.
    let sent = signed.replace(',', ", ");
    let nonce = nonce();
    let auth = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce,
        signed.as_bytes(),
    );
    let reply = post(
        &agent,
        &url(&sandbox, GET_QRCODE),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &sent,
    );
    assert_eq!(reply.status, 401);
    assert_eq!(reply.content_type, "application/json;charset=UTF-8");
    assert_eq!(reply.json["errCode"], "BAD_SIGN");
    assert!(reply.json["errMsg"]
        .as_str()
        .unwrap()
        .starts_with("认证失败: "));
    let expected = open_body_signature(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce,
        sent.as_bytes(),
    );
    assert!(!reply.text.contains(&expected));
    assert!(!reply.text.contains(demo::APP_KEY));

    // Wrong key.
    let auth = sign_body(
        demo::APP_ID,
        "not-the-key",
        &header_ts(NOW),
        &nonce,
        signed.as_bytes(),
    );
    let reply = post(
        &agent,
        &url(&sandbox, GET_QRCODE),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &signed,
    );
    assert_eq!(reply.json["errCode"], "BAD_SIGN");
    assert_eq!(sandbox.stats().auth_failures, 2);
}

#[test]
fn timestamps_outside_the_skew_are_refused() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    for offset in [301_000, -301_000, 8 * 3600 * 1000] {
        let reply = post_signed(&agent, &sandbox, GET_QRCODE, &body, NOW + offset);
        assert_eq!(reply.status, 401, "offset {offset}");
        assert_eq!(reply.json["errCode"], "ABNORMAL_REQUEST_TIME");
    }
    for offset in [300_000, -300_000] {
        let reply = post_signed(&agent, &sandbox, GET_QRCODE, &body, NOW + offset);
        assert_eq!(
            reply.json["errCode"], "SUCCESS",
            "offset {offset}: {}",
            reply.text
        );
    }
}

#[test]
fn replayed_nonce_is_refused_and_counted() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({"totalAmount": 1}));
    let auth = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce(),
        body.as_bytes(),
    );
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let first = post(&agent, &url(&sandbox, GET_QRCODE), &headers, &body);
    assert_eq!(first.json["errCode"], "SUCCESS");
    let again = post(&agent, &url(&sandbox, GET_QRCODE), &headers, &body);
    assert_eq!(again.status, 401);
    assert_eq!(again.json["errCode"], "NONCE_REPLAYED");
    let stats = sandbox.stats();
    assert_eq!(stats.requests_to(GET_QRCODE), 2);
    assert_eq!(stats.auth_failures, 1);
}

#[test]
fn compact_comma_header_is_accepted() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    let auth = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce(),
        body.as_bytes(),
    );
    let compact = auth.replace(", ", ",");
    assert_ne!(compact, auth);
    let reply = post(
        &agent,
        &url(&sandbox, GET_QRCODE),
        &[
            ("Authorization", &compact),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(reply.json["errCode"], "SUCCESS", "{}", reply.text);
}

#[test]
fn missing_malformed_or_foreign_authorization_is_unauthorized() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    let target = url(&sandbox, GET_QRCODE);
    let none = post(
        &agent,
        &target,
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(
        (none.status, none.json["errCode"].as_str()),
        (401, Some("UNAUTHORIZED"))
    );

    let good = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce(),
        body.as_bytes(),
    );
    let cases = [
        good.replace("AppId=\"", "AppId=")
            .replacen("\", Timestamp", ", Timestamp", 1),
        good.replace("Signature", "Sig"),
        good.replace("OPEN-BODY-SIG", "OPEN-BODY-SIGNATURE"),
        sign_body(
            "ffffffffffffffffffffffffffffffff",
            demo::APP_KEY,
            &header_ts(NOW),
            &nonce(),
            body.as_bytes(),
        ),
        sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            "2020-02-26 13:36",
            &nonce(),
            body.as_bytes(),
        ),
        sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            &header_ts(NOW),
            &"n".repeat(129),
            body.as_bytes(),
        ),
    ];
    for header in &cases {
        let reply = post(
            &agent,
            &target,
            &[
                ("Authorization", header),
                ("Content-Type", "application/json"),
            ],
            &body,
        );
        assert_eq!(reply.status, 401, "{header}");
        assert_eq!(
            reply.json["errCode"], "UNAUTHORIZED",
            "{header}: {}",
            reply.text
        );
    }
    // A 128-character nonce is fine.
    let long = sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &"n".repeat(128),
        body.as_bytes(),
    );
    let reply = post(
        &agent,
        &target,
        &[
            ("Authorization", &long),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(reply.json["errCode"], "SUCCESS", "{}", reply.text);
    assert_eq!(sandbox.stats().auth_failures, 1 + cases.len() as u64);
}

#[test]
fn content_type_must_be_json() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let auth = sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            &header_ts(NOW),
            &nonce(),
            body.as_bytes(),
        );
        let reply = post(
            &agent,
            &url(&sandbox, GET_QRCODE),
            &[("Authorization", &auth), ("Content-Type", content_type)],
            &body,
        );
        assert_eq!(reply.status, 415, "{content_type}");
        assert_eq!(reply.json["errCode"], "BAD_REQUEST");
    }
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let auth = sign_body(
            demo::APP_ID,
            demo::APP_KEY,
            &header_ts(NOW),
            &nonce(),
            body.as_bytes(),
        );
        let reply = post(
            &agent,
            &url(&sandbox, GET_QRCODE),
            &[("Authorization", &auth), ("Content-Type", content_type)],
            &body,
        );
        assert_eq!(reply.json["errCode"], "SUCCESS", "{content_type}");
    }
}

#[test]
fn unknown_paths_and_methods() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    let reply = post_signed(
        &agent,
        &sandbox,
        "/v1/netpay/bills/no-such-thing",
        &body,
        NOW,
    );
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json["errCode"], "NO_SERVICE");
    let reply = get(&agent, &url(&sandbox, GET_QRCODE));
    assert_eq!(reply.status, 405);
    assert_eq!(
        sandbox
            .stats()
            .requests_to("/v1/netpay/bills/no-such-thing"),
        1
    );
}

#[test]
fn body_must_be_a_json_object() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    for body in ["{\"mid\":", "[1,2]", "\"text\"", ""] {
        let reply = post_signed(&agent, &sandbox, GET_QRCODE, body, NOW);
        assert_eq!(reply.status, 200, "{body:?}");
        assert_eq!(reply.json["errCode"], "BAD_REQUEST", "{body:?}");
        assert!(!reply.json["errMsg"].as_str().unwrap().is_empty());
    }
}
