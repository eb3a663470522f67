//! The C ABI exports, called directly with arguments built from the input.
//!
//! Input format (seed-friendly): the bytes are split at every 0xFF byte
//! (never part of UTF-8 text). Part 0 is the control stream, read byte by
//! byte to pick actions and their options; the other parts are the texts:
//! configs, operations, requests, timestamps, nonces, keys, bodies. A text
//! argument is passed as a NUL-terminated C string of the part up to its
//! first NUL byte (what C would see), so it may be non-UTF-8; byte-buffer
//! arguments get the whole part.
//!
//! Every call is checked against the conventions of include/ums.h:
//! - the status is one of the documented values;
//! - bad output arguments (`out_len` NULL, `out_buf` NULL with `out_cap` > 0)
//!   give UMS_ERR_NULL_POINTER; a NULL `out_client` too;
//! - `*out_len` is the document's length: when it fits (`*out_len < out_cap`)
//!   the buffer holds the document and a NUL at `out_len`; otherwise the status
//!   is UMS_ERR_BUFFER_TOO_SMALL, the buffer (if `out_cap` > 0) holds a
//!   NUL-terminated note or "", and a retry with `out_cap = *out_len + 1`
//!   succeeds with a document of exactly that length;
//! - operation exports (the gateway exports, `ums_call`): below
//!   UMS_MIN_OUT_CAP nothing is parsed (NULL arguments aside), `*out_len` is
//!   UMS_MIN_OUT_CAP - 1 and the note is the fixed one; from it on, a document
//!   that does not fit is kept and its note names an `answerId`, which
//!   `ums_take_answer` hands over once (then UMS_ERR_ANSWER_GONE);
//! - `ums_client_verify_notify` with the demo notifyKey agrees with
//!   `ums_verify_notify`; `ums_take_answer` of an id never issued is
//!   UMS_ERR_ANSWER_GONE;
//! - a written document is JSON: UMS_OK documents have their documented
//!   shape, error documents name their status (and `field` for config and
//!   validation errors);
//! - results agree with the safe Rust API (notify::verify, Config::from_json,
//!   Client::prepare_call, sign::sign_body, sign::token_signature) and with
//!   the documented order of argument checks.
//!
//! `UMS_FUZZ_TRACE=1` prints every checked call with its status and document.
//!
//! No network: created configs whose gateway could be a real machine
//! (environment "production", "test", or a base URL whose host is neither
//! loopback nor under `.invalid`) are redirected to https://gateway.invalid,
//! and `caFile` is dropped (it would make the library read arbitrary files);
//! the library itself starts nothing (it has no embedded simulator: a config
//! without an environment is a config error);
//! the gateway exports are called only when the safe API shows the call fails
//! before sending, and their client's gateway is a closed loopback port, so a
//! wrong guess fails fast, locally, and is reported by the status check.
#![no_main]

use chinaums::client::check_service_path;
use chinaums::clock::BeijingTime;
use chinaums::sign::NotifySignType;
use chinaums::{Config, ErrorKind};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use std::ffi::c_char;
use std::sync::OnceLock;
use ums::status::Status;
use ums::*;
use ums_fuzz::{
    check_error_doc, config_json, demo, documented_status_name, is_offline, plain_client, GATEWAY,
};

const MAX_ACTIONS: usize = 12;
const BIG: usize = 64 * 1024;
const LEN_SENTINEL: usize = usize::MAX - 7;

// ---------------------------------------------------------------- clients

struct Handle(*mut UmsClient);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

fn new_client(config: &str) -> *mut UmsClient {
    let c = std::ffi::CString::new(config).unwrap();
    let mut client: *mut UmsClient = std::ptr::null_mut();
    let mut buf = vec![0 as c_char; 4096];
    let mut len = 0usize;
    let s = unsafe {
        ums_client_new(
            c.as_ptr(),
            &mut client,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
        )
    };
    assert_eq!(s, UMS_OK, "fixed fuzz client could not be created");
    client
}

/// The demo app at https://gateway.invalid: same config as `plain_client()`.
fn default_client() -> *mut UmsClient {
    static C: OnceLock<Handle> = OnceLock::new();
    C.get_or_init(|| Handle(new_client(&config_json(GATEWAY, ""))))
        .0
}

