//! Fault injection: the ways a real gateway, proxy or network misbehaves,
//! on demand, so that tests can prove what a client does about each.
//!
//! A fault is chosen for a request as soon as its head has arrived (before
//! its body is read, so that `close-before-body` can happen), either from the
//! request's own `X-Sandbox-Fault` header or from the queue that
//! `POST /_sandbox/faults` and [`super::Sandbox::inject_fault`] fill. The
//! gateway then either answers without processing the request, or processes
//! it and spoils the answer; the HTTP layer spoils the delivery (delay,
//! closes, cut answers) in [`super::http::write_answer`].

use super::http::{Answer, CutAt, Wire};
use chinaums::clock::BeijingTime;
use serde_json::{json, Map, Value};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// The request header that injects a fault into the request carrying it.
pub const FAULT_HEADER: &str = "X-Sandbox-Fault";
/// `delay` without `delayMs`: longer than any sane client timeout.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(5000);
/// The longest `delayMs` accepted: 10 minutes.
pub const MAX_DELAY: Duration = Duration::from_secs(600);
/// Size of the answer of `oversized-json`: 5 MiB.
pub const OVERSIZED_BYTES: usize = 5 * 1024 * 1024;
/// Most requests one queued fault may apply to.
pub const MAX_FAULT_COUNT: u32 = 100_000;
/// Most faults waiting in the queue at once.
const MAX_QUEUED: usize = 1000;
/// The path that matches every ChinaUMS path except the token endpoint.
pub const ANY_PATH: &str = "*";

/// One way to misbehave. "Processed" faults let the simulator do the work
/// (the state changes) before the answer is spoiled; the others answer or
/// close without doing anything. A client cannot tell the two apart, which
/// is the point: see [`Fault::processed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `delay`: processed, then answered after this long.
    Delay(Duration),
    /// `close-before-body`: the connection is closed once the head has
    /// arrived, before the body is read. Not processed.
    CloseBeforeBody,
    /// `close-after-body`: processed, then closed without an answer.
    CloseAfterBody,
    /// `close-mid-answer`: processed, then the first half of the answer's
    /// bytes (status line and headers included) is written and the
    /// connection closed.
    CloseMidAnswer,
    /// `http-500-html`: processed, then HTTP 500 with an HTML page (the
    /// application failed after doing the work).
    Http500Html,
    /// `http-502-html`: HTTP 502 with an HTML page, as a proxy that could
    /// not reach the gateway answers. Not processed.
    Http502Html,
    /// `malformed-json`: processed, then HTTP 200 with the first half of the
    /// JSON answer (`{"errCode":"SUCC...`) and a Content-Length that matches.
    MalformedJson,
    /// `truncated-json`: processed, then the full head (Content-Length of the
    /// whole answer) and half of the body, then closed.
    TruncatedJson,
    /// `oversized-json`: processed, then the real answer padded with a
    /// `"padding"` field to 5 MiB.
    OversizedJson,
    /// `wrong-content-type`: processed, the right JSON answer with
    /// `Content-Type: text/html`.
    WrongContentType,
    /// `token-expired`: HTTP 401 `INVALID_TOKEN` as if the access token had
    /// just expired. Not processed.
    TokenExpired,
    /// `errcode-TIMEOUT`: processed, then HTTP 200 errCode `TIMEOUT`.
    ErrCodeTimeout,
    /// `errcode-NET_ERROR`: HTTP 200 errCode `NET_ERROR`. Not processed.
    ErrCodeNetError,
    /// `errcode-ORDER_PROCESSING`: processed, then HTTP 200 errCode
    /// `ORDER_PROCESSING`.
    ErrCodeOrderProcessing,
    /// `errcode-INTERNAL_ERROR`: processed, then HTTP 200 errCode
    /// `INTERNAL_ERROR`.
    ErrCodeInternalError,
    /// `errcode-BAD_SIGN`: HTTP 200 errCode `BAD_SIGN`. Not processed.
    ErrCodeBadSign,
    /// `refund-processing`: processed (the refund is made), but the answer
    /// says `refundStatus` PROCESSING, as a refund the wallet has not
    /// confirmed yet; `bills/query` with the `refundOrderId` then shows it
    /// settled (SUCCESS).
    RefundProcessing,
    /// `refund-unknown`: as `refund-processing`, with `refundStatus` UNKNOWN.
    RefundUnknown,
    /// `refund-fail`: HTTP 200 errCode SUCCESS with `refundStatus` FAIL, as
    /// a refund the wallet refused. Not processed: nothing is refunded.
    RefundFail,
    /// `guarantee-processing`: processed (the pre-authorisation or
    /// guaranteed trade is completed or cancelled), but the answer's state
    /// field says PROCESSING: `secureStatus` of secure-complete and
    /// secure-cancel, `authedBillPayment.status` of bills/preauthed,
    /// `cancelBillPayment.status` of bills/preauth-cancel. `bills/query`
    /// then shows the settled state. Listed in [`Fault::GUARANTEE_STATES`],
    /// not in [`Fault::ALL`].
    GuaranteeProcessing,
    /// `guarantee-unknown`: as `guarantee-processing`, with UNKNOWN.
    GuaranteeUnknown,
    /// `guarantee-fail`: HTTP 200 errCode SUCCESS with the state field
    /// failed (`FAIL`; `TRADE_CLOSED` for bills/preauthed). Not processed:
    /// nothing is completed or cancelled.
    GuaranteeFail,
}

