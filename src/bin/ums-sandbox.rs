//! `ums-sandbox`: runs the local ChinaUMS gateway simulator until killed.
//!
//! The first line on stdout is always `ums-sandbox listening on
//! http://127.0.0.1:PORT`, so scripts (C, Python, PHP, Java tests) can start
//! it with `--port 0` and read the port from that line.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;
use ums::sandbox::{demo, Sandbox, SandboxConfig};

const USAGE: &str = "\
usage: ums-sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]

Runs the local ChinaUMS (银联商务) gateway simulator on 127.0.0.1 until killed.

options:
  --port N                 port to listen on (default 8765; 0 picks a free port)
  --token-lifetime-secs S  access-token lifetime in seconds (default 3600)
  --clock-skew-secs S      tolerated timestamp skew and nonce-replay window in
                           seconds (default 300)
  -h, --help               print this help

The first line on stdout is `ums-sandbox listening on http://127.0.0.1:PORT`.
Control endpoints: GET /_sandbox/health, GET /_sandbox/stats.";

const DEFAULT_PORT: u16 = 8765;

fn parse_args(args: &[String]) -> Result<Option<SandboxConfig>, String> {
    let mut config = SandboxConfig {
        port: DEFAULT_PORT,
        ..SandboxConfig::default()
    };
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        if !matches!(
            name,
            "--port" | "--token-lifetime-secs" | "--clock-skew-secs"
        ) {
            return Err(format!("unknown argument `{arg}`"));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?
            }
        };
        match name {
            "--port" => {
                config.port = value
                    .parse()
                    .map_err(|_| format!("--port must be 0..=65535, got `{value}`"))?;
            }
            "--token-lifetime-secs" => {
                config.token_lifetime = Duration::from_secs(positive_secs(name, &value)?);
            }
            _ => {
                config.clock_skew = Duration::from_secs(positive_secs(name, &value)?);
            }
        }
        i += 1;
    }
    Ok(Some(config))
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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("ums-sandbox: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("ums-sandbox: cannot listen on 127.0.0.1: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout (nobody reading) must not stop the server: ignore errors.
    let _ = writeln!(out, "ums-sandbox listening on {}", sandbox.base_url())
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

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_options() {
        let c = parse_args(&args(&[])).unwrap().unwrap();
        assert_eq!(c.port, DEFAULT_PORT);
        let c = parse_args(&args(&[
            "--port",
            "0",
            "--token-lifetime-secs=5",
            "--clock-skew-secs",
            "60",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (c.port, c.token_lifetime.as_secs(), c.clock_skew.as_secs()),
            (0, 5, 60)
        );
        assert!(parse_args(&args(&["--help"])).unwrap().is_none());
        assert!(parse_args(&args(&["--port"])).is_err());
        assert!(parse_args(&args(&["--port", "70000"])).is_err());
        assert!(parse_args(&args(&["--clock-skew-secs", "0"])).is_err());
        assert!(parse_args(&args(&["--verbose"])).is_err());
    }
}
