//! Client configuration from JSON. Unknown keys and bad values are errors
//! that name the key; secrets are kept in [`Secret`] so they never print.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde_json::{Map, Value};
use std::time::Duration;

pub const PRODUCTION_URL: &str = "https://api-mop.chinaums.com";
pub const TEST_URL: &str = "https://test-api-open.chinaums.com";
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 1 << 20;
pub const DEFAULT_INST_MID: &str = "QRPAYDEFAULT";

/// Which authentication scheme business calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// OPEN-BODY-SIG: every request signed on its own (the default).
    BodySig,
    /// OPEN-ACCESS-TOKEN: one cached token shared by all calls.
    Token,
}

impl AuthMode {
    /// The config spelling: `"body-sig"` or `"token"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::BodySig => "body-sig",
            AuthMode::Token => "token",
        }
    }
}

/// Where the gateway is. Required: a client never picks a gateway by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Production,
    Test,
    /// An explicit base URL (`http://` only for loopback hosts, such as the
    /// `ums-sandbox` simulator).
    Url(String),
}

impl Environment {
    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        match self {
            Environment::Production => PRODUCTION_URL,
            Environment::Test => TEST_URL,
            Environment::Url(url) => url,
        }
    }
}

/// Where a client keeps what the processes of a fleet share: the access
/// token (`tokenStore`) and notification claims (`claimStore`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// In this process only (the default).
    Memory,
    /// A Redis server shared by the fleet.
    Redis(RedisUrl),
}

impl StoreConfig {
    /// `"memory"`, or the Redis URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreConfig::Memory => "memory".to_string(),
            StoreConfig::Redis(url) => url.display().to_string(),
        }
    }
}

/// A checked `redis://[[user]:password@]host[:port][/db]` or `rediss://`
/// (TLS) URL. The whole URL (it may hold a password) is a [`Secret`]:
/// `Debug` shows only [`RedisUrl::display`], `redis://host:port/db`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    url: Secret,
    display: String,
    tls: bool,
}

impl RedisUrl {
    /// Checks the shape of a Redis URL; the message never repeats the URL
    /// (it may hold a password).
    pub fn parse(key: &str, url: &str) -> Result<RedisUrl> {
        const SHAPE: &str = "must be \"memory\" or a Redis URL redis://[:password@]host[:port][/db] (rediss:// for TLS)";
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::config(key, SHAPE))?;
        let tls = match scheme {
            "redis" => false,
            "rediss" => true,
            _ => return Err(Error::config(key, SHAPE)),
        };
        if rest.contains('#') {
            return Err(Error::config(
                key,
                "a Redis URL must not have a #fragment (certificate checks cannot be turned off)",
            ));
        }
        if rest.contains('?') {
            return Err(Error::config(key, "a Redis URL takes no ?query"));
        }
        if url.chars().any(|c| c.is_control() || c == ' ') {
            return Err(Error::config(
                key,
                "a Redis URL must not contain spaces or control characters",
            ));
        }
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let host_port = match authority.rsplit_once('@') {
            Some((_, hp)) => hp,
            None => authority,
        };
        let host = host_of(host_port)
            .ok_or_else(|| Error::config(key, "the Redis URL has an invalid host or port"))?;
        let port = match host_port.strip_prefix('[') {
            Some(v6) => v6.split_once("]:").map(|(_, p)| p),
            None => host_port.split_once(':').map(|(_, p)| p),
        }
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(6379);
        let db: u32 = match path {
            "" => 0,
            digits if digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().unwrap_or(0)
            }
            _ => {
                return Err(Error::config(
                    key,
                    "the Redis URL's path must be a database number (/0 .. /999999999)",
                ))
            }
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Ok(RedisUrl {
            url: Secret::new(url),
            display: format!("{scheme}://{host}:{port}/{db}"),
            tls,
        })
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        self.url.expose()
    }

    /// `redis://host:port/db` (or `rediss://`), without the password: for
    /// messages and documents.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// `rediss://`.
    pub fn tls(&self) -> bool {
        self.tls
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({})", self.display)
    }
}

/// The default `tokenStorePrefix`.
pub const DEFAULT_STORE_PREFIX: &str = "ums:";

