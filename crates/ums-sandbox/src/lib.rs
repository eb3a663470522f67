//! Local gateway simulator ("sandbox") for the bills family.
//!
//! It behaves like the ChinaUMS gateway, strictly and deterministically, on
//! `127.0.0.1` only: the token endpoint, both authentication schemes and
//! every bills operation of docs/protocol.md §4, with the state a real gateway
//! keeps (codes, bills, payments, refunds), plus a customer who pays and the
//! signed notifications the gateway then sends. All tests of the project and
//! new users' first steps run against it; it starts with the [`demo`]
//! credentials and the QR code of the update-qrcode doc page.
//!
//! ```no_run
//! let sandbox = ums_sandbox::Sandbox::start_default()?;
//! println!("gateway at {}", sandbox.base_url());
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What it answers
//!
//! | case | HTTP | body |
//! |---|---|---|
//! | token issued | 200 | `{"errCode":"0000","errInfo":"正常","accessToken","expiresIn"}` |
//! | token refused | 200 | `errCode` `1000` malformed, `1001` unknown appId, `1002` bad signature, `1003` signMethod not SHA256, `1004` timestamp, `1005` nonce replayed |
//! | authentication failed | 401 | `errCode` `UNAUTHORIZED`, `BAD_SIGN`, `ABNORMAL_REQUEST_TIME`, `NONCE_REPLAYED` or `INVALID_TOKEN`; `errMsg` `认证失败: ...` |
//! | not `application/json` | 415 | `BAD_REQUEST` |
//! | body not a JSON object | 200 | `BAD_REQUEST` |
//! | unknown path | 404 | `NO_SERVICE` |
//! | not POST | 405 | `BAD_REQUEST` |
//! | business answer | 200 | `SUCCESS`, `BAD_REQUEST`, `ABNORMAL_REQUEST_TIME` (requestTimestamp), `NO_MERCHANT`, `NO_ORDER`, `DUP_ORDER`, `OPERATION_NOT_ALLOWED`, `HAS_CANCELLED` |
//! | bad HTTP framing | 400 / 408 / 411 / 413 / 417 / 431 / 505 | `BAD_REQUEST`, connection closed |
//!
//! A business body that is exactly `{"data": {...}}` (the official SDKs'
//! `needDataTag` envelope) is unwrapped and processed as the inner object;
//! the answer is flat as always. (The signature covers the bytes received,
//! envelope included.)
//!
//! # Bills and their states
//!
//! A bill is UNPAID when a code gets it (one-off code from get-qrcode, or
//! update-qrcode), PAID once the customer pays, REFUND after any successful
//! refund (partial or full; `billPayment.refundAmount` is the refunded sum,
//! `billPayment.status` becomes TRADE_REFUND), CLOSED when its code is closed
//! unpaid or its pre-authorisation / guaranteed trade is cancelled. An unpaid
//! bill whose code has expired stays UNPAID but can no longer be paid.
//!
//! - One-off codes expire at `expireTime` (default 30 minutes, at most 90
//!   days), fixed codes after 10 years. Paying an expired code, updating it,
//!   paying or updating a closed code, and paying or updating a paid one-off
//!   code are refused (update-qrcode: `OPERATION_NOT_ALLOWED` "二维码已过期" /
//!   "二维码已关闭..." / "一次性码已支付..."). A fixed code can be paid again
//!   and again: each payment pays its unpaid bill, or gets a new bill numbered
//!   by the gateway (msgSrcId + time + sequence, billDate today).
//! - get-qrcode accepts a merchant-made `qrCodeId` (`DUP_ORDER` if taken).
//! - close-qrcode: `NO_ORDER` for an unknown code or a `systemId` that is not
//!   the code's; `OPERATION_NOT_ALLOWED` for another merchant's code or one
//!   already closed; `attachRefund` only for one-off codes (else
//!   `BAD_REQUEST`): on a paid bill it first refunds what is left (the answer
//!   then has `refundOrderId`, `refundTargetOrderId`, `refundAmount`); when
//!   that refund is refused (a pre-authorisation or guaranteed trade not yet
//!   completed, or cancelled) the close is refused with the same error.
//! - bills/query: `NO_ORDER` unless billNo and billDate match a bill of the
//!   merchant; answers `billStatus`, `totalAmount`, `billQRCode`, `qrCodeId`,
//!   `createTime`, `billDesc`, and once paid `billPayment` (merOrderId,
//!   paySeqId, totalAmount, buyerPayAmount, couponAmount, invoiceAmount,
//!   payTime, settleDate, status, targetOrderId, targetSys, buyerId,
//!   refundAmount, and authIdRespCd / secureStatus / completedAmount for
//!   pre-authorisations and guaranteed trades). With `refundOrderId` it adds
//!   that refund's `refundBillPayment`, with `authedOrderId` that
//!   completion's `authedBillPayment` (`NO_ORDER` when it does not exist).
//! - bills/refund (`refundStatus` is always SUCCESS: refunds are immediate):
//!   unknown bill → `NO_ORDER`; unpaid or closed bill → `OPERATION_NOT_ALLOWED`;
//!   `refundAmount` above what is left → `OPERATION_NOT_ALLOWED`
//!   "退款金额超过可退金额 (可退 N 分)"; a second refund without
//!   `refundOrderId` → `OPERATION_NOT_ALLOWED` (without one, the first refund
//!   is numbered by the gateway). A `refundOrderId` this bill already used
//!   answers the first refund's result again (same `refundStatus`,
//!   `refundAmount`, `refundTargetOrderId`; nothing is refunded) when
//!   `refundAmount` is the same, and `DUP_ORDER` when it differs; a number
//!   used by another order of the merchant is `DUP_ORDER`. Never twice.
//! - query-qrcode-info needs no `tid`; `qrCodeId`, `systemId` and `mid` must
//!   all match (`NO_ORDER`). It answers the code (`qrCodeStatus` VALID /
//!   EXPIRED / CLOSED, `qrCodeType`, `expireTime`, `billQRCode`, `qrCodeUrl`),
//!   its bill and the stored request fields (billDesc, goods, notifyUrl, ...)
//!   except real-name data.
//! - Pre-authorisations and guaranteed trades: see `guarantee.rs`. In short:
//!   a bill with `preauthTransaction` "true" is paid as an authorisation
//!   (`authIdRespCd` in `billPayment`, which preauthed / preauth-cancel must
//!   quote); it is completed once with `totalAmount` ≤ the authorised amount
//!   (only that is refundable) or cancelled (bill CLOSED; then
//!   `HAS_CANCELLED`). A bill with `secureTransaction` "true" is UNCOMPLETED
//!   until `secure-complete` releases `completedAmount` (PARTLY_COMPLETED,
//!   ALL_COMPLETED; refunds only of the released part) or `secure-cancel`
//!   gives it back while nothing is released (CANCELED, bill CLOSED; then
//!   `HAS_CANCELLED`). secure-* find the payment by `merOrderId`.
//!
//! # Control endpoints
//!
//! Under `/_sandbox/`, without authentication, not counted in [`Stats`],
//! never given a fault; errors are `{"ok":false,"error":CODE,"message":..}`
//! (404 / 405 for unknown paths and methods):
//!
//! - `GET /_sandbox/health` → `{"ok":true}`; `GET /_sandbox/stats` →
//!   [`Stats::to_json`], with `"perApp": {"<appId>": {"tokensIssued",
//!   "tokensInvalidatedByLimit", "tokensExpired", "unauthorized"}}` for
//!   every known appId ([`AppStats`]): how many tokens the app got, how many
//!   valid ones the 10-token rule pushed out, how many ran out their
//!   lifetime, how many of its requests were answered 401.
//! - `POST /_sandbox/pay` `{"qrCodeId":"..", "amount":<fen>, "targetSys":"WXPay",
//!   "signType":"SHA256"}`: the customer pays the code. `amount` is required
//!   for codes without an amount and must equal the bill's `totalAmount`
//!   when it has one; `targetSys` one of docs/protocol.md §4.3 (default WXPay);
//!   `signType` MD5 or SHA256 (default SHA256) signs the bill's
//!   notifications. Answers `{"ok":true,"qrCodeId","billNo","billDate",
//!   "billStatus":"PAID","totalAmount","merOrderId","targetOrderId",
//!   "targetSys","notifyId"}` (`notifyId` null without `notifyUrl`;
//!   `authIdRespCd` for pre-authorisations) or 400 `BAD_REQUEST` /
//!   `AMOUNT_REQUIRED` / `AMOUNT_MISMATCH`, 404 `NO_ORDER` (unknown code),
//!   409 `CLOSED` / `EXPIRED` / `ALREADY_PAID` (one-off code). The body may
//!   have any Content-Type.
//! - `GET /_sandbox/notifications` (optionally `?billNo=..` or
//!   `?notifyId=..`) → `{"notifications":[{"notifyId","kind":"payment"|"refund",
//!   "url","billNo","billDate","status","delivered","attempts","lastReply",
//!   "body"}]}`, oldest first; `status` is `pending`, `delivered`, `failed`
//!   (gave up), `stopped` or `not delivered: not loopback`.
//! - `POST /_sandbox/clock` `{"advanceSeconds":N}` (0 ≤ N ≤ 10 years; the
//!   clock only moves forward) and `GET /_sandbox/clock` →
//!   `{"ok":true,"now":"yyyy-MM-dd HH:mm:ss","offsetSeconds":..}`. The offset
//!   moves the simulator's time: code and token expiry, payment, refund and
//!   answer times. Request timestamps (`Authorization` Timestamp, token
//!   `timestamp`, `requestTimestamp`) and the nonce window are still checked
//!   against the configured clock, because clients' clocks do not move. Rust
//!   code can also use [`Sandbox::advance_clock`] or a [`SandboxConfig::clock`].
//! - `GET /_sandbox/faults`, `POST /_sandbox/faults`, `DELETE
//!   /_sandbox/faults`: the fault queue, see below.
//! - State-changing control requests (POST, DELETE) are refused with 403
//!   `FORBIDDEN_HOST` / `FORBIDDEN_ORIGIN` when a browser could have been
//!   made to send them by another site (see the web console below); tools
//!   that send no `Origin` are served.
//! - `GET /_sandbox/processed[?since=SEQ]`: the judge's log, for every
//!   business request received, whether the simulator applied it (see
//!   [`judge`]); tests compare `resolve`'s verdicts with it.
//!
//! # Fault injection
//!
//! The simulator misbehaves on demand, the way gateways, proxies and
//! networks do, so that tests can prove what a client does about each case
//! and how many times a money-moving request reached the gateway. A fault
//! is chosen for a request as soon as its head has arrived, before its body
//! is read, in one of two ways:
//!
//! - **Queued**: `POST /_sandbox/faults` `{"path": "/v1/netpay/bills/refund"
//!   | "*", "fault": <name>, "count": N, "delayMs": ms}` (or
//!   [`Sandbox::inject_fault`]) gives the fault to the next `count` (default
//!   1, at most 100000) requests to that exact path (no query string);
//!   `"*"` matches every path **except the token endpoint**
//!   (`/v1/token/access`), so that a token-mode client meets the fault on its
//!   business request; a fault queued for `/v1/token/access` itself hits
//!   token requests. Faults are used first queued, first used; at most 1000
//!   wait at once (409 `TOO_MANY_FAULTS`). `GET /_sandbox/faults` →
//!   `{"ok":true,"faults":[{"path","fault","count" (uses left),"delayMs"?}]}`;
//!   the POST answers the same list; `DELETE /_sandbox/faults` (or
//!   [`Sandbox::clear_faults`]) empties the queue and answers
//!   `{"ok":true,"cleared":N,"faults":[]}`. A bad body is 400 `BAD_REQUEST`
//!   (unknown fault or field, `count` not 1..=100000, `delayMs` not
//!   0..=600000 or given for another fault, `path` not `"*"` or a `/...` path
//!   outside `/_sandbox/`).
//! - **Per request**: the header `X-Sandbox-Fault: <name>[;delayMs=N]`
//!   ([`FAULT_HEADER`]) applies the fault to the request carrying it only,
//!   and takes precedence over the queue. It is ignored on the token
//!   endpoint (a client that sends the header everywhere meets the fault on
//!   its business request, not on the token fetch; queue a fault for
//!   `/v1/token/access` to hit that). An unknown name or parameter is
//!   answered 400 `BAD_REQUEST`, not processed.
//!
//! "Processed" means the simulator does the work (the state changes: a
//! refund is made, a bill is put on a code) before the fault spoils the
//! answer; a client can never tell, which is why a money-moving request
//! whose outcome is unknown must not be resent blindly.
//!
//! | fault | processed | what happens |
//! |---|---|---|
//! | `delay` | yes | answered normally after `delayMs` (default 5000, longer than any sane client timeout; at most 600000) |
//! | `close-before-body` | no | the connection is closed after the head, before the body is read |
//! | `close-after-body` | yes | the body is read and processed, the connection closed without an answer |
//! | `close-mid-answer` | yes | the first half of the answer's bytes (status line and headers included), then closed |
//! | `http-500-html` | yes | HTTP 500, `text/html` page (the application failed after the work) |
//! | `http-502-html` | no | HTTP 502, `text/html` page (a proxy that could not reach the gateway) |
//! | `malformed-json` | yes | HTTP 200, the first half of the JSON answer (`{"errCode":"SUCC...`), Content-Length matching |
//! | `truncated-json` | yes | the whole head with the full Content-Length, half of the body, then closed |
//! | `oversized-json` | yes | the real answer padded with a `"padding"` field to 5 MiB (valid JSON) |
//! | `wrong-content-type` | yes | the right JSON answer with `Content-Type: text/html;charset=UTF-8` |
//! | `token-expired` | no | HTTP 401 `{"errCode":"INVALID_TOKEN","errMsg":"认证失败: AccessToken 已过期"}` (counted in `auth_failures`, and in the `unauthorized` of the app its token or AppId names) |
//! | `errcode-TIMEOUT` | yes | HTTP 200 errCode `TIMEOUT` |
//! | `errcode-NET_ERROR` | no | HTTP 200 errCode `NET_ERROR` |
//! | `errcode-ORDER_PROCESSING` | yes | HTTP 200 errCode `ORDER_PROCESSING` |
//! | `errcode-INTERNAL_ERROR` | yes | HTTP 200 errCode `INTERNAL_ERROR` |
//! | `errcode-BAD_SIGN` | no | HTTP 200 errCode `BAD_SIGN` |
//! | `refund-processing` | yes | a refund's answer says `refundStatus` PROCESSING (the refund is made; `bills/query` with its `refundOrderId` shows SUCCESS) |
//! | `refund-unknown` | yes | as `refund-processing`, with `refundStatus` UNKNOWN |
//! | `refund-fail` | no | HTTP 200 errCode `SUCCESS` with `refundStatus` FAIL: nothing refunded |
//! | `guarantee-processing` | yes | the state field of a pre-authorisation or guaranteed trade answer (`secureStatus`; `authedBillPayment.status`, `cancelBillPayment.status`) says PROCESSING; `bills/query` shows the settled state |
//! | `guarantee-unknown` | yes | as `guarantee-processing`, with UNKNOWN |
//! | `guarantee-fail` | no | HTTP 200 errCode `SUCCESS`, the state field FAIL (`TRADE_CLOSED` for bills/preauthed): nothing done |
//!
//! The three guarantee faults are in [`Fault::GUARANTEE_STATES`], not in
//! [`Fault::ALL`] (the exchange and refund faults test matrices run through).
//!
//! Every request that meets a fault is still counted in
//! [`Stats::requests`]; [`Stats::processed`] counts per path the business
//! requests actually handed to their operation (authenticated, a JSON
//! object; whatever the business answer), and [`Stats::faults`] how often
//! each fault was injected. A queued fault is used up when the request's
//! head arrives, even if its body then never does. A fault that closes or
//! cuts the connection ends it; a delayed answer is dropped unsent when the
//! simulator shuts down.
//!
//! ```no_run
//! use ums_sandbox::{Fault, Sandbox};
//! let sandbox = Sandbox::start_default()?;
//! sandbox.inject_fault("/v1/netpay/bills/refund", Fault::CloseAfterBody, 1);
//! // ... a refund through the client: outcome unknown, yet refunded ...
//! assert_eq!(sandbox.stats().processed_on("/v1/netpay/bills/refund"), 1);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Notifications
//!
//! After a payment, and after each refund (unless
//! [`SandboxConfig::notify_refunds`] is off), a bill with a `notifyUrl` gets
//! an `application/x-www-form-urlencoded` POST as docs/protocol.md §6 describes:
//! mid, tid, instMid, billNo, billQRCode, billDate, createTime, billStatus,
//! billDesc, totalAmount, memberId, counterNo (sent empty when the bill has
//! none, unless [`SandboxConfig::notify_empty_values`] is off), merName, notifyId (a
//! UUID), billPayment (JSON text), refundBillPayment (refunds), seqId,
//! signType, a random two-letter key with a random value, and `sign`
//! (upper-case hex MD5 or SHA-256 with the app's notify key, made by
//! [`chinaums::notify::sign_form`]). Delivery runs in a background thread, never
//! in the paying request. The same body (same notifyId) is sent until the
//! receiver answers 2xx with the text `SUCCESS` (white space around it
//! ignored), pausing [`SandboxConfig::notify_backoff`] between attempts (0.2
//! s, 0.5 s, 1 s, 2 s, then 5 s), at most [`SandboxConfig::notify_max_attempts`]
//! (20) attempts of [`SandboxConfig::notify_timeout`] (2 s) each. Only
//! `http://` URLs on a loopback address (127.0.0.0/8, `[::1]`, `localhost`)
//! are called, at the IP itself, without proxy or redirects; anything else is
//! recorded as "not delivered: not loopback": the simulator never sends
//! traffic off the machine. [`Sandbox::notifications`] and
//! `GET /_sandbox/notifications` show every attempt's outcome (`history`:
//! the time and the receiver's answer of each, the last 20).
//!
//! # Types, memory, locks, logging
//!
//! - Amounts (`totalAmount`, `refundAmount`, `platformAmount`,
//!   `completedAmount`) sent as strings of decimal digits (`"26"`, as the
//!   official samples send them) are taken as the integer, as the gateway
//!   takes them (docs/protocol.md §4.1), unless
//!   [`SandboxConfig::strict_types`] (`--strict`) wants the documented JSON
//!   integer.
//! - Settled bills (paid, refunded, closed, or unpaid and no longer
//!   payable) are forgotten [`SandboxConfig::bill_retention`] (24 h) of
//!   simulator time after their last change; pre-authorisations and
//!   guaranteed trades waiting for the merchant are kept.
//! - The state is in three parts with a lock each (bills; tokens and
//!   nonces; counters), each held only for the state change.
//! - With [`SandboxConfig::log_requests`] (the `ums-sandbox` program unless
//!   `--quiet`), one line per request on stderr: time, method, path, appId,
//!   errCode, fault, milliseconds; never a key, signature, token or body.
//!
//! # The web console
//!
//! `GET /` is a console for people: codes, bills (their `billQRCode` as
//! SVG), a "customer pays" form, the notification and request logs, the
//! fault switches and the clock. It and every state-changing control
//! request refuse another site's `Host` (DNS rebinding) and `Origin`
//! (cross-site requests) with 403; see `console.rs`.

