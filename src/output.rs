//! Argument reading and result writing shared by every export, and the panic
//! guard they all go through.

use crate::status::*;
use chinaums::error::Error;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failure of an export: its status and the JSON error document.
pub struct Failure {
    pub status: UmsStatus,
    pub doc: String,
}

impl Failure {
    /// A failure detected by the ABI layer itself (NULL, UTF-8, sizes):
    /// nothing left the process.
    pub fn abi(status: UmsStatus, message: &str) -> Failure {
        Failure::document(status, "abi", message, Phase::Local)
    }

    /// An error document of the ABI layer: `status`, `kind`, `message`, and
    /// the three money-safety members decided by `phase`.
    pub fn document(status: UmsStatus, kind: &str, message: &str, phase: Phase) -> Failure {
        let sent = phase == Phase::Sent;
        let doc = serde_json::json!({
            "status": Status(status).name(),
            "kind": kind,
            "message": message,
            "outcomeUnknown": sent,
            "nothingSent": !sent,
            "phase": phase.as_str(),
        });
        Failure {
            status,
            doc: doc.to_string(),
        }
    }

    /// The document of a caught panic. `sent`: the request's bytes were
    /// handed to a gateway connection during the call (the transport's
    /// per-thread write counter moved), so its outcome is unknown.
    pub fn panic(sent: bool) -> Failure {
        if sent {
            Failure::document(
                UMS_ERR_PANIC,
                "abi",
                "the library panicked after the request was sent; its outcome is unknown: query before deciding (please report this bug)",
                Phase::Sent,
            )
        } else {
            Failure::document(
                UMS_ERR_PANIC,
                "abi",
                "the library panicked before anything was sent; the call was abandoned (please report this bug)",
                Phase::Local,
            )
        }
    }
}

/// Where a call was when it ended, as error documents report it (`"phase"`;
/// the core's `ErrorKind::phase` uses the same words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing left the process.
    Local,
    /// The request (or part of it) was handed to a gateway connection.
    Sent,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Local => "local",
            Phase::Sent => "sent",
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            status: Status::from(e.kind).0,
            doc: error_document(&e).to_string(),
        }
    }
}

/// The error document of the C ABI (and of the CLI): the core's document
/// with the C status name first.
pub fn error_document(e: &Error) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    doc.insert("status".into(), Status::from(e.kind).name().into());
    if let serde_json::Value::Object(rest) = e.to_json() {
        doc.extend(rest);
    }
    serde_json::Value::Object(doc)
}

/// A JSON object of string members, written directly: the hot exports
/// (`ums_sign_body`, `ums_new_id`) spent more building a `json!` value (a
/// map, its keys, a second pass to print it) than signing.
pub fn string_object(members: &[(&str, &str)]) -> String {
    let mut out = Vec::with_capacity(
        2 + members
            .iter()
            .map(|(k, v)| k.len() + v.len() + 8)
            .sum::<usize>(),
    );
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing a &str to a Vec cannot fail; serde_json escapes it.
        let _ = serde_json::to_writer(&mut out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, value);
    }
    out.push(b'}');
    // Only UTF-8 went in: the members and JSON punctuation.
    String::from_utf8(out).unwrap_or_default()
}

/// What an export produced: the status and the document for the buffer.
pub struct Produced {
    pub status: UmsStatus,
    pub doc: String,
    /// `Some(n)`: `doc` is a short note standing in for a document of `n`
    /// bytes that is not written (`*out_len` = n, the note written when it
    /// fits, else an empty string). `None`: `doc` is the document itself.
    pub stands_for: Option<usize>,
}

impl Produced {
    pub fn ok(doc: String) -> Produced {
        Produced {
            status: UMS_OK,
            doc,
            stands_for: None,
        }
    }

    /// A short note written instead of a document of `len` bytes.
    pub fn note(status: UmsStatus, note: String, len: usize) -> Produced {
        Produced {
            status,
            doc: note,
            stands_for: Some(len),
        }
    }
}

impl From<Failure> for Produced {
    fn from(f: Failure) -> Produced {
        Produced {
            status: f.status,
            doc: f.doc,
            stands_for: None,
        }
    }
}

/// The caller's output buffer, checked once.
#[derive(Clone, Copy)]
pub struct OutBuf {
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
}

impl OutBuf {
    /// `out_len` must not be NULL; `out_buf` may be NULL only when `out_cap` is 0.
    pub fn new(buf: *mut c_char, cap: usize, len: *mut usize) -> Option<OutBuf> {
        if len.is_null() || (buf.is_null() && cap != 0) {
            return None;
        }
        Some(OutBuf { buf, cap, len })
    }

    /// Whether a document of `len` bytes plus its NUL fits.
    pub fn fits(&self, len: usize) -> bool {
        len < self.cap
    }

    /// The caller's capacity, `out_cap`.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Writes `doc` and its NUL, or reports the size needed. `*out_len` is
    /// always the document's length without the NUL.
    ///
    /// # Safety
    /// `buf` must point to `cap` writable bytes and `len` to a writable `usize`.
    pub unsafe fn write(&self, status: UmsStatus, doc: &str) -> UmsStatus {
        if self.fits(doc.len()) {
            *self.len = doc.len();
            std::ptr::copy_nonoverlapping(doc.as_ptr(), self.buf.cast::<u8>(), doc.len());
            *self.buf.add(doc.len()) = 0;
            return status;
        }
        // Too small: still leave a NUL-terminated document when one fits.
        let short = format!(
            "{{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":{}}}",
            doc.len() + 1
        );
        self.write_note(UMS_ERR_BUFFER_TOO_SMALL, &short, doc.len())
    }

    /// Sets `*out_len` to `len` and writes `note` with its NUL when it fits,
    /// else an empty string (when `cap` > 0). Returns `status`.
    ///
    /// # Safety
    /// As [`OutBuf::write`].
    pub unsafe fn write_note(&self, status: UmsStatus, note: &str, len: usize) -> UmsStatus {
        *self.len = len;
        let note = if note.len() < self.cap { note } else { "" };
        if self.cap > 0 {
            std::ptr::copy_nonoverlapping(note.as_ptr(), self.buf.cast::<u8>(), note.len());
            *self.buf.add(note.len()) = 0;
        }
        status
    }
}

