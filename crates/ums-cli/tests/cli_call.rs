//! `ums call` against a simulator started in the test (and a fake gateway
//! for the answers the simulator never gives).

#[path = "cli_support.rs"]
mod support;

use serde_json::Value;
use support::*;
use ums_sandbox::demo;

#[test]
fn update_qrcode_succeeds_from_a_file_and_from_stdin() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let dir = TempDir::create();
    let request = dir.file("request.json", update_request(&bill_no()));
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", &request],
        &demo_env(),
        None,
    );
    run.expect_code(0);
    let answer = run.stdout_json();
    assert_eq!(answer["errCode"], "SUCCESS", "{run:?}");
    assert!(answer["billQRCode"]
        .as_str()
        .unwrap()
        .contains(demo::SEED_QR_CODE_ID));
    assert!(run.stdout.contains("\n  \"errCode\""), "pretty: {run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");

    // stdin, --raw (the answer exactly as received: one line), the
    // operation given by its service path, options after the arguments.
    let run = ums(
        &[
            "call",
            "/v1/netpay/bills/update-qrcode",
            "-",
            "--raw",
            "--environment",
            &url,
        ],
        &demo_env(),
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(run.stdout.contains("\"errCode\":\"SUCCESS\""), "{run:?}");
    assert_eq!(
        sandbox
            .stats()
            .requests_to("/v1/netpay/bills/update-qrcode"),
        2
    );
}

#[test]
fn a_duplicate_bill_number_is_rejected_with_exit_3() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let request = update_request(&bill_no());
    let args = ["--environment", &url, "call", "update-qrcode", "-"];
    ums(&args, &demo_env(), Some(request.as_bytes())).expect_code(0);
    let run = ums(&args, &demo_env(), Some(request.as_bytes()));
    run.expect_code(3);
    assert!(run.stdout.is_empty(), "{run:?}");
    let doc = run.stderr_json();
    assert_eq!(doc["errCode"], "DUP_ORDER");
    assert_eq!(doc["errMsg"], "账单号重复");
    assert_eq!(doc["kind"], "gateway_rejected");
    assert_eq!(doc["status"], "UMS_ERR_GATEWAY_REJECTED");
    assert_eq!(doc["outcomeUnknown"], false);
    assert_eq!(doc["response"]["errCode"], "DUP_ORDER");
}

#[test]
fn a_validation_error_names_the_field_exits_5_and_sends_nothing() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let mut request: Value = serde_json::from_str(&update_request(&bill_no())).unwrap();
    request["walletOption"] = "EVERYONE".into();
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &demo_env(),
        Some(request.to_string().as_bytes()),
    );
    run.expect_code(5);
    let doc = run.stderr_json();
    assert_eq!(doc["kind"], "validation");
    assert_eq!(doc["field"], "walletOption");
    assert_eq!(doc["nothingSent"], true);
    assert!(doc["message"].as_str().unwrap().contains("walletOption"));
    // --raw: the error document on one line.
    let run = ums(
        &["--environment", &url, "call", "--raw", "update-qrcode", "-"],
        &demo_env(),
        Some(request.to_string().as_bytes()),
    );
    run.expect_code(5);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{run:?}");
    assert_eq!(run.stderr_json()["field"], "walletOption");
    assert_eq!(sandbox.stats().total_requests(), 0);
}

#[test]
fn connection_refused_exits_5() {
    let run = ums(
        &[
            "--environment",
            "http://127.0.0.1:1",
            "call",
            "query-bill",
            "-",
        ],
        &demo_env(),
        Some(br#"{"billNo":"31940001","billDate":"2020-02-26"}"#),
    );
    run.expect_code(5);
    let doc = run.stderr_json();
    assert_eq!(doc["kind"], "connect");
    assert_eq!(doc["nothingSent"], true);
}

#[test]
fn token_mode_fetches_one_token_and_succeeds() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let mut env = demo_env();
    env.push(("UMS_AUTH", "token"));
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &env,
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    assert_eq!(run.stdout_json()["errCode"], "SUCCESS");
    let stats = sandbox.stats();
    assert_eq!(stats.tokens_issued, 1);
    assert_eq!(stats.requests_to("/v1/token/access"), 1);
    assert_eq!(stats.requests_to("/v1/netpay/bills/update-qrcode"), 1);
}