/// The demo app at https://gateway.invalid with the demo notifyKey, for
/// `ums_client_verify_notify`.
fn notify_client() -> *mut UmsClient {
    static C: OnceLock<Handle> = OnceLock::new();
    C.get_or_init(|| {
        Handle(new_client(&config_json(
            GATEWAY,
            &format!(r#","notifyKey":"{}""#, demo::NOTIFY_KEY),
        )))
    })
    .0
}

/// The demo app at a closed loopback port, for the gateway exports.
fn loopback_client() -> *mut UmsClient {
    static C: OnceLock<Handle> = OnceLock::new();
    C.get_or_init(|| {
        Handle(new_client(&config_json(
            "https://127.0.0.1:1",
            r#","connectTimeoutMs":200,"timeoutMs":500"#,
        )))
    })
    .0
}

// ---------------------------------------------------------------- input

struct Input<'a> {
    ctl: &'a [u8],
    pos: usize,
    parts: Vec<&'a [u8]>,
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut split = data.split(|b| *b == 0xFF);
        let ctl = split.next().unwrap_or(&[]);
        Input {
            ctl,
            pos: 0,
            parts: split.collect(),
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.ctl.len()
    }

    fn byte(&mut self) -> u8 {
        let b = self.ctl.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn part(&mut self) -> &'a [u8] {
        if self.parts.is_empty() {
            return b"";
        }
        let i = self.byte() as usize % self.parts.len();
        self.parts[i]
    }

    /// A text argument: NULL, or a part up to its first NUL.
    fn text(&mut self) -> CArg {
        let b = self.byte();
        if b % 8 == 0 {
            CArg::null()
        } else {
            CArg::from_bytes(self.part())
        }
    }

    fn timestamp(&mut self) -> CArg {
        match self.byte() % 4 {
            0 => CArg::null(),
            1 => {
                let t = format!(
                    "{:04}{:02}{:02}{:02}{:02}{:02}",
                    2000 + self.byte() as u32 % 100,
                    1 + self.byte() % 12,
                    1 + self.byte() % 28,
                    self.byte() % 24,
                    self.byte() % 60,
                    self.byte() % 60
                );
                CArg::from_bytes(t.as_bytes())
            }
            2 => {
                // 14 digits, often an impossible date or time.
                let t: String = (0..14)
                    .map(|_| char::from(b'0' + self.byte() % 10))
                    .collect();
                CArg::from_bytes(t.as_bytes())
            }
            _ => self.text(),
        }
    }

    fn nonce(&mut self) -> CArg {
        match self.byte() % 4 {
            0 => CArg::null(),
            1 => {
                let n: String = (0..8).map(|_| format!("{:02x}", self.byte())).collect();
                CArg::from_bytes(n.as_bytes())
            }
            2 => {
                // 1 to 16 printable ASCII characters (the documented nonce alphabet, and a few more).
                let len = 1 + self.byte() as usize % 16;
                let n: Vec<u8> = (0..len).map(|_| 0x20 + self.byte() % 0x60).collect();
                CArg::from_bytes(&n)
            }
            _ => self.text(),
        }
    }

    fn operation(&mut self) -> CArg {
        let all = chinaums::ops::ALL;
        match self.byte() % 4 {
            0 => CArg::null(),
            1 => CArg::from_bytes(all[self.byte() as usize % all.len()].name.as_bytes()),
            2 => CArg::from_bytes(all[self.byte() as usize % all.len()].path.as_bytes()),
            _ => self.text(),
        }
    }

    fn out(&mut self) -> OutSpec {
        match self.byte() % 8 {
            0 => OutSpec::NullLen,
            1 => OutSpec::NullBufZeroCap,
            2 => OutSpec::NullBufWithCap(1 + self.byte() as usize),
            3 => OutSpec::DanglingZeroCap,
            4 => OutSpec::Cap(1 + self.byte() as usize % 16),
            5 => OutSpec::Cap(1 + self.byte() as usize),
            6 => OutSpec::Cap(1 + self.byte() as usize * 16),
            _ => OutSpec::Cap(BIG),
        }
    }
}

/// A NUL-terminated argument, or NULL.
struct CArg(Option<Vec<u8>>);

impl CArg {
    fn null() -> Self {
        CArg(None)
    }
    fn from_bytes(b: &[u8]) -> Self {
        let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
        let mut v = b[..end].to_vec();
        v.push(0);
        CArg(Some(v))
    }
    fn ptr(&self) -> *const c_char {
        self.0
            .as_ref()
            .map_or(std::ptr::null(), |v| v.as_ptr().cast())
    }
    fn is_null(&self) -> bool {
        self.0.is_none()
    }
    /// The text the library sees: None for NULL, Some(Err) for non-UTF-8.
    fn text(&self) -> Option<Result<&str, ()>> {
        self.0
            .as_ref()
            .map(|v| std::str::from_utf8(&v[..v.len() - 1]).map_err(|_| ()))
    }
}

#[derive(Clone, Copy, Debug)]
enum OutSpec {
    NullLen,
    NullBufZeroCap,
    NullBufWithCap(usize),
    DanglingZeroCap,
    Cap(usize),
}

// ---------------------------------------------------------------- calling

type Call<'f> = dyn FnMut(*mut c_char, usize, *mut usize) -> i32 + 'f;

fn assert_documented(status: i32) {
    assert!(
        documented_status_name(status).is_some(),
        "undocumented status {status}"
    );
    assert_ne!(status, UMS_ERR_PANIC, "the library panicked");
    assert_ne!(status, UMS_ERR_INTERNAL, "internal error");
}

