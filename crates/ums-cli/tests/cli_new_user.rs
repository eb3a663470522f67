//! The rough edges a new user hit (issue 15) and the messages people read
//! (issue 13): the simulator's demo merchant by default, `help --help`,
//! `-v`, bad JSON, an unknown environment, `ums qr`, and error messages that
//! carry errCode, errMsg, the field, the port and what to do next.

#[path = "cli_support.rs"]
mod support;

use qrcode::{Color, EcLevel, QrCode};
use serde_json::{json, Value};
use support::*;
use ums_sandbox::demo;

/// An update-qrcode request as a new user writes it: no mid, no tid.
fn request_without_merchant() -> String {
    json!({
        "qrCodeId": demo::SEED_QR_CODE_ID,
        "billNo": bill_no(),
        "billDate": now().date(),
        "totalAmount": 26,
    })
    .to_string()
}

fn message(run: &Run) -> String {
    run.stderr_json()["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {run:?}"))
        .to_string()
}

#[test]
fn the_simulator_needs_no_mid_or_tid() {
    let dir = TempDir::create();
    let request = dir.file("req.json", request_without_merchant());
    // The simulator inside the ums process (no environment, no credentials).
    let run = ums(&["call", "update-qrcode", &request], &[], None);
    run.expect_code(0);
    assert_eq!(run.stdout_json()["mid"], demo::MID, "{run:?}");
    assert_eq!(run.stdout_json()["tid"], demo::TID, "{run:?}");

    // A `ums sandbox` at a loopback URL, and the name "sandbox".
    let sandbox = sandbox();
    let url = sandbox.base_url();
    for environment in [url.as_str(), "sandbox"] {
        let run = ums(
            &["--environment", environment, "call", "update-qrcode", "-"],
            &[],
            Some(request_without_merchant().as_bytes()),
        );
        run.expect_code(0);
    }
    // The demo app's credentials given (as the simulator prints them): the
    // same merchant default.
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &[("UMS_APP_ID", demo::APP_ID), ("UMS_APP_KEY", demo::APP_KEY)],
        Some(request_without_merchant().as_bytes()),
    );
    run.expect_code(0);
    assert_eq!(
        sandbox
            .stats()
            .requests_to("/v1/netpay/bills/update-qrcode"),
        2
    );

    // A merchant given is kept.
    let run = ums(
        &["call", "--dry-run", "update-qrcode", &request],
        &[("UMS_MID", demo::SECOND_MID), ("UMS_TID", demo::TID_ALT)],
        None,
    );
    run.expect_code(0);
    let body: Value = serde_json::from_str(run.stdout_json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["mid"], demo::SECOND_MID);
    assert_eq!(body["tid"], demo::TID_ALT);
}

#[test]
fn test_and_production_never_get_the_demo_merchant() {
    let dir = TempDir::create();
    let request = dir.file("req.json", request_without_merchant());
    for environment in ["test", "production"] {
        // A dry run sends nothing, so no gateway is needed to see the body.
        let run = ums(
            &[
                "--environment",
                environment,
                "call",
                "--dry-run",
                "update-qrcode",
                &request,
            ],
            &[("UMS_APP_ID", demo::APP_ID), ("UMS_APP_KEY", demo::APP_KEY)],
            None,
        );
        run.expect_code(5);
        let doc = run.stderr_json();
        assert_eq!(doc["field"], "mid", "{run:?}");
        assert_eq!(
            doc["message"],
            "field `mid`: is required in the request, or set UMS_MID, or \"mid\" in the --config file"
        );
    }
}

