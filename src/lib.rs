//! The C ABI: a thin layer that checks pointers, converts arguments, calls
//! the safe core and writes JSON documents into caller buffers. No business
//! logic lives here. Conventions (also in the header preamble and README):
//!
//! - Every fallible function returns a `UmsStatus`; `UMS_OK` is 0.
//! - Results go to `(out_buf, out_cap, out_len)`: a NUL-terminated JSON
//!   document (the gateway's answer, or an error document), `*out_len` its
//!   length without the NUL. `out_len` must not be NULL; `out_buf` may be NULL
//!   only when `out_cap` is 0.
//! - Operations need `out_cap >= UMS_MIN_OUT_CAP`; a document that does not
//!   fit is kept under an answer id for `ums_take_answer` (see `answers`).
//! - Every export catches panics and returns `UMS_ERR_PANIC`.

pub mod answers;
pub mod output;
pub mod status;
pub mod token_store;

use answers::{KeptAnswers, Take};
use chinaums::client::Client;
use chinaums::ops::{self, Operation};
use output::{
    bytes_arg, opt_text_arg, run, run_plain, string_object, text_arg, Failure, OutBuf, Produced,
};
pub use status::*;
use std::ffi::{c_char, c_void, CStr};
use std::time::Instant;
pub use token_store::{
    UmsTokenStore, UmsTokenStoreGet, UmsTokenStoreInvalidate, UmsTokenStorePut, UMS_TOKEN_MAX_LEN,
};

/// The version of this crate (Cargo.toml); the header's `UMS_VERSION_*`
/// macros are generated from the same version by tests/header.rs.
pub const UMS_VERSION_MAJOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MAJOR"));
/// See [`UMS_VERSION_MAJOR`].
pub const UMS_VERSION_MINOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MINOR"));
/// See [`UMS_VERSION_MAJOR`].
pub const UMS_VERSION_PATCH: u32 = parse_version(env!("CARGO_PKG_VERSION_PATCH"));

/// A version number from Cargo's digits, at compile time.
const fn parse_version(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    let (mut i, mut n) = (0, 0u32);
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// The smallest `out_cap` an operation export (`ums_update_qrcode` ...
/// `ums_secure_complete`, `ums_call`) accepts. Below it nothing is sent and
/// nothing is parsed beyond the NULL checks: the status is
/// `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` is `UMS_MIN_OUT_CAP - 1` and the
/// buffer receives (when it fits)
/// `{"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":256,"nothingSent":true}`.
/// With at least this much room, the small document that names a kept answer
/// (`answerId`) always fits.
pub const UMS_MIN_OUT_CAP: usize = 256;

/// An opaque handle to one configured client. `ums_client_new` creates it
/// (on `UMS_OK` only; on failure `*out_client` is NULL and nothing needs
/// freeing); `ums_client_free` frees it, exactly once (`ums_client_free(NULL)`
/// is a no-op). Immutable after creation: any number of threads may use one
/// handle at the same time without locking (its token cache, connection pool
/// and kept answers are synchronised inside). No thread may be in a call with
/// the handle when it is freed, and it must not be used after. It keeps at
/// most 16 answers that did not fit their caller's buffer (`ums_take_answer`),
/// each for 120 s, freed with it: at most 16 times the largest document,
/// about `maxResponseBytes` plus the error document around it.
pub struct UmsClient {
    client: Client,
    answers: KeptAnswers,
}

/// The library version as a static NUL-terminated string, e.g. "0.1.0".
/// Never NULL; the caller must not free it.
#[no_mangle]
pub extern "C" fn ums_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => panic!("version string"),
        };
    VERSION.as_ptr()
}

/// A static description of `status`. Never NULL, even for an unknown value;
/// the caller must not free it.
#[no_mangle]
pub extern "C" fn ums_status_str(status: UmsStatus) -> *const c_char {
    run_plain(c"unknown status value".as_ptr(), || {
        Status(status).description().as_ptr()
    })
}

/// Creates a client from a JSON configuration (see the README's
/// "Configuration"). On success `*out_client` receives the handle and the
/// buffer a document describing it (no secrets:
/// `{"status":"UMS_OK","version":..,"appId":..,"baseUrl":..,"auth":..,
/// "tokenStore":"memory"|"redis://host:port/db","claimStore":..}`); on
/// failure `*out_client` is set to NULL and the buffer receives the error
/// document, whose `field` names the bad key. No Redis server is contacted
/// here: one that is down does not stop a client from being created.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_client_new(
    config_json: *const c_char,
    out_client: *mut *mut UmsClient,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    new_client(config_json, None, out_client, out_buf, out_cap, out_len)
}

