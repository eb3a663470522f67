//! `ums new-id [--count N]`

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, output, EXIT_OK};
use chinaums::clock::{BeijingTime, Clock as _, SystemClock};
use chinaums::error::Error;

pub const SPEC: Spec = Spec {
    flags: &[],
    valued: &["--count", "--config", "--environment"],
};

const MAX_COUNT: u32 = 10_000;

pub fn help() -> String {
    format!(
        "\
usage: ums new-id [--count N]

Prints a new merchant identifier for billNo, merOrderId, refundOrderId or a
self-generated qrCodeId, one per line: the 4-character msgSrcId, Beijing time
as yyyyMMddHHmmssSSS, then 7 digits (28 characters), e.g.
3194202602261336000001234567. Identifiers of one run never repeat.

msgSrcId comes from the configuration (msgSrcId in the --config file, else
UMS_MSG_SRC_ID); with the demo app (environment sandbox, the default, or an
http:// loopback URL without credentials) it defaults to the demo 3194.
Nothing else of the configuration is needed.

options:
  --count N    print N identifiers (1 to {MAX_COUNT}, default 1)
  --config FILE, --environment ENV    see `ums --help`
  -h, --help   this help

exit codes: 0 printed; 2 usage error; 5 no or invalid msgSrcId."
    )
}

fn msg_src_id(global: &Global) -> Result<String, Error> {
    let settings = Settings::load(global)?;
    match settings.text("msgSrcId")? {
        Some(id) => {
            chinaums::ids::check_msg_src_id(id).map_err(|e| settings.annotate(e))?;
            Ok(id.to_string())
        }
        None if settings.demo_app()? => Ok(ums_sandbox::demo::MSG_SRC_ID.to_string()),
        None => Err(Error::config(
            "msgSrcId",
            "is needed to make identifiers: set UMS_MSG_SRC_ID or msgSrcId in the config file",
        )),
    }
}

pub fn run(global: &Global, args: &Args) -> Result<u8, String> {
    if !args.positionals.is_empty() {
        return Err(format!(
            "takes no arguments (got `{}`)",
            args.positionals.join(" ")
        ));
    }
    let count = match args.value("--count") {
        None => 1,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
            _ => {
                return Err(format!(
                    "--count must be a whole number from 1 to {MAX_COUNT}"
                ))
            }
        },
    };
    let result = msg_src_id(global).and_then(|id| {
        (0..count)
            .map(|_| {
                let now = BeijingTime::from_unix_millis(SystemClock.now_unix_millis());
                chinaums::ids::new_id(&id, now)
            })
            .collect::<Result<Vec<_>, _>>()
    });
    match result {
        Ok(ids) => {
            output::out(&ids.join("\n"));
            Ok(EXIT_OK)
        }
        Err(e) => {
            output::err(&format!("ums new-id: {}", e.message));
            Ok(exit_code(e.kind))
        }
    }
}
