//! The bills operations (docs/protocol.md §4). Each operation is a plain function
//! in [`ROUTES`]; adding one means writing the function and a table row.
//! This file holds the QR-code operations (get, update, close, static info);
//! `refunds.rs` the bill query and refunds; `guarantee.rs` pre-authorisations
//! and guaranteed trades.
//!
//! Answers are HTTP 200 with `errCode` (`SUCCESS` or a platform code),
//! `errMsg`, `responseTimeStamp`, and the echoed `msgId`, `srcReserve`, `mid`,
//! `tid`, `instMid`.

use super::fields::{check_bill_desc, Checked, Fields, Reject};
use super::guarantee;
use super::refunds;
use super::state::{
    Bill, BillStatus, Details, QrCode, QrKind, QrStatus, State, FIXED_CODE_LIFETIME_MS,
};
use chinaums::clock::BeijingTime;
use serde_json::{Map, Value};

/// One authenticated business call.
pub(crate) struct Call<'a> {
    pub app_id: &'a str,
    /// The simulator's "now" (its clock plus any `/_sandbox/clock` offset):
    /// expiry, payment and response times.
    pub now_ms: i64,
    /// The configured clock without the offset: what `requestTimestamp` is
    /// compared with (clients' clocks do not move with the offset).
    pub wall_ms: i64,
    /// Tolerated distance between `requestTimestamp` and the simulator clock.
    pub skew_ms: i64,
    pub body: &'a Map<String, Value>,
}

pub(crate) type Operation = fn(&mut State, &Call<'_>) -> Checked<Reply>;

/// Path → operation.
pub(crate) const ROUTES: &[(&str, Operation)] = &[
    ("/v1/netpay/bills/get-qrcode", get_qrcode),
    ("/v1/netpay/bills/update-qrcode", update_qrcode),
    ("/v1/netpay/bills/close-qrcode", close_qrcode),
    ("/v1/netpay/bills/query", refunds::query_bill),
    ("/v1/netpay/bills/refund", refunds::refund),
    ("/v1/netpay/bills/query-qrcode-info", query_qrcode_info),
    ("/v1/netpay/bills/preauthed", guarantee::preauth_complete),
    ("/v1/netpay/bills/preauth-cancel", guarantee::preauth_cancel),
    ("/v1/netpay/secure-cancel", guarantee::secure_cancel),
    ("/v1/netpay/secure-complete", guarantee::secure_complete),
];

pub(crate) fn operation(path: &str) -> Option<Operation> {
    ROUTES.iter().find(|(p, _)| *p == path).map(|(_, op)| *op)
}

pub(crate) const INST_MID: &str = "QRPAYDEFAULT";
const ONE_OFF_DEFAULT_LIFETIME_MS: i64 = 30 * 60 * 1000;
const ONE_OFF_MAX_LIFETIME_MS: i64 = 90 * 24 * 3600 * 1000;
/// get-qrcode allows up to 1,000,000 yuan; update-qrcode up to 10,000 yuan
/// (the two documents disagree; each is taken at its word).
const GET_MAX_AMOUNT: u64 = 100_000_000;
const UPDATE_MAX_AMOUNT: u64 = 1_000_000;
pub(crate) const COMMON_ECHOES: [&str; 5] = ["msgId", "srcReserve", "mid", "tid", "instMid"];

/// A business answer under construction (keys keep insertion order).
pub(crate) struct Reply(Map<String, Value>);

impl Reply {
    pub fn new(code: &str, message: &str, now_ms: i64) -> Reply {
        let mut map = Map::new();
        map.insert("errCode".into(), code.into());
        map.insert("errMsg".into(), message.into());
        map.insert(
            "responseTimeStamp".into(),
            BeijingTime::from_unix_millis(now_ms).date_time().into(),
        );
        Reply(map)
    }

    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_string(), value.into());
    }

    /// Copies `keys` from the request when they are non-empty strings.
    pub fn echo(&mut self, request: &Map<String, Value>, keys: &[&str]) {
        for key in keys {
            if let Some(Value::String(s)) = request.get(*key) {
                if !s.is_empty() {
                    self.0.insert((*key).to_string(), Value::String(s.clone()));
                }
            }
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// The answer to a refused call, with the common echoes.
pub(crate) fn refusal(reject: &Reject, call: &Call<'_>) -> Value {
    let mut reply = Reply::new(reject.code, &reject.message, call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.into_value()
}

/// The checked common fields.
pub(crate) struct Common<'a> {
    pub mid: &'a str,
    /// Empty for query-qrcode-info when no tid was sent.
    pub tid: &'a str,
    pub inst_mid: &'a str,
}

/// requestTimestamp, mid, tid, instMid, msgId, srcReserve.
pub(crate) fn common<'a>(state: &State, call: &Call<'a>) -> Checked<Common<'a>> {
    common_fields(state, call, true)
}

