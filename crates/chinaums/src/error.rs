//! What can go wrong, classified the way a caller has to act on it.
//!
//! Every failure is one [`ErrorKind`]. The kinds split four ways:
//! failed locally before anything was sent (config, validation, input,
//! connection, TLS), rejected by the gateway (its `errCode`/`errMsg` kept),
//! outcome unknown (the request may have reached the gateway: never resend a
//! money-moving call blindly, query first), and notification problems.
//! Messages are built only from field names, rules and gateway codes: never
//! from the app key, signatures, tokens, the notification key or real-name
//! values.

use std::fmt;

/// The class of a failure; each maps to one C status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The client configuration is invalid (names the key).
    Config,
    /// A request field breaks a rule (names the field and the rule).
    Validation,
    /// The request is not valid JSON, or not a JSON object.
    InvalidJson,
    /// An argument other than the request is invalid (service path, sizes).
    InvalidArgument,
    /// No connection could be made; nothing was sent.
    Connect,
    /// The TLS handshake failed (unknown CA, expired, wrong host); nothing was sent.
    Tls,
    /// The gateway answered and refused; its `errCode`/`errMsg` are kept.
    GatewayRejected,
    /// The request may have reached the gateway and its effect is not known.
    OutcomeUnknown,
    /// The token endpoint refused to issue a token; nothing business-related was sent.
    TokenRejected,
    /// The gateway accepted the request (`errCode` SUCCESS) but its effect is
    /// not final (`refundStatus` PROCESSING or UNKNOWN, ...): query until
    /// final, never resend. `state_field`/`state` say what was read.
    Pending,
    /// The gateway processed the request and reports a final failure
    /// (`refundStatus` FAIL): nothing moved.
    OperationFailed,
    /// A notification's signature does not match.
    NotifyBadSignature,
    /// A notification has no `sign` field.
    NotifyMissingSign,
    /// A notification's `signType` is neither MD5 nor SHA256.
    NotifyUnknownSignType,
    /// A notification repeats a field name.
    NotifyDuplicateField,
    /// A notification body is not an `application/x-www-form-urlencoded` form.
    NotifyMalformed,
    /// A bug in this library; the message says where.
    Internal,
}

impl ErrorKind {
    /// Stable name used in JSON error documents and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Validation => "validation",
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::GatewayRejected => "gateway_rejected",
            ErrorKind::OutcomeUnknown => "outcome_unknown",
            ErrorKind::TokenRejected => "token_rejected",
            ErrorKind::Pending => "pending",
            ErrorKind::OperationFailed => "operation_failed",
            ErrorKind::NotifyBadSignature => "notify_bad_signature",
            ErrorKind::NotifyMissingSign => "notify_missing_sign",
            ErrorKind::NotifyUnknownSignType => "notify_unknown_sign_type",
            ErrorKind::NotifyDuplicateField => "notify_duplicate_field",
            ErrorKind::NotifyMalformed => "notify_malformed",
            ErrorKind::Internal => "internal",
        }
    }

    /// Where the call was when it failed: `"local"` (nothing left the
    /// process), `"connect"` (the connection was being set up: resolve, TCP,
    /// proxy CONNECT, TLS handshake; not a byte of the request written) or
    /// `"sent"` (the request's first byte was handed to the socket). The
    /// transport decides the kind by this phase, never by an errno.
    pub fn phase(self) -> &'static str {
        match self {
            ErrorKind::Connect | ErrorKind::Tls => "connect",
            // A bug may strike at any point: never claim nothing was sent.
            ErrorKind::GatewayRejected
            | ErrorKind::OutcomeUnknown
            | ErrorKind::Pending
            | ErrorKind::OperationFailed
            | ErrorKind::Internal => "sent",
            // A refused token is an answer to the token request only; a
            // notification is checked locally. Listed one by one, so that a
            // new kind must say where it stands.
            ErrorKind::Config
            | ErrorKind::Validation
            | ErrorKind::InvalidJson
            | ErrorKind::InvalidArgument
            | ErrorKind::TokenRejected
            | ErrorKind::NotifyBadSignature
            | ErrorKind::NotifyMissingSign
            | ErrorKind::NotifyUnknownSignType
            | ErrorKind::NotifyDuplicateField
            | ErrorKind::NotifyMalformed => "local",
        }
    }

    /// True when nothing reached the gateway, so the call may be retried as
    /// is: the phase ended before the request's first byte was written.
    pub fn nothing_sent(self) -> bool {
        self.phase() != "sent"
    }
}

/// A failure with everything the caller needs to decide what to do next.
///
/// Boxed, so that `Result<T, Error>` stays one pointer wide on the hot
/// success path; the fields are read and written through `Deref`
/// (`e.kind`, `e.err_code`, ...).
#[derive(Clone, PartialEq)]
pub struct Error(Box<ErrorDetails>);