/// How callers pass the real-name fields `name`, `mobile`, `certNo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealNameInput {
    /// Plain text: the library Base64-encodes them (the default).
    Plain,
    /// Already Base64-encoded by the caller: sent as given, checked to be Base64.
    Base64,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_id: String,
    pub app_key: Secret,
    pub environment: Environment,
    pub auth: AuthMode,
    pub mid: Option<String>,
    pub tid: Option<String>,
    pub inst_mid: String,
    pub msg_src: Option<String>,
    pub msg_src_id: Option<String>,
    pub notify_key: Option<Secret>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub proxy: Option<String>,
    pub ca_file: Option<String>,
    pub real_name_input: RealNameInput,
    pub max_response_bytes: u64,
    /// Whether MD5-signed notifications are accepted (`notifySignTypes`
    /// includes "MD5"; the default, as the spec allows both).
    pub notify_accept_md5: bool,
    /// `tokenStore`: where the access token is shared (token mode).
    pub token_store: StoreConfig,
    /// `tokenStorePrefix`: the start of every key the stores use
    /// (`<prefix>token:<appId>`, `<prefix>lock:<appId>`, `<prefix>notify:<notifyId>`).
    pub store_prefix: String,
    /// `claimStore`: where notification claims are kept; by default the
    /// token store's Redis, else memory.
    pub claim_store: StoreConfig,
    /// `redisCaFile`: the CA(s) that signed a `rediss://` server's
    /// certificate; by default the system's trust store.
    pub redis_ca_file: Option<String>,
    /// `resolvable`: before sending a money-moving request, the client adds
    /// the identifiers that make it resolvable later (refundOrderId, a
    /// billNo + billDate for update-qrcode, a qrCodeId + systemId for a
    /// fixed code); see [`crate::resolve`]. Default false.
    pub resolvable: bool,
    /// `journal`: the SQLite file where every money-moving call is
    /// recorded before it is sent (see [`crate::journal`]). Default none.
    pub journal: Option<String>,
    /// `resolveWindowSeconds`: how far the gateway's clock check lets a
    /// request's timestamp be from its own clock (docs/protocol.md §2
    /// leaves it open; the simulator uses 300 s). `resolve` says
    /// "not applied" only once a request can no longer be accepted: 2 ×
    /// this window + 60 s after its `requestTimestamp`. Default 300.
    pub resolve_window: Duration,
}

const KNOWN_KEYS: &[&str] = &[
    "appId",
    "appKey",
    "environment",
    "auth",
    "mid",
    "tid",
    "instMid",
    "msgSrc",
    "msgSrcId",
    "notifyKey",
    "connectTimeoutMs",
    "timeoutMs",
    "proxy",
    "caFile",
    "realNameInput",
    "maxResponseBytes",
    "notifySignTypes",
    "tokenStore",
    "tokenStorePrefix",
    "claimStore",
    "redisCaFile",
    "resolvable",
    "journal",
    "resolveWindowSeconds",
];

/// How an environment variable's text becomes a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvKind {
    Text,
    Number,
}

/// The `UMS_*` environment variables that can supply config keys: read with
/// `"fromEnvironment": true` (the official-SDK adapters of the bindings) and
/// by the `ums` tool.
pub const ENV_KEYS: &[(&str, &str, EnvKind)] = &[
    ("UMS_APP_ID", "appId", EnvKind::Text),
    ("UMS_APP_KEY", "appKey", EnvKind::Text),
    ("UMS_ENVIRONMENT", "environment", EnvKind::Text),
    ("UMS_AUTH", "auth", EnvKind::Text),
    ("UMS_MID", "mid", EnvKind::Text),
    ("UMS_TID", "tid", EnvKind::Text),
    ("UMS_INST_MID", "instMid", EnvKind::Text),
    ("UMS_MSG_SRC", "msgSrc", EnvKind::Text),
    ("UMS_MSG_SRC_ID", "msgSrcId", EnvKind::Text),
    ("UMS_NOTIFY_KEY", "notifyKey", EnvKind::Text),
    (
        "UMS_CONNECT_TIMEOUT_MS",
        "connectTimeoutMs",
        EnvKind::Number,
    ),
    ("UMS_TIMEOUT_MS", "timeoutMs", EnvKind::Number),
    ("UMS_PROXY", "proxy", EnvKind::Text),
    ("UMS_CA_FILE", "caFile", EnvKind::Text),
    ("UMS_REAL_NAME_INPUT", "realNameInput", EnvKind::Text),
    (
        "UMS_MAX_RESPONSE_BYTES",
        "maxResponseBytes",
        EnvKind::Number,
    ),
    ("UMS_TOKEN_STORE", "tokenStore", EnvKind::Text),
    ("UMS_TOKEN_STORE_PREFIX", "tokenStorePrefix", EnvKind::Text),
    ("UMS_CLAIM_STORE", "claimStore", EnvKind::Text),
    ("UMS_REDIS_CA_FILE", "redisCaFile", EnvKind::Text),
];

