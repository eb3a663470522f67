//! Classifying what the gateway answered (docs/protocol.md §5, §6).

use super::{Answer, PreparedRequest};
use crate::error::{Error, ErrorKind, Result};
use crate::ops;
use crate::transport::HttpAnswer;
use serde_json::Value;

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
pub(super) fn settle(prepared: &PreparedRequest, answer: Answer) -> Result<Answer> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
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
}
