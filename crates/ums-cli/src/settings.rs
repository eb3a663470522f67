//! Where the configuration comes from: `--config FILE` (the library's JSON
//! keys), then the `UMS_*` environment variables for keys the file does not
//! set, then `--environment`, which overrides both.

use crate::output;
use chinaums::error::{Error, ErrorKind};
use chinaums::secret::Secret;
use chinaums::Config;
use serde_json::{Map, Value};
use ums_sandbox::demo;

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

pub use chinaums::config::ENV_KEYS;

/// Keys whose values are secrets.
const SECRET_KEYS: &[&str] = &["appKey", "notifyKey"];

/// The global options.
#[derive(Debug, Default, Clone)]
pub struct Global {
    pub config_file: Option<String>,
    pub environment: Option<String>,
    /// `-v` / `--verbose`: the library's log lines go to stderr.
    pub verbose: bool,
}

/// The environment names the tool knows (a base URL is the other choice).
pub const ENVIRONMENT_NAMES: &[&str] = &["test", "production", "sandbox"];

/// What `--environment` and the `environment` key accept, for messages.
const ENVIRONMENT_CHOICES: &str =
    "test, production, sandbox, or a base URL (https://host[:port]; http:// only for loopback)";

/// Checks an environment value: one of [`ENVIRONMENT_NAMES`] or a base URL
/// the library accepts. The message lists the valid choices.
pub fn check_environment(value: &str) -> Result<(), String> {
    if ENVIRONMENT_NAMES.contains(&value) {
        return Ok(());
    }
    if !value.contains("://") {
        return Err(format!(
            "unknown environment `{}`: use {ENVIRONMENT_CHOICES}",
            chinaums::error::clip(value)
        ));
    }
    chinaums::config::parse_base_url("environment", value)
        .map(|_| ())
        .map_err(|e| format!("{} (environment is {ENVIRONMENT_CHOICES})", e.message))
}

/// The merged configuration document and where each key came from.
pub struct Settings {
    map: Map<String, Value>,
    origins: Vec<(String, String)>,
}

impl Settings {
    /// Reads the file and the environment and applies `--environment`.
    pub fn load(global: &Global) -> Result<Settings, Error> {
        Settings::load_with(global, |name| std::env::var_os(name))
    }

