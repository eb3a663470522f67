//! `ums call <operation|service-path> <request.json|->`

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, input, output, EXIT_OK};
use chinaums::client::{check_service_path, parse_request, MAX_REQUEST_BYTES};
use chinaums::config::AuthMode;
use chinaums::error::{Error, ErrorKind};
use chinaums::ops::{self, Operation};
use chinaums::Client;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    flags: &["--raw", "--dry-run"],
    valued: &["--config", "--environment"],
};

/// The Content-Type the transport sends.
const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

pub fn help() -> String {
    let mut operations = String::new();
    for op in ops::ALL {
        let moves = if op.money_moving { "" } else { "  (read-only)" };
        operations.push_str(&format!("  {:<19}{}{moves}\n", op.name, op.path));
    }
    format!(
        "\
usage: ums call [--raw] [--dry-run] <operation|service-path> <request.json|->

Sends one request to the gateway and prints its answer on stdout. The request
is a JSON object read from a file, or from stdin with `-`. As the library
does, the client fills requestTimestamp, mid, tid and instMid when the request
leaves them out, normalises and validates the fields, signs the exact bytes it
sends (OPEN-BODY-SIG, or OPEN-ACCESS-TOKEN with auth \"token\") and never
resends a call whose outcome may be known to the gateway.

operations:
{operations}  /v1/...            any other service path, sent as given (no field checks)

options:
  --raw        print the answer exactly as received; errors as one-line JSON
  --dry-run    send nothing: print the request that would be sent, as
               {{\"operation\",\"method\",\"url\",\"contentType\",\"moneyMoving\",
               \"auth\",\"body\",\"authorization\"}}; \"body\" is the exact text
               that is signed, \"authorization\" its OPEN-BODY-SIG header (the
               same as `ums sign` prints). In token mode no token is fetched
               and \"authorization\" is null.
  --config FILE, --environment ENV    see `ums --help`
  -h, --help   this help

On success (errCode SUCCESS) the answer goes to stdout, pretty-printed unless
--raw. On failure the error document goes to stderr:
  {{\"status\",\"kind\",\"message\",\"outcomeUnknown\",\"nothingSent\",\"phase\",
   \"field\",\"errCode\",\"errMsg\",\"httpStatus\",\"response\"}}

exit codes:
  0  SUCCESS
  2  usage error (unknown operation, malformed service path, arguments)
  3  the gateway rejected the request (errCode, HTTP 4xx, token refused), or
     reports a final failure (refund refundStatus FAIL)
  4  outcome unknown: query the bill (`ums call query-bill`) before retrying
  5  local error, nothing sent: config, validation (the document names the
     field), bad JSON, connection refused, TLS, unreadable request file
  7  pending: accepted but not final (refund refundStatus PROCESSING or
     UNKNOWN): query until final; never resend

example:
  echo '{{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"31940001\",\"billDate\":\"2020-02-26\",\"totalAmount\":\"26\"}}' \\
    | UMS_MID=898340149000005 UMS_TID=00000001 ums call update-qrcode -"
    )
}

pub fn run(global: &Global, args: &Args) -> Result<u8, String> {
    let [operation, source] = args.positionals.as_slice() else {
        return Err(format!(
            "needs exactly two arguments, <operation|service-path> and <request.json|-> (got {})",
            args.positionals.len()
        ));
    };
    let op = ops::find(operation);
    if op.is_none() {
        if operation.starts_with('/') {
            check_service_path(operation).map_err(|e| e.message.clone())?;
        } else {
            let names: Vec<&str> = ops::ALL.iter().map(|o| o.name).collect();
            return Err(format!(
                "unknown operation `{operation}` (known: {}; or a /v1/... service path)",
                names.join(", ")
            ));
        }
    }
    let raw = args.flag("--raw");
    match execute(global, op, operation, source, args.flag("--dry-run")) {
        Ok(doc) => {
            output::out(&render(&doc, raw));
            Ok(EXIT_OK)
        }
        Err(e) => {
            output::err(&render(
                &Rendered::Json(ums::output::error_document(&e)),
                raw,
            ));
            Ok(exit_code(e.kind))
        }
    }
}

/// What a successful call prints.
enum Rendered {
    /// The gateway's answer: its exact text and its parsed form.
    Answer(String, Value),
    Json(Value),
}

fn render(doc: &Rendered, raw: bool) -> String {
    let value = match doc {
        Rendered::Answer(text, _) if raw => return text.clone(),
        Rendered::Answer(_, value) | Rendered::Json(value) => value,
    };
    let text = if raw {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    text.unwrap_or_else(|_| value.to_string())
}

fn execute(
    global: &Global,
    op: Option<&'static Operation>,
    operation: &str,
    source: &str,
    dry_run: bool,
) -> Result<Rendered, Error> {
    let settings = Settings::load(global)?;
    let config = settings.config()?;
    let auth = config.auth;
    let client = Client::new(config).map_err(|e| settings.annotate(e))?;

    let bytes = input::read(source, MAX_REQUEST_BYTES + 1)
        .map_err(|message| Error::new(ErrorKind::InvalidArgument, message))?;
    let mut request = String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidJson,
            "the request is not UTF-8 text (ChinaUMS requests are UTF-8 JSON)",
        )
    })?;
    if request.starts_with('\u{feff}') {
        // A byte-order mark some editors add: not part of the JSON.
        request.drain(..'\u{feff}'.len_utf8());
    }

    if dry_run {
        let prepared = client.prepare_call(operation, &request, client.now())?;
        let mut doc = Map::new();
        doc.insert(
            "operation".into(),
            op.map_or(Value::Null, |o| o.name.into()),
        );
        doc.insert("method".into(), "POST".into());
        doc.insert("url".into(), prepared.url.clone().into());
        doc.insert("contentType".into(), CONTENT_TYPE.into());
        doc.insert("moneyMoving".into(), prepared.money_moving.into());
        let body = String::from_utf8_lossy(&prepared.body).into_owned();
        match auth {
            AuthMode::BodySig => {
                doc.insert("auth".into(), "body-sig".into());
                doc.insert("body".into(), body.into());
                doc.insert(
                    "authorization".into(),
                    client.authorization_for(&prepared.body).into(),
                );
            }
            AuthMode::Token => {
                doc.insert("auth".into(), "token".into());
                doc.insert("body".into(), body.into());
                doc.insert("authorization".into(), Value::Null);
                doc.insert(
                    "note".into(),
                    "token mode: the OPEN-ACCESS-TOKEN header is made when sending; a dry run fetches no token and never shows one".into(),
                );
            }
        }
        return Ok(Rendered::Json(Value::Object(doc)));
    }

    let answer = match op {
        Some(op) => client.execute(op, parse_request(&request)?)?,
        None => client.call(operation, &request)?,
    };
    Ok(Rendered::Answer(answer.text, answer.value))
}