/// Creates a client (as `ums_client_new`) that shares its access token
/// (token mode) through the integrator's own store: see `UmsTokenStore` for
/// the callbacks, their thread rules and what `userdata` must outlive. The
/// config's `tokenStore` must then be absent or `"memory"`
/// (`UMS_ERR_CONFIG` otherwise). `store` is copied; NULL is
/// `UMS_ERR_NULL_POINTER`, a NULL callback `UMS_ERR_INVALID_ARGUMENT`. The
/// document says `"tokenStore":"callback"`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble;
/// the callbacks and `userdata` as described at `UmsTokenStore`.
#[no_mangle]
pub unsafe extern "C" fn ums_client_new_with_token_store(
    config_json: *const c_char,
    store: *const UmsTokenStore,
    out_client: *mut *mut UmsClient,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    if !out_client.is_null() {
        *out_client = std::ptr::null_mut();
    }
    let Some(store) = store.as_ref() else {
        return run(OutBuf::new(out_buf, out_cap, out_len), |_| {
            Failure::abi(UMS_ERR_NULL_POINTER, "`store` is NULL").into()
        });
    };
    let store = match token_store::CallbackStore::new(store) {
        Ok(s) => s,
        Err(message) => {
            return run(OutBuf::new(out_buf, out_cap, out_len), |_| {
                Failure::abi(UMS_ERR_INVALID_ARGUMENT, message).into()
            })
        }
    };
    new_client(
        config_json,
        Some(std::sync::Arc::new(store)),
        out_client,
        out_buf,
        out_cap,
        out_len,
    )
}

/// The body of `ums_client_new` and `ums_client_new_with_token_store`.
unsafe fn new_client(
    config_json: *const c_char,
    store: Option<std::sync::Arc<dyn chinaums::store::TokenStore>>,
    out_client: *mut *mut UmsClient,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    if out_client.is_null() {
        return run(OutBuf::new(out_buf, out_cap, out_len), |_| {
            Failure::abi(UMS_ERR_NULL_POINTER, "`out_client` is NULL").into()
        });
    }
    *out_client = std::ptr::null_mut();
    run(OutBuf::new(out_buf, out_cap, out_len), |out| {
        let result = (|| -> Result<(Box<UmsClient>, String), Failure> {
            let config = text_arg(config_json, "config_json")?;
            let config = chinaums::Config::from_json(config)?;
            let client = Client::with_parts(
                config,
                chinaums::Parts {
                    token_store: store,
                    ..chinaums::Parts::default()
                },
            )?;
            let info = serde_json::json!({
                "status": "UMS_OK",
                "version": env!("CARGO_PKG_VERSION"),
                "appId": client.config().app_id,
                "baseUrl": client.base_url(),
                "auth": client.config().auth.as_str(),
                "tokenStore": client.token_store(),
                "claimStore": client.claim_store(),
            })
            .to_string();
            Ok((
                Box::new(UmsClient {
                    client,
                    answers: KeptAnswers::default(),
                }),
                info,
            ))
        })();
        match result {
            Ok((handle, info)) if out.fits(info.len()) => {
                *out_client = Box::into_raw(handle);
                Produced::ok(info)
            }
            Ok((_, info)) => Produced::ok(info), // too small: reported by `run`, no handle leaks
            Err(f) => f.into(),
        }
    })
}

/// Frees a client. `ums_client_free(NULL)` does nothing. The handle must not
/// be used after, nor freed twice, nor freed while another thread uses it.
///
/// # Safety
/// `client` must be NULL or a handle from `ums_client_new`.
#[no_mangle]
pub unsafe extern "C" fn ums_client_free(client: *mut UmsClient) {
    if client.is_null() {
        return;
    }
    run_plain((), || drop(Box::from_raw(client)));
}

