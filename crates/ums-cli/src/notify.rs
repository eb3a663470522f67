//! `ums verify-notify [--key-file FILE | --key-env VAR] <body-file|->`

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, input, output, EXIT_LOCAL, EXIT_NOTIFY_INVALID, EXIT_OK};
use chinaums::error::{Error, ErrorKind};
use chinaums::notify::MAX_NOTIFY_BYTES;
use chinaums::secret::Secret;
use std::io::Read as _;

pub const SPEC: Spec = Spec {
    flags: &[],
    valued: &["--key-file", "--key-env", "--config", "--environment"],
};

const MAX_KEY_FILE_BYTES: u64 = 4096;

pub fn help() -> String {
    "\
usage: ums verify-notify [--key-file FILE | --key-env VAR] <body-file|->

Verifies a payment notification (the raw application/x-www-form-urlencoded
body ChinaUMS POSTs to your notifyUrl, exactly as received) from a file, or
from stdin with `-`. Every field but sign is signed, the random extra key and
signType included, empty values dropped; signType absent or MD5 means MD5,
SHA256 means SHA-256; the comparison ignores case and takes constant time.

The notification key (通讯密钥) is never taken from the command line, where
other users can see it (`ps`). It comes from, in this order:
  --key-file FILE   the file's content (trailing line endings dropped)
  --key-env VAR     the environment variable VAR
  notifyKey         the --config file, else UMS_NOTIFY_KEY
  the public demo key, when the demo app is in use (environment sandbox, the
  default, or an http:// loopback URL without appId and appKey); a note on
  stderr says so, since anyone can sign with it

output (stdout):
  valid (SHA256)    or `valid (MD5)`, then the verified notification as JSON:
                    {\"valid\":true,\"signType\",\"notifyId\",\"fields\":{...}},
                    JSON-text fields (billPayment, ...) parsed
  invalid: <reason> bad signature | missing sign | unknown signType |
                    duplicate field | not a form (bad pair or percent escape,
                    not UTF-8, empty, larger than 65536 bytes)

exit codes: 0 valid; 6 invalid; 2 usage error; 5 no key, or the body or key
cannot be read.

options:
  --key-file FILE, --key-env VAR   where the notification key is (see above)
  --config FILE, --environment ENV see `ums --help`
  -h, --help                       this help"
        .to_string()
}

/// The notification key and whether it is the public demo key.
fn notify_key(global: &Global, args: &Args) -> Result<(Secret, bool), Error> {
    if let Some(path) = args.value("--key-file") {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("cannot read key file `{path}`: {e}"),
                )
            })?;
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(Error::new(
                ErrorKind::Config,
                format!("key file `{path}` is larger than {MAX_KEY_FILE_BYTES} bytes"),
            ));
        }
        let mut key = String::from_utf8(bytes).map_err(|_| {
            Error::new(
                ErrorKind::Config,
                format!("key file `{path}` is not UTF-8 text"),
            )
        })?;
        while key.ends_with(['\n', '\r']) {
            key.pop();
        }
        output::register_secret(&key);
        if key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                format!("key file `{path}` is empty"),
            ));
        }
        return Ok((Secret::new(key), false));
    }
    if let Some(var) = args.value("--key-env") {
        let key = std::env::var_os(var)
            .and_then(|v| v.into_string().ok())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    format!("the environment variable {var} is not set, empty or not UTF-8"),
                )
            })?;
        output::register_secret(&key);
        return Ok((Secret::new(key), false));
    }
    let settings = Settings::load(global)?;
    match settings.text("notifyKey")? {
        Some("") => Err(settings.annotate(Error::config("notifyKey", "must not be empty"))),
        Some(key) => Ok((Secret::new(key), false)),
        None if settings.demo_app()? => {
            Ok((Secret::new(ums_sandbox::demo::NOTIFY_KEY), true))
        }
        None => Err(Error::config(
            "notifyKey",
            "is needed: set UMS_NOTIFY_KEY or notifyKey in the config file, or use --key-file / --key-env",
        )),
    }
}

fn reason(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotifyBadSignature => "bad signature",
        ErrorKind::NotifyMissingSign => "missing sign",
        ErrorKind::NotifyUnknownSignType => "unknown signType",
        ErrorKind::NotifyDuplicateField => "duplicate field",
        _ => "not a form",
    }
}

pub fn run(global: &Global, args: &Args) -> Result<u8, String> {
    let [source] = args.positionals.as_slice() else {
        return Err(format!(
            "needs exactly one argument, <body-file|-> (got {})",
            args.positionals.len()
        ));
    };
    if args.value("--key-file").is_some() && args.value("--key-env").is_some() {
        return Err("--key-file and --key-env exclude each other".into());
    }
    let (key, demo) = match notify_key(global, args) {
        Ok(found) => found,
        Err(e) => {
            output::err(&format!("ums verify-notify: {}", e.message));
            return Ok(exit_code(e.kind));
        }
    };
    let body = match input::read(source, MAX_NOTIFY_BYTES + 1) {
        Ok(body) => body,
        Err(message) => {
            output::err(&format!("ums verify-notify: {message}"));
            return Ok(EXIT_LOCAL);
        }
    };
    if demo {
        output::err(
            "ums verify-notify: note: no notification key is configured; using the public sandbox demo key",
        );
    }
    match chinaums::notify::verify(key.expose(), &body) {
        Ok(verified) => {
            let doc = verified.to_json();
            output::out(&format!("valid ({})", verified.sign_type.as_str()));
            output::out(&serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string()));
            Ok(EXIT_OK)
        }
        Err(e) if exit_code(e.kind) == EXIT_NOTIFY_INVALID => {
            output::out(&format!("invalid: {}: {}", reason(e.kind), e.message));
            Ok(EXIT_NOTIFY_INVALID)
        }
        Err(e) => {
            output::err(&format!("ums verify-notify: {}", e.message));
            Ok(exit_code(e.kind))
        }
    }
}