    /// As [`Settings::load`], with the environment given by `get_env`.
    pub fn load_with(
        global: &Global,
        get_env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Settings, Error> {
        let mut settings = Settings {
            map: Map::new(),
            origins: Vec::new(),
        };
        if let Some(path) = &global.config_file {
            settings.map = read_config_file(path)?;
            for key in settings.map.keys() {
                settings
                    .origins
                    .push((key.clone(), format!("in config file `{path}`")));
            }
        }
        for (var, key, kind) in ENV_KEYS {
            if settings.map.contains_key(*key) {
                continue;
            }
            let Some(raw) = get_env(var) else { continue };
            let Some(text) = raw.to_str() else {
                return Err(Error::config(key, format!("{var} is not valid UTF-8")));
            };
            let Some(value) = chinaums::config::env_value(var, key, *kind, text)? else {
                continue;
            };
            settings.map.insert(key.to_string(), value);
            settings
                .origins
                .push((key.to_string(), format!("set by {var}")));
        }
        if let Some(environment) = &global.environment {
            settings
                .map
                .insert("environment".into(), Value::String(environment.clone()));
            settings.origins.retain(|(k, _)| k != "environment");
            settings
                .origins
                .push(("environment".into(), "given by --environment".into()));
        }
        for key in SECRET_KEYS {
            if let Some(Value::String(secret)) = settings.map.get(*key) {
                output::register_secret(secret);
            }
        }
        // Also the variables the file overrode: unused, and still never shown.
        for (var, key, _) in ENV_KEYS {
            if SECRET_KEYS.contains(key) {
                if let Some(secret) = get_env(var).and_then(|v| v.into_string().ok()) {
                    output::register_secret(&secret);
                }
            }
        }
        Ok(settings)
    }

    /// A string value, or an error naming the key when it is not a string.
    pub fn text(&self, key: &str) -> Result<Option<&str>, Error> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.annotate(Error::config(key, "must be a string"))),
        }
    }

    fn given(&self, key: &str) -> bool {
        !matches!(self.map.get(key), None | Some(Value::Null))
    }

    /// True when the public demo app is in use, so its defaults apply: the
    /// environment is the embedded simulator (the default), or a plain
    /// `http://` (loopback) URL such as a `ums sandbox`, with neither appId
    /// nor appKey given.
    pub fn demo_app(&self) -> Result<bool, Error> {
        Ok(match self.text("environment")? {
            None | Some("sandbox") => true,
            Some(url) if url.starts_with("http://") => {
                !self.given("appId") && !self.given("appKey")
            }
            Some(_) => false,
        })
    }

    /// Whether the demo app's credentials and defaults are filled in: the
    /// demo environment (see [`Settings::demo_app`]) and no credentials given.
    fn uses_demo_credentials(&self) -> Result<bool, Error> {
        Ok(self.demo_app()? && !self.given("appId") && !self.given("appKey"))
    }

    /// The configuration document a command uses: the demo app's
    /// credentials and defaults filled in where they apply; else appId and
    /// appKey must come together.
    fn effective_map(&self) -> Result<Map<String, Value>, Error> {
        // First, so that a misspelt name is not reported as missing credentials.
        if let Some(environment) = self.text("environment")? {
            check_environment(environment)
                .map_err(|rule| self.annotate(Error::config("environment", rule)))?;
        }
        let mut map = self.map.clone();
        let mut defaults = Vec::new();
        if self.uses_demo_credentials()? {
            defaults.extend([
                ("appId", demo::APP_ID),
                ("appKey", demo::APP_KEY),
                ("msgSrc", demo::MSG_SRC),
                ("msgSrcId", demo::MSG_SRC_ID),
                ("notifyKey", demo::NOTIFY_KEY),
            ]);
        } else {
            self.check_credential_pair()?;
        }
        if self.simulator_merchant()? {
            // The simulator's demo merchant and terminal, so that a request
            // without mid and tid works there as it is.
            defaults.extend([("mid", demo::MID), ("tid", demo::TID)]);
        }
        for (key, value) in defaults {
            if !self.given(key) {
                map.insert(key.into(), value.into());
            }
        }
        Ok(map)
    }

    /// Whether the demo merchant is the default: the environment is the
    /// simulator (none, "sandbox", or a loopback http:// URL) and the app
    /// is its demo app (no appId, or the demo appId). Never on test or
    /// production.
    fn simulator_merchant(&self) -> Result<bool, Error> {
        let simulator = match self.text("environment")? {
            None | Some("sandbox") => true,
            Some(url) => url.starts_with("http://"),
        };
        Ok(simulator && matches!(self.text("appId")?, None | Some(demo::APP_ID)))
    }

    fn check_credential_pair(&self) -> Result<(), Error> {
        let given = |k: &str| self.given(k);
        if given("appId") && !given("appKey") {
            return Err(Error::config(
                "appKey",
                "is required when appId is given (set UMS_APP_KEY or appKey in the config file)",
            ));
        }
        if given("appKey") && !given("appId") {
            return Err(Error::config(
                "appId",
                "is required when appKey is given (set UMS_APP_ID or appId in the config file)",
            ));
        }
        Ok(())
    }

    /// appId and appKey for signing, which needs no gateway. Every other key
    /// is checked as a call would check it, so a bad setting is noticed here
    /// too; a missing environment is not an error (nothing is sent).
    pub fn credentials(&self) -> Result<(String, Secret), Error> {
        let mut map = self.effective_map()?;
        if matches!(self.text("environment")?, None | Some("sandbox")) {
            map.insert("environment".into(), "test".into()); // checked, never used
        }
        let config = Config::from_map(&map).map_err(|e| self.annotate(e))?;
        Ok((config.app_id, config.app_key))
    }

    /// The validated library configuration. The demo app without an
    /// environment (or with "sandbox") runs on a simulator started in this
    /// process, which lives as long as the command.
    pub fn config(&self) -> Result<Config, Error> {
        let mut map = self.effective_map()?;
        if self.text("environment")? == Some("sandbox") && !self.uses_demo_credentials()? {
            return Err(self.annotate(Error::config(
                "environment",
                "`sandbox` is a simulator that knows only its demo app: leave appId and appKey unset to use it",
            )));
        }
        let no_environment = matches!(self.text("environment")?, None | Some("sandbox"));
        if no_environment && self.uses_demo_credentials()? {
            map.insert("environment".into(), in_process_sandbox()?.into());
        }
        Config::from_map(&map).map_err(|e| self.annotate(e))
    }

    /// Says where a faulty key came from (never its value), or where to set
    /// a key that is missing.
    pub fn annotate(&self, mut e: Error) -> Error {
        if e.kind == ErrorKind::Config {
            if let Some(field) = &e.field {
                if let Some((_, origin)) = self.origins.iter().find(|(k, _)| k == field) {
                    e.message = format!("{} ({origin})", e.message);
                } else if let Some(hint) =
                    where_to_set(field).filter(|_| !e.message.contains("UMS_"))
                {
                    e.message = format!("{} ({hint})", e.message);
                }
            }
        }
        e
    }
}

