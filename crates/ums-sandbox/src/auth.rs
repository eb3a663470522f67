//! Authentication: the token endpoint and the two `Authorization` schemes
//! (docs/protocol.md §2, §3). Messages never contain keys, signatures or tokens.

use super::state::{Apps, AuthBook, TokenFate};
use chinaums::clock::{fill_random, BeijingTime};
use chinaums::sign::{hex_lower, open_body_signature, parse_body_sig_header, token_signature};
use serde_json::{json, Map, Value};
use std::sync::{Mutex, MutexGuard};

/// Time rules shared by both schemes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub token_lifetime_ms: i64,
    pub clock_skew_ms: i64,
}

const MAX_NONCE_CHARS: usize = 128;

fn lock(book: &Mutex<AuthBook>) -> MutexGuard<'_, AuthBook> {
    book.lock().unwrap_or_else(|p| p.into_inner())
}

/// Byte equality in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_CHARS
        && nonce.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
}

#[derive(Debug, PartialEq, Eq)]
enum TimeCheck {
    Malformed,
    Skewed,
}

/// Parses a `yyyyMMddHHmmss` Beijing timestamp and checks it is within
/// ±skew of `now`; returns it as Unix milliseconds.
fn check_timestamp(ts: &str, now_ms: i64, skew_ms: i64) -> Result<i64, TimeCheck> {
    let at = BeijingTime::parse_compact(ts)
        .ok_or(TimeCheck::Malformed)?
        .to_unix_millis();
    if now_ms.abs_diff(at) > skew_ms.unsigned_abs() {
        return Err(TimeCheck::Skewed);
    }
    Ok(at)
}

/// Answers `POST /v1/token/access` (always HTTP 200).
///
/// `errCode` values:
/// - `0000` 正常: token issued (`accessToken`, `expiresIn` in seconds)
/// - `1000`: the request is malformed (not a JSON object, a field missing or
///   not a string, or a nonce that is empty, longer than 128 or not visible ASCII)
/// - `1001`: unknown `appId`
/// - `1002`: wrong `signature` (lower-hex SHA-256 of appId+timestamp+nonce+appKey)
/// - `1003`: `signMethod` is not `SHA256`
/// - `1004`: `timestamp` is not Beijing `yyyyMMddHHmmss` or is outside ±clock skew
/// - `1005`: `nonce` already used within the skew window
///
/// Issuing an 11th token for an appId invalidates its oldest valid one.
///
/// `now_ms` is the simulator's time (token expiry); `wall_ms` the configured
/// clock without the control offset, which `timestamp` and the nonce window
/// are checked against. The signature is checked without a lock; `book` is
/// locked only to record the nonce and store the token.
pub(crate) fn issue_token(
    apps: &Apps,
    book: &Mutex<AuthBook>,
    settings: Settings,
    now_ms: i64,
    wall_ms: i64,
    body: &[u8],
) -> Value {
    match try_issue_token(apps, book, settings, now_ms, wall_ms, body) {
        Ok(answer) => answer,
        Err((code, info)) => {
            lock(book).token_failures += 1;
            json!({"errCode": code, "errInfo": info})
        }
    }
}

