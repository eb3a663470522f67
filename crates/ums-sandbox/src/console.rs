//! The web console at `http://127.0.0.1:PORT/`: the QR codes and bills with
//! their state (each bill's `billQRCode` drawn as SVG), a "customer pays"
//! form, the notification log with every delivery attempt, the request log,
//! the fault switches and the clock. Plain server-rendered HTML with a few
//! lines of script; the forms post to `/console/...` and are answered with
//! a redirect back to the page.
//!
//! Any web page open in the developer's browser can make it send requests
//! to 127.0.0.1, so every control and console request is checked
//! ([`refuse_foreign`]):
//!
//! - on the console's pages and on every state-changing control request
//!   (any method but GET and HEAD), `Host`, when sent, must be
//!   `127.0.0.1:PORT` or `localhost:PORT`: a page of another site whose
//!   name was pointed at 127.0.0.1 (DNS rebinding) sends its own name and is
//!   refused (403 `FORBIDDEN_HOST`). Reading `/_sandbox/health`, `stats`,
//!   ... changes nothing and is not checked;
//! - a state-changing request (any method but GET and HEAD) with an
//!   `Origin` other than `http://127.0.0.1:PORT` / `http://localhost:PORT`
//!   (`null` included), or with `Sec-Fetch-Site: cross-site`, is refused
//!   (403 `FORBIDDEN_ORIGIN`). Browsers always send `Origin` on a
//!   cross-site POST; tools on the same machine (curl, the tests' HTTP
//!   clients, the bindings) send none and are served as before.
//!
//! The console shows no key, signature, token or request body: the request
//! log has the operation, the appId, the signature verdict, the errCode and
//! the time; the notification log has the receivers' answers.

use super::customer::TARGET_SYSTEMS;
use super::faults::{self, Fault, QueuedFault};
use super::gateway::Gateway;
use super::http::{Answer, Request, Wire};
use super::notifier::Delivery;
use super::reqlog::Entry;
use super::state::{qr_code_url, Bill, QrCode, QrKind, QrStatus, State};
use chinaums::clock::BeijingTime;
use qrcode::render::svg;
use qrcode::QrCode as QrMatrix;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Bills shown (the newest).
const MAX_BILLS: usize = 100;
/// QR codes shown (the newest).
const MAX_CODES: usize = 50;
/// Notifications and requests shown (the newest).
const MAX_ROWS: usize = 100;

/// Whether `path` belongs to the console.
pub(crate) fn is_console(path: &str) -> bool {
    path == "/" || path == "/console" || path.starts_with("/console/") || path == "/favicon.ico"
}

/// The refusal of a request that may come from another site (see the
/// module documentation), or `None`.
pub(crate) fn refuse_foreign(request: &Request, port: u16) -> Option<Answer> {
    let reading = matches!(request.method.as_str(), "GET" | "HEAD");
    if reading && !is_console(&request.path) {
        return None;
    }
    if let Some(host) = request.header("host") {
        if !is_own_host(host.trim(), port) {
            return Some(forbidden(
                "FORBIDDEN_HOST",
                "Host 必须是 127.0.0.1:PORT 或 localhost:PORT (拒绝 DNS 重绑定)",
            ));
        }
    }
    if reading {
        return None;
    }
    let foreign_origin = request
        .header("origin")
        .is_some_and(|origin| !is_own_origin(origin.trim(), port));
    let cross_site = request
        .header("sec-fetch-site")
        .is_some_and(|site| site.trim().eq_ignore_ascii_case("cross-site"));
    (foreign_origin || cross_site).then(|| {
        forbidden(
            "FORBIDDEN_ORIGIN",
            "拒绝跨站请求: Origin 必须是 http://127.0.0.1:PORT 或 http://localhost:PORT",
        )
    })
}

fn is_own_host(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        Some((name, p)) => (name, p.parse::<u16>().ok()),
        None => (host, Some(80)),
    };
    given_port == Some(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

fn is_own_origin(origin: &str, port: u16) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|host| is_own_host(host, port))
}

fn forbidden(code: &str, message: &str) -> Answer {
    Answer::json(
        403,
        &serde_json::json!({"ok": false, "error": code, "message": message}),
    )
}