impl Fault {
    /// Every fault, `delay` with [`DEFAULT_DELAY`], in documentation order.
    pub const ALL: [Fault; 19] = [
        Fault::Delay(DEFAULT_DELAY),
        Fault::CloseBeforeBody,
        Fault::CloseAfterBody,
        Fault::CloseMidAnswer,
        Fault::Http500Html,
        Fault::Http502Html,
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::OversizedJson,
        Fault::WrongContentType,
        Fault::TokenExpired,
        Fault::ErrCodeTimeout,
        Fault::ErrCodeNetError,
        Fault::ErrCodeOrderProcessing,
        Fault::ErrCodeInternalError,
        Fault::ErrCodeBadSign,
        Fault::RefundProcessing,
        Fault::RefundUnknown,
        Fault::RefundFail,
    ];

    /// The faults that set the state of a pre-authorisation or guaranteed
    /// trade operation's answer (kept apart from [`Fault::ALL`], the
    /// exchange and refund faults that test matrices run through).
    pub const GUARANTEE_STATES: [Fault; 3] = [
        Fault::GuaranteeProcessing,
        Fault::GuaranteeUnknown,
        Fault::GuaranteeFail,
    ];

    /// `delay` with [`DEFAULT_DELAY`].
    pub fn delay() -> Fault {
        Fault::Delay(DEFAULT_DELAY)
    }

    /// Whether the fault sets a refund's business state (`refund-processing`,
    /// `refund-unknown`, `refund-fail`) rather than spoiling the exchange.
    pub fn is_refund_state(self) -> bool {
        matches!(
            self,
            Fault::RefundProcessing | Fault::RefundUnknown | Fault::RefundFail
        )
    }