/// The config value an environment variable's text gives (`None` for an
/// empty variable, which counts as unset).
pub fn env_value(var: &str, key: &str, kind: EnvKind, text: &str) -> Result<Option<Value>> {
    if text.is_empty() {
        return Ok(None);
    }
    match kind {
        EnvKind::Text => Ok(Some(Value::String(text.to_string()))),
        EnvKind::Number => text
            .parse::<u64>()
            .map(|n| Some(Value::from(n)))
            .map_err(|_| Error::config(key, format!("{var} must be a whole number"))),
    }
}

/// `"fromEnvironment": true`: every key the document leaves out is taken
/// from its `UMS_*` variable. A key the document gives wins, and a variable
/// that says otherwise is a config error rather than ignored, so that an
/// environment variable can never silently send credentials given in code
/// to another gateway (or send them with other credentials).
pub fn merge_environment(
    map: &mut Map<String, Value>,
    get: impl Fn(&str) -> Option<String>,
) -> Result<()> {
    for (var, key, kind) in ENV_KEYS {
        let Some(text) = get(var) else { continue };
        let Some(value) = env_value(var, key, *kind, &text)? else {
            continue;
        };
        match map.get(*key) {
            None | Some(Value::Null) => {
                map.insert(key.to_string(), value);
            }
            Some(given) if *given == value => {}
            Some(_) => {
                return Err(Error::config(
                    key,
                    format!(
                    "is given in the configuration and {var} says otherwise: remove one of them"
                ),
                ))
            }
        }
    }
    Ok(())
}

/// `"environmentDefault"`: the gateway the calling code implies without
/// naming it (an official SDK's built-in production host). It applies when
/// neither the document nor `UMS_ENVIRONMENT` names one, and
/// `UMS_ENVIRONMENT` may replace it only with a loopback base URL (the
/// simulator, where credentials never leave the machine): any other gateway
/// would send the credentials given in code somewhere the code did not
/// say, so it is a config error.
pub fn apply_environment_default(
    map: &mut Map<String, Value>,
    get: impl Fn(&str) -> Option<String>,
) -> Result<()> {
    let Some(default) = map.remove("environmentDefault") else {
        return Ok(());
    };
    let Value::String(default) = default else {
        return Err(Error::config("environmentDefault", "must be a string"));
    };
    if map.get("environment").is_some_and(|v| !v.is_null()) {
        return Ok(());
    }
    let chosen = match get("UMS_ENVIRONMENT").filter(|v| !v.is_empty()) {
        None => default,
        Some(url) if is_loopback_url(&url) => url,
        Some(_) => {
            return Err(Error::config(
                "environment",
                "UMS_ENVIRONMENT may replace the gateway the code implies only with a loopback URL (the simulator); name the environment in the code instead",
            ))
        }
    };
    map.insert("environment".into(), Value::String(chosen));
    Ok(())
}

/// `http://` on a loopback host, as [`parse_base_url`] accepts it.
fn is_loopback_url(url: &str) -> bool {
    url.starts_with("http://") && parse_base_url("environment", url).is_ok()
}

impl Config {
    /// Parses a JSON config document (see [`merge_environment`] for
    /// `"fromEnvironment"` and [`apply_environment_default`] for
    /// `"environmentDefault"`).
    pub fn from_json(text: &str) -> Result<Config> {
        let mut map = crate::json::parse_object(text, "config")?;
        let env_var = |var: &str| std::env::var(var).ok();
        let from_environment = match map.remove("fromEnvironment") {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(_) => return Err(Error::config("fromEnvironment", "must be true or false")),
        };
        if from_environment {
            apply_environment_default(&mut map, env_var)?;
            merge_environment(&mut map, env_var)?;
        } else if map.contains_key("environmentDefault") {
            return Err(Error::config(
                "environmentDefault",
                "goes with \"fromEnvironment\": true",
            ));
        }
        let config = Config::from_map(&map);
        // The parsed copies of the keys (and of Redis URLs, which may hold
        // a password) would otherwise be freed unwiped.
        for key in ["appKey", "notifyKey", "tokenStore", "claimStore"] {
            if let Some(Value::String(secret)) = map.get_mut(key) {
                crate::secret::wipe(secret);
            }
        }
        config
    }

