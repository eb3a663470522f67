//! Pre-authorisations (`bills/preauthed`, `bills/preauth-cancel`) and
//! guaranteed trades (`secure-complete`, `secure-cancel`).
//!
//! A bill whose `preauthTransaction` is `"true"` is paid as an
//! authorisation: its payment carries a 6-digit `authIdRespCd`, which the
//! merchant must quote. It is completed once (`totalAmount` at most the
//! authorised amount; that completed amount is what can be refunded) or
//! cancelled (the bill becomes CLOSED).
//!
//! A bill whose `secureTransaction` is `"true"` is paid as a guaranteed
//! trade (`secureStatus` UNCOMPLETED). `secure-complete` releases
//! `completedAmount` to the merchant, in one or several steps, up to the
//! payment's total (PARTLY_COMPLETED, then ALL_COMPLETED); `secure-cancel`
//! gives everything back while nothing has been completed (CANCELED, the bill
//! becomes CLOSED). Both find the payment by its `merOrderId` (from
//! `billPayment`).
//!
//! Repeating a completion or cancellation with the same order number (and
//! amount) answers the first result again; a different one is refused.

use super::bills::{common, find_bill, Call, Reply, COMMON_ECHOES};
use super::customer::{refund_target_order_id, target_order_id};
use super::fields::{Checked, Fields, Reject};
use super::state::{
    Bill, BillStatus, OrderKind, OrderRef, Payment, PaymentKind, Preauth, PreauthOutcome,
    PreauthStep, SecureStatus, State,
};
use chinaums::clock::BeijingTime;
use serde_json::{json, Value};

const MAX_AMOUNT: u64 = 100_000_000;

fn not_allowed(message: impl Into<String>) -> Reject {
    Reject::new("OPERATION_NOT_ALLOWED", message)
}

fn time(ms: i64) -> String {
    BeijingTime::from_unix_millis(ms).date_time()
}

fn yyyymmdd(ms: i64) -> String {
    BeijingTime::from_unix_millis(ms).compact()[..8].to_string()
}

/// The `authedBillPayment` of the completion `authed_order_id`, if it exists.
pub(crate) fn authed_json(bill: &Bill, authed_order_id: &str) -> Option<Value> {
    let payment = bill.payment.as_ref()?;
    let PaymentKind::Preauth(preauth) = &payment.kind else {
        return None;
    };
    match &preauth.outcome {
        PreauthOutcome::Completed(step) if step.order_id == authed_order_id => Some(step_json(
            "authedOrderId",
            payment,
            preauth,
            step,
            "TRADE_SUCCESS",
        )),
        _ => None,
    }
}

fn step_json(
    id_key: &str,
    payment: &Payment,
    preauth: &Preauth,
    step: &PreauthStep,
    status: &str,
) -> Value {
    json!({
        id_key: step.order_id,
        "totalAmount": step.amount,
        "status": status,
        "targetOrderId": step.target_order_id,
        "payTime": time(step.at_ms),
        "merOrderId": payment.mer_order_id,
        "targetSys": payment.target_sys,
        "authIdRespCd": preauth.auth_id_resp_cd,
    })
}

/// The pre-authorisation of a bill, or why there is none.
fn preauth_of(bill: &Bill) -> Checked<(&Payment, &Preauth)> {
    let Some(payment) = &bill.payment else {
        return Err(not_allowed("账单未支付, 没有预授权"));
    };
    match &payment.kind {
        PaymentKind::Preauth(p) => Ok((payment, p)),
        _ => Err(not_allowed(
            "该账单不是预授权交易 (preauthTransaction 不是 \"true\")",
        )),
    }
}

fn check_auth_code(preauth: &Preauth, given: &str) -> Checked<()> {
    if preauth.auth_id_resp_cd == given {
        Ok(())
    } else {
        Err(not_allowed(
            "authIdRespCd 与预授权的授权码不符 (见 billPayment.authIdRespCd)",
        ))
    }
}

fn order_id_taken(state: &State, mid: &str, id: &str) -> Checked<()> {
    if state
        .merchants
        .get(mid)
        .is_some_and(|m| m.order_ids.contains_key(id))
    {
        return Err(Reject::new("DUP_ORDER", "订单号已被本商户的其他订单使用"));
    }
    Ok(())
}

fn set_outcome(
    state: &mut State,
    mid: &str,
    bill_no: &str,
    outcome: PreauthOutcome,
    kind: OrderKind,
    order_id: &str,
) {
    let Some(merchant) = state.merchants.get_mut(mid) else {
        return;
    };
    if let Some(bill) = merchant.bills.get_mut(bill_no) {
        if matches!(outcome, PreauthOutcome::Cancelled(_)) {
            bill.status = BillStatus::Closed;
        }
        if let Some(PaymentKind::Preauth(p)) = bill.payment.as_mut().map(|p| &mut p.kind) {
            p.outcome = outcome;
        }
    }
    merchant.order_ids.insert(
        order_id.to_string(),
        OrderRef {
            kind,
            bill_no: bill_no.to_string(),
        },
    );
}

