//! `Client::prepare_call` for every operation of `chinaums::ops::ALL` (and one
//! unknown `/v1/...` path, sent as given) on arbitrary UTF-8 text.
//!
//! Invariants:
//! - never panics;
//! - an error is Validation (naming its `field`), InvalidJson or
//!   InvalidArgument, and its JSON document serialises;
//! - on Ok the body is a JSON object, the path is the operation's and the URL
//!   is base + path;
//! - idempotence: preparing the prepared body again gives the same bytes;
//! - no repeated key is accepted anywhere (src/json.rs: "refuses a repeated
//!   key at any depth", so that a request cannot silently pick one of two
//!   amounts): not in the request text, and not in the JSON text that
//!   `goods`, `retCommParams` and `subMchntInfo` may hold as strings, which
//!   the client parses and sends as JSON.
//!
//! Idempotence is checked with the re-preparation done by a client whose
//! `realNameInput` is `"base64"`. With `"plain"`, the client Base64-encodes
//! `name`, `mobile` and `certNo` on every pass, so preparing twice encodes
//! twice: that is the documented meaning of `"plain"`, not a bug. The first
//! pass runs with both settings; the second always with `"base64"`, which
//! checks those fields are Base64 and leaves them as they are. Every other
//! normalisation (amount strings to integers, `goods`/`retCommParams` text to
//! JSON, `subMchntInfo` object to text, defaults only where absent, the
//! `{"data":{..}}` envelope) must be a fixed point after one pass.
#![no_main]

use chinaums::client::MAX_REQUEST_BYTES;
use chinaums::ops::Operation;
use chinaums::{Client, ErrorKind};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use ums_fuzz::{base64_client, fixed_now, plain_client, repeated_key, GATEWAY};

/// Fields whose string values hold JSON the client parses.
const JSON_TEXT_FIELDS: &[&str] = &["goods", "retCommParams", "subMchntInfo"];

/// A repeated key the accepted request `text` carries in a JSON-text field.
fn repeated_key_in_json_text(op: &Operation, text: &str) -> Option<(String, String)> {
    let Ok(Value::Object(mut request)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    if request.len() == 1 {
        if let Some(Value::Object(inner)) = request.get("data") {
            request = inner.clone();
        }
    }
    JSON_TEXT_FIELDS
        .iter()
        .filter(|f| op.has_field(f))
        .filter_map(|f| match request.get(*f) {
            Some(Value::String(s)) => repeated_key(s).map(|k| (f.to_string(), k)),
            _ => None,
        })
        .next()
}

const UNKNOWN_PATH: &str = "/v1/netpay/fuzz/unknown-path";

fn check(
    first: &Client,
    again: &Client,
    operation: &str,
    op: Option<&Operation>,
    expected_path: &str,
    text: &str,
) {
    let now = fixed_now();
    match first.prepare_call(operation, text, now) {
        Ok(p) => {
            if let Some(k) = repeated_key(text) {
                panic!("{operation}: accepted a request that repeats the key `{k}`");
            }
            if let Some((field, k)) = op.and_then(|op| repeated_key_in_json_text(op, text)) {
                panic!("{operation}: accepted `{field}` whose JSON text repeats the key `{k}`");
            }
            assert_eq!(p.path, expected_path);
            assert_eq!(p.url, format!("{GATEWAY}{expected_path}"));
            let body: Value = serde_json::from_slice(&p.body)
                .unwrap_or_else(|e| panic!("{operation}: prepared body is not JSON: {e}"));
            assert!(body.is_object(), "{operation}: body is not an object");
            let body_text = std::str::from_utf8(&p.body).expect("the prepared body is UTF-8");
            if body_text.len() > MAX_REQUEST_BYTES {
                return; // too large to be a request again: a legitimate refusal
            }
            let twice = again
                .prepare_call(operation, body_text, now)
                .unwrap_or_else(|e| {
                    panic!(
                        "{operation}: re-preparing the prepared body fails: {e}\nbody: {body_text}"
                    )
                });
            assert_eq!(
                String::from_utf8_lossy(&twice.body),
                body_text,
                "{operation}: preparing is not idempotent"
            );
            assert_eq!(twice.money_moving, p.money_moving);
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind,
                    ErrorKind::Validation | ErrorKind::InvalidJson | ErrorKind::InvalidArgument
                ),
                "{operation}: unexpected error kind {:?}: {e}",
                e.kind
            );
            if e.kind == ErrorKind::Validation {
                assert!(
                    e.field.is_some(),
                    "{operation}: validation error without field: {e}"
                );
            }
            let doc = e.to_json().to_string();
            assert!(serde_json::from_str::<Value>(&doc).is_ok());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (plain, b64) = (plain_client(), base64_client());
    for op in chinaums::ops::ALL {
        check(plain, b64, op.name, Some(op), op.path, text);
        check(b64, b64, op.name, Some(op), op.path, text);
    }
    check(plain, plain, UNKNOWN_PATH, None, UNKNOWN_PATH, text);
});