    /// The name used by `X-Sandbox-Fault` and `POST /_sandbox/faults`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Delay(_) => "delay",
            Fault::CloseBeforeBody => "close-before-body",
            Fault::CloseAfterBody => "close-after-body",
            Fault::CloseMidAnswer => "close-mid-answer",
            Fault::Http500Html => "http-500-html",
            Fault::Http502Html => "http-502-html",
            Fault::MalformedJson => "malformed-json",
            Fault::TruncatedJson => "truncated-json",
            Fault::OversizedJson => "oversized-json",
            Fault::WrongContentType => "wrong-content-type",
            Fault::TokenExpired => "token-expired",
            Fault::ErrCodeTimeout => "errcode-TIMEOUT",
            Fault::ErrCodeNetError => "errcode-NET_ERROR",
            Fault::ErrCodeOrderProcessing => "errcode-ORDER_PROCESSING",
            Fault::ErrCodeInternalError => "errcode-INTERNAL_ERROR",
            Fault::ErrCodeBadSign => "errcode-BAD_SIGN",
            Fault::RefundProcessing => "refund-processing",
            Fault::RefundUnknown => "refund-unknown",
            Fault::RefundFail => "refund-fail",
            Fault::GuaranteeProcessing => "guarantee-processing",
            Fault::GuaranteeUnknown => "guarantee-unknown",
            Fault::GuaranteeFail => "guarantee-fail",
        }
    }

    /// The fault of that name (exact spelling; `delay` gets [`DEFAULT_DELAY`]).
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL
            .into_iter()
            .chain(Fault::GUARANTEE_STATES)
            .find(|f| f.name() == name)
    }

    /// Whether the simulator does the work (the state changes) before the
    /// fault spoils the answer: `delay`, `close-after-body`,
    /// `close-mid-answer`, `http-500-html`, `malformed-json`,
    /// `truncated-json`, `oversized-json`, `wrong-content-type`,
    /// `errcode-TIMEOUT`, `errcode-ORDER_PROCESSING`,
    /// `errcode-INTERNAL_ERROR`, `refund-processing`, `refund-unknown`.
    /// Not processed: `close-before-body`, `http-502-html`, `token-expired`,
    /// `errcode-NET_ERROR`, `errcode-BAD_SIGN`, `refund-fail`.
    pub fn processed(self) -> bool {
        !matches!(
            self,
            Fault::CloseBeforeBody
                | Fault::Http502Html
                | Fault::TokenExpired
                | Fault::ErrCodeNetError
                | Fault::ErrCodeBadSign
                | Fault::RefundFail
                | Fault::GuaranteeFail
        )
    }

    /// The answer of a fault that is not processed.
    pub(crate) fn unprocessed_answer(self, path: &str, now_ms: i64) -> Answer {
        match self {
            Fault::CloseBeforeBody => Answer {
                wire: Wire::Close,
                close: true,
                ..Answer::json(200, &json!({}))
            },
            Fault::Http502Html => html(502, "502 Bad Gateway"),
            Fault::TokenExpired => Answer::json(
                401,
                &json!({"errCode": "INVALID_TOKEN", "errMsg": "认证失败: AccessToken 已过期"}),
            ),
            Fault::ErrCodeNetError => err_code("NET_ERROR", "网络错误, 请稍后重试", now_ms),
            Fault::ErrCodeBadSign => err_code("BAD_SIGN", "签名错误", now_ms),
            Fault::RefundFail => Answer::json(
                200,
                &json!({
                    "errCode": "SUCCESS",
                    "errMsg": "退款失败",
                    "refundStatus": "FAIL",
                    "responseTimeStamp": BeijingTime::from_unix_millis(now_ms).date_time(),
                }),
            ),
            Fault::GuaranteeFail => {
                let mut answer = json!({
                    "errCode": "SUCCESS",
                    "errMsg": "交易失败",
                    "responseTimeStamp": BeijingTime::from_unix_millis(now_ms).date_time(),
                });
                match path.rsplit('/').next() {
                    Some("preauthed") => {
                        answer["authedBillPayment"] = json!({"status": "TRADE_CLOSED"})
                    }
                    Some("preauth-cancel") => {
                        answer["cancelBillPayment"] = json!({"status": "FAIL"})
                    }
                    _ => answer["secureStatus"] = json!("FAIL"),
                }
                Answer::json(200, &answer)
            }
            other => unreachable!("{} is processed", other.name()),
        }
    }

    /// Spoils the answer of a processed request.
    pub(crate) fn spoil(self, mut answer: Answer, now_ms: i64) -> Answer {
        match self {
            Fault::Delay(d) => answer.wire = Wire::Delay(d),
            Fault::CloseAfterBody => {
                answer.wire = Wire::Close;
                answer.close = true;
            }
            Fault::CloseMidAnswer => {
                answer.wire = Wire::Cut(CutAt::HalfAnswer);
                answer.close = true;
            }
            Fault::TruncatedJson => {
                answer.wire = Wire::Cut(CutAt::HalfBody);
                answer.close = true;
            }
            Fault::Http500Html => return html(500, "500 Internal Server Error"),
            Fault::MalformedJson => {
                // Half of the text, cut between characters: an unclosed
                // object is never valid JSON.
                let text = String::from_utf8_lossy(&answer.body).into_owned();
                let mut cut = (text.len() / 2).max(1).min(text.len());
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                answer.body = text.as_bytes()[..cut].to_vec();
                if answer.body.is_empty() {
                    answer.body = b"{".to_vec();
                }
            }
            Fault::OversizedJson => {
                let mut map: Map<String, Value> = match serde_json::from_slice(&answer.body) {
                    Ok(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                map.insert("padding".into(), Value::String(String::new()));
                let used = serde_json::to_vec(&map).map_or(0, |v| v.len());
                let pad = OVERSIZED_BYTES.saturating_sub(used);
                map.insert("padding".into(), Value::String(" ".repeat(pad)));
                answer = Answer {
                    close: answer.close,
                    ..Answer::json(answer.status, &Value::Object(map))
                };
            }
            Fault::WrongContentType => answer.content_type = "text/html;charset=UTF-8".into(),
            Fault::ErrCodeTimeout => return err_code("TIMEOUT", "交易超时", now_ms),
            Fault::ErrCodeOrderProcessing => {
                return err_code("ORDER_PROCESSING", "订单处理中, 请稍后查询", now_ms)
            }
            Fault::ErrCodeInternalError => {
                return err_code("INTERNAL_ERROR", "系统内部错误", now_ms)
            }
            Fault::RefundProcessing => return with_refund_status(answer, "PROCESSING"),
            Fault::RefundUnknown => return with_refund_status(answer, "UNKNOWN"),
            Fault::GuaranteeProcessing => return with_guarantee_state(answer, "PROCESSING"),
            Fault::GuaranteeUnknown => return with_guarantee_state(answer, "UNKNOWN"),
            other => unreachable!("{} is not processed", other.name()),
        }
        answer
    }

    /// The `X-Sandbox-Fault` / control form: `{"fault":..,"delayMs":..}`.
    pub fn to_json(self) -> Value {
        match self {
            Fault::Delay(d) => json!({"fault": self.name(), "delayMs": duration_ms(d)}),
            _ => json!({"fault": self.name()}),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Delay(d) => write!(f, "delay;delayMs={}", duration_ms(*d)),
            other => f.write_str(other.name()),
        }
    }
}

/// The refusal of a fault name the simulator does not know, listing those it does.
fn unknown_fault(name: &str) -> String {
    format!(
        "未知的故障 `{}` (可用: {})",
        clip(name),
        Fault::ALL.map(Fault::name).join(", ")
    )
}

/// Parses the `X-Sandbox-Fault` value: `<name>[;delayMs=N]`.
impl FromStr for Fault {
    type Err = String;

    fn from_str(value: &str) -> Result<Fault, String> {
        let mut parts = value.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let fault = Fault::from_name(name).ok_or_else(|| unknown_fault(name))?;
        let mut delay = None;
        for param in parts {
            match param.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("delayMs", v)) if matches!(fault, Fault::Delay(_)) && delay.is_none() => {
                    delay = Some(parse_delay(v).ok_or_else(|| {
                        format!("delayMs 必须是 0..={} 的整数", duration_ms(MAX_DELAY))
                    })?);
                }
                _ => return Err(format!("`{}` 不接受参数 `{}`", name, clip(param))),
            }
        }
        Ok(match (fault, delay) {
            (Fault::Delay(_), Some(d)) => Fault::Delay(d),
            (f, _) => f,
        })
    }
}