fn bill_reply(call: &Call<'_>, message: &str, bill: &Bill) -> Reply {
    let mut reply = Reply::new("SUCCESS", message, call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.set("billNo", bill.bill_no.clone());
    reply.set("billDate", bill.bill_date.clone());
    reply.set("billStatus", bill.status.as_str());
    reply
}

/// `bills/preauthed`: completes the authorisation with `totalAmount` (at
/// most the authorised amount), once.
pub(crate) fn preauth_complete(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let bill_no = f.req_ident("billNo", 1, 32)?;
    let bill_date = f.req_date("billDate")?;
    let authed_order_id = f.req_ident("authedOrderId", 1, 32)?;
    let auth_code = f.req_str("authIdRespCd", 32)?;
    let amount = f.req_amount("totalAmount", 1, MAX_AMOUNT)?;
    f.opt_wide("authedDesc")?
        .ok_or_else(|| Reject::bad_request("缺少必填字段 authedDesc"))?;

    let bill = find_bill(state, common.mid, bill_no, bill_date)?;
    let (payment, preauth) = preauth_of(bill)?;
    match &preauth.outcome {
        PreauthOutcome::Cancelled(_) => {
            return Err(Reject::new("HAS_CANCELLED", "预授权已撤销, 不能完成"))
        }
        PreauthOutcome::Completed(step)
            if step.order_id == authed_order_id && step.amount == amount =>
        {
            let mut reply = bill_reply(call, "预授权完成成功 (重复请求, 返回首次结果)", bill);
            reply.set(
                "authedBillPayment",
                step_json("authedOrderId", payment, preauth, step, "TRADE_SUCCESS"),
            );
            return Ok(reply);
        }
        PreauthOutcome::Completed(_) => return Err(not_allowed("预授权已完成, 不能再次完成")),
        PreauthOutcome::Authorised => {}
    }
    check_auth_code(preauth, auth_code)?;
    if amount > payment.total_amount {
        return Err(not_allowed(format!(
            "完成金额超过预授权金额 ({} 分)",
            payment.total_amount
        )));
    }
    let target = target_order_id(&payment.target_sys, &yyyymmdd(call.now_ms));
    order_id_taken(state, common.mid, authed_order_id)?;
    let step = PreauthStep {
        order_id: authed_order_id.to_string(),
        amount,
        target_order_id: target,
        at_ms: call.now_ms,
    };
    set_outcome(
        state,
        common.mid,
        bill_no,
        PreauthOutcome::Completed(step),
        OrderKind::PreauthComplete,
        authed_order_id,
    );
    let bill = find_bill(state, common.mid, bill_no, bill_date)?;
    let mut reply = bill_reply(call, "预授权完成成功", bill);
    if let Some(authed) = authed_json(bill, authed_order_id) {
        reply.set("authedBillPayment", authed);
    }
    Ok(reply)
}

/// `bills/preauth-cancel`: releases an authorisation that is not completed;
/// the bill becomes CLOSED.
pub(crate) fn preauth_cancel(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let bill_no = f.req_ident("billNo", 1, 32)?;
    let bill_date = f.req_date("billDate")?;
    let cancel_order_id = f.req_ident("cancelOrderId", 1, 32)?;
    let auth_code = f.req_str("authIdRespCd", 32)?;

    let bill = find_bill(state, common.mid, bill_no, bill_date)?;
    let (payment, preauth) = preauth_of(bill)?;
    match &preauth.outcome {
        PreauthOutcome::Cancelled(step) if step.order_id == cancel_order_id => {
            let mut reply = bill_reply(call, "预授权撤销成功 (重复请求, 返回首次结果)", bill);
            reply.set(
                "cancelBillPayment",
                step_json("cancelOrderId", payment, preauth, step, "TRADE_CLOSED"),
            );
            return Ok(reply);
        }
        PreauthOutcome::Cancelled(_) => return Err(Reject::new("HAS_CANCELLED", "预授权已撤销")),
        PreauthOutcome::Completed(_) => {
            return Err(not_allowed(
                "预授权已完成, 不能撤销 (请用 bills/refund 退款)",
            ))
        }
        PreauthOutcome::Authorised => {}
    }
    check_auth_code(preauth, auth_code)?;
    let target = refund_target_order_id(&payment.target_sys, &yyyymmdd(call.now_ms));
    let amount = payment.total_amount;
    order_id_taken(state, common.mid, cancel_order_id)?;
    let step = PreauthStep {
        order_id: cancel_order_id.to_string(),
        amount,
        target_order_id: target,
        at_ms: call.now_ms,
    };
    set_outcome(
        state,
        common.mid,
        bill_no,
        PreauthOutcome::Cancelled(step.clone()),
        OrderKind::PreauthCancel,
        cancel_order_id,
    );
    let bill = find_bill(state, common.mid, bill_no, bill_date)?;
    let mut reply = bill_reply(call, "预授权撤销成功", bill);
    if let Ok((payment, preauth)) = preauth_of(bill) {
        reply.set(
            "cancelBillPayment",
            step_json("cancelOrderId", payment, preauth, &step, "TRADE_CLOSED"),
        );
    }
    Ok(reply)
}

/// The bill paid by `merOrderId`, and its number.
fn bill_by_mer_order_id<'s>(state: &'s State, mid: &str, mer_order_id: &str) -> Checked<&'s Bill> {
    state
        .merchants
        .get(mid)
        .and_then(|m| {
            m.order_ids
                .get(mer_order_id)
                .filter(|o| o.kind == OrderKind::Payment)
                .and_then(|o| m.bills.get(&o.bill_no))
        })
        .ok_or_else(|| Reject::new("NO_ORDER", "订单不存在 (merOrderId 没有对应的支付)"))
}

