//! The `message` of the error document `ums call` prints, for the person
//! reading it: what the gateway said (errCode and errMsg), which field is
//! at fault, where the tool tried to connect, and what to do next when the
//! outcome is unknown or pending. The other members of the document are the
//! library's, unchanged, for scripts.

use chinaums::error::{Error, ErrorKind};
use chinaums::Config;

/// What to do when a request may have been processed.
const QUERY_ADVICE: &str =
    "query the bill (`ums call query-bill`) before deciding; never resend a money-moving request blindly";

/// The same, when the document carries `resolveWith`.
const RESOLVE_ADVICE: &str = "save this document and run `ums resolve` on it (read-only queries; it never resends), or query the bill (`ums call query-bill`); never resend a money-moving request blindly";

/// What to do when a read-only request's outcome is unknown.
const READ_ONLY_ADVICE: &str = "this request only reads, so sending it again is safe";

/// What to do when the request was accepted but is not final.
const PENDING_ADVICE: &str =
    "query the bill (`ums call query-bill`) until the state is final; never resend";

/// The same, when the document carries `resolveWith`.
const PENDING_RESOLVE_ADVICE: &str = "query the bill (`ums call query-bill`), or run `ums resolve` on this document, until the state is final; never resend";

/// What the message may say about the call beyond the error itself.
#[derive(Default)]
pub struct Context {
    /// Where requests went, once the configuration loaded.
    pub gateway: Option<Gateway>,
    /// The operation only reads (query-bill, ...).
    pub read_only: bool,
    /// The error document carries `resolveWith`, the input of `ums resolve`.
    pub resolvable: bool,
}

/// Where requests go, as far as messages may say (never the proxy's URL,
/// which may hold a password).
pub struct Gateway {
    base_url: String,
    through_proxy: bool,
}

impl Gateway {
    pub fn of(config: &Config) -> Gateway {
        Gateway {
            base_url: config.environment.base_url().to_string(),
            through_proxy: config.proxy.is_some(),
        }
    }

    /// `host:port`, the port spelt out even when it is the scheme's default.
    pub fn host_port(&self) -> String {
        let (scheme, rest) = self
            .base_url
            .split_once("://")
            .unwrap_or(("https", &self.base_url));
        let authority = rest.split('/').next().unwrap_or(rest);
        let has_port = match authority.rsplit_once(':') {
            // `[::1]` has colons but no port; `[::1]:8765` has one.
            Some((host, port)) => {
                !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':')
            }
            None => false,
        };
        if has_port {
            authority.to_string()
        } else {
            let port = if scheme == "http" { 80 } else { 443 };
            format!("{authority}:{port}")
        }
    }

    /// The base URL, and the proxy's presence (not its address).
    pub fn describe(&self) -> String {
        if self.through_proxy {
            format!("{} (through the configured proxy)", self.base_url)
        } else {
            self.base_url.clone()
        }
    }
}

/// The message for `e`.
pub fn explain(e: &Error, context: &Context) -> String {
    let detail = detail(e);
    let headline = match e.kind {
        ErrorKind::GatewayRejected => Some(format!("gateway rejected: {}", said(e))),
        ErrorKind::TokenRejected => Some(format!("access token refused: {}", said(e))),
        ErrorKind::OutcomeUnknown => Some(match e.err_code {
            Some(_) => format!("outcome unknown: {}", said(e)),
            None => "outcome unknown".to_string(),
        }),
        ErrorKind::Pending => Some(format!("pending: {}", state(e))),
        ErrorKind::OperationFailed => Some(format!("failed: {}", state(e))),
        ErrorKind::Connect | ErrorKind::Tls => context.gateway.as_ref().map(|g| {
            let via = if g.through_proxy {
                " (through the configured proxy)"
            } else {
                ""
            };
            format!("cannot connect to {}{via}", g.host_port())
        }),
        ErrorKind::Validation => field_prefix(e),
        _ => None,
    };
    let mut message = match headline {
        Some(headline) if detail.is_empty() => headline,
        Some(headline) if detail.starts_with('(') => format!("{headline} {detail}"),
        Some(headline) if e.kind == ErrorKind::Validation => format!("{headline}: {detail}"),
        Some(headline) => format!("{headline} — {detail}"),
        None => detail,
    };
    if let Some(hint) = merchant_hint(e) {
        message.push_str(&format!(" in the request, or {hint}"));
    }
    let advice = match e.kind {
        ErrorKind::OutcomeUnknown if context.read_only => READ_ONLY_ADVICE,
        ErrorKind::OutcomeUnknown if context.resolvable => RESOLVE_ADVICE,
        ErrorKind::OutcomeUnknown => QUERY_ADVICE,
        ErrorKind::Pending if context.resolvable => PENDING_RESOLVE_ADVICE,
        ErrorKind::Pending => PENDING_ADVICE,
        _ => return message,
    };
    message.push_str(". What to do: ");
    message.push_str(advice);
    message
}