#[test]
fn outcome_unknown_exits_4() {
    for (status, body) in [
        (200, r#"{"errCode":"TIMEOUT","errMsg":"处理超时"}"#),
        (502, "<html>bad gateway</html>"),
    ] {
        let url = fake_gateway(status, body);
        let run = ums(
            &["--environment", &url, "call", "update-qrcode", "-"],
            &demo_env(),
            Some(update_request(&bill_no()).as_bytes()),
        );
        run.expect_code(4);
        let doc = run.stderr_json();
        assert_eq!(doc["kind"], "outcome_unknown");
        assert_eq!(doc["outcomeUnknown"], true);
        assert_eq!(doc["nothingSent"], false);
    }
}

/// A refund the gateway accepted but has not settled exits 7 (query until
/// final); one it reports failed exits 3; only a settled one exits 0.
#[test]
fn refund_states_exit_0_7_or_3() {
    let request = format!(
        r#"{{"billNo":"{}","billDate":"{}","refundAmount":1,"refundOrderId":"{}"}}"#,
        bill_no(),
        now().date(),
        bill_no()
    );
    for (refund_status, code, kind) in [
        ("SUCCESS", 0, None),
        ("PROCESSING", 7, Some("pending")),
        ("UNKNOWN", 7, Some("pending")),
        ("FAIL", 3, Some("operation_failed")),
    ] {
        let body: &'static str = Box::leak(
            format!(r#"{{"errCode":"SUCCESS","refundStatus":"{refund_status}"}}"#).into_boxed_str(),
        );
        let url = fake_gateway(200, body);
        let run = ums(
            &["--environment", &url, "call", "refund", "-"],
            &demo_env(),
            Some(request.as_bytes()),
        );
        run.expect_code(code);
        if let Some(kind) = kind {
            let doc = run.stderr_json();
            assert_eq!(doc["kind"], kind, "{run:?}");
            assert_eq!(doc["stateField"], "refundStatus");
            assert_eq!(doc["state"], refund_status);
            assert_eq!(doc["nothingSent"], false);
        }
    }
}

#[test]
fn an_unknown_service_path_goes_to_the_gateway_as_given() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let run = ums(
        &[
            "--environment",
            &url,
            "call",
            "/v1/netpay/nothing-here",
            "-",
        ],
        &demo_env(),
        Some(b"{\"a\":1}"),
    );
    run.expect_code(3);
    let doc = run.stderr_json();
    assert_eq!(doc["httpStatus"], 404);
    assert_eq!(doc["errCode"], "NO_SERVICE");
    assert_eq!(sandbox.stats().requests_to("/v1/netpay/nothing-here"), 1);
}

#[test]
fn dry_run_prints_a_request_the_gateway_accepts_and_sends_nothing() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let run = ums(
        &[
            "--environment",
            &url,
            "call",
            "--dry-run",
            "update-qrcode",
            "-",
        ],
        &demo_env(),
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    let doc = run.stdout_json();
    assert_eq!(
        sandbox.stats().total_requests(),
        0,
        "a dry run sends nothing"
    );
    assert_eq!(doc["operation"], "update-qrcode");
    assert_eq!(doc["moneyMoving"], true);
    assert_eq!(doc["auth"], "body-sig");
    assert_eq!(
        doc["url"],
        format!("{url}/v1/netpay/bills/update-qrcode").as_str()
    );
    let body = doc["body"].as_str().unwrap();
    let sent: Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent["mid"], demo::MID, "defaults are filled");
    assert_eq!(sent["totalAmount"], 26, "amounts are normalised");
    let authorization = doc["authorization"].as_str().unwrap();
    let parsed = chinaums::sign::parse_body_sig_header(authorization).unwrap();
    assert_eq!(parsed.app_id, demo::APP_ID);
    assert_eq!(
        parsed.signature,
        chinaums::sign::open_body_signature(
            demo::APP_ID,
            demo::APP_KEY,
            &parsed.timestamp,
            &parsed.nonce,
            body.as_bytes()
        )
    );

    // Sent by hand, the printed request is accepted as it is.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(doc["url"].as_str().unwrap())
        .header("Content-Type", doc["contentType"].as_str().unwrap())
        .header("Authorization", authorization)
        .send(body)
        .unwrap();
    let answer: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(answer["errCode"], "SUCCESS", "{answer}");

    // Token mode: no token is fetched, none is shown.
    let mut env = demo_env();
    env.push(("UMS_AUTH", "token"));
    let run = ums(
        &[
            "--environment",
            &url,
            "call",
            "--dry-run",
            "update-qrcode",
            "-",
        ],
        &env,
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    let doc = run.stdout_json();
    assert_eq!(doc["auth"], "token");
    assert!(doc["authorization"].is_null());
    assert_eq!(sandbox.stats().tokens_issued, 0);
}

