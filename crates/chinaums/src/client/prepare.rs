//! Building a request: defaults, normalisation and validation, then one
//! serialisation; these exact bytes are signed and sent.

use super::{Client, PreparedRequest, MAX_REQUEST_BYTES};
use crate::clock::BeijingTime;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{self, rules, Operation};
use serde_json::{Map, Value};

impl Client {
    /// Prepares a call by operation name or service path without sending it
    /// (what [`Client::call`] would send).
    pub fn prepare_call(
        &self,
        operation: &str,
        request_json: &str,
        now: BeijingTime,
    ) -> Result<PreparedRequest> {
        let request = parse_request(request_json)?;
        match ops::find(operation) {
            Some(op) => self.prepare_at(op, request, now),
            None if operation.starts_with('/') => {
                check_service_path(operation)?;
                self.prepare_raw(operation, &request, true)
            }
            None => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown operation `{}` (use a known name or a /v1/... service path)",
                    crate::error::clip(operation)
                ),
            )),
        }
    }

    /// Fills defaults, normalises and validates `request` for `op`, and
    /// serialises it once: these bytes are what gets signed and sent.
    pub fn prepare(
        &self,
        op: &'static Operation,
        request: Map<String, Value>,
    ) -> Result<PreparedRequest> {
        self.prepare_at(op, request, self.now())
    }

    /// As [`Client::prepare`], with `requestTimestamp` defaulting to `now`
    /// (reproducible requests).
    ///
    /// A request that is exactly `{"data": {...}}` (the official SDKs'
    /// `needDataTag` envelope) has its inner object prepared and is sent
    /// wrapped.
    pub fn prepare_at(
        &self,
        op: &'static Operation,
        mut request: Map<String, Value>,
        now: BeijingTime,
    ) -> Result<PreparedRequest> {
        if let Some(Value::Object(inner)) = data_envelope(&mut request) {
            let mut inner = inner;
            self.normalize(op, &mut inner, now)?;
            let mut wrapped = Map::new();
            wrapped.insert("data".to_string(), Value::Object(inner));
            return Ok(self
                .prepare_raw(op.path, &wrapped, op.money_moving)?
                .settled_by(op));
        }
        self.normalize(op, &mut request, now)?;
        Ok(self
            .prepare_raw(op.path, &request, op.money_moving)?
            .settled_by(op))
    }

    /// Defaults, normalisation and validation of one request object.
    fn normalize(
        &self,
        op: &Operation,
        request: &mut Map<String, Value>,
        now: BeijingTime,
    ) -> Result<()> {
        self.fill_defaults(op, request, now);
        let options = rules::NormalizeOptions {
            real_name_input: self.config.real_name_input,
        };
        rules::apply(op.fields, request, options)?;
        (op.cross_check)(request)
    }

    pub(super) fn prepare_raw(
        &self,
        path: &str,
        request: &Map<String, Value>,
        money_moving: bool,
    ) -> Result<PreparedRequest> {
        // Most requests fit in 2 KiB: one allocation instead of a chain of
        // doublings from serde_json's 128 bytes.
        let mut body = Vec::with_capacity(2048);
        serde_json::to_writer(&mut body, request)
            .map_err(|_| Error::new(ErrorKind::Internal, "could not serialise the request"))?;
        Ok(PreparedRequest {
            url: [self.base_url.as_str(), path].concat(),
            path: path.to_string(),
            body,
            money_moving,
            settlement: None,
        })
    }

    /// Adds `requestTimestamp`, `mid`, `tid`, `instMid` where the operation
    /// has them and the caller left them out (missing or null); never changes
    /// a given value, not even an empty string.
    fn fill_defaults(&self, op: &Operation, request: &mut Map<String, Value>, now: BeijingTime) {
        // The values are made only for a field that is actually filled.
        let mut fill = |field: &str, value: &dyn Fn() -> Option<String>| {
            if op.has_field(field) && request.get(field).is_none_or(Value::is_null) {
                if let Some(v) = value() {
                    request.insert(field.to_string(), Value::String(v));
                }
            }
        };
        fill("requestTimestamp", &|| Some(now.date_time()));
        fill("mid", &|| self.config.mid.clone());
        fill("tid", &|| self.config.tid.clone());
        fill("instMid", &|| Some(self.config.inst_mid.clone()));
        if self.config.resolvable && op.money_moving {
            self.add_resolvable_ids(op, request, now);
        }
        // A bill made now is dated today (Beijing); on operations about an
        // existing bill (query, refund, pre-auth) billDate stays required:
        // today's date would name another bill.
        if BILL_MAKERS.contains(&op.name) && !rules::is_absent(request.get("billNo")) {
            fill_absent(request, "billDate", || now.date());
        }
    }

    /// `"resolvable": true`: the identifiers without which `resolve` cannot
    /// prove the effect (src/resolve/table.rs), made only where the caller
    /// left them out: refundOrderId for a refund, billNo for update-qrcode
    /// (billDate follows), qrCodeId and systemId for a fixed code.
    pub(super) fn add_resolvable_ids(
        &self,
        op: &Operation,
        request: &mut Map<String, Value>,
        now: BeijingTime,
    ) {
        let Some(msg_src_id) = self.config.msg_src_id.as_deref() else {
            return; // the config refuses `resolvable` without msgSrcId
        };
        let new_id = || crate::ids::new_id(msg_src_id, now).ok();
        match op.name {
            "refund" => fill_absent_opt(request, "refundOrderId", new_id),
            "update-qrcode" => fill_absent_opt(request, "billNo", new_id),
            "get-qrcode" if rules::is_absent(request.get("billNo")) => {
                fill_absent_opt(request, "qrCodeId", new_id);
                let id = request.get("qrCodeId").cloned();
                if let Some(Value::String(id)) = id {
                    fill_absent(request, "systemId", || id);
                }
            }
            _ => {}
        }
    }
}