/// Sends `bills/update-qrcode`. `request_json` is the request object as on
/// the ChinaUMS page; `requestTimestamp`, `mid`, `tid` and `instMid` are
/// filled from the clock and the config only when absent. On `UMS_OK` the
/// buffer holds the gateway's answer exactly as received.
///
/// Buffers (every operation export): `out_cap` must be at least
/// `UMS_MIN_OUT_CAP` (256), else nothing is sent (`UMS_ERR_BUFFER_TOO_SMALL`,
/// `*out_len` = 255, `"nothingSent":true`). When the document (answer or
/// error document, whatever the status) does not fit, it is kept in the
/// client for 120 s under a new answer id: the status is
/// `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` the document's length, and the
/// buffer holds
/// `{"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":N,"answerId":"<32 hex>","answerStatus":"UMS_OK"}`
/// (`answerStatus`: the status the document came with). Fetch it with
/// `ums_take_answer(client, answerId, ...)` and a buffer of `needed` bytes.
/// Calling the operation again sends a NEW request.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_update_qrcode(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::UPDATE_QRCODE,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// Calls any `/v1/...` service path with the client's signing, transport and
/// result handling. A path of a known bills operation gets that operation's
/// defaults and checks; any other path is sent as given. An operation name
/// (`"refund"`) is not a path: `UMS_ERR_INVALID_ARGUMENT`; use the named
/// exports or `ums_prepare`. Same buffer rules
/// as `ums_update_qrcode` (`UMS_MIN_OUT_CAP`, kept answers).
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_call(
    client: *const UmsClient,
    service_path: *const c_char,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    gateway_call(
        Target::Path(service_path),
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// Hands over an answer kept after an operation returned
/// `UMS_ERR_BUFFER_TOO_SMALL` with an `answerId`. Never sends anything.
///
/// - Kept and fits: writes the document, returns the status it was kept with
///   (`UMS_OK`, `UMS_ERR_OUTCOME_UNKNOWN`, ...) and forgets it.
/// - Kept but still does not fit: `UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` the
///   document's length, the same small document (same `answerId`); it stays
///   kept, its expiry unchanged.
/// - Otherwise (expired 120 s after it was kept, evicted because 16 newer
///   answers were kept, already taken, or never issued): `UMS_ERR_ANSWER_GONE`
///   with an error document (`"outcomeUnknown":true`, `"phase":"sent"`): the
///   request was not sent again, so query before deciding.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_take_answer(
    client: *const UmsClient,
    answer_id: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    run(OutBuf::new(out_buf, out_cap, out_len), |out| {
        let handle = match client_ref(client) {
            Ok(h) => h,
            Err(f) => return f.into(),
        };
        let id = match text_arg(answer_id, "answer_id") {
            Ok(id) => id,
            Err(f) => return f.into(),
        };
        match handle
            .answers
            .take(id, |len| out.fits(len), Instant::now())
        {
            Take::Taken { status, doc } => Produced {
                status,
                doc,
                stands_for: None,
            },
            Take::TooSmall { status, len } => {
                Produced::note(UMS_ERR_BUFFER_TOO_SMALL, kept_note(len, id, status), len)
            }
            Take::Gone => Failure::document(
                UMS_ERR_ANSWER_GONE,
                "answer_gone",
                "no kept answer has this id: it expired, was evicted or was already taken; the request was not sent again: query before deciding",
                output::Phase::Sent,
            )
            .into(),
        }
    })
}

/// `bills/get-qrcode`: creates a QR code (one-off with `billNo`, `billDate`, `totalAmount`; fixed with or without an amount).
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_get_qrcode(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::GET_QRCODE,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/close-qrcode`: closes a QR code (`qrCodeId`; `attachRefund` refunds a paid one-off code).
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_close_qrcode(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::CLOSE_QRCODE,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/query`: a bill's status and payment (`billNo`, `billDate`); with `refundOrderId`, that refund's record.
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_query_bill(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::QUERY_BILL,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/refund`: refunds `refundAmount` fen of a paid bill. Give every refund its own `refundOrderId` (see `ums_new_id`): a repeated `refundOrderId` answers the first refund's result instead of refunding twice.
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_refund(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::REFUND,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/query-qrcode-info`: the bill a QR code carries (`qrCodeId`, `systemId`; no `tid`).
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_query_qrcode_info(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::QUERY_QRCODE_INFO,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/preauthed`: completes a pre-authorisation.
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_preauth_complete(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::PREAUTH_COMPLETE,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `bills/preauth-cancel`: cancels a pre-authorisation.
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_preauth_cancel(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::PREAUTH_CANCEL,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `secure-cancel`: cancels a guaranteed trade (`merOrderId`).
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_secure_cancel(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::SECURE_CANCEL,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// `secure-complete`: completes a guaranteed trade (`merOrderId`, `completedAmount`).
/// Same conventions as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_secure_complete(
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    operation(
        &ops::SECURE_COMPLETE,
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// Finds out what became of a money-moving call whose outcome is unknown
/// (or not final), with read-only queries only: it never sends the request
/// again. `json_in` is one of:
/// - the error document the call returned (its `resolveWith` member);
/// - `{"operation":"refund","request":{...}}`: the request as sent (its
///   `requestTimestamp` is needed), optionally with `"bill":{"billNo",
///   "billDate"}` (the bill of a guaranteed trade, for `secure-*`);
/// - an entry of `ums_journal_pending`.
///
/// On `UMS_OK` the buffer holds
/// `{"verdict":"applied"|"not_applied"|"pending"|"cannot_tell",
/// "safeToResend":bool,"operation":..,"message":..,"evidence":{"query":..,
/// "answer":{..}},"retryAfter":"yyyy-MM-dd HH:mm:ss","request":{..},
/// "journalId":N,"journalClosed":bool}`: applied (do not resend), not
/// applied (safe to send again: `safeToResend` is true only then), pending
/// (ask again after `retryAfter`), cannot tell (the protocol offers no
/// proof: see the README's resolve table). A final verdict closes the call's
/// journal entry. When a confirming query fails, its status and error
/// document are returned (nothing was resent; call `ums_resolve` again).
/// Same buffer rules as `ums_update_qrcode` (`UMS_MIN_OUT_CAP`, kept
/// answers); calling it again is safe.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_resolve(
    client: *const UmsClient,
    json_in: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    query_call(
        client,
        json_in,
        "json_in",
        out_buf,
        out_cap,
        out_len,
        |c, input| Ok(c.resolve_json(input?)?.to_json().to_string()),
    )
}

/// Lists the open entries of the client's journal (`"journal"` in the
/// config): money-moving calls recorded before they were sent whose outcome
/// is not known yet (outcome unknown, pending, or the process died). The
/// buffer receives `{"count":N,"pending":[{"journalId","operation",
/// "request":{..},"startedAtUnixMs","pid","lastVerdict"?},...]}`, oldest
/// first (at most 10000); each entry is a valid input of `ums_resolve`.
/// `UMS_ERR_CONFIG` (`"field":"journal"`) when the client has no journal.
/// Sends nothing. Same buffer rules as `ums_update_qrcode`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_journal_pending(
    client: *const UmsClient,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    query_call(
        client,
        std::ptr::null(),
        "",
        out_buf,
        out_cap,
        out_len,
        |c, _| {
            let entries = c.journal_pending()?;
            Ok(chinaums::journal::pending_json(&entries).to_string())
        },
    )
}

/// The body of `ums_resolve` and `ums_journal_pending`: the operations'
/// buffer rules (`UMS_MIN_OUT_CAP`, a document that does not fit is kept
/// under an answer id). `arg` is read (as the argument `arg_name`) unless
/// `arg_name` is empty; the body gets it as a `Result` so that its error
/// document is the usual one.
unsafe fn query_call(
    client: *const UmsClient,
    arg: *const c_char,
    arg_name: &str,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    body: impl FnOnce(&Client, Result<&str, Failure>) -> Result<String, Failure>,
) -> UmsStatus {
    run(OutBuf::new(out_buf, out_cap, out_len), |out| {
        let handle = match client_ref(client) {
            Ok(h) => h,
            Err(f) => return f.into(),
        };
        if !arg_name.is_empty() && arg.is_null() {
            return Failure::abi(UMS_ERR_NULL_POINTER, &format!("`{arg_name}` is NULL")).into();
        }
        if out.cap() < UMS_MIN_OUT_CAP {
            return below_min_cap();
        }
        let arg = if arg_name.is_empty() {
            Ok("")
        } else {
            text_arg(arg, arg_name)
        };
        let produced = match body(&handle.client, arg) {
            Ok(doc) => Produced::ok(doc),
            Err(f) => f.into(),
        };
        fit_or_keep(out, handle, produced)
    })
}

/// Prepares a request without sending it: `operation` is an operation name
/// (`"update-qrcode"`, `"refund"`, ...) or a `/v1/...` service path. Defaults,
/// normalisation and validation are applied as for a real call;
/// `requestTimestamp` defaults to `timestamp`. The buffer receives
/// `{"url":..,"path":..,"body":"<exact JSON text>","authorization":"OPEN-BODY-SIG ..."}`.
/// With a fixed `timestamp` (`yyyyMMddHHmmss`) and `nonce` the result is the
/// same in every language; NULL means now and a random nonce.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_prepare(
    client: *const UmsClient,
    operation: *const c_char,
    request_json: *const c_char,
    timestamp: *const c_char,
    nonce: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let handle = client_ref(client)?;
        let operation = text_arg(operation, "operation")?;
        let request = text_arg(request_json, "request_json")?;
        let (timestamp, nonce) = timestamp_and_nonce(&handle.client, timestamp, nonce)?;
        let now = chinaums::clock::BeijingTime::parse_compact(&timestamp).ok_or_else(|| {
            Failure::abi(
                UMS_ERR_INVALID_ARGUMENT,
                "`timestamp` must be yyyyMMddHHmmss",
            )
        })?;
        let prepared = handle.client.prepare_call(operation, request, now)?;
        let authorization = handle
            .client
            .sign_body_at(&timestamp, &nonce, &prepared.body);
        let body = String::from_utf8(prepared.body)
            .map_err(|_| Failure::abi(UMS_ERR_INTERNAL, "the prepared body is not UTF-8"))?;
        Ok(serde_json::json!({
            "url": prepared.url,
            "path": prepared.path,
            "body": body,
            "authorization": authorization,
        })
        .to_string())
    })
}

