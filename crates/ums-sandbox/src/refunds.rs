//! `bills/query` and `bills/refund`: a bill's state, and money going back.

use super::bills::{common, find_bill, Call, Reply, COMMON_ECHOES};
use super::customer::{queue_notification, refund_target_order_id, Event};
use super::fields::{Checked, Fields, Reject};
use super::guarantee;
use super::state::{
    qr_code_url, Bill, BillStatus, OrderKind, OrderRef, Payment, PaymentKind, PreauthOutcome,
    RefundRecord, SecureStatus, State,
};
use chinaums::clock::BeijingTime;
use serde_json::{Map, Value};

/// Amount limit of refunds (docs/protocol.md §4).
const MAX_AMOUNT: u64 = 100_000_000;

fn not_allowed(message: impl Into<String>) -> Reject {
    Reject::new("OPERATION_NOT_ALLOWED", message)
}

/// The `refundBillPayment` object of one refund.
pub(crate) fn refund_json(payment: &Payment, refund: &RefundRecord) -> Value {
    let mut map = Map::new();
    map.insert(
        "refundOrderId".into(),
        refund.refund_order_id.clone().into(),
    );
    map.insert(
        "refundTargetOrderId".into(),
        refund.target_order_id.clone().into(),
    );
    map.insert("refundAmount".into(), refund.amount.into());
    map.insert("refundStatus".into(), "SUCCESS".into());
    map.insert(
        "refundTime".into(),
        BeijingTime::from_unix_millis(refund.at_ms)
            .date_time()
            .into(),
    );
    map.insert("merOrderId".into(), payment.mer_order_id.clone().into());
    map.insert(
        "targetOrderId".into(),
        payment.target_order_id.clone().into(),
    );
    map.insert("targetSys".into(), payment.target_sys.clone().into());
    map.insert("totalAmount".into(), payment.total_amount.into());
    if let Some(desc) = &refund.desc {
        map.insert("refundDesc".into(), desc.clone().into());
    }
    Value::Object(map)
}

/// What can still be refunded: the captured amount minus all refunds. The
/// captured amount is the payment's total for plain payments, the completed
/// amount for pre-authorisations and guaranteed trades.
pub(crate) fn refundable(bill: &Bill) -> Checked<u64> {
    let Some(payment) = &bill.payment else {
        return Err(not_allowed(match bill.status {
            BillStatus::Closed => "账单已关闭 (未支付), 不能退款",
            _ => "账单未支付, 不能退款",
        }));
    };
    let captured = match &payment.kind {
        PaymentKind::Plain => payment.total_amount,
        PaymentKind::Preauth(p) => match &p.outcome {
            PreauthOutcome::Authorised => return Err(not_allowed(
                "预授权尚未完成 (bills/preauthed), 不能退款; 撤销预授权请用 bills/preauth-cancel",
            )),
            PreauthOutcome::Completed(step) => step.amount,
            PreauthOutcome::Cancelled(_) => {
                return Err(Reject::new("HAS_CANCELLED", "预授权已撤销, 不能退款"))
            }
        },
        PaymentKind::Secure(s) => match s.status {
            SecureStatus::Canceled => {
                return Err(Reject::new("HAS_CANCELLED", "担保交易已撤销, 不能退款"))
            }
            SecureStatus::Uncompleted => {
                return Err(not_allowed(
                    "担保交易尚未完成 (secure-complete), 不能退款; 撤销请用 secure-cancel",
                ))
            }
            _ => s.completed,
        },
    };
    Ok(captured.saturating_sub(bill.refunded()))
}

