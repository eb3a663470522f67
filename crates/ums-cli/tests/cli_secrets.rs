//! The tool never prints the app key or the notification key: every command,
//! succeeding or failing, with known keys, has neither on stdout or stderr.

#[path = "cli_support.rs"]
mod support;

use chinaums::notify::sign_form;
use chinaums::sign::NotifySignType;
use support::*;
use ums_sandbox::demo;

const APP_ID: &str = "cli-secret-test-app";
const APP_KEY: &str = "AppKey-S3cr3t-0f1e2d3c4b5a69788796a5b4";
const NOTIFY_KEY: &str = "NotifyKey-S3cr3t-a1b2c3d4e5f60718293a";

#[track_caller]
fn assert_clean(label: &str, run: &Run) {
    for secret in [APP_KEY, NOTIFY_KEY] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{label}: a secret was printed: {run:?}"
        );
        // Not even a large piece of it.
        let piece = &secret[secret.len() - 16..];
        assert!(
            !run.stdout.contains(piece) && !run.stderr.contains(piece),
            "{label}: part of a secret was printed: {run:?}"
        );
    }
}

/// Label, arguments, environment, stdin, expected exit code.
type Case<'a> = (
    &'a str,
    Vec<&'a str>,
    Vec<(&'a str, &'a str)>,
    Option<&'a [u8]>,
    i32,
);

