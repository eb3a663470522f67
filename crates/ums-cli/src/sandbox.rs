//! `ums sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]
//! [--retention-secs S] [--strict] [--quiet]`: the simulator, with the same
//! options and output as `ums-sandbox`.

use crate::args::{Args, Spec};
use crate::{output, EXIT_LOCAL};
use ums_sandbox::{serve, Sandbox, SandboxConfig};

pub const SPEC: Spec = Spec {
    flags: &["--strict", "--quiet"],
    valued: &[
        "--port",
        "--token-lifetime-secs",
        "--clock-skew-secs",
        "--retention-secs",
    ],
};

pub fn help() -> String {
    format!(
        "\
usage: ums sandbox [--port N] [--token-lifetime-secs S] [--clock-skew-secs S]
                   [--retention-secs S] [--strict] [--quiet]

Runs the local ChinaUMS (银联商务) gateway simulator on 127.0.0.1 until
killed, exactly as `ums-sandbox` does. It knows only the public demo app.

options:
  --port N                 port to listen on (default {}; 0 picks a free port)
  --token-lifetime-secs S  access-token lifetime in seconds (default 3600)
  --clock-skew-secs S      tolerated timestamp skew and nonce-replay window in
                           seconds (default 300)
  --retention-secs S       settled bills are forgotten S seconds of simulator
                           time after their last change (default 86400)
  --strict                 amounts only as JSON integers (the documented type);
                           by default a string of digits (\"26\") is accepted too
  --quiet                  no log line per request on stderr
  -h, --help               this help

The first line on stdout is `ums-sandbox listening on http://127.0.0.1:PORT`
(its web console), then the demo credentials. Use it with
  ums --environment http://127.0.0.1:PORT call ...
Control endpoints: GET /_sandbox/health, GET /_sandbox/stats, POST /_sandbox/pay,
GET /_sandbox/notifications, GET|POST /_sandbox/clock,
GET|POST|DELETE /_sandbox/faults (see the README).

exit codes: 2 usage error; 5 cannot listen (the port is taken); otherwise it
runs until killed.",
        serve::DEFAULT_PORT
    )
}

fn sandbox_config(args: &Args) -> Result<SandboxConfig, String> {
    if let Some(extra) = args.positionals.first() {
        return Err(format!("unknown argument `{extra}`"));
    }
    let mut config = serve::config_from_options(
        args.value("--port"),
        args.value("--token-lifetime-secs"),
        args.value("--clock-skew-secs"),
    )?;
    if let Some(value) = args.value("--retention-secs") {
        config.bill_retention = serve::retention_from_option(value)?;
    }
    config.strict_types = args.flag("--strict");
    config.log_requests = !args.flag("--quiet");
    Ok(config)
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