fn try_issue_token(
    apps: &Apps,
    book: &Mutex<AuthBook>,
    settings: Settings,
    now_ms: i64,
    wall_ms: i64,
    body: &[u8],
) -> Result<Value, (&'static str, String)> {
    let malformed = |why: &str| ("1000", format!("请求报文格式错误: {why}"));
    let request: Map<String, Value> =
        serde_json::from_slice(body).map_err(|_| malformed("请求体必须是 JSON 对象"))?;
    let field = |name: &str| -> Result<&str, (&'static str, String)> {
        request
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(&format!("缺少字符串字段 {name}")))
    };
    let app_id = field("appId")?;
    let timestamp = field("timestamp")?;
    let nonce = field("nonce")?;
    let sign_method = field("signMethod")?;
    let signature = field("signature")?;
    if !valid_nonce(nonce) {
        return Err(malformed("nonce 必须是 1..128 个可见 ASCII 字符"));
    }
    let Some(app) = apps.get(app_id) else {
        return Err(("1001", "appId 不存在".to_string()));
    };
    if sign_method != "SHA256" {
        return Err(("1003", "signMethod 必须是 SHA256".to_string()));
    }
    let expected = token_signature(app_id, &app.app_key, timestamp, nonce);
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err((
            "1002",
            "签名错误: signature 应为 appId+timestamp+nonce+appKey 的小写十六进制 SHA-256"
                .to_string(),
        ));
    }
    let at = check_timestamp(timestamp, wall_ms, settings.clock_skew_ms).map_err(|e| {
        let why = match e {
            TimeCheck::Malformed => "timestamp 必须是北京时间 yyyyMMddHHmmss".to_string(),
            TimeCheck::Skewed => format!(
                "timestamp 与网关时间相差超过 {} 秒",
                settings.clock_skew_ms / 1000
            ),
        };
        ("1004", why)
    })?;
    let mut raw = [0u8; 16];
    fill_random(&mut raw);
    let token = hex_lower(&raw);
    let mut book = lock(book);
    let log = book.nonces.entry(app_id.to_string()).or_default();
    if !log.record(nonce, at.saturating_add(settings.clock_skew_ms), wall_ms) {
        return Err(("1005", "nonce 重复".to_string()));
    }
    let app_id = app_id.to_string();
    book.store_token(
        &app_id,
        token.clone(),
        now_ms,
        now_ms.saturating_add(settings.token_lifetime_ms),
    );
    Ok(json!({
        "errCode": "0000",
        "errInfo": "正常",
        "accessToken": token,
        "expiresIn": settings.token_lifetime_ms / 1000,
    }))
}

/// Why a business request was refused (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthFailure {
    /// `UNAUTHORIZED`, `BAD_SIGN`, `ABNORMAL_REQUEST_TIME`, `NONCE_REPLAYED`
    /// or `INVALID_TOKEN`.
    pub code: &'static str,
    pub why: String,
    /// The known appId the request named (through a token the simulator
    /// issued, or the AppId of an OPEN-BODY-SIG header), for the per-app
    /// counters.
    pub app_id: Option<String>,
}

impl AuthFailure {
    fn new(code: &'static str, why: impl Into<String>) -> AuthFailure {
        AuthFailure {
            code,
            why: why.into(),
            app_id: None,
        }
    }

    fn of_app(mut self, app_id: &str) -> AuthFailure {
        self.app_id = Some(app_id.to_string());
        self
    }

    pub fn to_json(&self) -> Value {
        json!({"errCode": self.code, "errMsg": format!("认证失败: {}", self.why)})
    }
}

/// Authenticates a business request; returns its appId.
///
/// `authorization` holds every `Authorization` header of the request.
/// `now_ms` decides token expiry; `wall_ms` (the configured clock without
/// the control offset) is what `Timestamp` and the nonce window are checked
/// against. The signature is checked without a lock; `book` is locked only
/// to record the nonce or look the token up.
pub(crate) fn authenticate(
    apps: &Apps,
    book: &Mutex<AuthBook>,
    settings: Settings,
    now_ms: i64,
    wall_ms: i64,
    authorization: &[&str],
    body: &[u8],
) -> Result<String, AuthFailure> {
    let header = match authorization {
        [] => {
            return Err(AuthFailure::new(
                "UNAUTHORIZED",
                "缺少 Authorization 请求头",
            ))
        }
        [one] => one.trim(),
        _ => return Err(AuthFailure::new("UNAUTHORIZED", "Authorization 请求头重复")),
    };
    if header.starts_with("OPEN-BODY-SIG") {
        body_signature(apps, book, settings, wall_ms, header, body)
    } else if header.starts_with("OPEN-ACCESS-TOKEN") {
        access_token(&lock(book), now_ms, header)
    } else {
        Err(AuthFailure::new(
            "UNAUTHORIZED",
            "不支持的认证方式 (应为 OPEN-BODY-SIG 或 OPEN-ACCESS-TOKEN)",
        ))
    }
}