/// As [`common`]; `tid` is optional unless `tid_required` (query-qrcode-info
/// has none), but checked when present.
fn common_fields<'a>(state: &State, call: &Call<'a>, tid_required: bool) -> Checked<Common<'a>> {
    let f = Fields(call.body);
    let Some(at) = f.opt_date_time("requestTimestamp")? else {
        return Err(Reject::bad_request("缺少必填字段 requestTimestamp"));
    };
    // A client in UTC instead of Beijing time is 8 hours off: say so.
    if call.wall_ms.abs_diff(at) > call.skew_ms.unsigned_abs() {
        return Err(Reject::new(
            "ABNORMAL_REQUEST_TIME",
            format!(
                "requestTimestamp 与网关时间 (北京时间 {}) 相差超过 {} 秒",
                BeijingTime::from_unix_millis(call.wall_ms).date_time(),
                call.skew_ms / 1000
            ),
        ));
    }
    f.opt_str("msgId", 64)?;
    f.opt_str("srcReserve", 255)?;
    let mid = f.req_fixed_len("mid", 15)?;
    let tid = if tid_required || f.present("tid").is_some() {
        f.req_fixed_len("tid", 8)?
    } else {
        ""
    };
    let inst_mid = f.req_str("instMid", 32)?;
    if inst_mid != INST_MID {
        return Err(Reject::bad_request(format!(
            "instMid 必须是 {INST_MID} (账单类业务)"
        )));
    }
    let merchant = state
        .merchants
        .get(mid)
        .filter(|m| m.app_id == call.app_id)
        .ok_or_else(|| Reject::new("NO_MERCHANT", "商户号 mid 不存在或不属于该 appId"))?;
    if !tid.is_empty() && !merchant.tids.iter().any(|t| t == tid) {
        return Err(Reject::new("NO_MERCHANT", "终端号 tid 不属于该商户"));
    }
    Ok(Common { mid, tid, inst_mid })
}

/// The bill `bill_no` of merchant `mid`, dated `bill_date`.
pub(crate) fn find_bill<'s>(
    state: &'s State,
    mid: &str,
    bill_no: &str,
    bill_date: &str,
) -> Checked<&'s Bill> {
    state
        .merchants
        .get(mid)
        .and_then(|m| m.bills.get(bill_no))
        .filter(|b| b.bill_date == bill_date)
        .ok_or_else(|| Reject::new("NO_ORDER", "账单不存在 (billNo 与 billDate 对不上任何账单)"))
}

/// The bill fields of get-qrcode and update-qrcode, checked.
struct BillInput<'a> {
    bill_no: Option<&'a str>,
    bill_date: Option<&'a str>,
    total_amount: Option<u64>,
    expire_at_ms: Option<i64>,
    system_id: Option<&'a str>,
    /// The accepted optional fields, stored on the code and bill.
    details: Map<String, Value>,
}

const DETAIL_KEYS: &[&str] = &[
    "billDesc",
    "goods",
    "memberId",
    "counterNo",
    "expireTime",
    "notifyUrl",
    "returnUrl",
    "secureTransaction",
    "walletOption",
    "name",
    "mobile",
    "certType",
    "certNo",
    "fixBuyer",
    "preauthTransaction",
    "installmentNumber",
    "retCommParams",
    "attachedData",
    "clientIp",
    "isEfrcPs",
    "psPpt",
    "subMchntInfo",
];

