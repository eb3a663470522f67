//! `ums-sandbox`: runs the local ChinaUMS gateway simulator until killed.
//!
//! The first line on stdout is always `ums-sandbox listening on
//! http://127.0.0.1:PORT`, so scripts (C, Python, PHP, Java tests) can start
//! it with `--port 0` and read the port from that line.

use std::process::ExitCode;
use ums_sandbox::{serve, Sandbox, SandboxConfig};

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
Control endpoints: GET /_sandbox/health, GET /_sandbox/stats, POST /_sandbox/pay,
GET /_sandbox/notifications, GET|POST /_sandbox/clock (see the README).";

/// The option values, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<SandboxConfig>, String> {
    let (mut port, mut lifetime, mut skew) = (None, None, None);
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
        let slot = match name {
            "--port" => &mut port,
            "--token-lifetime-secs" => &mut lifetime,
            "--clock-skew-secs" => &mut skew,
            _ => return Err(format!("unknown argument `{arg}`")),
        };
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value"))?
            }
        };
        *slot = Some(value);
        i += 1;
    }
    serve::config_from_options(port.as_deref(), lifetime.as_deref(), skew.as_deref()).map(Some)
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
    serve::announce_and_serve(sandbox)
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
        assert_eq!(c.port, serve::DEFAULT_PORT);
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
