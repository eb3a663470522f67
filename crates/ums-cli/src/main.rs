//! `ums`: the command-line tool for people who operate or debug a ChinaUMS
//! (银联商务) integration, on the same core as the library: `call` an
//! operation, `sign` a body, `verify-notify` a notification, make a `new-id`,
//! run the `sandbox`. See `ums --help`.
//!
//! It never prints the app key, tokens or the notification key: every secret
//! it reads is registered with [`output`], which masks it in all output.

mod args;
mod call;
mod input;
mod json_syntax;
mod message;
mod new_id;
mod notify;
mod output;
mod qr;
mod resolve;
mod sandbox;
mod settings;
mod sign;
mod verbose;

use chinaums::error::ErrorKind;
use settings::Global;
use std::process::ExitCode;

/// Success (verify-notify: the notification is valid).
pub const EXIT_OK: u8 = 0;
/// Unknown command or option, missing or extra argument.
pub const EXIT_USAGE: u8 = 2;
/// The gateway refused the request (or refused a token).
pub const EXIT_REJECTED: u8 = 3;
/// The request may have reached the gateway and its effect is unknown.
pub const EXIT_OUTCOME_UNKNOWN: u8 = 4;
/// Config, validation, bad JSON, connection, TLS, I/O: nothing was sent.
pub const EXIT_LOCAL: u8 = 5;
/// verify-notify: the notification is invalid.
pub const EXIT_NOTIFY_INVALID: u8 = 6;
/// Accepted but not final (`refundStatus` PROCESSING, ...): query until final.
pub const EXIT_PENDING: u8 = 7;

/// The exit code for a failure of the library.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::GatewayRejected | ErrorKind::TokenRejected | ErrorKind::OperationFailed => {
            EXIT_REJECTED
        }
        ErrorKind::Pending => EXIT_PENDING,
        ErrorKind::OutcomeUnknown => EXIT_OUTCOME_UNKNOWN,
        ErrorKind::NotifyBadSignature
        | ErrorKind::NotifyMissingSign
        | ErrorKind::NotifyUnknownSignType
        | ErrorKind::NotifyDuplicateField
        | ErrorKind::NotifyMalformed => EXIT_NOTIFY_INVALID,
        ErrorKind::Config
        | ErrorKind::Validation
        | ErrorKind::InvalidJson
        | ErrorKind::InvalidArgument
        | ErrorKind::Connect
        | ErrorKind::Tls
        | ErrorKind::Internal => EXIT_LOCAL,
    }
}

/// One command of the tool.
struct Command {
    name: &'static str,
    summary: &'static str,
    spec: &'static args::Spec,
    help: fn() -> String,
    /// Runs the command; `Err` is a usage error (exit 2).
    run: fn(&Global, &args::Args) -> Result<u8, String>,
    /// Whether `--config` / `--environment` mean anything to it.
    uses_config: bool,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "call",
        summary: "send a request, print the gateway's answer",
        spec: &call::SPEC,
        help: call::help,
        run: call::run,
        uses_config: true,
    },
    Command {
        name: "sign",
        summary: "print the OPEN-BODY-SIG Authorization header for a body",
        spec: &sign::SPEC,
        help: sign::help,
        run: sign::run,
        uses_config: true,
    },
    Command {
        name: "verify-notify",
        summary: "verify a raw payment-notification body",
        spec: &notify::SPEC,
        help: notify::help,
        run: notify::run,
        uses_config: true,
    },
    Command {
        name: "new-id",
        summary: "print a new merchant identifier (billNo, merOrderId, ...)",
        spec: &new_id::SPEC,
        help: new_id::help,
        run: new_id::run,
        uses_config: true,
    },
    Command {
        name: "resolve",
        summary: "find out what became of a call whose outcome is unknown",
        spec: &resolve::SPEC,
        help: resolve::help,
        run: resolve::run,
        uses_config: true,
    },
    Command {
        name: "qr",
        summary: "print a QR code (a billQRCode, ...) in the terminal, or as SVG",
        spec: &qr::SPEC,
        help: qr::help,
        run: qr::run,
        uses_config: false,
    },
    Command {
        name: "sandbox",
        summary: "run the local gateway simulator (as ums-sandbox)",
        spec: &sandbox::SPEC,
        help: sandbox::help,
        run: sandbox::run,
        uses_config: false,
    },
];

