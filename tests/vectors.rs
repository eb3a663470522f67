//! Every entry of `tests/data/vectors.json` (the known-good values of
//! docs/protocol.md; provenance in `tests/data/README.md`), used as it is,
//! through the Rust core and through the C ABI entry points. The file is
//! compiled in: without it this test does not build, so it can never pass
//! silently.

use chinaums::sign::{self, NotifySignType};
use serde_json::Value;
use std::ffi::{c_char, CString};
use ums::*;

fn vectors() -> Value {
    let text = include_str!("data/vectors.json");
    serde_json::from_str(text).expect("vectors.json parses")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector lacks {key}"))
}

#[test]
fn open_body_sig_vectors() {
    let all = vectors();
    let list = all["open_body_sig"].as_array().unwrap();
    assert!(!list.is_empty());
    for v in list {
        let body = s(v, "body_utf8").as_bytes();
        assert_eq!(
            sign::body_sha256_hex(body),
            s(v, "body_sha256_hex"),
            "{}",
            s(v, "name")
        );
        let sig = sign::open_body_signature(
            s(v, "app_id"),
            s(v, "app_key"),
            s(v, "timestamp"),
            s(v, "nonce"),
            body,
        );
        assert_eq!(sig, s(v, "signature"), "{}", s(v, "name"));
        if let Some(auth) = v["authorization"].as_str() {
            assert_eq!(
                sign::sign_body(
                    s(v, "app_id"),
                    s(v, "app_key"),
                    s(v, "timestamp"),
                    s(v, "nonce"),
                    body
                ),
                auth
            );
        }
        if let Some(wrong) = v["wrong_if_upper_case_digest"].as_str() {
            assert_ne!(sig, wrong);
            // The wrong value really is what an upper-case digest gives.
            use base64::Engine as _;
            use hmac::Mac as _;
            let upper = sign::body_sha256_hex(body).to_uppercase();
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(s(v, "app_key").as_bytes()).unwrap();
            mac.update(
                format!(
                    "{}{}{}{}",
                    s(v, "app_id"),
                    s(v, "timestamp"),
                    s(v, "nonce"),
                    upper
                )
                .as_bytes(),
            );
            let b64 = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            assert_eq!(b64, wrong);
        }
    }
}

#[test]
fn token_signature_vectors() {
    let all = vectors();
    for v in all["token_signature"].as_array().unwrap() {
        assert_eq!(s(v, "sign_method"), "SHA256");
        let sig = sign::token_signature(
            s(v, "app_id"),
            s(v, "app_key"),
            s(v, "timestamp"),
            s(v, "nonce"),
        );
        assert_eq!(sig, s(v, "signature"), "{}", s(v, "name"));
    }
}

/// Form-encodes a `params` vector with its expected sign appended.
fn params_form(v: &Value, sign_value: &str, sign_type: Option<&str>) -> String {
    let mut body = String::new();
    let params = v["params"].as_object().unwrap();
    let extra = sign_type.map(|t| ("signType".to_string(), Value::String(t.into())));
    for (k, val) in params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(extra)
    {
        chinaums::notify::form_encode_into(&mut body, &k);
        body.push('=');
        chinaums::notify::form_encode_into(&mut body, val.as_str().unwrap());
        body.push('&');
    }
    body.push_str("sign=");
    body.push_str(sign_value);
    body
}

#[test]
fn notify_vectors_in_rust() {
    let all = vectors();
    let list = all["notify_sign"].as_array().unwrap();
    assert!(list.len() >= 6);
    for v in list {
        let name = s(v, "name");
        let key = s(v, "key");
        if let Some(params) = v["params"].as_object() {
            let fields: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, x)| (k.as_str(), x.as_str().unwrap()))
                .collect();
            let string = sign::notify_string_to_sign(fields.iter().copied());
            if let Some(expected) = v["string_to_sign_without_key"].as_str() {
                assert_eq!(string, expected, "{name}");
            }
            if let Some(md5) = v["md5_upper"].as_str() {
                assert_eq!(
                    sign::notify_digest(NotifySignType::Md5, &string, key).to_uppercase(),
                    md5,
                    "{name}"
                );
                chinaums::notify::verify(key, params_form(v, md5, None).as_bytes()).expect(name);
            }
            if let Some(sha) = v["sha256_lower"].as_str() {
                assert_eq!(
                    sign::notify_digest(NotifySignType::Sha256, &string, key),
                    sha,
                    "{name}"
                );
            }
        }
        if let Some(body) = v["form_body"].as_str() {
            let result = chinaums::notify::verify(key, body.as_bytes());
            assert_eq!(
                result.is_ok(),
                v["valid"].as_bool().unwrap(),
                "{name}: {result:?}"
            );
        }
    }
}

fn call_out(f: impl FnOnce(*mut c_char, usize, *mut usize) -> UmsStatus) -> (UmsStatus, String) {
    let mut buf = vec![0u8; 16384];
    let mut len = 0usize;
    let status = f(buf.as_mut_ptr().cast(), buf.len(), &mut len);
    buf.truncate(len);
    (status, String::from_utf8(buf).unwrap())
}

