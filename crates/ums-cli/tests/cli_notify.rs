//! `ums verify-notify`: every notify_sign form_body of vectors.json, signed
//! forms of both digests, malformed bodies, and where the key comes from.

#[path = "cli_support.rs"]
mod support;

use chinaums::notify::sign_form;
use chinaums::sign::NotifySignType;
use serde_json::Value;
use support::*;
use ums_sandbox::demo;

const KEY: &str = "notify-key-for-cli-tests-0001";

#[test]
fn every_form_body_vector_verifies_as_expected() {
    let all = vectors();
    let dir = TempDir::create();
    let mut seen = 0;
    for (i, v) in all["notify_sign"].as_array().unwrap().iter().enumerate() {
        let Some(body) = v["form_body"].as_str() else {
            continue;
        };
        seen += 1;
        let name = v["name"].as_str().unwrap();
        let key = v["key"].as_str().unwrap();
        let valid = v["valid"].as_bool().unwrap();
        let body_file = dir.file(&format!("body{i}"), body);
        let key_file = dir.file(&format!("key{i}"), format!("{key}\n"));
        let runs = [
            ums(
                &["verify-notify", "--key-file", &key_file, &body_file],
                &[],
                None,
            ),
            ums(
                &["verify-notify", "-"],
                &[("UMS_NOTIFY_KEY", key), ("UMS_ENVIRONMENT", "production")],
                Some(body.as_bytes()),
            ),
            ums(
                &["verify-notify", "--key-env", "MY_NOTIFY_KEY", &body_file],
                &[("MY_NOTIFY_KEY", key)],
                None,
            ),
        ];
        for run in runs {
            if valid {
                run.expect_code(0);
                let (first, rest) = run.stdout.split_once('\n').unwrap();
                assert!(
                    first == "valid (SHA256)" || first == "valid (MD5)",
                    "{name}: {run:?}"
                );
                let doc: Value = serde_json::from_str(rest).unwrap();
                assert_eq!(doc["valid"], true);
                assert!(doc["notifyId"].is_string(), "{name}");
                assert!(doc["fields"]["mid"].is_string(), "{name}");
                assert!(doc["fields"].get("sign").is_none(), "{name}");
            } else {
                run.expect_code(6);
                assert!(
                    run.stdout.starts_with("invalid: bad signature"),
                    "{name}: {run:?}"
                );
            }
            assert!(
                !run.stdout.contains(key) && !run.stderr.contains(key),
                "{name}"
            );
        }
    }
    assert!(seen >= 4, "vectors.json has form bodies");
}

#[test]
fn both_digests_are_named_and_json_fields_parsed() {
    let fields = [
        (
            "billPayment",
            r#"{"totalAmount":1,"status":"TRADE_SUCCESS","x":"a=b&c"}"#,
        ),
        ("notifyId", "n-1"),
        ("mid", demo::MID),
        ("gY", "Snwz"),
        ("empty", ""),
    ];
    let md5 = sign_form(KEY, NotifySignType::Md5, &fields);
    let mut with_type = fields.to_vec();
    with_type.push(("signType", "SHA256"));
    let sha = sign_form(KEY, NotifySignType::Sha256, &with_type);
    for (body, expected) in [(md5, "valid (MD5)"), (sha, "valid (SHA256)")] {
        let run = ums(
            &["verify-notify", "-"],
            &[("UMS_NOTIFY_KEY", KEY)],
            Some(body.as_bytes()),
        );
        run.expect_code(0);
        let (first, rest) = run.stdout.split_once('\n').unwrap();
        assert_eq!(first, expected);
        let doc: Value = serde_json::from_str(rest).unwrap();
        assert_eq!(doc["notifyId"], "n-1");
        assert_eq!(doc["fields"]["billPayment"]["x"], "a=b&c");
        // Tampered: one field changed.
        let tampered = body.replace("mid=898340149000005", "mid=898340149000006");
        let run = ums(
            &["verify-notify", "-"],
            &[("UMS_NOTIFY_KEY", KEY)],
            Some(tampered.as_bytes()),
        );
        run.expect_code(6);
        assert!(run.stdout.starts_with("invalid: bad signature"), "{run:?}");
    }
}

