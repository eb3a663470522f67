//! `chinaums::notify::verify` on arbitrary bytes, with the demo notification key
//! (so the vectors.json bodies in the seeds verify, and mutations start from
//! valid notifications).
//!
//! Invariants:
//! - never panics; errors are notification kinds only;
//! - on Ok: the verified fields re-signed with `sign_form` verify again to
//!   the same fields and sign type; another key does not verify them;
//!   `to_json` works;
//! - a second, constructive path reaches Ok on every input: when the bytes
//!   are a well-formed form, its fields (without `sign`) are signed with
//!   `sign_form` for the sign type their `signType` names, and that body must
//!   verify to exactly those fields.
#![no_main]

use chinaums::notify::{parse_form, sign_form, verify, VerifiedNotification, MAX_NOTIFY_BYTES};
use chinaums::sign::NotifySignType;
use chinaums::ErrorKind;
use libfuzzer_sys::fuzz_target;

const KEY: &str = ums_fuzz::demo::NOTIFY_KEY;
const OTHER_KEY: &str = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRX";

fn resign_and_verify(
    fields: &[(String, String)],
    sign_type: NotifySignType,
) -> Option<VerifiedNotification> {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = sign_form(KEY, sign_type, &borrowed);
    if body.len() > MAX_NOTIFY_BYTES {
        // Percent-encoding can triple the size: too large is a legitimate refusal.
        assert_eq!(
            verify(KEY, body.as_bytes()).unwrap_err().kind,
            ErrorKind::NotifyMalformed
        );
        return None;
    }
    let v = verify(KEY, body.as_bytes()).unwrap_or_else(|e| {
        panic!("a body signed by sign_form does not verify: {e}\nbody: {body:?}")
    });
    assert_eq!(v.sign_type, sign_type);
    assert_eq!(v.fields, fields, "re-signed fields differ\nbody: {body:?}");
    let other = verify(OTHER_KEY, body.as_bytes()).unwrap_err();
    assert_eq!(other.kind, ErrorKind::NotifyBadSignature);
    Some(v)
}

fuzz_target!(|data: &[u8]| {
    match verify(KEY, data) {
        Ok(v) => {
            assert!(v.fields.iter().all(|(k, _)| k != "sign" && !k.is_empty()));
            let doc = v.to_json();
            assert_eq!(doc["valid"], true);
            assert!(serde_json::from_str::<serde_json::Value>(&doc.to_string()).is_ok());
            resign_and_verify(&v.fields, v.sign_type);
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind,
                    ErrorKind::NotifyBadSignature
                        | ErrorKind::NotifyMissingSign
                        | ErrorKind::NotifyUnknownSignType
                        | ErrorKind::NotifyDuplicateField
                        | ErrorKind::NotifyMalformed
                ),
                "unexpected error kind {:?}: {e}",
                e.kind
            );
            let _ = e.to_json().to_string();
        }
    }

    // Constructive path: sign what was parsed, then it must verify.
    if let Ok(pairs) = parse_form(data) {
        let fields: Vec<(String, String)> =
            pairs.into_iter().filter(|(k, _)| k != "sign").collect();
        let sign_type_field = fields
            .iter()
            .find(|(k, _)| k == "signType")
            .map(|(_, v)| v.as_str());
        match NotifySignType::from_field(sign_type_field) {
            Some(t) => {
                if let Some(v) = resign_and_verify(&fields, t) {
                    let _ = v.to_json().to_string();
                }
            }
            None => {
                let borrowed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let body = sign_form(KEY, NotifySignType::Sha256, &borrowed);
                if body.len() <= MAX_NOTIFY_BYTES {
                    assert_eq!(
                        verify(KEY, body.as_bytes()).unwrap_err().kind,
                        ErrorKind::NotifyUnknownSignType
                    );
                }
            }
        }
    }
});
