//! HTTPS transport: one `ureq` agent per client, rustls with certificate
//! verification always on, keep-alive connections reused, and the exact
//! signed bytes sent. Failures say whether the request can have reached the
//! gateway, because that decides whether a money-moving call may be resent.

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use std::cell::Cell;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::ResolvedSocketAddrs;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    RustlsConnector, Transport as Wire,
};

/// An HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

pub struct Transport {
    agent: ureq::Agent,
    max_response_bytes: u64,
}

/// How long an idle keep-alive connection is kept. Shorter than the usual
/// server idle timeouts, so a reused connection is rarely one the server has
/// already closed (which would turn a send into "outcome unknown").
const MAX_IDLE_AGE: Duration = Duration::from_secs(15);

impl Transport {
    pub fn new(config: &Config) -> Result<Transport> {
        let tls = TlsConfig::builder().root_certs(root_certs(config)?).build();
        let proxy = match &config.proxy {
            Some(p) => Some(
                ureq::Proxy::new(p)
                    .map_err(|_| Error::config("proxy", "is not a valid proxy URL"))?,
            ),
            None => None,
        };
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .max_idle_age(MAX_IDLE_AGE)
            .max_idle_connections(64)
            .max_idle_connections_per_host(32)
            .user_agent(concat!("chinaums-ums/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .proxy(proxy)
            .build();
        // ureq's default chain with its TCP connector replaced by
        // [`SocketConnector`] (fewer system calls per call, see there); the
        // SOCKS step is left out: ureq is built without SOCKS support, and
        // [`SocketConnector`] refuses a SOCKS proxy before anything is sent.
        let connector =
            ().chain(ConnectProxyConnector::default())
                .chain(SocketConnector)
                .chain(RustlsConnector::default())
                .chain(PhaseConnector);
        let agent = ureq::Agent::with_parts(agent_config, connector, NamingResolver::default());
        Ok(Transport {
            agent,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// POSTs `body` as JSON with the given Authorization header (if any);
    /// `timeout` bounds the whole exchange (the caller's remaining deadline).
    pub fn post_json(
        &self,
        url: &str,
        authorization: Option<&str>,
        body: &[u8],
        timeout: Duration,
    ) -> Result<HttpAnswer> {
        let mut request = self
            .agent
            .post(url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .content_type("application/json;charset=UTF-8");
        if let Some(auth) = authorization {
            request = request.header("Authorization", auth);
        }
        let writes_before = write_calls_on_this_thread();
        let mut response = request
            .send(body)
            .map_err(|e| classify(e, write_calls_on_this_thread() != writes_before))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    let mut err = Error::new(
                        ErrorKind::OutcomeUnknown,
                        format!(
                            "the gateway's answer is larger than maxResponseBytes ({} bytes)",
                            self.max_response_bytes
                        ),
                    );
                    err.http_status = Some(status);
                    err
                }
                other => {
                    // An answer had begun: the request was sent.
                    let mut err = classify(other, true);
                    err.http_status = Some(status);
                    err
                }
            })?;
        Ok(HttpAnswer { status, body })
    }
}

/// ureq's resolver reports a failed name lookup as a plain I/O error, which
/// would read as "the exchange broke" (outcome unknown). Nothing is ever sent
/// before the name resolves, so say so: every resolver I/O error becomes
/// `HostNotFound` (nothing sent). Timeouts keep their `Resolve` reason.
///
/// ureq also resolves before every request, even one that goes out on a
/// kept-alive connection, and with a timeout set (always, here) its default
/// resolver runs each lookup on a new thread: a thread spawned and joined per
/// call. So an IP literal is answered without a lookup, and a name's
/// addresses are kept for [`RESOLVE_TTL`].
#[derive(Debug, Default)]
struct NamingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<Option<(String, std::time::Instant, Vec<std::net::SocketAddr>)>>,
}

/// How long a resolved name is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(30);

impl ureq::unversioned::resolver::Resolver for NamingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(addr) = literal_addr(uri) {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map_or("", |a| a.as_str())
        );
        if let Ok(cache) = self.cache.lock() {
            if let Some((k, at, addrs)) = cache.as_ref() {
                if *k == key && at.elapsed() < RESOLVE_TTL {
                    let mut hit = self.empty();
                    addrs.iter().for_each(|a| hit.push(*a));
                    return Ok(hit);
                }
            }
        }
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(|e| match e {
                ureq::Error::Io(_) => ureq::Error::HostNotFound,
                other => other,
            })?;
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((key, std::time::Instant::now(), addrs.to_vec()));
        }
        Ok(addrs)
    }
}

