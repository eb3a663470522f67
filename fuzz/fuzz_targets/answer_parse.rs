//! `chinaums::client::classify_answer` on an arbitrary (HTTP status, body).
//!
//! Input: when it starts with three ASCII digits they are the status (so
//! seeds read `200{"errCode":"SUCCESS"}`); otherwise the first two bytes are
//! the status (little-endian) and the rest the body.
//!
//! Invariants (checked against an independent reading of the body):
//! - never panics;
//! - SUCCESS (Ok) exactly when the status is 200 and the body is a UTF-8
//!   JSON object whose `errCode` is the string "SUCCESS"; then the answer's
//!   text is the body, byte for byte;
//! - otherwise the error is GatewayRejected or OutcomeUnknown, carries the
//!   HTTP status and the body's errCode, and is classified as documented:
//!   401/403 rejected; an outcome-unknown errCode (TIMEOUT, ...) unknown
//!   whatever the status; other 4xx rejected; 200 without errCode, and every
//!   other status (1xx, 2xx but 200, 3xx, 5xx, ...) unknown.
#![no_main]

use chinaums::client::{classify_answer, OUTCOME_UNKNOWN_CODES};
use chinaums::transport::HttpAnswer;
use chinaums::ErrorKind;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn split(data: &[u8]) -> Option<(u16, &[u8])> {
    if data.len() >= 3 && data[..3].iter().all(u8::is_ascii_digit) {
        let s = std::str::from_utf8(&data[..3]).ok()?.parse().ok()?;
        return Some((s, &data[3..]));
    }
    if data.len() < 2 {
        return None;
    }
    Some((u16::from_le_bytes([data[0], data[1]]), &data[2..]))
}

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = split(data) else {
        return;
    };
    // An answer that repeats a key is not trusted: no usable answer.
    let parsed: Option<Value> = std::str::from_utf8(body)
        .ok()
        .and_then(|t| chinaums::json::parse_value(t).ok())
        .filter(Value::is_object);
    let err_code: Option<String> = parsed
        .as_ref()
        .and_then(|v| v.get("errCode"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let success = status == 200 && err_code.as_deref() == Some("SUCCESS");

    let result = classify_answer(HttpAnswer {
        status,
        body: body.to_vec(),
    });
    match result {
        Ok(answer) => {
            assert!(success, "SUCCESS for HTTP {status}, errCode {err_code:?}");
            assert_eq!(
                answer.text.as_bytes(),
                body,
                "the answer text is not the body as received"
            );
            assert_eq!(answer.value["errCode"], "SUCCESS");
        }
        Err(e) => {
            assert!(
                !success,
                "HTTP 200 with errCode SUCCESS was not a success: {e}"
            );
            assert_eq!(e.http_status, Some(status));
            assert_eq!(e.err_code, err_code);
            let expected = match (status, err_code.as_deref()) {
                // The authentication was refused: nothing was processed.
                (401 | 403, _) => ErrorKind::GatewayRejected,
                // TIMEOUT & co. whatever the status (a gateway may answer
                // TIMEOUT with 400 or 504): the work may have been done.
                (_, Some(c)) if OUTCOME_UNKNOWN_CODES.contains(&c) => ErrorKind::OutcomeUnknown,
                (200, Some(_)) => ErrorKind::GatewayRejected,
                (200, None) => ErrorKind::OutcomeUnknown,
                (400..=499, _) => ErrorKind::GatewayRejected,
                _ => ErrorKind::OutcomeUnknown,
            };
            assert_eq!(e.kind, expected, "HTTP {status}, errCode {err_code:?}: {e}");
            assert_eq!(
                e.is_outcome_unknown(),
                expected == ErrorKind::OutcomeUnknown
            );
            assert!(
                !e.kind.nothing_sent(),
                "an answer came back: something was sent"
            );
            let doc = e.to_json().to_string();
            assert!(serde_json::from_str::<Value>(&doc).is_ok());
        }
    }
});
