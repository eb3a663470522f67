//! The resolve table: per money-moving operation, the read-only query
//! that confirms its effect and the answer fields that prove it
//! (docs/protocol.md §4). [`TABLE`] is the same table as text, printed by
//! the README ("Reliability") and `ums resolve --table`.

use super::{CallRecord, Finding};
use crate::client::Client;
use crate::error::Result;
use crate::ops;
use serde_json::{json, Map, Value};

/// The money-moving operations `resolve` knows.
pub const OPERATIONS: &[&str] = &[
    "get-qrcode",
    "update-qrcode",
    "close-qrcode",
    "refund",
    "preauth-complete",
    "preauth-cancel",
    "secure-complete",
    "secure-cancel",
];

/// One row: operation, confirming query, what proves "applied", what
/// proves "absent", where there is no proof (and what `"resolvable": true`
/// adds before sending so that there always is).
pub const TABLE: &[[&str; 5]] = &[
    [
        "get-qrcode, one-off (billNo)",
        "query-bill billNo+billDate",
        "the bill exists (billStatus, qrCodeId, billQRCode)",
        "NO_ORDER",
        "billNo used by another code's bill",
    ],
    [
        "get-qrcode, fixed code",
        "query-qrcode-info qrCodeId+systemId",
        "the code exists (qrCodeStatus, billQRCode)",
        "NO_ORDER (with the request's own systemId)",
        "no qrCodeId in the request (the gateway numbers the code); no systemId and NO_ORDER. resolvable: adds qrCodeId and systemId",
    ],
    [
        "update-qrcode",
        "query-bill billNo+billDate",
        "the bill exists on this qrCodeId",
        "NO_ORDER",
        "no billNo in the request; billNo on another code. resolvable: adds billNo+billDate",
    ],
    [
        "close-qrcode",
        "query-qrcode-info qrCodeId+systemId (systemId defaults to qrCodeId)",
        "qrCodeStatus CLOSED (by this request or an earlier one: the code is closed either way)",
        "qrCodeStatus VALID / EXPIRED, or NO_ORDER with the request's own systemId",
        "no systemId and NO_ORDER",
    ],
    [
        "refund (refundOrderId)",
        "query-bill billNo+billDate, then with refundOrderId",
        "refundBillPayment.refundStatus SUCCESS (PROCESSING / UNKNOWN: pending; FAIL: not applied, nothing moved)",
        "NO_ORDER for the bill or the refundOrderId",
        "-",
    ],
    [
        "refund without refundOrderId",
        "query-bill billNo+billDate",
        "- (the gateway numbers the refund)",
        "the bill shows no refund at all (no billPayment.refundAmount, billStatus not REFUND)",
        "the bill shows some refund. resolvable: adds refundOrderId",
    ],
    [
        "preauth-complete",
        "query-bill billNo+billDate, then with authedOrderId",
        "authedBillPayment.status TRADE_SUCCESS (other states: pending)",
        "NO_ORDER for the bill or the authedOrderId",
        "-",
    ],
    [
        "preauth-cancel",
        "query-bill billNo+billDate",
        "billStatus CLOSED (cancelled by this request or an earlier one)",
        "any other billStatus, or NO_ORDER",
        "- (no query by cancelOrderId exists; a pre-authorisation is cancelled at most once)",
    ],
    [
        "secure-cancel",
        "query-bill of the trade's bill (\"bill\" given to resolve)",
        "billPayment.secureStatus CANCELED (billPayment.merOrderId = merOrderId; by this request or an earlier one)",
        "any other secureStatus, or NO_ORDER",
        "no \"bill\" given (the request names only merOrderId and no query finds a trade by it); merOrderId not the bill's",
    ],
    [
        "secure-complete",
        "query-bill of the trade's bill (\"bill\" given to resolve)",
        "- (no completion id exists: completions add up in completedAmount)",
        "nothing completed (completedAmount 0, secureStatus UNCOMPLETED) or CANCELED, or NO_ORDER",
        "something completed; no \"bill\" given; merOrderId not the bill's",
    ],
];

/// Queries the gateway for `record`'s effect.
pub(crate) fn find(client: &Client, record: &CallRecord) -> Result<Finding> {
    match record.operation.name {
        "get-qrcode" => get_qrcode(client, record),
        "update-qrcode" => update_qrcode(client, record),
        "close-qrcode" => close_qrcode(client, record),
        "refund" => refund(client, record),
        "preauth-complete" => preauth_complete(client, record),
        "preauth-cancel" => preauth_cancel(client, record),
        "secure-complete" | "secure-cancel" => secure(client, record),
        other => Ok(Finding::NoProof(format!("`{other}` is not money-moving"))),
    }
}