/// Serves a console path.
pub(crate) fn handle(gateway: &Gateway, request: &Request) -> Answer {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => page(gateway),
        ("GET", "/console/qr.svg") => qr_svg(gateway, request.query.as_deref().unwrap_or("")),
        ("POST", "/console/pay") => with_form(request, |form| pay(gateway, form)),
        ("POST", "/console/faults") => with_form(request, |form| add_fault(gateway, form)),
        ("POST", "/console/faults/clear") => {
            gateway.clear_faults();
            redirect("/#faults")
        }
        ("POST", "/console/clock") => with_form(request, |form| {
            gateway
                .advance_clock_by(form.get("advanceSeconds"))
                .map(|()| redirect("/#clock"))
        }),
        (_, "/") | (_, "/console/qr.svg") => text(405, "text/plain", "method not allowed"),
        (_, "/console/pay" | "/console/faults" | "/console/faults/clear" | "/console/clock") => {
            text(405, "text/plain", "POST only")
        }
        _ => text(404, "text/plain", "no such console page"),
    }
}

/// Parses a form body and runs `action`; an error becomes a small page
/// that says what was wrong.
fn with_form(
    request: &Request,
    action: impl FnOnce(&Map<String, Value>) -> Result<Answer, String>,
) -> Answer {
    let form = match chinaums::notify::parse_form(&request.body) {
        Ok(pairs) => pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect::<Map<String, Value>>(),
        Err(_) => return error_page("the form could not be read"),
    };
    action(&form).unwrap_or_else(|message| error_page(&message))
}

/// The console's "customer pays" form: qrCodeId, amount (fen, may be
/// empty), targetSys.
fn pay(gateway: &Gateway, form: &Map<String, Value>) -> Result<Answer, String> {
    let mut order = Map::new();
    for key in ["qrCodeId", "targetSys", "signType"] {
        if let Some(Value::String(v)) = form.get(key).filter(|v| v.as_str() != Some("")) {
            order.insert(key.into(), v.clone().into());
        }
    }
    if let Some(Value::String(amount)) = form.get("amount") {
        let amount = amount.trim();
        if !amount.is_empty() {
            let fen: u64 = amount
                .parse()
                .map_err(|_| format!("amount must be whole fen, got `{}`", clip(amount)))?;
            order.insert("amount".into(), fen.into());
        }
    }
    match gateway.customer_pays(&order) {
        Ok(paid) => Ok(redirect(&format!(
            "/?paid={}#notifications",
            url_component(paid["billNo"].as_str().unwrap_or(""))
        ))),
        Err(refusal) => Err(format!("{}: {}", refusal.code, refusal.message)),
    }
}

fn add_fault(gateway: &Gateway, form: &Map<String, Value>) -> Result<Answer, String> {
    let mut body = Map::new();
    for (key, value) in form {
        let Value::String(text) = value else { continue };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value = match key.as_str() {
            "count" | "delayMs" => text
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| format!("{key} must be a whole number"))?,
            _ => Value::from(text),
        };
        body.insert(key.clone(), value);
    }
    let (path, fault, count) = faults::parse_control(&body)?;
    if !gateway.inject_fault(&path, fault, count) {
        return Err("the fault queue is full (1000 faults)".into());
    }
    Ok(redirect("/#faults"))
}

/// `GET /console/qr.svg?id=<qrCodeId>`: the code's `billQRCode` as SVG.
fn qr_svg(gateway: &Gateway, query: &str) -> Answer {
    let id = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "id")
        .map(|(_, v)| v)
        .unwrap_or("");
    if !gateway.lock().qr_codes.contains_key(id) {
        return text(404, "text/plain", "no such QR code");
    }
    match qr_svg_of(&qr_code_url(id)) {
        Some(svg) => {
            let mut answer = text(200, "image/svg+xml", &svg);
            answer
                .headers
                .push(("Cache-Control", "max-age=3600".to_string()));
            answer
        }
        None => text(500, "text/plain", "cannot draw this QR code"),
    }
}

/// `text` as an SVG QR code (error correction M, quiet zone included).
pub(crate) fn qr_svg_of(text: &str) -> Option<String> {
    let code = QrMatrix::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(160, 160)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

fn text(status: u16, content_type: &str, body: &str) -> Answer {
    Answer {
        status,
        content_type: format!("{content_type};charset=UTF-8"),
        body: body.as_bytes().to_vec(),
        close: false,
        wire: Wire::Normal,
        headers: page_headers(),
    }
}

/// No framing by other sites (clickjacking of the pay button), no caching,
/// no referrer to other sites, scripts and images from the console only.
fn page_headers() -> Vec<(&'static str, String)> {
    vec![
        ("X-Frame-Options", "DENY".into()),
        (
            "Content-Security-Policy",
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
             script-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
                .into(),
        ),
        ("Cache-Control", "no-store".into()),
        // Not `no-referrer`: with it, a browser sends `Origin: null` on the
        // console's own form posts, which the origin check refuses.
        ("Referrer-Policy", "same-origin".into()),
        ("X-Content-Type-Options", "nosniff".into()),
    ]
}

fn redirect(to: &str) -> Answer {
    let mut answer = text(303, "text/plain", "see the console");
    answer.headers.push(("Location", to.to_string()));
    answer
}

fn error_page(message: &str) -> Answer {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>ums-sandbox console: refused</title>\
         <p id=error>{}</p><p><a href=\"/\">back to the console</a></p>",
        esc(message)
    );
    text(400, "text/html", &body)
}

