//! The customer's side: paying a QR code (`POST /_sandbox/pay`), and the
//! signed notifications the gateway then sends to the merchant.

use super::notifier::Outgoing;
use super::state::{
    qr_code_url, random_digits, Bill, BillStatus, OrderKind, OrderRef, Payment, PaymentKind,
    Preauth, PreauthOutcome, QrCode, QrKind, QrStatus, Secure, SecureStatus, State,
};
use chinaums::clock::{fill_random, BeijingTime};
use chinaums::sign::NotifySignType;
use serde_json::{json, Map, Value};

/// `targetSys` values a payment may name (docs/protocol.md §4.3).
pub(crate) const TARGET_SYSTEMS: &[&str] = &[
    "Alipay 1.0",
    "Alipay 2.0",
    "WXPay",
    "YQB",
    "QMF",
    "UnionPay",
    "BaiDu",
    "JD",
    "SF",
    "COMM",
    "BestPay",
    "ACP",
];
const MAX_AMOUNT: u64 = 100_000_000;

/// A refused payment: HTTP status, error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PayRefusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl PayRefusal {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> PayRefusal {
        PayRefusal {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"ok": false, "error": self.code, "message": self.message})
    }
}

fn bad(message: impl Into<String>) -> PayRefusal {
    PayRefusal::new(400, "BAD_REQUEST", message)
}

/// `POST /_sandbox/pay`: the customer scans `qrCodeId` and pays.
///
/// The bill the code carries is paid; a fixed code without an unpaid bill
/// gets a new bill numbered by the gateway. On success the bill is PAID,
/// its `billPayment` exists and, when it has a `notifyUrl`, a notification
/// is queued in `state.outbox`.
pub(crate) fn pay(
    state: &mut State,
    request: &Map<String, Value>,
    now_ms: i64,
) -> Result<Value, PayRefusal> {
    let order = PayOrder::read(request)?;
    let (code, current, amount) = payable(state, &order, now_ms)?;
    let bill_no = match current {
        Some(bill_no) => bill_no,
        None => new_bill_for_fixed_code(state, &code, amount, now_ms),
    };
    record_payment(state, &code, &bill_no, amount, &order, now_ms)
}

/// What the customer pays with (`POST /_sandbox/pay`).
struct PayOrder<'a> {
    qr_code_id: &'a str,
    amount: Option<u64>,
    target_sys: &'a str,
    sign_type: NotifySignType,
}

impl<'a> PayOrder<'a> {
    fn read(request: &'a Map<String, Value>) -> Result<PayOrder<'a>, PayRefusal> {
        let qr_code_id = match request.get("qrCodeId") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(bad("qrCodeId (字符串) 必填")),
        };
        let amount = match request.get("amount") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(a) if (1..=MAX_AMOUNT).contains(&a) => Some(a),
                _ => return Err(bad(format!("amount 必须是 1..={MAX_AMOUNT} 的整数 (分)"))),
            },
            Some(_) => return Err(bad("amount 必须是 JSON 整数 (分)")),
        };
        let target_sys = match request.get("targetSys") {
            None | Some(Value::Null) => "WXPay",
            Some(Value::String(s)) if TARGET_SYSTEMS.contains(&s.as_str()) => s.as_str(),
            Some(_) => {
                return Err(bad(format!(
                    "targetSys 必须是 {} 之一",
                    TARGET_SYSTEMS.join(" / ")
                )))
            }
        };
        let sign_type = match request.get("signType") {
            None | Some(Value::Null) => NotifySignType::Sha256,
            Some(Value::String(s)) if s == "SHA256" => NotifySignType::Sha256,
            Some(Value::String(s)) if s == "MD5" => NotifySignType::Md5,
            Some(_) => return Err(bad("signType 必须是 MD5 或 SHA256")),
        };
        Ok(PayOrder {
            qr_code_id,
            amount,
            target_sys,
            sign_type,
        })
    }
}

/// The code to pay, the number of its unpaid bill (none: a fixed code that
/// gets a new bill) and the amount to pay, or why it cannot be paid.
fn payable(
    state: &State,
    order: &PayOrder<'_>,
    now_ms: i64,
) -> Result<(QrCode, Option<String>, u64), PayRefusal> {
    let code = state
        .qr_codes
        .get(order.qr_code_id)
        .ok_or_else(|| PayRefusal::new(404, "NO_ORDER", "二维码不存在"))?
        .clone();
    if code.status == QrStatus::Closed {
        return Err(PayRefusal::new(409, "CLOSED", "二维码已关闭, 不能支付"));
    }
    if code.expired(now_ms) {
        return Err(PayRefusal::new(409, "EXPIRED", "二维码已过期"));
    }
    let merchant = state
        .merchants
        .get(&code.mid)
        .ok_or_else(|| PayRefusal::new(404, "NO_MERCHANT", "商户不存在"))?;
    let current = code
        .bill_no
        .as_ref()
        .and_then(|no| merchant.bills.get(no))
        .filter(|bill| bill.status == BillStatus::Unpaid)
        .map(|bill| (bill.bill_no.clone(), bill.total_amount));
    if current.is_none() && code.kind == QrKind::OneOff {
        return Err(PayRefusal::new(
            409,
            "ALREADY_PAID",
            "一次性码的账单已支付或已关闭, 不能再次支付",
        ));
    }
    let expected = match &current {
        Some((_, total)) => *total,
        None => code.total_amount,
    };
    let amount = amount_to_pay(expected, order.amount)?;
    Ok((code, current.map(|(bill_no, _)| bill_no), amount))
}