/// Records a refund of `amount` (checked by the caller against
/// [`refundable`]): the bill becomes REFUND, the refund number is taken, and
/// a refund notification is queued. Without `refund_order_id` the gateway
/// numbers the refund.
pub(crate) fn apply_refund(
    state: &mut State,
    call: &Call<'_>,
    mid: &str,
    bill_no: &str,
    amount: u64,
    refund_order_id: Option<&str>,
    desc: Option<&str>,
) -> RefundRecord {
    let msg_src_id = state.msg_src_id(call.app_id);
    let refund_order_id = match refund_order_id {
        Some(id) => id.to_string(),
        None => state.new_order_id(&msg_src_id, call.now_ms),
    };
    let date = &BeijingTime::from_unix_millis(call.now_ms).compact()[..8];
    let mut record = RefundRecord {
        refund_order_id: refund_order_id.clone(),
        amount,
        target_order_id: String::new(),
        at_ms: call.now_ms,
        desc: desc.map(str::to_string),
    };
    let Some(merchant) = state.merchants.get_mut(mid) else {
        return record;
    };
    let Some(bill) = merchant.bills.get_mut(bill_no) else {
        return record;
    };
    let target_sys = bill
        .payment
        .as_ref()
        .map(|p| p.target_sys.as_str())
        .unwrap_or("WXPay");
    record.target_order_id = refund_target_order_id(target_sys, date);
    bill.refunds.push(record.clone());
    bill.status = BillStatus::Refund;
    merchant.order_ids.insert(
        refund_order_id.clone(),
        OrderRef {
            kind: OrderKind::Refund,
            bill_no: bill_no.to_string(),
        },
    );
    queue_notification(state, mid, bill_no, Event::Refund(&refund_order_id));
    record
}

/// `bills/refund`.
///
/// - unknown bill (or another billDate) → `NO_ORDER`;
/// - unpaid or closed bill → `OPERATION_NOT_ALLOWED`; pre-authorisation not
///   yet completed, guaranteed trade not yet completed → `OPERATION_NOT_ALLOWED`;
///   cancelled ones → `HAS_CANCELLED`;
/// - a `refundOrderId` already used by this bill: the first refund's result
///   again (nothing refunded) when `refundAmount` is the same, `DUP_ORDER`
///   when it differs; used by another order of the merchant → `DUP_ORDER`;
/// - a refund without `refundOrderId` when the bill already has one →
///   `OPERATION_NOT_ALLOWED` (more than one refund needs refund numbers);
/// - `refundAmount` above what is left → `OPERATION_NOT_ALLOWED`
///   "退款金额超过可退金额 (可退 N 分)".
pub(crate) fn refund(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let bill_no = f.req_ident("billNo", 1, 32)?;
    let bill_date = f.req_date("billDate")?;
    let amount = f.req_amount("refundAmount", 1, MAX_AMOUNT)?;
    let refund_order_id = f.opt_ident_range("refundOrderId", 6, 32)?;
    let desc = f.opt_wide("refundDesc")?;
    if let Some(platform) = f.opt_amount("platformAmount", 0, MAX_AMOUNT)? {
        if platform > amount {
            return Err(Reject::bad_request("platformAmount 不能大于 refundAmount"));
        }
    }
    f.opt_object_array("subOrders")?;

    let mid = common.mid;
    let bill = find_bill(state, mid, bill_no, bill_date)?;
    if let Some(id) = refund_order_id {
        if let Some(first) = bill.refunds.iter().find(|r| r.refund_order_id == id) {
            if first.amount != amount {
                return Err(Reject::new(
                    "DUP_ORDER",
                    format!(
                        "refundOrderId 重复: 该退款已以 {} 分成功, 本次 refundAmount 不同, 未再退款",
                        first.amount
                    ),
                ));
            }
            let first = first.clone();
            let status = bill.status;
            let total = bill.total_amount;
            return Ok(refund_reply(
                call,
                bill_no,
                bill_date,
                status,
                total,
                &first,
                "退款成功 (重复的 refundOrderId: 返回首次退款的结果, 未再次退款)",
            ));
        }
        let used = state
            .merchants
            .get(mid)
            .is_some_and(|m| m.order_ids.contains_key(id));
        if used {
            return Err(Reject::new(
                "DUP_ORDER",
                "refundOrderId 已被本商户的其他订单使用",
            ));
        }
    }
    let left = refundable(bill)?;
    if refund_order_id.is_none() && !bill.refunds.is_empty() {
        return Err(not_allowed(
            "该账单已有退款: 再次退款必须提供 refundOrderId (每笔退款唯一)",
        ));
    }
    if amount > left {
        return Err(not_allowed(format!(
            "退款金额超过可退金额 (可退 {left} 分)"
        )));
    }
    let record = apply_refund(state, call, mid, bill_no, amount, refund_order_id, desc);
    let bill = find_bill(state, mid, bill_no, bill_date)?;
    Ok(refund_reply(
        call,
        bill_no,
        bill_date,
        bill.status,
        bill.total_amount,
        &record,
        "退款成功",
    ))
}