/// HTML escaping of text and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encoding of a URL query value.
fn url_component(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn time(ms: i64) -> String {
    BeijingTime::from_unix_millis(ms).date_time()
}

fn fen(amount: Option<u64>) -> String {
    amount.map_or_else(|| "—".to_string(), |a| a.to_string())
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 6px;\
vertical-align:top;text-align:left}th{background:#f3f3f3}code{font-size:12px}\
.UNPAID{color:#a60}.PAID{color:#070}.REFUND{color:#06a}.CLOSED{color:#888}\
.delivered{color:#070}.pending{color:#a60}.failed{color:#c00}\
form.inline{display:inline}img.qr{width:96px;height:96px}";

/// A little script: while a notification is pending, the page reloads
/// itself every second so that its delivery shows up.
const SCRIPT: &str = "if(document.querySelector('tr.notification.pending')){\
setTimeout(function(){location.reload()},1000)}";

/// `GET /`: the whole console.
fn page(gateway: &Gateway) -> Answer {
    let now = gateway.clock.now().at_ms;
    let mut html = String::with_capacity(32 * 1024);
    let _ = write!(
        html,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <title>ums-sandbox console</title><style>{STYLE}</style></head><body>\
         <h1>ums-sandbox console</h1><p>Simulator time (Beijing): <b id=now>{}</b>. \
         A local ChinaUMS gateway simulator: demo credentials only, loopback only.</p>",
        time(now)
    );
    {
        let state = gateway.lock();
        codes_section(&mut html, &state, now);
        bills_section(&mut html, &state, now);
    }
    notifications_section(&mut html, &gateway.deliveries());
    requests_section(&mut html, &gateway.requests.newest_first());
    faults_section(&mut html, &gateway.queued_faults());
    clock_section(&mut html);
    let _ = write!(html, "<script>{SCRIPT}</script></body></html>");
    text(200, "text/html", &html)
}

/// Keeps the first `n` of `items` in `order`, sorted: linear in the number
/// of items (the page is rendered under the books' lock, and a long run
/// keeps many bills), then a sort of the `n` kept.
fn newest_first<T>(items: &mut Vec<T>, n: usize, order: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if items.len() > n {
        items.select_nth_unstable_by(n, &order);
        items.truncate(n);
    }
    items.sort_by(order);
}

fn code_status(code: &QrCode, now: i64) -> &'static str {
    if code.status == QrStatus::Closed {
        "CLOSED"
    } else if code.expired(now) {
        "EXPIRED"
    } else {
        "VALID"
    }
}

fn codes_section(html: &mut String, state: &State, now: i64) {
    let mut codes: Vec<&QrCode> = state.qr_codes.values().collect();
    let total = codes.len();
    newest_first(&mut codes, MAX_CODES, |a, b| b.id.cmp(&a.id));
    let _ = write!(
        html,
        "<h2 id=codes>QR codes ({} kept, newest {} shown)</h2><table><tr><th>qrCodeId</th>\
         <th>kind</th><th>status</th><th>totalAmount (fen)</th><th>current bill</th>\
         <th>expireTime</th><th>customer pays</th></tr>",
        total,
        codes.len()
    );
    for code in codes {
        let kind = match code.kind {
            QrKind::OneOff => "one-off",
            QrKind::FixedAmount => "fixed, with amount",
            QrKind::Fixed => "fixed, payer enters the amount",
        };
        let status = code_status(code, now);
        let _ = write!(
            html,
            "<tr class=code data-qr-code-id=\"{id}\"><td><code>{id}</code></td><td>{kind}</td>\
             <td>{status}</td><td>{}</td><td>{}</td><td>{}</td><td>",
            fen(code.total_amount),
            esc(code.bill_no.as_deref().unwrap_or("—")),
            time(code.expire_at_ms),
            id = esc(&code.id),
        );
        // A fixed code can be paid again and again; a one-off code through
        // its bill (below).
        if status == "VALID" && code.kind != QrKind::OneOff {
            pay_form(
                html,
                &code.id,
                code.total_amount,
                &format!("code-{}", code.id),
            );
        }
        html.push_str("</td></tr>");
    }
    html.push_str("</table>");
}

fn bills_section(html: &mut String, state: &State, now: i64) {
    let mut bills: Vec<&Bill> = state
        .merchants
        .values()
        .flat_map(|m| m.bills.values())
        .collect();
    let total = bills.len();
    newest_first(&mut bills, MAX_BILLS, |a, b| {
        (b.created_at_ms, &b.bill_no).cmp(&(a.created_at_ms, &a.bill_no))
    });
    let _ = write!(
        html,
        "<h2 id=bills>Bills ({} kept, newest {} shown)</h2><table><tr><th>billQRCode</th>\
         <th>billNo / billDate</th><th>status</th><th>totalAmount (fen)</th><th>billDesc</th>\
         <th>payment</th><th>refunded</th><th>customer pays</th></tr>",
        total,
        bills.len()
    );
    for bill in bills {
        let code = state.qr_codes.get(&bill.qr_code_id);
        let payable = bill.status.as_str() == "UNPAID"
            && code.is_some_and(|c| {
                code_status(c, now) == "VALID" && c.bill_no.as_deref() == Some(&bill.bill_no)
            });
        let payment = bill.payment.as_ref().map_or_else(
            || "—".to_string(),
            |p| {
                format!(
                    "{} · merOrderId <code>{}</code> · {}",
                    esc(&p.target_sys),
                    esc(&p.mer_order_id),
                    time(p.paid_at_ms)
                )
            },
        );
        let _ = write!(
            html,
            "<tr class=bill data-bill-no=\"{no}\" data-status=\"{status}\">\
             <td><img class=qr alt=\"QR code {qr}\" loading=lazy \
             src=\"/console/qr.svg?id={qr_url}\"><br><code>{qr}</code></td>\
             <td><code>{no}</code><br>{date}</td><td class={status}>{status}</td>\
             <td>{amount}</td><td>{desc}</td><td>{payment}</td><td>{refunded}</td><td>",
            no = esc(&bill.bill_no),
            qr = esc(&bill.qr_code_id),
            qr_url = url_component(&bill.qr_code_id),
            date = esc(&bill.bill_date),
            status = bill.status.as_str(),
            amount = fen(bill.total_amount),
            desc = esc(&bill.detail("billDesc").unwrap_or_default()),
            refunded = bill.refunded(),
        );
        if payable {
            pay_form(html, &bill.qr_code_id, bill.total_amount, &bill.bill_no);
        }
        html.push_str("</td></tr>");
    }
    html.push_str("</table>");
}

/// The "customer pays" form of a code; `key` names its button
/// (`pay-<key>`).
fn pay_form(html: &mut String, qr_code_id: &str, amount: Option<u64>, key: &str) {
    let _ = write!(
        html,
        "<form class=inline method=post action=\"/console/pay\">\
         <input type=hidden name=qrCodeId value=\"{}\">\
         <label>amount (fen) <input name=amount size=8 value=\"{}\" {}></label> \
         <select name=targetSys>",
        esc(qr_code_id),
        amount.map(|a| a.to_string()).unwrap_or_default(),
        if amount.is_some() {
            "readonly"
        } else {
            "required"
        },
    );
    for sys in TARGET_SYSTEMS {
        let selected = if *sys == "WXPay" { " selected" } else { "" };
        let _ = write!(html, "<option{selected}>{}</option>", esc(sys));
    }
    let _ = write!(
        html,
        "</select> <button type=submit id=\"pay-{}\">Customer pays</button></form>",
        esc(key)
    );
}

fn notifications_section(html: &mut String, deliveries: &[Delivery]) {
    let _ = write!(
        html,
        "<h2 id=notifications>Notifications (newest first)</h2><table><tr><th>notifyId</th>\
         <th>kind</th><th>billNo</th><th>notifyUrl</th><th>status</th>\
         <th>attempts and the receiver's answers</th></tr>"
    );
    for d in deliveries.iter().rev().take(MAX_ROWS) {
        let status = d.status.as_str();
        let class = status.split(':').next().unwrap_or("").replace(' ', "-");
        let _ = write!(
            html,
            "<tr class=\"notification {class}\" data-bill-no=\"{no}\" data-status=\"{status}\">\
             <td><code>{id}</code></td><td>{kind}</td><td><code>{no}</code></td>\
             <td><code>{url}</code></td><td class=\"{class}\">{status}</td><td><ol>",
            id = esc(&d.notify_id),
            kind = esc(&d.kind),
            no = esc(&d.bill_no),
            url = esc(&d.url),
            status = esc(status),
        );
        for attempt in &d.history {
            let _ = write!(
                html,
                "<li>{}: <code>{}</code></li>",
                esc(&attempt.at),
                esc(&attempt.reply)
            );
        }
        if d.history.is_empty() {
            let _ = write!(
                html,
                "<li>{}</li>",
                esc(d.last_reply.as_deref().unwrap_or("—"))
            );
        }
        html.push_str("</ol></td></tr>");
    }
    html.push_str("</table>");
}

fn requests_section(html: &mut String, entries: &[Entry]) {
    html.push_str(
        "<h2 id=requests>Requests (newest first; no keys, signatures or tokens)</h2><table><tr>\
         <th>time</th><th>operation</th><th>appId</th><th>signature</th><th>HTTP</th>\
         <th>errCode</th><th>fault</th><th>ms</th></tr>",
    );
    for e in entries.iter().take(MAX_ROWS) {
        let _ = write!(
            html,
            "<tr class=request><td>{}</td><td>{} {}</td><td><code>{}</code></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            time(e.at_ms),
            esc(&e.method),
            esc(e.operation()),
            esc(e.app_id.as_deref().unwrap_or("—")),
            esc(if e.verdict.is_empty() {
                "—"
            } else {
                e.verdict
            }),
            e.status,
            esc(e.err_code.as_deref().unwrap_or("—")),
            e.fault.unwrap_or("—"),
            e.micros as f64 / 1000.0,
        );
    }
    html.push_str("</table>");
}

fn faults_section(html: &mut String, queued: &[QueuedFault]) {
    html.push_str(
        "<h2 id=faults>Fault switches</h2><table><tr><th>path</th><th>fault</th>\
         <th>requests left</th></tr>",
    );
    for q in queued {
        let _ = write!(
            html,
            "<tr class=fault><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&q.path),
            esc(&q.fault.to_string()),
            q.remaining
        );
    }
    html.push_str(
        "</table><form method=post action=\"/console/faults\"><label>path <select name=path>\
         <option value=\"*\">* (every path but the token endpoint)</option>",
    );
    for (path, _) in super::bills::ROUTES {
        let _ = write!(html, "<option>{}</option>", esc(path));
    }
    let _ = write!(
        html,
        "<option>{}</option></select></label> <label>fault <select name=fault>",
        super::gateway::TOKEN_PATH
    );
    for fault in Fault::ALL.into_iter().chain(Fault::GUARANTEE_STATES) {
        let _ = write!(html, "<option>{}</option>", esc(fault.name()));
    }
    html.push_str(
        "</select></label> <label>count <input name=count size=4 value=1></label> \
         <label>delayMs (delay only) <input name=delayMs size=6></label> \
         <button type=submit id=add-fault>Queue the fault</button></form>\
         <form method=post action=\"/console/faults/clear\">\
         <button type=submit id=clear-faults>Clear all faults</button></form>",
    );
}

fn clock_section(html: &mut String) {
    html.push_str(
        "<h2 id=clock>Clock</h2><form method=post action=\"/console/clock\">\
         <label>advance by <input name=advanceSeconds size=8 value=1800> seconds</label> \
         <button type=submit id=advance-clock>Move the clock forward</button></form>",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_simulator_s_own_host_and_origin_pass() {
        assert!(is_own_host("127.0.0.1:8765", 8765));
        assert!(is_own_host("LOCALHOST:8765", 8765));
        assert!(!is_own_host("127.0.0.1:8766", 8765));
        assert!(!is_own_host("evil.example:8765", 8765));
        assert!(!is_own_host("127.0.0.1", 8765));
        assert!(is_own_host("127.0.0.1", 80));
        assert!(is_own_origin("http://localhost:8765", 8765));
        assert!(!is_own_origin("https://127.0.0.1:8765", 8765));
        assert!(!is_own_origin("null", 8765));
        assert!(!is_own_origin("http://127.0.0.1:8765.evil.example", 8765));
    }

    #[test]
    fn the_newest_are_kept_in_order() {
        let mut items: Vec<u32> = (0..1000).map(|i| (i * 7919) % 1000).collect();
        newest_first(&mut items, 3, |a, b| b.cmp(a));
        assert_eq!(items, [999, 998, 997]);
        let mut few = vec![1, 3, 2];
        newest_first(&mut few, 5, |a, b| b.cmp(a));
        assert_eq!(few, [3, 2, 1]);
    }

    #[test]
    fn text_is_escaped_and_qr_codes_are_svg() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let svg = qr_svg_of(&qr_code_url("31942002267733902130410550")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
        assert_eq!(url_component("a b/ü"), "a%20b%2F%C3%BC");
    }
}
