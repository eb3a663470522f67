//! A small HTTP/1.1 server on `std::net`, written by hand so that tests can
//! inject faults at the socket level (delays, early closes, cut answers).
//!
//! One thread per connection, capped; keep-alive with an idle timeout; bodies
//! only with `Content-Length`. Every answer is delivered by [`deliver`] and
//! its bytes written by [`write_answer`], so there is exactly one place that
//! puts bytes on the wire, the faulty ways ([`Wire`]) included. The service
//! sees each request head before its body is read ([`Service::plan`]), so it
//! can also have the connection closed before the body.

use super::faults::Planned;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Size and time limits of the server.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    /// Live connections at once; more are closed right after `accept`.
    pub max_connections: usize,
    /// How long a connection may stay silent (also bounds each read and write).
    pub idle_timeout: Duration,
    /// Request line plus headers, in bytes (else 431).
    pub max_head: usize,
    /// Request body, in bytes (else 413).
    pub max_body: usize,
    /// Header lines per request (else 431).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            idle_timeout: Duration::from_secs(60),
            max_head: 16 * 1024,
            max_body: 1024 * 1024,
            max_headers: 100,
        }
    }
}

/// One parsed request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    /// The path part of the target, without the query.
    pub path: String,
    /// The query string after `?`, if any (`GET /_sandbox/notifications`
    /// filters by it).
    pub query: Option<String>,
    /// Header names are kept as received; look them up with [`Request::header`].
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the answer.
    pub keep_alive: bool,
    #[allow(dead_code)]
    pub peer: SocketAddr,
    /// What the service decided when the head arrived ([`Service::plan`]).
    /// With [`Planned::skips_body`] the body was not read and is empty.
    pub planned: Planned,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// What the server writes back. Handlers build one; only [`write_answer`]
/// turns it into bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// Close the connection after this answer.
    pub close: bool,
    /// How it is put on the wire (fault injection); normally [`Wire::Normal`].
    pub wire: Wire,
    /// Further headers (the console's `Location`, framing and caching rules).
    pub headers: Vec<(&'static str, String)>,
}

/// How an answer is delivered. Anything but `Normal` and `Delay` closes the
/// connection afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Wire {
    #[default]
    Normal,
    /// Wait this long (or until the server stops), then write normally.
    Delay(Duration),
    /// Write nothing and close.
    Close,
    /// Write the answer up to this point, then close.
    Cut(CutAt),
}

/// Where [`Wire::Cut`] stops writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CutAt {
    /// After half of all the answer's bytes (head and body together).
    HalfAnswer,
    /// After the whole head (with the full Content-Length) and half the body.
    HalfBody,
}

impl Answer {
    pub fn json(status: u16, value: &serde_json::Value) -> Answer {
        Answer {
            status,
            content_type: JSON_CONTENT_TYPE.to_string(),
            // Serialising a `Value` cannot fail (all keys are strings).
            body: serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
            close: false,
            wire: Wire::Normal,
            headers: Vec::new(),
        }
    }

    /// A transport-level refusal (bad framing): JSON body, connection closed.
    pub fn transport_error(status: u16, message: &str) -> Answer {
        let mut answer = Answer::json(
            status,
            &serde_json::json!({"errCode": "BAD_REQUEST", "errMsg": message}),
        );
        answer.close = true;
        answer
    }
}

/// Why a connection was refused or a request could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The connection cap was reached; closed without reading.
    TooManyConnections,
    /// The bytes were not an acceptable HTTP/1.1 request (answered 4xx/5xx).
    Malformed,
}

/// The application behind the server.
pub(crate) trait Service: Send + Sync + 'static {
    /// Sees a request's head (framing valid; `path` without the query)
    /// before its body is read, and decides what faults it gets.
    fn plan(&self, _path: &str, _head: &Head) -> Planned {
        Planned::None
    }
    fn handle(&self, request: &Request) -> Answer;
    /// Told about refused connections and unreadable requests (for counters).
    fn rejected(&self, _what: Rejection) {}
}

