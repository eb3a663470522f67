//! Logging through a callback the host installs (the README's C ABI section).
//!
//! Messages are built only from paths, sizes, HTTP statuses, errCodes and
//! durations: never from the app key, signatures, tokens, the notification
//! key, request bodies or real-name fields. The logger is process-wide.

use std::sync::{Arc, RwLock};

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

/// The installed logger. The lock is held only to read or swap the `Arc`,
/// never while the host's callback runs: a callback may call back into the
/// library (log again, install another logger, run an operation) without
/// deadlocking, and a logger replaced meanwhile lives until its last
/// message is delivered.
static LOGGER: RwLock<Option<Arc<Logger>>> = RwLock::new(None);

/// Installs `sink` for messages up to `max`, replacing any previous logger.
pub fn set_logger(max: Level, sink: impl Fn(Level, &str) + Send + Sync + 'static) {
    let mut slot = LOGGER.write().unwrap_or_else(|p| p.into_inner());
    *slot = Some(Arc::new(Logger {
        max,
        sink: Box::new(sink),
    }));
}

/// Removes the logger.
pub fn clear_logger() {
    let mut slot = LOGGER.write().unwrap_or_else(|p| p.into_inner());
    *slot = None;
}

/// Delivers `message` at `level` if a logger wants it. The message is built
/// and the callback run after the lock is released.
pub fn log(level: Level, message: impl FnOnce() -> String) {
    let logger = {
        let slot = LOGGER.read().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref().filter(|l| level <= l.max) {
            Some(l) => Arc::clone(l),
            None => return,
        }
    };
    (logger.sink)(level, &message());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A sink that logs, replaces the logger and clears it from inside its
    /// own call: with the lock held during the call this deadlocks (the
    /// write lock waits for the read lock this very thread holds).
    #[test]
    fn a_sink_may_call_back_into_the_logger() {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        set_logger(Level::Debug, |_, _| {
            if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
                log(Level::Info, || "nested".to_string());
                set_logger(Level::Debug, |_, _| {
                    CALLS.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        log(Level::Info, || "outer".to_string());
        log(Level::Info, || "to the new logger".to_string());
        clear_logger();
        log(Level::Info, || "nobody".to_string());
        assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    }
}