/// Runs one call with the chosen output arguments and checks the buffer
/// conventions. Returns the final (status, document) once a document fits;
/// None when the output arguments themselves were refused.
fn call_out(spec: OutSpec, stable_len: bool, f: &mut Call<'_>) -> Option<(i32, String)> {
    match spec {
        OutSpec::NullLen => {
            let mut buf = vec![0xAAu8 as c_char; 64];
            let s = f(buf.as_mut_ptr(), buf.len(), std::ptr::null_mut());
            assert_eq!(s, UMS_ERR_NULL_POINTER, "out_len NULL");
            None
        }
        OutSpec::NullBufWithCap(cap) => {
            let mut len = LEN_SENTINEL;
            let s = f(std::ptr::null_mut(), cap, &mut len);
            assert_eq!(s, UMS_ERR_NULL_POINTER, "out_buf NULL with out_cap {cap}");
            None
        }
        OutSpec::NullBufZeroCap | OutSpec::DanglingZeroCap => {
            let ptr = if matches!(spec, OutSpec::NullBufZeroCap) {
                std::ptr::null_mut()
            } else {
                std::ptr::NonNull::<c_char>::dangling().as_ptr()
            };
            let mut len = LEN_SENTINEL;
            let s = f(ptr, 0, &mut len);
            assert_documented(s);
            assert_eq!(
                s, UMS_ERR_BUFFER_TOO_SMALL,
                "out_cap 0 must be a size query"
            );
            assert!(len < 1 << 24, "size query left *out_len at {len}");
            Some(retry(len, stable_len, f))
        }
        OutSpec::Cap(cap) => {
            let mut buf = vec![0xAAu8; cap];
            let mut len = LEN_SENTINEL;
            let s = f(buf.as_mut_ptr().cast(), cap, &mut len);
            assert_documented(s);
            assert!(len < 1 << 24, "*out_len not set ({len})");
            if s == UMS_ERR_BUFFER_TOO_SMALL {
                assert!(len >= cap, "BUFFER_TOO_SMALL but {len} + 1 <= {cap} fits");
                let nul = buf
                    .iter()
                    .position(|b| *b == 0)
                    .expect("BUFFER_TOO_SMALL left no NUL-terminated text in the buffer");
                if nul > 0 {
                    let note: Value = serde_json::from_slice(&buf[..nul])
                        .expect("the too-small note is not JSON");
                    assert_eq!(note["status"], "UMS_ERR_BUFFER_TOO_SMALL");
                    assert_eq!(note["needed"].as_u64(), Some(len as u64 + 1));
                }
                Some(retry(len, stable_len, f))
            } else {
                Some((s, written_doc(&buf, len)))
            }
        }
    }
}

const MIN_NOTE: &str = r#"{"status":"UMS_ERR_BUFFER_TOO_SMALL","needed":256,"nothingSent":true}"#;

/// `call_out` for an operation export. Below UMS_MIN_OUT_CAP nothing is
/// parsed unless a NULL argument (`null_arg`) is reported first: the status
/// is UMS_ERR_BUFFER_TOO_SMALL, `*out_len` UMS_MIN_OUT_CAP - 1, the note the
/// fixed one (or ""). From it on, a document that does not fit is kept and
/// named by an `answerId`, taken here.
fn call_op_out(
    spec: OutSpec,
    null_arg: bool,
    client: *const UmsClient,
    f: &mut Call<'_>,
) -> Option<(i32, String)> {
    let (cap, dangling) = match spec {
        OutSpec::NullLen | OutSpec::NullBufWithCap(_) => return call_out(spec, true, f),
        OutSpec::NullBufZeroCap => (0, false),
        OutSpec::DanglingZeroCap => (0, true),
        OutSpec::Cap(cap) => (cap, false),
    };
    let mut buf = vec![0xAAu8; cap];
    let ptr: *mut c_char = if cap > 0 {
        buf.as_mut_ptr().cast()
    } else if dangling {
        std::ptr::NonNull::<c_char>::dangling().as_ptr()
    } else {
        std::ptr::null_mut()
    };
    let mut len = LEN_SENTINEL;
    let s = f(ptr, cap, &mut len);
    assert_documented(s);
    assert!(len < 1 << 24, "*out_len not set ({len})");
    if s != UMS_ERR_BUFFER_TOO_SMALL {
        return Some((s, written_doc(&buf, len)));
    }
    assert!(len >= cap, "BUFFER_TOO_SMALL but {len} + 1 <= {cap} fits");
    let note = if cap > 0 {
        let nul = buf
            .iter()
            .position(|b| *b == 0)
            .expect("BUFFER_TOO_SMALL left no NUL-terminated text");
        std::str::from_utf8(&buf[..nul])
            .expect("the note is not UTF-8")
            .to_string()
    } else {
        String::new()
    };
    if cap < UMS_MIN_OUT_CAP && !null_arg {
        assert_eq!(
            len,
            UMS_MIN_OUT_CAP - 1,
            "an operation below UMS_MIN_OUT_CAP"
        );
        assert!(note.is_empty() || note == MIN_NOTE, "note {note:?}");
        assert!(
            cap <= MIN_NOTE.len() || note == MIN_NOTE,
            "the fixed note fits {cap} but was not written"
        );
    } else if cap >= UMS_MIN_OUT_CAP {
        return Some(take_kept(&note, len, client));
    }
    Some(op_retry(len, client, f))
}

/// The call again with room for `len` bytes (at least UMS_MIN_OUT_CAP).
fn op_retry(len: usize, client: *const UmsClient, f: &mut Call<'_>) -> (i32, String) {
    let cap = (len + 1).max(UMS_MIN_OUT_CAP);
    let mut buf = vec![0xAAu8; cap];
    let mut len2 = LEN_SENTINEL;
    let s = f(buf.as_mut_ptr().cast(), cap, &mut len2);
    assert_documented(s);
    if s != UMS_ERR_BUFFER_TOO_SMALL {
        return (s, written_doc(&buf, len2));
    }
    let nul = buf
        .iter()
        .position(|b| *b == 0)
        .expect("no NUL-terminated note");
    let note = std::str::from_utf8(&buf[..nul])
        .expect("the note is not UTF-8")
        .to_string();
    take_kept(&note, len2, client)
}