#[test]
fn help_for_help_and_the_same_shape_for_every_command() {
    for args in [&["help", "--help"][..], &["help", "-h"], &["help", "help"]] {
        let run = ums(args, &[], None);
        run.expect_code(0);
        assert!(
            run.stdout.starts_with("usage: ums help [COMMAND]\n"),
            "{run:?}"
        );
        assert!(
            !run.stdout.contains("exit codes"),
            "only help's own: {run:?}"
        );
    }
    let run = ums(&["--help"], &[], None);
    run.expect_code(0);
    for needle in [
        "-v, --verbose",
        "-V, --version",
        "qr ",
        "ums help <command>",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {run:?}");
    }
    for command in ["call", "sign", "verify-notify", "new-id", "qr", "sandbox"] {
        let run = ums(&[command, "--help"], &[], None);
        run.expect_code(0);
        assert!(run.stdout.starts_with(&format!("usage: ums {command}")));
        assert!(run.stdout.contains("-h, --help"), "{command}");
        assert!(run.stdout.contains("exit codes"), "{command}");
    }
    let run = ums(&["--version"], &[], None);
    assert_eq!(run.stdout, format!("ums {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn verbose_prints_requests_status_and_timing_never_secrets() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let request = update_request(&bill_no());
    // Quiet by default.
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &demo_env(),
        Some(request.as_bytes()),
    );
    run.expect_code(0);
    assert!(run.stderr.is_empty(), "{run:?}");

    let mut env = demo_env();
    env.push(("UMS_AUTH", "token"));
    for (flag, position) in [("-v", 0), ("--verbose", 3)] {
        let mut args = vec!["--environment", url.as_str(), "call", "update-qrcode", "-"];
        args.insert(position, flag);
        let run = ums(&args, &env, Some(update_request(&bill_no()).as_bytes()));
        run.expect_code(0);
        let log = &run.stderr;
        for needle in [
            "ums: debug: POST /v1/netpay/bills/update-qrcode (",
            "ums: info: POST /v1/netpay/bills/update-qrcode: SUCCESS in ",
            "access token issued",
            &format!("gateway {url}"),
        ] {
            assert!(log.contains(needle), "{needle}: {run:?}");
        }
        assert!(log.lines().all(|l| l.starts_with("ums: ")), "{run:?}");
        for secret in sandbox
            .live_tokens(demo::APP_ID)
            .iter()
            .map(String::as_str)
            .chain([demo::APP_KEY, "Signature", "AccessToken="])
        {
            assert!(!log.contains(secret), "{secret} in {log}");
        }
    }
    // A rejection: the errCode and HTTP status, still on stderr only.
    let run = ums(
        &["-v", "--environment", &url, "call", "update-qrcode", "-"],
        &demo_env(),
        Some(request.as_bytes()),
    );
    run.expect_code(3);
    assert!(
        run.stderr.contains("(errCode DUP_ORDER, HTTP 200) in "),
        "{run:?}"
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn bad_json_says_what_was_expected_where_and_in_which_file() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let dir = TempDir::create();
    let cases = [
        (
            "{\"billNo\":\"31940001\"\n",
            "invalid JSON at line 2, column 0: unexpected end of input, expected ',' or '}'",
        ),
        (
            "{\"billNo\":\"31940001\",\n",
            "invalid JSON at line 2, column 0: unexpected end of input, expected a key in double quotes",
        ),
        (
            "{\"billNo\": 31940001,}",
            "invalid JSON at line 1, column 21: a ',' before '}' or ']' is not allowed (trailing comma)",
        ),
        (
            "",
            "invalid JSON: the input is empty, expected a JSON object",
        ),
    ];
    for (text, expected) in cases {
        let path = dir.file("req.json", text);
        let run = ums(
            &["--environment", &url, "call", "query-bill", &path],
            &[],
            None,
        );
        run.expect_code(5);
        assert_eq!(run.stderr_json()["kind"], "invalid_json");
        assert_eq!(message(&run), format!("{path}: {expected}"), "{run:?}");
    }
    let run = ums(
        &["--environment", &url, "call", "query-bill", "-"],
        &[],
        Some(b"{\"billNo\" \"1\"}"),
    );
    run.expect_code(5);
    assert_eq!(
        message(&run),
        "stdin: invalid JSON at line 1, column 11: expected ':' after the key"
    );
    // A request saved as GBK: where the first byte that is not UTF-8 is.
    let run = ums(
        &["--environment", &url, "call", "query-bill", "-"],
        &[],
        Some(b"{\"billNo\":\"\xd6\xd0\"}"),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["kind"], "invalid_json");
    assert_eq!(
        message(&run),
        "stdin: invalid UTF-8 at line 1, column 12: JSON text must be UTF-8 (a file saved as GBK is not)"
    );
    // What the library finds after the syntax names the file too.
    let path = dir.file("twice.json", r#"{"billNo":"1","billNo":"2"}"#);
    let run = ums(
        &["--environment", &url, "call", "query-bill", &path],
        &[],
        None,
    );
    run.expect_code(5);
    assert!(message(&run).starts_with(&format!("{path}: ")), "{run:?}");
    assert!(message(&run).contains("billNo"), "{run:?}");

    // A config file: the same words, and never its content (the app key).
    let config = dir.file(
        "config.json",
        format!("{{\"appKey\":\"{}\",", demo::APP_KEY),
    );
    let run = ums(&["--config", &config, "new-id"], &[], None);
    run.expect_code(5);
    assert!(
        run.stderr.contains(&format!(
            "config file `{config}`: invalid JSON at line 1, column "
        )),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("expected a key in double quotes"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(demo::APP_KEY));
    assert_eq!(sandbox.stats().total_requests(), 0);
}

#[test]
fn an_unknown_environment_is_a_usage_error_that_lists_the_names() {
    for args in [
        &["--environment", "prod", "call", "query-bill", "-"][..],
        &["call", "query-bill", "-", "--environment=prod"],
        &["--environment", "prod", "new-id"],
        &["--environment", "ftp://127.0.0.1", "sign", "-"],
        &[
            "--environment",
            "http://example.com",
            "call",
            "query-bill",
            "-",
        ],
    ] {
        let run = ums(args, &[], Some(b"{}"));
        run.expect_code(2);
        assert!(run.stderr.contains("--environment"), "{run:?}");
        assert!(
            run.stderr.contains("test, production, sandbox"),
            "{args:?}: {run:?}"
        );
        assert!(run.stdout.is_empty());
    }
    // From the environment variable or the config file it is a config
    // error (exit 5), with the same list and where the value came from.
    let run = ums(
        &["call", "query-bill", "-"],
        &[("UMS_ENVIRONMENT", "prod")],
        Some(b"{}"),
    );
    run.expect_code(5);
    let doc = run.stderr_json();
    assert_eq!(doc["field"], "environment");
    let text = doc["message"].as_str().unwrap();
    assert!(text.contains("unknown environment `prod`"), "{text}");
    assert!(text.contains("test, production, sandbox"), "{text}");
    assert!(text.contains("UMS_ENVIRONMENT"), "{text}");

    // "sandbox" with credentials of one's own: the simulator would refuse
    // them; say so instead of "environment must be production, test, ...".
    let run = ums(
        &["--environment", "sandbox", "call", "query-bill", "-"],
        &[("UMS_APP_ID", "mine"), ("UMS_APP_KEY", "my-key-0123")],
        Some(b"{}"),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["field"], "environment");
    assert!(message(&run).contains("knows only its demo app"), "{run:?}");
}

/// Reads the half-block drawing back into rows of modules (true: the
/// module is drawn).
fn drawn_modules(image: &str) -> Vec<Vec<bool>> {
    let mut rows = Vec::new();
    for line in image.lines() {
        let (mut top, mut bottom) = (Vec::new(), Vec::new());
        for c in line.chars() {
            let (t, b) = match c {
                ' ' => (false, false),
                '▀' => (true, false),
                '▄' => (false, true),
                '█' => (true, true),
                other => panic!("unexpected character {other:?}"),
            };
            top.push(t);
            bottom.push(b);
        }
        rows.push(top);
        rows.push(bottom);
    }
    rows
}

/// The modules of `text`'s QR code with a 4-module quiet zone (true: dark).
fn expected_modules(text: &str) -> Vec<Vec<bool>> {
    let code = QrCode::with_error_correction_level(text, EcLevel::M).unwrap();
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 8;
    (0..size)
        .map(|y| {
            (0..size)
                .map(|x| {
                    let inside = (4..width + 4).contains(&x) && (4..width + 4).contains(&y);
                    inside && colors[(y - 4) * width + (x - 4)] == Color::Dark
                })
                .collect()
        })
        .collect()
}

#[test]
fn qr_draws_the_code_with_half_blocks_or_as_svg() {
    let text = format!(
        "https://qr.chinaums.com/bills/qrCode.do?id={}",
        demo::SEED_QR_CODE_ID
    );
    let expected = expected_modules(&text);
    let size = expected.len();

    // --invert draws the dark modules; the default the light ones.
    for (args, dark_drawn) in [(vec!["qr", "--invert"], true), (vec!["qr"], false)] {
        let mut args = args;
        args.push(&text);
        let run = ums(&args, &[], None);
        run.expect_code(0);
        let drawn = drawn_modules(&run.stdout);
        // An odd number of rows leaves the last half row empty.
        assert_eq!(drawn.len(), size + size % 2, "{}", run.stdout);
        for (y, row) in expected.iter().enumerate() {
            let shown: Vec<bool> = drawn[y].iter().map(|d| *d == dark_drawn).collect();
            assert_eq!(&shown, row, "row {y}");
        }
    }

    // From stdin, trailing newline dropped: the same drawing.
    let from_arg = ums(&["qr", &text], &[], None);
    let from_stdin = ums(&["qr", "-"], &[], Some(format!("{text}\n").as_bytes()));
    from_stdin.expect_code(0);
    assert_eq!(from_stdin.stdout, from_arg.stdout);

    let run = ums(&["qr", "--svg", &text], &[], None);
    run.expect_code(0);
    assert!(run.stdout.starts_with("<?xml"), "{run:?}");
    assert!(run.stdout.contains("<svg") && run.stdout.trim_end().ends_with("</svg>"));

    // Bad input: a clear error, never a crash.
    ums(&["qr"], &[], None).expect_code(2);
    ums(&["qr", ""], &[], None).expect_code(2);
    ums(&["qr", "a", "b"], &[], None).expect_code(2);
    ums(&["qr", "--environment", "test", "a"], &[], None).expect_code(2);
    let run = ums(&["qr", &"x".repeat(3000)], &[], None);
    run.expect_code(5);
    assert!(run.stderr.contains("does not fit in a QR code"), "{run:?}");
}

#[test]
fn gateway_rejections_carry_err_code_and_err_msg() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let request = update_request(&bill_no());
    let args = ["--environment", url.as_str(), "call", "update-qrcode", "-"];
    ums(&args, &[], Some(request.as_bytes())).expect_code(0);
    let run = ums(&args, &[], Some(request.as_bytes()));
    run.expect_code(3);
    assert!(
        message(&run).starts_with("gateway rejected: DUP_ORDER 账单号重复 — "),
        "{run:?}"
    );
    // The document's other members are unchanged, for scripts.
    assert_eq!(run.stderr_json()["errCode"], "DUP_ORDER");
    assert_eq!(run.stderr_json()["errMsg"], "账单号重复");

    // An HTTP 4xx with the gateway's code.
    let run = ums(
        &[
            "--environment",
            &url,
            "call",
            "/v1/netpay/nothing-here",
            "-",
        ],
        &[],
        Some(b"{}"),
    );
    run.expect_code(3);
    assert!(
        message(&run).starts_with("gateway rejected: NO_SERVICE ")
            && message(&run).contains("(HTTP 404)"),
        "{run:?}"
    );

    // A validation error names the field.
    let mut bad: Value = serde_json::from_str(&update_request(&bill_no())).unwrap();
    bad["walletOption"] = "EVERYONE".into();
    let run = ums(&args, &[], Some(bad.to_string().as_bytes()));
    run.expect_code(5);
    assert!(
        message(&run).starts_with("field `walletOption`: "),
        "{run:?}"
    );
}

#[test]
fn unknown_and_pending_outcomes_say_what_to_do() {
    let url = fake_gateway(200, r#"{"errCode":"TIMEOUT","errMsg":"处理超时"}"#);
    let run = ums(
        &["--environment", &url, "call", "update-qrcode", "-"],
        &[],
        Some(update_request(&bill_no()).as_bytes()),
    );
    run.expect_code(4);
    let text = message(&run);
    assert!(
        text.starts_with("outcome unknown: TIMEOUT 处理超时. What to do: "),
        "{text}"
    );
    assert!(text.contains(". What to do: "), "{text}");
    assert!(
        text.contains("query the bill (`ums call query-bill`)"),
        "{text}"
    );
    assert!(
        text.contains("never resend a money-moving request blindly"),
        "{text}"
    );
    // The document carries what `ums resolve` needs: the message says so.
    if run.stderr_json().get("resolveWith").is_some() {
        assert!(text.contains("run `ums resolve` on it"), "{text}");
    }
    // A read-only request changes nothing: the message says it may be sent again.
    let run = ums(
        &["--environment", &url, "call", "query-bill", "-"],
        &[],
        Some(br#"{"billNo":"31940001","billDate":"2020-02-26"}"#),
    );
    run.expect_code(4);
    let text = message(&run);
    assert!(
        text.contains("this request only reads, so sending it again is safe"),
        "{text}"
    );

    let url = fake_gateway(200, r#"{"errCode":"SUCCESS","refundStatus":"PROCESSING"}"#);
    let refund = json!({
        "billNo": bill_no(),
        "billDate": now().date(),
        "refundAmount": 1,
        "refundOrderId": bill_no(),
    });
    let run = ums(
        &["--environment", &url, "call", "refund", "-"],
        &[],
        Some(refund.to_string().as_bytes()),
    );
    run.expect_code(7);
    let text = message(&run);
    assert!(
        text.starts_with("pending: refundStatus PROCESSING — "),
        "{text}"
    );
    assert!(
        text.contains("until the state is final; never resend"),
        "{text}"
    );
}

#[test]
fn connection_errors_name_the_port() {
    // Port 1 on loopback: nothing listens there without root privileges
    // and a service of its own.
    let run = ums(
        &[
            "--environment",
            "http://127.0.0.1:1",
            "call",
            "query-bill",
            "-",
        ],
        &[],
        Some(br#"{"billNo":"31940001","billDate":"2020-02-26"}"#),
    );
    run.expect_code(5);
    assert_eq!(run.stderr_json()["kind"], "connect");
    assert!(
        message(&run).starts_with("cannot connect to 127.0.0.1:1 "),
        "{run:?}"
    );

    // `ums sandbox` on a port that is taken names the port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = ums(&["sandbox", "--port", &port], &[], None);
    run.expect_code(5);
    assert!(
        run.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}: ")),
        "{run:?}"
    );
    assert!(run.stderr.contains("--port"), "{run:?}");
    // The options of `ums-sandbox`, checked the same way.
    for bad in [
        &["--retention-secs", "0"][..],
        &["--quiet=1"],
        &["--strict", "--strict"],
    ] {
        let mut args = vec!["sandbox"];
        args.extend_from_slice(bad);
        ums(&args, &[], None).expect_code(2);
    }
}

/// The example at the end of `ums call --help` runs as written, with no
/// configuration (the simulator in the ums process).
#[test]
fn the_call_help_example_runs_as_written() {
    let help = ums(&["call", "--help"], &[], None).stdout;
    let (_, example) = help
        .split_once("\nexample")
        .expect("the help has an example");
    let script: String = example
        .lines()
        .skip(1)
        .map(|l| l.trim().trim_end_matches('\\'))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(script.contains("ums call update-qrcode -"), "{script}");
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("PATH", path)
        .env_remove("UMS_ENVIRONMENT")
        .env_remove("UMS_APP_ID")
        .env_remove("UMS_APP_KEY")
        .env_remove("UMS_MID")
        .env_remove("UMS_TID")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{script}: {output:?}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(answer["errCode"], "SUCCESS");
}
