//! The client: config, transport, token cache, clock and nonces together.
//! Builds each request (defaults, normalisation, validation), signs the exact
//! bytes it sends, and classifies what came back.

use crate::clock::{BeijingTime, Clock, NonceSource, RandomNonce, SystemClock};
use crate::config::{AuthMode, Config, Environment, PRODUCTION_URL, TEST_URL};
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{self, rules, Operation};
use crate::secret::Secret;
use crate::sign;
use crate::token::{self, TokenCache};
use crate::transport::{HttpAnswer, Transport};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest request document accepted from a caller.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// errCodes after which the gateway may or may not have done the work
/// (docs/protocol.md §5): the outcome is unknown, query before deciding.
/// - TIMEOUT, NET_ERROR, ORDER_PROCESSING, INTERNAL_ERROR: the spec's own
///   list of "outcome unknown" answers.
/// - INVALID_ORDER ("order information abnormal: query first"): the spec
///   itself says to query before acting.
/// - INVALID_RESPONSE ("invalid channel answer"): the wallet's answer could
///   not be read, so whether the wallet did the work is not known.
///
/// DUP_ORDER is *not* here: it says this request was refused as a repeat
/// of one the gateway already has, so this request did nothing (a rejection),
/// while the earlier one may have; the message says to query it.
pub const OUTCOME_UNKNOWN_CODES: &[&str] = &[
    "TIMEOUT",
    "NET_ERROR",
    "ORDER_PROCESSING",
    "INTERNAL_ERROR",
    "INVALID_ORDER",
    "INVALID_RESPONSE",
];

/// A successful answer (`errCode == "SUCCESS"`): the exact text the gateway
/// sent and its parsed form.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    pub value: Value,
}

/// A request ready to send: validated, defaults filled, serialised once.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub url: String,
    pub path: String,
    pub body: Vec<u8>,
    pub money_moving: bool,
    /// How a successful answer says whether the effect is final.
    pub settlement: Option<&'static ops::Settlement>,
}

impl PreparedRequest {
    fn settled_by(mut self, op: &'static Operation) -> PreparedRequest {
        self.settlement = op.settlement.as_ref();
        self
    }
}

/// A ChinaUMS client. Immutable once built and safe to share between
/// threads: the token cache and the connection pool synchronise themselves.
pub struct Client {
    config: Config,
    base_url: String,
    transport: Transport,
    tokens: TokenCache,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceSource>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("app_id", &self.config.app_id)
            .field("base_url", &self.base_url)
            .field("auth", &self.config.auth)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the system clock and random nonces.
    pub fn new(config: Config) -> Result<Client> {
        Client::with_clock_and_nonces(config, Arc::new(SystemClock), Arc::new(RandomNonce))
    }

    /// A client from a JSON config document.
    pub fn from_json(config_json: &str) -> Result<Client> {
        Client::new(Config::from_json(config_json)?)
    }

    /// A client with an injected clock and nonce source (reproducible signatures in tests).
    pub fn with_clock_and_nonces(
        config: Config,
        clock: Arc<dyn Clock>,
        nonces: Arc<dyn NonceSource>,
    ) -> Result<Client> {
        let base_url = match &config.environment {
            Environment::Production => PRODUCTION_URL.to_string(),
            Environment::Test => TEST_URL.to_string(),
            Environment::Url(url) => url.clone(),
            Environment::Sandbox => {
                if config.app_id != crate::sandbox::demo::APP_ID {
                    return Err(Error::config(
                        "environment",
                        "is \"sandbox\" (the default), which only knows the demo app: set it to \"production\", \"test\" or a base URL",
                    ));
                }
                embedded_sandbox_url()?
            }
        };
        let transport = Transport::new(&config)?;
        Ok(Client {
            config,
            base_url,
            transport,
            tokens: TokenCache::default(),
            clock,
            nonces,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Beijing time now, from the client's clock.
    pub fn now(&self) -> BeijingTime {
        BeijingTime::from_unix_millis(self.clock.now_unix_millis())
    }

    /// `bills/update-qrcode` with a JSON request text.
    pub fn update_qrcode(&self, request_json: &str) -> Result<Answer> {
        self.execute(&ops::UPDATE_QRCODE, parse_request(request_json)?)
    }

    /// Runs a known operation.
    pub fn execute(&self, op: &'static Operation, request: Map<String, Value>) -> Result<Answer> {
        let prepared = self.prepare(op, request)?;
        self.send(&prepared)
    }

    /// Prepares a call by operation name or service path without sending it
    /// (what [`Client::call`] would send).
    pub fn prepare_call(
        &self,
        operation: &str,
        request_json: &str,
        now: BeijingTime,
    ) -> Result<PreparedRequest> {
        let request = parse_request(request_json)?;
        match ops::find(operation) {
            Some(op) => self.prepare_at(op, request, now),
            None if operation.starts_with('/') => {
                check_service_path(operation)?;
                self.prepare_raw(operation, &request, true)
            }
            None => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown operation `{}` (use a known name or a /v1/... service path)",
                    crate::error::clip(operation)
                ),
            )),
        }
    }