/// Makes a new merchant identifier for `billNo`, `merOrderId`,
/// `refundOrderId` or a self-generated `qrCodeId`: the configured `msgSrcId`,
/// `yyyyMMddHHmmssSSS` (Beijing time) and 7 digits, 28 characters, unique
/// across threads. The buffer receives `{"id":"3194..."}`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_new_id(
    client: *const UmsClient,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let handle = client_ref(client)?;
        Ok(string_object(&[("id", &handle.client.new_id()?)]))
    })
}

/// The text to answer a notification with: "SUCCESS" when `handled` is
/// non-zero (verified and processed; ChinaUMS stops retrying), "FAILED"
/// otherwise (ChinaUMS retries). Static; never NULL.
#[no_mangle]
pub extern "C" fn ums_notify_reply(handled: i32) -> *const c_char {
    if handled != 0 {
        c"SUCCESS".as_ptr()
    } else {
        c"FAILED".as_ptr()
    }
}

/// Claims a payment notification for processing, across every receiver
/// sharing the client's `claimStore` (Redis; or this process's memory).
/// Call it after the notification verified, with its `notifyId`. The buffer
/// receives `{"claimed":true,"store":"redis"}` the first time: process the
/// notification, then answer SUCCESS, or call `ums_notify_release` and
/// answer FAILED if processing failed. `{"claimed":false,...}`: another
/// receiver (or an earlier delivery) handled or is handling it: answer
/// SUCCESS without processing. A claim lives 25 h (ChinaUMS resends for
/// 24 h). When Redis fails, this process's own claims answer
/// (`"store":"memory"`): a notification is then at worst processed twice,
/// never lost, so keep recording the notifyId with your state change.
///
/// `out_cap` must be at least `UMS_MIN_OUT_CAP` (256): below it nothing is
/// claimed (`UMS_ERR_BUFFER_TOO_SMALL`, `*out_len` = 255), so a claim is
/// never made for a caller who cannot read its answer. `notify_id`: 1 to
/// 128 printable ASCII characters without spaces (`UMS_ERR_INVALID_ARGUMENT`
/// otherwise).
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_notify_claim(
    client: *const UmsClient,
    notify_id: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    claim_call(client, notify_id, out_buf, out_cap, out_len, |c, id| {
        let claim = c.notification_claim(id)?;
        Ok(format!(
            "{{\"claimed\":{},\"store\":\"{}\"}}",
            claim.claimed, claim.store
        ))
    })
}