/// What the gateway said: `errCode errMsg`, and the HTTP status when it is
/// not 200 (`DUP_ORDER 账单号重复`, `NO_SERVICE 服务不存在 (HTTP 404)`).
fn said(e: &Error) -> String {
    let mut parts: Vec<String> = [&e.err_code, &e.err_msg]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    match e.http_status {
        Some(200) | None => {}
        Some(status) if parts.is_empty() => parts.push(format!("HTTP {status}")),
        Some(status) => parts.push(format!("(HTTP {status})")),
    }
    if parts.is_empty() {
        "no errCode".to_string()
    } else {
        parts.join(" ")
    }
}

/// `refundStatus PROCESSING`, with the gateway's errMsg when it gave one.
fn state(e: &Error) -> String {
    let mut text = match &e.state {
        Some((field, value)) if value.is_empty() => format!("{field} absent"),
        Some((field, value)) => format!("{field} {value}"),
        None => "state unknown".to_string(),
    };
    if let Some(msg) = e.err_msg.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(&format!(" ({msg})"));
    }
    text
}

/// `field `x`` for a validation error whose message does not name its field.
fn field_prefix(e: &Error) -> Option<String> {
    let field = e.field.as_deref()?;
    (!e.message.contains(&format!("`{field}`"))).then(|| format!("field `{field}`"))
}

/// Where to set `mid` or `tid` for every request, when a request lacks it
/// and the configuration has none to fill in.
fn merchant_hint(e: &Error) -> Option<String> {
    let field = e.field.as_deref().filter(|f| ["mid", "tid"].contains(f))?;
    if e.kind != ErrorKind::Validation || !e.message.ends_with("is required") {
        return None;
    }
    crate::settings::where_to_set(field)
}

