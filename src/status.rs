//! Status codes of the C ABI. Values are explicit and never reused.

use chinaums::error::ErrorKind;
use std::ffi::CStr;

/// The result of every fallible export: a plain `int32_t` returned by value,
/// `UMS_OK` (0) or one of the `UMS_ERR_*` values. A value never changes
/// meaning; later versions may add values, so treat unknown values as
/// errors. `ums_status_str` describes any value, known or not, with a static
/// string.
pub type UmsStatus = i32;

/// Success.
pub const UMS_OK: UmsStatus = 0;
/// A required pointer argument was NULL.
pub const UMS_ERR_NULL_POINTER: UmsStatus = 1;
/// A text argument was not valid UTF-8.
pub const UMS_ERR_INVALID_UTF8: UmsStatus = 2;
/// A JSON argument was not valid JSON, or not a JSON object.
pub const UMS_ERR_INVALID_JSON: UmsStatus = 3;
/// `out_cap` is too small: `*out_len + 1` bytes are needed.
///
/// Local exports (no network): call again with a bigger buffer.
///
/// Operation exports (`ums_update_qrcode` ... `ums_secure_complete`,
/// `ums_call`), two cases, told apart by the small document in the buffer:
/// - `"nothingSent":true`: `out_cap` was below `UMS_MIN_OUT_CAP`; nothing
///   was sent (`*out_len` is `UMS_MIN_OUT_CAP - 1`). Call again with at least
///   `UMS_MIN_OUT_CAP` bytes.
/// - `"answerId":"..."`: THE REQUEST WAS SENT and its document (of status
///   `answerStatus`) is kept for 120 s: fetch it with
///   `ums_take_answer(client, answerId, ...)` and a buffer of `needed`
///   bytes. DO NOT call the operation again to get it: that sends a NEW
///   request (a second QR code, a second refund attempt), and no call ever
///   receives another call's answer.
pub const UMS_ERR_BUFFER_TOO_SMALL: UmsStatus = 4;
/// An argument is invalid (service path, size, timestamp or nonce format).
pub const UMS_ERR_INVALID_ARGUMENT: UmsStatus = 5;
/// The client configuration is invalid; the document's `field` names the key.
pub const UMS_ERR_CONFIG: UmsStatus = 6;
/// A request field breaks a rule; the document's `field` names it. Nothing was sent.
pub const UMS_ERR_VALIDATION: UmsStatus = 7;
/// No connection to the gateway could be made. Nothing was sent.
pub const UMS_ERR_CONNECT: UmsStatus = 8;
/// The TLS handshake failed (unknown CA, expired certificate, wrong host). Nothing was sent.
pub const UMS_ERR_TLS: UmsStatus = 9;
/// The gateway refused the request; `errCode`/`errMsg` are in the document.
pub const UMS_ERR_GATEWAY_REJECTED: UmsStatus = 10;
/// The request may have reached the gateway and its effect is unknown: do not
/// resend a money-moving call, query the bill first.
pub const UMS_ERR_OUTCOME_UNKNOWN: UmsStatus = 11;
/// The token endpoint refused to issue an access token. The business request was not sent.
pub const UMS_ERR_TOKEN_REJECTED: UmsStatus = 12;
/// A notification's signature does not match: do not trust it.
pub const UMS_ERR_NOTIFY_BAD_SIGNATURE: UmsStatus = 13;
/// A notification has no `sign` field.
pub const UMS_ERR_NOTIFY_MISSING_SIGN: UmsStatus = 14;
/// A notification's `signType` is neither MD5 nor SHA256, or is MD5 and the
/// client's `notifySignTypes` accepts only SHA256.
pub const UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE: UmsStatus = 15;
/// A notification repeats a field name.
pub const UMS_ERR_NOTIFY_DUPLICATE_FIELD: UmsStatus = 16;
/// A notification body is not a well-formed form.
pub const UMS_ERR_NOTIFY_MALFORMED: UmsStatus = 17;
/// The gateway accepted the request but its effect is not final yet
/// (`refundStatus` PROCESSING or UNKNOWN, or another non-final state; the
/// document's `stateField`/`state` say which): no money has settled for
/// sure. Query (`ums_query_bill`) until the state is final; never resend.
pub const UMS_ERR_PENDING: UmsStatus = 18;
/// The gateway processed the request and reports that it failed (for
/// example `refundStatus` FAIL): final, nothing moved. A new request (with a
/// new identifier) may be sent.
pub const UMS_ERR_OPERATION_FAILED: UmsStatus = 19;
/// `ums_take_answer`: no kept answer has this id. It expired (120 s after it
/// was kept), was evicted (16 newer answers were kept by this client) or was
/// already taken. The request it answered was NOT sent again: its outcome is
/// unknown to this caller (`"outcomeUnknown":true`), so query before deciding.
pub const UMS_ERR_ANSWER_GONE: UmsStatus = 20;
/// A bug in the library (never a caller error).
pub const UMS_ERR_INTERNAL: UmsStatus = 98;
/// The library panicked; the call was abandoned and the process is intact.
pub const UMS_ERR_PANIC: UmsStatus = 99;