fn bill_input<'a>(f: Fields<'a>, max_amount: u64) -> Checked<BillInput<'a>> {
    let bill_no = f.opt_ident("billNo", 31)?;
    let bill_date = f.opt_date("billDate")?;
    match (bill_no, bill_date) {
        (Some(_), None) => return Err(Reject::bad_request("有 billNo 时 billDate 必填")),
        (None, Some(_)) => return Err(Reject::bad_request("有 billDate 时 billNo 必填")),
        _ => {}
    }
    check_bill_desc(&f)?;
    let total_amount = f.opt_amount("totalAmount", 1, max_amount)?;
    f.opt_goods("goods")?;
    f.opt_str("memberId", 32)?;
    f.opt_str("counterNo", 32)?;
    let expire_at_ms = f.opt_date_time("expireTime")?;
    f.opt_url("notifyUrl")?;
    f.opt_url("returnUrl")?;
    let system_id = f.opt_ident("systemId", 32)?;
    f.opt_bool_string("secureTransaction")?;
    f.opt_bool_string("preauthTransaction")?;
    f.opt_enum("walletOption", &["SINGLE", "MULTIPLE"])?;
    let name = f.opt_base64("name", 32)?;
    f.opt_base64("mobile", 20)?;
    let cert_no = f.opt_base64("certNo", 32)?;
    f.opt_enum(
        "certType",
        &[
            "IDENTITY_CARD",
            "PASSPORT",
            "OFFICER_CARD",
            "SOLDIER_CARD",
            "HOKOU",
        ],
    )?;
    if f.opt_str("fixBuyer", 32)? == Some("T") && (name.is_none() || cert_no.is_none()) {
        return Err(Reject::bad_request(
            "fixBuyer=T (强制实名) 时 name 与 certNo 必填 (Base64 编码)",
        ));
    }
    f.opt_int_choice("installmentNumber", &[3, 6, 12])?;
    f.opt_ret_comm_params("retCommParams")?;
    f.opt_str("attachedData", 255)?;
    f.opt_ip("clientIp")?;
    f.opt_bool("isEfrcPs")?;
    f.opt_str("psPpt", 60)?;
    f.opt_sub_merchant_info("subMchntInfo")?;

    let mut details = Map::new();
    for key in DETAIL_KEYS {
        if let Some(value) = f.present(key) {
            details.insert((*key).to_string(), value.clone());
        }
    }
    Ok(BillInput {
        bill_no,
        bill_date,
        total_amount,
        expire_at_ms,
        system_id,
        details,
    })
}

/// The expiry of a code of `kind`: `expireTime` if given (later than now;
/// one-off codes at most 90 days ahead), else the kind's default.
fn expiry(kind: QrKind, given: Option<i64>, now_ms: i64) -> Checked<i64> {
    let Some(at) = given else {
        return Ok(match kind {
            QrKind::OneOff => now_ms.saturating_add(ONE_OFF_DEFAULT_LIFETIME_MS),
            QrKind::Fixed | QrKind::FixedAmount => now_ms.saturating_add(FIXED_CODE_LIFETIME_MS),
        });
    };
    if at <= now_ms {
        return Err(Reject::bad_request("expireTime 必须晚于当前时间"));
    }
    if kind == QrKind::OneOff && at.saturating_sub(now_ms) > ONE_OFF_MAX_LIFETIME_MS {
        return Err(Reject::bad_request(
            "expireTime 超过一次性码最长有效期 90 天",
        ));
    }
    Ok(at)
}

fn duplicate_bill() -> Reject {
    Reject::new("DUP_ORDER", "账单号重复")
}

