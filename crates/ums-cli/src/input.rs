//! Reading a request or body from a file or from stdin (`-`), as bytes,
//! exactly as they are: no newline is added or removed here.

use std::io::{IsTerminal as _, Read as _};

/// Reads at most `max` bytes from `source` (a path, or `-` for stdin). A
/// caller that passes `limit + 1` learns that the input is too large.
pub fn read(source: &str, max: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let result = if source == "-" {
        if std::io::stdin().is_terminal() {
            // Otherwise a user who meant a file seems to face a hung tool.
            crate::output::err("ums: reading from stdin (`-`); end with Ctrl-D");
        }
        std::io::stdin()
            .lock()
            .take(max as u64)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source).and_then(|f| f.take(max as u64).read_to_end(&mut bytes))
    };
    match result {
        Ok(_) => Ok(bytes),
        Err(e) if source == "-" => Err(format!("cannot read stdin: {e}")),
        Err(e) => Err(format!("cannot read `{source}`: {e}")),
    }
}