/// Takes the answer a note names (`len` bytes), checks it is handed over
/// once, with the status the note announced.
fn take_kept(note: &str, len: usize, client: *const UmsClient) -> (i32, String) {
    let v: Value = serde_json::from_str(note)
        .unwrap_or_else(|_| panic!("the kept note is not JSON: {note:?}"));
    assert_eq!(v["status"], "UMS_ERR_BUFFER_TOO_SMALL", "{note}");
    assert_eq!(v["needed"].as_u64(), Some(len as u64 + 1), "{note}");
    let id = v["answerId"]
        .as_str()
        .unwrap_or_else(|| panic!("a too-small operation without answerId: {note}"));
    assert!(
        id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    let announced = v["answerStatus"]
        .as_str()
        .expect("answerStatus")
        .to_string();
    assert!(
        note.len() < UMS_MIN_OUT_CAP,
        "the note is longer than UMS_MIN_OUT_CAP: {note}"
    );
    let cid = std::ffi::CString::new(id).unwrap();
    let mut buf = vec![0xAAu8; len + 1];
    let mut len2 = LEN_SENTINEL;
    let taken = unsafe {
        ums_take_answer(
            client,
            cid.as_ptr(),
            buf.as_mut_ptr().cast(),
            len + 1,
            &mut len2,
        )
    };
    assert_documented(taken);
    assert_eq!(
        documented_status_name(taken),
        Some(announced.as_str()),
        "taken status vs answerStatus"
    );
    assert_eq!(len2, len, "the kept document changed length");
    let doc = written_doc(&buf, len2);
    let mut again = vec![0u8; 1024];
    let mut len3 = LEN_SENTINEL;
    let s = unsafe {
        ums_take_answer(
            client,
            cid.as_ptr(),
            again.as_mut_ptr().cast(),
            again.len(),
            &mut len3,
        )
    };
    assert_eq!(s, UMS_ERR_ANSWER_GONE, "an answer taken twice");
    (taken, doc)
}

fn retry(len: usize, stable_len: bool, f: &mut Call<'_>) -> (i32, String) {
    let cap = len + 1;
    let mut buf = vec![0xAAu8; cap];
    let mut len2 = LEN_SENTINEL;
    let s = f(buf.as_mut_ptr().cast(), cap, &mut len2);
    assert_documented(s);
    if stable_len {
        assert_ne!(
            s, UMS_ERR_BUFFER_TOO_SMALL,
            "retry with out_cap = *out_len + 1 = {cap} is still too small ({len2})"
        );
        assert_eq!(
            len2, len,
            "the document changed length between the size query and the retry"
        );
    }
    if s == UMS_ERR_BUFFER_TOO_SMALL {
        return retry(len2, false, f);
    }
    (s, written_doc(&buf, len2))
}

fn written_doc(buf: &[u8], len: usize) -> String {
    assert!(
        len < buf.len(),
        "status is not BUFFER_TOO_SMALL but {len} + 1 > {}",
        buf.len()
    );
    assert_eq!(buf[len], 0, "no NUL at out_len");
    let doc = std::str::from_utf8(&buf[..len]).expect("the document is not UTF-8");
    assert!(!doc.contains('\0'), "NUL inside the document");
    doc.to_string()
}

fn ok_doc(doc: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(m)) => m,
        _ => panic!("UMS_OK document is not a JSON object: {doc:?}"),
    }
}

fn keys(m: &Map<String, Value>) -> Vec<&str> {
    let mut k: Vec<&str> = m.keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// The status a failing safe-API call maps to.
fn status_of(kind: ErrorKind) -> i32 {
    Status::from(kind).0
}

/// The documented argument checks for `timestamp` and `nonce`, in order.
fn ts_nonce_status(ts: &CArg, nonce: &CArg) -> Option<i32> {
    match ts.text() {
        Some(Err(())) => return Some(UMS_ERR_INVALID_UTF8),
        Some(Ok(t)) if BeijingTime::parse_compact(t).is_none() => {
            return Some(UMS_ERR_INVALID_ARGUMENT)
        }
        _ => {}
    }
    match nonce.text() {
        Some(Err(())) => Some(UMS_ERR_INVALID_UTF8),
        Some(Ok(n))
            if n.is_empty()
                || n.len() > 128
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b',') =>
        {
            Some(UMS_ERR_INVALID_ARGUMENT)
        }
        _ => None,
    }
}

fn text_status(a: &CArg) -> Option<i32> {
    match a.text() {
        None => Some(UMS_ERR_NULL_POINTER),
        Some(Err(())) => Some(UMS_ERR_INVALID_UTF8),
        Some(Ok(_)) => None,
    }
}

/// `UMS_FUZZ_TRACE=1`: print each checked call (to see what an input does).
fn trace() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| std::env::var_os("UMS_FUZZ_TRACE").is_some())
}