mod auth;
mod bills;
mod console;
mod customer;
mod faults;
mod fields;
mod gateway;
mod guarantee;
mod http;
pub mod judge;
mod notifier;
mod refunds;
mod reqlog;
pub mod serve;
mod state;
pub mod tls;

pub use faults::{Fault, QueuedFault, DEFAULT_DELAY as DEFAULT_FAULT_DELAY, FAULT_HEADER};
pub use notifier::{Attempt, Delivery, DeliveryStatus};

use chinaums::clock::{Clock, SystemClock};
use gateway::Gateway;
use http::{Limits, Server};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

/// The documented demo credentials: public, for README, examples and tests.
/// Never put real keys next to these.
pub mod demo {
    pub const APP_ID: &str = "10037e6f66f2d0f901672aa27d690006";
    /// Public demo key of the simulator (not a secret).
    pub const APP_KEY: &str = "47ace12ae3b348fe93ab46cee97c6fde";
    /// Public demo notification key of the simulator.
    pub const NOTIFY_KEY: &str = "fcAmtnx7MwismjWNhNKdHC44mNXtnEQeJkRrhKJwyrW2ysRR";
    pub const MID: &str = "898340149000005";
    pub const TID: &str = "00000001";
    /// The other official sample terminal, also accepted for both merchants.
    pub const TID_ALT: &str = "88880001";
    pub const INST_MID: &str = "QRPAYDEFAULT";
    pub const MSG_SRC: &str = "WWW.TEST.COM";
    pub const MSG_SRC_ID: &str = "3194";
    /// The QR code of the update-qrcode doc page: a fixed code of [`MID`]
    /// without amount or bill number when the simulator starts.
    pub const SEED_QR_CODE_ID: &str = "31942002267733902130410550";
    /// A second merchant of the demo app (tids [`TID`] and [`TID_ALT`]), so
    /// that "code belongs to another merchant" can be exercised.
    pub const SECOND_MID: &str = "898340149000006";

