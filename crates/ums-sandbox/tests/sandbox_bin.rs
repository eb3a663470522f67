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

#[test]
fn version_prints_the_version() {
    let output = Command::new(BIN).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("ums-sandbox {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_port_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = Command::new(BIN)
        .args(["--port", &port.to_string()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains(&format!("cannot listen on 127.0.0.1:{port}: ")) && text.contains("--port"),
        "{text}"
    );
}

/// One line per request on stderr (method, path, appId, errCode, ms),
/// without the signature; none with --quiet.
#[test]
fn each_request_is_logged_on_stderr_unless_quiet() {
    for quiet in [false, true] {
        let mut args = vec!["--port", "0"];
        if quiet {
            args.push("--quiet");
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
        let url = first.trim().rsplit(' ').next().unwrap().to_string();
        let request = token_request(SystemClock.now_unix_millis(), &nonce());
        let signature = request["signature"].as_str().unwrap().to_string();
        let reply = post(
            &agent(),
            &format!("{url}{TOKEN}"),
            &[("Content-Type", "application/json")],
            &request.to_string(),
        );
        assert_eq!(reply.json["errCode"], "0000");
        let token = reply.json["accessToken"].as_str().unwrap().to_string();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        if quiet {
            child.kill().unwrap();
            child.wait().unwrap();
            let mut log = String::new();
            stderr.read_to_string(&mut log).unwrap();
            assert_eq!(log, "", "--quiet");
            continue;
        }
        // Read (blocking) until the request's line arrives.
        let mut line = String::new();
        while !line.contains("POST /v1/token/access") {
            line.clear();
            let n = std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
            assert_ne!(n, 0, "stderr ended without the request's line");
            assert!(
                !line.contains(&signature) && !line.contains(&token),
                "{line}"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let line = line.trim_end();
        assert!(line.starts_with("ums-sandbox: "), "{line}");
        assert!(
            line.contains("errCode=0000") && line.ends_with("ms"),
            "{line}"
        );
        assert!(!line.contains(demo::APP_KEY), "{line}");
    }
}