/// Releases the claim on a notification (after `ums_notify_claim` said
/// claimed and processing failed), so that ChinaUMS's next resend is
/// processed: by this receiver or another one. The buffer receives
/// `{"released":true,"store":"redis"}`; `"store":"memory"` when Redis could
/// not be reached: the release is then sent when it answers again (if this
/// process ends first, the claim expires after 25 h). Same buffer and
/// `notify_id` rules as `ums_notify_claim`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_notify_release(
    client: *const UmsClient,
    notify_id: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    claim_call(client, notify_id, out_buf, out_cap, out_len, |c, id| {
        let claim = c.release_notification(id)?;
        Ok(format!(
            "{{\"released\":true,\"store\":\"{}\"}}",
            claim.store
        ))
    })
}

/// The body of `ums_notify_claim` and `ums_notify_release`: checks the
/// buffer's room before anything is claimed.
unsafe fn claim_call(
    client: *const UmsClient,
    notify_id: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    act: impl FnOnce(&Client, &str) -> chinaums::Result<String>,
) -> UmsStatus {
    run(OutBuf::new(out_buf, out_cap, out_len), |out| {
        let handle = match client_ref(client) {
            Ok(h) => h,
            Err(f) => return f.into(),
        };
        if notify_id.is_null() {
            return Failure::abi(UMS_ERR_NULL_POINTER, "`notify_id` is NULL").into();
        }
        if out.cap() < UMS_MIN_OUT_CAP {
            return below_min_cap();
        }
        let id = match text_arg(notify_id, "notify_id") {
            Ok(id) => id,
            Err(f) => return f.into(),
        };
        act(&handle.client, id).map_or_else(|e| Failure::from(e).into(), Produced::ok)
    })
}

/// Runs an export that does no network work: `body` yields the document or
/// a failure; panics are caught and the document written by [`run`].
unsafe fn local_call(
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    body: impl FnOnce() -> Result<String, Failure>,
) -> UmsStatus {
    run(OutBuf::new(out_buf, out_cap, out_len), |_| {
        body().map_or_else(Produced::from, Produced::ok)
    })
}

/// The client behind a handle, or the NULL-pointer failure.
unsafe fn client_ref<'a>(client: *const UmsClient) -> Result<&'a UmsClient, Failure> {
    client
        .as_ref()
        .ok_or_else(|| Failure::abi(UMS_ERR_NULL_POINTER, "`client` is NULL"))
}