fn check_result(status: i32, doc: &str, expected: Option<i32>, what: &str) {
    if trace() {
        eprintln!(
            "{what}: status {status} (expected {expected:?}): {}",
            &doc[..doc.len().min(160)]
        );
    }
    if let Some(e) = expected {
        assert_eq!(
            status, e,
            "{what}: status {status}, expected {e}; document {doc}"
        );
    }
    if status != UMS_OK {
        check_error_doc(status, doc);
    }
}

/// The header's pairs must come back as signed (the library's own parser,
/// also the simulator's).
fn check_header(auth: &str, app_id: &str, ts: &str, nonce: &str) {
    let h = chinaums::sign::parse_body_sig_header(auth).unwrap_or_else(|| {
        panic!("the library cannot parse its own Authorization header: {auth:?}")
    });
    assert_eq!(
        (h.app_id.as_str(), h.timestamp.as_str(), h.nonce.as_str()),
        (app_id, ts, nonce)
    );
}

// ---------------------------------------------------------------- actions

fn pick_client(input: &mut Input, created: &[*mut UmsClient]) -> (*const UmsClient, bool) {
    match input.byte() % 4 {
        0 => (std::ptr::null(), false),
        3 if !created.is_empty() => {
            let i = input.byte() as usize % created.len();
            (created[i], false)
        }
        _ => (default_client(), true),
    }
}

fn act_verify(input: &mut Input) {
    let key = match input.byte() % 4 {
        0 => CArg::from_bytes(demo::NOTIFY_KEY.as_bytes()),
        _ => input.text(),
    };
    let mode = input.byte() % 5;
    let source = input.part();
    let signed;
    let (ptr, len): (*const u8, usize) = match mode {
        0 => (std::ptr::null(), 0),
        1 => (std::ptr::null(), 1 + input.byte() as usize),
        2 => {
            // A body signed by sign_form from the part's form fields.
            signed = match chinaums::notify::parse_form(source) {
                Ok(pairs) => {
                    let fields: Vec<(&str, &str)> = pairs
                        .iter()
                        .filter(|(k, _)| k != "sign")
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let t = fields
                        .iter()
                        .find(|(k, _)| *k == "signType")
                        .and_then(|(_, v)| NotifySignType::from_field(Some(v)))
                        .unwrap_or(NotifySignType::Md5);
                    let k = key.text().and_then(Result::ok).unwrap_or(demo::NOTIFY_KEY);
                    chinaums::notify::sign_form(k, t, &fields).into_bytes()
                }
                Err(_) => source.to_vec(),
            };
            (signed.as_ptr(), signed.len())
        }
        _ => (source.as_ptr(), source.len()),
    };
    let body: &[u8] = if ptr.is_null() {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    let expected: Result<Option<String>, i32> = match key.text() {
        None => Err(UMS_ERR_NULL_POINTER),
        Some(Err(())) => Err(UMS_ERR_INVALID_UTF8),
        Some(Ok(_)) if ptr.is_null() && len > 0 => Err(UMS_ERR_NULL_POINTER),
        Some(Ok(k)) => match chinaums::notify::verify(k, body) {
            Ok(v) => Ok(Some(v.to_json().to_string())),
            Err(e) => Err(status_of(e.kind)),
        },
    };
    let out = input.out();
    let r = call_out(out, true, &mut |b, c, l| unsafe {
        ums_verify_notify(key.ptr(), ptr, len, b, c, l)
    });
    let Some((status, doc)) = r else { return };
    if key.text() == Some(Ok(demo::NOTIFY_KEY)) {
        // The client's own key: the same status and document.
        let r = call_out(OutSpec::Cap(BIG), true, &mut |b, c, l| unsafe {
            ums_client_verify_notify(notify_client(), ptr, len, b, c, l)
        });
        let (s2, d2) = r.expect("a big buffer");
        assert_eq!(
            (s2, d2.as_str()),
            (status, doc.as_str()),
            "ums_client_verify_notify differs"
        );
    }
    match expected {
        Ok(Some(d)) => {
            check_result(status, &doc, Some(UMS_OK), "ums_verify_notify");
            assert_eq!(
                doc, d,
                "the C document differs from VerifiedNotification::to_json"
            );
            assert_eq!(ok_doc(&doc)["valid"], true);
        }
        Ok(None) => unreachable!(),
        Err(e) => check_result(status, &doc, Some(e), "ums_verify_notify"),
    }
}

/// What the library will be given as a config: the input's text, except that
/// an accepted config whose gateway could be a real machine (not
/// `is_offline`) is sent to GATEWAY, and `caFile` is dropped.
fn safe_config(arg: CArg) -> CArg {
    let Some(Ok(text)) = arg.text() else {
        return arg;
    };
    // A config the library refuses creates no client: nothing can be sent.
    let Ok(config) = Config::from_json(text) else {
        return arg;
    };
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text) else {
        unreachable!("Config::from_json accepted a non-object")
    };
    let reaches_out = |key: &str| map.get(key).is_some_and(|v| !v.is_null());
    if is_offline(&config.environment) && !NETWORK_KEYS.iter().any(|k| reaches_out(k)) {
        return arg;
    }
    if !is_offline(&config.environment) {
        map.insert("environment".into(), GATEWAY.into());
    }
    for key in NETWORK_KEYS {
        map.remove(*key);
    }
    CArg::from_bytes(Value::Object(map).to_string().as_bytes())
}

