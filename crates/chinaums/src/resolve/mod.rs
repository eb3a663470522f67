//! Resolving "outcome unknown": given a money-moving request (or the result
//! of a call that ended without a definite answer), ask the gateway what
//! happened, with read-only queries only, and answer one [`Verdict`].
//!
//! The table of what proves each operation's effect is [`table`] (and the
//! README, "Reliability"). Two rules make a verdict safe:
//!
//! - **applied** is said only when a query shows the effect the request
//!   asked for (the bill, the refund record, the closed code, ...): a
//!   resend would then do it twice.
//! - **not applied** is said only when a query shows the effect absent AND
//!   the request can no longer arrive: a request may still be on its way
//!   (a proxy or a gateway queue holding it) when the query runs, and be
//!   applied after. The gateway refuses a request whose timestamp is more
//!   than its clock window W away from its own clock (ABNORMAL_REQUEST_TIME,
//!   TXN_DISCARDED; docs/protocol.md §2, §5). The client's clock may be up
//!   to W ahead of the gateway's for the request to be accepted at all, so
//!   once the client's clock reads `requestTimestamp + 2W + 60 s` no copy of
//!   the request can be accepted any more. Before that, an absent effect is
//!   **pending** with `retryAfter`: ask again then. W is
//!   `resolveWindowSeconds` (default 300 s, the simulator's window; the real
//!   gateway's is undocumented).
//!
//! `resolve` never sends the request again, and never sends anything but
//! `bills/query` and `bills/query-qrcode-info`.

pub mod table;

use crate::client::{parse_request, Client};
use crate::clock::BeijingTime;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{self, Operation};
use serde_json::{json, Map, Value};

/// The request fields kept to resolve a call (and written to the journal):
/// identifiers, amounts and routing. Never keys, tokens, signatures or the
/// real-name fields (`name`, `mobile`, `certNo`, ...).
pub const IDENTIFYING_FIELDS: &[&str] = &[
    "requestTimestamp",
    "mid",
    "tid",
    "instMid",
    "msgId",
    "billNo",
    "billDate",
    "qrCodeId",
    "systemId",
    "totalAmount",
    "refundOrderId",
    "refundAmount",
    "merOrderId",
    "completedAmount",
    "authedOrderId",
    "cancelOrderId",
    "attachRefund",
];

/// What `resolve` found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The gateway shows the effect: do not send the request again.
    Applied,
    /// The gateway shows the effect absent and the request can no longer
    /// arrive: it is safe to send it again (with the same identifiers).
    NotApplied,
    /// Not final yet (refund PROCESSING, or not seen while the request could
    /// still arrive): ask again later (`retryAfter` when known).
    Pending,
    /// The protocol offers no proof for this request (see [`table`]); the
    /// reason says why. Never resend blindly.
    CannotTell,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::NotApplied => "not_applied",
            Verdict::Pending => "pending",
            Verdict::CannotTell => "cannot_tell",
        }
    }

    /// Whether the verdict is final (the journal entry can be closed).
    pub fn is_final(self) -> bool {
        matches!(self, Verdict::Applied | Verdict::NotApplied)
    }
}

/// A money-moving call as `resolve` and the journal know it: the operation
/// and the identifying fields of the request exactly as it was sent.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub operation: &'static Operation,
    /// Only [`IDENTIFYING_FIELDS`].
    pub request: Map<String, Value>,
    /// The bill of a guaranteed trade (`secure-*` name only `merOrderId`):
    /// `{"billNo","billDate"}` given by the caller to `resolve`.
    pub bill: Option<(String, String)>,
}

impl CallRecord {
    /// The record of a request body about to be sent (flat or in a
    /// `{"data": {...}}` envelope).
    pub fn from_body(operation: &'static Operation, body: &[u8]) -> Option<CallRecord> {
        let Value::Object(mut object) = serde_json::from_slice(body).ok()? else {
            return None;
        };
        if object.len() == 1 && matches!(object.get("data"), Some(Value::Object(_))) {
            if let Some(Value::Object(inner)) = object.remove("data") {
                object = inner;
            }
        }
        Some(CallRecord {
            operation,
            request: identifying(&object),
            bill: None,
        })
    }