/// What a gateway call sends: a known operation (the named exports), or the
/// caller's service path (`ums_call`).
#[derive(Clone, Copy)]
enum Target {
    Op(&'static Operation),
    Path(*const c_char),
}

/// The body of every named operation export.
unsafe fn operation(
    op: &'static Operation,
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    gateway_call(
        Target::Op(op),
        client,
        request_json,
        out_buf,
        out_cap,
        out_len,
    )
}

/// The small document naming a kept answer (always under `UMS_MIN_OUT_CAP`).
fn kept_note(len: usize, id: &str, status: UmsStatus) -> String {
    format!(
        "{{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":{},\"answerId\":\"{}\",\"answerStatus\":\"{}\"}}",
        len + 1,
        id,
        Status(status).name()
    )
}

/// The note of an operation called with `out_cap < UMS_MIN_OUT_CAP`.
const MIN_CAP_NOTE: &str =
    "{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":256,\"nothingSent\":true}";

/// What an operation answers when `out_cap < UMS_MIN_OUT_CAP`, before it
/// does anything.
fn below_min_cap() -> Produced {
    Produced::note(
        UMS_ERR_BUFFER_TOO_SMALL,
        MIN_CAP_NOTE.to_string(),
        UMS_MIN_OUT_CAP - 1,
    )
}

/// An operation's document: written when it fits, else kept under a new
/// answer id for `ums_take_answer` (the work is done: it is never redone).
fn fit_or_keep(out: &OutBuf, handle: &UmsClient, produced: Produced) -> Produced {
    if out.fits(produced.doc.len()) {
        return produced;
    }
    let (status, len) = (produced.status, produced.doc.len());
    let id = handle.answers.keep(status, produced.doc, Instant::now());
    Produced::note(UMS_ERR_BUFFER_TOO_SMALL, kept_note(len, &id, status), len)
}

/// Shared body of every export that sends a request. Never consults the kept
/// answers: every call that gets past its arguments sends a new request.
unsafe fn gateway_call(
    target: Target,
    client: *const UmsClient,
    request_json: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    run(OutBuf::new(out_buf, out_cap, out_len), |out| {
        let handle = match client_ref(client) {
            Ok(h) => h,
            Err(f) => return f.into(),
        };
        if let Target::Path(path) = target {
            if path.is_null() {
                return Failure::abi(UMS_ERR_NULL_POINTER, "`service_path` is NULL").into();
            }
        }
        if request_json.is_null() {
            return Failure::abi(UMS_ERR_NULL_POINTER, "`request_json` is NULL").into();
        }
        if out.cap() < UMS_MIN_OUT_CAP {
            return below_min_cap();
        }
        let path = match target {
            Target::Op(_) => None,
            Target::Path(path) => match text_arg(path, "service_path") {
                Ok(p) => Some(p),
                Err(f) => return f.into(),
            },
        };
        let request = match text_arg(request_json, "request_json") {
            Ok(r) => r,
            Err(f) => return f.into(),
        };
        let result = match (target, path) {
            (Target::Op(op), _) => handle.client.execute_json(op, request),
            (_, path) => handle.client.call(path.unwrap_or_default(), request),
        };
        let produced = output::gateway_result(result);
        fit_or_keep(out, handle, produced)
    })
}

/// Verifies a payment notification: `body` is the raw form body exactly as
/// received (not re-encoded), `notify_key` the communication key. On `UMS_OK`
/// the buffer holds `{"valid":true,"signType":..,"notifyId":..,"fields":{..}}`
/// with JSON-text fields such as `billPayment` parsed. A forged or damaged
/// notification gets its own status; answer ChinaUMS `SUCCESS` only after
/// `UMS_OK`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble;
/// `body` must point to `body_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ums_verify_notify(
    notify_key: *const c_char,
    body: *const u8,
    body_len: usize,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let key = text_arg(notify_key, "notify_key")?;
        let body = bytes_arg(body, body_len, "body")?;
        Ok(chinaums::notify::verify(key, body)?.to_json().to_string())
    })
}

/// Verifies a payment notification with the client's configured `notifyKey`
/// and its `notifySignTypes` policy (`["SHA256"]` refuses MD5-signed ones
/// with `UMS_ERR_NOTIFY_UNKNOWN_SIGN_TYPE`). `body` is the raw form body
/// exactly as received. Same document and statuses as `ums_verify_notify`;
/// `UMS_ERR_CONFIG` (`"field":"notifyKey"`) when the client has no key.
/// Never sends anything.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble;
/// `body` must point to `body_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ums_client_verify_notify(
    client: *const UmsClient,
    body: *const u8,
    body_len: usize,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let handle = client_ref(client)?;
        let body = bytes_arg(body, body_len, "body")?;
        Ok(handle
            .client
            .verify_notification(body)?
            .to_json()
            .to_string())
    })
}

/// Computes the OPEN-BODY-SIG `Authorization` header for `body` with the
/// client's appId and appKey, for integrators with their own HTTP stack. Send
/// exactly these body bytes. `timestamp` (`yyyyMMddHHmmss`, Beijing time) and
/// `nonce` may be NULL for now and a random nonce. The buffer receives
/// `{"authorization":"OPEN-BODY-SIG ...","timestamp":..,"nonce":..}`.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble;
/// `body` must point to `body_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ums_sign_body(
    client: *const UmsClient,
    body: *const u8,
    body_len: usize,
    timestamp: *const c_char,
    nonce: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let handle = client_ref(client)?;
        let body = bytes_arg(body, body_len, "body")?;
        let (timestamp, nonce) = timestamp_and_nonce(&handle.client, timestamp, nonce)?;
        let authorization = handle.client.sign_body_at(&timestamp, &nonce, body);
        Ok(string_object(&[
            ("authorization", &authorization),
            ("timestamp", &timestamp),
            ("nonce", &nonce),
        ]))
    })
}