/// A running server: the accept thread plus the live connections.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<HashMap<u64, TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking connection thread must not take the whole server down.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Server {
    /// Serves `service` on `listener` from background threads.
    pub fn start(
        listener: TcpListener,
        service: Arc<dyn Service>,
        limits: Limits,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
        let acceptor = {
            let stop = Arc::clone(&stop);
            let connections = Arc::clone(&connections);
            thread::Builder::new()
                .name("ums-sandbox-accept".into())
                .spawn(move || accept_loop(listener, service, limits, stop, connections))?
        };
        Ok(Server {
            addr,
            stop,
            connections,
            acceptor: Some(acceptor),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every live connection. Idempotent.
    pub fn shutdown(&mut self) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept() with a connection of our own. If even
        // that fails, leave the accept thread behind rather than hang: it
        // ends at the next connection attempt.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woken {
                let _ = acceptor.join();
            }
        }
        for stream in lock(&self.connections).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    listener: TcpListener,
    service: Arc<dyn Service>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<HashMap<u64, TcpStream>>>,
) {
    let next_id = AtomicU64::new(0);
    for incoming in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(stream) => stream,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let peer = match stream.peer_addr() {
            Ok(peer) if peer.ip().is_loopback() => peer,
            _ => continue, // loopback only; dropping closes it
        };
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut live = lock(&connections);
            if live.len() >= limits.max_connections {
                drop(live);
                service.rejected(Rejection::TooManyConnections);
                continue;
            }
            match stream.try_clone() {
                Ok(clone) => live.insert(id, clone),
                Err(_) => continue,
            };
        }
        let service = Arc::clone(&service);
        let limits = limits.clone();
        let registry = Arc::clone(&connections);
        let stopping = Arc::clone(&stop);
        let spawned = thread::Builder::new()
            .name("ums-sandbox-conn".into())
            .spawn(move || {
                serve_connection(stream, peer, service.as_ref(), &limits, &stopping);
                lock(&registry).remove(&id);
            });
        if spawned.is_err() {
            lock(&connections).remove(&id);
        }
    }
}

/// Serves requests on one connection until it closes, times out or breaks.
fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    service: &dyn Service,
    limits: &Limits,
    stop: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(limits.idle_timeout)).is_err()
        || stream.set_write_timeout(Some(limits.idle_timeout)).is_err()
    {
        return;
    }
    let mut buffer = Vec::new();
    loop {
        match read_request(&mut stream, &mut buffer, peer, limits, service) {
            Ok(None) => return,
            Ok(Some(request)) => {
                let mut answer = catch_unwind(AssertUnwindSafe(|| service.handle(&request)))
                    .unwrap_or_else(|_| {
                        let mut a = Answer::json(
                            500,
                            &serde_json::json!({"errCode": "INTERNAL_ERROR", "errMsg": "模拟器内部错误"}),
                        );
                        a.close = true;
                        a
                    });
                // A HEAD answer carries a body here; closing keeps the
                // client from reading it as the next response.
                // The unread body of a request planned to skip it is still
                // on the connection: it cannot carry another request.
                if !request.keep_alive || request.method == "HEAD" || request.planned.skips_body() {
                    answer.close = true;
                }
                match deliver(stream, &answer, stop) {
                    Some(open) => stream = open,
                    None => return,
                }
            }
            Err(ReadError::Io) => return,
            Err(ReadError::Reject(status, message)) => {
                service.rejected(Rejection::Malformed);
                let answer = Answer::transport_error(status, message);
                if write_answer(&mut stream, &answer).is_ok() {
                    linger_close(stream);
                }
                return;
            }
        }
    }
}

/// Delivers `answer` as its [`Wire`] says. Gives the connection back when
/// it stays open for the next request.
fn deliver(mut stream: TcpStream, answer: &Answer, stop: &AtomicBool) -> Option<TcpStream> {
    match answer.wire {
        Wire::Close => {
            // Abruptly: whatever the peer sent and we did not read turns the
            // close into a reset, as when a server process dies.
            let _ = stream.shutdown(Shutdown::Both);
            return None;
        }
        Wire::Delay(d) => {
            let until = Instant::now() + d;
            while !stop.load(Ordering::SeqCst) {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                thread::sleep(left.min(Duration::from_millis(20)));
            }
            if stop.load(Ordering::SeqCst) {
                return None;
            }
        }
        Wire::Normal | Wire::Cut(_) => {}
    }
    write_answer(&mut stream, answer).ok()?;
    if answer.close || matches!(answer.wire, Wire::Cut(_)) {
        linger_close(stream);
        return None;
    }
    Some(stream)
}