/// `set UMS_APP_ID, or "appId" in the --config file` for a key the
/// configuration can hold; the message already saying so is left alone.
pub fn where_to_set(key: &str) -> Option<String> {
    let (var, _, _) = ENV_KEYS.iter().find(|(_, k, _)| *k == key)?;
    Some(format!("set {var}, or \"{key}\" in the --config file"))
}

/// The base URL of a simulator started in this process on first use; it
/// lives as long as the command (the library itself never starts one).
fn in_process_sandbox() -> Result<String, Error> {
    static SANDBOX: std::sync::OnceLock<ums_sandbox::Sandbox> = std::sync::OnceLock::new();
    if let Some(sandbox) = SANDBOX.get() {
        return Ok(sandbox.base_url());
    }
    let sandbox = ums_sandbox::Sandbox::start_default().map_err(|e| {
        Error::new(
            ErrorKind::Connect,
            format!("could not start the simulator: {e}"),
        )
    })?;
    Ok(SANDBOX.get_or_init(|| sandbox).base_url())
}

fn read_config_file(path: &str) -> Result<Map<String, Value>, Error> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("cannot read config file `{path}`: {e}"),
        )
    })?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot read config file `{path}` as UTF-8 text: {e}"),
            )
        })?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(Error::new(
            ErrorKind::Config,
            format!("config file `{path}` is larger than {MAX_CONFIG_BYTES} bytes"),
        ));
    }
    // Where and what only, never the text: it may hold the app key.
    if let Some(problem) = crate::json_syntax::check(&text) {
        return Err(Error::new(
            ErrorKind::InvalidJson,
            format!("config file `{path}`: {problem}"),
        ));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::new(
            ErrorKind::InvalidJson,
            format!("config file `{path}` must hold a JSON object"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn environment_fills_keys_and_the_flag_overrides() {
        let global = Global {
            config_file: None,
            environment: Some("http://127.0.0.1:9".into()),
            verbose: false,
        };
        let s = Settings::load_with(
            &global,
            env(&[
                ("UMS_ENVIRONMENT", "production"),
                ("UMS_MID", "898340149000005"),
                ("UMS_TIMEOUT_MS", "1500"),
                ("UMS_TID", ""),
            ]),
        )
        .unwrap();
        assert_eq!(s.text("environment").unwrap(), Some("http://127.0.0.1:9"));
        assert_eq!(s.map["timeoutMs"], 1500);
        assert!(s.map.get("tid").is_none());
        assert!(s.demo_app().unwrap());
        assert_eq!(s.config().unwrap().app_id, demo::APP_ID);
    }

    #[test]
    fn errors_say_where_the_key_came_from() {
        let s = Settings::load_with(&Global::default(), env(&[("UMS_MID", "123")])).unwrap();
        let e = s.config().unwrap_err();
        assert_eq!(e.field.as_deref(), Some("mid"));
        assert!(e.message.contains("set by UMS_MID"), "{}", e.message);
        let e = Settings::load_with(&Global::default(), env(&[("UMS_TIMEOUT_MS", "x")]))
            .err()
            .unwrap();
        assert_eq!(e.field.as_deref(), Some("timeoutMs"));
        let s = Settings::load_with(&Global::default(), env(&[("UMS_APP_ID", "mine")])).unwrap();
        assert_eq!(s.config().unwrap_err().field.as_deref(), Some("appKey"));
    }

    #[test]
    fn no_credentials_is_the_sandbox_demo_app() {
        let s = Settings::load_with(&Global::default(), env(&[])).unwrap();
        assert!(s.demo_app().unwrap());
        let c = s.config().unwrap();
        assert_eq!(c.app_id, demo::APP_ID);
        let s =
            Settings::load_with(&Global::default(), env(&[("UMS_ENVIRONMENT", "test")])).unwrap();
        assert!(!s.demo_app().unwrap());
        assert_eq!(s.config().unwrap_err().field.as_deref(), Some("appId"));
        let s = Settings::load_with(
            &Global::default(),
            env(&[
                ("UMS_ENVIRONMENT", "http://127.0.0.1:1"),
                ("UMS_APP_ID", "a"),
                ("UMS_APP_KEY", "k"),
            ]),
        )
        .unwrap();
        assert!(!s.demo_app().unwrap());
        assert_eq!(s.config().unwrap().app_id, "a");
    }
}