    /// Calls any `/v1/...` service path. A path of a known operation gets that
    /// operation's defaults and checks; any other path is sent as given.
    pub fn call(&self, service_path: &str, request_json: &str) -> Result<Answer> {
        check_service_path(service_path)?;
        let request = parse_request(request_json)?;
        match ops::find(service_path) {
            Some(op) => self.execute(op, request),
            None => {
                let prepared = self.prepare_raw(service_path, &request, true)?;
                self.send(&prepared)
            }
        }
    }

    /// Verifies a notification with the configured `notifyKey` and
    /// `notifySignTypes` (MD5 refused when the config accepts only SHA256).
    pub fn verify_notification(&self, body: &[u8]) -> Result<crate::notify::VerifiedNotification> {
        let key = self
            .config
            .notify_key
            .as_ref()
            .ok_or_else(|| Error::config("notifyKey", "is needed to verify notifications"))?;
        crate::notify::verify_with(key.expose(), body, self.config.notify_accept_md5)
    }

    /// A new merchant identifier (`billNo`, `merOrderId`, `refundOrderId`,
    /// `qrCodeId`) from the configured `msgSrcId` (docs/protocol.md §4.2).
    pub fn new_id(&self) -> Result<String> {
        let msg_src_id = self
            .config
            .msg_src_id
            .as_deref()
            .ok_or_else(|| Error::config("msgSrcId", "is needed to make identifiers"))?;
        crate::ids::new_id(msg_src_id, self.now())
    }

    /// Fills defaults, normalises and validates `request` for `op`, and
    /// serialises it once: these bytes are what gets signed and sent.
    pub fn prepare(
        &self,
        op: &'static Operation,
        request: Map<String, Value>,
    ) -> Result<PreparedRequest> {
        self.prepare_at(op, request, self.now())
    }

    /// As [`Client::prepare`], with `requestTimestamp` defaulting to `now`
    /// (reproducible requests).
    ///
    /// A request that is exactly `{"data": {...}}` (the official SDKs'
    /// `needDataTag` envelope) has its inner object prepared and is sent
    /// wrapped.
    pub fn prepare_at(
        &self,
        op: &'static Operation,
        mut request: Map<String, Value>,
        now: BeijingTime,
    ) -> Result<PreparedRequest> {
        if let Some(Value::Object(inner)) = data_envelope(&mut request) {
            let mut inner = inner;
            self.normalize(op, &mut inner, now)?;
            let mut wrapped = Map::new();
            wrapped.insert("data".to_string(), Value::Object(inner));
            return Ok(self
                .prepare_raw(op.path, &wrapped, op.money_moving)?
                .settled_by(op));
        }
        self.normalize(op, &mut request, now)?;
        Ok(self
            .prepare_raw(op.path, &request, op.money_moving)?
            .settled_by(op))
    }

    /// Defaults, normalisation and validation of one request object.
    fn normalize(
        &self,
        op: &Operation,
        request: &mut Map<String, Value>,
        now: BeijingTime,
    ) -> Result<()> {
        self.fill_defaults(op, request, now);
        let options = rules::NormalizeOptions {
            real_name_input: self.config.real_name_input,
        };
        rules::apply(op.fields, request, options)?;
        (op.cross_check)(request)
    }