/// Writes `answer` as one HTTP/1.1 response (only up to the cut point of a
/// [`Wire::Cut`] answer). The only writer of responses.
pub(crate) fn write_answer(stream: &mut impl Write, answer: &Answer) -> io::Result<()> {
    let mut out = Vec::with_capacity(160 + answer.body.len());
    out.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\nServer: ums-sandbox\r\n\r\n",
            answer.status,
            reason_phrase(answer.status),
            answer.content_type,
            answer.body.len(),
            if answer.close { "close" } else { "keep-alive" },
        )
        .as_bytes(),
    );
    for (name, value) in &answer.headers {
        // Header values are made by the simulator; CR and LF never pass.
        let value: String = value
            .chars()
            .filter(|c| !matches!(c, '\r' | '\n'))
            .collect();
        out.truncate(out.len() - 2);
        out.extend_from_slice(format!("{name}: {value}\r\n\r\n").as_bytes());
    }
    let head_len = out.len();
    out.extend_from_slice(&answer.body);
    match answer.wire {
        Wire::Cut(CutAt::HalfAnswer) => out.truncate(out.len() / 2),
        Wire::Cut(CutAt::HalfBody) => out.truncate(head_len + answer.body.len() / 2),
        _ => {}
    }
    stream.write_all(&out)?;
    stream.flush()
}

/// Closes gracefully: stop sending, then drain what the peer still sends for
/// a moment, so that unread request bytes do not turn our close into a reset
/// that would destroy the answer before the client reads it.
fn linger_close(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut sink = [0u8; 8192];
    let mut drained = 0usize;
    while Instant::now() < deadline && drained < 8 * 1024 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The socket broke or the peer vanished mid-request: nothing to answer.
    Io,
    /// Answer with this status and message, then close.
    Reject(u16, &'static str),
}

/// The request head before the body is read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub method: String,
    pub target: String,
    pub http10: bool,
    pub headers: Vec<(String, String)>,
}

/// Reads one request. `buffer` carries bytes read past the previous request
/// (pipelining). `Ok(None)`: the peer closed or went idle between requests.
/// Once the head is read and its framing checked, `service` plans the
/// request ([`Service::plan`]); a plan that skips the body leaves it unread.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    peer: SocketAddr,
    limits: &Limits,
    service: &dyn Service,
) -> Result<Option<Request>, ReadError> {
    let mut chunk = [0u8; 8192];
    let head_len = loop {
        skip_leading_blank_lines(buffer);
        match find_head_end(buffer) {
            Some(end) if end > limits.max_head => {
                return Err(ReadError::Reject(431, "请求行与请求头超过 16 KiB"))
            }
            Some(end) => break end,
            None if buffer.len() > limits.max_head => {
                return Err(ReadError::Reject(431, "请求行与请求头超过 16 KiB"))
            }
            None => {}
        }
        // Answer garbage as soon as its first line is complete, instead of
        // waiting for a blank line that may never come.
        if let Some(nl) = buffer.iter().position(|&b| b == b'\n') {
            parse_request_line(trim_cr(&buffer[..nl]))?;
        } else if !buffer.is_empty() && !could_start_request_line(buffer) {
            return Err(ReadError::Reject(400, "请求行格式错误"));
        }
        match stream.read(&mut chunk) {
            Ok(0) if buffer.is_empty() => return Ok(None),
            Ok(0) => return Err(ReadError::Io),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) && buffer.is_empty() => return Ok(None),
            Err(e) if is_timeout(&e) => return Err(ReadError::Reject(408, "请求超时")),
            Err(_) => return Err(ReadError::Io),
        }
    };
    let head = parse_head(&buffer[..head_len], limits.max_headers)?;
    let body_len = body_length(&head, limits.max_body)?;
    let keep_alive = wants_keep_alive(&head);
    let body_pending = body_len > 0 && buffer.len() - head_len < body_len;
    let expect = header(&head.headers, "expect");
    let continue_wanted = match expect {
        Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
        Some(_) if body_pending => return Err(ReadError::Reject(417, "不支持的 Expect")),
        _ => false,
    };

    let (path, query) = match head.target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (head.target.clone(), None),
    };
    let planned = service.plan(&path, &head);
    let body = if planned.skips_body() {
        // The connection is closed without reading the body: whatever of
        // it arrived is dropped with it.
        buffer.clear();
        Vec::new()
    } else {
        if body_pending && continue_wanted {
            // curl waits for this before sending bodies over 1 KiB.
            stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .map_err(|_| ReadError::Io)?;
        }
        while buffer.len() - head_len < body_len {
            match stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Io),
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(ReadError::Reject(408, "请求体接收超时")),
                Err(_) => return Err(ReadError::Io),
            }
        }
        let rest = buffer.split_off(head_len + body_len);
        let body = buffer.split_off(head_len);
        *buffer = rest;
        body
    };
    Ok(Some(Request {
        method: head.method,
        path,
        query,
        headers: head.headers,
        body,
        keep_alive,
        peer,
        planned,
    }))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// RFC 9112 §2.2: a server should ignore blank lines before the request line.