    /// A client configuration of the demo app for the simulator at
    /// `base_url` (environment, appId, appKey, mid, tid, msgSrcId), with the
    /// members of `extra` set over it: the tests' and benches' starting point.
    pub fn client_config(base_url: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut config = serde_json::json!({
            "environment": base_url,
            "appId": APP_ID,
            "appKey": APP_KEY,
            "mid": MID,
            "tid": TID,
            "msgSrcId": MSG_SRC_ID,
        });
        if let serde_json::Value::Object(extra) = extra {
            for (key, value) in extra {
                config[key] = value;
            }
        }
        config
    }
}

/// How to run the simulator.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Lifetime of access tokens (`expiresIn`). Default 3600 s.
    pub token_lifetime: Duration,
    /// Tolerated distance between a request's timestamps (header
    /// `Timestamp`, token `timestamp`, body `requestTimestamp`) and the
    /// simulator clock, and the nonce-replay window. Default 300 s.
    pub clock_skew: Duration,
    /// The simulator's "now". Default [`SystemClock`].
    pub clock: Arc<dyn Clock>,
    /// Live connections at once; more are closed at once. Default 256.
    pub max_connections: usize,
    /// A connection silent this long is closed. Default 60 s.
    pub idle_timeout: Duration,
    /// Pauses between notification attempts: after the 1st failed attempt
    /// the first pause, and so on; the last one repeats. Default 0.2 s,
    /// 0.5 s, 1 s, 2 s, then 5 s.
    pub notify_backoff: Vec<Duration>,
    /// Attempts per notification before the simulator gives up. Default 20.
    pub notify_max_attempts: u32,
    /// Time limit of one notification attempt (connect, send, answer).
    /// Default 2 s.
    pub notify_timeout: Duration,
    /// Whether refunds are notified too (payments always are). Default true.
    pub notify_refunds: bool,
    /// Whether notifications carry the optional fields a bill lacks
    /// (`billDesc`, `memberId`, `counterNo`) as empty values, as real ones
    /// can (receivers must leave empty values out of the signature,
    /// docs/protocol.md §6). Default true.
    pub notify_empty_values: bool,
    /// Amounts only as JSON integers, the documented type (`--strict`).
    /// Default false: an amount sent as a string of decimal digits
    /// (`"totalAmount": "26"`, as the official samples send it) is accepted
    /// too, as the gateway accepts it.
    pub strict_types: bool,
    /// How long a settled bill (paid, refunded, closed, or no longer
    /// payable) is kept after its last change, in simulator time; then it
    /// is forgotten (`NO_ORDER`), so that memory stays bounded in long runs.
    /// Default 24 hours.
    pub bill_retention: Duration,
    /// One line per request on stderr (method, path, appId, errCode, ms).
    /// Default false; the `ums-sandbox` program turns it on unless
    /// `--quiet`.
    pub log_requests: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            token_lifetime: Duration::from_secs(3600),
            clock_skew: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
            max_connections: 256,
            idle_timeout: Duration::from_secs(60),
            notify_backoff: [200, 500, 1000, 2000, 5000]
                .into_iter()
                .map(Duration::from_millis)
                .collect(),
            notify_max_attempts: 20,
            notify_timeout: Duration::from_secs(2),
            notify_refunds: true,
            notify_empty_values: true,
            strict_types: false,
            bill_retention: Duration::from_secs(24 * 3600),
            log_requests: false,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("port", &self.port)
            .field("token_lifetime", &self.token_lifetime)
            .field("clock_skew", &self.clock_skew)
            .field("clock_now_unix_millis", &self.clock.now_unix_millis())
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("notify_backoff", &self.notify_backoff)
            .field("notify_max_attempts", &self.notify_max_attempts)
            .field("notify_timeout", &self.notify_timeout)
            .field("notify_refunds", &self.notify_refunds)
            .field("notify_empty_values", &self.notify_empty_values)
            .field("strict_types", &self.strict_types)
            .field("bill_retention", &self.bill_retention)
            .field("log_requests", &self.log_requests)
            .finish()
    }
}