    fn prepare_raw(
        &self,
        path: &str,
        request: &Map<String, Value>,
        money_moving: bool,
    ) -> Result<PreparedRequest> {
        // Most requests fit in 2 KiB: one allocation instead of a chain of
        // doublings from serde_json's 128 bytes.
        let mut body = Vec::with_capacity(2048);
        serde_json::to_writer(&mut body, request)
            .map_err(|_| Error::new(ErrorKind::Internal, "could not serialise the request"))?;
        Ok(PreparedRequest {
            url: [self.base_url.as_str(), path].concat(),
            path: path.to_string(),
            body,
            money_moving,
            settlement: None,
        })
    }

    /// Adds `requestTimestamp`, `mid`, `tid`, `instMid` where the operation
    /// has them and the caller left them out (missing or null); never changes
    /// a given value, not even an empty string.
    fn fill_defaults(&self, op: &Operation, request: &mut Map<String, Value>, now: BeijingTime) {
        // The values are made only for a field that is actually filled.
        let mut fill = |field: &str, value: &dyn Fn() -> Option<String>| {
            if op.has_field(field) && request.get(field).is_none_or(Value::is_null) {
                if let Some(v) = value() {
                    request.insert(field.to_string(), Value::String(v));
                }
            }
        };
        fill("requestTimestamp", &|| Some(now.date_time()));
        fill("mid", &|| self.config.mid.clone());
        fill("tid", &|| self.config.tid.clone());
        fill("instMid", &|| Some(self.config.inst_mid.clone()));
    }

    /// The OPEN-BODY-SIG Authorization header for `body`, now.
    pub fn authorization_for(&self, body: &[u8]) -> String {
        let timestamp = self.now().compact();
        let nonce = self.nonces.nonce();
        sign::sign_body(
            &self.config.app_id,
            self.config.app_key.expose(),
            &timestamp,
            &nonce,
            body,
        )
    }

    /// Sends a prepared request and classifies the answer. In token mode, a
    /// token the gateway rejects before doing any business (HTTP 401) is
    /// replaced and the request resent once: nothing was done the first time.
    pub fn send(&self, prepared: &PreparedRequest) -> Result<Answer> {
        use crate::log::{log, Level};
        log(Level::Debug, || {
            format!("POST {} ({} bytes)", prepared.path, prepared.body.len())
        });
        let started = std::time::Instant::now();
        let result = self.send_classified(prepared);
        let elapsed = started.elapsed().as_millis();
        match &result {
            Ok(_) => log(Level::Info, || {
                format!("POST {}: SUCCESS in {elapsed} ms", prepared.path)
            }),
            Err(e) => {
                let level = if e.is_outcome_unknown() {
                    Level::Error
                } else {
                    Level::Warn
                };
                log(level, || {
                    format!(
                        "POST {}: {} (errCode {}, HTTP {}) in {elapsed} ms",
                        prepared.path,
                        e.kind.as_str(),
                        e.err_code.as_deref().unwrap_or("-"),
                        e.http_status.map_or("-".to_string(), |s| s.to_string()),
                    )
                })
            }
        }
        result
    }

    /// The retry policy (README "Reliability"): nothing is ever resent once
    /// a money-moving request may have reached the gateway. What is retried,
    /// within one deadline of `timeoutMs` for the whole call:
    /// - a connection that was never established (nothing sent), any operation;
    /// - a read-only operation whose outcome is unknown (no usable answer).
    fn send_classified(&self, prepared: &PreparedRequest) -> Result<Answer> {
        let deadline = Instant::now() + self.config.timeout;
        let (mut connect_retries, mut read_retries) = (0, 0);
        loop {
            let mut reached_gateway = false;
            let err = match self.attempt(prepared, deadline, &mut reached_gateway) {
                Ok(answer) => return settle(prepared, answer),
                Err(e) => e,
            };
            let delay = match err.kind {
                // Only an attempt that never reached the gateway is repeated
                // for a connection failure: after a token refused with 401,
                // the one resend was that attempt's own.
                ErrorKind::Connect if !reached_gateway && connect_retries < MAX_CONNECT_RETRIES => {
                    connect_retries += 1;
                    backoff(CONNECT_BACKOFF, connect_retries)
                }
                ErrorKind::OutcomeUnknown
                    if !prepared.money_moving && read_retries < MAX_READ_RETRIES =>
                {
                    read_retries += 1;
                    backoff(READ_BACKOFF, read_retries)
                }
                _ => return Err(err),
            };
            if deadline.saturating_duration_since(Instant::now()) <= delay {
                return Err(err);
            }
            crate::log::log(crate::log::Level::Warn, || {
                format!(
                    "POST {}: {}; retrying in {} ms",
                    prepared.path,
                    err.kind.as_str(),
                    delay.as_millis()
                )
            });
            std::thread::sleep(delay);
        }
    }

