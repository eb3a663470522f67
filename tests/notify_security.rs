//! Notification security (docs/protocol.md §6), with the vectors.json bodies as
//! the starting point: every alteration an attacker could try is refused,
//! and only the case of the hex digits is free.

use chinaums::notify::verify;
use chinaums::ErrorKind;

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

/// `notifySignTypes: ["SHA256"]` refuses the valid MD5 vector before any
/// digest is compared, and still accepts the valid SHA256 one; the default
/// accepts both (the spec allows both).
#[test]
fn a_client_can_accept_only_sha256_notifications() {
    let client_with = |key: &str, types: Option<serde_json::Value>| {
        let mut config = serde_json::json!({
            "environment": "http://127.0.0.1:9",
            "appId": "app",
            "appKey": "k",
            "notifyKey": key,
        });
        if let Some(t) = types {
            config["notifySignTypes"] = t;
        }
        chinaums::Client::from_json(&config.to_string()).unwrap()
    };
    let mut seen = (0, 0);
    for (key, body) in valid_bodies() {
        let md5 = chinaums::notify::verify(&key, body.as_bytes())
            .unwrap()
            .sign_type
            == chinaums::sign::NotifySignType::Md5;
        let strict = client_with(&key, Some(serde_json::json!(["SHA256"])));
        let lenient = client_with(&key, None);
        assert!(lenient.verify_notification(body.as_bytes()).is_ok());
        match strict.verify_notification(body.as_bytes()) {
            Ok(_) => {
                assert!(!md5);
                seen.1 += 1;
            }
            Err(e) => {
                assert!(md5, "{e}");
                assert_eq!(e.kind, ErrorKind::NotifyUnknownSignType);
                assert!(e.message.contains("notifySignTypes"), "{}", e.message);
                seen.0 += 1;
            }
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "both kinds covered: {seen:?}");
    for bad in [
        serde_json::json!([]),
        serde_json::json!(["MD5"]),
        serde_json::json!(["SHA1", "SHA256"]),
        serde_json::json!("SHA256"),
    ] {
        let config = serde_json::json!({
            "environment": "http://127.0.0.1:9", "appId": "app", "appKey": "k",
            "notifySignTypes": bad,
        });
        let e = chinaums::Client::from_json(&config.to_string()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("notifySignTypes"), "{bad}");
    }
}
