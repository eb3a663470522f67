//! `ums` help, version, usage errors, `new-id` and `sandbox`.

#[path = "../../ums-sandbox/tests/sandbox_process.rs"]
mod sandbox_process;
#[path = "cli_support.rs"]
mod support;

use sandbox_process::start_sandbox_process;
use support::*;
use ums_sandbox::demo;

const COMMANDS: &[&str] = &["call", "sign", "verify-notify", "new-id", "qr", "sandbox"];

#[test]
fn help_for_the_tool_and_every_command() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let run = ums(args, &[], None);
        run.expect_code(0);
        for command in COMMANDS {
            assert!(run.stdout.contains(command), "{command}: {run:?}");
        }
        for needle in [
            "exit codes",
            "UMS_APP_KEY",
            "UMS_NOTIFY_KEY",
            "--config",
            "--environment",
        ] {
            assert!(run.stdout.contains(needle), "{needle}");
        }
        for code in ["0 ", "2 ", "3 ", "4 ", "5 ", "6 "] {
            assert!(
                run.stdout.contains(&format!("\n  {code}")),
                "exit code {code}"
            );
        }
    }
    for command in COMMANDS {
        for args in [
            vec![*command, "--help"],
            vec![*command, "-h"],
            vec!["help", *command],
            vec![*command, "--bogus", "--help"],
        ] {
            let run = ums(&args, &[], None);
            run.expect_code(0);
            assert!(
                run.stdout.contains(&format!("usage: ums {command}")),
                "{args:?}: {run:?}"
            );
            assert!(run.stderr.is_empty());
        }
    }
}

#[test]
fn version() {
    for flag in ["--version", "-V"] {
        let run = ums(&[flag], &[], None);
        run.expect_code(0);
        assert_eq!(run.stdout, format!("ums {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn unknown_commands_and_options_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["Call"],
        &["--bogus", "call"],
        &["--config"],
        &["--config", "a", "--config", "b", "new-id"],
        &["help", "frobnicate"],
        &["help", "call", "sign"],
        &["new-id", "extra"],
        &["new-id", "--count", "0"],
        &["new-id", "--count", "x"],
        &["sandbox", "--port", "70000"],
        &["sandbox", "--port"],
        &["sandbox", "--clock-skew-secs", "0"],
        &["sandbox", "--environment", "test"],
        &["--config", "c.json", "sandbox"],
        &["sandbox", "extra"],
    ] {
        let run = ums(args, &[], None);
        run.expect_code(2);
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let run = ums(&["frobnicate"], &[], None);
    assert!(
        run.stderr.contains("unknown command `frobnicate`"),
        "{run:?}"
    );
}

#[test]
fn new_id_uses_the_msg_src_id() {
    let run = ums(&["new-id"], &[], None);
    run.expect_code(0);
    let id = run.stdout.trim_end();
    assert_eq!(id.len(), 28, "{run:?}");
    assert!(id.starts_with(demo::MSG_SRC_ID));
    assert!(id.bytes().all(|b| b.is_ascii_digit()));

    let run = ums(
        &["new-id", "--count", "50"],
        &[
            ("UMS_MSG_SRC_ID", "12AB"),
            ("UMS_ENVIRONMENT", "production"),
        ],
        None,
    );
    run.expect_code(0);
    let ids: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(ids.len(), 50);
    assert!(ids
        .iter()
        .all(|id| id.len() == 28 && id.starts_with("12AB")));
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 50);

    // A real environment without msgSrcId, or a bad one: a local error.
    let run = ums(&["new-id"], &[("UMS_ENVIRONMENT", "test")], None);
    run.expect_code(5);
    assert!(run.stderr.contains("msgSrcId"), "{run:?}");
    let run = ums(&["new-id"], &[("UMS_MSG_SRC_ID", "31-4")], None);
    run.expect_code(5);
    assert!(run.stderr.contains("UMS_MSG_SRC_ID"), "{run:?}");
}

#[test]
fn sandbox_serves_like_ums_sandbox_and_call_uses_it() {
    let child = start_sandbox_process(
        BIN,
        &["sandbox", "--port", "0", "--token-lifetime-secs=120"],
    );
    let (url, rest) = (child.url.clone(), child.banner.clone());
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        rest.contains(demo::APP_ID) && rest.contains(demo::MID),
        "{rest}"
    );

    // State persists across ums processes: the second update is a duplicate.
    let request = update_request(&bill_no());
    let env = [("UMS_MID", demo::MID), ("UMS_TID", demo::TID)];
    let args = ["--environment", url.as_str(), "call", "update-qrcode", "-"];
    ums(&args, &env, Some(request.as_bytes())).expect_code(0);
    let run = ums(&args, &env, Some(request.as_bytes()));
    run.expect_code(3);
    assert_eq!(run.stderr_json()["errCode"], "DUP_ORDER");
    drop(child);
}
