//! Everything the simulator remembers, in three parts, each behind its own
//! mutex in the gateway and each held only for a state change (signatures,
//! JSON parsing and answers are done outside them):
//!
//! - [`State`]: the business books: merchants, QR codes, bills with their
//!   payments and refunds, order numbers, and the notifications waiting to
//!   be handed to the notifier;
//! - [`AuthBook`]: tokens, seen nonces and the token / 401 counters;
//! - [`Counters`]: requests, processed requests and faults per path.
//!
//! The apps (appId, keys) never change while the simulator runs: each part
//! that needs them reads its own copy, without a lock.
//!
//! Bills are kept compact (their optional request fields as one shared JSON
//! text) and settled bills are forgotten once they have been settled longer
//! than the retention window ([`State::sweep`]), so that memory stays
//! bounded in long runs.

use super::demo;
use super::notifier::Outgoing;
use super::{AppStats, Stats};
use chinaums::clock::BeijingTime;
use chinaums::sign::NotifySignType;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// The gateway keeps at most this many valid tokens per appId; issuing one
/// more invalidates the oldest (docs/protocol.md §3).
pub(crate) const MAX_TOKENS_PER_APP: usize = 10;
/// Distinct paths counted one by one; beyond this, under `OTHER_PATHS`, so
/// that random paths cannot grow memory without bound.
const MAX_COUNTED_PATHS: usize = 1024;
pub(crate) const OTHER_PATHS: &str = "<other>";
/// Forgotten tokens (expired or invalidated) are remembered only so that the
/// 401 can say why; bounded.
const MAX_DEAD_TOKENS: usize = 4096;
/// Lifetime of fixed codes when no `expireTime` is given: 10 years.
pub(crate) const FIXED_CODE_LIFETIME_MS: i64 = 10 * 365 * 24 * 3600 * 1000;
/// Longest pause between two sweeps of settled bills (simulator time).
const MAX_SWEEP_INTERVAL_MS: i64 = 60_000;

/// The apps the simulator knows, by appId (fixed while it runs).
pub(crate) type Apps = HashMap<String, App>;

/// The demo app (the only one).
pub(crate) fn demo_apps() -> Apps {
    let mut apps = Apps::new();
    apps.insert(
        demo::APP_ID.to_string(),
        App {
            app_key: demo::APP_KEY.to_string(),
            msg_src: demo::MSG_SRC.to_string(),
            msg_src_id: demo::MSG_SRC_ID.to_string(),
            notify_key: demo::NOTIFY_KEY.to_string(),
        },
    );
    apps
}

/// The optional request fields a bill needs once made: `billDesc` (query,
/// notifications), `memberId` and `counterNo` (notifications), `notifyUrl`
/// and the kind of trade (payment).
pub(crate) const BILL_DETAIL_KEYS: [&str; 6] = [
    "billDesc",
    "memberId",
    "counterNo",
    "notifyUrl",
    "preauthTransaction",
    "secureTransaction",
];

/// A code's optional request fields (billDesc, goods, notifyUrl, ...), or
/// the few a bill keeps ([`Details::for_bill`]): the compact JSON text of an
/// object, shared (not copied) when a code is cloned. Read only by queries,
/// payments and notifications, so parsing it there costs less than keeping
/// a map of values (several KB) for every bill.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Details(Option<Arc<str>>);

impl Details {
    pub fn from_map(map: Map<String, Value>) -> Details {
        if map.is_empty() {
            return Details(None);
        }
        Details(Some(Value::Object(map).to_string().into()))
    }

    /// The fields as a map (empty when none).
    pub fn to_map(&self) -> Map<String, Value> {
        match self
            .0
            .as_deref()
            .map(serde_json::from_str::<Map<String, Value>>)
        {
            Some(Ok(map)) => map,
            _ => Map::new(),
        }
    }

    /// These fields with `changes` set over them.
    pub fn merged(&self, changes: Map<String, Value>) -> Details {
        let mut map = self.to_map();
        map.extend(changes);
        Details::from_map(map)
    }

