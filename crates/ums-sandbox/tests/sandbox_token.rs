//! The token endpoint and OPEN-ACCESS-TOKEN authentication.

#[path = "sandbox_support.rs"]
mod support;

use serde_json::json;
use std::time::Duration;
use support::*;
use ums_sandbox::{Sandbox, SandboxConfig};

#[test]
fn token_is_issued_and_accepted() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let reply = ask_token(&agent, &sandbox, &token_request(NOW, &nonce()));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/json;charset=UTF-8");
    assert_eq!(reply.json["errCode"], "0000");
    assert_eq!(reply.json["errInfo"], "正常");
    assert_eq!(reply.json["expiresIn"], 3600);
    let token = reply.json["accessToken"].as_str().unwrap();
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "{token}"
    );

    let used = post_with_token(
        &agent,
        &sandbox,
        GET_QRCODE,
        &bills_body(NOW, json!({})),
        token,
    );
    assert_eq!(used.status, 200, "{}", used.text);
    assert_eq!(used.json["errCode"], "SUCCESS");
    let stats = sandbox.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.requests_to(TOKEN), 1);
    assert_eq!(stats.requests_to(GET_QRCODE), 1);
}

#[test]
fn eleventh_token_invalidates_the_oldest() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let tokens: Vec<String> = (0..11).map(|_| new_token(&agent, &sandbox, NOW)).collect();
    let body = bills_body(NOW, json!({}));

    let oldest = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &tokens[0]);
    assert_eq!(oldest.status, 401, "{}", oldest.text);
    assert_eq!(oldest.json["errCode"], "INVALID_TOKEN");
    assert!(oldest.json["errMsg"]
        .as_str()
        .unwrap()
        .starts_with("认证失败"));
    assert!(!oldest.text.contains(&tokens[0]), "the token is not echoed");

    for token in &tokens[1..] {
        let ok = post_with_token(&agent, &sandbox, GET_QRCODE, &body, token);
        assert_eq!(ok.json["errCode"], "SUCCESS", "{}", ok.text);
    }
    let stats = sandbox.stats();
    assert_eq!(stats.tokens_issued, 11);
    assert_eq!(stats.tokens_invalidated, 1);
    assert_eq!(stats.auth_failures, 1);

    // A 12th pushes out the second.
    new_token(&agent, &sandbox, NOW);
    let second = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &tokens[1]);
    assert_eq!(second.json["errCode"], "INVALID_TOKEN");
    assert_eq!(sandbox.stats().tokens_invalidated, 2);
}

#[test]
fn tokens_expire_after_their_lifetime() {
    let clock = StepClock::new(NOW);
    let sandbox = Sandbox::start(SandboxConfig {
        clock: clock.clone(),
        token_lifetime: Duration::from_secs(60),
        ..SandboxConfig::default()
    })
    .unwrap();
    let agent = agent();
    let reply = ask_token(&agent, &sandbox, &token_request(NOW, &nonce()));
    assert_eq!(reply.json["expiresIn"], 60);
    let token = reply.json["accessToken"].as_str().unwrap().to_string();

    clock.advance(59_999);
    let body = bills_body(clock.now(), json!({}));
    let fresh = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &token);
    assert_eq!(fresh.json["errCode"], "SUCCESS", "{}", fresh.text);

    clock.advance(1);
    let body = bills_body(clock.now(), json!({}));
    let stale = post_with_token(&agent, &sandbox, GET_QRCODE, &body, &token);
    assert_eq!(stale.status, 401);
    assert_eq!(stale.json["errCode"], "INVALID_TOKEN");
    assert!(stale.json["errMsg"].as_str().unwrap().contains("过期"));

    // Expired tokens do not count against the limit of 10.
    for _ in 0..10 {
        new_token(&agent, &sandbox, clock.now());
    }
    assert_eq!(sandbox.stats().tokens_invalidated, 0);
}

#[test]
fn token_refusals_have_distinct_codes_and_no_token() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let code_of = |body: &serde_json::Value| {
        let reply = ask_token(&agent, &sandbox, body);
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert!(reply.json.get("accessToken").is_none(), "{}", reply.text);
        assert!(!reply.text.contains(ums_sandbox::demo::APP_KEY));
        reply.json["errCode"].as_str().unwrap().to_string()
    };

    let mut bad_sig = token_request(NOW, &nonce());
    bad_sig["signature"] = json!("0".repeat(64));
    assert_eq!(code_of(&bad_sig), "1002");

    let mut upper = token_request(NOW, &nonce());
    upper["signature"] = json!(upper["signature"].as_str().unwrap().to_uppercase());
    assert_eq!(code_of(&upper), "1002", "the signature is lower-case hex");

    let mut unknown = token_request(NOW, &nonce());
    unknown["appId"] = json!("00000000000000000000000000000000");
    assert_eq!(code_of(&unknown), "1001");

    let mut sha1 = token_request(NOW, &nonce());
    sha1["signMethod"] = json!("SHA1");
    assert_eq!(code_of(&sha1), "1003");

    assert_eq!(code_of(&token_request(NOW + 301_000, &nonce())), "1004");
    assert_eq!(code_of(&token_request(NOW - 301_000, &nonce())), "1004");

    let replayed = token_request(NOW, &nonce());
    let first = ask_token(&agent, &sandbox, &replayed);
    assert_eq!(first.json["errCode"], "0000");
    assert_eq!(code_of(&replayed), "1005");

    let mut missing = token_request(NOW, &nonce());
    missing.as_object_mut().unwrap().remove("nonce");
    assert_eq!(code_of(&missing), "1000");

    let reply = post(
        &agent,
        &format!("{}{TOKEN}", sandbox.base_url()),
        &[("Content-Type", "application/json")],
        "{not json",
    );
    assert_eq!(reply.json["errCode"], "1000");

    let stats = sandbox.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.token_failures, 9);
}

#[test]
fn malformed_or_unknown_access_tokens_are_refused() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let body = bills_body(NOW, json!({}));
    let url = format!("{}{GET_QRCODE}", sandbox.base_url());
    let with_header = |value: &str| {
        post(
            &agent,
            &url,
            &[
                ("Authorization", value),
                ("Content-Type", "application/json"),
            ],
            &body,
        )
    };
    let unknown = with_header("OPEN-ACCESS-TOKEN AccessToken=0123456789abcdef0123456789abcdef");
    assert_eq!(
        (unknown.status, unknown.json["errCode"].as_str()),
        (401, Some("INVALID_TOKEN"))
    );
    let empty = with_header("OPEN-ACCESS-TOKEN AccessToken=");
    assert_eq!(empty.json["errCode"], "UNAUTHORIZED");
    let quoted = with_header("OPEN-ACCESS-TOKEN AccessToken=\"abc\"");
    assert_eq!(quoted.json["errCode"], "UNAUTHORIZED");
    let bearer = with_header("Bearer abc");
    assert_eq!(bearer.json["errCode"], "UNAUTHORIZED");
    assert_eq!(sandbox.stats().auth_failures, 4);
}

#[test]
fn token_endpoint_wants_post_and_json() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let url = format!("{}{TOKEN}", sandbox.base_url());
    let body = token_request(NOW, &nonce()).to_string();
    let form = post(
        &agent,
        &url,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    );
    assert_eq!(form.status, 415);
    let got = get(&agent, &url);
    assert_eq!(got.status, 405);
    assert_eq!(sandbox.stats().tokens_issued, 0);
}
