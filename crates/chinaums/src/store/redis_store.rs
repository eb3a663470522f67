//! Redis as the fleet's shared store, through the `redis` crate's blocking
//! client (a maintained RESP implementation with TLS through rustls, rather
//! than a protocol hand-written here).
//!
//! Keys (prefix `tokenStorePrefix`, default `ums:`):
//! - `<prefix>token:<appId>` = `1:<useUntilUnixMs>:<token>`, `PX` until that
//!   instant (the gateway's `expiresIn` less the safety margin);
//! - `<prefix>lock:<appId>` = a random owner, `SET NX PX` while one process
//!   fetches a token, deleted by compare-and-delete;
//! - `<prefix>notify:<notifyId>` = `1`, `SET NX EX` for 25 h (notification
//!   claims, `super::claims`).
//!
//! Every command is bounded by the call's remaining time and by
//! [`super::COMMAND_CAP`]; a connection that failed or timed out is dropped,
//! never reused. Idle connections are kept for the next command.

use super::{decode_token, encode_token, Health, SharedToken, StoreError, TokenStore};
use crate::clock::Clock;
use crate::config::RedisUrl;
use crate::error::{Error, Result};
use crate::log::{log, Level};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Idle connections kept per server and client.
const MAX_IDLE: usize = 4;

/// Deletes KEYS[1] if it holds a token whose text is ARGV[1].
const INVALIDATE_TOKEN: &str = r"
local v = redis.call('GET', KEYS[1])
if v and string.match(v, '^1:%d+:(.*)$') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Deletes KEYS[1] if it holds exactly ARGV[1] (the lock's owner).
const RELEASE_LOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

static INVALIDATE_SCRIPT: once_cell::sync::Lazy<redis::Script> =
    once_cell::sync::Lazy::new(|| redis::Script::new(INVALIDATE_TOKEN));
static RELEASE_SCRIPT: once_cell::sync::Lazy<redis::Script> =
    once_cell::sync::Lazy::new(|| redis::Script::new(RELEASE_LOCK));

/// One Redis server as a client uses it: its connections and its health
/// (shared by the token store and the claims when both use this server, so
/// an outage logs one warning).
pub struct RedisBackend {
    client: redis::Client,
    display: String,
    idle: Mutex<Vec<redis::Connection>>,
    pub health: Arc<Health>,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("server", &self.display)
            .finish_non_exhaustive()
    }
}