/// The fields of an [`Error`].
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorDetails {
    pub kind: ErrorKind,
    /// Human-readable, free of secrets.
    pub message: String,
    /// The request field or config key at fault, when there is one.
    pub field: Option<String>,
    /// The gateway's `errCode`, when it answered with one.
    pub err_code: Option<String>,
    /// The gateway's `errMsg` (or `errInfo` from the token endpoint).
    pub err_msg: Option<String>,
    /// The HTTP status of the gateway's answer, when there was one.
    pub http_status: Option<u16>,
    /// The gateway's whole answer, when it was JSON.
    pub response: Option<serde_json::Value>,
    /// For [`ErrorKind::Pending`] and [`ErrorKind::OperationFailed`]: the
    /// answer's state field (`refundStatus`, ...) and the value it had.
    pub state: Option<(String, String)>,
    /// For a money-moving call whose outcome is not final (outcome unknown,
    /// pending): the input of `resolve` (`{"operation", "request"
    /// (identifying fields only), "journalId"?}`).
    pub resolve_with: Option<serde_json::Value>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorDetails {
            kind,
            message: message.into(),
            field: None,
            err_code: None,
            err_msg: None,
            http_status: None,
            response: None,
            state: None,
            resolve_with: None,
        }))
    }

    /// A config error naming the key.
    pub fn config(key: &str, rule: impl fmt::Display) -> Self {
        let mut e = Error::new(ErrorKind::Config, format!("config key `{key}`: {rule}"));
        e.field = Some(key.to_string());
        e
    }

    /// A validation error naming the field and the rule it breaks.
    pub fn validation(field: &str, rule: impl fmt::Display) -> Self {
        let mut e = Error::new(ErrorKind::Validation, format!("field `{field}`: {rule}"));
        e.field = Some(field.to_string());
        e
    }

    /// True when the request may have reached the gateway with unknown effect.
    pub fn is_outcome_unknown(&self) -> bool {
        self.kind == ErrorKind::OutcomeUnknown
    }

    /// The JSON error document (the C layer puts its `status` name first).
    pub fn to_json(&self) -> serde_json::Value {
        let mut doc = serde_json::Map::new();
        doc.insert("kind".into(), self.kind.as_str().into());
        doc.insert("message".into(), self.message.clone().into());
        doc.insert("outcomeUnknown".into(), self.is_outcome_unknown().into());
        doc.insert("nothingSent".into(), self.kind.nothing_sent().into());
        doc.insert("phase".into(), self.kind.phase().into());
        if let Some((field, value)) = &self.state {
            doc.insert("settled".into(), (self.kind != ErrorKind::Pending).into());
            doc.insert("stateField".into(), field.clone().into());
            doc.insert("state".into(), value.clone().into());
        }
        if let Some(f) = &self.field {
            doc.insert("field".into(), f.clone().into());
        }
        if let Some(c) = &self.err_code {
            doc.insert("errCode".into(), c.clone().into());
        }
        if let Some(m) = &self.err_msg {
            doc.insert("errMsg".into(), m.clone().into());
        }
        if let Some(s) = self.http_status {
            doc.insert("httpStatus".into(), s.into());
        }
        if let Some(r) = &self.response {
            doc.insert("response".into(), r.clone());
        }
        if let Some(r) = &self.resolve_with {
            doc.insert("resolveWith".into(), r.clone());
        }
        serde_json::Value::Object(doc)
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorDetails;

    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The same shape as the bindings' exception messages: what a log
        // reader needs is the gateway's errCode AND errMsg, and the field.
        write!(f, "{}: {}", self.kind.as_str(), self.message)?;
        if let Some(field) = &self.field {
            if !self.message.contains(field.as_str()) {
                write!(f, " (field {field})")?;
            }
        }
        match (&self.err_code, &self.err_msg) {
            (Some(code), Some(msg)) if !msg.is_empty() => write!(f, " (errCode {code}: {msg})")?,
            (Some(code), _) => write!(f, " (errCode {code})")?,
            _ => {}
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A caller-supplied name cut to 64 characters for a message, so an error
/// document never grows with hostile input.
pub fn clip(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_carries_err_code_err_msg_and_field() {
        let mut e = Error::new(
            ErrorKind::GatewayRejected,
            "the gateway refused the request",
        );
        e.err_code = Some("DUP_ORDER".into());
        e.err_msg = Some("账单号重复".into());
        assert_eq!(
            e.to_string(),
            "gateway_rejected: the gateway refused the request (errCode DUP_ORDER: 账单号重复)"
        );
        // A field already named by the message is not repeated.
        let v = Error::validation("billDate", "must be yyyy-MM-dd");
        assert_eq!(
            v.to_string(),
            "validation: field `billDate`: must be yyyy-MM-dd"
        );
        let mut c = Error::new(ErrorKind::Config, "cannot open the database");
        c.field = Some("journal".into());
        assert!(c.to_string().ends_with("(field journal)"), "{c}");
    }
}