/// Keys that make a client read or write a file (`journal`: a SQLite
/// file), reach another host (a proxy, a Redis server) or read the
/// environment: never from fuzz input.
const NETWORK_KEYS: &[&str] = &[
    "caFile",
    "journal",
    "proxy",
    "tokenStore",
    "claimStore",
    "redisCaFile",
    "fromEnvironment",
    "environmentDefault",
];

fn act_client_new(input: &mut Input, created: &mut Vec<*mut UmsClient>) {
    let config = match input.byte() % 4 {
        0 => CArg::from_bytes(config_json(GATEWAY, "").as_bytes()),
        _ => input.text(),
    };
    let config = safe_config(config);
    let null_out_client = input.byte() % 16 == 0;
    let out = input.out();
    let expected: Option<Result<Config, chinaums::Error>> = match config.text() {
        Some(Ok(t)) => Some(Config::from_json(t)),
        _ => None,
    };
    let expected_status = match (&expected, config.text()) {
        (_, None) => UMS_ERR_NULL_POINTER,
        (_, Some(Err(()))) => UMS_ERR_INVALID_UTF8,
        (Some(Ok(_)), _) => UMS_OK,
        (Some(Err(e)), _) => status_of(e.kind),
        (None, Some(Ok(_))) => unreachable!(),
    };
    assert!(
        !matches!(&expected, Some(Ok(c)) if !is_offline(&c.environment) || c.ca_file.is_some() || c.proxy.is_some()),
        "safe_config let a config through that could reach a real gateway or read a file"
    );
    if null_out_client {
        let r = call_out(out, true, &mut |b, c, l| unsafe {
            ums_client_new(config.ptr(), std::ptr::null_mut(), b, c, l)
        });
        if let Some((status, doc)) = r {
            check_result(
                status,
                &doc,
                Some(UMS_ERR_NULL_POINTER),
                "ums_client_new, out_client NULL",
            );
        }
        return;
    }
    let mut last_ok = false;
    let r = call_out(out, true, &mut |b, c, l| {
        let mut client = 8usize as *mut UmsClient; // garbage: must be overwritten
        let s = unsafe { ums_client_new(config.ptr(), &mut client, b, c, l) };
        if s == UMS_OK {
            assert!(!client.is_null(), "UMS_OK without a client");
            created.push(client);
            last_ok = true;
        } else {
            assert!(client.is_null(), "status {s} but *out_client is not NULL");
        }
        s
    });
    let Some((status, doc)) = r else { return };
    assert_eq!(last_ok, status == UMS_OK);
    check_result(status, &doc, Some(expected_status), "ums_client_new");
    if status == UMS_OK {
        let m = ok_doc(&doc);
        assert_eq!(
            keys(&m),
            [
                "appId",
                "auth",
                "baseUrl",
                "claimStore",
                "status",
                "tokenStore",
                "version"
            ],
            "{doc}"
        );
        // The stores are named without their password.
        assert!(
            !m["tokenStore"].as_str().unwrap_or("").contains('@'),
            "{doc}"
        );
        assert!(
            !m["claimStore"].as_str().unwrap_or("").contains('@'),
            "{doc}"
        );
        assert_eq!(m["status"], "UMS_OK");
        if let Some(Ok(c)) = &expected {
            assert_eq!(m["appId"], c.app_id.as_str());
        }
    } else if let Some(Err(e)) = &expected {
        let v: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            v.get("field").and_then(Value::as_str),
            e.field.as_deref(),
            "{doc}"
        );
    }
    while created.len() > 4 {
        unsafe { ums_client_free(created.remove(0)) };
    }
}

fn act_prepare(input: &mut Input, created: &[*mut UmsClient]) {
    let (client, is_default) = pick_client(input, created);
    let op = input.operation();
    let request = input.text();
    let ts = input.timestamp();
    let nonce = input.nonce();
    let out = input.out();
    let deterministic = !ts.is_null() && !nonce.is_null();
    let r = call_out(out, true, &mut |b, c, l| unsafe {
        ums_prepare(
            client,
            op.ptr(),
            request.ptr(),
            ts.ptr(),
            nonce.ptr(),
            b,
            c,
            l,
        )
    });
    let Some((status, doc)) = r else { return };

    let mut expected = if client.is_null() {
        Some(UMS_ERR_NULL_POINTER)
    } else {
        text_status(&op)
            .or_else(|| text_status(&request))
            .or_else(|| ts_nonce_status(&ts, &nonce))
    };
    let mut rust_body = None;
    if expected.is_none() && is_default {
        let (Some(Ok(o)), Some(Ok(r))) = (op.text(), request.text()) else {
            unreachable!()
        };
        let now = match ts.text() {
            Some(Ok(t)) => BeijingTime::parse_compact(t).unwrap(),
            _ => plain_client().now(),
        };
        match plain_client().prepare_call(o, r, now) {
            Ok(p) => {
                expected = Some(UMS_OK);
                rust_body = Some(p.body);
            }
            Err(e) => expected = Some(status_of(e.kind)),
        }
    }
    check_result(status, &doc, expected, "ums_prepare");
    if status != UMS_OK {
        return;
    }
    let m = ok_doc(&doc);
    assert_eq!(keys(&m), ["authorization", "body", "path", "url"], "{doc}");
    let body = m["body"].as_str().expect("body is a string");
    assert!(
        matches!(serde_json::from_str::<Value>(body), Ok(Value::Object(_))),
        "the prepared body is not a JSON object: {body}"
    );
    let auth = m["authorization"]
        .as_str()
        .expect("authorization is a string");
    if is_default {
        assert_eq!(
            m["url"].as_str().unwrap(),
            format!("{GATEWAY}{}", m["path"].as_str().unwrap())
        );
        if deterministic {
            let (t, n) = (ts.text().unwrap().unwrap(), nonce.text().unwrap().unwrap());
            assert_eq!(
                Some(body.as_bytes()),
                rust_body.as_deref(),
                "ums_prepare's body differs from Client::prepare_call's"
            );
            assert_eq!(
                auth,
                chinaums::sign::sign_body(demo::APP_ID, demo::APP_KEY, t, n, body.as_bytes())
            );
            check_header(auth, demo::APP_ID, t, n);
        }
    }
}