/// `bills/get-qrcode`: one-off code (billNo + billDate + totalAmount), fixed
/// code with amount (totalAmount only) or fixed code without amount (none).
fn get_qrcode(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let own_id = Fields(call.body).opt_ident("qrCodeId", 32)?;
    let input = bill_input(Fields(call.body), GET_MAX_AMOUNT)?;
    let kind = match (input.bill_no, input.total_amount) {
        (Some(_), Some(_)) => QrKind::OneOff,
        (Some(_), None) => {
            return Err(Reject::bad_request(
                "一次性码需要 billNo、billDate 与 totalAmount: 缺少 totalAmount",
            ))
        }
        (None, Some(_)) => QrKind::FixedAmount,
        (None, None) => QrKind::Fixed,
    };
    let expire_at_ms = expiry(kind, input.expire_at_ms, call.now_ms)?;
    let merchant = state
        .merchants
        .get(common.mid)
        .ok_or_else(|| Reject::new("NO_MERCHANT", "商户号 mid 不存在"))?;
    if input
        .bill_no
        .is_some_and(|no| merchant.bills.contains_key(no))
    {
        return Err(duplicate_bill());
    }
    let id = match own_id {
        // A merchant may number its codes itself (docs/protocol.md §4.2).
        Some(id) if state.qr_codes.contains_key(id) => {
            return Err(Reject::new("DUP_ORDER", "二维码编号 qrCodeId 重复"))
        }
        Some(id) => id.to_string(),
        None => {
            let msg_src_id = state.msg_src_id(call.app_id);
            state.new_qr_code_id(&msg_src_id, call.now_ms)
        }
    };
    let code = QrCode {
        id: id.clone(),
        app_id: call.app_id.to_string(),
        mid: common.mid.to_string(),
        tid: common.tid.to_string(),
        inst_mid: common.inst_mid.to_string(),
        kind,
        status: QrStatus::Active,
        system_id: input.system_id.unwrap_or(&id).to_string(),
        total_amount: input.total_amount,
        bill_no: input.bill_no.map(str::to_string),
        bill_date: input.bill_date.map(str::to_string),
        expire_at_ms,
        closed_at_ms: None,
        details: Details::from_map(input.details),
    };
    if let (Some(no), Some(date)) = (input.bill_no, input.bill_date) {
        let bill = new_bill(&code, no, date, call.now_ms);
        if let Some(merchant) = state.merchants.get_mut(common.mid) {
            merchant.bills.insert(no.to_string(), bill);
        }
    }
    let mut reply = Reply::new("SUCCESS", "获取二维码成功", call.now_ms);
    reply.set("billQRCode", code.url());
    reply.set("qrCodeId", code.id.clone());
    reply.set("systemId", code.system_id.clone());
    reply.echo(call.body, &COMMON_ECHOES);
    if let (Some(no), Some(date)) = (&code.bill_no, &code.bill_date) {
        reply.set("billNo", no.clone());
        reply.set("billDate", date.clone());
    }
    state.qr_codes.insert(id, code);
    Ok(reply)
}

/// A new unpaid bill on `code`, with the code's amount and details.
pub(crate) fn new_bill(code: &QrCode, bill_no: &str, bill_date: &str, now_ms: i64) -> Bill {
    Bill {
        bill_no: bill_no.to_string(),
        bill_date: bill_date.to_string(),
        mid: code.mid.clone(),
        tid: code.tid.clone(),
        inst_mid: code.inst_mid.clone(),
        qr_code_id: code.id.clone(),
        total_amount: code.total_amount,
        status: BillStatus::Unpaid,
        created_at_ms: now_ms,
        expire_at_ms: code.expire_at_ms,
        details: code.details.for_bill(),
        payment: None,
        refunds: Vec::new(),
    }
}

/// The code `qr_code_id`, if the caller may act on it: it exists and its
/// merchant, business type and message source are the caller's.
fn own_code<'s>(
    state: &'s State,
    call: &Call<'_>,
    common: &Common<'_>,
    qr_code_id: &str,
) -> Checked<&'s QrCode> {
    let code = state
        .qr_codes
        .get(qr_code_id)
        .ok_or_else(|| Reject::new("NO_ORDER", "二维码不存在"))?;
    if code.mid != common.mid {
        return Err(Reject::new(
            "OPERATION_NOT_ALLOWED",
            "商户号 mid 与二维码的原商户号不一致",
        ));
    }
    if code.inst_mid != common.inst_mid {
        return Err(Reject::new(
            "OPERATION_NOT_ALLOWED",
            "业务类型 instMid 与二维码的原业务类型不一致",
        ));
    }
    if code.app_id != call.app_id {
        return Err(Reject::new(
            "OPERATION_NOT_ALLOWED",
            "消息来源与二维码的原消息来源不一致",
        ));
    }
    Ok(code)
}

/// `bills/update-qrcode`: binds a new bill to an existing code, or changes
/// the current one. mid, instMid and message source must match the code's;
/// a new billNo must differ from the code's and be unused by the merchant.
fn update_qrcode(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let qr_code_id = f.req_str("qrCodeId", 32)?;
    let input = bill_input(f, UPDATE_MAX_AMOUNT)?;
    let expire_at_ms = check_update(state, call, &common, qr_code_id, &input)?;
    let code = apply_update(state, &common, qr_code_id, input, expire_at_ms, call.now_ms)?;
    let mut reply = Reply::new("SUCCESS", "更新二维码成功", call.now_ms);
    reply.set("billQRCode", code.url());
    reply.set("systemId", code.system_id.clone());
    reply.echo(call.body, &COMMON_ECHOES);
    if let (Some(no), Some(date)) = (&code.bill_no, &code.bill_date) {
        reply.set("billNo", no.clone());
        reply.set("billDate", date.clone());
    }
    Ok(reply)
}