    /// One exchange (two in token mode when the token is refused with HTTP
    /// 401 before any business: refreshed once, resent once). Every attempt is
    /// signed afresh (new timestamp and nonce) over the same body bytes.
    fn attempt(
        &self,
        prepared: &PreparedRequest,
        deadline: Instant,
        reached_gateway: &mut bool,
    ) -> Result<Answer> {
        match self.config.auth {
            AuthMode::BodySig => {
                let authorization = self.authorization_for(&prepared.body);
                let answer = self.transport.post_json(
                    &prepared.url,
                    Some(&authorization),
                    &prepared.body,
                    remaining(deadline)?,
                )?;
                classify_answer(answer)
            }
            AuthMode::Token => {
                let token = self.access_token_until(deadline)?;
                let answer = self.post_with_token(prepared, &token, deadline)?;
                *reached_gateway = true;
                if answer.status == 401 {
                    crate::log::log(crate::log::Level::Warn, || {
                        format!(
                            "POST {}: token refused (HTTP 401); refreshing and resending once",
                            prepared.path
                        )
                    });
                    self.tokens.invalidate(&token);
                    let fresh = self.access_token_until(deadline)?;
                    return classify_answer(self.post_with_token(prepared, &fresh, deadline)?);
                }
                classify_answer(answer)
            }
        }
    }

    fn post_with_token(
        &self,
        prepared: &PreparedRequest,
        token: &Secret,
        deadline: Instant,
    ) -> Result<HttpAnswer> {
        let authorization = format!("OPEN-ACCESS-TOKEN AccessToken={}", token.expose());
        self.transport.post_json(
            &prepared.url,
            Some(&authorization),
            &prepared.body,
            remaining(deadline)?,
        )
    }

    /// The shared access token, fetched once when missing or about to expire.
    pub fn access_token(&self) -> Result<Arc<Secret>> {
        self.access_token_until(Instant::now() + self.config.timeout)
    }

    fn access_token_until(&self, deadline: Instant) -> Result<Arc<Secret>> {
        self.tokens.get(deadline, || self.fetch_token(deadline))
    }

    fn fetch_token(&self, deadline: Instant) -> Result<(String, Duration)> {
        let timestamp = self.now().compact();
        let nonce = self.nonces.nonce();
        let signature = sign::token_signature(
            &self.config.app_id,
            self.config.app_key.expose(),
            &timestamp,
            &nonce,
        );
        let body = serde_json::json!({
            "appId": self.config.app_id,
            "timestamp": timestamp,
            "nonce": nonce,
            "signMethod": "SHA256",
            "signature": signature,
        });
        let body = serde_json::to_vec(&body).map_err(|_| {
            Error::new(ErrorKind::Internal, "could not serialise the token request")
        })?;
        let url = format!("{}/v1/token/access", self.base_url);
        // Asking for a token does no business, so a failure here is "nothing sent"
        // as far as the caller's request is concerned.
        let answer = self
            .transport
            .post_json(&url, None, &body, remaining(deadline)?)
            .map_err(|mut e| {
                // Fetching a token does no business: whatever broke, the
                // caller's request was not sent.
                if e.kind == ErrorKind::OutcomeUnknown {
                    e.kind = ErrorKind::Connect;
                    e.message =
                        "fetching the access token failed; the request was not sent".to_string();
                }
                e
            })?;
        let parsed = token::parse_token_answer(answer.status, &answer.body);
        crate::log::log(crate::log::Level::Info, || match &parsed {
            Ok((_, expires_in)) => {
                format!("access token issued, expires in {} s", expires_in.as_secs())
            }
            Err(e) => format!(
                "access token refused: errCode {}",
                e.err_code.as_deref().unwrap_or("-")
            ),
        });
        parsed
    }
}