fn skip_leading_blank_lines(buffer: &mut Vec<u8>) {
    let blank = buffer
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    if blank > 0 {
        buffer.drain(..blank);
    }
}

/// A request line begins with an upper-case method token.
fn could_start_request_line(buffer: &[u8]) -> bool {
    let method_len = buffer.iter().take_while(|b| b.is_ascii_uppercase()).count();
    method_len == buffer.len() || (method_len > 0 && buffer[method_len] == b' ')
}

/// End of the head (just past the blank line), accepting CRLF or bare LF.
pub(crate) fn find_head_end(buffer: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in buffer.iter().enumerate() {
        if b == b'\n' {
            if trim_cr(&buffer[line_start..i]).is_empty() && line_start > 0 {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `METHOD SP /target SP HTTP/1.x`; returns (method, target, is HTTP/1.0).
fn parse_request_line(line: &[u8]) -> Result<(String, String, bool), ReadError> {
    const BAD: ReadError = ReadError::Reject(400, "请求行格式错误");
    let text = std::str::from_utf8(line).map_err(|_| BAD)?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BAD);
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(BAD);
    }
    if !target.starts_with('/')
        || target.contains('#')
        || !target.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(BAD);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") && v.len() == 8 => {
            return Err(ReadError::Reject(505, "只支持 HTTP/1.1"))
        }
        _ => return Err(BAD),
    };
    Ok((method.to_string(), target.to_string(), http10))
}