/// Every rule of an update, before anything changes; answers the code's
/// new expiry.
fn check_update(
    state: &State,
    call: &Call<'_>,
    common: &Common<'_>,
    qr_code_id: &str,
    input: &BillInput<'_>,
) -> Checked<i64> {
    let code = own_code(state, call, common, qr_code_id)?;
    let not_allowed = |message: &str| Err(Reject::new("OPERATION_NOT_ALLOWED", message));
    if code.status == QrStatus::Closed {
        return not_allowed("二维码已关闭, 不能更新");
    }
    if code.expired(call.now_ms) {
        return not_allowed("二维码已过期, 不能更新");
    }
    let merchant = state
        .merchants
        .get(common.mid)
        .ok_or_else(|| Reject::new("NO_MERCHANT", "商户号 mid 不存在"))?;
    let current_status = code
        .bill_no
        .as_ref()
        .and_then(|no| merchant.bills.get(no))
        .map(|bill| bill.status);
    if code.kind == QrKind::OneOff
        && matches!(current_status, Some(BillStatus::Paid | BillStatus::Refund))
    {
        return not_allowed("一次性码已支付, 不能更新");
    }
    match input.bill_no {
        Some(no) if code.bill_no.as_deref() == Some(no) || merchant.bills.contains_key(no) => {
            return Err(duplicate_bill())
        }
        None if current_status.is_some_and(|s| s != BillStatus::Unpaid) => {
            return not_allowed("当前账单已不是待支付状态, 更新需要新的 billNo")
        }
        _ => {}
    }
    match (input.expire_at_ms, input.bill_no) {
        (Some(_), _) => expiry(code.kind, input.expire_at_ms, call.now_ms),
        (None, Some(_)) if code.kind == QrKind::OneOff => expiry(code.kind, None, call.now_ms),
        (None, _) => Ok(code.expire_at_ms),
    }
}

/// Applies a checked update to the code and its bill (a new bill for a new
/// billNo; else the unpaid current bill takes the new terms).
fn apply_update(
    state: &mut State,
    common: &Common<'_>,
    qr_code_id: &str,
    input: BillInput<'_>,
    expire_at_ms: i64,
    now_ms: i64,
) -> Checked<QrCode> {
    let Some(code) = state.qr_codes.get_mut(qr_code_id) else {
        return Err(Reject::new("NO_ORDER", "二维码不存在"));
    };
    code.tid = common.tid.to_string();
    if let Some(amount) = input.total_amount {
        code.total_amount = Some(amount);
    }
    if let Some(system_id) = input.system_id {
        code.system_id = system_id.to_string();
    }
    code.expire_at_ms = expire_at_ms;
    if input.bill_no.is_some() {
        // A new bill replaces the previous one: nothing of the old bill's
        // optional fields (billDesc, memberId, goods, notifyUrl ...) carries
        // over to it or to its notifications.
        code.details = Details::from_map(input.details);
    } else {
        // The same bill, new terms: the fields given change, the others stay.
        code.details = code.details.merged(input.details);
    }
    let new_bill = match (input.bill_no, input.bill_date) {
        (Some(no), Some(date)) => {
            code.bill_no = Some(no.to_string());
            code.bill_date = Some(date.to_string());
            Some(new_bill(code, no, date, now_ms))
        }
        _ => None,
    };
    let code = code.clone();
    let Some(merchant) = state.merchants.get_mut(common.mid) else {
        return Ok(code);
    };
    match new_bill {
        Some(bill) => {
            merchant.bills.insert(bill.bill_no.clone(), bill);
        }
        None => {
            // Same bill, new terms (it is still unpaid, checked before).
            if let Some(bill) = code
                .bill_no
                .as_ref()
                .and_then(|no| merchant.bills.get_mut(no))
            {
                bill.total_amount = code.total_amount;
                bill.expire_at_ms = code.expire_at_ms;
                bill.details = code.details.for_bill();
            }
        }
    }
    Ok(code)
}