/// The address of a URI whose host is an IP literal (`127.0.0.1`, `[::1]`).
fn literal_addr(uri: &ureq::http::Uri) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: std::net::IpAddr = host.parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })?;
    Some(std::net::SocketAddr::new(ip, port))
}

/// Builds the trust anchors: Mozilla's roots, plus the CAs in `caFile`.
fn root_certs(config: &Config) -> Result<RootCerts> {
    let Some(path) = &config.ca_file else {
        return Ok(RootCerts::WebPki);
    };
    let pem = std::fs::read(path).map_err(|_| Error::config("caFile", "could not be read"))?;
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(_) => return Err(Error::config("caFile", "is not a valid PEM file")),
        }
    }
    if certs.is_empty() {
        return Err(Error::config("caFile", "contains no CERTIFICATE block"));
    }
    certs.extend(
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| Certificate::from_der(der.as_ref()).to_owned()),
    );
    Ok(RootCerts::new_with_certs(&certs))
}

// ---- The socket ---------------------------------------------------------
//
// ureq's own TCP transport makes about ten system calls per kept-alive call
// besides the request and the answer: it sets both socket timeouts again on
// every call (the caller's remaining deadline differs by microseconds from
// one call to the next), probes a pooled connection twice (when it goes back
// to the pool and when it is taken out), each probe being three calls
// (non-blocking on, a read, non-blocking off), and writes the request head
// and body separately. [`Socket`] does the same work with one probe per call
// (one `recv` with `MSG_PEEK | MSG_DONTWAIT`), timeouts set once per
// connection, and the request in one write.

/// Opens the TCP connection (what ureq's `TcpConnector` does), as a [`Socket`].
#[derive(Debug)]
struct SocketConnector;

impl<In: Wire> Connector<In> for SocketConnector {
    type Out = Either<In, Socket>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        if let Some(proxied) = chained {
            return Ok(Some(Either::A(proxied))); // a CONNECT tunnel is the connection
        }
        if details.config.proxy().is_some_and(is_socks) {
            return Err(ureq::Error::ConnectProxyFailed(
                "SOCKS proxies are not supported (use an HTTP CONNECT proxy)".into(),
            ));
        }
        let stream = connect_any(details)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = std::sync::Arc::new(stream);
        let handle: std::sync::Arc<dyn ureq::unversioned::transport::ShutdownHandle> =
            stream.clone();
        (details.register_shutdown)(std::sync::Arc::downgrade(&handle))?;
        let config = details.config;
        Ok(Some(Either::B(Socket {
            stream,
            buffers: HeldBuffers {
                inner: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
                held: 0,
                capacity: config.output_buffer_size(),
            },
            read_timeout: None,
            write_timeout: None,
            used_since_probe: false,
        })))
    }
}

fn is_socks(proxy: &ureq::Proxy) -> bool {
    use ureq::ProxyProtocol as P;
    matches!(
        proxy.protocol(),
        P::Socks4 | P::Socks4A | P::Socks5 | P::Socks5h
    )
}

