//! Logging through a callback the host installs (C-ABI.md convention 10).
//!
//! Messages are built only from paths, sizes, HTTP statuses, errCodes and
//! durations: never from the app key, signatures, tokens, the notification
//! key, request bodies or real-name fields. The logger is process-wide.

use std::sync::RwLock;

/// Severity, most severe first; a logger receives levels `<=` its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

type Sink = Box<dyn Fn(Level, &str) + Send + Sync>;

struct Logger {
    max: Level,
    sink: Sink,
}

static LOGGER: RwLock<Option<Logger>> = RwLock::new(None);

/// Installs `sink` for messages up to `max`, replacing any previous logger.
pub fn set_logger(max: Level, sink: impl Fn(Level, &str) + Send + Sync + 'static) {
    let mut slot = LOGGER.write().unwrap_or_else(|p| p.into_inner());
    *slot = Some(Logger {
        max,
        sink: Box::new(sink),
    });
}

/// Removes the logger.
pub fn clear_logger() {
    let mut slot = LOGGER.write().unwrap_or_else(|p| p.into_inner());
    *slot = None;
}

/// Whether a message at `level` would be delivered (skip building it otherwise).
pub fn enabled(level: Level) -> bool {
    let slot = LOGGER.read().unwrap_or_else(|p| p.into_inner());
    slot.as_ref().is_some_and(|l| level <= l.max)
}

/// Delivers `message` at `level` if a logger wants it.
pub fn log(level: Level, message: impl FnOnce() -> String) {
    let slot = LOGGER.read().unwrap_or_else(|p| p.into_inner());
    if let Some(logger) = slot.as_ref().filter(|l| level <= l.max) {
        (logger.sink)(level, &message());
    }
}