/// Connection set-up failures (nothing sent) are retried this many times.
const MAX_CONNECT_RETRIES: u32 = 2;
const CONNECT_BACKOFF: Duration = Duration::from_millis(100);
/// Read-only operations with an unknown outcome are retried this many times.
const MAX_READ_RETRIES: u32 = 2;
const READ_BACKOFF: Duration = Duration::from_millis(200);

/// `base * 2^(n-1)`, plus up to 50 % random jitter so that many clients
/// retrying together do not arrive together.
fn backoff(base: Duration, n: u32) -> Duration {
    let exp = base * 2u32.pow(n.saturating_sub(1).min(8));
    let mut r = [0u8; 2];
    crate::clock::fill_random(&mut r);
    let jitter = u16::from_le_bytes(r) as u32 % 501; // 0..=500 per mille
    exp + exp * jitter / 1000
}

/// Time left before the call's deadline for a send that has not started,
/// or an error (nothing was sent) when none is left.
fn remaining(deadline: Instant) -> Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::new(
            ErrorKind::Connect,
            "the call's deadline (timeoutMs) passed before the request was sent",
        ));
    }
    Ok(left)
}

/// Takes the inner object out of a `{"data": {...}}` envelope.
fn data_envelope(request: &mut Map<String, Value>) -> Option<Value> {
    if request.len() == 1 && request.get("data").is_some_and(Value::is_object) {
        request.remove("data")
    } else {
        None
    }
}

/// Parses a caller's request: a JSON object of bounded size.
pub fn parse_request(request_json: &str) -> Result<Map<String, Value>> {
    if request_json.len() > MAX_REQUEST_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    crate::json::parse_object(request_json, "the request")
}

/// A service path is `/v1/` followed by path segments of safe characters.
pub fn check_service_path(path: &str) -> Result<()> {
    // Every segment after /v1/ is non-empty and not made of dots only.
    let ok = path.starts_with("/v1/")
        && path.len() <= 256
        && path[4..]
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.bytes().all(|b| b == b'.'))
        && path[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            "the service path must look like /v1/netpay/bills/query (letters, digits, '/', '-', '_', '.')",
        ))
    }
}