/// Counters, so that tests can prove how often a request reached the
/// simulator. Control endpoints (`/_sandbox/...`) are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received per path (query excluded), faulty ones included.
    /// After 1024 distinct paths, further new paths are counted under
    /// `"<other>"`.
    pub requests: BTreeMap<String, u64>,
    /// Business requests processed per path: authenticated, a JSON object,
    /// and handed to the operation (whatever its answer, `SUCCESS` or a
    /// refusal). A fault that is not processed ([`Fault::processed`]) keeps
    /// its request out of this count.
    pub processed: BTreeMap<String, u64>,
    /// Faults injected, per fault name (`"delay"`, `"errcode-TIMEOUT"`, ...).
    pub faults: BTreeMap<String, u64>,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Valid tokens invalidated because an 11th was issued for the appId.
    pub tokens_invalidated: u64,
    /// Token requests refused (errCode other than `0000`).
    pub token_failures: u64,
    /// Business requests answered 401.
    pub auth_failures: u64,
    /// Requests refused for bad HTTP framing (400, 408, 411, 413, 417, 431, 505).
    pub malformed_requests: u64,
    /// Connections closed because the connection cap was reached.
    pub connections_refused: u64,
    /// Token and 401 counters of every known appId (the demo app's included,
    /// with zeros before its first token), so that a test can measure how a
    /// fleet of clients shares the limit of 10 valid tokens per appId.
    pub per_app: BTreeMap<String, AppStats>,
}