    /// The fields a bill keeps of its code's ([`BILL_DETAIL_KEYS`]): what
    /// its queries, payment and notifications use. The code keeps them all
    /// (query-qrcode-info shows them) only while the bill is its current one.
    pub fn for_bill(&self) -> Details {
        let mut map = self.to_map();
        map.retain(|key, _| BILL_DETAIL_KEYS.contains(&key.as_str()));
        Details::from_map(map)
    }

    /// A non-empty string field (`notifyUrl`, `billDesc`, ...).
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.0.as_ref()?;
        match self.to_map().remove(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }
}

/// A developer application (appId).
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub app_key: String,
    /// Message source and its 4-digit id: prefix of generated QR code ids.
    #[allow(dead_code)]
    pub msg_src: String,
    pub msg_src_id: String,
    /// Communication key (通讯密钥) that signs the app's notifications.
    pub notify_key: String,
}

/// What a merchant-side order number identifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderKind {
    /// A payment's `merOrderId` (made by the simulator when the customer pays).
    Payment,
    /// A `refundOrderId`.
    Refund,
    /// A pre-authorisation completion's `authedOrderId`.
    PreauthComplete,
    /// A pre-authorisation cancellation's `cancelOrderId`.
    PreauthCancel,
}

/// Where an order number is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrderRef {
    pub kind: OrderKind,
    pub bill_no: String,
}

