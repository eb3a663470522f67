//! Payment notifications (docs/protocol.md §6): parse the raw form body exactly as
//! received, sign whatever arrived (the random extra key and `signType`
//! included, empty values dropped), and compare in constant time.

use crate::error::{Error, ErrorKind, Result};
use crate::sign::{self, NotifySignType};
use serde_json::{Map, Value};

/// Fields whose values are JSON text; the verified document carries them parsed.
const JSON_TEXT_FIELDS: &[&str] = &[
    "billPayment",
    "refundBillPayment",
    "authedBillPayment",
    "cancelBillPayment",
    "goods",
    "subOrders",
    "retCommParams",
];

/// Largest notification body accepted.
pub const MAX_NOTIFY_BYTES: usize = 64 * 1024;

/// A verified notification.
#[derive(Debug, Clone)]
pub struct VerifiedNotification {
    pub sign_type: NotifySignType,
    /// Every received field except `sign`, in arrival order, values decoded.
    pub fields: Vec<(String, String)>,
}

impl VerifiedNotification {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `{"signType":..,"notifyId":..,"fields":{..}}` with JSON-text fields parsed.
    pub fn to_json(&self) -> Value {
        let mut fields = Map::new();
        for (k, v) in &self.fields {
            let value = if JSON_TEXT_FIELDS.contains(&k.as_str()) {
                serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()))
            } else {
                Value::String(v.clone())
            };
            fields.insert(k.clone(), value);
        }
        let mut doc = Map::new();
        doc.insert("valid".into(), true.into());
        doc.insert("signType".into(), self.sign_type.as_str().into());
        if let Some(id) = self.get("notifyId") {
            doc.insert("notifyId".into(), id.into());
        }
        doc.insert("fields".into(), Value::Object(fields));
        Value::Object(doc)
    }
}

/// Verifies a raw `application/x-www-form-urlencoded` notification body,
/// accepting both MD5 and SHA256 signatures (docs/protocol.md §6).
pub fn verify(notify_key: &str, body: &[u8]) -> Result<VerifiedNotification> {
    verify_with(notify_key, body, true)
}

/// As [`verify`]; with `accept_md5` false an MD5-signed notification (or one
/// without `signType`, which means MD5) is refused before any digest is made.
pub fn verify_with(
    notify_key: &str,
    body: &[u8],
    accept_md5: bool,
) -> Result<VerifiedNotification> {
    if notify_key.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the notification key must not be empty",
        ));
    }
    if body.len() > MAX_NOTIFY_BYTES {
        return Err(Error::new(
            ErrorKind::NotifyMalformed,
            format!("the notification body is larger than {MAX_NOTIFY_BYTES} bytes"),
        ));
    }
    let mut pairs = parse_pairs(body)?;
    // One sort by name serves both the duplicate check and the string to
    // sign (fields sorted by name), instead of a hash set plus a second sort.
    let order = sorted_by_name(&pairs);
    if let Some(i) = first_repeat(&pairs, &order) {
        return Err(duplicate_field(&pairs[i].0));
    }
    let sign_at = pairs
        .iter()
        .position(|(k, v)| k == "sign" && !v.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::NotifyMissingSign,
                "the notification has no sign field",
            )
        })?;
    let sign_type_field = pairs
        .iter()
        .find(|(k, _)| k == "signType")
        .map(|(_, v)| v.as_str());
    let sign_type = NotifySignType::from_field(sign_type_field).ok_or_else(|| {
        Error::new(
            ErrorKind::NotifyUnknownSignType,
            "the notification's signType is neither MD5 nor SHA256",
        )
    })?;
    if sign_type == NotifySignType::Md5 && !accept_md5 {
        return Err(Error::new(
            ErrorKind::NotifyUnknownSignType,
            "the notification is signed with MD5, which the config refuses (notifySignTypes accepts only SHA256)",
        ));
    }
    // Never longer than the body: one allocation.
    let string_to_sign = sign::join_sorted_for_signing(
        order
            .iter()
            .map(|&i| (pairs[i].0.as_str(), pairs[i].1.as_str())),
        body.len(),
    );
    let expected = sign::notify_digest(sign_type, &string_to_sign, notify_key);
    if !sign::constant_time_eq_ignore_ascii_case(&expected, &pairs[sign_at].1) {
        return Err(Error::new(
            ErrorKind::NotifyBadSignature,
            format!(
                "the notification's {} signature does not match: do not trust it",
                sign_type.as_str()
            ),
        ));
    }
    pairs.remove(sign_at);
    Ok(VerifiedNotification {
        sign_type,
        fields: pairs,
    })
}