impl RedisBackend {
    /// Checks the URL with the `redis` crate (no connection is made: a
    /// server that is down does not stop a client from being built).
    /// `key` names the config key in errors, which never repeat the URL.
    pub fn new(
        key: &str,
        url: &RedisUrl,
        ca_file: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<RedisBackend> {
        let client = match (url.tls(), ca_file) {
            (true, Some(path)) => {
                let pem = std::fs::read(path)
                    .map_err(|_| Error::config("redisCaFile", "must name a readable PEM file"))?;
                let has_cert =
                    String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----");
                if !has_cert {
                    return Err(Error::config(
                        "redisCaFile",
                        "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    ));
                }
                redis::Client::build_with_tls(
                    url.expose(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
            }
            _ => redis::Client::open(url.expose()),
        }
        .map_err(|e| {
            Error::config(
                key,
                format!(
                    "is not a Redis URL this client can use ({})",
                    redis_failure(&e)
                ),
            )
        })?;
        Ok(RedisBackend {
            client,
            display: url.display().to_string(),
            idle: Mutex::new(Vec::new()),
            health: Arc::new(Health::new(url.display().to_string(), clock)),
        })
    }

    /// `redis://host:port/db`, without the password.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Runs `command` on a connection within `limit` (set-up included).
    /// A kept connection the server dropped meanwhile (a restart) is
    /// replaced once; any other failure drops the connection.
    pub fn run<T>(
        &self,
        limit: Duration,
        command: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> std::result::Result<T, StoreError> {
        let started = Instant::now();
        let kept = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let reused = kept.is_some();
        let mut con = match kept {
            Some(con) => con,
            None => self.connect(limit)?,
        };
        match exec(&mut con, limit, &command) {
            Ok(v) => {
                self.keep(con);
                Ok(v)
            }
            Err(e) if reused && e.is_connection_dropped() && !e.is_timeout() => {
                drop(con);
                let left = limit.saturating_sub(started.elapsed());
                if left < Duration::from_millis(1) {
                    return Err(StoreError(redis_failure(&e)));
                }
                let mut con = self.connect(left)?;
                let left = limit
                    .saturating_sub(started.elapsed())
                    .max(Duration::from_millis(1));
                let v =
                    exec(&mut con, left, &command).map_err(|e| StoreError(redis_failure(&e)))?;
                self.keep(con);
                Ok(v)
            }
            Err(e) => Err(StoreError(redis_failure(&e))),
        }
    }

    fn connect(&self, limit: Duration) -> std::result::Result<redis::Connection, StoreError> {
        self.client
            .get_connection_with_timeout(limit)
            .map_err(|e| StoreError(format!("connecting: {}", redis_failure(&e))))
    }

    fn keep(&self, con: redis::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(con);
        }
    }
}

fn exec<T>(
    con: &mut redis::Connection,
    limit: Duration,
    command: &impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
) -> redis::RedisResult<T> {
    con.set_read_timeout(Some(limit))?;
    con.set_write_timeout(Some(limit))?;
    command(con)
}

/// What went wrong, in words that hold neither the URL (its password) nor
/// a value: the kind of failure and the server's error code.
pub fn redis_failure(e: &redis::RedisError) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connection_refusal() {
        "connection refused".to_string()
    } else if e.is_connection_dropped() {
        "connection closed".to_string()
    } else if e.is_io_error() {
        "I/O error".to_string()
    } else {
        match e.kind() {
            redis::ErrorKind::Parse => "the answer is not a Redis reply".to_string(),
            redis::ErrorKind::AuthenticationFailed => "authentication failed".to_string(),
            redis::ErrorKind::UnexpectedReturnType => "unexpected answer".to_string(),
            redis::ErrorKind::InvalidClientConfig => "invalid client configuration".to_string(),
            _ => match e.code() {
                Some(code) => format!(
                    "server error {}",
                    crate::error::clip(&code.replace(|c: char| !c.is_ascii_graphic(), "?"))
                ),
                None => e.category().to_string(),
            },
        }
    }
}

/// The token store of one appId in Redis.
pub struct RedisTokenStore {
    backend: Arc<RedisBackend>,
    clock: Arc<dyn Clock>,
    token_key: String,
    lock_key: String,
}

impl RedisTokenStore {
    pub fn new(
        backend: Arc<RedisBackend>,
        clock: Arc<dyn Clock>,
        prefix: &str,
        app_id: &str,
    ) -> RedisTokenStore {
        RedisTokenStore {
            backend,
            clock,
            token_key: format!("{prefix}token:{app_id}"),
            lock_key: format!("{prefix}lock:{app_id}"),
        }
    }
}

impl TokenStore for RedisTokenStore {
    fn describe(&self) -> String {
        self.backend.display().to_string()
    }

    fn get(&self, limit: Duration) -> std::result::Result<Option<SharedToken>, StoreError> {
        let value = self.backend.run(limit, |con| {
            redis::cmd("GET")
                .arg(&self.token_key)
                .query::<redis::Value>(con)
        })?;
        match value {
            redis::Value::Nil => Ok(None),
            redis::Value::BulkString(bytes) => match decode_token(&bytes) {
                Some(token) => Ok(Some(token)),
                None => {
                    // Not ours (another program, another version): treated
                    // as no token, so the next fetch replaces it.
                    log(Level::Warn, || {
                        format!(
                            "shared store {}: key {} holds a value that is not a token of this library ({} bytes); it will be replaced",
                            self.backend.display(),
                            self.token_key,
                            bytes.len()
                        )
                    });
                    Ok(None)
                }
            },
            _ => Err(StoreError(
                "GET answered a value that is not a string".into(),
            )),
        }
    }

    fn put(&self, token: &SharedToken, limit: Duration) -> std::result::Result<(), StoreError> {
        let ttl = token.use_until_unix_ms - self.clock.now_unix_millis();
        if ttl <= 0 {
            return Ok(());
        }
        let text = crate::secret::Secret::new(encode_token(token));
        let answer = self.backend.run(limit, |con| {
            redis::cmd("SET")
                .arg(&self.token_key)
                .arg(text.expose())
                .arg("PX")
                .arg(ttl)
                .query::<redis::Value>(con)
        })?;
        match answer {
            redis::Value::Okay => Ok(()),
            _ => Err(StoreError("SET answered something other than OK".into())),
        }
    }

    fn invalidate(&self, token: &str, limit: Duration) -> std::result::Result<(), StoreError> {
        self.backend
            .run(limit, |con| {
                INVALIDATE_SCRIPT
                    .key(&self.token_key)
                    .arg(token)
                    .invoke::<i64>(con)
            })
            .map(|_| ())
    }

    fn try_lock(
        &self,
        owner: &str,
        hold: Duration,
        limit: Duration,
    ) -> std::result::Result<bool, StoreError> {
        let ms = hold.as_millis().max(1) as u64;
        let answer = self.backend.run(limit, |con| {
            redis::cmd("SET")
                .arg(&self.lock_key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query::<redis::Value>(con)
        })?;
        match answer {
            redis::Value::Okay => Ok(true),
            redis::Value::Nil => Ok(false),
            _ => Err(StoreError(
                "SET NX answered something other than OK or nil".into(),
            )),
        }
    }

    fn unlock(&self, owner: &str, limit: Duration) -> std::result::Result<(), StoreError> {
        self.backend
            .run(limit, |con| {
                RELEASE_SCRIPT
                    .key(&self.lock_key)
                    .arg(owner)
                    .invoke::<i64>(con)
            })
            .map(|_| ())
    }
}