fn parse_delay(text: &str) -> Option<Duration> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = text.parse().ok()?;
    let d = Duration::from_millis(ms);
    (d <= MAX_DELAY).then_some(d)
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn html(status: u16, title: &str) -> Answer {
    let page = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    Answer {
        status,
        content_type: "text/html".into(),
        body: page.into_bytes(),
        close: false,
        wire: Wire::Normal,
        headers: Vec::new(),
    }
}

/// A successful refund answer with another `refundStatus`; any other answer
/// (a refusal, another operation) as it was.
fn with_refund_status(answer: Answer, refund_status: &str) -> Answer {
    match serde_json::from_slice::<Value>(&answer.body) {
        Ok(Value::Object(mut map)) if map.contains_key("refundStatus") => {
            map.insert("refundStatus".into(), refund_status.into());
            Answer {
                close: answer.close,
                ..Answer::json(answer.status, &Value::Object(map))
            }
        }
        _ => answer,
    }
}

/// A successful guarantee answer whose state field says `state`; any other
/// answer (a refusal, another operation) as it was.
fn with_guarantee_state(answer: Answer, state: &str) -> Answer {
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(&answer.body) else {
        return answer;
    };
    if map.get("errCode").and_then(Value::as_str) != Some("SUCCESS") {
        return answer;
    }
    let mut changed = false;
    if map.contains_key("secureStatus") {
        map.insert("secureStatus".into(), state.into());
        changed = true;
    }
    for key in ["authedBillPayment", "cancelBillPayment"] {
        if let Some(Value::Object(payment)) = map.get_mut(key) {
            payment.insert("status".into(), state.into());
            changed = true;
        }
    }
    if !changed {
        return answer;
    }
    Answer {
        close: answer.close,
        ..Answer::json(answer.status, &Value::Object(map))
    }
}