fn body_signature(
    apps: &Apps,
    book: &Mutex<AuthBook>,
    settings: Settings,
    wall_ms: i64,
    header: &str,
    body: &[u8],
) -> Result<String, AuthFailure> {
    let parsed = parse_body_sig_header(header).ok_or_else(|| {
        AuthFailure::new(
            "UNAUTHORIZED",
            "Authorization 格式错误, 应为 OPEN-BODY-SIG AppId=\"..\", Timestamp=\"..\", Nonce=\"..\", Signature=\"..\"",
        )
    })?;
    let Some(app) = apps.get(&parsed.app_id) else {
        return Err(AuthFailure::new("UNAUTHORIZED", "AppId 不存在"));
    };
    if BeijingTime::parse_compact(&parsed.timestamp).is_none() {
        return Err(
            AuthFailure::new("UNAUTHORIZED", "Timestamp 必须是北京时间 yyyyMMddHHmmss")
                .of_app(&parsed.app_id),
        );
    }
    if !valid_nonce(&parsed.nonce) {
        return Err(
            AuthFailure::new("UNAUTHORIZED", "Nonce 必须是 1..128 个可见 ASCII 字符")
                .of_app(&parsed.app_id),
        );
    }
    // Signature first: only an authentic request learns about its clock.
    let expected = open_body_signature(
        &parsed.app_id,
        &app.app_key,
        &parsed.timestamp,
        &parsed.nonce,
        body,
    );
    if !constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
        return Err(AuthFailure::new(
            "BAD_SIGN",
            "签名错误: Signature 应为 Base64(HmacSHA256(AppId+Timestamp+Nonce+SHA256_HEX(body), AppKey)), body 为收到的原始字节",
        )
        .of_app(&parsed.app_id));
    }
    let at = match check_timestamp(&parsed.timestamp, wall_ms, settings.clock_skew_ms) {
        Ok(at) => at,
        Err(_) => {
            return Err(AuthFailure::new(
                "ABNORMAL_REQUEST_TIME",
                format!(
                    "Timestamp 与网关时间 (北京时间 {}) 相差超过 {} 秒",
                    BeijingTime::from_unix_millis(wall_ms).compact(),
                    settings.clock_skew_ms / 1000
                ),
            )
            .of_app(&parsed.app_id))
        }
    };
    let mut book = lock(book);
    let log = book.nonces.entry(parsed.app_id.clone()).or_default();
    if !log.record(
        &parsed.nonce,
        at.saturating_add(settings.clock_skew_ms),
        wall_ms,
    ) {
        return Err(
            AuthFailure::new("NONCE_REPLAYED", "Nonce 已使用过 (疑似重放)").of_app(&parsed.app_id),
        );
    }
    Ok(parsed.app_id)
}

fn access_token(state: &AuthBook, now_ms: i64, header: &str) -> Result<String, AuthFailure> {
    let malformed = || {
        AuthFailure::new(
            "UNAUTHORIZED",
            "Authorization 格式错误, 应为 OPEN-ACCESS-TOKEN AccessToken=<token>",
        )
    };
    let rest = header
        .strip_prefix("OPEN-ACCESS-TOKEN")
        .ok_or_else(malformed)?;
    if !rest.starts_with(' ') {
        return Err(malformed());
    }
    let token = rest
        .trim_start()
        .strip_prefix("AccessToken=")
        .ok_or_else(malformed)?;
    if token.is_empty()
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(malformed());
    }
    let Some(record) = state.tokens.get(token) else {
        return Err(AuthFailure::new("INVALID_TOKEN", "AccessToken 不存在"));
    };
    match record.fate {
        TokenFate::Valid { expires_at_ms } if now_ms < expires_at_ms => Ok(record.app_id.clone()),
        TokenFate::Valid { .. } => {
            Err(AuthFailure::new("INVALID_TOKEN", "AccessToken 已过期").of_app(&record.app_id))
        }
        TokenFate::Invalidated => Err(AuthFailure::new(
            "INVALID_TOKEN",
            "AccessToken 已失效: 同一 appId 最多 10 个有效令牌, 它已被更新的令牌顶替",
        )
        .of_app(&record.app_id)),
    }
}