impl PreparedRequest {
    fn settled_by(mut self, op: &'static Operation) -> PreparedRequest {
        self.settlement = op.settlement.as_ref();
        self
    }
}

/// Operations that put a new bill on a code: a `billNo` without `billDate`
/// gets today's date (Beijing time, from the client's clock).
const BILL_MAKERS: &[&str] = &["get-qrcode", "update-qrcode"];

/// Sets `field` when the caller left it out (missing or null; a given
/// value, even an empty string, is never replaced).
fn fill_absent(request: &mut Map<String, Value>, field: &str, value: impl FnOnce() -> String) {
    if request.get(field).is_none_or(Value::is_null) {
        request.insert(field.to_string(), Value::String(value()));
    }
}

fn fill_absent_opt(
    request: &mut Map<String, Value>,
    field: &str,
    value: impl FnOnce() -> Option<String>,
) {
    if request.get(field).is_none_or(Value::is_null) {
        if let Some(v) = value() {
            request.insert(field.to_string(), Value::String(v));
        }
    }
}

/// Takes the inner object out of a `{"data": {...}}` envelope.
fn data_envelope(request: &mut Map<String, Value>) -> Option<Value> {
    if request.len() == 1 && request.get("data").is_some_and(Value::is_object) {
        request.remove("data")
    } else {
        None
    }
}

/// Parses a caller's request: a JSON object of bounded size.
pub fn parse_request(request_json: &str) -> Result<Map<String, Value>> {
    if request_json.len() > MAX_REQUEST_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("the request is larger than {MAX_REQUEST_BYTES} bytes"),
        ));
    }
    crate::json::parse_object(request_json, "the request")
}

/// A service path is `/v1/` followed by path segments of safe characters.
pub fn check_service_path(path: &str) -> Result<()> {
    // Every segment after /v1/ is non-empty and not made of dots only.
    let ok = path.starts_with("/v1/")
        && path.len() <= 256
        && path[4..]
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.bytes().all(|b| b == b'.'))
        && path[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            "the service path must look like /v1/netpay/bills/query (letters, digits, '/', '-', '_', '.')",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_paths_are_checked() {
        assert!(check_service_path("/v1/netpay/bills/query").is_ok());
        for bad in [
            "v1/x",
            "/v2/x",
            "/v1/../admin",
            "/v1//x",
            "/v1/x?y=1",
            "/v1/x y",
            "/v1/é",
            "/v1/",
            "/v1/...",
            "/v1/x/",
        ] {
            assert!(check_service_path(bad).is_err(), "{bad}");
        }
    }
}