/// A merchant number and the terminals it may use.
#[derive(Debug, Clone)]
pub(crate) struct Merchant {
    pub app_id: String,
    /// `merName` of notifications.
    pub name: String,
    pub tids: Vec<String>,
    /// Bills of this merchant by billNo (billNo is unique per merchant).
    pub bills: HashMap<String, Bill>,
    /// Order numbers in use (unique per merchant, whatever their kind).
    pub order_ids: HashMap<String, OrderRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QrKind {
    /// billNo + billDate + totalAmount: paid once, expires (30 min default, 90 days max).
    OneOff,
    /// A fixed code with an amount.
    FixedAmount,
    /// A fixed code without an amount (the payer enters it).
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QrStatus {
    Active,
    /// Closed by close-qrcode: no further updates or payments.
    Closed,
}

#[derive(Debug, Clone)]
pub(crate) struct QrCode {
    pub id: String,
    pub app_id: String,
    pub mid: String,
    pub tid: String,
    pub inst_mid: String,
    pub kind: QrKind,
    pub status: QrStatus,
    pub system_id: String,
    pub total_amount: Option<u64>,
    /// The bill currently bound to the code, if any.
    pub bill_no: Option<String>,
    pub bill_date: Option<String>,
    pub expire_at_ms: i64,
    /// When close-qrcode closed it (simulator time).
    pub closed_at_ms: Option<i64>,
    /// Accepted optional request fields (billDesc, goods, notifyUrl, ...).
    pub details: Details,
}

impl QrCode {
    pub fn url(&self) -> String {
        qr_code_url(&self.id)
    }

    /// Whether the code's `expireTime` has passed at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expire_at_ms
    }
}

/// The landing page of a QR code (`billQRCode`).
pub(crate) fn qr_code_url(id: &str) -> String {
    format!("https://qr-test2.chinaums.com/bills/qrCode.do?id={id}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BillStatus {
    Unpaid,
    Paid,
    /// Fully or partly refunded.
    Refund,
    Closed,
}

impl BillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Unpaid => "UNPAID",
            BillStatus::Paid => "PAID",
            BillStatus::Refund => "REFUND",
            BillStatus::Closed => "CLOSED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Bill {
    pub bill_no: String,
    pub bill_date: String,
    #[allow(dead_code)]
    pub mid: String,
    pub tid: String,
    pub inst_mid: String,
    pub qr_code_id: String,
    pub total_amount: Option<u64>,
    pub status: BillStatus,
    pub created_at_ms: i64,
    #[allow(dead_code)]
    pub expire_at_ms: i64,
    pub details: Details,
    /// The customer's payment, once paid.
    pub payment: Option<Payment>,
    /// Successful refunds, oldest first.
    pub refunds: Vec<RefundRecord>,
}

impl Bill {
    /// The sum of all refunds.
    pub fn refunded(&self) -> u64 {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// A string detail (`notifyUrl`, `billDesc`, ...), if set.
    pub fn detail(&self, key: &str) -> Option<String> {
        self.details.get_str(key)
    }

    /// The last time something happened to the bill: made, paid, refunded,
    /// completed or cancelled.
    pub fn last_activity_ms(&self) -> i64 {
        let mut at = self.created_at_ms;
        if let Some(payment) = &self.payment {
            at = at.max(payment.paid_at_ms);
            if let PaymentKind::Preauth(Preauth {
                outcome: PreauthOutcome::Completed(step) | PreauthOutcome::Cancelled(step),
                ..
            }) = &payment.kind
            {
                at = at.max(step.at_ms);
            }
        }
        self.refunds.iter().fold(at, |at, r| at.max(r.at_ms))
    }

    /// Whether the merchant may still act on the payment: an authorised
    /// pre-authorisation not completed or cancelled, or a guaranteed trade
    /// not fully completed or cancelled. Such a bill is never forgotten.
    pub fn awaits_merchant(&self) -> bool {
        match self.payment.as_ref().map(|p| &p.kind) {
            Some(PaymentKind::Preauth(p)) => matches!(p.outcome, PreauthOutcome::Authorised),
            Some(PaymentKind::Secure(s)) => matches!(
                s.status,
                SecureStatus::Uncompleted | SecureStatus::PartlyCompleted
            ),
            _ => false,
        }
    }
}

/// A customer's payment of a bill.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub mer_order_id: String,
    pub pay_seq_id: String,
    /// `seqId` of notifications.
    pub seq_id: String,
    pub total_amount: u64,
    pub paid_at_ms: i64,
    pub target_order_id: String,
    pub target_sys: String,
    pub buyer_id: String,
    /// How the bill's notifications are signed.
    pub sign_type: NotifySignType,
    pub kind: PaymentKind,
}

/// A plain payment, a pre-authorisation or a guaranteed (secure) trade.
#[derive(Debug, Clone)]
pub(crate) enum PaymentKind {
    Plain,
    Preauth(Preauth),
    Secure(Secure),
}

#[derive(Debug, Clone)]
pub(crate) struct Preauth {
    /// The authorisation code the merchant quotes in preauthed / preauth-cancel.
    pub auth_id_resp_cd: String,
    pub outcome: PreauthOutcome,
}

#[derive(Debug, Clone)]
pub(crate) enum PreauthOutcome {
    Authorised,
    Completed(PreauthStep),
    Cancelled(PreauthStep),
}

/// A completion (`authedOrderId`) or cancellation (`cancelOrderId`).
#[derive(Debug, Clone)]
pub(crate) struct PreauthStep {
    pub order_id: String,
    pub amount: u64,
    pub target_order_id: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecureStatus {
    Uncompleted,
    PartlyCompleted,
    AllCompleted,
    Canceled,
}

impl SecureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SecureStatus::Uncompleted => "UNCOMPLETED",
            SecureStatus::PartlyCompleted => "PARTLY_COMPLETED",
            SecureStatus::AllCompleted => "ALL_COMPLETED",
            SecureStatus::Canceled => "CANCELED",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Secure {
    pub status: SecureStatus,
    /// Released to the merchant so far.
    pub completed: u64,
}

/// One successful refund.
#[derive(Debug, Clone)]
pub(crate) struct RefundRecord {
    pub refund_order_id: String,
    pub amount: u64,
    pub target_order_id: String,
    pub at_ms: i64,
    pub desc: Option<String>,
}

impl Payment {
    /// `status` of `billPayment` for a bill in `bill_status`: TRADE_REFUND
    /// once any refund succeeded, TRADE_CLOSED after a cancelled
    /// pre-authorisation or guaranteed trade, TRADE_SUCCESS otherwise.
    pub fn status(&self, bill_status: BillStatus) -> &'static str {
        match bill_status {
            BillStatus::Refund => "TRADE_REFUND",
            BillStatus::Closed => "TRADE_CLOSED",
            BillStatus::Paid | BillStatus::Unpaid => "TRADE_SUCCESS",
        }
    }

