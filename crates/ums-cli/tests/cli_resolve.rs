//! `ums resolve`: from the error document of a call, from a request, from
//! the journal; its exit codes 0 (applied), 7 (pending), 8 (not applied),
//! 9 (cannot tell), 2 (usage).

#[path = "cli_support.rs"]
mod cli_support;

use cli_support::*;
use serde_json::json;
use ums_sandbox::{demo, Fault};

fn config(dir: &TempDir, environment: &str, extra: serde_json::Value) -> String {
    let mut config = demo::client_config(environment, extra);
    config["journal"] = dir.0.join("journal.sqlite").to_string_lossy().into();
    dir.file("config.json", config.to_string())
}

#[test]
fn resolve_after_outcome_unknown_from_the_error_document_and_the_journal() {
    let sandbox = sandbox();
    let dir = TempDir::create();
    let cfg = config(&dir, &sandbox.base_url(), json!({"resolvable": true}));

    // Applied, though the answer was lost.
    sandbox.inject_fault("/v1/netpay/bills/update-qrcode", Fault::CloseAfterBody, 1);
    let request = json!({"qrCodeId": demo::SEED_QR_CODE_ID, "totalAmount": 26}).to_string();
    let run = ums(
        &["--config", &cfg, "call", "update-qrcode", "-"],
        &[],
        Some(request.as_bytes()),
    );
    run.expect_code(4);
    let error = run.stderr_json();
    assert!(
        error["resolveWith"]["request"]["billNo"].is_string(),
        "{error}"
    );
    let pending = ums(&["--config", &cfg, "resolve", "--pending"], &[], None);
    pending.expect_code(0);
    assert_eq!(pending.stdout_json()["count"], 1, "{pending:?}");
    let error_file = dir.file("error.json", &run.stderr);
    let run = ums(&["--config", &cfg, "resolve", &error_file], &[], None);
    run.expect_code(0);
    let verdict = run.stdout_json();
    assert_eq!(verdict["verdict"], "applied", "{verdict}");
    assert_eq!(verdict["journalClosed"], true);
    let pending = ums(&["--config", &cfg, "resolve", "--pending"], &[], None);
    assert_eq!(pending.stdout_json()["count"], 0, "{pending:?}");

    // Not processed, and still able to arrive: pending (7), from stdin.
    sandbox.inject_fault("/v1/netpay/bills/update-qrcode", Fault::CloseBeforeBody, 1);
    let run = ums(
        &["--config", &cfg, "call", "update-qrcode", "-"],
        &[],
        Some(request.as_bytes()),
    );
    run.expect_code(4);
    let run = ums(
        &["--config", &cfg, "resolve", "-"],
        &[],
        Some(run.stderr.as_bytes()),
    );
    run.expect_code(7);
    let verdict = run.stdout_json();
    assert_eq!(verdict["verdict"], "pending", "{verdict}");
    assert!(verdict["retryAfter"].is_string());
    assert_eq!(verdict["safeToResend"], false);
    // --all-pending leaves it open: 7.
    let run = ums(&["--config", &cfg, "resolve", "--all-pending"], &[], None);
    run.expect_code(7);
    assert_eq!(run.stdout_json()["count"], 1);
}

#[test]
fn resolve_exit_codes_for_not_applied_cannot_tell_and_usage() {
    let sandbox = sandbox();
    let dir = TempDir::create();
    let cfg = config(
        &dir,
        &sandbox.base_url(),
        json!({"resolveWindowSeconds": 1}),
    );
    let long_ago = cli_support::now().to_unix_millis() - 10 * 60 * 1000;
    let sent = chinaums::clock::BeijingTime::from_unix_millis(long_ago).date_time();
    // A refund of a bill the gateway never had, sent 10 minutes ago.
    let input = json!({"operation": "refund", "request": {
        "billNo": bill_no(), "billDate": now().date(), "refundAmount": 1,
        "refundOrderId": bill_no(), "requestTimestamp": sent}});
    let run = ums(
        &["--config", &cfg, "resolve", "-"],
        &[],
        Some(input.to_string().as_bytes()),
    );
    run.expect_code(8);
    assert_eq!(run.stdout_json()["verdict"], "not_applied");
    assert_eq!(run.stdout_json()["safeToResend"], true);

    let input = json!({"operation": "secure-complete", "request": {
        "merOrderId": "31940000000001", "completedAmount": 1, "requestTimestamp": sent}});
    let run = ums(
        &["--config", &cfg, "resolve", "-"],
        &[],
        Some(input.to_string().as_bytes()),
    );
    run.expect_code(9);
    assert_eq!(run.stdout_json()["verdict"], "cannot_tell");

    ums(&["--config", &cfg, "resolve"], &[], None).expect_code(2);
    ums(&["resolve", "--pending", "--table"], &[], None).expect_code(2);
    let table = ums(&["resolve", "--table"], &[], None);
    table.expect_code(0);
    assert!(table.stdout.contains("| refund (refundOrderId) |"));
    // Bad input: 5 with the error document.
    let run = ums(
        &["--config", &cfg, "resolve", "-"],
        &[],
        Some(br#"{"operation":"query-bill","request":{}}"#),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["kind"], "invalid_argument");
}