#[test]
fn config_file_environment_and_flag_precedence() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let dir = TempDir::create();
    // The file wins over UMS_ENVIRONMENT ...
    let config = dir.file(
        "config.json",
        serde_json::json!({
            "environment": url,
            "appId": demo::APP_ID,
            "appKey": demo::APP_KEY,
            "mid": demo::MID,
            "tid": demo::TID,
        })
        .to_string(),
    );
    let run = ums(
        &["--config", &config, "call", "update-qrcode", "-"],
        &[("UMS_ENVIRONMENT", "http://127.0.0.1:1")],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    // ... and --environment wins over the file.
    let run = ums(
        &[
            "call",
            "update-qrcode",
            "-",
            "--config",
            &config,
            "--environment",
            "http://127.0.0.1:1",
        ],
        &[],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["kind"], "connect");
    // Keys the file leaves out come from the environment.
    let partial = dir.file(
        "partial.json",
        serde_json::json!({"environment": url, "appId": demo::APP_ID}).to_string(),
    );
    let run = ums(
        &["--config", &partial, "call", "update-qrcode", "-"],
        &[
            ("UMS_APP_KEY", demo::APP_KEY),
            ("UMS_MID", demo::MID),
            ("UMS_TID", demo::TID),
        ],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
}

#[test]
fn demo_app_without_credentials() {
    // An http:// loopback environment without credentials uses the demo app.
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &[("UMS_MID", demo::MID), ("UMS_TID", demo::TID)],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    // No environment at all: the simulator embedded in the ums process.
    let run = ums(
        &["call", "update-qrcode", "-"],
        &[("UMS_MID", demo::MID), ("UMS_TID", demo::TID)],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(0);
    assert_eq!(run.stdout_json()["errCode"], "SUCCESS");
}

/// Arguments, stdin, the expected error kind.
type LocalCase<'a> = (&'a [&'a str], Option<&'a [u8]>, &'a str);

#[test]
fn local_errors_exit_5_with_an_error_document() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let env = demo_env();
    let cases: &[LocalCase] = &[
        (
            &["call", "update-qrcode", "-"],
            Some(b"{not json"),
            "invalid_json",
        ),
        (
            &["call", "update-qrcode", "-"],
            Some(b"[1,2]"),
            "invalid_json",
        ),
        (
            &["call", "update-qrcode", "-"],
            Some(b"\xff\xfe"),
            "invalid_json",
        ),
        (
            &["call", "update-qrcode", "/nonexistent/request.json"],
            None,
            "invalid_argument",
        ),
    ];
    for (args, stdin, kind) in cases {
        let mut all = vec!["--environment", url.as_str()];
        all.extend_from_slice(args);
        let run = ums(&all, &env, *stdin);
        run.expect_code(5);
        assert_eq!(run.stderr_json()["kind"], *kind, "{run:?}");
    }
    // A bad config value names the key and where it came from.
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &[
            ("UMS_APP_ID", demo::APP_ID),
            ("UMS_APP_KEY", demo::APP_KEY),
            ("UMS_TIMEOUT_MS", "0"),
        ],
        Some(b"{}"),
    );
    run.expect_code(5);
    let doc = run.stderr_json();
    assert_eq!(doc["kind"], "config");
    assert_eq!(doc["field"], "timeoutMs");
    assert!(doc["message"].as_str().unwrap().contains("UMS_TIMEOUT_MS"));
    // An appId without its key.
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &[("UMS_APP_ID", demo::APP_ID)],
        Some(b"{}"),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["field"], "appKey");
    assert_eq!(sandbox.stats().total_requests(), 0);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["call"][..],
        &["call", "update-qrcode"],
        &["call", "update-qrcode", "a.json", "b.json"],
        &["call", "update-qr", "-"],
        &["call", "/v2/netpay/x", "-"],
        &["call", "/v1/../x", "-"],
        &["call", "--what", "update-qrcode", "-"],
        &["call", "--raw", "--raw", "update-qrcode", "-"],
        &[
            "--environment",
            "test",
            "call",
            "update-qrcode",
            "-",
            "--environment",
            "test",
        ],
    ] {
        let run = ums(args, &[], Some(b"{}"));
        run.expect_code(2);
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(run.stderr.contains("ums call"), "{run:?}");
    }
}
