//! Running the simulator as a program: what `ums-sandbox` and `ums sandbox`
//! share (option values, the banner, serving until killed).

use super::{demo, Sandbox, SandboxConfig};
use std::io::Write as _;
use std::time::Duration;

/// The port both programs listen on when none is given.
pub const DEFAULT_PORT: u16 = 8765;

/// The options `ums-sandbox` and `ums sandbox` both take, as given on the
/// command line (each program parses its own command line).
#[derive(Debug, Default, Clone, Copy)]
pub struct Options<'a> {
    pub port: Option<&'a str>,
    pub token_lifetime_secs: Option<&'a str>,
    pub clock_skew_secs: Option<&'a str>,
    pub retention_secs: Option<&'a str>,
    pub strict: bool,
    pub quiet: bool,
}

impl Options<'_> {
    /// The options that take a value, and the flags.
    pub const VALUED: [&'static str; 4] = [
        "--port",
        "--token-lifetime-secs",
        "--clock-skew-secs",
        "--retention-secs",
    ];
    pub const FLAGS: [&'static str; 2] = ["--strict", "--quiet"];

    /// The simulator's config, with a message naming the option on error.
    pub fn config(&self) -> Result<SandboxConfig, String> {
        let mut config = SandboxConfig {
            port: DEFAULT_PORT,
            ..SandboxConfig::default()
        };
        if let Some(value) = self.port {
            config.port = value
                .parse()
                .map_err(|_| format!("--port must be 0..=65535, got `{value}`"))?;
        }
        if let Some(value) = self.token_lifetime_secs {
            config.token_lifetime =
                Duration::from_secs(positive_secs("--token-lifetime-secs", value)?);
        }
        if let Some(value) = self.clock_skew_secs {
            config.clock_skew = Duration::from_secs(positive_secs("--clock-skew-secs", value)?);
        }
        if let Some(value) = self.retention_secs {
            config.bill_retention = Duration::from_secs(positive_secs("--retention-secs", value)?);
        }
        config.strict_types = self.strict;
        config.log_requests = !self.quiet;
        Ok(config)
    }
}

/// The lines of both programs' help that describe [`Options`].
pub fn options_help() -> String {
    // No `\` after the opening quote: it would strip the first line's indent.
    format!(
        "  --port N                 port to listen on (default {DEFAULT_PORT}; 0 picks a free port)
  --token-lifetime-secs S  access-token lifetime in seconds (default 3600)
  --clock-skew-secs S      tolerated timestamp skew and nonce-replay window in
                           seconds (default 300)
  --retention-secs S       settled bills are forgotten S seconds of simulator
                           time after their last change (default 86400)
  --strict                 amounts only as JSON integers (the documented type);
                           by default a string of digits (\"26\") is accepted too
  --quiet                  no log line per request on stderr"
    )
}

/// Why the simulator cannot listen, naming the address and port (the port
/// asked for; 0 means any free one).
pub fn listen_error(port: u16, error: &std::io::Error) -> String {
    let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
        " (another program, perhaps another ums-sandbox, uses this port: choose another with --port, or --port 0 for a free one)"
    } else {
        ""
    };
    format!("cannot listen on 127.0.0.1:{port}: {error}{hint}")
}

/// 1 second to 10 years.
fn positive_secs(name: &str, value: &str) -> Result<u64, String> {
    match value.parse::<u64>() {
        Ok(n) if (1..=315_360_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name} must be a whole number of seconds from 1 to 315360000, got `{value}`"
        )),
    }
}

/// Prints `ums-sandbox listening on URL` (always the first stdout line, so
/// scripts can read the port) and the demo credentials, then serves until
/// the process is killed.
pub fn announce_and_serve(sandbox: Sandbox) -> ! {
    let mut out = std::io::stdout().lock();
    // A closed stdout (nobody reading) must not stop the server: ignore errors.
    let _ = writeln!(out, "ums-sandbox listening on {}", sandbox.base_url())
        .and_then(|_| writeln!(out, "web console:     {}/", sandbox.base_url()))
        .and_then(|_| {
            writeln!(
                out,
                "demo app id:     {}\n\
                 demo app key:    {} (the public demo key of this simulator, not a secret)\n\
                 demo notify key: {} (public demo key)\n\
                 demo mid:        {} (also {})\n\
                 demo tid:        {} (also {})\n\
                 demo instMid:    {}\n\
                 seed qrCodeId:   {}",
                demo::APP_ID,
                demo::APP_KEY,
                demo::NOTIFY_KEY,
                demo::MID,
                demo::SECOND_MID,
                demo::TID,
                demo::TID_ALT,
                demo::INST_MID,
                demo::SEED_QR_CODE_ID,
            )
        })
        .and_then(|_| out.flush());
    drop(out);
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_values_are_checked() {
        let config = |port, token_lifetime_secs, clock_skew_secs| {
            Options {
                port,
                token_lifetime_secs,
                clock_skew_secs,
                ..Options::default()
            }
            .config()
        };
        let c = config(None, None, None).unwrap();
        assert_eq!(c.port, DEFAULT_PORT);
        let c = config(Some("0"), Some("5"), Some("60")).unwrap();
        assert_eq!(
            (c.port, c.token_lifetime.as_secs(), c.clock_skew.as_secs()),
            (0, 5, 60)
        );
        assert!(config(Some("70000"), None, None).is_err());
        assert!(config(None, Some("0"), None).is_err());
        assert!(config(None, None, Some("x")).is_err());
    }
}