fn ffi_client(app_id: &str, app_key: &str) -> *mut UmsClient {
    let config = CString::new(
        serde_json::json!({"environment": "https://gateway.invalid", "appId": app_id, "appKey": app_key}).to_string(),
    )
    .unwrap();
    let mut client = std::ptr::null_mut();
    let (status, doc) =
        call_out(|b, c, l| unsafe { ums_client_new(config.as_ptr(), &mut client, b, c, l) });
    assert_eq!(status, UMS_OK, "{doc}");
    client
}

#[test]
fn signing_vectors_through_the_c_abi() {
    let all = vectors();
    for v in all["open_body_sig"].as_array().unwrap() {
        let client = ffi_client(s(v, "app_id"), s(v, "app_key"));
        let body = s(v, "body_utf8");
        let ts = CString::new(s(v, "timestamp")).unwrap();
        let nonce = CString::new(s(v, "nonce")).unwrap();
        let (status, doc) = call_out(|b, c, l| unsafe {
            ums_sign_body(
                client,
                body.as_ptr(),
                body.len(),
                ts.as_ptr(),
                nonce.as_ptr(),
                b,
                c,
                l,
            )
        });
        assert_eq!(status, UMS_OK, "{doc}");
        let doc: Value = serde_json::from_str(&doc).unwrap();
        let expected = sign::open_body_authorization(
            s(v, "app_id"),
            s(v, "timestamp"),
            s(v, "nonce"),
            s(v, "signature"),
        );
        assert_eq!(doc["authorization"], expected.as_str());
        if let Some(auth) = v["authorization"].as_str() {
            assert_eq!(doc["authorization"], auth);
        }
        unsafe { ums_client_free(client) };
    }
    for v in all["token_signature"].as_array().unwrap() {
        let client = ffi_client(s(v, "app_id"), s(v, "app_key"));
        let ts = CString::new(s(v, "timestamp")).unwrap();
        let nonce = CString::new(s(v, "nonce")).unwrap();
        let (status, doc) = call_out(|b, c, l| unsafe {
            ums_token_request(client, ts.as_ptr(), nonce.as_ptr(), b, c, l)
        });
        assert_eq!(status, UMS_OK, "{doc}");
        let doc: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(doc["signature"], s(v, "signature"));
        assert_eq!(doc["signMethod"], "SHA256");
        unsafe { ums_client_free(client) };
    }
}

#[test]
fn notify_vectors_through_the_c_abi() {
    let all = vectors();
    for v in all["notify_sign"].as_array().unwrap() {
        let key = CString::new(s(v, "key")).unwrap();
        let mut bodies: Vec<(String, bool)> = Vec::new();
        if let Some(body) = v["form_body"].as_str() {
            bodies.push((body.to_string(), v["valid"].as_bool().unwrap()));
        }
        if let Some(md5) = v["md5_upper"].as_str() {
            bodies.push((params_form(v, md5, None), true));
            bodies.push((params_form(v, &md5.to_lowercase(), None), true));
        }
        if let Some(sha) = v["sha256_lower"].as_str() {
            bodies.push((params_form(v, sha, Some("SHA256")), false)); // signType is signed too
        }
        for (body, valid) in bodies {
            let (status, doc) = call_out(|b, c, l| unsafe {
                ums_verify_notify(key.as_ptr(), body.as_ptr(), body.len(), b, c, l)
            });
            let expected = if valid {
                UMS_OK
            } else {
                UMS_ERR_NOTIFY_BAD_SIGNATURE
            };
            assert_eq!(status, expected, "{}: {doc}", s(v, "name"));
            assert!(
                !doc.contains(s(v, "key")),
                "the key leaked into the document"
            );
        }
    }
}

#[test]
fn a_nonce_or_app_id_that_would_break_the_header_is_refused() {
    // Found by fuzzing: a comma in the nonce made a header no parser reads.
    let client = ffi_client("app", "key");
    let ts = CString::new("20260101080000").unwrap();
    for nonce in ["a,b", "a\"b", "a b"] {
        let nonce = CString::new(nonce).unwrap();
        let (status, doc) = call_out(|b, c, l| unsafe {
            ums_sign_body(
                client,
                std::ptr::null(),
                0,
                ts.as_ptr(),
                nonce.as_ptr(),
                b,
                c,
                l,
            )
        });
        assert_eq!(status, UMS_ERR_INVALID_ARGUMENT, "{doc}");
    }
    unsafe { ums_client_free(client) };
    let e = chinaums::Config::from_json(r#"{"environment":"test","appId":"a,b","appKey":"k"}"#)
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("appId"));
    // Every header the library makes parses back.
    let header = sign::sign_body("app", "key", "20260101080000", "n-1_2.3", b"{}");
    assert!(sign::parse_body_sig_header(&header).is_some());
}