    /// The `billPayment` object of the bill's answers and notifications.
    pub fn to_json(&self, bill_status: BillStatus, refunded: u64) -> Value {
        let paid = BeijingTime::from_unix_millis(self.paid_at_ms);
        let mut map = Map::new();
        let mut set = |k: &str, v: Value| {
            map.insert(k.to_string(), v);
        };
        set("merOrderId", self.mer_order_id.clone().into());
        set("paySeqId", self.pay_seq_id.clone().into());
        set("totalAmount", self.total_amount.into());
        set("buyerPayAmount", self.total_amount.into());
        set("couponAmount", 0.into());
        set("invoiceAmount", self.total_amount.into());
        set("payTime", paid.date_time().into());
        set("settleDate", paid.date().into());
        set("status", self.status(bill_status).into());
        set("targetOrderId", self.target_order_id.clone().into());
        set("targetSys", self.target_sys.clone().into());
        set("buyerId", self.buyer_id.clone().into());
        if refunded > 0 {
            set("refundAmount", refunded.into());
        }
        match &self.kind {
            PaymentKind::Plain => {}
            PaymentKind::Preauth(p) => {
                set("authIdRespCd", p.auth_id_resp_cd.clone().into());
                let status = match &p.outcome {
                    PreauthOutcome::Authorised => "AUTHORISED",
                    PreauthOutcome::Completed(_) => "COMPLETED",
                    PreauthOutcome::Cancelled(_) => "CANCELED",
                };
                set("preauthStatus", status.into());
            }
            PaymentKind::Secure(s) => {
                set("secureStatus", s.status.as_str().into());
                set("completedAmount", s.completed.into());
            }
        }
        Value::Object(map)
    }
}

/// What became of a token that no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenFate {
    Valid {
        expires_at_ms: i64,
    },
    /// Pushed out by the 10-per-appId limit.
    Invalidated,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    pub app_id: String,
    pub fate: TokenFate,
}

/// Nonces seen per app, each kept until its timestamp leaves the skew window
/// (after that the timestamp check refuses the request anyway).
#[derive(Debug, Default)]
pub(crate) struct NonceLog {
    seen: HashSet<String>,
    by_expiry: BTreeSet<(i64, String)>,
}

impl NonceLog {
    /// Records `nonce` unless already seen; false means a replay.
    pub fn record(&mut self, nonce: &str, keep_until_ms: i64, now_ms: i64) -> bool {
        while let Some(first) = self.by_expiry.first() {
            if first.0 >= now_ms {
                break;
            }
            if let Some((_, old)) = self.by_expiry.pop_first() {
                self.seen.remove(&old);
            }
        }
        if !self.seen.insert(nonce.to_string()) {
            return false;
        }
        self.by_expiry.insert((keep_until_ms, nonce.to_string()));
        true
    }

    /// Whether `nonce` was seen (without recording it).
    #[cfg(test)]
    pub fn contains(&self, nonce: &str) -> bool {
        self.seen.contains(nonce)
    }
}

/// Request counters behind [`Stats`] (their own lock: counted outside the
/// business and authentication locks).
#[derive(Debug, Default, Clone)]
pub(crate) struct Counters {
    pub requests: BTreeMap<String, u64>,
    /// Business requests handed to their operation, per path.
    pub processed: BTreeMap<String, u64>,
    /// Faults injected, per fault name.
    pub faults: BTreeMap<String, u64>,
    pub malformed_requests: u64,
    pub connections_refused: u64,
}

impl Counters {
    /// Counts one request to `path`.
    pub fn count_request(&mut self, path: &str) {
        let requests = &mut self.requests;
        let key = if requests.contains_key(path) || requests.len() < MAX_COUNTED_PATHS {
            path
        } else {
            OTHER_PATHS
        };
        *requests.entry(key.to_string()).or_insert(0) += 1;
    }

