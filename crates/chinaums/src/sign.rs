//! Signatures of the ChinaUMS Open Platform (docs/protocol.md §2, §3, §6).
//!
//! Pure functions over bytes: no clock, no randomness, no I/O. The caller
//! supplies the timestamp and nonce, so every value here is reproducible and
//! checked against `vectors.json`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of `bytes`, written into `out`.
pub fn push_hex_lower(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0x0f) as usize] as char);
    }
}

/// Lower-case hex of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex_lower(&mut s, bytes);
    s
}

/// `SHA256_HEX(body)`: lower-case hex, 64 characters.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex_lower(&Sha256::digest(body))
}

/// OPEN-BODY-SIG signature:
/// `Base64(HmacSHA256(appId + timestamp + nonce + SHA256_HEX(body), appKey))`.
pub fn open_body_signature(
    app_id: &str,
    app_key: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> String {
    let mut mac =
        HmacSha256::new_from_slice(app_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(app_id.as_bytes());
    mac.update(timestamp.as_bytes());
    mac.update(nonce.as_bytes());
    let digest = Sha256::digest(body);
    let mut hex = [0u8; 64];
    for (i, b) in digest.iter().enumerate() {
        hex[2 * i] = HEX[(b >> 4) as usize];
        hex[2 * i + 1] = HEX[(b & 0x0f) as usize];
    }
    mac.update(&hex);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The longest nonce the client puts in an Authorization header.
pub const MAX_NONCE_CHARS: usize = 128;

/// Whether `nonce` can go inside the Authorization header's quoted,
/// comma-separated parameters: 1 to [`MAX_NONCE_CHARS`] visible ASCII
/// characters, neither `"` nor `,`.
pub fn is_header_safe_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_CHARS
        && nonce
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b',')
}

/// The canonical `Authorization` header value for OPEN-BODY-SIG.
pub fn open_body_authorization(
    app_id: &str,
    timestamp: &str,
    nonce: &str,
    signature: &str,
) -> String {
    [
        "OPEN-BODY-SIG AppId=\"",
        app_id,
        "\", Timestamp=\"",
        timestamp,
        "\", Nonce=\"",
        nonce,
        "\", Signature=\"",
        signature,
        "\"",
    ]
    .concat()
}

/// Signs `body` and returns the complete `Authorization` header value.
pub fn sign_body(app_id: &str, app_key: &str, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    let signature = open_body_signature(app_id, app_key, timestamp, nonce, body);
    open_body_authorization(app_id, timestamp, nonce, &signature)
}

/// The parts of an `OPEN-BODY-SIG` header, as a server reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySigHeader {
    pub app_id: String,
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
}

/// Parses an `OPEN-BODY-SIG` header. Accepts `", "` and `","` between pairs
/// (docs/protocol.md §2: some SDKs omit the space). Returns `None` when the scheme,
/// a pair or a quote is missing, or a key is unknown or repeated.
pub fn parse_body_sig_header(header: &str) -> Option<BodySigHeader> {
    let rest = header.trim().strip_prefix("OPEN-BODY-SIG")?;
    if !rest.starts_with(' ') {
        return None;
    }
    let (mut app_id, mut timestamp, mut nonce, mut signature) = (None, None, None, None);
    for pair in rest.split(',') {
        let (key, value) = pair.trim().split_once('=')?;
        let value = value.strip_prefix('"')?.strip_suffix('"')?;
        if value.contains('"') {
            return None;
        }
        let slot = match key {
            "AppId" => &mut app_id,
            "Timestamp" => &mut timestamp,
            "Nonce" => &mut nonce,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value.to_string()).is_some() {
            return None;
        }
    }
    Some(BodySigHeader {
        app_id: app_id?,
        timestamp: timestamp?,
        nonce: nonce?,
        signature: signature?,
    })
}

/// Token-request signature: lower-case hex SHA-256 of
/// `appId + timestamp + nonce + appKey` (a plain digest, not an HMAC).
pub fn token_signature(app_id: &str, app_key: &str, timestamp: &str, nonce: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(app_id.as_bytes());
    hasher.update(timestamp.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.update(app_key.as_bytes());
    hex_lower(&hasher.finalize())
}

/// Digest algorithm of a notification signature (`signType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifySignType {
    Md5,
    Sha256,
}

impl NotifySignType {
    /// `signType` absent or `MD5` → MD5; `SHA256` → SHA-256; anything else is unknown.
    pub fn from_field(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("MD5") => Some(Self::Md5),
            Some("SHA256") => Some(Self::Sha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA256",
        }
    }
}

/// The string a notification signature covers, without the key:
/// every field but `sign`, empty values dropped, sorted by name (byte order),
/// joined as `k1=v1&k2=v2`.
pub fn notify_string_to_sign<'a, I>(fields: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(&str, &str)> = fields.into_iter().collect();
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    join_sorted_for_signing(pairs, 0)
}

/// [`notify_string_to_sign`] of fields already sorted by name, written into
/// a string of `capacity` bytes (a caller that knows the size saves the
/// regrowth).
pub fn join_sorted_for_signing<'a, I>(sorted_fields: I, capacity: usize) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::with_capacity(capacity);
    for (k, v) in sorted_fields {
        if k == "sign" || v.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Hex digest (lower case) of `string_to_sign + key` with the given algorithm.
pub fn notify_digest(sign_type: NotifySignType, string_to_sign: &str, key: &str) -> String {
    match sign_type {
        NotifySignType::Md5 => {
            let mut h = Md5::new();
            h.update(string_to_sign.as_bytes());
            h.update(key.as_bytes());
            hex_lower(&h.finalize())
        }
        NotifySignType::Sha256 => {
            let mut h = Sha256::new();
            h.update(string_to_sign.as_bytes());
            h.update(key.as_bytes());
            hex_lower(&h.finalize())
        }
    }
}

/// Compares two ASCII strings case-insensitively in time that depends only on
/// their lengths, so a forged `sign` learns nothing from timing.
pub fn constant_time_eq_ignore_ascii_case(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x.to_ascii_lowercase() ^ y.to_ascii_lowercase();
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parser_accepts_both_separators_and_rejects_garbage() {
        let canonical = sign_body("app", "key", "20260101120000", "n1", b"{}");
        let parsed = parse_body_sig_header(&canonical).unwrap();
        assert_eq!(parsed.app_id, "app");
        assert_eq!(parsed.nonce, "n1");
        let compact = canonical.replace(", ", ",");
        assert_eq!(parse_body_sig_header(&compact), Some(parsed));
        assert_eq!(parse_body_sig_header("OPEN-BODY-SIG AppId=\"a\""), None);
        assert_eq!(parse_body_sig_header("Bearer x"), None);
        let doubled = format!("{canonical}, Nonce=\"x\"");
        assert_eq!(parse_body_sig_header(&doubled), None);
    }

    #[test]
    fn constant_time_compare_ignores_case_only() {
        assert!(constant_time_eq_ignore_ascii_case("AbC1", "aBc1"));
        assert!(!constant_time_eq_ignore_ascii_case("abc1", "abc2"));
        assert!(!constant_time_eq_ignore_ascii_case("abc", "abcd"));
    }
}