/// Connects to the first resolved address that answers, each attempt getting
/// an equal share of what is left of the connect timeout.
fn connect_any(details: &ConnectionDetails) -> std::result::Result<TcpStream, ureq::Error> {
    let addrs: Vec<std::net::SocketAddr> = details.addrs.iter().copied().collect();
    let deadline = details
        .timeout
        .not_zero()
        .map(|t| std::time::Instant::now() + *t);
    let mut last = None;
    for (i, addr) in addrs.iter().enumerate() {
        let attempt = match deadline {
            None => TcpStream::connect(addr),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(ureq::Error::Timeout(ureq::Timeout::Connect));
                }
                let share = (left / (addrs.len() - i) as u32).max(Duration::from_millis(10));
                TcpStream::connect_timeout(addr, share)
            }
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = Some(ureq::Error::Timeout(ureq::Timeout::Connect))
            }
            Err(e) => last = Some(ureq::Error::Io(e)),
        }
    }
    Err(last.unwrap_or(ureq::Error::ConnectionFailed))
}

use std::net::TcpStream;

/// One TCP connection to the gateway (or the proxy).
#[derive(Debug)]
struct Socket {
    /// Shared with the agent's shutdown handle.
    stream: std::sync::Arc<TcpStream>,
    buffers: HeldBuffers,
    /// The socket timeouts as last set (`None`: not set, blocking).
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Whether the connection carried an exchange since it was last probed.
    used_since_probe: bool,
}

/// How much later than the caller's deadline a socket timeout may fire. The
/// timeouts are set only when the deadline moves by more than this, so a run
/// of calls with the same `timeoutMs` sets them once per connection instead
/// of twice per call. The kernel rounds socket timeouts up to its tick
/// (1–10 ms) anyway.
const TIMEOUT_SLACK: Duration = Duration::from_millis(10);

/// The socket timeout to use for `wanted`, given the one set now: kept when
/// it fires no earlier and at most [`TIMEOUT_SLACK`] later, else `wanted`
/// rounded up to the slack (so that the next calls' slightly shorter
/// deadlines keep it).
fn socket_timeout(current: Option<Duration>, wanted: Option<Duration>) -> Option<Duration> {
    match (current, wanted) {
        (Some(c), Some(w)) if c >= w && c - w < TIMEOUT_SLACK => Some(c),
        (_, Some(w)) => {
            let slack = TIMEOUT_SLACK.as_nanos();
            let rounded = w.as_nanos().div_ceil(slack) * slack;
            Some(Duration::from_nanos(
                u64::try_from(rounded).unwrap_or(u64::MAX),
            ))
        }
        (_, None) => None,
    }
}

/// Sets one of the socket's timeouts if [`socket_timeout`] says it must change.
fn update_timeout(
    stream: &TcpStream,
    current: &mut Option<Duration>,
    wanted: Option<Duration>,
    set: fn(&TcpStream, Option<Duration>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let next = socket_timeout(*current, wanted);
    if next != *current {
        set(stream, next)?;
        *current = next;
    }
    Ok(())
}

impl Socket {
    /// Writes the request bytes held back by `transmit_output`, in one write.
    fn flush(&mut self, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        if self.buffers.held == 0 {
            return Ok(());
        }
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let wanted = timeout.not_zero().map(|t| *t);
        update_timeout(
            &self.stream,
            &mut self.write_timeout,
            wanted,
            TcpStream::set_write_timeout,
        )?;
        let held = std::mem::take(&mut self.buffers.held);
        let bytes = &self.buffers.inner.output()[..held];
        std::io::Write::write_all(&mut &*self.stream, bytes).map_err(|e| io_error(e, timeout))
    }
}

/// An I/O error as ureq reports it: a socket timeout is a ureq timeout.
fn io_error(e: std::io::Error, timeout: NextTimeout) -> ureq::Error {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            ureq::Error::Timeout(timeout.reason)
        }
        _ => ureq::Error::Io(e),
    }
}