/// Builds the token request body (`POST /v1/token/access`) with the client's
/// appId and appKey, for integrators with their own HTTP stack. `timestamp`
/// and `nonce` may be NULL for now and a random nonce. The buffer receives the
/// JSON body to send.
///
/// # Safety
/// Pointers must be NULL or valid as described in the header preamble.
#[no_mangle]
pub unsafe extern "C" fn ums_token_request(
    client: *const UmsClient,
    timestamp: *const c_char,
    nonce: *const c_char,
    out_buf: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> UmsStatus {
    local_call(out_buf, out_cap, out_len, || {
        let handle = client_ref(client)?;
        let (timestamp, nonce) = timestamp_and_nonce(&handle.client, timestamp, nonce)?;
        Ok(handle.client.token_request_body(&timestamp, &nonce))
    })
}

/// Log levels for `ums_set_log_callback`.
pub const UMS_LOG_ERROR: i32 = 1;
/// A warning: a rejection, a refused token.
pub const UMS_LOG_WARN: i32 = 2;
/// One line per call: path, outcome, errCode, duration.
pub const UMS_LOG_INFO: i32 = 3;
/// Also each request's path and size before it is sent.
pub const UMS_LOG_DEBUG: i32 = 4;

/// A log callback. `level` is one of `UMS_LOG_*`; `message` is NUL-terminated
/// UTF-8, owned by the library and valid only during the call. Called from
/// any thread (the caller's or one the library started), possibly from
/// several at once: it must be thread-safe. No library lock is held while it
/// runs, so it may call any export, `ums_set_log_callback` included.
/// `userdata` is passed back as given and never dereferenced by the library.
pub type UmsLogCallback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, level: i32, message: *const c_char)>;

/// Installs a process-wide log callback receiving messages up to
/// `max_level` (`UMS_LOG_ERROR` .. `UMS_LOG_DEBUG`); NULL removes it.
/// Messages never contain the appKey, signatures, tokens, the notification
/// key, request bodies or real-name fields. The callback may be called from
/// any thread, concurrently; `userdata` is passed back as given and must stay
/// valid as long as the callback can run: until `ums_set_log_callback` has
/// replaced or removed it and every library call that was running on another
/// thread at that moment has returned.
#[no_mangle]
pub extern "C" fn ums_set_log_callback(
    callback: UmsLogCallback,
    userdata: *mut c_void,
    max_level: i32,
) -> UmsStatus {
    run_plain(UMS_ERR_PANIC, || {
        let Some(callback) = callback else {
            chinaums::log::clear_logger();
            return UMS_OK;
        };
        let max = match max_level {
            UMS_LOG_ERROR => chinaums::log::Level::Error,
            UMS_LOG_WARN => chinaums::log::Level::Warn,
            UMS_LOG_INFO => chinaums::log::Level::Info,
            UMS_LOG_DEBUG => chinaums::log::Level::Debug,
            _ => return UMS_ERR_INVALID_ARGUMENT,
        };
        let userdata = userdata as usize; // handed back untouched
        chinaums::log::set_logger(max, move |level, message| {
            if let Ok(text) = std::ffi::CString::new(message.replace('\0', " ")) {
                // SAFETY: the host promised a valid callback and userdata.
                unsafe { callback(userdata as *mut c_void, level as i32, text.as_ptr()) };
            }
        });
        UMS_OK
    })
}

/// Reads the optional timestamp and nonce arguments, defaulting to now and a
/// fresh random nonce, and checks their formats.
unsafe fn timestamp_and_nonce(
    client: &Client,
    timestamp: *const c_char,
    nonce: *const c_char,
) -> Result<(String, String), Failure> {
    let timestamp = match opt_text_arg(timestamp, "timestamp")? {
        Some(t) if chinaums::clock::BeijingTime::parse_compact(t).is_some() => t.to_string(),
        Some(_) => {
            return Err(Failure::abi(
                UMS_ERR_INVALID_ARGUMENT,
                "`timestamp` must be yyyyMMddHHmmss",
            ))
        }
        None => client.now().compact(),
    };
    let nonce = match opt_text_arg(nonce, "nonce")? {
        Some(n) if chinaums::sign::is_header_safe_nonce(n) => n.to_string(),
        Some(_) => {
            return Err(Failure::abi(
                UMS_ERR_INVALID_ARGUMENT,
                "`nonce` must be 1 to 128 printable ASCII characters without quotes or commas",
            ))
        }
        None => chinaums::clock::RandomNonce.nonce(),
    };
    Ok((timestamp, nonce))
}

