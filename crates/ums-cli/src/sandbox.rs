//! `ums sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]
//! [--retention-secs S] [--strict] [--quiet]`: the simulator, with the same
//! options and output as `ums-sandbox`.

use crate::args::{Args, Spec};
use crate::{output, EXIT_LOCAL};
use ums_sandbox::{serve, Sandbox, SandboxConfig};

pub const SPEC: Spec = Spec {
    flags: &serve::Options::FLAGS,
    valued: &serve::Options::VALUED,
};

pub fn help() -> String {
    format!(
        "\
usage: ums sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]
                   [--retention-secs S] [--strict] [--quiet]

Runs the local ChinaUMS (银联商务) gateway simulator on 127.0.0.1 until
killed, exactly as `ums-sandbox` does. It knows only the public demo app.

options:
{}
  -h, --help               this help

The first line on stdout is `ums-sandbox listening on http://127.0.0.1:PORT`
(its web console), then the demo credentials. Use it with
  ums --environment http://127.0.0.1:PORT call ...
Control endpoints: GET /_sandbox/health, GET /_sandbox/stats, POST /_sandbox/pay,
GET /_sandbox/notifications, GET|POST /_sandbox/clock,
GET|POST|DELETE /_sandbox/faults (see the README).

exit codes: 2 usage error; 5 cannot listen (the port is taken); otherwise it
runs until killed.",
        serve::options_help()
    )
}

fn sandbox_config(args: &Args) -> Result<SandboxConfig, String> {
    if let Some(extra) = args.positionals.first() {
        return Err(format!("unknown argument `{extra}`"));
    }
    serve::Options {
        port: args.value("--port"),
        token_lifetime_secs: args.value("--token-lifetime-secs"),
        clock_skew_secs: args.value("--clock-skew-secs"),
        retention_secs: args.value("--retention-secs"),
        strict: args.flag("--strict"),
        quiet: args.flag("--quiet"),
    }
    .config()
}

pub fn run(_global: &crate::settings::Global, args: &Args) -> Result<u8, String> {
    let config = sandbox_config(args)?;
    let port = config.port;
    let sandbox = match Sandbox::start(config) {
        Ok(sandbox) => sandbox,
        Err(e) => {
            output::err(&format!("ums sandbox: {}", serve::listen_error(port, &e)));
            return Ok(EXIT_LOCAL);
        }
    };
    serve::announce_and_serve(sandbox)
}