fn secure_of(bill: &Bill) -> Checked<(u64, SecureStatus, u64)> {
    match bill.payment.as_ref().map(|p| (p.total_amount, &p.kind)) {
        Some((total, PaymentKind::Secure(s))) => Ok((total, s.status, s.completed)),
        _ => Err(not_allowed(
            "该订单不是担保交易 (secureTransaction 不是 \"true\")",
        )),
    }
}

fn set_secure(state: &mut State, mid: &str, bill_no: &str, status: SecureStatus, completed: u64) {
    let bill = state
        .merchants
        .get_mut(mid)
        .and_then(|m| m.bills.get_mut(bill_no));
    if let Some(bill) = bill {
        if status == SecureStatus::Canceled {
            bill.status = BillStatus::Closed;
        }
        if let Some(PaymentKind::Secure(s)) = bill.payment.as_mut().map(|p| &mut p.kind) {
            s.status = status;
            s.completed = completed;
        }
    }
}

fn secure_reply(call: &Call<'_>, message: &str, bill: &Bill, mer_order_id: &str) -> Reply {
    let mut reply = bill_reply(call, message, bill);
    reply.set("merOrderId", mer_order_id);
    if let Ok((total, status, completed)) = secure_of(bill) {
        reply.set("secureStatus", status.as_str());
        reply.set("totalAmount", total);
        reply.set("completedAmount", completed);
    }
    reply
}

/// `secure-complete`: releases `completedAmount` more of a guaranteed trade.
/// The answer's `completedAmount` is the total released so far.
pub(crate) fn secure_complete(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let mer_order_id = f.req_ident("merOrderId", 6, 32)?;
    let amount = f.req_amount("completedAmount", 1, MAX_AMOUNT)?;
    let bill = bill_by_mer_order_id(state, common.mid, mer_order_id)?;
    let (total, status, completed) = secure_of(bill)?;
    match status {
        SecureStatus::Canceled => return Err(Reject::new("HAS_CANCELLED", "担保交易已撤销")),
        SecureStatus::AllCompleted => return Err(not_allowed("担保交易已全部完成")),
        SecureStatus::Uncompleted | SecureStatus::PartlyCompleted => {}
    }
    let left = total.saturating_sub(completed);
    if amount > left {
        return Err(not_allowed(format!(
            "完成金额超过交易的未完成金额 (还可完成 {left} 分)"
        )));
    }
    let completed = completed + amount;
    let status = if completed == total {
        SecureStatus::AllCompleted
    } else {
        SecureStatus::PartlyCompleted
    };
    let bill_no = bill.bill_no.clone();
    set_secure(state, common.mid, &bill_no, status, completed);
    let bill = bill_by_mer_order_id(state, common.mid, mer_order_id)?;
    Ok(secure_reply(call, "担保交易完成成功", bill, mer_order_id))
}

/// `secure-cancel`: gives a guaranteed trade back while nothing of it has
/// been completed; the bill becomes CLOSED.
pub(crate) fn secure_cancel(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let mer_order_id = f.req_ident("merOrderId", 6, 32)?;
    let bill = bill_by_mer_order_id(state, common.mid, mer_order_id)?;
    let (_, status, _) = secure_of(bill)?;
    match status {
        SecureStatus::Canceled => return Err(Reject::new("HAS_CANCELLED", "担保交易已撤销")),
        SecureStatus::PartlyCompleted | SecureStatus::AllCompleted => {
            return Err(not_allowed(
                "担保交易已 (部分) 完成, 不能撤销 (请用 bills/refund 退款)",
            ))
        }
        SecureStatus::Uncompleted => {}
    }
    let bill_no = bill.bill_no.clone();
    set_secure(state, common.mid, &bill_no, SecureStatus::Canceled, 0);
    let bill = bill_by_mer_order_id(state, common.mid, mer_order_id)?;
    Ok(secure_reply(call, "担保交易撤销成功", bill, mer_order_id))
}
