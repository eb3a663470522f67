//! The rule of at most 10 valid access tokens per appId, exactly, and its
//! per-app counters (`Stats::per_app`, `"perApp"` of `/_sandbox/stats`):
//! tokens issued, tokens invalidated by the 10-token rule, tokens expired and
//! 401s answered.

#[path = "sandbox_support.rs"]
mod support;

use chinaums::clock::Clock;
use serde_json::json;
use std::time::Duration;
use support::*;
use ums_sandbox::{demo, AppStats, Fault, Sandbox, SandboxConfig};

fn counts(issued: u64, by_limit: u64, expired: u64, unauthorized: u64) -> AppStats {
    AppStats {
        tokens_issued: issued,
        tokens_invalidated_by_limit: by_limit,
        tokens_expired: expired,
        unauthorized,
    }
}

/// A get-qrcode with `token`: its HTTP status and errCode.
fn use_token(agent: &ureq::Agent, sandbox: &Sandbox, token: &str, now_ms: i64) -> (u16, String) {
    let reply = post_with_token(
        agent,
        sandbox,
        GET_QRCODE,
        &bills_body(now_ms, json!({})),
        token,
    );
    let code = reply.json["errCode"].as_str().unwrap_or("").to_string();
    (reply.status, code)
}

fn ok() -> (u16, String) {
    (200, "SUCCESS".to_string())
}

fn invalid_token() -> (u16, String) {
    (401, "INVALID_TOKEN".to_string())
}

#[test]
fn ten_tokens_are_valid_together_and_the_eleventh_invalidates_the_oldest() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    assert_eq!(
        sandbox.stats().app(demo::APP_ID),
        counts(0, 0, 0, 0),
        "the demo app is listed before its first token"
    );
    let mut tokens: Vec<String> = (0..10).map(|_| new_token(&agent, &sandbox, NOW)).collect();
    for token in &tokens {
        assert_eq!(use_token(&agent, &sandbox, token, NOW), ok());
    }
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(10, 0, 0, 0));
    assert_eq!(sandbox.live_tokens(demo::APP_ID), tokens);

    // The 11th invalidates the oldest, and only it.
    tokens.push(new_token(&agent, &sandbox, NOW));
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(11, 1, 0, 0));
    assert_eq!(sandbox.live_tokens(demo::APP_ID), tokens[1..].to_vec());
    assert_eq!(
        use_token(&agent, &sandbox, &tokens[0], NOW),
        invalid_token()
    );
    for token in &tokens[1..] {
        assert_eq!(use_token(&agent, &sandbox, token, NOW), ok());
    }
    // The invalidated token stays refused, every time.
    assert_eq!(
        use_token(&agent, &sandbox, &tokens[0], NOW),
        invalid_token()
    );
    let stats = sandbox.stats();
    assert_eq!(stats.app(demo::APP_ID), counts(11, 1, 0, 2));
    assert_eq!((stats.tokens_invalidated, stats.auth_failures), (1, 2));

    // Each further token pushes out the next oldest, in issue order.
    for n in 1..=5 {
        tokens.push(new_token(&agent, &sandbox, NOW));
        assert_eq!(
            use_token(&agent, &sandbox, &tokens[n], NOW),
            invalid_token()
        );
        assert_eq!(use_token(&agent, &sandbox, &tokens[n + 1], NOW), ok());
    }
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(16, 6, 0, 7));
    assert_eq!(sandbox.live_tokens(demo::APP_ID), tokens[6..].to_vec());
}

#[test]
fn expired_tokens_free_their_place_and_are_counted_apart() {
    let clock = StepClock::new(NOW);
    let sandbox = Sandbox::start(SandboxConfig {
        clock: clock.clone(),
        token_lifetime: Duration::from_secs(60),
        ..SandboxConfig::default()
    })
    .unwrap();
    let agent = agent();
    // t0 at 0 s, t1..t9 at 30 s: ten valid tokens.
    let first = new_token(&agent, &sandbox, clock.now());
    clock.advance(30_000);
    let mut later: Vec<String> = (0..9)
        .map(|_| new_token(&agent, &sandbox, clock.now()))
        .collect();
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(10, 0, 0, 0));

    // At 60 s t0 has expired (valid while now < issued + lifetime): the
    // stats count it at once, before any request touches it.
    clock.advance(30_000);
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(10, 0, 1, 0));
    assert_eq!(
        use_token(&agent, &sandbox, &first, clock.now()),
        invalid_token()
    );
    // Nine valid tokens: the next one takes t0's place, nothing is invalidated.
    later.push(new_token(&agent, &sandbox, clock.now()));
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(11, 0, 1, 1));
    assert_eq!(sandbox.live_tokens(demo::APP_ID), later);
    for token in &later {
        assert_eq!(use_token(&agent, &sandbox, token, clock.now()), ok());
    }
    // Ten valid again: the next one invalidates the oldest valid (t1).
    later.push(new_token(&agent, &sandbox, clock.now()));
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(12, 1, 1, 1));
    assert_eq!(
        use_token(&agent, &sandbox, &later[0], clock.now()),
        invalid_token()
    );

    // At 90 s t2..t9 expire (8), and then the invalidated t1 is not counted
    // again as expired.
    clock.advance(30_000);
    let stats = sandbox.stats();
    assert_eq!(stats.app(demo::APP_ID), counts(12, 1, 9, 2));
    assert_eq!(stats.tokens_invalidated, 1);
    // Taking expired tokens off the live list does not change the counts.
    new_token(&agent, &sandbox, clock.now());
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(13, 1, 9, 2));
    assert_eq!(sandbox.live_tokens(demo::APP_ID).len(), 3);
}