fn find_command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// The tool's help.
fn help() -> String {
    let mut commands = String::new();
    for c in COMMANDS {
        commands.push_str(&format!("  {:<16}{}\n", c.name, c.summary));
    }
    commands.push_str(&format!(
        "  {:<16}{}\n",
        "help [COMMAND]", "this help, or a command's"
    ));
    let mut env = String::new();
    for (var, key, _) in settings::ENV_KEYS {
        env.push_str(&format!("  {var:<24}{key}\n"));
    }
    format!(
        "\
ums {version} — command-line client for the ChinaUMS (银联商务) Open Platform
(bills QR codes), on the same core as libums.

usage: ums [--config FILE] [--environment ENV] [-v] <command> [options] [arguments]
       ums <command> --help      (or: ums help <command>)
       ums --version

commands:
{commands}
global options (also accepted after the command):
  --config FILE        JSON configuration: the library's keys (appId, appKey,
                       environment, auth, mid, tid, instMid, msgSrc, msgSrcId,
                       notifyKey, timeoutMs, ...: those listed below, and
                       the others of the README's configuration table)
  --environment ENV    test | production | sandbox | https://host[:port]
                       (http:// only for loopback, e.g. a `ums sandbox`);
                       overrides the file and UMS_ENVIRONMENT; another
                       name is a usage error
  -v, --verbose        print the library's log lines on stderr: each request
                       sent, its HTTP status and errCode, the time taken,
                       retries, token fetches (never keys, signatures or
                       tokens)
  -h, --help           this help
  -V, --version        print the version

configuration:
  A key set in the --config file wins; a key the file leaves out is taken
  from its environment variable; --environment overrides both. Empty
  variables count as unset. appId and appKey go together: one without the
  other is a config error.
{env}
  With no credentials at all the environment is \"sandbox\": a simulator
  started inside this ums process with the public demo app, so its state
  lasts for one command. For state that persists across commands run
  `ums sandbox --port 8765` and pass --environment http://127.0.0.1:8765:
  an http:// (loopback) environment without appId and appKey also uses the
  demo app (appId, appKey, msgSrc, msgSrcId, notifyKey) and its demo
  merchant (mid, tid) for what the configuration leaves out.
  The app key, access tokens and the notification key are never printed:
  not in answers, errors or dry runs.

exit codes:
  0  success (verify-notify: the notification is valid)
  2  usage error: unknown command or option, missing or extra argument,
     an --environment that is no environment
  3  the gateway rejected the request (an errCode other than SUCCESS, HTTP
     4xx, or the token endpoint refused a token), or processed it and
     reports a final failure (refund refundStatus FAIL)
  4  outcome unknown (errCode TIMEOUT, NET_ERROR, ORDER_PROCESSING,
     INTERNAL_ERROR, INVALID_ORDER or INVALID_RESPONSE, HTTP 5xx, any failure
     after the request's first byte was written):
     the gateway may have done it. `ums resolve` the error document (or
     query the bill) before retrying; never resend a money-moving call blindly
  5  local error, nothing was sent: config, validation, bad JSON, connection
     refused, TLS, I/O
  6  verify-notify: the notification is invalid
  7  pending: accepted but not final (refund refundStatus PROCESSING or
     UNKNOWN): query until final; never resend (resolve: ask again later)
  8  resolve: not applied, safe to send again
  9  resolve: cannot tell (no proof in the protocol); never resend blindly",
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// `ums help --help`.
const HELP_HELP: &str = "\
usage: ums help [COMMAND]

Prints the tool's help, or a command's (the same as `ums COMMAND --help`).";

/// Takes `-v` / `--verbose` out of a command's arguments (before any `--`),
/// so that it is global wherever it is written; true if it was there.
fn take_verbose(args: &mut Vec<String>) -> bool {
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let before = args.len();
    let mut index = 0;
    args.retain(|a| {
        index += 1;
        index > end || (a != "-v" && a != "--verbose")
    });
    args.len() != before
}

fn usage_error(command: Option<&str>, message: &str) -> ExitCode {
    match command {
        Some(name) => output::err(&format!("ums {name}: {message}\nTry `ums {name} --help`.")),
        None => output::err(&format!("ums: {message}\nTry `ums --help`.")),
    }
    ExitCode::from(EXIT_USAGE)
}

/// Command-line arguments as UTF-8, or the position of the first one that is not.
fn utf8_args() -> Result<Vec<String>, usize> {
    std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, a)| a.into_string().map_err(|_| i + 1))
        .collect()
}

/// Takes `--config` / `--environment` (with `=` or a separate value).
fn take_global(
    arg: &str,
    rest: &mut std::slice::Iter<'_, String>,
    global: &mut Global,
) -> Result<bool, String> {
    let (name, inline) = match arg.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (arg, None),
    };
    let slot = match name {
        "--config" => &mut global.config_file,
        "--environment" => &mut global.environment,
        _ => return Ok(false),
    };
    let value = match inline {
        Some(v) => v,
        None => rest
            .next()
            .cloned()
            .ok_or_else(|| format!("{name} needs a value"))?,
    };
    if slot.replace(value).is_some() {
        return Err(format!("{name} is given twice"));
    }
    Ok(true)
}

fn main() -> ExitCode {
    let args = match utf8_args() {
        Ok(args) => args,
        Err(position) => {
            return usage_error(None, &format!("argument {position} is not valid UTF-8"))
        }
    };
    let mut global = Global::default();
    let mut iter = args.iter();
    let command = loop {
        let Some(arg) = iter.next() else {
            output::err(&help());
            return ExitCode::from(EXIT_USAGE);
        };
        match arg.as_str() {
            "-h" | "--help" => {
                output::out(&help());
                return ExitCode::SUCCESS;
            }
            "-V" | "--version" => {
                output::out(&format!("ums {}", env!("CARGO_PKG_VERSION")));
                return ExitCode::SUCCESS;
            }
            "-v" | "--verbose" => global.verbose = true,
            a if a.starts_with('-') => match take_global(a, &mut iter, &mut global) {
                Ok(true) => {}
                Ok(false) => return usage_error(None, &format!("unknown option `{a}`")),
                Err(message) => return usage_error(None, &message),
            },
            a => break a.to_string(),
        }
    };
    let mut rest: Vec<String> = iter.cloned().collect();
    global.verbose |= take_verbose(&mut rest);

    if command == "help" {
        return match rest.as_slice() {
            [] => {
                output::out(&help());
                ExitCode::SUCCESS
            }
            [flag] if flag == "-h" || flag == "--help" || flag == "help" => {
                output::out(HELP_HELP);
                ExitCode::SUCCESS
            }
            [name] => match find_command(name) {
                Some(c) => {
                    output::out(&(c.help)());
                    ExitCode::SUCCESS
                }
                None => usage_error(None, &format!("unknown command `{name}`")),
            },
            _ => usage_error(Some("help"), "takes at most one command name"),
        };
    }
    let Some(cmd) = find_command(&command) else {
        return usage_error(None, &format!("unknown command `{command}`"));
    };
    if args::wants_help(&rest) {
        output::out(&(cmd.help)());
        return ExitCode::SUCCESS;
    }
    let parsed = match args::parse(&rest, cmd.spec) {
        Ok(parsed) => parsed,
        Err(message) => return usage_error(Some(cmd.name), &message),
    };
    for (name, slot) in [
        ("--config", &mut global.config_file),
        ("--environment", &mut global.environment),
    ] {
        if let Some(value) = parsed.value(name) {
            if slot.replace(value.to_string()).is_some() {
                return usage_error(Some(cmd.name), &format!("{name} is given twice"));
            }
        }
    }
    if !cmd.uses_config && (global.config_file.is_some() || global.environment.is_some()) {
        return usage_error(
            Some(cmd.name),
            "takes no --config or --environment (it needs no configuration)",
        );
    }
    if let Some(environment) = &global.environment {
        if let Err(message) = settings::check_environment(environment) {
            return usage_error(Some(cmd.name), &format!("--environment: {message}"));
        }
    }
    if global.verbose {
        verbose::enable();
    }
    match (cmd.run)(&global, &parsed) {
        Ok(code) => ExitCode::from(code),
        Err(message) => usage_error(Some(cmd.name), &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_a_documented_exit_code() {
        assert_eq!(exit_code(ErrorKind::GatewayRejected), 3);
        assert_eq!(exit_code(ErrorKind::OutcomeUnknown), 4);
        assert_eq!(exit_code(ErrorKind::Connect), 5);
        assert_eq!(exit_code(ErrorKind::NotifyMalformed), 6);
    }

    #[test]
    fn help_lists_every_command_and_variable() {
        let text = help();
        for c in COMMANDS {
            assert!(text.contains(c.name));
            assert!((c.help)().contains(c.name));
        }
        for (var, _, _) in settings::ENV_KEYS {
            assert!(text.contains(var));
        }
    }
}