/// The token and authentication counters of one appId ([`Stats::per_app`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppStats {
    /// Access tokens issued to the app.
    pub tokens_issued: u64,
    /// Valid tokens invalidated by the 10-token rule: issuing the 11th
    /// valid token of the app invalidated its oldest valid one. Expired
    /// tokens are never counted here (they no longer count against the
    /// limit).
    pub tokens_invalidated_by_limit: u64,
    /// Tokens whose lifetime ran out (at the simulator's time, `POST
    /// /_sandbox/clock` included) before the limit pushed them out.
    pub tokens_expired: u64,
    /// Business requests of the app answered 401 (any code: `INVALID_TOKEN`
    /// for an expired or invalidated token, `BAD_SIGN`, ...). A 401 is
    /// counted for the app when the request names it: through a token the
    /// simulator issued to it, or the `AppId` of an OPEN-BODY-SIG header.
    pub unauthorized: u64,
}

impl AppStats {
    /// The JSON of one app in `"perApp"`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "tokensIssued": self.tokens_issued,
            "tokensInvalidatedByLimit": self.tokens_invalidated_by_limit,
            "tokensExpired": self.tokens_expired,
            "unauthorized": self.unauthorized,
        })
    }
}

impl Stats {
    /// Requests received on `path` (e.g. `"/v1/netpay/bills/get-qrcode"`).
    pub fn requests_to(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }

    /// Business requests processed on `path` (see [`Stats::processed`]).
    pub fn processed_on(&self, path: &str) -> u64 {
        self.processed.get(path).copied().unwrap_or(0)
    }

    /// How often the fault named `name` was injected.
    pub fn faults_injected(&self, name: &str) -> u64 {
        self.faults.get(name).copied().unwrap_or(0)
    }

    /// Requests received on all counted paths.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// The counters of `app_id` (zeros for an appId the simulator does not
    /// know).
    pub fn app(&self, app_id: &str) -> AppStats {
        self.per_app.get(app_id).copied().unwrap_or_default()
    }

    /// The JSON served by `GET /_sandbox/stats`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "requests": self.requests,
            "processed": self.processed,
            "faults": self.faults,
            "tokensIssued": self.tokens_issued,
            "tokensInvalidated": self.tokens_invalidated,
            "tokenFailures": self.token_failures,
            "authFailures": self.auth_failures,
            "malformedRequests": self.malformed_requests,
            "connectionsRefused": self.connections_refused,
            "perApp": self
                .per_app
                .iter()
                .map(|(app_id, app)| (app_id.clone(), app.to_json()))
                .collect::<serde_json::Map<_, _>>(),
        })
    }
}

/// A running simulator. Dropping it (or [`Sandbox::shutdown`]) stops it.
pub struct Sandbox {
    server: Server,
    gateway: Arc<Gateway>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr())
            .finish()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Sandbox {
    /// Binds `127.0.0.1:port` and serves from background threads.
    pub fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let settings = auth::Settings {
            token_lifetime_ms: millis(config.token_lifetime),
            clock_skew_ms: millis(config.clock_skew),
        };
        let policy = notifier::Policy {
            backoff: config.notify_backoff.clone(),
            max_attempts: config.notify_max_attempts.max(1),
            attempt_timeout: config.notify_timeout.max(Duration::from_millis(1)),
        };
        let behaviour = gateway::Behaviour {
            port: listener.local_addr()?.port(),
            strict_types: config.strict_types,
            notify_refunds: config.notify_refunds,
            notify_empty_values: config.notify_empty_values,
            retention_ms: millis(config.bill_retention).max(1),
            log_requests: config.log_requests,
        };
        let gateway = Arc::new(Gateway::new(
            settings,
            Arc::clone(&config.clock),
            policy,
            behaviour,
        ));
        let limits = Limits {
            max_connections: config.max_connections.max(1),
            idle_timeout: config.idle_timeout.max(Duration::from_millis(1)),
            ..Limits::default()
        };
        let server = Server::start(listener, gateway.clone(), limits)?;
        Ok(Sandbox { server, gateway })
    }

    /// [`Sandbox::start`] with [`SandboxConfig::default`] (a free port).
    pub fn start_default() -> std::io::Result<Sandbox> {
        Sandbox::start(SandboxConfig::default())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.gateway.stats()
    }

    /// The access tokens that are valid now for `app_id`, oldest first. For
    /// tests in Rust that must know a client's token (to prove it is never
    /// printed); there is no HTTP endpoint for it.
    pub fn live_tokens(&self, app_id: &str) -> Vec<String> {
        let state = self.gateway.auth_book();
        state
            .live_tokens
            .get(app_id)
            .map(|tokens| tokens.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Moves the simulator's clock forward by `by` (like `POST
    /// /_sandbox/clock`): QR codes and tokens expire, payments and answers
    /// carry the later time. Request timestamps are still checked against
    /// the configured clock.
    pub fn advance_clock(&self, by: Duration) {
        self.gateway.advance_clock(millis(by));
    }

    /// Queues `fault` for the next `count` requests to `path` (like `POST
    /// /_sandbox/faults`): an exact path such as
    /// `"/v1/netpay/bills/refund"`, or `"*"` for every path but the token
    /// endpoint. Faults are matched first queued, first used. At most 1000
    /// faults wait at once; `count` is capped at 100000.
    ///
    /// # Panics
    ///
    /// When 1000 faults are already queued.
    pub fn inject_fault(&self, path: &str, fault: Fault, count: u32) {
        assert!(
            self.gateway.inject_fault(path, fault, count),
            "the sandbox fault queue is full (1000 faults)"
        );
    }

    /// Forgets every queued fault (like `DELETE /_sandbox/faults`).
    pub fn clear_faults(&self) {
        self.gateway.clear_faults();
    }

    /// The faults still queued, with how many requests each still gets.
    pub fn queued_faults(&self) -> Vec<QueuedFault> {
        self.gateway.queued_faults()
    }

    /// How many bills the simulator keeps now (settled bills past the
    /// retention window are forgotten: [`SandboxConfig::bill_retention`]).
    pub fn bills_kept(&self) -> usize {
        self.gateway.lock().bill_count()
    }

    /// Every notification sent or being sent, oldest first (at most the
    /// last 1000), as `GET /_sandbox/notifications` lists them.
    pub fn notifications(&self) -> Vec<Delivery> {
        self.gateway.deliveries()
    }

    /// Every business request received since `since` (0: all) and whether
    /// the simulator applied it (see [`judge`]; `GET /_sandbox/processed`).
    pub fn processed(&self, since: u64) -> Vec<judge::Processed> {
        self.gateway.judge.processed(since)
    }

    /// Waits up to `timeout` for a processed-log entry that `matches`
    /// (a barrier on "the simulator has decided this request").
    pub fn wait_processed(
        &self,
        timeout: Duration,
        matches: &dyn Fn(&judge::Processed) -> bool,
    ) -> Option<judge::Processed> {
        self.gateway.judge.wait_processed(timeout, matches)
    }

    /// Holds the next `count` business requests to `path` (`"*"`: any)
    /// before they are processed, until [`Sandbox::release_held`].
    pub fn hold_requests(&self, path: &str, count: u32) {
        self.gateway.judge.hold(path, count);
    }

    /// Waits up to `timeout` until `n` requests are held; true if they are.
    pub fn wait_held(&self, n: usize, timeout: Duration) -> bool {
        self.gateway.judge.wait_held(n, timeout)
    }

    /// Lets the held requests be processed; disarms unused holds.
    pub fn release_held(&self) {
        self.gateway.judge.release();
    }

    /// Waits up to `timeout` until no request is being processed (held ones
    /// included: a request that read the clock is done with the state);
    /// true if none is.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.gateway.judge.wait_idle(timeout)
    }

    /// Stops accepting, closes live connections, stops notification retries
    /// and lets their threads end.
    pub fn shutdown(mut self) {
        self.server.shutdown();
        self.gateway.stop_notifier();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.shutdown();
        self.gateway.stop_notifier();
    }
}