    /// `{"operation": .., "request": {..}}`: what a result document's
    /// `resolveWith`, a journal entry and `resolve`'s input carry.
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "operation": self.operation.name,
            "request": Value::Object(self.request.clone()),
        });
        if let Some((no, date)) = &self.bill {
            doc["bill"] = json!({"billNo": no, "billDate": date});
        }
        doc
    }

    pub(crate) fn text(&self, field: &str) -> Option<&str> {
        self.request
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// When the request was made, from its `requestTimestamp` (Beijing time).
    fn sent_at_ms(&self) -> Option<i64> {
        self.text("requestTimestamp")
            .and_then(BeijingTime::parse_date_time)
            .map(|t| t.to_unix_millis())
    }
}

/// The identifying fields of a request object.
pub fn identifying(request: &Map<String, Value>) -> Map<String, Value> {
    IDENTIFYING_FIELDS
        .iter()
        .filter_map(|k| request.get(*k).map(|v| (k.to_string(), v.clone())))
        .filter(|(_, v)| !v.is_null())
        .collect()
}

/// What `resolve` answers.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub verdict: Verdict,
    pub record: CallRecord,
    /// Says what was found and what to do; never a secret.
    pub message: String,
    /// The query that decided and the fields of its answer that prove it.
    pub evidence: Option<Value>,
    /// For [`Verdict::Pending`]: the client's time (Unix ms) after which a
    /// new `resolve` can say more.
    pub retry_after_ms: Option<i64>,
    /// The journal entry this resolved, and whether it is now closed.
    pub journal_id: Option<i64>,
    pub journal_closed: bool,
}

impl Resolution {
    /// The JSON document of the C ABI, the CLI and the bindings.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("verdict".into(), self.verdict.as_str().into());
        doc.insert(
            "safeToResend".into(),
            (self.verdict == Verdict::NotApplied).into(),
        );
        doc.insert("operation".into(), self.record.operation.name.into());
        doc.insert("message".into(), self.message.clone().into());
        if let Some(e) = &self.evidence {
            doc.insert("evidence".into(), e.clone());
        }
        if let Some(ms) = self.retry_after_ms {
            doc.insert(
                "retryAfter".into(),
                BeijingTime::from_unix_millis(ms).date_time().into(),
            );
            doc.insert("retryAfterUnixMs".into(), ms.into());
        }
        doc.insert("request".into(), Value::Object(self.record.request.clone()));
        if let Some(id) = self.journal_id {
            doc.insert("journalId".into(), id.into());
            doc.insert("journalClosed".into(), self.journal_closed.into());
        }
        Value::Object(doc)
    }
}

/// What the per-operation rules in [`table`] conclude, before the
/// in-flight rule turns "absent" into pending or not applied.
#[derive(Debug, Clone)]
pub(crate) enum Finding {
    /// The effect is there.
    Present(Value),
    /// The effect is not there (as of the query).
    Absent(Value, String),
    /// The effect is under way (refundStatus PROCESSING ...).
    Underway(Value, String),
    /// A final failure recorded by the gateway (refundStatus FAIL): the
    /// request was processed and did nothing; not applied at once.
    Failed(Value, String),
    /// No proof possible: the reason.
    NoProof(String),
}

/// The parsed input of `resolve`.
#[derive(Debug, Clone)]
pub struct ResolveInput {
    pub record: CallRecord,
    pub journal_id: Option<i64>,
}