fn act_sign_body(input: &mut Input, created: &[*mut UmsClient]) {
    let (client, is_default) = pick_client(input, created);
    let mode = input.byte() % 4;
    let part = input.part();
    let (ptr, len): (*const u8, usize) = match mode {
        0 => (std::ptr::null(), 0),
        1 => (std::ptr::null(), 1 + input.byte() as usize),
        _ => (part.as_ptr(), part.len()),
    };
    let ts = input.timestamp();
    let nonce = input.nonce();
    let out = input.out();
    let r = call_out(out, true, &mut |b, c, l| unsafe {
        ums_sign_body(client, ptr, len, ts.ptr(), nonce.ptr(), b, c, l)
    });
    let Some((status, doc)) = r else { return };
    let expected = if client.is_null() || (ptr.is_null() && len > 0) {
        Some(UMS_ERR_NULL_POINTER)
    } else {
        Some(ts_nonce_status(&ts, &nonce).unwrap_or(UMS_OK))
    };
    check_result(status, &doc, expected, "ums_sign_body");
    if status != UMS_OK {
        return;
    }
    let m = ok_doc(&doc);
    assert_eq!(keys(&m), ["authorization", "nonce", "timestamp"], "{doc}");
    let (auth, t, n) = (
        m["authorization"].as_str().unwrap(),
        m["timestamp"].as_str().unwrap(),
        m["nonce"].as_str().unwrap(),
    );
    assert!(BeijingTime::parse_compact(t).is_some(), "bad timestamp {t}");
    if let Some(Ok(given)) = ts.text() {
        assert_eq!(t, given);
    }
    if let Some(Ok(given)) = nonce.text() {
        assert_eq!(n, given);
    }
    if is_default {
        let body: &[u8] = if ptr.is_null() { &[] } else { part };
        assert_eq!(
            auth,
            chinaums::sign::sign_body(demo::APP_ID, demo::APP_KEY, t, n, body)
        );
        check_header(auth, demo::APP_ID, t, n);
    }
}

fn act_token_request(input: &mut Input, created: &[*mut UmsClient]) {
    let (client, is_default) = pick_client(input, created);
    let ts = input.timestamp();
    let nonce = input.nonce();
    let out = input.out();
    let r = call_out(out, true, &mut |b, c, l| unsafe {
        ums_token_request(client, ts.ptr(), nonce.ptr(), b, c, l)
    });
    let Some((status, doc)) = r else { return };
    let expected = if client.is_null() {
        UMS_ERR_NULL_POINTER
    } else {
        ts_nonce_status(&ts, &nonce).unwrap_or(UMS_OK)
    };
    check_result(status, &doc, Some(expected), "ums_token_request");
    if status != UMS_OK {
        return;
    }
    let m = ok_doc(&doc);
    assert_eq!(
        keys(&m),
        ["appId", "nonce", "signMethod", "signature", "timestamp"],
        "{doc}"
    );
    if is_default {
        let (t, n) = (
            m["timestamp"].as_str().unwrap(),
            m["nonce"].as_str().unwrap(),
        );
        assert_eq!(m["appId"], demo::APP_ID);
        assert_eq!(
            m["signature"],
            chinaums::sign::token_signature(demo::APP_ID, demo::APP_KEY, t, n)
        );
    }
}

fn act_new_id(input: &mut Input, created: &[*mut UmsClient]) {
    let (client, is_default) = pick_client(input, created);
    let out = input.out();
    let r = call_out(out, true, &mut |b, c, l| unsafe {
        ums_new_id(client, b, c, l)
    });
    let Some((status, doc)) = r else { return };
    let expected = if client.is_null() {
        Some(UMS_ERR_NULL_POINTER)
    } else if is_default {
        Some(UMS_OK)
    } else {
        None
    };
    check_result(status, &doc, expected, "ums_new_id");
    if status == UMS_OK {
        let m = ok_doc(&doc);
        let id = m["id"].as_str().expect("id");
        assert_eq!(id.len(), 28, "{id}");
        if is_default {
            assert!(id.starts_with(demo::MSG_SRC_ID));
        }
    }
}