/// The bill's amount, or the customer's for a code without one.
fn amount_to_pay(expected: Option<u64>, given: Option<u64>) -> Result<u64, PayRefusal> {
    match (expected, given) {
        (Some(total), Some(given)) if given != total => Err(PayRefusal::new(
            400,
            "AMOUNT_MISMATCH",
            format!("amount {given} 与账单金额 totalAmount {total} 不一致"),
        )),
        (Some(total), _) => Ok(total),
        (None, Some(given)) => Ok(given),
        (None, None) => Err(PayRefusal::new(
            400,
            "AMOUNT_REQUIRED",
            "该二维码没有金额, amount (分) 必填",
        )),
    }
}

/// A fixed code without an unpaid bill: the gateway numbers a new one.
fn new_bill_for_fixed_code(state: &mut State, code: &QrCode, amount: u64, now_ms: i64) -> String {
    let msg_src_id = state.msg_src_id(&code.app_id);
    let bill_no = state.new_order_id(&msg_src_id, now_ms);
    let date = BeijingTime::from_unix_millis(now_ms).date();
    let mut bill = super::bills::new_bill(code, &bill_no, &date, now_ms);
    bill.total_amount = Some(amount); // the amount the customer enters
    if let Some(m) = state.merchants.get_mut(&code.mid) {
        m.bills.insert(bill_no.clone(), bill);
    }
    bill_no
}

/// Pays the bill: its payment (plain, pre-authorisation or guaranteed
/// trade, as the bill asked), the merchant's order number, the notification.
fn record_payment(
    state: &mut State,
    code: &QrCode,
    bill_no: &str,
    amount: u64,
    order: &PayOrder<'_>,
    now_ms: i64,
) -> Result<Value, PayRefusal> {
    let msg_src_id = state.msg_src_id(&code.app_id);
    let mer_order_id = state.new_order_id(&msg_src_id, now_ms);
    let seq = state.order_sequence;
    let Some(merchant) = state.merchants.get_mut(&code.mid) else {
        return Err(PayRefusal::new(404, "NO_MERCHANT", "商户不存在"));
    };
    let Some(bill) = merchant.bills.get_mut(bill_no) else {
        return Err(PayRefusal::new(404, "NO_ORDER", "账单不存在"));
    };
    let date = BeijingTime::from_unix_millis(now_ms).compact()[..8].to_string();
    let payment = Payment {
        mer_order_id: mer_order_id.clone(),
        pay_seq_id: format!("{:011}N", seq % 100_000_000_000),
        seq_id: format!("{:011}S", seq % 100_000_000_000),
        total_amount: amount,
        paid_at_ms: now_ms,
        target_order_id: target_order_id(order.target_sys, &date),
        target_sys: order.target_sys.to_string(),
        buyer_id: format!("sandbox-buyer-{}", random_digits(8)),
        sign_type: order.sign_type,
        kind: payment_kind(bill),
    };
    bill.total_amount = Some(amount);
    bill.status = BillStatus::Paid;
    let auth_id_resp_cd = match &payment.kind {
        PaymentKind::Preauth(p) => Some(p.auth_id_resp_cd.clone()),
        _ => None,
    };
    let target_order = payment.target_order_id.clone();
    bill.payment = Some(payment);
    let bill_date = bill.bill_date.clone();
    merchant.order_ids.insert(
        mer_order_id.clone(),
        OrderRef {
            kind: OrderKind::Payment,
            bill_no: bill_no.to_string(),
        },
    );
    let notify_id = queue_notification(state, &code.mid, bill_no, Event::Payment);
    let mut answer = json!({
        "ok": true,
        "qrCodeId": code.id,
        "billNo": bill_no,
        "billDate": bill_date,
        "billStatus": "PAID",
        "totalAmount": amount,
        "merOrderId": mer_order_id,
        "targetOrderId": target_order,
        "targetSys": order.target_sys,
        "notifyId": notify_id,
    });
    if let Some(code) = auth_id_resp_cd {
        answer["authIdRespCd"] = code.into();
    }
    Ok(answer)
}

/// A pre-authorisation or a guaranteed trade when the bill asked for one.
fn payment_kind(bill: &Bill) -> PaymentKind {
    let flag = |key: &str| bill.detail(key).as_deref() == Some("true");
    if flag("preauthTransaction") {
        PaymentKind::Preauth(Preauth {
            auth_id_resp_cd: random_digits(6),
            outcome: PreauthOutcome::Authorised,
        })
    } else if flag("secureTransaction") {
        PaymentKind::Secure(Secure {
            status: SecureStatus::Uncompleted,
            completed: 0,
        })
    } else {
        PaymentKind::Plain
    }
}