    pub fn from_map(map: &Map<String, Value>) -> Result<Config> {
        if let Some(key) = map.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            return Err(Error::config(
                key,
                format!("unknown key (known keys: {})", KNOWN_KEYS.join(", ")),
            ));
        }
        let (app_id, app_key) = credentials(map)?;
        let merchant = merchant(map)?;
        let notify_key = match opt_str(map, "notifyKey")? {
            Some("") => return Err(Error::config("notifyKey", "must not be empty")),
            other => other.map(Secret::new),
        };
        let stores = stores(map)?;
        Ok(Config {
            app_id,
            app_key,
            environment: environment(map)?,
            auth: auth_mode(map)?,
            mid: merchant.mid,
            tid: merchant.tid,
            inst_mid: merchant.inst_mid,
            msg_src: merchant.msg_src,
            msg_src_id: merchant.msg_src_id,
            notify_key,
            connect_timeout: opt_millis(
                map,
                "connectTimeoutMs",
                DEFAULT_CONNECT_TIMEOUT_MS,
                1,
                120_000,
            )?,
            timeout: opt_millis(map, "timeoutMs", DEFAULT_TIMEOUT_MS, 1, 600_000)?,
            proxy: proxy(map)?,
            ca_file: ca_file(map)?,
            real_name_input: real_name_input(map)?,
            max_response_bytes: max_response_bytes(map)?,
            notify_accept_md5: notify_accept_md5(map)?,
            token_store: stores.token,
            store_prefix: stores.prefix,
            claim_store: stores.claims,
            redis_ca_file: stores.ca_file,
            resolvable: resolvable(map)?,
            journal: journal_path(map)?,
            resolve_window: Duration::from_secs(
                opt_millis(map, "resolveWindowSeconds", 300, 1, 86_400)?.as_millis() as u64,
            ),
        })
    }
}

/// `environment`: required, so that no client ever talks to a gateway its
/// configuration did not name.
fn environment(map: &Map<String, Value>) -> Result<Environment> {
    match opt_str(map, "environment")? {
        None => Err(Error::config(
            "environment",
            "is required: \"production\", \"test\" or a base URL (for the simulator, the URL `ums-sandbox` prints)",
        )),
        Some("production") => Ok(Environment::Production),
        Some("test") => Ok(Environment::Test),
        Some(url) => Ok(Environment::Url(parse_base_url("environment", url)?)),
    }
}

/// `appId` and `appKey`, both required.
fn credentials(map: &Map<String, Value>) -> Result<(String, Secret)> {
    let app_id = opt_string(map, "appId")?.ok_or_else(|| Error::config("appId", "is required"))?;
    check_len("appId", &app_id, 1, 64)?;
    check_no_quote("appId", &app_id)?;
    let app_key = opt_str(map, "appKey")?
        .map(Secret::new)
        .ok_or_else(|| Error::config("appKey", "is required"))?;
    check_len("appKey", app_key.expose(), 1, 256)?;
    Ok((app_id, app_key))
}

fn auth_mode(map: &Map<String, Value>) -> Result<AuthMode> {
    match opt_str(map, "auth")? {
        None | Some("body-sig") => Ok(AuthMode::BodySig),
        Some("token") => Ok(AuthMode::Token),
        Some(_) => Err(Error::config("auth", "must be \"body-sig\" or \"token\"")),
    }
}

/// The merchant's defaults for requests.
struct Merchant {
    mid: Option<String>,
    tid: Option<String>,
    inst_mid: String,
    msg_src: Option<String>,
    msg_src_id: Option<String>,
}

fn merchant(map: &Map<String, Value>) -> Result<Merchant> {
    let mid = opt_string(map, "mid")?;
    if let Some(m) = &mid {
        check_exact_len("mid", m, 15)?;
    }
    let tid = opt_string(map, "tid")?;
    if let Some(t) = &tid {
        check_exact_len("tid", t, 8)?;
    }
    let inst_mid = opt_string(map, "instMid")?.unwrap_or_else(|| DEFAULT_INST_MID.to_string());
    check_len("instMid", &inst_mid, 1, 32)?;
    let msg_src_id = opt_string(map, "msgSrcId")?;
    if let Some(id) = &msg_src_id {
        crate::ids::check_msg_src_id(id)?;
    }
    Ok(Merchant {
        mid,
        tid,
        inst_mid,
        msg_src: opt_string(map, "msgSrc")?,
        msg_src_id,
    })
}