#[test]
fn malformed_bodies_are_invalid_with_their_reason() {
    let big = format!("a={}&sign=00", "x".repeat(70_000));
    let cases: &[(&[u8], &str)] = &[
        (b"a=1&b", "invalid: not a form"),
        (b"a=%zz&sign=00", "invalid: not a form"),
        (b"a=%ff&sign=00", "invalid: not a form"),
        (b"\xff=1&sign=00", "invalid: not a form"),
        (b"", "invalid: not a form"),
        (b"=1&sign=00", "invalid: not a form"),
        (big.as_bytes(), "invalid: not a form"),
        (b"a=1&a=2&sign=00", "invalid: duplicate field"),
        (b"a=1", "invalid: missing sign"),
        (b"a=1&sign=", "invalid: missing sign"),
        (b"a=1&signType=RSA&sign=00", "invalid: unknown signType"),
        (b"a=1&sign=00", "invalid: bad signature"),
        (b"{\"a\":1}", "invalid: not a form"),
    ];
    for (body, expected) in cases {
        let run = ums(
            &["verify-notify", "-"],
            &[("UMS_NOTIFY_KEY", KEY)],
            Some(body),
        );
        run.expect_code(6);
        assert!(
            run.stdout.starts_with(expected),
            "{:?}: {run:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
        assert_eq!(run.stdout.lines().count(), 1);
    }
}

#[test]
fn the_key_never_comes_from_argv_and_must_exist() {
    let body = sign_form(KEY, NotifySignType::Md5, &[("a", "1")]);
    // Default environment (sandbox): the public demo key, with a note.
    let demo_body = sign_form(demo::NOTIFY_KEY, NotifySignType::Md5, &[("a", "1")]);
    let run = ums(&["verify-notify", "-"], &[], Some(demo_body.as_bytes()));
    run.expect_code(0);
    assert!(run.stderr.contains("demo key"), "{run:?}");
    // A real environment without a key: a local error.
    let run = ums(
        &["verify-notify", "-"],
        &[("UMS_ENVIRONMENT", "production")],
        Some(body.as_bytes()),
    );
    run.expect_code(5);
    assert!(run.stderr.contains("notifyKey"), "{run:?}");
    // The key from a config file.
    let dir = TempDir::create();
    let config = dir.file(
        "config.json",
        serde_json::json!({"environment": "production", "notifyKey": KEY}).to_string(),
    );
    let run = ums(
        &["--config", &config, "verify-notify", "-"],
        &[],
        Some(body.as_bytes()),
    );
    run.expect_code(0);
    assert!(run.stdout.starts_with("valid (MD5)\n"));
    // --key-env naming an unset variable, an unreadable or empty key file.
    let empty = dir.file("empty", "\n");
    for args in [
        &["verify-notify", "--key-env", "UMS_TEST_SURELY_UNSET", "-"][..],
        &["verify-notify", "--key-file", "/nonexistent/key", "-"],
        &["verify-notify", "--key-file", &empty, "-"],
    ] {
        ums(args, &[], Some(body.as_bytes())).expect_code(5);
    }
    // An unreadable body.
    ums(
        &["verify-notify", "/nonexistent/body"],
        &[("UMS_NOTIFY_KEY", KEY)],
        None,
    )
    .expect_code(5);
    // There is no option that takes the key itself.
    for args in [
        &["verify-notify", "--key", KEY, "-"][..],
        &["verify-notify", "--notify-key", KEY, "-"],
        &["verify-notify", "--key-file", "a", "--key-env", "B", "-"],
        &["verify-notify"],
        &["verify-notify", "a", "b"],
    ] {
        let run = ums(args, &[], Some(body.as_bytes()));
        run.expect_code(2);
        assert!(!run.stderr.contains(KEY), "{run:?}");
    }
}