/// `bills/close-qrcode`: closes a code for good (no further payments or
/// updates). Its unpaid bill becomes CLOSED; a paid bill stays as it is,
/// unless `attachRefund` is true (one-off codes only), which refunds what is
/// left of it first. `systemId`, when given, must be the code's.
fn close_qrcode(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common(state, call)?;
    let f = Fields(call.body);
    let qr_code_id = f.req_str("qrCodeId", 32)?;
    let attach_refund = f.opt_bool("attachRefund")?.unwrap_or(false);
    let system_id = f.opt_ident("systemId", 32)?;
    let code = own_code(state, call, &common, qr_code_id)?.clone();
    if system_id.is_some_and(|s| s != code.system_id) {
        return Err(Reject::new(
            "NO_ORDER",
            "二维码不存在 (qrCodeId 与 systemId 不匹配)",
        ));
    }
    if code.status == QrStatus::Closed {
        return Err(Reject::new("OPERATION_NOT_ALLOWED", "二维码已关闭"));
    }
    if attach_refund && code.kind != QrKind::OneOff {
        return Err(Reject::bad_request(
            "attachRefund 只适用于一次性码 (有 billNo 的码)",
        ));
    }
    let mut refund = None;
    if let (true, Some(bill_no)) = (attach_refund, &code.bill_no) {
        let paid = state
            .merchants
            .get(&code.mid)
            .and_then(|m| m.bills.get(bill_no))
            .filter(|b| b.payment.is_some());
        if let Some(bill) = paid {
            let left = refunds::refundable(bill)?;
            if left > 0 {
                let record =
                    refunds::apply_refund(state, call, &code.mid, bill_no, left, None, None);
                refund = Some(record);
            }
        }
    }
    if let Some(c) = state.qr_codes.get_mut(qr_code_id) {
        c.status = QrStatus::Closed;
        c.closed_at_ms = Some(call.now_ms);
    }
    let bill = code.bill_no.as_ref().and_then(|no| {
        state
            .merchants
            .get_mut(&code.mid)
            .and_then(|m| m.bills.get_mut(no))
    });
    let bill = bill.map(|b| {
        if b.status == BillStatus::Unpaid {
            b.status = BillStatus::Closed;
        }
        (b.bill_no.clone(), b.bill_date.clone(), b.status)
    });

    let mut reply = Reply::new("SUCCESS", "关闭二维码成功", call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.set("qrCodeId", code.id.clone());
    reply.set("systemId", code.system_id.clone());
    if let Some((no, date, status)) = bill {
        reply.set("billNo", no);
        reply.set("billDate", date);
        reply.set("billStatus", status.as_str());
    }
    if let Some(r) = refund {
        reply.set("refundStatus", "SUCCESS");
        reply.set("refundOrderId", r.refund_order_id);
        reply.set("refundTargetOrderId", r.target_order_id);
        reply.set("refundAmount", r.amount);
    }
    Ok(reply)
}

/// Request fields that query-qrcode-info never shows: real-name data and
/// fields it answers itself.
const INFO_HIDDEN: &[&str] = &[
    "name",
    "mobile",
    "certNo",
    "certType",
    "fixBuyer",
    "clientIp",
    "expireTime",
];

/// `bills/query-qrcode-info`: what a code carries. `qrCodeId` and `systemId`
/// must both match (with the merchant); no `tid` is needed.
fn query_qrcode_info(state: &mut State, call: &Call<'_>) -> Checked<Reply> {
    let common = common_fields(state, call, false)?;
    let f = Fields(call.body);
    let qr_code_id = f.req_str("qrCodeId", 32)?;
    let system_id = f.req_str("systemId", 32)?;
    let code = state
        .qr_codes
        .get(qr_code_id)
        .filter(|c| c.mid == common.mid && c.app_id == call.app_id && c.system_id == system_id)
        .ok_or_else(|| {
            Reject::new(
                "NO_ORDER",
                "二维码不存在 (qrCodeId、systemId 与商户号对不上)",
            )
        })?;
    let bill = code
        .bill_no
        .as_ref()
        .and_then(|no| state.merchants.get(&code.mid).and_then(|m| m.bills.get(no)));
    let mut reply = Reply::new("SUCCESS", "查询成功", call.now_ms);
    reply.echo(call.body, &COMMON_ECHOES);
    reply.set("qrCodeId", code.id.clone());
    reply.set("systemId", code.system_id.clone());
    reply.set("billQRCode", code.url());
    reply.set("qrCodeUrl", code.url());
    let status = if code.status == QrStatus::Closed {
        "CLOSED"
    } else if code.expired(call.now_ms) {
        "EXPIRED"
    } else {
        "VALID"
    };
    reply.set("qrCodeStatus", status);
    reply.set(
        "qrCodeType",
        match code.kind {
            QrKind::OneOff => "ONE_OFF",
            QrKind::FixedAmount => "FIXED_AMOUNT",
            QrKind::Fixed => "FIXED",
        },
    );
    reply.set(
        "expireTime",
        BeijingTime::from_unix_millis(code.expire_at_ms).date_time(),
    );
    if let Some(bill) = bill {
        reply.set("billNo", bill.bill_no.clone());
        reply.set("billDate", bill.bill_date.clone());
        reply.set("billStatus", bill.status.as_str());
    }
    if let Some(amount) = bill.and_then(|b| b.total_amount).or(code.total_amount) {
        reply.set("totalAmount", amount);
    }
    for (key, value) in code.details.to_map() {
        if !INFO_HIDDEN.contains(&key.as_str()) {
            reply.set(&key, value);
        }
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use serde_json::json;

    const NOW: i64 = 1_582_695_360_000; // 2020-02-26 13:36:00 Beijing

    fn run(state: &mut State, path: &str, body: Value) -> Value {
        let Value::Object(body) = body else {
            unreachable!()
        };
        let call = Call {
            app_id: demo::APP_ID,
            now_ms: NOW,
            wall_ms: NOW,
            skew_ms: 300_000,
            body: &body,
        };
        let op = operation(path).unwrap();
        match op(state, &call) {
            Ok(reply) => reply.into_value(),
            Err(reject) => refusal(&reject, &call),
        }
    }

    fn base(extra: Value) -> Value {
        let mut v = json!({
            "requestTimestamp": "2020-02-26 13:36:00",
            "mid": demo::MID, "tid": demo::TID, "instMid": demo::INST_MID,
        });
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    const GET: &str = "/v1/netpay/bills/get-qrcode";
    const UPDATE: &str = "/v1/netpay/bills/update-qrcode";

    #[test]
    fn seed_update_then_duplicate() {
        let mut state = State::with_demo_data(NOW);
        let req = base(json!({
            "qrCodeId": demo::SEED_QR_CODE_ID, "msgId": "800000000010", "srcReserve": "test",
            "billNo": "8888", "billDate": "2020-02-26", "totalAmount": 26,
            "expireTime": "2022-02-26 13:31:59", "systemId": demo::SEED_QR_CODE_ID
        }));
        let ok = run(&mut state, UPDATE, req.clone());
        assert_eq!(ok["errCode"], "SUCCESS", "{ok}");
        assert_eq!(ok["errMsg"], "更新二维码成功");
        assert_eq!(ok["billNo"], "8888");
        assert_eq!(ok["msgId"], "800000000010");
        assert_eq!(ok["responseTimeStamp"], "2020-02-26 13:36:00");
        let dup = run(&mut state, UPDATE, req);
        assert_eq!(dup["errCode"], "DUP_ORDER");
        assert_eq!(dup["errMsg"], "账单号重复");
        assert_eq!(dup["mid"], demo::MID);
    }

    #[test]
    fn get_qrcode_kinds_and_duplicates() {
        let mut state = State::with_demo_data(NOW);
        let one_off = run(
            &mut state,
            GET,
            base(json!({"billNo": "3194A1", "billDate": "2020-02-26", "totalAmount": 1})),
        );
        assert_eq!(one_off["errCode"], "SUCCESS", "{one_off}");
        let id = one_off["qrCodeId"].as_str().unwrap();
        assert_eq!(state.qr_codes[id].kind, QrKind::OneOff);
        assert_eq!(state.qr_codes[id].expire_at_ms, NOW + 30 * 60 * 1000);
        let fixed = run(&mut state, GET, base(json!({"totalAmount": 100})));
        assert_eq!(
            state.qr_codes[fixed["qrCodeId"].as_str().unwrap()].kind,
            QrKind::FixedAmount
        );
        assert!(fixed.get("billNo").is_none());
        let dup = run(
            &mut state,
            GET,
            base(json!({"billNo": "3194A1", "billDate": "2020-02-27", "totalAmount": 2})),
        );
        assert_eq!(dup["errCode"], "DUP_ORDER");
        let no_amount = run(
            &mut state,
            GET,
            base(json!({"billNo": "X1", "billDate": "2020-02-26"})),
        );
        assert_eq!(no_amount["errCode"], "BAD_REQUEST");
        assert!(no_amount["errMsg"]
            .as_str()
            .unwrap()
            .contains("totalAmount"));
    }

    #[test]
    fn update_refuses_closed_and_paid_one_off_codes() {
        let mut state = State::with_demo_data(NOW);
        let got = run(
            &mut state,
            GET,
            base(json!({"billNo": "B1", "billDate": "2020-02-26", "totalAmount": 5})),
        );
        let id = got["qrCodeId"].as_str().unwrap().to_string();
        state
            .merchants
            .get_mut(demo::MID)
            .unwrap()
            .bills
            .get_mut("B1")
            .unwrap()
            .status = BillStatus::Paid;
        let paid = run(
            &mut state,
            UPDATE,
            base(json!({"qrCodeId": id, "billNo": "B2", "billDate": "2020-02-26"})),
        );
        assert_eq!(paid["errCode"], "OPERATION_NOT_ALLOWED");
        state
            .qr_codes
            .get_mut(demo::SEED_QR_CODE_ID)
            .unwrap()
            .status = QrStatus::Closed;
        let closed = run(
            &mut state,
            UPDATE,
            base(
                json!({"qrCodeId": demo::SEED_QR_CODE_ID, "billNo": "B3", "billDate": "2020-02-26"}),
            ),
        );
        assert_eq!(closed["errCode"], "OPERATION_NOT_ALLOWED");
        assert!(closed["errMsg"].as_str().unwrap().contains("关闭"));
    }

    #[test]
    fn common_field_errors_name_the_field() {
        let mut state = State::with_demo_data(NOW);
        let msg = |v: &Value| v["errMsg"].as_str().unwrap().to_string();
        let r = run(&mut state, GET, json!({"mid": demo::MID}));
        assert!(msg(&r).contains("requestTimestamp"));
        let r = run(
            &mut state,
            GET,
            base(json!({"requestTimestamp": "2020/02/26 13:36:00"})),
        );
        assert!(msg(&r).contains("requestTimestamp"));
        let r = run(
            &mut state,
            GET,
            base(json!({"requestTimestamp": "2020-02-26 05:36:00"})),
        );
        assert_eq!(r["errCode"], "ABNORMAL_REQUEST_TIME");
        let r = run(&mut state, GET, base(json!({"tid": "123"})));
        assert!(msg(&r).contains("tid"));
        let r = run(&mut state, GET, base(json!({"tid": "12345678"})));
        assert_eq!(r["errCode"], "NO_MERCHANT");
        let r = run(&mut state, GET, base(json!({"tid": demo::TID_ALT})));
        assert_eq!(r["errCode"], "SUCCESS");
        let r = run(&mut state, GET, base(json!({"mid": "898340149000009"})));
        assert_eq!(r["errCode"], "NO_MERCHANT");
        let r = run(&mut state, GET, base(json!({"instMid": "H5DEFAULT"})));
        assert!(msg(&r).contains("instMid"));
        let r = run(&mut state, GET, base(json!({"totalAmount": "26"})));
        assert!(msg(&r).contains("totalAmount"));
        let r = run(
            &mut state,
            UPDATE,
            base(json!({"qrCodeId": demo::SEED_QR_CODE_ID, "totalAmount": 1_000_001})),
        );
        assert!(msg(&r).contains("totalAmount"));
        let r = run(&mut state, GET, base(json!({"totalAmount": 100_000_000})));
        assert_eq!(r["errCode"], "SUCCESS");
        let r = run(
            &mut state,
            GET,
            base(json!({"totalAmount": 1, "expireTime": "2020-02-26 13:00:00"})),
        );
        assert!(msg(&r).contains("expireTime"));
        let r = run(
            &mut state,
            GET,
            base(
                json!({"billNo": "L1", "billDate": "2020-02-26", "totalAmount": 1, "expireTime": "2020-06-01 00:00:00"}),
            ),
        );
        assert!(msg(&r).contains("90"));
    }
}
