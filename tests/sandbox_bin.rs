//! The `ums-sandbox` binary: first line, serving, arguments.

#[path = "sandbox_support.rs"]
mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use support::*;
use ums::clock::{Clock, SystemClock};
use ums::sandbox::demo;

/// Kills the child this test started, even when an assertion fails first.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_ums-sandbox");

#[test]
fn prints_its_address_first_and_serves() {
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(["--port", "0", "--token-lifetime-secs", "120"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim_end()
        .strip_prefix("ums-sandbox listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);

    let mut rest = String::new();
    for _ in 0..7 {
        stdout.read_line(&mut rest).unwrap();
    }
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