/// The known appId a request's single `Authorization` header names, without
/// checking it: the app of a token the simulator issued (still remembered),
/// or the `AppId` of an OPEN-BODY-SIG header. For counting a 401 the
/// request gets without being authenticated (the `token-expired` fault).
pub(crate) fn claimed_app(state: &AuthBook, headers: &[(String, String)]) -> Option<String> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim());
    let header = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let app_id = if let Some(rest) = header.strip_prefix("OPEN-ACCESS-TOKEN") {
        let token = rest.trim_start().strip_prefix("AccessToken=")?;
        state.tokens.get(token)?.app_id.clone()
    } else if header.starts_with("OPEN-BODY-SIG") {
        parse_body_sig_header(header)?.app_id
    } else {
        return None;
    };
    state.apps.contains_key(&app_id).then_some(app_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::state::demo_apps;
    use chinaums::sign::sign_body;

    /// The apps and a book, as the gateway holds them.
    struct Fixture {
        apps: Apps,
        book: Mutex<AuthBook>,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                apps: demo_apps(),
                book: Mutex::new(AuthBook::new(demo_apps())),
            }
        }
    }

    const NOW: i64 = 1_582_695_360_000; // 2020-02-26 13:36:00 Beijing
    const TS: &str = "20200226133600";
    const SETTINGS: Settings = Settings {
        token_lifetime_ms: 3_600_000,
        clock_skew_ms: 300_000,
    };

    fn token_request(nonce: &str, ts: &str) -> Vec<u8> {
        let sig = token_signature(demo::APP_ID, demo::APP_KEY, ts, nonce);
        serde_json::to_vec(&json!({
            "appId": demo::APP_ID, "timestamp": ts, "nonce": nonce,
            "signMethod": "SHA256", "signature": sig
        }))
        .unwrap()
    }

    #[test]
    fn token_issue_and_use() {
        let state = Fixture::new();
        let answer = issue_token(
            &state.apps,
            &state.book,
            SETTINGS,
            NOW,
            NOW,
            &token_request("n1", TS),
        );
        assert_eq!(answer["errCode"], "0000");
        assert_eq!(answer["expiresIn"], 3600);
        let token = answer["accessToken"].as_str().unwrap().to_string();
        assert_eq!(token.len(), 32);
        let header = format!("OPEN-ACCESS-TOKEN AccessToken={token}");
        assert_eq!(
            authenticate(
                &state.apps,
                &state.book,
                SETTINGS,
                NOW,
                NOW,
                &[&header],
                b"{}"
            ),
            Ok(demo::APP_ID.to_string())
        );
        let late = authenticate(
            &state.apps,
            &state.book,
            SETTINGS,
            NOW + 3_600_000,
            NOW,
            &[&header],
            b"{}",
        );
        assert_eq!(late.unwrap_err().code, "INVALID_TOKEN");
        // Same nonce again is a replay.
        let again = issue_token(
            &state.apps,
            &state.book,
            SETTINGS,
            NOW,
            NOW,
            &token_request("n1", TS),
        );
        assert_eq!(again["errCode"], "1005");
    }

    #[test]
    fn token_failures_have_distinct_codes() {
        let mut state = Fixture::new();
        let code = |state: &mut Fixture, body: &[u8]| {
            issue_token(&state.apps, &state.book, SETTINGS, NOW, NOW, body)["errCode"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(code(&mut state, b"not json"), "1000");
        let mut v: Value = serde_json::from_slice(&token_request("a", TS)).unwrap();
        v["appId"] = json!("unknown");
        assert_eq!(code(&mut state, &serde_json::to_vec(&v).unwrap()), "1001");
        let mut v: Value = serde_json::from_slice(&token_request("b", TS)).unwrap();
        v["signature"] = json!("00");
        assert_eq!(code(&mut state, &serde_json::to_vec(&v).unwrap()), "1002");
        let mut v: Value = serde_json::from_slice(&token_request("c", TS)).unwrap();
        v["signMethod"] = json!("SHA1");
        assert_eq!(code(&mut state, &serde_json::to_vec(&v).unwrap()), "1003");
        assert_eq!(
            code(&mut state, &token_request("d", "20200226134601")),
            "1004"
        );
        assert_eq!(lock(&state.book).token_failures, 5);
        assert_eq!(lock(&state.book).tokens_issued, 0);
    }

    #[test]
    fn body_signature_checks_in_order() {
        let mut state = Fixture::new();
        let body = br#"{"a":1}"#;
        let good = sign_body(demo::APP_ID, demo::APP_KEY, TS, "nonce-1", body);
        let auth = |state: &mut Fixture, h: &str, b: &[u8]| {
            authenticate(&state.apps, &state.book, SETTINGS, NOW, NOW, &[h], b).map_err(|f| f.code)
        };
        assert_eq!(auth(&mut state, &good, body), Ok(demo::APP_ID.to_string()));
        assert_eq!(auth(&mut state, &good, body), Err("NONCE_REPLAYED"));
        let other = sign_body(demo::APP_ID, demo::APP_KEY, TS, "nonce-2", body);
        assert_eq!(auth(&mut state, &other, br#"{"a":2}"#), Err("BAD_SIGN"));
        // A bad signature does not burn the nonce.
        assert_eq!(auth(&mut state, &other, body), Ok(demo::APP_ID.to_string()));
        let skewed = sign_body(demo::APP_ID, demo::APP_KEY, "20200226134101", "n3", body);
        assert_eq!(
            auth(&mut state, &skewed, body),
            Err("ABNORMAL_REQUEST_TIME")
        );
        let edge = sign_body(demo::APP_ID, demo::APP_KEY, "20200226134100", "n3", body);
        assert_eq!(auth(&mut state, &edge, body), Ok(demo::APP_ID.to_string()));
        let unknown = sign_body("nobody", demo::APP_KEY, TS, "n4", body);
        assert_eq!(auth(&mut state, &unknown, body), Err("UNAUTHORIZED"));
        let long_nonce = sign_body(demo::APP_ID, demo::APP_KEY, TS, &"x".repeat(129), body);
        assert_eq!(auth(&mut state, &long_nonce, body), Err("UNAUTHORIZED"));
        assert_eq!(auth(&mut state, "Bearer abc", body), Err("UNAUTHORIZED"));
        assert_eq!(
            authenticate(&state.apps, &state.book, SETTINGS, NOW, NOW, &[], body)
                .unwrap_err()
                .code,
            "UNAUTHORIZED"
        );
    }

    #[test]
    fn failure_messages_never_echo_secrets() {
        let state = Fixture::new();
        let body = b"{}";
        let header = sign_body(demo::APP_ID, "wrong-key", TS, "n", body);
        let sig = parse_body_sig_header(&header).unwrap().signature;
        let failure = authenticate(
            &state.apps,
            &state.book,
            SETTINGS,
            NOW,
            NOW,
            &[&header],
            body,
        )
        .unwrap_err();
        let text = failure.to_json().to_string();
        assert!(!text.contains(&sig) && !text.contains(demo::APP_KEY));
        let expected = open_body_signature(demo::APP_ID, demo::APP_KEY, TS, "n", body);
        assert!(!text.contains(&expected));
    }
}