/// The answer's fields named in `keys` (the evidence), with the query.
fn evidence(query: &str, answer: &Value, keys: &[&str]) -> Value {
    let mut fields = Map::new();
    for key in keys {
        if let Some(v) = answer.get(*key) {
            fields.insert(key.to_string(), v.clone());
        }
    }
    json!({"query": query, "answer": Value::Object(fields)})
}

const BILL_KEYS: &[&str] = &[
    "billNo",
    "billDate",
    "billStatus",
    "totalAmount",
    "qrCodeId",
    "billQRCode",
    "createTime",
    "billPayment",
];

/// A query's request with the call's merchant routing (mid, tid, instMid).
fn query_request(record: &CallRecord, fields: &[(&str, &str)], tid: bool) -> Map<String, Value> {
    let mut request = Map::new();
    let routing: &[&str] = if tid {
        &["mid", "tid", "instMid"]
    } else {
        &["mid", "instMid"]
    };
    for key in routing {
        if let Some(v) = record.text(key) {
            request.insert(key.to_string(), v.into());
        }
    }
    for (k, v) in fields {
        request.insert(k.to_string(), (*v).into());
    }
    request
}

/// `bills/query`: the answer, or None for NO_ORDER.
fn query_bill(
    client: &Client,
    record: &CallRecord,
    bill: (&str, &str),
    extra: Option<(&str, &str)>,
) -> Result<Option<Value>> {
    let mut fields = vec![("billNo", bill.0), ("billDate", bill.1)];
    fields.extend(extra);
    let request = query_request(record, &fields, true);
    not_found_is_none(client.execute(&ops::QUERY_BILL, request))
}

/// `bills/query-qrcode-info`: the answer, or None for NO_ORDER.
fn query_code(
    client: &Client,
    record: &CallRecord,
    qr_code_id: &str,
    system_id: &str,
) -> Result<Option<Value>> {
    let fields = [("qrCodeId", qr_code_id), ("systemId", system_id)];
    let request = query_request(record, &fields, false);
    not_found_is_none(client.execute(&ops::QUERY_QRCODE_INFO, request))
}

fn not_found_is_none(result: Result<crate::client::Answer>) -> Result<Option<Value>> {
    match result {
        Ok(answer) => Ok(Some(answer.value)),
        Err(e) if e.err_code.as_deref() == Some("NO_ORDER") => Ok(None),
        Err(e) => Err(e),
    }
}

fn no_order(query: &str, what: &str) -> Finding {
    Finding::Absent(
        json!({"query": query, "answer": {"errCode": "NO_ORDER"}}),
        what.to_string(),
    )
}

fn bill_of(record: &CallRecord) -> Option<(&str, &str)> {
    Some((record.text("billNo")?, record.text("billDate")?))
}

fn get_qrcode(client: &Client, record: &CallRecord) -> Result<Finding> {
    if let Some(bill) = bill_of(record) {
        return bill_on_code(client, record, bill);
    }
    let Some(qr_code_id) = record.text("qrCodeId") else {
        return Ok(Finding::NoProof(
            "a fixed code requested without billNo or qrCodeId: the gateway numbers it and no query finds it by anything the request carried (send with \"resolvable\": true)".into(),
        ));
    };
    let own_system_id = record.text("systemId");
    match query_code(
        client,
        record,
        qr_code_id,
        own_system_id.unwrap_or(qr_code_id),
    )? {
        Some(answer) => Ok(Finding::Present(evidence(
            "query-qrcode-info",
            &answer,
            &[
                "qrCodeId",
                "systemId",
                "qrCodeStatus",
                "qrCodeType",
                "billQRCode",
                "totalAmount",
            ],
        ))),
        None if own_system_id.is_some() => Ok(no_order(
            "query-qrcode-info",
            "no code with this qrCodeId and systemId",
        )),
        None => Ok(Finding::NoProof(
            "the request has no systemId and the code is not found under its qrCodeId as systemId"
                .into(),
        )),
    }
}