/// Signs `fields` the way ChinaUMS does and returns the form body with `sign`
/// appended (the simulator's notifications, and tests).
pub fn sign_form(notify_key: &str, sign_type: NotifySignType, fields: &[(&str, &str)]) -> String {
    let string_to_sign = sign::notify_string_to_sign(fields.iter().copied());
    let sign_value =
        sign::notify_digest(sign_type, &string_to_sign, notify_key).to_ascii_uppercase();
    let mut body = String::new();
    for (k, v) in fields
        .iter()
        .copied()
        .chain(std::iter::once(("sign", sign_value.as_str())))
    {
        if !body.is_empty() {
            body.push('&');
        }
        form_encode_into(&mut body, k);
        body.push('=');
        form_encode_into(&mut body, v);
    }
    body
}

/// Splits a form body into decoded pairs, rejecting anything that is not a
/// well-formed form: a pair without `=`, an empty name, bad percent escapes,
/// invalid UTF-8, or a name given twice.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>> {
    let pairs = parse_pairs(body)?;
    if let Some(i) = first_repeat(&pairs, &sorted_by_name(&pairs)) {
        return Err(duplicate_field(&pairs[i].0));
    }
    Ok(pairs)
}

/// [`parse_form`] without the duplicate check, which the caller makes (on
/// success) with [`first_repeat`]. A malformed pair is reported only when no
/// name repeats before it, so the error is the one a pair-by-pair check meets
/// first.
fn parse_pairs(body: &[u8]) -> Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).map_err(|_| {
        Error::new(
            ErrorKind::NotifyMalformed,
            "the notification body is not UTF-8 text",
        )
    })?;
    let text = text.trim_end_matches(['\r', '\n']);
    if text.is_empty() {
        return Err(Error::new(
            ErrorKind::NotifyMalformed,
            "the notification body is empty",
        ));
    }
    // Sized for a real notification (a few dozen fields), not for whatever a
    // hostile body claims.
    let fields = text.bytes().filter(|&b| b == b'&').count() + 1;
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(fields.min(64));
    for (i, part) in text.split('&').enumerate() {
        match parse_pair(i, part) {
            Ok(pair) => pairs.push(pair),
            Err(e) => {
                return Err(match first_repeat(&pairs, &sorted_by_name(&pairs)) {
                    Some(j) => duplicate_field(&pairs[j].0),
                    None => e,
                })
            }
        }
    }
    Ok(pairs)
}

fn parse_pair(i: usize, part: &str) -> Result<(String, String)> {
    let (raw_key, raw_value) = part.split_once('=').ok_or_else(|| {
        Error::new(
            ErrorKind::NotifyMalformed,
            format!(
                "the notification body is not a form: pair {} has no '='",
                i + 1
            ),
        )
    })?;
    let key = form_decode(raw_key)?;
    if key.is_empty() {
        return Err(Error::new(
            ErrorKind::NotifyMalformed,
            format!(
                "the notification body is not a form: pair {} has an empty name",
                i + 1
            ),
        ));
    }
    Ok((key, form_decode(raw_value)?))
}