#[test]
fn the_control_clock_expires_tokens_and_stats_serves_the_counts() {
    let sandbox = Sandbox::start(SandboxConfig {
        token_lifetime: Duration::from_secs(60),
        ..SandboxConfig::default()
    })
    .unwrap();
    let agent = agent();
    let now = || chinaums::clock::SystemClock.now_unix_millis();
    let tokens: Vec<String> = (0..12)
        .map(|_| new_token(&agent, &sandbox, now()))
        .collect();
    assert_eq!(
        use_token(&agent, &sandbox, &tokens[0], now()),
        invalid_token()
    );
    assert_eq!(use_token(&agent, &sandbox, &tokens[11], now()), ok());

    let advanced = post(
        &agent,
        &format!("{}/_sandbox/clock", sandbox.base_url()),
        &[],
        r#"{"advanceSeconds":60}"#,
    );
    assert_eq!(advanced.status, 200, "{}", advanced.text);
    assert_eq!(
        use_token(&agent, &sandbox, &tokens[11], now()),
        invalid_token()
    );
    let fresh = new_token(&agent, &sandbox, now());
    assert_eq!(use_token(&agent, &sandbox, &fresh, now()), ok());

    let stats = get(&agent, &format!("{}/_sandbox/stats", sandbox.base_url()));
    assert_eq!(stats.status, 200);
    assert_eq!(
        stats.json["perApp"],
        json!({demo::APP_ID: {
            "tokensIssued": 13,
            "tokensInvalidatedByLimit": 2,
            "tokensExpired": 10,
            "unauthorized": 2,
        }})
    );
    // The totals are still there.
    assert_eq!(stats.json["tokensIssued"], 13);
    assert_eq!(stats.json["tokensInvalidated"], 2);
    assert_eq!(stats.json["authFailures"], 2);
    assert_eq!(stats.json, sandbox.stats().to_json());
}

#[test]
fn every_401_of_the_app_is_counted_for_it() {
    let sandbox = fixed_sandbox();
    let agent = agent();
    let token = new_token(&agent, &sandbox, NOW);
    let body = bills_body(NOW, json!({}));
    let url = format!("{}{GET_QRCODE}", sandbox.base_url());

    // A wrong signature (OPEN-BODY-SIG naming the demo app): its 401.
    let signed = chinaums::sign::sign_body(
        demo::APP_ID,
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce(),
        b"{\"other\":1}",
    );
    let bad_sign = post(
        &agent,
        &url,
        &[
            ("Authorization", &signed),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(
        (bad_sign.status, bad_sign.json["errCode"].as_str()),
        (401, Some("BAD_SIGN"))
    );
    // The token-expired fault on a request with the app's valid token.
    sandbox.inject_fault(GET_QRCODE, Fault::TokenExpired, 1);
    assert_eq!(use_token(&agent, &sandbox, &token, NOW), invalid_token());
    assert_eq!(sandbox.stats().app(demo::APP_ID), counts(1, 0, 0, 2));

    // A token the simulator never issued, and a header without an app, name
    // no app: counted in the total only.
    assert_eq!(
        use_token(&agent, &sandbox, &"0".repeat(32), NOW),
        invalid_token()
    );
    let bearer = post(
        &agent,
        &url,
        &[
            ("Authorization", "Bearer x"),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(bearer.status, 401);
    let unknown_app = chinaums::sign::sign_body(
        "00000000000000000000000000000000",
        demo::APP_KEY,
        &header_ts(NOW),
        &nonce(),
        body.as_bytes(),
    );
    let unknown = post(
        &agent,
        &url,
        &[
            ("Authorization", &unknown_app),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert_eq!(unknown.status, 401);
    let stats = sandbox.stats();
    assert_eq!(stats.auth_failures, 5);
    assert_eq!(stats.app(demo::APP_ID), counts(1, 0, 0, 2));
    assert_eq!(stats.per_app.len(), 1, "no entry for unknown apps");
    // Still usable: none of this touched the token.
    assert_eq!(use_token(&agent, &sandbox, &token, NOW), ok());
}
