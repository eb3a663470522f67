//! `chinaums::Config::from_json` on arbitrary UTF-8 text.
//!
//! Invariants:
//! - never panics;
//! - an error is Config (with a `field`) or InvalidJson;
//! - secrets do not leak: when the text is a JSON object with a string
//!   `appKey` (or `notifyKey`), the same config with that value replaced by
//!   another of the same length (the only property of a key the parser may
//!   look at) must give the same outcome, the same error document and
//!   message, or the same `Debug` text of the config. So a message, document
//!   or `Debug` output that showed the key would differ; and, stated
//!   directly, no error message contains the key unless the replaced run's
//!   message contains it too (a coincidence, e.g. a key "config");
//! - an accepted base URL (`environment` other than "production" and "test")
//!   is one
//!   the HTTP stack can use: the URL of every operation parses as a URI
//!   (ureq's parser, the `http` crate's) with the same scheme, no user info,
//!   and, for `http://`, a loopback host (README: "`http://` only for
//!   loopback hosts"). Otherwise a bad config would only show as a failure
//!   of every call instead of a config error naming `environment`.
#![no_main]

use chinaums::config::Environment;
use chinaums::{Config, ErrorKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use ums_fuzz::is_loopback;
use ureq::http::Uri;

fn check_base_url(base: &str) {
    for op in chinaums::ops::ALL {
        let url = format!("{base}{}", op.path);
        let uri: Uri = url.parse().unwrap_or_else(|e| {
            panic!("accepted base URL {base:?} gives an invalid request URL {url:?}: {e}")
        });
        let scheme = uri.scheme_str().unwrap_or_default();
        assert!(
            base.starts_with(&format!("{scheme}://")),
            "{base:?} parsed with scheme {scheme:?}"
        );
        let authority = uri.authority().expect("a base URL has an authority");
        assert!(!authority.as_str().contains('@'), "user info in {base:?}");
        assert_eq!(uri.path(), op.path, "{base:?}: the path moved");
        if scheme == "http" {
            let host = uri.host().unwrap_or_default();
            assert!(
                is_loopback(host),
                "http:// accepted for the non-loopback host {host:?} in {base:?}"
            );
        } else {
            assert_eq!(scheme, "https", "{base:?}");
        }
    }
}

fn same_length_other(secret: &str) -> String {
    let n = secret.chars().count();
    let fill = if secret.chars().all(|c| c == 'x') && n > 0 {
        'y'
    } else {
        'x'
    };
    std::iter::repeat(fill).take(n).collect()
}

/// `text` (valid JSON) with every string value of the top-level key `key`
/// replaced by another string of the same length; everything else is kept
/// byte for byte (repeated keys, nesting, number spellings). Returns the new
/// text and the replaced values.
fn replace_top_level_values(text: &str, key: &str) -> (String, Vec<String>) {
    let bytes = text.as_bytes();
    let (mut out, mut secrets) = (String::with_capacity(text.len()), Vec::new());
    let (mut depth, mut expect_key, mut last_key) = (0usize, false, String::new());
    let (mut i, mut copied) = (0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && bytes[i] == b'{';
            }
            b'}' | b']' => depth -= 1,
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if depth == 1 {
                    let decoded: String =
                        serde_json::from_str(&text[start..=i]).expect("a JSON string");
                    if expect_key {
                        last_key = decoded;
                        expect_key = false;
                    } else if last_key == key {
                        out.push_str(&text[copied..start]);
                        out.push_str(&Value::String(same_length_other(&decoded)).to_string());
                        copied = i + 1;
                        secrets.push(decoded);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    (out, secrets)
}

fn check_secret(original_text: &str, original: &chinaums::Result<Config>, key: &str) {
    let (replaced_text, secrets) = replace_top_level_values(original_text, key);
    if secrets.is_empty() {
        return;
    }
    let replaced = Config::from_json(&replaced_text);
    match (original, &replaced) {
        (Ok(a), Ok(b)) => {
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "Debug depends on {key}");
        }
        (Err(a), Err(b)) => {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                assert!(
                    !a.message.contains(secret.as_str()) || b.message.contains(secret.as_str()),
                    "the error message shows {key}: {}",
                    a.message
                );
            }
            assert_eq!(a.to_json(), b.to_json(), "the error document depends on {key}");
            assert_eq!(a.to_string(), b.to_string());
        }
        _ => panic!(
            "the outcome depends on the content of {key}\noriginal: {original_text}\nreplaced: {replaced_text}"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let result = Config::from_json(text);
    if let Ok(Config {
        environment: Environment::Url(base),
        ..
    }) = &result
    {
        check_base_url(base);
    }
    if let Err(e) = &result {
        match e.kind {
            ErrorKind::Config => assert!(e.field.is_some(), "config error without field: {e}"),
            ErrorKind::InvalidJson => {}
            other => panic!("unexpected error kind {other:?}: {e}"),
        }
        let _ = e.to_json().to_string();
    }
    if let Ok(Value::Object(_)) = serde_json::from_str::<Value>(text) {
        check_secret(text, &result, "appKey");
        check_secret(text, &result, "notifyKey");
    }
});
