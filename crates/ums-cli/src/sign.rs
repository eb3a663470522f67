//! `ums sign [--timestamp T] [--nonce N] [--strip-newline] <body-file|->`

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, input, output, EXIT_LOCAL, EXIT_OK};
use chinaums::clock::{BeijingTime, Clock as _, NonceSource as _, RandomNonce, SystemClock};
use chinaums::sign::{is_header_safe_nonce, MAX_NONCE_CHARS};

pub const SPEC: Spec = Spec {
    flags: &["--strip-newline"],
    valued: &["--timestamp", "--nonce", "--config", "--environment"],
};

/// Largest body signed.
const MAX_BODY_BYTES: usize = 16 << 20;

pub fn help() -> String {
    "\
usage: ums sign [--timestamp yyyyMMddHHmmss] [--nonce N] [--strip-newline] <body-file|->

Prints the OPEN-BODY-SIG Authorization header value for the exact bytes of a
body (a file, or stdin with `-`), for your own HTTP client:

  OPEN-BODY-SIG AppId=\"..\", Timestamp=\"..\", Nonce=\"..\", Signature=\"..\"

Signature = Base64(HmacSHA256(appId + timestamp + nonce + SHA256_HEX(body), appKey)).
appId and appKey come from the configuration (`ums --help`); with none, the
sandbox demo app. The auth setting does not matter: this is always the
per-request OPEN-BODY-SIG header. Send exactly the bytes you signed, within
the gateway's clock tolerance, and each nonce once.

The bytes are signed as read: a trailing newline (which `echo` and most
editors add) is signed too, and a note on stderr says so.

options:
  --timestamp T     Beijing time yyyyMMddHHmmss (default: now)
  --nonce N         1-128 visible ASCII characters except `\"` and `,`
                    (default: 32 random hex characters)
  --strip-newline   drop the trailing line ending(s) (\\n, \\r\\n) before signing
  --config FILE, --environment ENV    see `ums --help`
  -h, --help        this help

exit codes: 0 printed; 2 usage error (bad --timestamp or --nonce);
5 config or I/O error.

example (with your credentials in UMS_APP_ID and UMS_APP_KEY):
  curl -H \"Authorization: $(ums sign body.json)\" -H 'Content-Type: application/json' \\
       --data-binary @body.json https://test-api-open.chinaums.com/v1/netpay/bills/query"
        .to_string()
}

fn check_nonce(nonce: &str) -> Result<(), String> {
    if is_header_safe_nonce(nonce) {
        Ok(())
    } else {
        Err(format!(
            "--nonce must be 1 to {MAX_NONCE_CHARS} visible ASCII characters without `\"` or `,`"
        ))
    }
}

pub fn run(global: &Global, args: &Args) -> Result<u8, String> {
    let [source] = args.positionals.as_slice() else {
        return Err(format!(
            "needs exactly one argument, <body-file|-> (got {})",
            args.positionals.len()
        ));
    };
    let timestamp = match args.value("--timestamp") {
        Some(t) if BeijingTime::parse_compact(t).is_some() => t.to_string(),
        Some(_) => {
            return Err(
                "--timestamp must be a real Beijing time as yyyyMMddHHmmss (14 digits)".into(),
            )
        }
        None => BeijingTime::from_unix_millis(SystemClock.now_unix_millis()).compact(),
    };
    let nonce = match args.value("--nonce") {
        Some(n) => {
            check_nonce(n)?;
            n.to_string()
        }
        None => RandomNonce.nonce(),
    };

    let (app_id, app_key) = match Settings::load(global).and_then(|s| s.credentials()) {
        Ok(credentials) => credentials,
        Err(e) => {
            output::err(&format!("ums sign: {}", e.message));
            return Ok(exit_code(e.kind));
        }
    };
    let mut body = match input::read(source, MAX_BODY_BYTES + 1) {
        Ok(body) if body.len() > MAX_BODY_BYTES => {
            output::err(&format!(
                "ums sign: the body is larger than {MAX_BODY_BYTES} bytes"
            ));
            return Ok(EXIT_LOCAL);
        }
        Ok(body) => body,
        Err(message) => {
            output::err(&format!("ums sign: {message}"));
            return Ok(EXIT_LOCAL);
        }
    };
    if args.flag("--strip-newline") {
        while body.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            body.pop();
        }
    } else if body.last() == Some(&b'\n') {
        output::err(
            "ums sign: note: the body ends with a newline, which is signed too; send exactly these bytes, or use --strip-newline",
        );
    }
    let header = chinaums::sign::sign_body(&app_id, app_key.expose(), &timestamp, &nonce, &body);
    output::out(&header);
    Ok(EXIT_OK)
}