/// `tokenStore`, `tokenStorePrefix`, `claimStore`, `redisCaFile`.
struct Stores {
    token: StoreConfig,
    prefix: String,
    claims: StoreConfig,
    ca_file: Option<String>,
}

fn stores(map: &Map<String, Value>) -> Result<Stores> {
    let store = |key: &str| -> Result<Option<StoreConfig>> {
        Ok(match opt_str(map, key)? {
            None => None,
            Some("memory") => Some(StoreConfig::Memory),
            Some(url) => Some(StoreConfig::Redis(RedisUrl::parse(key, url)?)),
        })
    };
    let token = store("tokenStore")?.unwrap_or(StoreConfig::Memory);
    let claims = store("claimStore")?.unwrap_or_else(|| token.clone());
    let prefix =
        opt_string(map, "tokenStorePrefix")?.unwrap_or_else(|| DEFAULT_STORE_PREFIX.into());
    check_len("tokenStorePrefix", &prefix, 1, 64)?;
    if !prefix.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::config(
            "tokenStorePrefix",
            "must be printable ASCII without spaces",
        ));
    }
    let ca_file = opt_string(map, "redisCaFile")?;
    if let Some(path) = &ca_file {
        let tls = [&token, &claims]
            .iter()
            .any(|s| matches!(s, StoreConfig::Redis(url) if url.tls()));
        if !tls {
            return Err(Error::config(
                "redisCaFile",
                "goes with a rediss:// tokenStore or claimStore",
            ));
        }
        if !std::path::Path::new(path).is_file() {
            return Err(Error::config(
                "redisCaFile",
                "must name a readable PEM file",
            ));
        }
    }
    Ok(Stores {
        token,
        prefix,
        claims,
        ca_file,
    })
}

fn proxy(map: &Map<String, Value>) -> Result<Option<String>> {
    let proxy = opt_string(map, "proxy")?;
    if let Some(p) = &proxy {
        let parsed = ureq::Proxy::new(p).map_err(|_| {
            Error::config(
                "proxy",
                "must be an HTTP CONNECT proxy URL such as http://host:port or https://host:port",
            )
        })?;
        // The HTTP client is built without SOCKS support.
        use ureq::ProxyProtocol as P;
        if matches!(
            parsed.protocol(),
            P::Socks4 | P::Socks4A | P::Socks5 | P::Socks5h
        ) {
            return Err(Error::config(
                "proxy",
                "SOCKS proxies are not supported: use an HTTP CONNECT proxy (http://host:port or https://host:port)",
            ));
        }
    }
    Ok(proxy)
}

fn ca_file(map: &Map<String, Value>) -> Result<Option<String>> {
    let ca_file = opt_string(map, "caFile")?;
    if let Some(path) = &ca_file {
        if !std::path::Path::new(path).is_file() {
            return Err(Error::config("caFile", "must name a readable PEM file"));
        }
    }
    Ok(ca_file)
}

fn real_name_input(map: &Map<String, Value>) -> Result<RealNameInput> {
    match opt_str(map, "realNameInput")? {
        None | Some("plain") => Ok(RealNameInput::Plain),
        Some("base64") => Ok(RealNameInput::Base64),
        Some(_) => Err(Error::config(
            "realNameInput",
            "must be \"plain\" or \"base64\"",
        )),
    }
}

/// `resolvable`: a boolean (see [`Config::resolvable`]); identifiers are
/// made from `msgSrcId`, so it is required too.
fn resolvable(map: &Map<String, Value>) -> Result<bool> {
    let on = match map.get("resolvable") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(Error::config("resolvable", "must be true or false")),
    };
    if on && opt_str(map, "msgSrcId")?.is_none() {
        return Err(Error::config(
            "resolvable",
            "needs msgSrcId: the identifiers it adds start with it (docs/protocol.md §4.2)",
        ));
    }
    Ok(on)
}

/// `journal`: a file path (the SQLite journal), opened when the client is made.
fn journal_path(map: &Map<String, Value>) -> Result<Option<String>> {
    match opt_str(map, "journal")? {
        None => Ok(None),
        Some("") => Err(Error::config("journal", "must be a file path, not empty")),
        Some(p) if p.contains('\0') || p.len() > 4096 => Err(Error::config(
            "journal",
            "must be a file path of at most 4096 bytes",
        )),
        Some(p) => Ok(Some(p.to_string())),
    }
}