/// A channel-side order number in the style of `target_sys`.
pub(crate) fn target_order_id(target_sys: &str, yyyymmdd: &str) -> String {
    match target_sys {
        "WXPay" => format!("42000{}{}", &yyyymmdd[..4], random_digits(19)),
        "Alipay 1.0" | "Alipay 2.0" => format!("{yyyymmdd}22001{}", random_digits(15)),
        _ => format!("{yyyymmdd}{}", random_digits(20)),
    }
}

/// A channel-side refund number in the style of `target_sys`.
pub(crate) fn refund_target_order_id(target_sys: &str, yyyymmdd: &str) -> String {
    match target_sys {
        "WXPay" => format!("50300{}{}", &yyyymmdd[..4], random_digits(19)),
        _ => format!("{yyyymmdd}R{}", random_digits(19)),
    }
}

/// What a notification tells.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    Payment,
    /// A refund, by its refundOrderId.
    Refund(&'a str),
}

/// A random UUID (version 4), the shape of ChinaUMS's `notifyId`.
pub(crate) fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = chinaums::sign::hex_lower(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn random_letters(n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = vec![0u8; n];
    fill_random(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(LETTERS[usize::from(*b) % LETTERS.len()]))
        .collect()
}

/// Builds and signs the notification of `event` on a paid bill and queues
/// it in `state.outbox`; returns its notifyId. Nothing is queued (and
/// `None` returned) when the bill has no `notifyUrl`, or for refunds when
/// `state.notify_refunds` is off.
pub(crate) fn queue_notification(
    state: &mut State,
    mid: &str,
    bill_no: &str,
    event: Event<'_>,
) -> Option<String> {
    if matches!(event, Event::Refund(_)) && !state.notify_refunds {
        return None;
    }
    let merchant = state.merchants.get(mid)?;
    let bill = merchant.bills.get(bill_no)?;
    let payment = bill.payment.as_ref()?;
    let url = bill.detail("notifyUrl")?;
    let notify_key = state.apps.get(&merchant.app_id)?.notify_key.clone();
    let tid = state
        .qr_codes
        .get(&bill.qr_code_id)
        .map(|c| c.tid.clone())
        .unwrap_or_else(|| bill.tid.clone());

    let notify_id = uuid_v4();
    let total = bill
        .total_amount
        .unwrap_or(payment.total_amount)
        .to_string();
    let created = BeijingTime::from_unix_millis(bill.created_at_ms).date_time();
    let bill_payment = payment.to_json(bill.status, bill.refunded()).to_string();
    let refund_payment = match event {
        Event::Refund(id) => bill
            .refunds
            .iter()
            .find(|r| r.refund_order_id == id)
            .map(|r| super::refunds::refund_json(payment, r).to_string()),
        Event::Payment => None,
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("mid", mid.to_string()),
        ("tid", tid),
        ("instMid", bill.inst_mid.clone()),
        ("billNo", bill.bill_no.clone()),
        ("billQRCode", qr_code_url(&bill.qr_code_id)),
        ("billDate", bill.bill_date.clone()),
        ("createTime", created),
        ("billStatus", bill.status.as_str().to_string()),
    ];
    // Optional fields the bill does not have are sent empty, as real
    // notifications often are (unless switched off): the receivers' rule
    // of docs/protocol.md §6 (empty values are not signed) is exercised.
    let optional = |key: &'static str, fields: &mut Vec<(&str, String)>| match bill.detail(key) {
        Some(v) => fields.push((key, v)),
        None if state.notify_empty_values => fields.push((key, String::new())),
        None => {}
    };
    optional("billDesc", &mut fields);
    fields.push(("totalAmount", total));
    optional("memberId", &mut fields);
    optional("counterNo", &mut fields);
    fields.push(("merName", merchant.name.clone()));
    fields.push(("notifyId", notify_id.clone()));
    fields.push(("billPayment", bill_payment));
    if let Some(refund) = refund_payment {
        fields.push(("refundBillPayment", refund));
    }
    fields.push(("seqId", payment.seq_id.clone()));
    fields.push(("signType", payment.sign_type.as_str().to_string()));
    // The random extra key of real notifications: two letters that name no
    // other field, and a random value. It is signed like every field.
    let extra_key = loop {
        let key = random_letters(2);
        if !fields.iter().any(|(k, _)| *k == key) && key != "sign" {
            break key;
        }
    };
    let extra_value = random_letters(4);
    let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    pairs.push((&extra_key, &extra_value));
    let body = chinaums::notify::sign_form(&notify_key, payment.sign_type, &pairs);

    let outgoing = Outgoing {
        kind: match event {
            Event::Payment => "payment",
            Event::Refund(_) => "refund",
        },
        url,
        bill_no: bill.bill_no.clone(),
        bill_date: bill.bill_date.clone(),
        notify_id: notify_id.clone(),
        body,
    };
    state.outbox.push(outgoing);
    Some(notify_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_ids_are_uuids() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, uuid_v4());
    }
}