type GatewayExport = unsafe extern "C" fn(
    *const UmsClient,
    *const c_char,
    *mut c_char,
    usize,
    *mut usize,
) -> UmsStatus;

const EXPORTS: &[(&str, GatewayExport)] = &[
    ("update-qrcode", ums_update_qrcode),
    ("get-qrcode", ums_get_qrcode),
    ("close-qrcode", ums_close_qrcode),
    ("query-bill", ums_query_bill),
    ("refund", ums_refund),
    ("query-qrcode-info", ums_query_qrcode_info),
    ("preauth-complete", ums_preauth_complete),
    ("preauth-cancel", ums_preauth_cancel),
    ("secure-cancel", ums_secure_cancel),
    ("secure-complete", ums_secure_complete),
];

/// A gateway export, only when the safe API shows it fails before sending.
fn act_gateway(input: &mut Input) {
    let via_call = input.byte() % 2 == 0;
    let (op, export) = if via_call {
        (input.operation(), None)
    } else {
        let (name, f) = EXPORTS[input.byte() as usize % EXPORTS.len()];
        (CArg::from_bytes(name.as_bytes()), Some(f))
    };
    let request = input.text();
    let out = input.out();
    // The status the call must return without sending; None: it might send.
    let expected = (|| {
        // Operations check every pointer first (below UMS_MIN_OUT_CAP nothing
        // else is looked at), then the texts.
        if op.is_null() || request.is_null() {
            return Some(UMS_ERR_NULL_POINTER);
        }
        if let Some(s) = text_status(&op) {
            return Some(s);
        }
        if let Some(s) = text_status(&request) {
            return Some(s);
        }
        let (Some(Ok(o)), Some(Ok(r))) = (op.text(), request.text()) else {
            unreachable!()
        };
        // ums_call takes a service path only (an operation name such as
        // "refund" is an invalid path there); the named exports need none.
        if via_call && check_service_path(o).is_err() {
            return Some(UMS_ERR_INVALID_ARGUMENT);
        }
        match plain_client().prepare_call(o, r, plain_client().now()) {
            Ok(_) => None,
            Err(e) => Some(status_of(e.kind)),
        }
    })();
    let Some(expected) = expected else { return };
    let client = loopback_client();
    let null_arg = op.is_null() || request.is_null();
    let r = call_op_out(out, null_arg, client, &mut |b, c, l| unsafe {
        match export {
            Some(f) => f(client, request.ptr(), b, c, l),
            None => ums_call(client, op.ptr(), request.ptr(), b, c, l),
        }
    });
    let Some((status, doc)) = r else { return };
    check_result(status, &doc, Some(expected), "gateway export");
    let v = check_error_doc(status, &doc);
    assert_eq!(v["nothingSent"], true, "{doc}");
}

fn act_statics(input: &mut Input) {
    let status = i32::from_le_bytes([input.byte(), input.byte(), input.byte(), input.byte()]);
    for s in [status, status % 128, UMS_OK] {
        let p = ums_status_str(s);
        assert!(!p.is_null());
        let text = unsafe { std::ffi::CStr::from_ptr(p) }
            .to_str()
            .expect("status text is UTF-8");
        assert!(!text.is_empty());
    }
    let v = unsafe { std::ffi::CStr::from_ptr(ums_version()) };
    assert_eq!(
        v.to_str().unwrap(),
        format!("{UMS_VERSION_MAJOR}.{UMS_VERSION_MINOR}.{UMS_VERSION_PATCH}")
    );
    let reply = unsafe { std::ffi::CStr::from_ptr(ums_notify_reply(status)) };
    assert_eq!(
        reply.to_bytes(),
        if status != 0 {
            b"SUCCESS" as &[u8]
        } else {
            b"FAILED"
        }
    );
    // An answer id never issued (made from the same bytes): gone, sent nothing.
    let id = std::ffi::CString::new(format!("{:08x}", status as u32).repeat(4)).unwrap();
    let r = call_out(
        OutSpec::Cap(1 + (status as u32 as usize) % 512),
        true,
        &mut |b, c, l| unsafe { ums_take_answer(default_client(), id.as_ptr(), b, c, l) },
    );
    if let Some((s, doc)) = r {
        check_result(s, &doc, Some(UMS_ERR_ANSWER_GONE), "ums_take_answer");
        let v = check_error_doc(s, &doc);
        assert_eq!(
            (v["outcomeUnknown"].as_bool(), v["phase"].as_str()),
            (Some(true), Some("sent")),
            "{doc}"
        );
    }
    unsafe { ums_client_free(std::ptr::null_mut()) };
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut created: Vec<*mut UmsClient> = Vec::new();
    let mut n = 0;
    while !input.done() && n < MAX_ACTIONS {
        n += 1;
        match input.byte() % 9 {
            0 => act_verify(&mut input),
            1 => act_client_new(&mut input, &mut created),
            2 | 3 => act_prepare(&mut input, &created),
            4 => act_sign_body(&mut input, &created),
            5 => act_token_request(&mut input, &created),
            6 => act_new_id(&mut input, &created),
            7 => act_gateway(&mut input),
            _ => act_statics(&mut input),
        }
    }
    for c in created {
        unsafe { ums_client_free(c) };
    }
});
