//! `ums sign`: every open_body_sig vector of vectors.json, and a header the
//! simulator accepts.

#[path = "cli_support.rs"]
mod support;

use serde_json::Value;
use support::*;
use ums_sandbox::demo;

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector lacks {key}"))
}

#[test]
fn every_open_body_sig_vector_gives_its_exact_header() {
    let all = vectors();
    let list = all["open_body_sig"].as_array().unwrap();
    assert!(!list.is_empty());
    let dir = TempDir::create();
    for (i, v) in list.iter().enumerate() {
        let expected = match v["authorization"].as_str() {
            Some(header) => header.to_string(),
            None => chinaums::sign::open_body_authorization(
                s(v, "app_id"),
                s(v, "timestamp"),
                s(v, "nonce"),
                s(v, "signature"),
            ),
        };
        let env = [
            ("UMS_APP_ID", s(v, "app_id")),
            ("UMS_APP_KEY", s(v, "app_key")),
        ];
        let body = s(v, "body_utf8");
        let file = dir.file(&format!("body{i}"), body);
        let from_file = ums(
            &[
                "sign",
                "--timestamp",
                s(v, "timestamp"),
                "--nonce",
                s(v, "nonce"),
                &file,
            ],
            &env,
            None,
        );
        from_file.expect_code(0);
        assert_eq!(
            from_file.stdout,
            format!("{expected}\n"),
            "{}",
            s(v, "name")
        );
        assert!(!from_file.stdout.contains(s(v, "app_key")));

        let from_stdin = ums(
            &[
                "sign",
                &format!("--timestamp={}", s(v, "timestamp")),
                &format!("--nonce={}", s(v, "nonce")),
                "-",
            ],
            &env,
            Some(body.as_bytes()),
        );
        from_stdin.expect_code(0);
        assert_eq!(
            from_stdin.stdout,
            format!("{expected}\n"),
            "{}",
            s(v, "name")
        );
        assert!(from_stdin.stderr.is_empty(), "{from_stdin:?}");

        // The same credentials from a config file.
        let config = dir.file(
            &format!("config{i}.json"),
            serde_json::json!({"appId": s(v, "app_id"), "appKey": s(v, "app_key"), "environment": "production"})
                .to_string(),
        );
        let run = ums(
            &[
                "--config",
                &config,
                "sign",
                "--timestamp",
                s(v, "timestamp"),
                "--nonce",
                s(v, "nonce"),
                "-",
            ],
            &[],
            Some(body.as_bytes()),
        );
        run.expect_code(0);
        assert_eq!(run.stdout, format!("{expected}\n"));

        // A trailing newline is signed as read (with a note), unless stripped.
        let with_newline = format!("{body}\n");
        let run = ums(
            &[
                "sign",
                "--timestamp",
                s(v, "timestamp"),
                "--nonce",
                s(v, "nonce"),
                "-",
            ],
            &env,
            Some(with_newline.as_bytes()),
        );
        run.expect_code(0);
        assert_ne!(run.stdout, format!("{expected}\n"));
        assert!(run.stderr.contains("newline"), "{run:?}");
        for ending in ["\n", "\r\n", "\n\n"] {
            let run = ums(
                &[
                    "sign",
                    "--strip-newline",
                    "--timestamp",
                    s(v, "timestamp"),
                    "--nonce",
                    s(v, "nonce"),
                    "-",
                ],
                &env,
                Some(format!("{body}{ending}").as_bytes()),
            );
            run.expect_code(0);
            assert_eq!(run.stdout, format!("{expected}\n"));
        }
    }
}

#[test]
fn the_simulator_accepts_the_signed_header() {
    let sandbox = sandbox();
    let url = sandbox.base_url();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let body_for = |bill_no: &str| {
        let now = now();
        serde_json::json!({
            "requestTimestamp": now.date_time(),
            "mid": demo::MID,
            "tid": demo::TID,
            "instMid": demo::INST_MID,
            "qrCodeId": demo::SEED_QR_CODE_ID,
            "billNo": bill_no,
            "billDate": now.date(),
            "totalAmount": 26,
        })
        .to_string()
    };
    // The demo app by default, and the same from the environment variables.
    for env in [vec![], demo_env()] {
        let body = body_for(&bill_no());
        let run = ums(&["sign", "-"], &env, Some(body.as_bytes()));
        run.expect_code(0);
        let header = run.stdout.trim_end();
        assert!(header.starts_with("OPEN-BODY-SIG AppId=\""), "{run:?}");
        let mut response = agent
            .post(&format!("{url}/v1/netpay/bills/update-qrcode"))
            .header("Content-Type", "application/json")
            .header("Authorization", header)
            .send(&body)
            .unwrap();
        let answer: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert_eq!(answer["errCode"], "SUCCESS", "{answer}");
    }

    // A header for other bytes than those sent is refused.
    let body = body_for(&bill_no());
    let run = ums(&["sign", "-"], &[], Some(format!("{body}\n").as_bytes()));
    let response = agent
        .post(&format!("{url}/v1/netpay/bills/update-qrcode"))
        .header("Content-Type", "application/json")
        .header("Authorization", run.stdout.trim_end())
        .send(&body)
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[test]
fn bad_timestamps_and_nonces_are_usage_errors() {
    for args in [
        &["sign", "--timestamp", "2017", "-"][..],
        &["sign", "--timestamp", "20171301120000", "-"],
        &["sign", "--timestamp", "2017-01-01 12:00", "-"],
        &["sign", "--nonce", "", "-"],
        &["sign", "--nonce", "a\"b", "-"],
        &["sign", "--nonce", "a,b", "-"],
        &["sign", "--nonce", "a b", "-"],
        &["sign", "--nonce", &"n".repeat(129), "-"],
        &["sign"],
        &["sign", "a", "b"],
    ] {
        let run = ums(args, &[], Some(b"{}"));
        run.expect_code(2);
        assert!(run.stderr.contains("ums sign"), "{run:?}");
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn local_errors_exit_5() {
    let run = ums(&["sign", "/nonexistent/body.json"], &[], None);
    run.expect_code(5);
    let run = ums(&["sign", "-"], &[("UMS_APP_ID", "only-an-id")], Some(b"{}"));
    run.expect_code(5);
    assert!(run.stderr.contains("appKey"), "{run:?}");
}
