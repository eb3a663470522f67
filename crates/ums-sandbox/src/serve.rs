//! Running the simulator as a program: what `ums-sandbox` and `ums sandbox`
//! share (option values, the banner, serving until killed).

use super::{demo, Sandbox, SandboxConfig};
use std::io::Write as _;
use std::time::Duration;

/// The port both programs listen on when none is given.
pub const DEFAULT_PORT: u16 = 8765;

/// A config from the option values given (`--port`, `--token-lifetime-secs`,
/// `--clock-skew-secs`), with a message naming the option on error.
pub fn config_from_options(
    port: Option<&str>,
    token_lifetime_secs: Option<&str>,
    clock_skew_secs: Option<&str>,
) -> Result<SandboxConfig, String> {
    let mut config = SandboxConfig {
        port: DEFAULT_PORT,
        ..SandboxConfig::default()
    };
    if let Some(value) = port {
        config.port = value
            .parse()
            .map_err(|_| format!("--port must be 0..=65535, got `{value}`"))?;
    }
    if let Some(value) = token_lifetime_secs {
        config.token_lifetime = Duration::from_secs(positive_secs("--token-lifetime-secs", value)?);
    }
    if let Some(value) = clock_skew_secs {
        config.clock_skew = Duration::from_secs(positive_secs("--clock-skew-secs", value)?);
    }
    Ok(config)
}

/// The `--retention-secs` value: 1 second to 10 years.
pub fn retention_from_option(value: &str) -> Result<Duration, String> {
    positive_secs("--retention-secs", value).map(Duration::from_secs)
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
        let c = config_from_options(None, None, None).unwrap();
        assert_eq!(c.port, DEFAULT_PORT);
        let c = config_from_options(Some("0"), Some("5"), Some("60")).unwrap();
        assert_eq!(
            (c.port, c.token_lifetime.as_secs(), c.clock_skew.as_secs()),
            (0, 5, 60)
        );
        assert!(config_from_options(Some("70000"), None, None).is_err());
        assert!(config_from_options(None, Some("0"), None).is_err());
        assert!(config_from_options(None, None, Some("x")).is_err());
    }
}
