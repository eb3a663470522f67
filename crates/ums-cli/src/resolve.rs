//! `ums resolve <input.json|->`, `ums resolve --pending`,
//! `ums resolve --all-pending`, `ums resolve --table`: what became of a
//! money-moving call whose outcome is unknown (the library's `resolve`).

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, input, output, EXIT_OK};
use chinaums::client::MAX_REQUEST_BYTES;
use chinaums::error::{Error, ErrorKind};
use chinaums::resolve::Verdict;
use chinaums::Client;
use serde_json::Value;

pub const SPEC: Spec = Spec {
    flags: &["--raw", "--pending", "--all-pending", "--table"],
    valued: &["--config", "--environment"],
};

/// The verdict "not applied": safe to send again.
pub const EXIT_NOT_APPLIED: u8 = 8;
/// The verdict "cannot tell": the protocol offers no proof.
pub const EXIT_CANNOT_TELL: u8 = 9;

pub fn help() -> String {
    "\
usage: ums resolve [--raw] <input.json|->
       ums resolve --pending        list the journal's open entries
       ums resolve --all-pending    resolve every open entry of the journal
       ums resolve --table          print the resolve table

Finds out from the gateway what became of a money-moving call whose outcome
is unknown, with read-only queries (query-bill, query-qrcode-info) only: it
never sends the request again. The input is the error document the call
printed (its \"resolveWith\"), {\"operation\":\"refund\",\"request\":{...}}
(the request as sent, with its requestTimestamp; for secure-complete and
secure-cancel add \"bill\":{\"billNo\",\"billDate\"}), or an entry of
--pending. The journal is the configuration's \"journal\" file.

It prints {\"verdict\",\"safeToResend\",\"operation\",\"message\",\"evidence\",
\"retryAfter\",\"request\",\"journalId\",\"journalClosed\"}. A request not found
at the gateway is \"pending\" until it can no longer arrive
(requestTimestamp + 2 x resolveWindowSeconds + 60 s), then \"not_applied\".

options:
  --raw        one-line JSON
  --config FILE, --environment ENV, -v    see `ums --help`
  -h, --help   this help

exit codes:
  0  applied: do not send the request again (--all-pending: every entry
     is now closed)
  7  pending: ask again after retryAfter (--all-pending: some entries stay
     open)
  8  not applied: safe to send the request again
  9  cannot tell: the protocol offers no proof for this request (see
     --table); never resend blindly
  2  usage error
  4, 5  the confirming query failed (as for `ums call`); nothing was resent:
     run it again. 5 also for bad input or a config without \"journal\"
"
    .to_string()
}

pub fn run(global: &Global, args: &Args) -> Result<u8, String> {
    let raw = args.flag("--raw");
    let modes = ["--pending", "--all-pending", "--table"]
        .iter()
        .filter(|m| args.flag(m))
        .count();
    if modes > 1 {
        return Err("--pending, --all-pending and --table go alone".into());
    }
    if args.flag("--table") {
        output::out(&chinaums::resolve::table::markdown());
        return Ok(EXIT_OK);
    }
    let source = match (modes, args.positionals.as_slice()) {
        (0, [source]) => Some(source.as_str()),
        (0, other) => {
            return Err(format!(
                "needs exactly one argument, <input.json|-> (got {})",
                other.len()
            ))
        }
        (_, []) => None,
        (_, _) => return Err("--pending and --all-pending take no argument".into()),
    };
    let result = client(global).and_then(|client| match source {
        Some(source) => resolve_one(&client, source),
        None if args.flag("--pending") => pending(&client),
        None => resolve_all(&client),
    });
    match result {
        Ok((doc, code)) => {
            output::out(&render(&doc, raw));
            Ok(code)
        }
        Err(e) => {
            output::err(&render(&ums::output::error_document(&e), raw));
            Ok(exit_code(e.kind))
        }
    }
}

fn render(doc: &Value, raw: bool) -> String {
    let text = if raw {
        serde_json::to_string(doc)
    } else {
        serde_json::to_string_pretty(doc)
    };
    text.unwrap_or_else(|_| doc.to_string())
}

fn client(global: &Global) -> Result<Client, Error> {
    let settings = Settings::load(global)?;
    let config = settings.config()?;
    Client::new(config).map_err(|e| settings.annotate(e))
}

/// The exit code of a verdict.
pub fn verdict_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Applied => EXIT_OK,
        Verdict::Pending => crate::EXIT_PENDING,
        Verdict::NotApplied => EXIT_NOT_APPLIED,
        Verdict::CannotTell => EXIT_CANNOT_TELL,
    }
}

fn resolve_one(client: &Client, source: &str) -> Result<(Value, u8), Error> {
    let bytes = input::read(source, MAX_REQUEST_BYTES + 1)
        .map_err(|message| Error::new(ErrorKind::InvalidArgument, message))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::new(ErrorKind::InvalidJson, "the input is not UTF-8 text"))?;
    let resolution = client.resolve_json(text.trim_start_matches('\u{feff}'))?;
    Ok((resolution.to_json(), verdict_code(resolution.verdict)))
}

fn pending(client: &Client) -> Result<(Value, u8), Error> {
    let entries = client.journal_pending()?;
    Ok((chinaums::journal::pending_json(&entries), EXIT_OK))
}

/// Resolves every open entry; a query that fails stops the run (what was
/// resolved so far stays resolved in the journal).
fn resolve_all(client: &Client) -> Result<(Value, u8), Error> {
    let mut verdicts = Vec::new();
    let mut all_closed = true;
    for entry in client.journal_pending()? {
        let resolution = client.resolve(entry.record, Some(entry.id))?;
        all_closed &= resolution.journal_closed;
        verdicts.push(resolution.to_json());
    }
    let code = if all_closed {
        EXIT_OK
    } else {
        crate::EXIT_PENDING
    };
    Ok((
        serde_json::json!({"count": verdicts.len(), "resolved": verdicts}),
        code,
    ))
}