#[test]
fn no_command_prints_a_secret() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let dir = TempDir::create();
    let env = [
        ("UMS_APP_ID", APP_ID),
        ("UMS_APP_KEY", APP_KEY),
        ("UMS_NOTIFY_KEY", NOTIFY_KEY),
        ("UMS_MID", demo::MID),
        ("UMS_TID", demo::TID),
        ("UMS_MSG_SRC_ID", "3194"),
    ];
    let env_with = |extra: (&'static str, &'static str)| {
        let mut e = env.to_vec();
        e.retain(|(k, _)| *k != extra.0);
        e.push(extra);
        e
    };
    let request = update_request(&bill_no());
    let valid_notify = sign_form(
        NOTIFY_KEY,
        NotifySignType::Sha256,
        &[("a", "1"), ("signType", "SHA256")],
    );
    let key_file = dir.file("notify.key", NOTIFY_KEY);
    let config = dir.file(
        "config.json",
        serde_json::json!({"appId": APP_ID, "appKey": APP_KEY, "notifyKey": NOTIFY_KEY, "environment": url, "mid": demo::MID, "tid": demo::TID})
            .to_string(),
    );
    // A config file that is not JSON, with the key in it.
    let broken = dir.file(
        "broken.json",
        format!("{{\"appId\":\"{APP_ID}\",\"appKey\":\"{APP_KEY}\" \"x\"}}"),
    );
    let unknown = dir.file(
        "unknown.json",
        serde_json::json!({"appId": APP_ID, "appKey": APP_KEY, "appKeyy": APP_KEY}).to_string(),
    );
    let bad_env = env_with(("UMS_ENVIRONMENT", "https://gw.example.com/path"));
    let token = env_with(("UMS_AUTH", "token"));
    let bad_mid = env_with(("UMS_MID", "12"));
    let sandbox_env = env_with(("UMS_ENVIRONMENT", "sandbox"));

    let echoed = format!("k={NOTIFY_KEY}&k={APP_KEY}&sign=0");
    let req = Some(request.as_bytes());
    let cases: Vec<Case> = vec![
        (
            "call: unknown app (401)",
            vec!["--environment", &url, "call", "update-qrcode", "-"],
            env.to_vec(),
            req,
            3,
        ),
        (
            "call --raw: unknown app",
            vec!["--environment", &url, "call", "--raw", "update-qrcode", "-"],
            env.to_vec(),
            req,
            3,
        ),
        (
            "call: token refused",
            vec!["--environment", &url, "call", "update-qrcode", "-"],
            token.clone(),
            req,
            3,
        ),
        (
            "call --dry-run",
            vec![
                "--environment",
                &url,
                "call",
                "--dry-run",
                "update-qrcode",
                "-",
            ],
            env.to_vec(),
            req,
            0,
        ),
        (
            "call --dry-run token",
            vec![
                "--environment",
                &url,
                "call",
                "--dry-run",
                "update-qrcode",
                "-",
            ],
            token.clone(),
            req,
            0,
        ),
        (
            "call: connection refused",
            vec![
                "--environment",
                "http://127.0.0.1:1",
                "call",
                "update-qrcode",
                "-",
            ],
            env.to_vec(),
            req,
            5,
        ),
        (
            "call: validation",
            vec!["--environment", &url, "call", "refund", "-"],
            env.to_vec(),
            Some(b"{\"billNo\":\"x\"}"),
            5,
        ),
        (
            "call: bad mid",
            vec!["--environment", &url, "call", "update-qrcode", "-"],
            bad_mid.clone(),
            req,
            5,
        ),
        (
            "call: bad environment",
            vec!["call", "update-qrcode", "-"],
            bad_env.clone(),
            req,
            5,
        ),
        (
            "call: sandbox with own app",
            vec!["call", "update-qrcode", "-"],
            sandbox_env.clone(),
            req,
            5,
        ),
        (
            "call: config file",
            vec!["--config", &config, "call", "update-qrcode", "-"],
            vec![],
            req,
            3,
        ),
        (
            "call: broken config file",
            vec!["--config", &broken, "call", "update-qrcode", "-"],
            vec![],
            req,
            5,
        ),
        (
            "call: unknown config key",
            vec!["--config", &unknown, "call", "update-qrcode", "-"],
            vec![],
            req,
            5,
        ),
        (
            "call: bad json",
            vec!["--environment", &url, "call", "update-qrcode", "-"],
            env.to_vec(),
            Some(b"{\"appKey\":"),
            5,
        ),
        (
            "call: usage",
            vec!["call", "nope", "-"],
            env.to_vec(),
            req,
            2,
        ),
        ("sign", vec!["sign", "-"], env.to_vec(), req, 0),
        (
            "sign: fixed",
            vec!["sign", "--timestamp", "20260101000000", "--nonce", "n", "-"],
            env.to_vec(),
            req,
            0,
        ),
        ("sign: bad env", vec!["sign", "-"], bad_mid.clone(), req, 5),
        (
            "sign: usage",
            vec!["sign", "--nonce", "a\"b", "-"],
            env.to_vec(),
            req,
            2,
        ),
        (
            "verify-notify: valid",
            vec!["verify-notify", "-"],
            env.to_vec(),
            Some(valid_notify.as_bytes()),
            0,
        ),
        (
            "verify-notify: key file",
            vec!["verify-notify", "--key-file", &key_file, "-"],
            vec![],
            Some(valid_notify.as_bytes()),
            0,
        ),
        (
            "verify-notify: key env",
            vec!["verify-notify", "--key-env", "UMS_NOTIFY_KEY", "-"],
            env.to_vec(),
            Some(valid_notify.as_bytes()),
            0,
        ),
        (
            "verify-notify: config",
            vec!["--config", &config, "verify-notify", "-"],
            vec![],
            Some(valid_notify.as_bytes()),
            0,
        ),
        (
            "verify-notify: invalid",
            vec!["verify-notify", "-"],
            env.to_vec(),
            Some(b"a=1&sign=00"),
            6,
        ),
        (
            "verify-notify: malformed",
            vec!["verify-notify", "-"],
            env.to_vec(),
            Some(b"a&b"),
            6,
        ),
        (
            "verify-notify: echoed key",
            vec!["verify-notify", "-"],
            env.to_vec(),
            Some(echoed.as_bytes()),
            6,
        ),
        ("new-id", vec!["new-id"], env.to_vec(), None, 0),
        (
            "new-id: bad",
            vec!["new-id"],
            env_with(("UMS_MSG_SRC_ID", "x")),
            None,
            5,
        ),
        ("help", vec!["--help"], env.to_vec(), None, 0),
        ("call help", vec!["call", "--help"], env.to_vec(), None, 0),
        ("unknown command", vec!["nope"], env.to_vec(), None, 2),
    ];
    for (label, args, env, stdin, code) in &cases {
        let run = ums(args, env, *stdin);
        assert_eq!(run.code, *code, "{label}: {run:#?}");
        assert_clean(label, &run);
    }
    // The demo app's requests reached the simulator and were refused there:
    // the key was really used, just never shown.
    assert!(sandbox.stats().auth_failures >= 2);
}
