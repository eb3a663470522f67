//! A string that never shows itself: `Debug` and `Display` print `***`, and
//! its bytes are overwritten when it is dropped, so the app key, the
//! notification key and tokens do not linger in freed memory.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: only for signing, never for messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites a string's bytes with zeros in a way the optimiser keeps.
pub fn wipe(s: &mut str) {
    // SAFETY: zero bytes are valid UTF-8, so the String stays valid.
    let bytes = unsafe { s.as_bytes_mut() };
    for b in bytes.iter_mut() {
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("app-key-123");
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.expose(), "app-key-123");
    }

    #[test]
    fn wipe_zeroes_the_bytes() {
        let mut s = String::from("secret");
        wipe(&mut s);
        assert_eq!(s.as_bytes(), &[0u8; 6]);
    }
}