/// Reads `resolve`'s input document, one of:
/// - `{"operation": "refund", "request": {...}}` (optionally `"bill":
///   {"billNo","billDate"}` for `secure-*`, and `"journalId"`);
/// - the error (or result) document of a call: its `resolveWith` member;
/// - a journal entry from `pending()` (the same members).
pub fn parse_input(text: &str) -> Result<ResolveInput> {
    let doc = parse_request(text)?;
    let doc = match doc.get("resolveWith") {
        Some(Value::Object(inner)) => inner.clone(),
        Some(_) => return Err(bad_input("`resolveWith` must be an object")),
        None => doc,
    };
    let name = doc
        .get("operation")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad_input("give {\"operation\": \"<name>\", \"request\": {...}}, or the document a call returned (with `resolveWith`)")
        })?;
    let operation = ops::find(name)
        .filter(|op| op.money_moving)
        .ok_or_else(|| {
            bad_input(&format!(
                "`{}` is not a money-moving operation ({})",
                crate::error::clip(name),
                table::OPERATIONS.join(", ")
            ))
        })?;
    let request = match doc.get("request") {
        Some(Value::Object(r)) => r.clone(),
        Some(Value::String(s)) => parse_request(s)?,
        _ => return Err(bad_input("`request` must be the request object")),
    };
    let request = match request.get("data") {
        Some(Value::Object(inner)) if request.len() == 1 => inner.clone(),
        _ => request,
    };
    let bill = match doc.get("bill") {
        None | Some(Value::Null) => None,
        Some(Value::Object(b)) => {
            let field = |k: &str| b.get(k).and_then(Value::as_str).map(str::to_string);
            match (field("billNo"), field("billDate")) {
                (Some(no), Some(date)) if BeijingTime::parse_date(&date).is_some() => {
                    Some((no, date))
                }
                _ => {
                    return Err(bad_input(
                        "`bill` must be {\"billNo\": .., \"billDate\": \"yyyy-MM-dd\"}",
                    ))
                }
            }
        }
        Some(_) => return Err(bad_input("`bill` must be an object")),
    };
    let journal_id = match doc.get("journalId") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .filter(|id| *id > 0)
                .ok_or_else(|| bad_input("`journalId` must be a positive integer"))?,
        ),
    };
    let record = CallRecord {
        operation,
        request: identifying(&request),
        bill,
    };
    if record.sent_at_ms().is_none() {
        return Err(Error::validation(
            "requestTimestamp",
            "is needed to resolve (when the request was made decides whether it can still arrive): resolve with the document the call returned, or the request as sent",
        ));
    }
    Ok(ResolveInput { record, journal_id })
}

fn bad_input(message: &str) -> Error {
    Error::new(ErrorKind::InvalidArgument, format!("resolve: {message}"))
}

impl Client {
    /// Resolves a call whose outcome is unknown (see the module docs): the
    /// input is described at [`parse_input`]. Only queries; never resends.
    /// A final verdict closes the call's journal entry. A query that fails
    /// is an error (nothing was resent; call `resolve` again).
    pub fn resolve_json(&self, input: &str) -> Result<Resolution> {
        let input = parse_input(input)?;
        self.resolve(input.record, input.journal_id)
    }

    /// [`Client::resolve_json`] on a parsed record.
    pub fn resolve(&self, record: CallRecord, journal_id: Option<i64>) -> Result<Resolution> {
        let finding = table::find(self, &record).map_err(|mut e| {
            e.message = format!(
                "resolve: the confirming query failed, nothing was resent; call resolve again ({})",
                e.message
            );
            e
        })?;
        let mut resolution = self.judge(record, finding);
        resolution.journal_id = journal_id;
        if let (Some(id), Some(journal)) = (journal_id, self.journal()) {
            if resolution.verdict.is_final() {
                let outcome = format!("resolved {}", resolution.verdict.as_str());
                resolution.journal_closed = journal.close(id, &outcome)?;
            } else {
                journal.note(id, resolution.verdict.as_str())?;
            }
        }
        Ok(resolution)
    }

    /// Turns a finding into a verdict, applying the in-flight rule.
    fn judge(&self, record: CallRecord, finding: Finding) -> Resolution {
        let mut r = Resolution {
            verdict: Verdict::CannotTell,
            record,
            message: String::new(),
            evidence: None,
            retry_after_ms: None,
            journal_id: None,
            journal_closed: false,
        };
        match finding {
            Finding::Present(evidence) => {
                r.verdict = Verdict::Applied;
                r.message =
                    "the gateway shows the effect: the request was applied; do not send it again"
                        .into();
                r.evidence = Some(evidence);
            }
            Finding::Underway(evidence, state) => {
                r.verdict = Verdict::Pending;
                r.message = format!("the gateway has the request but it is not final ({state}): resolve again later; do not send it again");
                r.evidence = Some(evidence);
            }
            Finding::Failed(evidence, state) => {
                r.verdict = Verdict::NotApplied;
                r.message = format!("the gateway processed the request and it failed ({state}): nothing moved; it is safe to send a new request (with a new identifier)");
                r.evidence = Some(evidence);
            }
            Finding::NoProof(reason) => {
                r.message = format!("cannot tell: {reason}; do not resend blindly");
            }
            Finding::Absent(evidence, what) => {
                let sent_at = r.record.sent_at_ms().unwrap_or(i64::MAX);
                let window = self.config().resolve_window.as_millis() as i64;
                let settled_at = sent_at.saturating_add(2 * window + IN_FLIGHT_MARGIN_MS);
                r.evidence = Some(evidence);
                if self.clock_now_ms() >= settled_at {
                    r.verdict = Verdict::NotApplied;
                    r.message = format!("{what}, and the request can no longer be accepted (its requestTimestamp is outside the gateway's window): not applied; it is safe to send it again");
                } else {
                    r.verdict = Verdict::Pending;
                    r.retry_after_ms = Some(settled_at);
                    r.message = format!(
                        "{what} yet, but the request could still arrive until {} (Beijing time): resolve again then; do not send it again before",
                        BeijingTime::from_unix_millis(settled_at).date_time()
                    );
                }
            }
        }
        r
    }
}