    /// Counts one business request handed to its operation (`path` is a
    /// routed business path, so the map stays small).
    pub fn count_processed(&mut self, path: &str) {
        *self.processed.entry(path.to_string()).or_insert(0) += 1;
    }

    /// Counts one injected fault.
    pub fn count_fault(&mut self, name: &str) {
        *self.faults.entry(name.to_string()).or_insert(0) += 1;
    }
}

/// What [`AppStats`] is made of; `tokens_expired` counts only the expired
/// tokens already taken off the app's live list (the stats add those that
/// have expired since).
#[derive(Debug, Default, Clone)]
pub(crate) struct AppCounters {
    pub tokens_issued: u64,
    pub tokens_invalidated_by_limit: u64,
    pub tokens_expired: u64,
    pub unauthorized: u64,
}

/// Tokens, seen nonces and the authentication counters.
#[derive(Debug)]
pub(crate) struct AuthBook {
    /// The known apps (a copy: they never change).
    pub apps: Apps,
    /// token → record; live and recently dead tokens.
    pub tokens: HashMap<String, TokenRecord>,
    /// Valid tokens per app, oldest first.
    pub live_tokens: HashMap<String, VecDeque<String>>,
    dead_tokens: VecDeque<String>,
    pub nonces: HashMap<String, NonceLog>,
    pub tokens_issued: u64,
    pub tokens_invalidated: u64,
    pub token_failures: u64,
    pub auth_failures: u64,
    /// Token and 401 counters per known appId (see [`AppStats`]).
    pub per_app: BTreeMap<String, AppCounters>,
}

impl AuthBook {
    pub fn new(apps: Apps) -> AuthBook {
        AuthBook {
            apps,
            tokens: HashMap::new(),
            live_tokens: HashMap::new(),
            dead_tokens: VecDeque::new(),
            nonces: HashMap::new(),
            tokens_issued: 0,
            tokens_invalidated: 0,
            token_failures: 0,
            auth_failures: 0,
            per_app: BTreeMap::new(),
        }
    }

    /// The counters at `now_ms` (the simulator's time, which decides which
    /// live tokens have expired), with the request counters `c`.
    pub fn stats(&self, c: &Counters, now_ms: i64) -> Stats {
        let per_app = self
            .apps
            .keys()
            .map(|app_id| {
                let counted = self.per_app.get(app_id).cloned().unwrap_or_default();
                // Tokens still on the live list whose lifetime has run out.
                let lapsed = self.live_tokens.get(app_id).map_or(0, |live| {
                    live.iter()
                        .filter(|t| {
                            matches!(
                                self.tokens.get(*t).map(|r| r.fate),
                                Some(TokenFate::Valid { expires_at_ms }) if expires_at_ms <= now_ms
                            )
                        })
                        .count() as u64
                });
                let stats = AppStats {
                    tokens_issued: counted.tokens_issued,
                    tokens_invalidated_by_limit: counted.tokens_invalidated_by_limit,
                    tokens_expired: counted.tokens_expired + lapsed,
                    unauthorized: counted.unauthorized,
                };
                (app_id.clone(), stats)
            })
            .collect();
        Stats {
            requests: c.requests.clone(),
            processed: c.processed.clone(),
            faults: c.faults.clone(),
            tokens_issued: self.tokens_issued,
            tokens_invalidated: self.tokens_invalidated,
            token_failures: self.token_failures,
            auth_failures: self.auth_failures,
            malformed_requests: c.malformed_requests,
            connections_refused: c.connections_refused,
            per_app,
        }
    }

    /// Counts one business request answered 401, for `app_id` too when it
    /// names a known app (the appId of the token, or of the OPEN-BODY-SIG
    /// header); unknown appIds are counted in the total only, so that
    /// made-up ids cannot grow the map.
    pub fn count_unauthorized(&mut self, app_id: Option<&str>) {
        self.auth_failures += 1;
        if let Some(app_id) = app_id.filter(|a| self.apps.contains_key(*a)) {
            self.app_counters(app_id).unauthorized += 1;
        }
    }

