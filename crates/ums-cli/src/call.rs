//! `ums call <operation|service-path> <request.json|->`

use crate::args::{Args, Spec};
use crate::settings::{Global, Settings};
use crate::{exit_code, input, json_syntax, message, output, EXIT_OK};
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
does, the client fills requestTimestamp, mid, tid and instMid from the
configuration when the request leaves them out, normalises and validates the
fields, signs the exact bytes it sends (OPEN-BODY-SIG, or OPEN-ACCESS-TOKEN
with auth \"token\") and never resends a call whose outcome may be known to
the gateway. On the simulator's demo app (no credentials; `ums --help`) mid
and tid default to its demo merchant, 898340149000005 and 00000001; never on
test or production.

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
  --config FILE, --environment ENV, -v    see `ums --help`
  -h, --help   this help

On success (errCode SUCCESS) the answer goes to stdout, pretty-printed unless
--raw. On failure the error document goes to stderr:
  {{\"status\",\"kind\",\"message\",\"outcomeUnknown\",\"nothingSent\",\"phase\",
   \"field\",\"errCode\",\"errMsg\",\"httpStatus\",\"response\"}}
Its \"message\" is for people: what the gateway said (`gateway rejected:
DUP_ORDER 账单号重复`), the field at fault, the file and position of bad
JSON, the host:port a connection failed to, and what to do next when the
outcome is unknown or pending.

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

example (no configuration: the simulator's demo app and merchant):
  echo '{{\"qrCodeId\":\"31942002267733902130410550\",\"billNo\":\"31940001\",\"totalAmount\":26}}' \\
    | ums call update-qrcode -"
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
    let mut context = message::Context {
        read_only: op.is_some_and(|o| !o.money_moving),
        ..message::Context::default()
    };
    let dry_run = args.flag("--dry-run");
    match execute(global, op, operation, source, dry_run, &mut context.gateway) {
        Ok(doc) => {
            output::out(&render(&doc, raw));
            Ok(EXIT_OK)
        }
        Err(e) => {
            let mut doc = ums::output::error_document(&e);
            context.resolvable = doc.get("resolveWith").is_some();
            doc["message"] = message::explain(&e, &context).into();
            output::err(&render(&Rendered::Json(doc), raw));
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
    gateway: &mut Option<message::Gateway>,
) -> Result<Rendered, Error> {
    let settings = Settings::load(global)?;
    let config = settings.config()?;
    let auth = config.auth;
    let target = message::Gateway::of(&config);
    crate::verbose::say(|| {
        format!(
            "gateway {}, appId {}, auth {}",
            target.describe(),
            config.app_id,
            auth.as_str()
        )
    });
    *gateway = Some(target);
    let client = Client::new(config).map_err(|e| settings.annotate(e))?;

    let bytes = input::read(source, MAX_REQUEST_BYTES + 1)
        .map_err(|message| Error::new(ErrorKind::InvalidArgument, message))?;
    let name = if source == "-" { "stdin" } else { source };
    let mut request = String::from_utf8(bytes).map_err(|e| {
        let problem = json_syntax::check_utf8(e.as_bytes()).unwrap_or_default();
        Error::new(ErrorKind::InvalidJson, format!("{name}: {problem}"))
    })?;
    if request.starts_with('\u{feff}') {
        // A byte-order mark some editors add: not part of the JSON.
        request.drain(..'\u{feff}'.len_utf8());
    }
    // Checked here to name the file and say what was expected; the library
    // checks the rest (one object, no repeated key), also named by file.
    if let Some(problem) = json_syntax::check(&request) {
        return Err(Error::new(
            ErrorKind::InvalidJson,
            format!("{name}: {problem}"),
        ));
    }
    let in_file = |mut e: Error| {
        if e.kind == ErrorKind::InvalidJson {
            e.message = format!("{name}: {}", e.message);
        }
        e
    };

    if dry_run {
        let prepared = client
            .prepare_call(operation, &request, client.now())
            .map_err(in_file)?;
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
        Some(op) => client.execute(op, parse_request(&request).map_err(in_file)?)?,
        None => client.call(operation, &request).map_err(in_file)?,
    };
    Ok(Rendered::Answer(answer.text, answer.value))
}