/// The library's message without the words the headline already says
/// (when it says them in these words; otherwise it is kept whole).
fn detail(e: &Error) -> String {
    let said_already = match (e.kind, e.err_code.as_deref()) {
        (ErrorKind::GatewayRejected, Some(code)) => {
            format!("the gateway rejected the request with {code}")
        }
        (ErrorKind::Connect, _) => "could not reach the gateway".to_string(),
        // "the gateway answered TIMEOUT: the outcome is unknown; query
        // before deciding": the headline and the advice say all of it.
        (ErrorKind::OutcomeUnknown, Some(code))
            if e.message
                .starts_with(&format!("the gateway answered {code}:")) =>
        {
            return String::new()
        }
        _ => return e.message.clone(),
    };
    match e.message.strip_prefix(said_already.as_str()) {
        Some(rest) => rest.trim_start_matches(':').trim_start().to_string(),
        None => e.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(url: &str, proxy: bool) -> Gateway {
        Gateway {
            base_url: url.to_string(),
            through_proxy: proxy,
        }
    }

    fn at(gateway: Gateway) -> Context {
        Context {
            gateway: Some(gateway),
            ..Context::default()
        }
    }

    fn rejected(code: &str, msg: &str, status: u16) -> Error {
        let mut e = Error::new(
            ErrorKind::GatewayRejected,
            format!("the gateway rejected the request with {code}"),
        );
        e.err_code = Some(code.into());
        e.err_msg = Some(msg.into());
        e.http_status = Some(status);
        e
    }

    #[test]
    fn host_port_names_the_port() {
        assert_eq!(
            gateway("http://127.0.0.1:8765", false).host_port(),
            "127.0.0.1:8765"
        );
        assert_eq!(
            gateway("https://test-api-open.chinaums.com", false).host_port(),
            "test-api-open.chinaums.com:443"
        );
        assert_eq!(gateway("http://[::1]", false).host_port(), "[::1]:80");
        assert_eq!(gateway("http://[::1]:9", false).host_port(), "[::1]:9");
    }

    #[test]
    fn rejections_say_err_code_and_err_msg() {
        let e = rejected("DUP_ORDER", "账单号重复", 200);
        assert_eq!(
            explain(&e, &Context::default()),
            "gateway rejected: DUP_ORDER 账单号重复"
        );
        let e = rejected("NO_SERVICE", "服务不存在", 404);
        assert_eq!(
            explain(&e, &Context::default()),
            "gateway rejected: NO_SERVICE 服务不存在 (HTTP 404)"
        );
        let mut e = Error::new(ErrorKind::GatewayRejected, "refused (HTTP 403)");
        e.http_status = Some(403);
        assert_eq!(
            explain(&e, &Context::default()),
            "gateway rejected: HTTP 403 — refused (HTTP 403)"
        );
    }

    #[test]
    fn unknown_and_pending_say_what_to_do() {
        let mut e = Error::new(
            ErrorKind::OutcomeUnknown,
            "the gateway answered TIMEOUT: the outcome is unknown; query before deciding",
        );
        e.err_code = Some("TIMEOUT".into());
        e.err_msg = Some("处理超时".into());
        let text = explain(&e, &Context::default());
        assert!(
            text.starts_with("outcome unknown: TIMEOUT 处理超时. What to do: "),
            "{text}"
        );
        assert!(text.contains("ums call query-bill"), "{text}");
        let resolvable = Context {
            resolvable: true,
            ..Context::default()
        };
        assert!(explain(&e, &resolvable).contains("run `ums resolve` on it"));
        let read_only = Context {
            read_only: true,
            ..Context::default()
        };
        assert!(explain(&e, &read_only).contains("sending it again is safe"));
        let mut e = Error::new(ErrorKind::Pending, "not final");
        e.state = Some(("refundStatus".into(), "PROCESSING".into()));
        let text = explain(&e, &Context::default());
        assert!(
            text.starts_with("pending: refundStatus PROCESSING — not final"),
            "{text}"
        );
        assert!(text.contains("until the state is final"), "{text}");
    }

    #[test]
    fn connection_failures_name_host_and_port_never_the_proxy() {
        let e = Error::new(
            ErrorKind::Connect,
            "could not reach the gateway (I/O: connection refused); nothing was sent",
        );
        assert_eq!(
            explain(&e, &at(gateway("http://127.0.0.1:1", false))),
            "cannot connect to 127.0.0.1:1 (I/O: connection refused); nothing was sent"
        );
        let e = Error::new(
            ErrorKind::Tls,
            "TLS handshake failed (bad certificate); nothing was sent",
        );
        assert_eq!(
            explain(&e, &at(gateway("https://127.0.0.1:9", false))),
            "cannot connect to 127.0.0.1:9 — TLS handshake failed (bad certificate); nothing was sent"
        );
        let text = explain(&e, &at(gateway("https://h.example", true)));
        assert!(text.starts_with("cannot connect to h.example:443 (through the configured proxy)"));
    }

    #[test]
    fn validation_errors_name_the_field() {
        let e = Error::validation("mid", "is required");
        assert_eq!(
            explain(&e, &Context::default()),
            "field `mid`: is required in the request, or set UMS_MID, or \"mid\" in the --config file"
        );
        let e = Error::validation("billNo", "is required");
        assert_eq!(
            explain(&e, &Context::default()),
            "field `billNo`: is required"
        );
        let mut e = Error::new(ErrorKind::Validation, "too long");
        e.field = Some("billDesc".into());
        assert_eq!(
            explain(&e, &Context::default()),
            "field `billDesc`: too long"
        );
    }
}