    /// The per-app counters of a known `app_id`.
    fn app_counters(&mut self, app_id: &str) -> &mut AppCounters {
        self.per_app.entry(app_id.to_string()).or_default()
    }

    /// Stores a new token for `app_id`, invalidating the oldest valid one
    /// when the app already has [`MAX_TOKENS_PER_APP`] valid tokens. A token
    /// is valid while `now_ms < expires_at_ms`; expired tokens do not count
    /// against the limit (they are taken off the live list here and counted
    /// as expired, never as invalidated).
    pub fn store_token(&mut self, app_id: &str, token: String, now_ms: i64, expires_at_ms: i64) {
        let mut live = self.live_tokens.remove(app_id).unwrap_or_default();
        let mut expired = 0u64;
        live.retain(|t| match self.tokens.get(t).map(|r| r.fate) {
            Some(TokenFate::Valid { expires_at_ms }) if expires_at_ms > now_ms => true,
            _ => {
                expired += 1;
                self.dead_tokens.push_back(t.clone());
                false
            }
        });
        let mut invalidated = 0u64;
        while live.len() >= MAX_TOKENS_PER_APP {
            let Some(oldest) = live.pop_front() else {
                break;
            };
            if let Some(record) = self.tokens.get_mut(&oldest) {
                record.fate = TokenFate::Invalidated;
            }
            invalidated += 1;
            self.dead_tokens.push_back(oldest);
        }
        while self.dead_tokens.len() > MAX_DEAD_TOKENS {
            if let Some(forgotten) = self.dead_tokens.pop_front() {
                self.tokens.remove(&forgotten);
            }
        }
        live.push_back(token.clone());
        self.live_tokens.insert(app_id.to_string(), live);
        self.tokens.insert(
            token,
            TokenRecord {
                app_id: app_id.to_string(),
                fate: TokenFate::Valid { expires_at_ms },
            },
        );
        self.tokens_issued += 1;
        self.tokens_invalidated += invalidated;
        let app = self.app_counters(app_id);
        app.tokens_issued += 1;
        app.tokens_invalidated_by_limit += invalidated;
        app.tokens_expired += expired;
    }
}

/// The business books.
#[derive(Debug)]
pub(crate) struct State {
    /// The known apps (a copy: they never change).
    pub apps: Apps,
    pub merchants: HashMap<String, Merchant>,
    pub qr_codes: HashMap<String, QrCode>,
    /// Sequence for generated QR code ids (deterministic).
    pub qr_sequence: u64,
    /// Sequence for generated order numbers (merOrderId, bill numbers of
    /// fixed codes, refund numbers).
    pub order_sequence: u64,
    /// Notifications produced under the lock; the gateway hands them to the
    /// notifier once the lock is released.
    pub outbox: Vec<Outgoing>,
    /// Whether refunds are notified too (payments always are).
    pub notify_refunds: bool,
    /// Whether notifications carry the optional fields a bill lacks
    /// (billDesc, memberId, counterNo) as empty values.
    pub notify_empty_values: bool,
    /// How long a settled bill is kept (simulator time); see [`State::sweep`].
    pub retention_ms: i64,
    /// When the next sweep is due (simulator time).
    next_sweep_ms: i64,
}