fn err_code(code: &str, message: &str, now_ms: i64) -> Answer {
    Answer::json(
        200,
        &json!({
            "errCode": code,
            "errMsg": message,
            "responseTimeStamp": BeijingTime::from_unix_millis(now_ms).date_time(),
        }),
    )
}

/// A fault waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedFault {
    /// The exact request path, or `"*"` for every path but the token
    /// endpoint.
    pub path: String,
    pub fault: Fault,
    /// How many more matching requests get it.
    pub remaining: u32,
}

impl QueuedFault {
    pub fn to_json(&self) -> Value {
        let mut v = self.fault.to_json();
        v["path"] = json!(self.path);
        v["count"] = json!(self.remaining);
        v
    }
}

/// What was decided for one request when its head arrived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Planned {
    #[default]
    None,
    Fault(Fault),
    /// An `X-Sandbox-Fault` header that could not be read: answered HTTP 400
    /// `BAD_REQUEST`, not processed.
    BadHeader(String),
}

impl Planned {
    /// Whether the connection is closed before the body is read.
    pub fn skips_body(&self) -> bool {
        matches!(self, Planned::Fault(Fault::CloseBeforeBody))
    }
}

/// The queue behind `POST /_sandbox/faults`: first in, first matched.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    queued: Mutex<Vec<QueuedFault>>,
}

impl FaultQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<QueuedFault>> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `fault` for the next `count` requests to `path`. False when the
    /// queue is full.
    pub fn push(&self, path: &str, fault: Fault, count: u32) -> bool {
        if count == 0 {
            return true;
        }
        let mut queued = self.lock();
        if queued.len() >= MAX_QUEUED {
            return false;
        }
        queued.push(QueuedFault {
            path: path.to_string(),
            fault,
            remaining: count.min(MAX_FAULT_COUNT),
        });
        true
    }

    /// Takes one use of the first fault matching `path`. `"*"` matches every
    /// path except `token_path`.
    pub fn take(&self, path: &str, token_path: &str) -> Option<Fault> {
        let mut queued = self.lock();
        let at = queued
            .iter()
            .position(|q| q.path == path || (q.path == ANY_PATH && path != token_path))?;
        let fault = queued[at].fault;
        queued[at].remaining -= 1;
        if queued[at].remaining == 0 {
            queued.remove(at);
        }
        Some(fault)
    }

    /// Forgets every queued fault; returns how many there were.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut *self.lock()).len()
    }

    pub fn list(&self) -> Vec<QueuedFault> {
        self.lock().clone()
    }
}