fn max_response_bytes(map: &Map<String, Value>) -> Result<u64> {
    match map.get("maxResponseBytes") {
        None => Ok(DEFAULT_MAX_RESPONSE_BYTES),
        Some(v) => match v.as_u64() {
            Some(n) if (1024..=64 << 20).contains(&n) => Ok(n),
            _ => Err(Error::config(
                "maxResponseBytes",
                "must be an integer from 1024 to 67108864",
            )),
        },
    }
}

/// `notifySignTypes`: a non-empty array of "MD5" and "SHA256" (default both).
/// SHA256 is always accepted; the list decides whether MD5 is.
fn notify_accept_md5(map: &Map<String, Value>) -> Result<bool> {
    const RULE: &str =
        "must be a non-empty array of \"MD5\" and \"SHA256\" that includes \"SHA256\"";
    let Some(value) = map.get("notifySignTypes") else {
        return Ok(true);
    };
    let names: Option<Vec<&str>> = value
        .as_array()
        .map(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
        .unwrap_or(None);
    match names {
        Some(n) if n.contains(&"SHA256") && n.iter().all(|t| matches!(*t, "MD5" | "SHA256")) => {
            Ok(n.contains(&"MD5"))
        }
        _ => Err(Error::config("notifySignTypes", RULE)),
    }
}

fn opt_str<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(Error::config(key, "must be a string")),
    }
}

fn opt_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    Ok(opt_str(map, key)?.map(str::to_string))
}

fn opt_millis(
    map: &Map<String, Value>,
    key: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<Duration> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Duration::from_millis(default)),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Duration::from_millis(n)),
            _ => Err(Error::config(
                key,
                format!("must be an integer number of milliseconds from {min} to {max}"),
            )),
        },
    }
}

fn check_len(key: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(Error::config(
            key,
            format!("must be {min} to {max} characters long"),
        ));
    }
    Ok(())
}

fn check_exact_len(key: &str, value: &str, len: usize) -> Result<()> {
    if value.chars().count() != len {
        return Err(Error::config(
            key,
            format!("must be exactly {len} characters long"),
        ));
    }
    Ok(())
}

/// The appId travels inside the quoted, comma-separated Authorization header.
fn check_no_quote(key: &str, value: &str) -> Result<()> {
    if value
        .chars()
        .any(|c| c == '"' || c == ',' || c.is_control())
    {
        return Err(Error::config(
            key,
            "must not contain quotes, commas or control characters",
        ));
    }
    Ok(())
}

/// Checks an explicit gateway base URL: `https://host[:port]` anywhere, or
/// `http://` for loopback hosts only (the simulator). Returns it without a
/// trailing slash.
pub fn parse_base_url(key: &str, url: &str) -> Result<String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::config(
            key,
            "must be \"production\", \"test\" or a base URL such as https://host",
        )
    })?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(Error::config(
            key,
            "a base URL is scheme://host[:port] with no path, query or user info",
        ));
    }
    let host = host_of(rest)
        .ok_or_else(|| Error::config(key, "the base URL has an invalid host or port"))?;
    match scheme {
        "https" => {}
        "http" if is_loopback_host(host) => {}
        "http" => {
            return Err(Error::config(
                key,
                "http:// is only allowed for loopback hosts; use https://",
            ))
        }
        _ => {
            return Err(Error::config(
                key,
                "the base URL scheme must be https (or http for loopback)",
            ))
        }
    }
    Ok(format!("{scheme}://{rest}"))
}