/// The bill a get-qrcode / update-qrcode request put on its code.
fn bill_on_code(client: &Client, record: &CallRecord, bill: (&str, &str)) -> Result<Finding> {
    let Some(answer) = query_bill(client, record, bill, None)? else {
        return Ok(no_order(
            "query-bill",
            "no bill with this billNo and billDate",
        ));
    };
    let code = answer.get("qrCodeId").and_then(Value::as_str);
    match (record.text("qrCodeId"), code) {
        (Some(asked), Some(found)) if asked != found => Ok(Finding::NoProof(format!(
            "the bill exists on another code ({found}): this billNo was used by another request"
        ))),
        _ => Ok(Finding::Present(evidence("query-bill", &answer, BILL_KEYS))),
    }
}

fn update_qrcode(client: &Client, record: &CallRecord) -> Result<Finding> {
    match bill_of(record) {
        Some(bill) => bill_on_code(client, record, bill),
        None => Ok(Finding::NoProof(
            "update-qrcode without billNo: the gateway numbers the bill, and a code's current bill may come from a later request (send with \"resolvable\": true)".into(),
        )),
    }
}

fn close_qrcode(client: &Client, record: &CallRecord) -> Result<Finding> {
    let Some(qr_code_id) = record.text("qrCodeId") else {
        return Ok(Finding::NoProof("the request has no qrCodeId".into()));
    };
    let own_system_id = record.text("systemId");
    let Some(answer) = query_code(
        client,
        record,
        qr_code_id,
        own_system_id.unwrap_or(qr_code_id),
    )?
    else {
        return Ok(match own_system_id {
            Some(_) => no_order("query-qrcode-info", "no code with this qrCodeId and systemId"),
            None => Finding::NoProof(
                "the request has no systemId and the code is not found under its qrCodeId as systemId".into(),
            ),
        });
    };
    let proof = evidence(
        "query-qrcode-info",
        &answer,
        &[
            "qrCodeId",
            "systemId",
            "qrCodeStatus",
            "billNo",
            "billDate",
            "billStatus",
        ],
    );
    match answer.get("qrCodeStatus").and_then(Value::as_str) {
        Some("CLOSED") => Ok(Finding::Present(proof)),
        Some(state) => {
            let what = format!("the code is not closed (qrCodeStatus {state})");
            Ok(Finding::Absent(proof, what))
        }
        None => Ok(Finding::NoProof("the answer has no qrCodeStatus".into())),
    }
}

fn refund(client: &Client, record: &CallRecord) -> Result<Finding> {
    let Some(bill) = bill_of(record) else {
        return Ok(Finding::NoProof(
            "the request has no billNo or billDate".into(),
        ));
    };
    let Some(answer) = query_bill(client, record, bill, None)? else {
        return Ok(no_order(
            "query-bill",
            "no bill with this billNo and billDate",
        ));
    };
    let Some(refund_order_id) = record.text("refundOrderId") else {
        let refunded = answer
            .pointer("/billPayment/refundAmount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let status = answer.get("billStatus").and_then(Value::as_str);
        if refunded == 0 && status != Some("REFUND") {
            return Ok(Finding::Absent(
                evidence("query-bill", &answer, BILL_KEYS),
                "the bill shows no refund at all".into(),
            ));
        }
        return Ok(Finding::NoProof(format!(
            "a refund without refundOrderId: the bill shows {refunded} fen refunded, and nothing tells whether this request is part of it (send with \"resolvable\": true)"
        )));
    };
    let order = OrderOnBill {
        id: ("refundOrderId", refund_order_id),
        payment: "refundBillPayment",
        state: "refundStatus",
        missing: "the bill has no refund with this refundOrderId",
    };
    let (proof, state) = match order.find(client, record, bill)? {
        Ok(found) => found,
        Err(absent) => return Ok(absent),
    };
    Ok(match state.as_str() {
        "SUCCESS" => Finding::Present(proof),
        "FAIL" => Finding::Failed(proof, "refundStatus FAIL".into()),
        other => Finding::Underway(proof, format!("refundStatus {}", shown(other))),
    })
}

/// One order of a bill (a refund, a pre-authorisation's completion): the
/// bill queried with the order's id, the member of the answer that
/// describes it, and that member's state field.
struct OrderOnBill<'a> {
    id: (&'static str, &'a str),
    payment: &'static str,
    state: &'static str,
    /// What "not found" means, for the verdict's message.
    missing: &'static str,
}

impl OrderOnBill<'_> {
    /// The evidence and the order's state (empty when absent), or the
    /// finding "not found" (NO_ORDER).
    fn find(
        &self,
        client: &Client,
        record: &CallRecord,
        bill: (&str, &str),
    ) -> Result<std::result::Result<(Value, String), Finding>> {
        let Some(answer) = query_bill(client, record, bill, Some(self.id))? else {
            return Ok(Err(no_order("query-bill", self.missing)));
        };
        let proof = evidence(
            "query-bill",
            &answer,
            &["billNo", "billDate", "billStatus", self.payment],
        );
        let state = answer
            .get(self.payment)
            .and_then(|p| p.get(self.state))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Ok(Ok((proof, state)))
    }
}

