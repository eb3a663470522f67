//! Argument reading and result writing shared by every export, and the panic
//! guard they all go through.

use super::status::*;
use crate::error::{Error, ErrorKind};
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failure of an export: its status and the JSON error document.
pub struct Failure {
    pub status: UmsStatus,
    pub doc: String,
}

impl Failure {
    /// A failure detected by the ABI layer itself (NULL, UTF-8, sizes).
    pub fn abi(status: UmsStatus, message: &str) -> Failure {
        let doc = serde_json::json!({
            "status": Status(status).name(),
            "kind": "abi",
            "message": message,
            "outcomeUnknown": false,
            "nothingSent": true,
        });
        Failure {
            status,
            doc: doc.to_string(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            status: Status::from(e.kind).0,
            doc: e.to_json().to_string(),
        }
    }
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
    /// True when the document carries a gateway exchange that must not be
    /// lost (a too-small buffer keeps it for the retry).
    pub reached_gateway: bool,
}

impl Produced {
    pub fn ok(doc: String) -> Produced {
        Produced {
            status: UMS_OK,
            doc,
            reached_gateway: false,
        }
    }
}

impl From<Failure> for Produced {
    fn from(f: Failure) -> Produced {
        Produced {
            status: f.status,
            doc: f.doc,
            reached_gateway: false,
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

    /// Writes `doc` and its NUL, or reports the size needed. `*out_len` is
    /// always the document's length without the NUL.
    ///
    /// # Safety
    /// `buf` must point to `cap` writable bytes and `len` to a writable `usize`.
    pub unsafe fn write(&self, status: UmsStatus, doc: &str) -> UmsStatus {
        *self.len = doc.len();
        if self.fits(doc.len()) {
            std::ptr::copy_nonoverlapping(doc.as_ptr(), self.buf.cast::<u8>(), doc.len());
            *self.buf.add(doc.len()) = 0;
            return status;
        }
        // Too small: still leave a NUL-terminated document when one fits.
        let short = format!(
            "{{\"status\":\"UMS_ERR_BUFFER_TOO_SMALL\",\"needed\":{}}}",
            doc.len() + 1
        );
        let note = if short.len() < self.cap {
            short.as_str()
        } else {
            ""
        };
        if self.cap > 0 {
            std::ptr::copy_nonoverlapping(note.as_ptr(), self.buf.cast::<u8>(), note.len());
            *self.buf.add(note.len()) = 0;
        }
        UMS_ERR_BUFFER_TOO_SMALL
    }
}

/// Runs an export's body with panics caught, then writes its document.
/// Every export that fills a buffer goes through here.
pub fn run(out: Option<OutBuf>, body: impl FnOnce(&OutBuf) -> Produced) -> UmsStatus {
    let Some(out) = out else {
        return UMS_ERR_NULL_POINTER;
    };
    let produced = catch_unwind(AssertUnwindSafe(|| body(&out))).unwrap_or_else(|_| {
        Failure::abi(
            UMS_ERR_PANIC,
            "the library panicked; the call was abandoned (please report this bug)",
        )
        .into()
    });
    // SAFETY: `out` was checked by `OutBuf::new`; the caller promises the sizes.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        out.write(produced.status, &produced.doc)
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
    CStr::from_ptr(ptr).to_str().map_err(|_| {
        Failure::abi(
            UMS_ERR_INVALID_UTF8,
            &format!("`{name}` is not valid UTF-8"),
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
pub fn gateway_result(result: crate::Result<crate::Answer>) -> Produced {
    match result {
        Ok(answer) => Produced {
            status: UMS_OK,
            doc: answer.text,
            reached_gateway: true,
        },
        Err(e) => {
            let reached = matches!(
                e.kind,
                ErrorKind::GatewayRejected | ErrorKind::OutcomeUnknown
            );
            let failure = Failure::from(e);
            Produced {
                status: failure.status,
                doc: failure.doc,
                reached_gateway: reached,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::string_object;

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
