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
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport as Wire,
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
        let agent = ureq::Agent::with_parts(
            agent_config,
            DefaultConnector::default().chain(PhaseConnector),
            NamingResolver::default(),
        );
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

impl Connector<Box<dyn Wire>> for PhaseConnector {
    type Out = PhaseTransport;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Wire>>,
    ) -> std::result::Result<Option<PhaseTransport>, ureq::Error> {
        Ok(chained.map(|inner| PhaseTransport { inner }))
    }
}

/// The connection a request is written to, counting each write *before* it
/// starts (a write that fails half way may still have delivered bytes).
#[derive(Debug)]
struct PhaseTransport {
    inner: Box<dyn Wire>,
}

impl Wire for PhaseTransport {
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
    use super::literal_addr;

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