/// Indices of `pairs` sorted by name (bytes), equal names by position:
/// O(n log n) even for a hostile body of many short fields.
fn sorted_by_name(pairs: &[(String, String)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        pairs[a]
            .0
            .as_bytes()
            .cmp(pairs[b].0.as_bytes())
            .then(a.cmp(&b))
    });
    order
}

/// The position of the first pair whose name appeared before it (what a
/// pair-by-pair scan with a set of seen names would stop at).
fn first_repeat(pairs: &[(String, String)], order: &[usize]) -> Option<usize> {
    order
        .windows(2)
        .filter(|w| pairs[w[0]].0 == pairs[w[1]].0)
        .map(|w| w[1])
        .min()
}

fn duplicate_field(key: &str) -> Error {
    let name = crate::error::clip(key);
    let mut e = Error::new(
        ErrorKind::NotifyDuplicateField,
        format!("the notification repeats the field `{name}`"),
    );
    e.field = Some(name);
    e
}

/// Decodes one form component: `+` is a space, `%XX` a byte, result UTF-8.
fn form_decode(s: &str) -> Result<String> {
    let bad = || {
        Error::new(
            ErrorKind::NotifyMalformed,
            "the notification body has an invalid percent escape or non-UTF-8 value",
        )
    };
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(s.to_owned()); // nothing to decode: already UTF-8 text
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hi = (hex[0] as char).to_digit(16).ok_or_else(bad)?;
                let lo = (hex[1] as char).to_digit(16).ok_or_else(bad)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Appends `s` form-encoded (unreserved characters kept, space as `+`).
pub fn form_encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// The text a notification receiver answers: `SUCCESS` once the notification
/// is verified and handled, `FAILED` otherwise (ChinaUMS then retries).
pub fn reply_text(handled: bool) -> &'static str {
    if handled {
        "SUCCESS"
    } else {
        "FAILED"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_get_their_own_errors() {
        let kind = |b: &[u8]| verify("k", b).unwrap_err().kind;
        assert_eq!(kind(b"a=1&b"), ErrorKind::NotifyMalformed);
        assert_eq!(kind(b"a=%zz"), ErrorKind::NotifyMalformed);
        assert_eq!(kind(b"a=%ff"), ErrorKind::NotifyMalformed);
        assert_eq!(kind(b""), ErrorKind::NotifyMalformed);
        assert_eq!(kind(b"=1&sign=x"), ErrorKind::NotifyMalformed);
        assert_eq!(kind(b"a=1&a=2&sign=x"), ErrorKind::NotifyDuplicateField);
        assert_eq!(kind(b"a=1"), ErrorKind::NotifyMissingSign);
        assert_eq!(kind(b"a=1&sign="), ErrorKind::NotifyMissingSign);
        assert_eq!(
            kind(b"a=1&signType=RSA&sign=x"),
            ErrorKind::NotifyUnknownSignType
        );
        assert_eq!(kind(b"a=1&sign=00"), ErrorKind::NotifyBadSignature);
    }

    #[test]
    fn signed_forms_verify_and_keep_equals_signs_in_values() {
        let fields = [
            ("billPayment", "{\"a\":\"x=y&z\"}"),
            ("gY", "Snwz"),
            ("empty", ""),
            ("signType", "SHA256"),
        ];
        let body = sign_form("key", NotifySignType::Sha256, &fields);
        let v = verify("key", body.as_bytes()).unwrap();
        assert_eq!(v.sign_type, NotifySignType::Sha256);
        assert_eq!(v.to_json()["fields"]["billPayment"]["a"], "x=y&z");
        assert_eq!(
            verify("other", body.as_bytes()).unwrap_err().kind,
            ErrorKind::NotifyBadSignature
        );
        // A lower-case variant of a valid sign is accepted.
        let lower = sign_form("key", NotifySignType::Md5, &fields[..3]);
        let (head, sig) = lower.rsplit_once("sign=").unwrap();
        let lowered = format!("{head}sign={}", sig.to_ascii_lowercase());
        assert!(verify("key", lowered.as_bytes()).is_ok());
    }
}
