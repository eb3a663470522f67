//! Everything the tool prints goes through here, so that no secret it has
//! read (the app key, the notification key) can reach stdout or stderr, even
//! by mistake: every registered secret is replaced by `***` before writing.
//! Write errors (a closed pipe) are ignored: the exit code still tells what
//! happened.

use chinaums::secret::Secret;
use std::io::Write as _;
use std::sync::Mutex;

/// Secrets shorter than this are not searched for: replacing a one-letter
/// "key" would mangle the output and protect nothing.
const MIN_REDACTED_LEN: usize = 4;

static SECRETS: Mutex<Vec<Secret>> = Mutex::new(Vec::new());

/// Registers a value that must never be printed.
pub fn register_secret(value: &str) {
    if value.len() < MIN_REDACTED_LEN {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s.expose() == value) {
        secrets.push(Secret::new(value));
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.expose()) {
            out = out.replace(secret.expose(), "***");
        }
    }
    out
}

/// Writes `text` and a newline to stdout.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", redact(text)).and_then(|_| stdout.flush());
}

/// Writes `text` and a newline to stderr.
pub fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", redact(text)).and_then(|_| stderr.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced() {
        register_secret("k3y-value-123");
        register_secret("ab");
        assert_eq!(
            redact("a k3y-value-123 b k3y-value-123 ab"),
            "a *** b *** ab"
        );
    }
}