fn shown(state: &str) -> &str {
    if state.is_empty() {
        "absent"
    } else {
        state
    }
}

fn preauth_complete(client: &Client, record: &CallRecord) -> Result<Finding> {
    let (Some(bill), Some(order_id)) = (bill_of(record), record.text("authedOrderId")) else {
        return Ok(Finding::NoProof(
            "the request has no billNo, billDate or authedOrderId".into(),
        ));
    };
    if query_bill(client, record, bill, None)?.is_none() {
        return Ok(no_order(
            "query-bill",
            "no bill with this billNo and billDate",
        ));
    }
    let order = OrderOnBill {
        id: ("authedOrderId", order_id),
        payment: "authedBillPayment",
        state: "status",
        missing: "the bill has no completion with this authedOrderId",
    };
    let (proof, state) = match order.find(client, record, bill)? {
        Ok(found) => found,
        Err(absent) => return Ok(absent),
    };
    Ok(match state.as_str() {
        "TRADE_SUCCESS" => Finding::Present(proof),
        other => Finding::Underway(proof, format!("authedBillPayment.status {}", shown(other))),
    })
}

fn preauth_cancel(client: &Client, record: &CallRecord) -> Result<Finding> {
    let Some(bill) = bill_of(record) else {
        return Ok(Finding::NoProof(
            "the request has no billNo or billDate".into(),
        ));
    };
    let Some(answer) = query_bill(client, record, bill, None)? else {
        return Ok(no_order(
            "query-bill",
            "no bill with this billNo and billDate",
        ));
    };
    let proof = evidence("query-bill", &answer, BILL_KEYS);
    match answer.get("billStatus").and_then(Value::as_str) {
        Some("CLOSED") => Ok(Finding::Present(proof)),
        other => {
            let what = format!(
                "the pre-authorisation is not cancelled (billStatus {})",
                shown(other.unwrap_or(""))
            );
            Ok(Finding::Absent(proof, what))
        }
    }
}

/// secure-complete and secure-cancel: through the bill the caller names.
fn secure(client: &Client, record: &CallRecord) -> Result<Finding> {
    let Some((bill_no, bill_date)) = &record.bill else {
        return Ok(Finding::NoProof(format!(
            "{} names only merOrderId and no query finds a guaranteed trade by it: give resolve the trade's bill (\"bill\": {{\"billNo\", \"billDate\"}})",
            record.operation.name
        )));
    };
    let Some(answer) = query_bill(client, record, (bill_no, bill_date), None)? else {
        return Ok(no_order(
            "query-bill",
            "no bill with this billNo and billDate",
        ));
    };
    let proof = evidence("query-bill", &answer, BILL_KEYS);
    let payment = answer.get("billPayment");
    let field = |k: &str| payment.and_then(|p| p.get(k));
    let mer_order_id = field("merOrderId").and_then(Value::as_str);
    if mer_order_id.is_none() || mer_order_id != record.text("merOrderId") {
        return Ok(Finding::NoProof(
            "the bill's billPayment.merOrderId is not the request's merOrderId".into(),
        ));
    }
    let status = field("secureStatus").and_then(Value::as_str).unwrap_or("");
    let completed = field("completedAmount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if record.operation.name == "secure-cancel" {
        return Ok(if status == "CANCELED" {
            Finding::Present(proof)
        } else {
            let what = format!(
                "the trade is not cancelled (secureStatus {})",
                shown(status)
            );
            Finding::Absent(proof, what)
        });
    }
    Ok(match status {
        "UNCOMPLETED" if completed == 0 => {
            Finding::Absent(proof, "nothing of the trade is completed".into())
        }
        "CANCELED" => Finding::Absent(proof, "the trade is cancelled".into()),
        _ => Finding::NoProof(format!(
            "{completed} fen of the trade are completed (secureStatus {}) and completions carry no id of their own: whether this request is among them cannot be proven",
            shown(status)
        )),
    })
}

/// The table as Markdown (README, `ums resolve --table`).
pub fn markdown() -> String {
    let mut out = String::from(
        "| operation | confirming query | applied when | absent when (then not applied once the request can no longer arrive) | no proof (cannot tell) |\n|---|---|---|---|---|\n",
    );
    for row in TABLE {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out
}
