//! Local gateway simulator ("sandbox") for the bills family.
//!
//! It behaves like the ChinaUMS gateway, strictly and deterministically, on
//! `127.0.0.1` only: the token endpoint, both authentication schemes and the
//! bills operations implemented so far (`bills/get-qrcode`,
//! `bills/update-qrcode`). All tests of the project and new users' first
//! steps run against it; it starts with the [`demo`] credentials and the QR
//! code of the update-qrcode doc page.
//!
//! ```no_run
//! let sandbox = ums::sandbox::Sandbox::start_default()?;
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
//! | business answer | 200 | `SUCCESS`, `BAD_REQUEST`, `ABNORMAL_REQUEST_TIME` (requestTimestamp), `NO_MERCHANT`, `NO_ORDER`, `DUP_ORDER`, `OPERATION_NOT_ALLOWED` |
//! | bad HTTP framing | 400 / 408 / 411 / 413 / 417 / 431 / 505 | `BAD_REQUEST`, connection closed |
//!
//! Control endpoints (no authentication): `GET /_sandbox/health` →
//! `{"ok":true}`; `GET /_sandbox/stats` → [`Stats::to_json`].

mod auth;
mod bills;
mod fields;
mod gateway;
mod http;
mod state;

use crate::clock::{Clock, SystemClock};
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
            .finish()
    }
}

/// Counters, so that tests can prove how often a request reached the
/// simulator. Control endpoints (`/_sandbox/...`) are not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests received per path (query excluded). After 1024 distinct
    /// paths, further new paths are counted under `"<other>"`.
    pub requests: BTreeMap<String, u64>,
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
}

impl Stats {
    /// Requests received on `path` (e.g. `"/v1/netpay/bills/get-qrcode"`).
    pub fn requests_to(&self, path: &str) -> u64 {
        self.requests.get(path).copied().unwrap_or(0)
    }

    /// Requests received on all counted paths.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// The JSON served by `GET /_sandbox/stats`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "requests": self.requests,
            "tokensIssued": self.tokens_issued,
            "tokensInvalidated": self.tokens_invalidated,
            "tokenFailures": self.token_failures,
            "authFailures": self.auth_failures,
            "malformedRequests": self.malformed_requests,
            "connectionsRefused": self.connections_refused,
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
        let gateway = Arc::new(Gateway::new(settings, Arc::clone(&config.clock)));
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
        self.gateway.lock().stats()
    }

    /// Stops accepting, closes live connections and lets their threads end.
    pub fn shutdown(mut self) {
        self.server.shutdown();
    }
}