/// Reads the body of `POST /_sandbox/faults`: `{"path","fault","count"?,
/// "delayMs"?}` → (path, fault, count), or a message.
pub(crate) fn parse_control(body: &Map<String, Value>) -> Result<(String, Fault, u32), String> {
    for key in body.keys() {
        if !matches!(key.as_str(), "path" | "fault" | "count" | "delayMs") {
            return Err(format!(
                "未知字段 `{}` (可用: path, fault, count, delayMs)",
                clip(key)
            ));
        }
    }
    let path = match body.get("path").and_then(Value::as_str) {
        Some(p) if p == ANY_PATH => p.to_string(),
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("/_sandbox")
                && p.len() <= 256
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'?') =>
        {
            p.to_string()
        }
        _ => {
            return Err(
                "path 必须是 \"*\" 或请求路径 (如 /v1/netpay/bills/refund, 不含查询串, 不能是 /_sandbox/...)"
                    .into(),
            )
        }
    };
    let name = body
        .get("fault")
        .and_then(Value::as_str)
        .ok_or("fault 必须是故障名称")?;
    let fault = Fault::from_name(name).ok_or_else(|| unknown_fault(name))?;
    let count = match body.get("count") {
        None => 1,
        Some(v) => match v.as_u64() {
            Some(n) if (1..=u64::from(MAX_FAULT_COUNT)).contains(&n) => n as u32,
            _ => return Err(format!("count 必须是 1..={MAX_FAULT_COUNT} 的整数")),
        },
    };
    let fault = match (fault, body.get("delayMs")) {
        (f, None) => f,
        (Fault::Delay(_), Some(v)) => match v.as_u64().map(Duration::from_millis) {
            Some(d) if d <= MAX_DELAY => Fault::Delay(d),
            _ => {
                return Err(format!(
                    "delayMs 必须是 0..={} 的整数",
                    duration_ms(MAX_DELAY)
                ))
            }
        },
        (_, Some(_)) => return Err("delayMs 只用于 delay 故障".into()),
    };
    Ok((path, fault, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_delay_takes_a_parameter() {
        for fault in Fault::ALL {
            assert_eq!(Fault::from_name(fault.name()), Some(fault));
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
        assert_eq!(
            "delay; delayMs=1500".parse::<Fault>(),
            Ok(Fault::Delay(Duration::from_millis(1500)))
        );
        assert_eq!("delay".parse::<Fault>(), Ok(Fault::delay()));
        for bad in [
            "",
            "Delay",
            "nope",
            "delay;delayMs=",
            "delay;delayMs=-1",
            "delay;delayMs=600001",
            "delay;delayMs=1;delayMs=2",
            "delay;x=1",
            "http-500-html;delayMs=1",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_queue_matches_in_order_and_star_skips_the_token_path() {
        let q = FaultQueue::default();
        assert!(q.push("*", Fault::Http502Html, 2));
        assert!(q.push("/v1/token/access", Fault::CloseAfterBody, 1));
        assert!(q.push("/v1/a", Fault::ErrCodeBadSign, 1));
        let token = "/v1/token/access";
        assert_eq!(q.take(token, token), Some(Fault::CloseAfterBody));
        assert_eq!(q.take(token, token), None);
        assert_eq!(q.take("/v1/a", token), Some(Fault::Http502Html));
        assert_eq!(q.take("/v1/b", token), Some(Fault::Http502Html));
        assert_eq!(q.take("/v1/b", token), None);
        assert_eq!(q.list().len(), 1);
        assert_eq!(q.take("/v1/a", token), Some(Fault::ErrCodeBadSign));
        assert_eq!(q.clear(), 0);
    }

    #[test]
    fn control_bodies_are_checked() {
        let parse = |v: Value| parse_control(v.as_object().unwrap());
        assert_eq!(
            parse(json!({"path": "*", "fault": "delay", "delayMs": 10, "count": 3})),
            Ok(("*".into(), Fault::Delay(Duration::from_millis(10)), 3))
        );
        assert_eq!(
            parse(json!({"path": "/v1/x", "fault": "errcode-BAD_SIGN"})),
            Ok(("/v1/x".into(), Fault::ErrCodeBadSign, 1))
        );
        for bad in [
            json!({"path": "v1/x", "fault": "delay"}),
            json!({"path": "/_sandbox/pay", "fault": "delay"}),
            json!({"path": "/v1/x?y", "fault": "delay"}),
            json!({"path": "*", "fault": "nope"}),
            json!({"path": "*", "fault": "delay", "count": 0}),
            json!({"path": "*", "fault": "delay", "count": "1"}),
            json!({"path": "*", "fault": "http-502-html", "delayMs": 1}),
            json!({"path": "*", "fault": "delay", "delayMs": 600_001}),
            json!({"path": "*", "fault": "delay", "extra": 1}),
            json!({"fault": "delay"}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn spoiled_answers() {
        let ok = || Answer::json(200, &json!({"errCode": "SUCCESS", "errMsg": "成功"}));
        let m = Fault::MalformedJson.spoil(ok(), 0);
        assert!(serde_json::from_slice::<Value>(&m.body).is_err());
        assert!(m.body.starts_with(b"{\"errCode\":\"SU"));
        let o = Fault::OversizedJson.spoil(ok(), 0);
        assert_eq!(o.body.len(), OVERSIZED_BYTES);
        let v: Value = serde_json::from_slice(&o.body).unwrap();
        assert_eq!(v["errCode"], "SUCCESS");
        let w = Fault::WrongContentType.spoil(ok(), 0);
        assert_eq!(
            (w.content_type.as_str(), &w.body),
            ("text/html;charset=UTF-8", &ok().body)
        );
        let e = Fault::ErrCodeTimeout.spoil(ok(), 0);
        assert!(e.body.starts_with(b"{\"errCode\":\"TIMEOUT\""));
        assert_eq!(Fault::Http500Html.spoil(ok(), 0).status, 500);
        assert_eq!(Fault::Http502Html.unprocessed_answer("/", 0).status, 502);
        assert_eq!(Fault::TokenExpired.unprocessed_answer("/", 0).status, 401);
        for fault in Fault::ALL {
            // Every fault has exactly one of the two treatments.
            let answer = if fault.processed() {
                fault.spoil(ok(), 0)
            } else {
                fault.unprocessed_answer("/", 0)
            };
            assert!(answer.status >= 200);
        }
    }
}