impl State {
    /// The demo app, its merchants and the seed QR code of the doc page.
    pub fn with_demo_data(now_ms: i64) -> State {
        let mut state = State {
            apps: demo_apps(),
            merchants: HashMap::new(),
            qr_codes: HashMap::new(),
            qr_sequence: 0,
            order_sequence: 0,
            outbox: Vec::new(),
            notify_refunds: true,
            notify_empty_values: true,
            retention_ms: 24 * 3600 * 1000,
            next_sweep_ms: now_ms,
        };
        for (mid, name) in [
            (demo::MID, "银联商务模拟商户"),
            (demo::SECOND_MID, "银联商务模拟商户二"),
        ] {
            state.merchants.insert(
                mid.to_string(),
                Merchant {
                    app_id: demo::APP_ID.to_string(),
                    name: name.to_string(),
                    tids: vec![demo::TID.to_string(), demo::TID_ALT.to_string()],
                    bills: HashMap::new(),
                    order_ids: HashMap::new(),
                },
            );
        }
        state.qr_codes.insert(
            demo::SEED_QR_CODE_ID.to_string(),
            QrCode {
                id: demo::SEED_QR_CODE_ID.to_string(),
                app_id: demo::APP_ID.to_string(),
                mid: demo::MID.to_string(),
                tid: demo::TID.to_string(),
                inst_mid: demo::INST_MID.to_string(),
                kind: QrKind::Fixed,
                status: QrStatus::Active,
                system_id: demo::SEED_QR_CODE_ID.to_string(),
                total_amount: None,
                bill_no: None,
                bill_date: None,
                expire_at_ms: now_ms.saturating_add(FIXED_CODE_LIFETIME_MS),
                closed_at_ms: None,
                details: Details::default(),
            },
        );
        state
    }

    /// Sweeps settled bills and dead codes when a sweep is due (at most
    /// every minute of simulator time, and at least every retention window).
    pub fn sweep_if_due(&mut self, now_ms: i64) {
        if now_ms < self.next_sweep_ms {
            return;
        }
        let interval = self.retention_ms.clamp(1, MAX_SWEEP_INTERVAL_MS);
        self.next_sweep_ms = now_ms.saturating_add(interval);
        self.sweep(now_ms);
    }

    /// Forgets what can no longer change and has not changed for the
    /// retention window:
    ///
    /// - a bill that is settled (paid, refunded, closed, or unpaid but no
    ///   longer payable: its code closed, expired or carrying another bill)
    ///   and whose last activity is older than the window; never a
    ///   pre-authorisation or guaranteed trade still waiting for the
    ///   merchant. Its order numbers go with it.
    /// - a code closed or expired longer ago than the window whose bill is
    ///   gone.
    ///
    /// Returns how many bills were forgotten.
    pub fn sweep(&mut self, now_ms: i64) -> usize {
        let cutoff = now_ms.saturating_sub(self.retention_ms);
        let payable = |code: Option<&QrCode>, bill_no: &str| {
            code.is_some_and(|c| {
                c.status == QrStatus::Active
                    && !c.expired(now_ms)
                    && c.bill_no.as_deref() == Some(bill_no)
            })
        };
        let mut forgotten = 0;
        for merchant in self.merchants.values_mut() {
            let before = merchant.bills.len();
            let codes = &self.qr_codes;
            merchant.bills.retain(|bill_no, bill| {
                let open = bill.status == BillStatus::Unpaid
                    && payable(codes.get(&bill.qr_code_id), bill_no);
                open || bill.awaits_merchant() || bill.last_activity_ms() > cutoff
            });
            if merchant.bills.len() != before {
                forgotten += before - merchant.bills.len();
                let bills = &merchant.bills;
                merchant
                    .order_ids
                    .retain(|_, order| bills.contains_key(&order.bill_no));
            }
        }
        let merchants = &self.merchants;
        self.qr_codes.retain(|_, code| {
            let ended_at = code.closed_at_ms.unwrap_or(code.expire_at_ms);
            let has_bill = code.bill_no.as_ref().is_some_and(|no| {
                merchants
                    .get(&code.mid)
                    .is_some_and(|m| m.bills.contains_key(no))
            });
            has_bill || ended_at > cutoff
        });
        forgotten
    }

    /// Bills kept now, over all merchants.
    pub fn bill_count(&self) -> usize {
        self.merchants.values().map(|m| m.bills.len()).sum()
    }

