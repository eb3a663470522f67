//! Notification security (PROTOCOL.md §6), with the vectors.json bodies as
//! the starting point: every alteration an attacker could try is refused,
//! and only the case of the hex digits is free.

use ums::notify::verify;
use ums::ErrorKind;

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("data/vectors.json")).unwrap()
}

/// (key, body) of the valid SHA256 and MD5 form-body vectors.
fn valid_bodies() -> Vec<(String, String)> {
    vectors()["notify_sign"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["valid"] == true && v["form_body"].is_string())
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_string(),
                v["form_body"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sign_of(body: &str) -> &str {
    body.split('&')
        .find_map(|p| p.strip_prefix("sign="))
        .unwrap()
}

fn with_sign(body: &str, sign: &str) -> String {
    body.split('&')
        .map(|p| {
            if p.starts_with("sign=") {
                format!("sign={sign}")
            } else {
                p.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn bad_signature(key: &str, body: &str) -> bool {
    verify(key, body.as_bytes()).err().map(|e| e.kind) == Some(ErrorKind::NotifyBadSignature)
}

#[test]
fn both_vectors_verify_and_a_sign_case_variant_is_accepted() {
    let bodies = valid_bodies();
    assert_eq!(bodies.len(), 2, "one SHA256 and one MD5 vector");
    for (key, body) in &bodies {
        assert!(verify(key, body.as_bytes()).is_ok());
        let sign = sign_of(body);
        assert!(
            verify(key, with_sign(body, &sign.to_lowercase()).as_bytes()).is_ok(),
            "lower case"
        );
        assert!(
            verify(key, with_sign(body, &sign.to_uppercase()).as_bytes()).is_ok(),
            "upper case"
        );
    }
}

#[test]
fn the_sign_of_another_body_is_refused() {
    let bodies = valid_bodies();
    let (key0, body0) = &bodies[0];
    let (_, body1) = &bodies[1];
    assert!(bad_signature(key0, &with_sign(body0, sign_of(body1))));
}

#[test]
fn a_changed_amount_is_refused() {
    for (key, body) in valid_bodies() {
        let changed = body.replacen("totalAmount=1", "totalAmount=100", 1);
        assert_ne!(changed, body);
        assert!(bad_signature(&key, &changed));
    }
}

#[test]
fn an_extra_or_a_dropped_field_is_refused() {
    for (key, body) in valid_bodies() {
        assert!(
            bad_signature(&key, &format!("{body}&refundAmount=1")),
            "extra field"
        );
        // Dropping the random extra key (it is signed too).
        let dropped: Vec<&str> = body
            .split('&')
            .filter(|p| !p.starts_with("ns=") && !p.starts_with("gY="))
            .collect();
        assert!(
            bad_signature(&key, &dropped.join("&")),
            "dropped random key"
        );
        // Dropping an ordinary field.
        let dropped: Vec<&str> = body.split('&').filter(|p| !p.starts_with("mid=")).collect();
        assert!(bad_signature(&key, &dropped.join("&")), "dropped mid");
        // An extra field with an empty value is not signed: still valid.
        assert!(
            verify(&key, format!("{body}&emptyField=").as_bytes()).is_ok(),
            "empty values are dropped"
        );
    }
}

#[test]
fn a_wrong_key_is_refused() {
    for (key, body) in valid_bodies() {
        let mut wrong = key.clone();
        wrong.pop();
        wrong.push('X');
        assert!(bad_signature(&wrong, &body));
        assert!(bad_signature(&format!("{key} "), &body));
    }
}

#[test]
fn sign_type_is_signed_and_cannot_be_switched() {
    for (key, body) in valid_bodies() {
        let switched = if body.contains("signType=SHA256") {
            body.replace("signType=SHA256", "signType=MD5")
        } else {
            format!("{body}&signType=SHA256")
        };
        assert!(bad_signature(&key, &switched));
    }
}

#[test]
fn a_truncated_or_padded_sign_is_refused() {
    for (key, body) in valid_bodies() {
        let sign = sign_of(&body);
        assert!(bad_signature(
            &key,
            &with_sign(&body, &sign[..sign.len() - 1])
        ));
        assert!(bad_signature(&key, &with_sign(&body, &format!("{sign}0"))));
        assert!(bad_signature(
            &key,
            &with_sign(&body, &"0".repeat(sign.len()))
        ));
    }
}
