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

/// Where the gateway is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Production,
    Test,
    /// The simulator embedded in this library, started on first use on 127.0.0.1.
    Sandbox,
    /// An explicit base URL (`http://` only for loopback hosts).
    Url(String),
}

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
];

impl Config {
    /// Parses a JSON config document.
    pub fn from_json(text: &str) -> Result<Config> {
        let mut map = crate::json::parse_object(text, "config")?;
        let config = Config::from_map(&map);
        // The parsed copies of the keys would otherwise be freed unwiped.
        for key in ["appKey", "notifyKey"] {
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
        let environment = match opt_str(map, "environment")? {
            None => Environment::Sandbox,
            Some("production") => Environment::Production,
            Some("test") => Environment::Test,
            Some("sandbox") => Environment::Sandbox,
            Some(url) => Environment::Url(parse_base_url("environment", url)?),
        };
        let in_sandbox = environment == Environment::Sandbox;
        let app_id = match opt_str(map, "appId")? {
            Some(v) => v.to_string(),
            None if in_sandbox => crate::sandbox::demo::APP_ID.to_string(),
            None => return Err(Error::config("appId", "is required")),
        };
        check_len("appId", &app_id, 1, 64)?;
        check_no_quote("appId", &app_id)?;
        let app_key = match opt_str(map, "appKey")? {
            Some(v) => Secret::new(v),
            None if in_sandbox => Secret::new(crate::sandbox::demo::APP_KEY),
            None => return Err(Error::config("appKey", "is required")),
        };
        check_len("appKey", app_key.expose(), 1, 256)?;
        let auth = match opt_str(map, "auth")? {
            None | Some("body-sig") => AuthMode::BodySig,
            Some("token") => AuthMode::Token,
            Some(_) => return Err(Error::config("auth", "must be \"body-sig\" or \"token\"")),
        };
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
        let msg_src = match opt_string(map, "msgSrc")? {
            None if in_sandbox => Some(crate::sandbox::demo::MSG_SRC.to_string()),
            other => other,
        };
        let msg_src_id = match opt_string(map, "msgSrcId")? {
            None if in_sandbox => Some(crate::sandbox::demo::MSG_SRC_ID.to_string()),
            other => other,
        };
        if let Some(id) = &msg_src_id {
            crate::ids::check_msg_src_id(id)?;
        }
        let notify_key = match opt_str(map, "notifyKey")? {
            Some("") => return Err(Error::config("notifyKey", "must not be empty")),
            Some(k) => Some(Secret::new(k)),
            None if in_sandbox => Some(Secret::new(crate::sandbox::demo::NOTIFY_KEY)),
            None => None,
        };
        let connect_timeout = opt_millis(
            map,
            "connectTimeoutMs",
            DEFAULT_CONNECT_TIMEOUT_MS,
            1,
            120_000,
        )?;
        let timeout = opt_millis(map, "timeoutMs", DEFAULT_TIMEOUT_MS, 1, 600_000)?;
        let proxy = opt_string(map, "proxy")?;
        if let Some(p) = &proxy {
            ureq::Proxy::new(p).map_err(|_| {
                Error::config(
                    "proxy",
                    "must be a proxy URL such as http://host:port or socks5://host:port",
                )
            })?;
        }
        let ca_file = opt_string(map, "caFile")?;
        if let Some(path) = &ca_file {
            if !std::path::Path::new(path).is_file() {
                return Err(Error::config("caFile", "must name a readable PEM file"));
            }
        }
        let real_name_input = match opt_str(map, "realNameInput")? {
            None | Some("plain") => RealNameInput::Plain,
            Some("base64") => RealNameInput::Base64,
            Some(_) => {
                return Err(Error::config(
                    "realNameInput",
                    "must be \"plain\" or \"base64\"",
                ))
            }
        };
        let max_response_bytes = match map.get("maxResponseBytes") {
            None => DEFAULT_MAX_RESPONSE_BYTES,
            Some(v) => match v.as_u64() {
                Some(n) if (1024..=64 << 20).contains(&n) => n,
                _ => {
                    return Err(Error::config(
                        "maxResponseBytes",
                        "must be an integer from 1024 to 67108864",
                    ))
                }
            },
        };
        let notify_accept_md5 = notify_accept_md5(map)?;
        Ok(Config {
            app_id,
            app_key,
            environment,
            auth,
            mid,
            tid,
            inst_mid,
            msg_src,
            msg_src_id,
            notify_key,
            connect_timeout,
            timeout,
            proxy,
            ca_file,
            real_name_input,
            max_response_bytes,
            notify_accept_md5,
        })
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
            "must be \"production\", \"test\", \"sandbox\" or a base URL such as https://host",
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
            err(r#"{"appId":"a","appKey":"k","auth":"tok"}"#)
                .field
                .as_deref(),
            Some("auth")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","timeoutMs":-1}"#)
                .field
                .as_deref(),
            Some("timeoutMs")
        );
        assert_eq!(
            err(r#"{"appId":"a","appKey":"k","mid":"123"}"#)
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
            err(r#"{"appId":"a","appKey":"k","timeoutMs":"5"}"#)
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
    fn sandbox_is_the_default_and_needs_no_credentials() {
        let c = Config::from_json("{}").unwrap();
        assert_eq!(c.environment, Environment::Sandbox);
        assert_eq!(c.app_id, crate::sandbox::demo::APP_ID);
        assert!(c.notify_key.is_some());
    }
}