/// Every status with its name and description, in value order.
pub const ALL: &[(UmsStatus, &str, &CStr)] = &[
    (UMS_OK, "UMS_OK", c"success"),
    (
        UMS_ERR_NULL_POINTER,
        "UMS_ERR_NULL_POINTER",
        c"a required pointer argument was NULL",
    ),
    (
        UMS_ERR_INVALID_UTF8,
        "UMS_ERR_INVALID_UTF8",
        c"a text argument is not valid UTF-8",
    ),
    (
        UMS_ERR_INVALID_JSON,
        "UMS_ERR_INVALID_JSON",
        c"a JSON argument is not a valid JSON object",
    ),
    (
        UMS_ERR_BUFFER_TOO_SMALL,
        "UMS_ERR_BUFFER_TOO_SMALL",
        c"the output buffer is too small; *out_len + 1 bytes are needed (operations: the request was sent unless nothingSent; take the kept answer with ums_take_answer, do not call again)",
    ),
    (
        UMS_ERR_INVALID_ARGUMENT,
        "UMS_ERR_INVALID_ARGUMENT",
        c"an argument is invalid",
    ),
    (
        UMS_ERR_CONFIG,
        "UMS_ERR_CONFIG",
        c"the client configuration is invalid",
    ),
    (
        UMS_ERR_VALIDATION,
        "UMS_ERR_VALIDATION",
        c"a request field breaks a rule; nothing was sent",
    ),
    (
        UMS_ERR_CONNECT,
        "UMS_ERR_CONNECT",
        c"could not connect to the gateway; nothing was sent",
    ),
    (
        UMS_ERR_TLS,
        "UMS_ERR_TLS",
        c"the TLS handshake failed; nothing was sent",
    ),
    (
        UMS_ERR_GATEWAY_REJECTED,
        "UMS_ERR_GATEWAY_REJECTED",
        c"the gateway rejected the request",
    ),
    (
        UMS_ERR_OUTCOME_UNKNOWN,
        "UMS_ERR_OUTCOME_UNKNOWN",
        c"the outcome is unknown: query before deciding, do not resend",
    ),
    (
        UMS_ERR_TOKEN_REJECTED,
        "UMS_ERR_TOKEN_REJECTED",
        c"the gateway refused to issue an access token",
    ),
    (
        UMS_ERR_NOTIFY_BAD_SIGNATURE,
        "UMS_ERR_NOTIFY_BAD_SIGNATURE",
        c"the notification signature does not match",
    ),
    (
        UMS_ERR_NOTIFY_MISSING_SIGN,
        "UMS_ERR_NOTIFY_MISSING_SIGN",
        c"the notification has no sign field",
    ),
    (
        UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE,
        "UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE",
        c"the notification signType is unknown or not accepted (notifySignTypes)",
    ),
    (
        UMS_ERR_NOTIFY_DUPLICATE_FIELD,
        "UMS_ERR_NOTIFY_DUPLICATE_FIELD",
        c"the notification repeats a field",
    ),
    (
        UMS_ERR_NOTIFY_MALFORMED,
        "UMS_ERR_NOTIFY_MALFORMED",
        c"the notification body is not a well-formed form",
    ),
    (
        UMS_ERR_PENDING,
        "UMS_ERR_PENDING",
        c"accepted but not final yet: query until final, do not resend",
    ),
    (
        UMS_ERR_OPERATION_FAILED,
        "UMS_ERR_OPERATION_FAILED",
        c"the gateway reports the operation failed; nothing moved",
    ),
    (
        UMS_ERR_ANSWER_GONE,
        "UMS_ERR_ANSWER_GONE",
        c"no kept answer with this id; the request was not sent again",
    ),
    (
        UMS_ERR_INTERNAL,
        "UMS_ERR_INTERNAL",
        c"internal error in the library",
    ),
    (
        UMS_ERR_PANIC,
        "UMS_ERR_PANIC",
        c"the library panicked; the call was abandoned",
    ),
];

/// A status value with its name, for error documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub UmsStatus);

impl Status {
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(v, _, _)| *v == self.0)
            .map(|(_, name, _)| *name)
            .unwrap_or("UMS_ERR_UNKNOWN_STATUS")
    }

    pub fn description(self) -> &'static CStr {
        ALL.iter()
            .find(|(v, _, _)| *v == self.0)
            .map(|(_, _, text)| *text)
            .unwrap_or(c"unknown status value")
    }
}

impl From<ErrorKind> for Status {
    fn from(kind: ErrorKind) -> Status {
        Status(match kind {
            ErrorKind::Config => UMS_ERR_CONFIG,
            ErrorKind::Validation => UMS_ERR_VALIDATION,
            ErrorKind::InvalidJson => UMS_ERR_INVALID_JSON,
            ErrorKind::InvalidArgument => UMS_ERR_INVALID_ARGUMENT,
            ErrorKind::Connect => UMS_ERR_CONNECT,
            ErrorKind::Tls => UMS_ERR_TLS,
            ErrorKind::GatewayRejected => UMS_ERR_GATEWAY_REJECTED,
            ErrorKind::OutcomeUnknown => UMS_ERR_OUTCOME_UNKNOWN,
            ErrorKind::TokenRejected => UMS_ERR_TOKEN_REJECTED,
            ErrorKind::Pending => UMS_ERR_PENDING,
            ErrorKind::OperationFailed => UMS_ERR_OPERATION_FAILED,
            ErrorKind::NotifyBadSignature => UMS_ERR_NOTIFY_BAD_SIGNATURE,
            ErrorKind::NotifyMissingSign => UMS_ERR_NOTIFY_MISSING_SIGN,
            ErrorKind::NotifyUnknownSignType => UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE,
            ErrorKind::NotifyDuplicateField => UMS_ERR_NOTIFY_DUPLICATE_FIELD,
            ErrorKind::NotifyMalformed => UMS_ERR_NOTIFY_MALFORMED,
            ErrorKind::Internal => UMS_ERR_INTERNAL,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_unique_and_named() {
        for (i, (v, name, _)) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|(w, n, _)| w != v && n != name));
            assert_eq!(Status(*v).name(), *name);
        }
        assert_eq!(Status(12345).name(), "UMS_ERR_UNKNOWN_STATUS");
    }
}