impl Wire for Socket {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    /// Holds the bytes back until the answer is awaited, so that the request
    /// head and body (and, on a new TLS connection, the handshake's last
    /// flight) leave in one write. The phase counter has already counted
    /// this call (it wraps the outermost transport), so bytes held and never
    /// written make a failure "outcome unknown", never "nothing sent".
    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        self.used_since_probe = true;
        self.buffers.held += amount;
        if self.buffers.held > self.buffers.capacity / 2 {
            self.flush(timeout)?; // keep room for ureq's next chunk
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.used_since_probe = true;
        self.flush(timeout)?;
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let wanted = timeout.not_zero().map(|t| *t);
        let started = std::time::Instant::now();
        update_timeout(
            &self.stream,
            &mut self.read_timeout,
            wanted,
            TcpStream::set_read_timeout,
        )?;
        let amount = loop {
            let input = self.buffers.inner.input_append_buf();
            match std::io::Read::read(&mut &*self.stream, input) {
                Ok(n) => break n,
                // Linux does not restart a socket read with a timeout after a
                // signal: read again with what is left of the timeout.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted && wanted.is_some() => {
                    let left = wanted.unwrap_or_default().saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(ureq::Error::Timeout(timeout.reason));
                    }
                    update_timeout(
                        &self.stream,
                        &mut self.read_timeout,
                        Some(left),
                        TcpStream::set_read_timeout,
                    )?;
                }
                Err(e) => return Err(io_error(e, timeout)),
            }
        };
        self.buffers.inner.input_appended(amount);
        Ok(amount > 0)
    }

    /// ureq asks twice per kept-alive call: when the connection goes back to
    /// the pool, just after its answer was read, and when it is taken out for
    /// the next call. Only the second probe is made: whatever the first could
    /// see (bytes after the answer, the peer's close) is still there for the
    /// second, which is also the one closest to the next write.
    fn is_open(&mut self) -> bool {
        if self.buffers.held > 0 {
            return false; // bytes of an unfinished exchange: never reuse
        }
        if std::mem::take(&mut self.used_since_probe) {
            return true;
        }
        peer_is_quiet(&self.stream)
    }

    fn is_tls(&self) -> bool {
        false
    }
}