/// The host part of `host[:port]` or `[v6]:port`, with the port checked.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        h.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (h, None),
            _ => (h, Some(after.strip_prefix(':')?)),
        }
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        // A DNS name or an IPv4 address: dot-separated labels of letters,
        // digits and hyphens.
        let valid = !h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return None;
        }
        (h, p)
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse::<u16>().ok().filter(|p| *p > 0)?;
    }
    Some(host)
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn err(json: &str) -> Error {
        Config::from_json(json).unwrap_err()
    }

    #[test]
    fn minimal_production_config_has_sane_defaults() {
        let c =
            Config::from_json(r#"{"appId":"a","appKey":"k","environment":"production"}"#).unwrap();
        assert_eq!(c.environment, Environment::Production);
        assert_eq!(c.auth, AuthMode::BodySig);
        assert_eq!(c.inst_mid, "QRPAYDEFAULT");
        assert_eq!(c.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
        assert_eq!(format!("{:?}", c.app_key), "Secret(***)");
    }

    #[test]
    fn a_socks_proxy_is_a_config_error_an_http_one_is_not() {
        for url in ["socks5://127.0.0.1:1080", "socks4://127.0.0.1:1080"] {
            let e = err(&format!(
                r#"{{"appId":"a","appKey":"k","environment":"test","proxy":"{url}"}}"#
            ));
            assert_eq!(
                (e.kind, e.field.as_deref()),
                (ErrorKind::Config, Some("proxy"))
            );
            assert!(e.message.contains("SOCKS"), "{e}");
        }
        let c = Config::from_json(
            r#"{"appId":"a","appKey":"k","environment":"test","proxy":"http://127.0.0.1:3128"}"#,
        )
        .unwrap();
        assert_eq!(c.proxy.as_deref(), Some("http://127.0.0.1:3128"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = err(r#"{"appId":"a","appKey":"k","enviroment":"test"}"#);
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::Config, Some("enviroment"))
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","environment":"prod"}"#)
                .field
                .as_deref(),
            Some("environment")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","environment":"test","auth":"tok"}"#)
                .field
                .as_deref(),
            Some("auth")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","environment":"test","timeoutMs":-1}"#)
                .field
                .as_deref(),
            Some("timeoutMs")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","environment":"test","mid":"123"}"#)
                .field
                .as_deref(),
            Some("mid")
        );
        assert_eq!(
            err(r#"{"appKey":"k","environment":"test"}"#)
                .field
                .as_deref(),
            Some("appId")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","environment":"test","timeoutMs":"5"}"#)
                .field
                .as_deref(),
            Some("timeoutMs")
        );
        assert_eq!(err("[1]").kind, ErrorKind::InvalidJson);
        assert_eq!(err("{").kind, ErrorKind::InvalidJson);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert_eq!(
            parse_base_url("e", "http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(parse_base_url("e", "http://localhost:1").is_ok());
        assert!(parse_base_url("e", "http://[::1]:80").is_ok());
        assert!(parse_base_url("e", "https://gw.example.com").is_ok());
        assert!(parse_base_url("e", "http://api-mop.chinaums.com").is_err());
        assert!(parse_base_url("e", "http://127.0.0.1.evil.com").is_err());
        assert!(parse_base_url("e", "ftp://127.0.0.1").is_err());
        assert!(parse_base_url("e", "https://host/v1").is_err());
        assert!(parse_base_url("e", "https://host:99999").is_err());
        // Found by fuzzing: hosts the HTTP layer could not use.
        for bad in [
            "https://a:b:1",
            "https://ga`teway.invalid",
            "https://host%.x",
            "http://[::1]'80]0",
            "https://a..b",
        ] {
            assert!(parse_base_url("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment_variables_fill_what_the_document_leaves_out_and_never_override_it() {
        let vars = |var: &str| match var {
            "UMS_ENVIRONMENT" => Some("http://127.0.0.1:8765".to_string()),
            "UMS_APP_ID" => Some("env-app".to_string()),
            "UMS_TIMEOUT_MS" => Some("7000".to_string()),
            "UMS_MID" => Some(String::new()),
            _ => None,
        };
        let mut map = Map::new();
        map.insert("appKey".into(), "k".into());
        merge_environment(&mut map, vars).unwrap();
        let c = Config::from_map(&map).unwrap();
        assert_eq!(c.environment.base_url(), "http://127.0.0.1:8765");
        assert_eq!(
            (c.app_id.as_str(), c.timeout.as_millis()),
            ("env-app", 7000)
        );
        assert_eq!(c.mid, None, "an empty variable is unset");
        // Credentials given in code and another gateway from a variable: refused.
        let mut map = Map::new();
        map.insert("appId".into(), "code-app".into());
        let e = merge_environment(&mut map, vars).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("appId"));
        let mut map = Map::new();
        map.insert("environment".into(), "production".into());
        let e = merge_environment(&mut map, vars).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("environment"));
        assert!(!e.message.contains("127.0.0.1"), "{}", e.message);
        // The same value twice is no conflict.
        let mut map = Map::new();
        map.insert("appId".into(), "env-app".into());
        map.insert("timeoutMs".into(), 7000.into());
        assert!(merge_environment(&mut map, vars).is_ok());
        let e = Config::from_json(r#"{"fromEnvironment":"yes"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("fromEnvironment"));
    }

    #[test]
    fn an_implied_gateway_is_replaced_only_by_the_simulator() {
        let with = |url: &'static str| {
            move |var: &str| (var == "UMS_ENVIRONMENT").then(|| url.to_string())
        };
        let none = |_: &str| None;
        let implied = || {
            let mut map = Map::new();
            map.insert("environmentDefault".into(), "production".into());
            map
        };
        let mut map = implied();
        apply_environment_default(&mut map, none).unwrap();
        assert_eq!(map["environment"], "production");
        let mut map = implied();
        apply_environment_default(&mut map, with("http://127.0.0.1:8765")).unwrap();
        assert_eq!(map["environment"], "http://127.0.0.1:8765");
        for elsewhere in ["test", "https://gw.example.com", "http://10.0.0.1:80"] {
            let mut map = implied();
            let e = apply_environment_default(&mut map, move |_: &str| Some(elsewhere.to_string()))
                .unwrap_err();
            assert_eq!(e.field.as_deref(), Some("environment"), "{elsewhere}");
        }
        // A gateway the code names is never replaced here (merge_environment
        // then refuses a contradicting variable).
        let mut map = implied();
        map.insert("environment".into(), "test".into());
        apply_environment_default(&mut map, with("http://127.0.0.1:1")).unwrap();
        assert_eq!(map["environment"], "test");
        assert!(merge_environment(&mut map, with("http://127.0.0.1:1")).is_err());
        let e = Config::from_json(r#"{"environmentDefault":"production"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("environmentDefault"));
    }

    #[test]
    fn store_urls_are_checked_and_never_show_their_password() {
        let u = RedisUrl::parse("tokenStore", "redis://:pw-9@cache.internal:6380/2").unwrap();
        assert_eq!(u.display(), "redis://cache.internal:6380/2");
        assert_eq!(format!("{u:?}"), "RedisUrl(redis://cache.internal:6380/2)");
        assert!(!u.tls());
        assert_eq!(u.expose(), "redis://:pw-9@cache.internal:6380/2");
        let u = RedisUrl::parse("tokenStore", "rediss://user:pw@10.0.0.5").unwrap();
        assert_eq!((u.display(), u.tls()), ("rediss://10.0.0.5:6379/0", true));
        let u = RedisUrl::parse("tokenStore", "redis://[::1]:7000/").unwrap();
        assert_eq!(u.display(), "redis://[::1]:7000/0");
        for bad in [
            "",
            "memory:",
            "redis:/host",
            "unix:///tmp/redis.sock",
            "redis+unix:///tmp/redis.sock",
            "redis://",
            "redis://:pw-9@",
            "redis://:pw-9@host:0",
            "redis://:pw-9@host:70000",
            "redis://:pw-9@host/db1",
            "redis://:pw-9@host/1/2",
            "redis://:pw-9@ho st",
            "redis://:pw-9@host\n",
            "rediss://:pw-9@host#insecure",
            "redis://:pw-9@host?db=1",
        ] {
            let e = RedisUrl::parse("tokenStore", bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("tokenStore"), "{bad}");
            assert!(!e.message.contains("pw-9"), "{bad}: {}", e.message);
        }
        let c = Config::from_json(
            r#"{"appId":"a","appKey":"k","environment":"test","tokenStore":"redis://:pw-9@h:1/0"}"#,
        )
        .unwrap();
        assert_eq!(
            c.claim_store, c.token_store,
            "claims follow the token store's Redis"
        );
        assert_eq!(c.store_prefix, "ums:");
        assert!(!format!("{c:?}").contains("pw-9"));
        let c = Config::from_json(r#"{"appId":"a","appKey":"k","environment":"test"}"#).unwrap();
        assert_eq!(
            (c.token_store.describe(), c.claim_store.describe()),
            ("memory".into(), "memory".into())
        );
    }

    #[test]
    fn the_environment_and_credentials_are_required() {
        let e = Config::from_json("{}").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("appId"));
        let e = Config::from_json(r#"{"appId":"a","appKey":"k"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("environment"));
        let e =
            Config::from_json(r#"{"appId":"a","appKey":"k","environment":"sandbox"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("environment"));
        let c = Config::from_json(r#"{"appId":"a","appKey":"k","environment":"test"}"#).unwrap();
        assert!(c.notify_key.is_none() && c.msg_src_id.is_none());
    }
}
