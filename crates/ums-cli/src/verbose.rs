//! `-v` / `--verbose`: the library's log lines (request sent, HTTP status
//! and errCode, time taken, retries, token fetches) and a few of the tool's
//! own on stderr, each starting with `ums: `.
//!
//! The library builds its log lines from paths, sizes, statuses, errCodes
//! and durations only, never from keys, signatures or tokens; they still go
//! through [`output::err`], which masks every secret the tool has read.

use crate::output;
use chinaums::log::{set_logger, Level};
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns verbose output on for the rest of the process.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
    set_logger(Level::Debug, |level, message| {
        output::err(&format!("ums: {}: {message}", level_name(level)));
    });
}

/// Prints the tool's own line when verbose; `message` is built only then.
pub fn say(message: impl FnOnce() -> String) {
    if ENABLED.load(Ordering::Relaxed) {
        output::err(&format!("ums: {}", message()));
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
    }
}