/// Whether the connection is still open with nothing unread: one
/// non-blocking peek. End of stream (the peer closed), unexpected bytes, or
/// an error all mean it must not carry a request.
#[cfg(unix)]
fn peer_is_quiet(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer that lives across the call, and a descriptor
    // owned by `stream`, which outlives the call.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}

#[cfg(not(unix))]
fn peer_is_quiet(stream: &TcpStream) -> bool {
    let quiet = stream.set_nonblocking(true).is_ok()
        && matches!(stream.peek(&mut [0u8]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && quiet
}

/// ureq's buffers, with the output written after the bytes held back for
/// one write (see [`Socket::transmit_output`]).
#[derive(Debug)]
struct HeldBuffers {
    inner: LazyBuffers,
    /// Bytes at the start of the output buffer not written yet.
    held: usize,
    capacity: usize,
}

impl Buffers for HeldBuffers {
    fn output(&mut self) -> &mut [u8] {
        let held = self.held;
        &mut self.inner.output()[held..]
    }

    fn input(&self) -> &[u8] {
        self.inner.input()
    }

    fn input_append_buf(&mut self) -> &mut [u8] {
        self.inner.input_append_buf()
    }

    fn input_appended(&mut self, amount: usize) {
        self.inner.input_appended(amount)
    }

    fn input_consume(&mut self, amount: usize) {
        self.inner.input_consume(amount)
    }

    fn tmp_and_output(&mut self) -> (&mut [u8], &mut [u8]) {
        let held = self.held;
        let (tmp, output) = self.inner.tmp_and_output();
        (tmp, &mut output[held..])
    }

    fn can_use_input(&self) -> bool {
        self.inner.can_use_input()
    }
}

// ---- The phase of an exchange -------------------------------------------
//
// "Nothing sent" is decided by phase, never by an errno or an error type: a
// connection refused, reset or unreachable *after* the request was handed to
// the socket may still have delivered it. [`PhaseConnector`] wraps the
// outermost transport ureq writes the request to (above TCP, proxy CONNECT
// and TLS, whose set-up writes go to the inner transports) and counts, per
// thread, the calls that hand request bytes to it. ureq sends on the calling
// thread, so a count that moved during `send` means the request's first byte
// may have left; one that did not means the failure came while resolving,
// connecting, tunnelling or handshaking.

thread_local! {
    static REQUEST_WRITES: Cell<u64> = const { Cell::new(0) };
}

/// How many times this thread has begun writing a request (or part of one)
/// to a gateway connection. Monotonic; compare two readings to know whether
/// anything was written in between (the C layer uses it to report the phase
/// of a call that panicked).
pub fn write_calls_on_this_thread() -> u64 {
    REQUEST_WRITES.with(Cell::get)
}

/// Wraps every connection ureq makes in a [`PhaseTransport`].
#[derive(Debug)]
struct PhaseConnector;

impl<In: Wire> Connector<In> for PhaseConnector {
    type Out = PhaseTransport<In>;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<PhaseTransport<In>>, ureq::Error> {
        Ok(chained.map(|inner| PhaseTransport { inner }))
    }
}

/// The connection a request is written to, counting each write *before* it
/// starts (a write that fails half way may still have delivered bytes).
#[derive(Debug)]
struct PhaseTransport<In> {
    inner: In,
}

impl<In: Wire> Wire for PhaseTransport<In> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> std::result::Result<(), ureq::Error> {
        if amount > 0 {
            REQUEST_WRITES.with(|c| c.set(c.get() + 1));
        }
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// Maps a ureq error to a kind by the phase it happened in. After the first
/// byte of the request was written (`written`), every failure is "outcome
/// unknown", whatever its errno, TLS alert or timeout. Before it, a failure
/// is "nothing sent": [`ErrorKind::Tls`] for the TLS handshake,
/// [`ErrorKind::Connect`] for everything else on the way to the gateway.
fn classify(e: ureq::Error, written: bool) -> Error {
    if written {
        return Error::new(
            ErrorKind::OutcomeUnknown,
            format!(
                "the exchange failed after the request was sent ({}); the request may have been processed",
                describe(&e)
            ),
        );
    }
    match e {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => {
            Error::new(ErrorKind::InvalidArgument, "the request URL is invalid")
        }
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => Error::new(
            ErrorKind::Tls,
            format!("TLS handshake failed ({}); nothing was sent", describe(&e)),
        ),
        ureq::Error::Io(ref io) if io_is_tls(io) => Error::new(
            ErrorKind::Tls,
            format!("TLS handshake failed ({}); nothing was sent", describe(&e)),
        ),
        other => Error::new(
            ErrorKind::Connect,
            format!(
                "could not reach the gateway ({}); nothing was sent",
                describe(&other)
            ),
        ),
    }
}

/// Whether an I/O error carries a rustls error (ureq wraps some that way).
fn io_is_tls(io: &std::io::Error) -> bool {
    io.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// A short, secret-free description of a transport failure.
fn describe(e: &ureq::Error) -> String {
    use ureq::Timeout as T;
    match e {
        ureq::Error::HostNotFound => "the gateway host name could not be resolved".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::ConnectProxyFailed(_) => "the proxy refused the tunnel".into(),
        ureq::Error::Timeout(T::Resolve) => "timed out resolving the host".into(),
        ureq::Error::Timeout(T::Connect) => "timed out connecting (connectTimeoutMs)".into(),
        ureq::Error::Timeout(_) => "timed out (timeoutMs)".into(),
        ureq::Error::Tls(msg) => format!("TLS: {msg}"),
        ureq::Error::Rustls(err) => format!("TLS: {err}"),
        ureq::Error::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => format!("TLS: {tls}"),
            None => format!("I/O: {}", io.kind()),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{literal_addr, socket_timeout};
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A server that answers one request per connection with `answer`
    /// (status line, headers and body), then closes the connection and
    /// reports it on `closed`; counts connections.
    fn one_answer_per_connection(
        answer: &'static [u8],
    ) -> (
        u16,
        std::sync::mpsc::Receiver<()>,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel();
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let accepted = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // The request is small: read until its body (2 bytes, "{}") arrived.
                while !request.ends_with(b"\r\n\r\n{}") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                stream.write_all(answer).unwrap();
                drop(stream); // closed, without "Connection: close"
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        (port, rx, count)
    }

    fn transport_to(port: u16) -> super::Transport {
        let config = crate::config::Config::from_json(&format!(
            r#"{{"environment":"http://127.0.0.1:{port}","appId":"a","appKey":"k"}}"#
        ))
        .unwrap();
        super::Transport::new(&config).unwrap()
    }

    /// The pooled connection is probed before it carries the next request:
    /// one the server closed after its answer is not written to (which
    /// would make a money-moving call "outcome unknown"); a new one is made.
    #[test]
    fn a_pooled_connection_the_server_closed_is_not_reused() {
        let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        let (port, closed, connections) = one_answer_per_connection(answer);
        let transport = transport_to(port);
        let url = format!("http://127.0.0.1:{port}/v1/x");
        for _ in 0..3 {
            let got = transport
                .post_json(&url, None, b"{}", Duration::from_secs(10))
                .unwrap();
            assert_eq!((got.status, got.body.as_slice()), (200, &b"{}"[..]));
            closed.recv().unwrap(); // the server has closed that connection
        }
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    /// Bytes that come after the answer (a server out of step) mean the
    /// connection is not reused: they arrive here once the client has read
    /// its answer and put the connection back in the pool.
    #[test]
    fn a_connection_with_bytes_after_its_answer_is_not_reused() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (go, wait_go) = std::sync::mpsc::channel::<()>();
        let (done, wait_done) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let mut connections = Vec::new();
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.ends_with(b"\r\n\r\n{}") {
                    let n = stream.read(&mut buf).unwrap();
                    assert!(n > 0, "the client closed before its request was complete");
                    request.extend_from_slice(&buf[..n]);
                }
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                    .unwrap();
                wait_go.recv().unwrap(); // the client has its answer
                stream.write_all(b"HTTP/1.1 200 OK\r\n").unwrap(); // out of step
                done.send(()).unwrap();
                connections.push(stream); // kept open
            }
        });
        let transport = transport_to(port);
        let url = format!("http://127.0.0.1:{port}/v1/x");
        for _ in 0..2 {
            let got = transport
                .post_json(&url, None, b"{}", Duration::from_secs(10))
                .unwrap();
            assert_eq!(got.body, b"{}");
            go.send(()).unwrap();
            wait_done.recv().unwrap();
        }
        server.join().unwrap(); // it accepted a second connection
    }

    #[test]
    fn socket_timeouts_are_set_once_for_a_run_of_calls_and_never_fire_early() {
        // First call: the deadline rounded up to 10 ms.
        let first = socket_timeout(None, Some(ms(30_000) - Duration::from_micros(7)));
        assert_eq!(first, Some(ms(30_000)));
        // The next calls' deadlines are microseconds shorter: kept (no system call).
        for left_us in [5, 9, 40, 9_000] {
            let wanted = ms(30_000) - Duration::from_micros(left_us);
            assert_eq!(socket_timeout(first, Some(wanted)), first, "{wanted:?}");
        }
        // 10 ms or more shorter: set again, rounded up, never below what is wanted.
        let later = socket_timeout(first, Some(ms(29_990) - Duration::from_micros(1)));
        assert_eq!(later, Some(ms(29_990)));
        // Longer than what is set (a retry with a new deadline, a new call
        // after a slow one): set again, so that it does not fire early.
        assert_eq!(
            socket_timeout(Some(ms(1_000)), Some(ms(1_001))),
            Some(ms(1_010))
        );
        // No deadline: no timeout.
        assert_eq!(socket_timeout(first, None), None);
    }

    fn addr(uri: &str) -> Option<String> {
        literal_addr(&uri.parse().unwrap()).map(|a| a.to_string())
    }

    #[test]
    fn ip_literals_need_no_lookup_and_names_do() {
        assert_eq!(
            addr("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(addr("https://10.0.0.1/x").as_deref(), Some("10.0.0.1:443"));
        assert_eq!(addr("http://10.0.0.1/x").as_deref(), Some("10.0.0.1:80"));
        assert_eq!(addr("https://[::1]:9443/x").as_deref(), Some("[::1]:9443"));
        assert_eq!(addr("https://test-api-open.chinaums.com/x"), None);
        assert_eq!(addr("http://localhost:80/x"), None);
    }
}