/// Parses the head (request line and header lines, up to the blank line).
pub(crate) fn parse_head(raw: &[u8], max_headers: usize) -> Result<Head, ReadError> {
    const BAD_HEADER: ReadError = ReadError::Reject(400, "请求头格式错误");
    let mut lines = raw.split(|&b| b == b'\n').map(trim_cr);
    let (method, target, http10) = parse_request_line(lines.next().unwrap_or_default())?;
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if headers.len() >= max_headers {
            return Err(ReadError::Reject(431, "请求头过多"));
        }
        // Obsolete line folding (a line starting with white space) is refused.
        let colon = line.iter().position(|&b| b == b':').ok_or(BAD_HEADER)?;
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_token_char(b)) {
            return Err(BAD_HEADER);
        }
        let value = line[colon + 1..].trim_ascii();
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(BAD_HEADER);
        }
        let value = std::str::from_utf8(value).map_err(|_| BAD_HEADER)?;
        // Names are token characters, so ASCII.
        let name = String::from_utf8_lossy(name).into_owned();
        headers.push((name, value.to_string()));
    }
    if !http10 && header(&headers, "host").is_none() {
        return Err(ReadError::Reject(400, "缺少 Host 请求头"));
    }
    Ok(Head {
        method,
        target,
        http10,
        headers,
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The body length from `Content-Length`. Chunked bodies are refused (411),
/// as are POSTs without a length.
pub(crate) fn body_length(head: &Head, max_body: usize) -> Result<usize, ReadError> {
    if header(&head.headers, "transfer-encoding").is_some() {
        return Err(ReadError::Reject(
            411,
            "不支持 Transfer-Encoding, 请使用 Content-Length",
        ));
    }
    let mut lengths = head
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str());
    let Some(first) = lengths.next() else {
        return if head.method == "POST" {
            Err(ReadError::Reject(411, "POST 请求缺少 Content-Length"))
        } else {
            Ok(0)
        };
    };
    if lengths.next().is_some() {
        return Err(ReadError::Reject(400, "重复的 Content-Length"));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ReadError::Reject(400, "Content-Length 格式错误"));
    }
    match first.parse::<usize>() {
        Ok(n) if n <= max_body => Ok(n),
        _ => Err(ReadError::Reject(413, "请求体超过 1 MiB")),
    }
}

fn wants_keep_alive(head: &Head) -> bool {
    let tokens = |name: &str| {
        head.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(name))
    };
    if head.http10 {
        tokens("keep-alive")
    } else {
        !tokens("close")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Head, ReadError> {
        parse_head(raw.as_bytes(), 100)
    }

    #[test]
    fn parses_a_request_head_with_crlf_or_lf() {
        let h = head("POST /v1/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert_eq!(h.method, "POST");
        assert_eq!(h.target, "/v1/x?a=1");
        assert_eq!(body_length(&h, 10), Ok(3));
        assert!(wants_keep_alive(&h));
        let h = head("GET / HTTP/1.0\nConnection: keep-alive\n\n").unwrap();
        assert!(h.http10 && wants_keep_alive(&h));
        let h = head("GET / HTTP/1.1\r\nhost: h\r\nConnection: Close\r\n\r\n").unwrap();
        assert!(!wants_keep_alive(&h));
    }

    #[test]
    fn refuses_bad_heads_with_the_right_status() {
        let status = |r: Result<Head, ReadError>| match r {
            Err(ReadError::Reject(s, _)) => s,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_eq!(status(head("GARBAGE\r\n\r\n")), 400);
        assert_eq!(status(head("get / HTTP/1.1\r\nHost: h\r\n\r\n")), 400);
        assert_eq!(
            status(head("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n")),
            400
        );
        assert_eq!(status(head("GET / HTTP/2.0\r\nHost: h\r\n\r\n")), 505);
        assert_eq!(status(head("GET / HTTP/1.1\r\n\r\n")), 400);
        assert_eq!(
            status(head("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n")),
            400
        );
        assert_eq!(status(head("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n")), 400);
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        assert_eq!(
            status(head(&format!("GET / HTTP/1.1\r\nHost: h\r\n{many}\r\n"))),
            431
        );
    }

    #[test]
    fn body_length_rules() {
        let len = |raw: &str| body_length(&head(raw).unwrap(), 1024);
        assert_eq!(len("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Ok(0));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(ReadError::Reject(411, _))
        ));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ReadError::Reject(411, _))
        ));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n"),
            Err(ReadError::Reject(413, _))
        ));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Err(ReadError::Reject(413, _))
        ));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
            Err(ReadError::Reject(400, _))
        ));
        assert!(matches!(
            len("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
            Err(ReadError::Reject(400, _))
        ));
    }

    #[test]
    fn head_end_is_found_only_after_a_blank_line() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: h\r\n"), None);
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nbody"), Some(16));
    }

    #[test]
    fn answers_always_carry_length_and_type() {
        let mut out = Vec::new();
        let answer = Answer::json(200, &serde_json::json!({"ok": true}));
        write_answer(&mut out, &answer).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 11\r\n"));
        assert!(text.contains("Content-Type: application/json;charset=UTF-8\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"ok\":true}"));
    }
}
