//! The `ums-sandbox` binary: first line, serving, arguments.

#[path = "sandbox_process.rs"]
mod sandbox_process;
#[path = "sandbox_support.rs"]
mod support;

use chinaums::clock::{Clock, SystemClock};
use sandbox_process::start_sandbox_process;
use std::io::Read;
use std::process::{Command, Stdio};
use support::*;
use ums_sandbox::demo;

const BIN: &str = env!("CARGO_BIN_EXE_ums-sandbox");

#[test]
fn prints_its_address_first_and_serves() {
    let child = start_sandbox_process(BIN, &["--port", "0", "--token-lifetime-secs", "120"]);
    let (url, rest) = (child.url.clone(), child.banner.clone());
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);

    assert!(rest.contains(demo::APP_ID) && rest.contains(demo::MID) && rest.contains(demo::TID));
    assert!(rest.contains("public demo key"));

    let agent = agent();
    let health = get(&agent, &format!("{url}/_sandbox/health"));
    let token = post(
        &agent,
        &format!("{url}{TOKEN}"),
        &[("Content-Type", "application/json")],
        &token_request(SystemClock.now_unix_millis(), &nonce()).to_string(),
    );
    drop(child);
    assert_eq!(health.json, serde_json::json!({"ok": true}));
    assert_eq!(token.json["errCode"], "0000", "{}", token.text);
    assert_eq!(token.json["expiresIn"], 120);
}

#[test]
fn bad_arguments_exit_with_2() {
    for args in [
        &["--port"][..],
        &["--port", "x"],
        &["--port", "65536"],
        &["--token-lifetime-secs", "0"],
        &["--clock-skew-secs", "-1"],
        &["--what"],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("usage"),
            "{args:?}"
        );
    }
}

#[test]
fn help_exits_with_0() {
    let mut child = Command::new(BIN)
        .arg("--help")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(text.contains("--port") && text.contains("--clock-skew-secs"));
}
