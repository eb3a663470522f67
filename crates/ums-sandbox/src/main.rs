//! `ums-sandbox`: runs the local ChinaUMS gateway simulator until killed.
//!
//! The first line on stdout is always `ums-sandbox listening on
//! http://127.0.0.1:PORT`, so scripts (C, Python, PHP, Java tests) can start
//! it with `--port 0` and read the port from that line.

use std::process::ExitCode;
use ums_sandbox::{serve, Sandbox, SandboxConfig};

/// The help text: the options are described once, in `serve::options_help`.
fn usage() -> String {
    format!(
        "\
usage: ums-sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]
                   [--retention-secs S] [--strict] [--quiet]

Runs the local ChinaUMS (银联商务) gateway simulator on 127.0.0.1 until killed.

options:
{}
  -V, --version            print the version
  -h, --help               print this help

The first line on stdout is `ums-sandbox listening on http://127.0.0.1:PORT`.
The web console is at that address. Control endpoints: GET /_sandbox/health,
GET /_sandbox/stats, POST /_sandbox/pay, GET /_sandbox/notifications,
GET|POST /_sandbox/clock, GET|POST|DELETE /_sandbox/faults (see the README).
Each request is logged on stderr (method, path, appId, errCode, ms) unless --quiet.",
        serve::options_help()
    )
}

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    Run(SandboxConfig),
    Help,
    Version,
}

/// The option values, `Help` or `Version`.
fn parse_args(args: &[String]) -> Result<Command, String> {
    let (mut port, mut lifetime, mut skew, mut retention) = (None, None, None, None);
    let (mut strict, mut quiet) = (false, false);
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        match arg {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--strict" | "--quiet" => {
                *(if arg == "--strict" {
                    &mut strict
                } else {
                    &mut quiet
                }) = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        let slot = match name {
            "--port" => &mut port,
            "--token-lifetime-secs" => &mut lifetime,
            "--clock-skew-secs" => &mut skew,
            "--retention-secs" => &mut retention,
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
    let options = serve::Options {
        port: port.as_deref(),
        token_lifetime_secs: lifetime.as_deref(),
        clock_skew_secs: skew.as_deref(),
        retention_secs: retention.as_deref(),
        strict,
        quiet,
    };
    Ok(Command::Run(options.config()?))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_args(&args) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("ums-sandbox {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("ums-sandbox: {message}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let port = config.port;
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("ums-sandbox: {}", serve::listen_error(port, &e));
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

    fn config(list: &[&str]) -> SandboxConfig {
        match parse_args(&args(list)) {
            Ok(Command::Run(config)) => config,
            other => panic!("{list:?}: {other:?}"),
        }
    }

    #[test]
    fn parses_options() {
        let c = config(&[]);
        assert!(c.log_requests && !c.strict_types);
        assert_eq!(c.bill_retention.as_secs(), 86_400);
        let c = config(&["--quiet", "--strict", "--retention-secs", "60"]);
        assert!(!c.log_requests && c.strict_types);
        assert_eq!(c.bill_retention.as_secs(), 60);
        assert!(matches!(
            parse_args(&args(&["--version"])),
            Ok(Command::Version)
        ));
        assert!(matches!(parse_args(&args(&["-V"])), Ok(Command::Version)));
        assert!(parse_args(&args(&["--retention-secs", "0"])).is_err());
        assert_eq!(c.port, serve::DEFAULT_PORT);
        let c = config(&[
            "--port",
            "0",
            "--token-lifetime-secs=5",
            "--clock-skew-secs",
            "60",
        ]);
        assert_eq!(
            (c.port, c.token_lifetime.as_secs(), c.clock_skew.as_secs()),
            (0, 5, 60)
        );
        assert!(matches!(parse_args(&args(&["--help"])), Ok(Command::Help)));
        assert!(parse_args(&args(&["--port"])).is_err());
        assert!(parse_args(&args(&["--port", "70000"])).is_err());
        assert!(parse_args(&args(&["--clock-skew-secs", "0"])).is_err());
        assert!(parse_args(&args(&["--verbose"])).is_err());
    }
}