fn refund_reply(
    call: &Call<'_>,
    bill_no: &str,
    bill_date: &str,
    status: BillStatus,
    total: Option<u64>,
    record: &RefundRecord,
    message: &str,
) -> Reply {
    let mut reply = Reply::new("SUCCESS", message, call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.set("billNo", bill_no);
    reply.set("billDate", bill_date);
    reply.set("billStatus", status.as_str());
    if let Some(total) = total {
        reply.set("totalAmount", total);
    }
    reply.set("refundStatus", "SUCCESS");
    reply.set("refundOrderId", record.refund_order_id.clone());
    reply.set("refundTargetOrderId", record.target_order_id.clone());
    reply.set("refundAmount", record.amount);
    if let Some(desc) = &record.desc {
        reply.set("refundDesc", desc.clone());
    }
    reply
}

/// `bills/query`: the bill, its `billPayment` once paid; with
/// `refundOrderId` that refund's `refundBillPayment`, with `authedOrderId`
/// that completion's `authedBillPayment` (`NO_ORDER` when they do not exist).
pub(crate) fn query_bill(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let bill_no = f.req_ident("billNo", 1, 32)?;
    let bill_date = f.req_date("billDate")?;
    let refund_order_id = f.opt_ident_range("refundOrderId", 6, 32)?;
    let authed_order_id = f.opt_ident_range("authedOrderId", 1, 32)?;
    let bill = find_bill(state, common.mid, bill_no, bill_date)?;

    let refund = match refund_order_id {
        None => None,
        Some(id) => {
            let found = bill
                .refunds
                .iter()
                .find(|r| r.refund_order_id == id)
                .zip(bill.payment.as_ref());
            match found {
                Some((r, p)) => Some(refund_json(p, r)),
                None => {
                    return Err(Reject::new(
                        "NO_ORDER",
                        "退款订单不存在 (refundOrderId 没有对应的退款)",
                    ))
                }
            }
        }
    };
    let authed = match authed_order_id {
        None => None,
        Some(id) => match guarantee::authed_json(bill, id) {
            Some(v) => Some(v),
            None => {
                return Err(Reject::new(
                    "NO_ORDER",
                    "预授权完成订单不存在 (authedOrderId)",
                ))
            }
        },
    };

    let mut reply = Reply::new("SUCCESS", "查询成功", call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.set("billNo", bill.bill_no.clone());
    reply.set("billDate", bill.bill_date.clone());
    reply.set("billStatus", bill.status.as_str());
    if let Some(total) = bill.total_amount {
        reply.set("totalAmount", total);
    }
    reply.set("billQRCode", qr_code_url(&bill.qr_code_id));
    reply.set("qrCodeId", bill.qr_code_id.clone());
    reply.set(
        "createTime",
        BeijingTime::from_unix_millis(bill.created_at_ms).date_time(),
    );
    if let Some(desc) = bill.detail("billDesc") {
        reply.set("billDesc", desc.to_string());
    }
    if let Some(payment) = &bill.payment {
        reply.set("billPayment", payment.to_json(bill.status, bill.refunded()));
    }
    if let Some(refund) = refund {
        reply.set("refundBillPayment", refund);
    }
    if let Some(authed) = authed {
        reply.set("authedBillPayment", authed);
    }
    Ok(reply)
}