/// Added to 2 × the window: the clocks' reading and the gateway's own
/// processing time.
pub const IN_FLIGHT_MARGIN_MS: i64 = 60_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{FixedClock, RandomNonce};
    use std::sync::Arc;

    fn client_at(ms: i64) -> Client {
        let config = crate::Config::from_json(
            r#"{"environment":"http://127.0.0.1:9","appId":"a","appKey":"k","resolveWindowSeconds":300}"#,
        )
        .unwrap();
        Client::with_clock_and_nonces(config, Arc::new(FixedClock(ms)), Arc::new(RandomNonce))
            .unwrap()
    }

    fn record(sent_ms: i64) -> CallRecord {
        let mut request = Map::new();
        let ts = BeijingTime::from_unix_millis(sent_ms).date_time();
        request.insert("requestTimestamp".into(), ts.into());
        CallRecord {
            operation: &ops::REFUND,
            request,
            bill: None,
        }
    }

    /// "Absent" is pending until requestTimestamp + 2 × window + 60 s, then
    /// not applied; "present" is applied at once.
    #[test]
    fn absent_is_pending_while_the_request_could_still_arrive() {
        let sent = 1_767_225_600_000; // whole seconds, as requestTimestamp
        let settled = sent + 2 * 300_000 + IN_FLIGHT_MARGIN_MS;
        let absent = || Finding::Absent(Value::Null, "not found".into());
        let r = client_at(settled - 1).judge(record(sent), absent());
        assert_eq!(r.verdict, Verdict::Pending);
        assert_eq!(r.retry_after_ms, Some(settled));
        assert!(!r.to_json()["safeToResend"].as_bool().unwrap());
        let r = client_at(settled).judge(record(sent), absent());
        assert_eq!(r.verdict, Verdict::NotApplied);
        assert!(r.to_json()["safeToResend"].as_bool().unwrap());
        let r = client_at(sent).judge(record(sent), Finding::Present(Value::Null));
        assert_eq!(r.verdict, Verdict::Applied);
        let r = client_at(sent).judge(record(sent), Finding::NoProof("x".into()));
        assert_eq!(r.verdict, Verdict::CannotTell);
    }

    #[test]
    fn inputs_are_checked() {
        for (bad, kind) in [
            ("[]", ErrorKind::InvalidJson),
            ("{}", ErrorKind::InvalidArgument),
            (
                r#"{"operation":"query-bill","request":{}}"#,
                ErrorKind::InvalidArgument,
            ),
            (r#"{"operation":"refund"}"#, ErrorKind::InvalidArgument),
            (
                r#"{"operation":"refund","request":{}}"#,
                ErrorKind::Validation,
            ),
            (
                r#"{"operation":"secure-cancel","request":{"requestTimestamp":"2026-01-01 00:00:00"},"bill":{"billNo":"1"}}"#,
                ErrorKind::InvalidArgument,
            ),
            (r#"{"resolveWith":1}"#, ErrorKind::InvalidArgument),
        ] {
            assert_eq!(parse_input(bad).unwrap_err().kind, kind, "{bad}");
        }
        let doc = r#"{"status":"UMS_ERR_OUTCOME_UNKNOWN","resolveWith":{"operation":"refund","journalId":7,
            "request":{"requestTimestamp":"2026-01-01 00:00:00","billNo":"1","name":"x"}}}"#;
        let input = parse_input(doc).unwrap();
        assert_eq!(input.journal_id, Some(7));
        assert!(
            !input.record.request.contains_key("name"),
            "only identifying fields"
        );
    }
}