use chinaums::clock::NonceSource as _;

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// A client of the demo app on a simulator shared by these tests.
    fn sandbox() -> *mut UmsClient {
        use ums_sandbox::{demo, Sandbox};
        static SANDBOX: std::sync::OnceLock<Sandbox> = std::sync::OnceLock::new();
        let sandbox = SANDBOX.get_or_init(|| Sandbox::start_default().unwrap());
        let config = serde_json::json!({
            "environment": sandbox.base_url(),
            "appId": demo::APP_ID,
            "appKey": demo::APP_KEY,
            "mid": demo::MID,
            "tid": demo::TID,
        });
        let config = CString::new(config.to_string()).unwrap();
        let mut client = std::ptr::null_mut();
        let mut buf = vec![0 as c_char; 1024];
        let mut len = 0;
        let s = unsafe {
            ums_client_new(
                config.as_ptr(),
                &mut client,
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(s, UMS_OK);
        client
    }

    fn doc(buf: &[u8]) -> serde_json::Value {
        let end = buf.iter().position(|b| *b == 0).unwrap();
        serde_json::from_slice(&buf[..end]).unwrap()
    }

    /// A panic after the request's bytes were written says "sent": the
    /// outcome is unknown. Before this change it said `"nothingSent":true`.
    #[test]
    fn a_panic_after_sending_reports_phase_sent() {
        let client = sandbox();
        let handle = unsafe { &*client };
        let mut buf = vec![0u8; 1024];
        let mut len = 0usize;
        let out = OutBuf::new(buf.as_mut_ptr().cast(), buf.len(), &mut len);
        let status = run(out, |_| {
            let op = chinaums::ops::find("query-bill").unwrap();
            let request =
                chinaums::client::parse_request(r#"{"billNo":"31940001","billDate":"2026-01-02"}"#)
                    .unwrap();
            let _ = handle.client.execute(op, request);
            panic!("test panic after sending");
        });
        assert_eq!(status, UMS_ERR_PANIC);
        let v = doc(&buf);
        assert_eq!(v["phase"], "sent", "{v}");
        assert_eq!(v["outcomeUnknown"], true);
        assert_eq!(v["nothingSent"], false);
        unsafe { ums_client_free(client) };
    }

    /// The small document of a kept answer always fits `UMS_MIN_OUT_CAP`.
    #[test]
    fn kept_notes_fit_the_minimum_capacity() {
        let longest = ALL.iter().map(|(v, _, _)| *v).collect::<Vec<_>>();
        for status in longest {
            let note = kept_note(usize::MAX - 1, &answers::new_answer_id(), status);
            assert!(note.len() < UMS_MIN_OUT_CAP, "{note}");
            let v: serde_json::Value = serde_json::from_str(&note).unwrap();
            assert_eq!(v["needed"].as_u64(), Some(usize::MAX as u64));
        }
        assert_eq!(MIN_CAP_NOTE.len(), 69);
    }

    /// Below `UMS_MIN_OUT_CAP` an operation parses nothing: even invalid
    /// UTF-8 and invalid JSON get the size answer.
    #[test]
    fn below_the_minimum_capacity_nothing_is_parsed() {
        let client = sandbox();
        let bad = b"{\"a\":\"\xff\"}\0";
        for cap in [0usize, 1, 69, 70, 255] {
            let mut buf = vec![0xAAu8; cap.max(1)];
            let mut len = 0usize;
            let s = unsafe {
                ums_query_bill(
                    client,
                    bad.as_ptr().cast(),
                    if cap == 0 {
                        std::ptr::null_mut()
                    } else {
                        buf.as_mut_ptr().cast()
                    },
                    cap,
                    &mut len,
                )
            };
            assert_eq!((s, len), (UMS_ERR_BUFFER_TOO_SMALL, UMS_MIN_OUT_CAP - 1));
            if cap > 69 {
                assert_eq!(&buf[..70], format!("{MIN_CAP_NOTE}\0").as_bytes());
            } else if cap > 0 {
                assert_eq!(buf[0], 0);
            }
        }
        let mut buf = vec![0u8; UMS_MIN_OUT_CAP];
        let mut len = 0usize;
        let s = unsafe {
            ums_query_bill(
                client,
                bad.as_ptr().cast(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(s, UMS_ERR_INVALID_UTF8);
        unsafe { ums_client_free(client) };
    }

    #[test]
    fn take_answer_of_an_unknown_id_is_gone_and_sends_nothing() {
        let client = sandbox();
        let mut buf = vec![0u8; 1024];
        let mut len = 0usize;
        let id = CString::new("00000000000000000000000000000000").unwrap();
        let s = unsafe {
            ums_take_answer(
                client,
                id.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(s, UMS_ERR_ANSWER_GONE);
        let v = doc(&buf);
        assert_eq!(v["status"], "UMS_ERR_ANSWER_GONE");
        assert_eq!(v["kind"], "answer_gone");
        assert_eq!(v["outcomeUnknown"], true);
        assert_eq!(v["nothingSent"], false);
        assert_eq!(v["phase"], "sent");
        let s = unsafe {
            ums_take_answer(
                client,
                std::ptr::null(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
            )
        };
        assert_eq!(s, UMS_ERR_NULL_POINTER);
        unsafe { ums_client_free(client) };
    }
}
