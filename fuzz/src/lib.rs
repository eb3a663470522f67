//! Helpers shared by the fuzz targets: clients built once, a fixed "now", and
//! checks of the documents the C ABI writes.
//!
//! No client built here ever touches the network: `prepare` does not send,
//! and the environments are `https://gateway.invalid` (never resolved by the
//! targets) or a loopback port (a call that wrongly tries to send fails fast
//! and locally, and the target's status check reports it).

use chinaums::clock::BeijingTime;
use chinaums::config::Environment;
use chinaums::Client;
use serde_json::Value;
use std::sync::OnceLock;

/// The public demo app of the `ums-sandbox` simulator (its constants only;
/// the fuzz clients use it at [`GATEWAY`], so no target runs the simulator).
pub use ums_sandbox::demo;

/// The base URL of every fuzz client: `.invalid` is never a real host.
pub const GATEWAY: &str = "https://gateway.invalid";

/// Whether `host` (as a URI gives it, IPv6 in brackets) is a loopback host.
pub fn is_loopback(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a client with this environment can only ever reach this machine
/// or nothing: a base URL whose host is loopback or under `.invalid` (RFC
/// 6761). `production`, `test` and any other host could be a real gateway.
pub fn is_offline(environment: &Environment) -> bool {
    let Environment::Url(base) = environment else {
        return false;
    };
    let Ok(uri) = base.parse::<ureq::http::Uri>() else {
        return false;
    };
    uri.host().is_some_and(|h| {
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        is_loopback(&h) || h == "invalid" || h.ends_with(".invalid")
    })
}

/// A config with the demo app, mid and tid, at [`GATEWAY`]; `extra` is
/// spliced into the object (e.g. `,"realNameInput":"base64"`).
pub fn config_json(environment: &str, extra: &str) -> String {
    format!(
        r#"{{"environment":"{environment}","appId":"{}","appKey":"{}","mid":"{}","tid":"{}","msgSrcId":"{}"{extra}}}"#,
        demo::APP_ID,
        demo::APP_KEY,
        demo::MID,
        demo::TID,
        demo::MSG_SRC_ID,
    )
}

/// The client with `realNameInput` `"plain"` (the default).
pub fn plain_client() -> &'static Client {
    static C: OnceLock<Client> = OnceLock::new();
    C.get_or_init(|| Client::from_json(&config_json(GATEWAY, "")).expect("plain client"))
}

/// The client with `realNameInput` `"base64"`.
pub fn base64_client() -> &'static Client {
    static C: OnceLock<Client> = OnceLock::new();
    C.get_or_init(|| {
        Client::from_json(&config_json(GATEWAY, r#","realNameInput":"base64""#))
            .expect("base64 client")
    })
}

/// A fixed instant (2026-01-01 08:00:00 Beijing time) for reproducible defaults.
pub fn fixed_now() -> BeijingTime {
    BeijingTime::from_unix_millis(1_767_225_600_000)
}

/// The name of a status, or None when it is not one of the documented values.
pub fn documented_status_name(status: i32) -> Option<&'static str> {
    ums::status::ALL
        .iter()
        .find(|(v, _, _)| *v == status)
        .map(|(_, name, _)| *name)
}

/// Checks an error document as the C ABI writes it: a JSON object whose
/// `status` names `status`, with `kind`, `message`, `outcomeUnknown` and
/// `nothingSent`; a config or validation error also names its `field`.
pub fn check_error_doc(status: i32, doc: &str) -> Value {
    let v: Value = serde_json::from_str(doc)
        .unwrap_or_else(|e| panic!("error document is not JSON ({e}): {doc:?}"));
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("error document is not an object: {doc:?}"));
    assert_eq!(
        obj.get("status").and_then(Value::as_str),
        documented_status_name(status),
        "error document's status does not name the returned status {status}: {doc:?}"
    );
    assert!(
        obj.get("kind").is_some_and(Value::is_string),
        "no kind: {doc:?}"
    );
    assert!(
        obj.get("message").is_some_and(Value::is_string),
        "no message: {doc:?}"
    );
    assert!(
        obj.get("outcomeUnknown").is_some_and(Value::is_boolean),
        "no outcomeUnknown: {doc:?}"
    );
    assert!(
        obj.get("nothingSent").is_some_and(Value::is_boolean),
        "no nothingSent: {doc:?}"
    );
    if status == ums::UMS_ERR_CONFIG || status == ums::UMS_ERR_VALIDATION {
        assert!(
            obj.get("field").is_some_and(Value::is_string),
            "config/validation error without field: {doc:?}"
        );
    }
    v
}

/// The first key that appears twice in one object of `text` (valid JSON),
/// decoded. An implementation independent of the library's.
pub fn repeated_key(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text).ok()?;
    let bytes = text.as_bytes();
    // Per open container: Some(keys seen) for an object, None for an array.
    let mut stack: Vec<Option<Vec<String>>> = Vec::new();
    let mut want_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push(Some(Vec::new()));
                want_key = true;
            }
            b'[' => {
                stack.push(None);
                want_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                want_key = false;
            }
            b',' => want_key = matches!(stack.last(), Some(Some(_))),
            b':' => want_key = false,
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if want_key {
                    let key: String = serde_json::from_str(&text[start..=i]).ok()?;
                    if let Some(Some(keys)) = stack.last_mut() {
                        if keys.contains(&key) {
                            return Some(key);
                        }
                        keys.push(key);
                    }
                    want_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}