/// Runs an export's body with panics caught, then writes its document.
/// Every export that fills a buffer goes through here.
///
/// A panic becomes `UMS_ERR_PANIC` with a document that tells whether the
/// request was sent: the transport's per-thread count of request writes is
/// read when the export starts and again in the handler. (Panic documents
/// are shorter than `UMS_MIN_OUT_CAP`, so an operation, which has at least
/// that much room once past its pointer checks, always receives its own.)
pub fn run(out: Option<OutBuf>, body: impl FnOnce(&OutBuf) -> Produced) -> UmsStatus {
    let Some(out) = out else {
        return UMS_ERR_NULL_POINTER;
    };
    let writes_at_start = chinaums::transport::write_calls_on_this_thread();
    let produced = catch_unwind(AssertUnwindSafe(|| body(&out))).unwrap_or_else(|_| {
        let sent = chinaums::transport::write_calls_on_this_thread() != writes_at_start;
        Failure::panic(sent).into()
    });
    // SAFETY: `out` was checked by `OutBuf::new`; the caller promises the sizes.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        match produced.stands_for {
            None => out.write(produced.status, &produced.doc),
            Some(len) => out.write_note(produced.status, &produced.doc, len),
        }
    }))
    .unwrap_or(UMS_ERR_PANIC)
}

/// Runs an export that writes no buffer, with panics caught.
pub fn run_plain<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Reads a NUL-terminated UTF-8 argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string.
pub unsafe fn text_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::abi(
            UMS_ERR_NULL_POINTER,
            &format!("`{name}` is NULL"),
        ));
    }
    let bytes = CStr::from_ptr(ptr).to_bytes();
    std::str::from_utf8(bytes).map_err(|_| {
        // Where the bad byte is (never the text itself: it may hold secrets).
        let place = chinaums::json::syntax::check_utf8(bytes).unwrap_or_default();
        Failure::abi(
            UMS_ERR_INVALID_UTF8,
            &format!("`{name}` is not valid UTF-8: {place}"),
        )
    })
}

/// Reads an optional NUL-terminated UTF-8 argument (NULL means absent).
///
/// # Safety
/// As [`text_arg`].
pub unsafe fn opt_text_arg<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        Ok(None)
    } else {
        text_arg(ptr, name).map(Some)
    }
}

/// Reads a byte buffer (`ptr` may be NULL only when `len` is 0).
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
pub unsafe fn bytes_arg<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::abi(
            UMS_ERR_NULL_POINTER,
            &format!("`{name}` is NULL"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(Failure::abi(
            UMS_ERR_INVALID_ARGUMENT,
            &format!("`{name}_len` is too large"),
        ));
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// The document of a successful gateway call or the error document of a failed one.
pub fn gateway_result(result: chinaums::Result<chinaums::Answer>) -> Produced {
    match result {
        Ok(answer) => Produced::ok(answer.text),
        Err(e) => Failure::from(e).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_and_panic_documents_report_their_phase() {
        let v: serde_json::Value =
            serde_json::from_str(&Failure::abi(UMS_ERR_NULL_POINTER, "`x` is NULL").doc).unwrap();
        assert_eq!(v["phase"], "local");
        assert_eq!(v["nothingSent"], true);
        assert_eq!(v["outcomeUnknown"], false);
        for sent in [false, true] {
            let f = Failure::panic(sent);
            assert!(f.doc.len() < crate::UMS_MIN_OUT_CAP, "{}", f.doc);
            let v: serde_json::Value = serde_json::from_str(&f.doc).unwrap();
            assert_eq!(v["status"], "UMS_ERR_PANIC");
            assert_eq!(v["phase"], if sent { "sent" } else { "local" });
            assert_eq!(v["outcomeUnknown"], sent);
            assert_eq!(v["nothingSent"], !sent);
        }
    }

    /// A panic inside an export: the document says whether the request's
    /// bytes had been written (the transport's per-thread counter moved).
    #[test]
    fn a_panic_reports_nothing_sent_only_when_nothing_was_written() {
        let mut buf = vec![0u8; 512];
        let mut len = 0usize;
        let out = OutBuf::new(buf.as_mut_ptr().cast(), buf.len(), &mut len);
        let status = run(out, |_| panic!("test panic before sending"));
        assert_eq!(status, UMS_ERR_PANIC);
        let doc = std::str::from_utf8(&buf[..len]).unwrap();
        let v: serde_json::Value = serde_json::from_str(doc).unwrap();
        assert_eq!(
            (v["phase"].as_str(), v["nothingSent"].as_bool()),
            (Some("local"), Some(true))
        );
    }

    #[test]
    fn string_objects_are_the_json_of_their_members() {
        let text = string_object(&[("authorization", "A=\"x\", B=\"y\""), ("n", "\u{1}é\\")]);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"authorization": "A=\"x\", B=\"y\"", "n": "\u{1}é\\"})
        );
        assert_eq!(
            text,
            r#"{"authorization":"A=\"x\", B=\"y\"","n":"\u0001é\\"}"#
        );
        assert_eq!(string_object(&[]), "{}");
    }
}