    /// The next QR code id: msgSrcId + yyMMddHHmmss + 10-digit sequence
    /// (26 characters, like the seed's), unique in this simulator.
    pub fn new_qr_code_id(&mut self, msg_src_id: &str, now_ms: i64) -> String {
        let stamp = BeijingTime::from_unix_millis(now_ms).compact();
        loop {
            self.qr_sequence += 1;
            let id = format!(
                "{msg_src_id}{}{:010}",
                &stamp[2..],
                self.qr_sequence % 10_000_000_000
            );
            if !self.qr_codes.contains_key(&id) {
                return id;
            }
        }
    }

    /// A new order number in the merchant style of docs/protocol.md §4.2:
    /// msgSrcId + `yyyyMMddHHmmssSSS` + 7 digits (28 characters), unique in
    /// this simulator.
    pub fn new_order_id(&mut self, msg_src_id: &str, now_ms: i64) -> String {
        self.order_sequence += 1;
        format!(
            "{msg_src_id}{}{:07}",
            BeijingTime::from_unix_millis(now_ms).compact_millis(),
            self.order_sequence % 10_000_000
        )
    }

    /// The msgSrcId of `app_id` (`3194` for the demo app).
    pub fn msg_src_id(&self, app_id: &str) -> String {
        self.apps
            .get(app_id)
            .map(|a| a.msg_src_id.clone())
            .unwrap_or_else(|| demo::MSG_SRC_ID.to_string())
    }
}

/// `n` random decimal digits.
pub(crate) fn random_digits(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    chinaums::clock::fill_random(&mut bytes);
    bytes.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_log_refuses_replays_until_the_window_passes() {
        let mut log = NonceLog::default();
        assert!(log.record("a", 1_000, 0));
        assert!(!log.record("a", 1_000, 500));
        assert!(log.contains("a"));
        // Past its keep-until time the nonce is forgotten.
        assert!(log.record("b", 3_000, 1_001));
        assert!(!log.contains("a"));
    }

    #[test]
    fn eleventh_token_invalidates_the_oldest() {
        let mut state = AuthBook::new(demo_apps());
        for i in 0..11 {
            state.store_token(demo::APP_ID, format!("t{i}"), 0, 1_000);
        }
        assert_eq!(state.tokens["t0"].fate, TokenFate::Invalidated);
        assert_eq!(
            state.tokens["t1"].fate,
            TokenFate::Valid {
                expires_at_ms: 1_000
            }
        );
        assert_eq!(state.live_tokens[demo::APP_ID].len(), 10);
        assert_eq!(state.tokens_issued, 11);
        assert_eq!(state.tokens_invalidated, 1);
        // Before they are taken off the live list, expired tokens are
        // counted by the stats at their time.
        let app = |state: &AuthBook, now_ms| {
            state.stats(&Counters::default(), now_ms).per_app[demo::APP_ID]
        };
        assert_eq!(app(&state, 999).tokens_expired, 0);
        assert_eq!(app(&state, 1_000).tokens_expired, 10);
        // Once they have expired, old tokens do not count against the limit.
        state.store_token(demo::APP_ID, "late".into(), 2_000, 3_000);
        assert_eq!(state.live_tokens[demo::APP_ID].len(), 1);
        assert_eq!(state.tokens_invalidated, 1);
        assert_eq!(
            app(&state, 2_000),
            AppStats {
                tokens_issued: 12,
                tokens_invalidated_by_limit: 1,
                tokens_expired: 10,
                unauthorized: 0,
            }
        );
    }

    #[test]
    fn generated_qr_code_ids_look_like_the_seed() {
        let mut state = State::with_demo_data(0);
        let id = state.new_qr_code_id("3194", 1_582_695_360_000);
        assert_eq!(id.len(), demo::SEED_QR_CODE_ID.len());
        assert!(id.starts_with("3194200226"), "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(state.new_qr_code_id("3194", 1_582_695_360_000), id);
    }

    #[test]
    fn path_counters_are_bounded() {
        let mut counters = Counters::default();
        for i in 0..(MAX_COUNTED_PATHS + 10) {
            counters.count_request(&format!("/p{i}"));
        }
        assert_eq!(counters.requests.len(), MAX_COUNTED_PATHS + 1);
        assert_eq!(counters.requests[OTHER_PATHS], 10);
    }
}