/// Classifies a gateway answer (docs/protocol.md §5).
pub fn classify_answer(answer: HttpAnswer) -> Result<Answer> {
    let status = answer.status;
    let text = String::from_utf8(answer.body).ok();
    // An answer that repeats a key (two errCodes?) is not trusted: it is
    // read as no usable answer.
    let value = text
        .as_deref()
        .and_then(|t| crate::json::parse_value(t).ok())
        .filter(Value::is_object);
    let err_code = value
        .as_ref()
        .and_then(|v| v.get("errCode"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let err_msg = value
        .as_ref()
        .and_then(|v| v.get("errMsg").or_else(|| v.get("errInfo")))
        .and_then(Value::as_str)
        .map(str::to_string);

    let fail = |kind: ErrorKind, message: String| {
        let mut e = Error::new(kind, message);
        e.http_status = Some(status);
        e.err_code = err_code.clone();
        e.err_msg = err_msg.clone();
        e.response = value.clone();
        Err(e)
    };

    match (status, err_code.as_deref()) {
        (200, Some("SUCCESS")) => Ok(Answer {
            text: text.unwrap_or_default(),
            value: value.unwrap_or_default(),
        }),
        (401 | 403, _) => fail(
            ErrorKind::GatewayRejected,
            format!("the gateway refused the authentication (HTTP {status}); nothing was processed"),
        ),
        // Whatever the HTTP status (a gateway may answer TIMEOUT with 400 or
        // 504): these codes mean the work may have been done.
        (_, Some(code)) if OUTCOME_UNKNOWN_CODES.contains(&code) => fail(
            ErrorKind::OutcomeUnknown,
            format!("the gateway answered {code}: the outcome is unknown; query before deciding, do not resend"),
        ),
        (200, Some("DUP_ORDER")) => fail(
            ErrorKind::GatewayRejected,
            "the gateway rejected the request with DUP_ORDER: an earlier request with the same identifier exists and this one did nothing; query the earlier one".to_string(),
        ),
        (200, Some(code)) => fail(ErrorKind::GatewayRejected, format!("the gateway rejected the request with {code}")),
        (200, None) => fail(
            ErrorKind::OutcomeUnknown,
            "the gateway's answer is not a JSON object with errCode; the outcome is unknown".to_string(),
        ),
        (400..=499, _) => fail(ErrorKind::GatewayRejected, format!("the gateway refused the request (HTTP {status})")),
        _ => fail(
            ErrorKind::OutcomeUnknown,
            format!("the gateway answered HTTP {status}; the outcome is unknown"),
        ),
    }
}

/// Reads a successful answer's state (refundStatus, ...): done answers as
/// is; a final failure or a state that is not final becomes an error, so
/// that `Ok` always means the effect is final and done.
fn settle(prepared: &PreparedRequest, answer: Answer) -> Result<Answer> {
    let Some(settlement) = prepared.settlement else {
        return Ok(answer);
    };
    let (kind, state, message) = match settlement.read(&answer.value) {
        ops::Settled::Done => return Ok(answer),
        ops::Settled::Failed(state) => (
            ErrorKind::OperationFailed,
            state,
            "the gateway processed the request and reports it failed; nothing moved",
        ),
        ops::Settled::Pending(state) => (
            ErrorKind::Pending,
            state,
            "the gateway accepted the request but it is not final yet: query until final, do not resend",
        ),
    };
    let field = settlement.field_name();
    let shown = if state.is_empty() {
        "absent"
    } else {
        state.as_str()
    };
    let mut e = Error::new(kind, format!("{message} ({field} {shown})"));
    e.http_status = Some(200);
    e.err_code = Some("SUCCESS".to_string());
    e.err_msg = answer
        .value
        .get("errMsg")
        .and_then(Value::as_str)
        .map(str::to_string);
    e.state = Some((field, state));
    e.response = Some(answer.value);
    Err(e)
}

/// The embedded simulator, started once per process on first use.
fn embedded_sandbox_url() -> Result<String> {
    static SANDBOX: once_cell::sync::OnceCell<crate::sandbox::Sandbox> =
        once_cell::sync::OnceCell::new();
    SANDBOX
        .get_or_try_init(crate::sandbox::Sandbox::start_default)
        .map(|s| s.base_url())
        .map_err(|e| {
            Error::new(
                ErrorKind::Connect,
                format!("could not start the embedded sandbox: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            content_type: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn answers_are_classified() {
        assert!(classify_answer(answer(200, r#"{"errCode":"SUCCESS"}"#)).is_ok());
        let e = classify_answer(answer(
            200,
            r#"{"errCode":"DUP_ORDER","errMsg":"账单号重复"}"#,
        ))
        .unwrap_err();
        assert_eq!(
            (e.kind, e.err_code.as_deref(), e.err_msg.as_deref()),
            (
                ErrorKind::GatewayRejected,
                Some("DUP_ORDER"),
                Some("账单号重复")
            )
        );
        for code in OUTCOME_UNKNOWN_CODES {
            let e =
                classify_answer(answer(200, &format!(r#"{{"errCode":"{code}"}}"#))).unwrap_err();
            assert_eq!(e.kind, ErrorKind::OutcomeUnknown);
        }
        let twice = r#"{"errCode":"TIMEOUT","errCode":"SUCCESS"}"#;
        assert_eq!(
            classify_answer(answer(200, twice)).unwrap_err().kind,
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(
            classify_answer(answer(200, "<html>")).unwrap_err().kind,
            ErrorKind::OutcomeUnknown
        );
        assert_eq!(
            classify_answer(answer(502, "<html>")).unwrap_err().kind,
            ErrorKind::OutcomeUnknown
        );
        let e = classify_answer(answer(401, r#"{"errCode":"BAD_SIGN"}"#)).unwrap_err();
        assert_eq!(
            (e.kind, e.http_status),
            (ErrorKind::GatewayRejected, Some(401))
        );
    }

    #[test]
    fn unknown_codes_are_unknown_whatever_the_http_status() {
        for (status, code) in [
            (400, "TIMEOUT"),
            (504, "TIMEOUT"),
            (200, "INVALID_ORDER"),
            (200, "INVALID_RESPONSE"),
        ] {
            let e =
                classify_answer(answer(status, &format!(r#"{{"errCode":"{code}"}}"#))).unwrap_err();
            assert_eq!(e.kind, ErrorKind::OutcomeUnknown, "HTTP {status} {code}");
        }
        let e = classify_answer(answer(200, r#"{"errCode":"DUP_ORDER"}"#)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::GatewayRejected);
        assert!(e.message.contains("earlier request"), "{}", e.message);
        let e = classify_answer(answer(401, r#"{"errCode":"TIMEOUT"}"#)).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::GatewayRejected,
            "401 is the auth layer's refusal"
        );
    }

    /// Every operation whose answer carries a state: done, failed or
    /// pending, an absent state included.
    #[test]
    fn successful_answers_are_settled_by_their_state() {
        use serde_json::json;
        let cases = [
            (&ops::REFUND, json!({"refundStatus": "SUCCESS"}), None),
            (
                &ops::REFUND,
                json!({"refundStatus": "FAIL"}),
                Some(ErrorKind::OperationFailed),
            ),
            (
                &ops::REFUND,
                json!({"refundStatus": "PROCESSING"}),
                Some(ErrorKind::Pending),
            ),
            (
                &ops::REFUND,
                json!({"refundStatus": "UNKNOWN"}),
                Some(ErrorKind::Pending),
            ),
            (&ops::REFUND, json!({}), Some(ErrorKind::Pending)),
            (
                &ops::PREAUTH_COMPLETE,
                json!({"authedBillPayment": {"status": "TRADE_SUCCESS"}}),
                None,
            ),
            (
                &ops::PREAUTH_COMPLETE,
                json!({"authedBillPayment": {"status": "TRADE_CLOSED"}}),
                Some(ErrorKind::OperationFailed),
            ),
            (
                &ops::PREAUTH_COMPLETE,
                json!({"authedBillPayment": {"status": "WAIT_BUYER_PAY"}}),
                Some(ErrorKind::Pending),
            ),
            (
                &ops::PREAUTH_CANCEL,
                json!({"cancelBillPayment": {"status": "TRADE_CLOSED"}}),
                None,
            ),
            (
                &ops::PREAUTH_CANCEL,
                json!({"cancelBillPayment": {"status": "UNKNOWN"}}),
                Some(ErrorKind::Pending),
            ),
            (
                &ops::SECURE_COMPLETE,
                json!({"secureStatus": "PARTLY_COMPLETED"}),
                None,
            ),
            (
                &ops::SECURE_COMPLETE,
                json!({"secureStatus": "ALL_COMPLETED"}),
                None,
            ),
            (
                &ops::SECURE_COMPLETE,
                json!({"secureStatus": "UNCOMPLETED"}),
                Some(ErrorKind::Pending),
            ),
            (
                &ops::SECURE_COMPLETE,
                json!({"secureStatus": "CANCELED"}),
                Some(ErrorKind::OperationFailed),
            ),
            (
                &ops::SECURE_CANCEL,
                json!({"secureStatus": "CANCELED"}),
                None,
            ),
            (
                &ops::SECURE_CANCEL,
                json!({"secureStatus": "UNCOMPLETED"}),
                Some(ErrorKind::Pending),
            ),
            (&ops::UPDATE_QRCODE, json!({"billStatus": "UNPAID"}), None),
            (&ops::QUERY_BILL, json!({"billStatus": "UNPAID"}), None),
        ];
        for (op, fields, expected) in cases {
            let mut value = fields.clone();
            value["errCode"] = "SUCCESS".into();
            let prepared = PreparedRequest {
                url: String::new(),
                path: op.path.to_string(),
                body: Vec::new(),
                money_moving: op.money_moving,
                settlement: op.settlement.as_ref(),
            };
            let got = settle(
                &prepared,
                Answer {
                    text: value.to_string(),
                    value,
                },
            );
            assert_eq!(got.err().map(|e| e.kind), expected, "{} {fields}", op.name);
        }
    }

    #[test]
    fn service_paths_are_checked() {
        assert!(check_service_path("/v1/netpay/bills/query").is_ok());
        for bad in [
            "v1/x",
            "/v2/x",
            "/v1/../admin",
            "/v1//x",
            "/v1/x?y=1",
            "/v1/x y",
            "/v1/é",
            "/v1/",
            "/v1/...",
            "/v1/x/",
        ] {
            assert!(check_service_path(bad).is_err(), "{bad}");
        }
    }
}
