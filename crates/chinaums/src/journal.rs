//! The journal of money-moving calls (`"journal": "<path>"`): a SQLite
//! database (WAL mode) in which every money-moving request is recorded
//! durably (committed with an fsync of the WAL) before its first byte is
//! sent, closed when a definite answer arrives, and left open when the
//! outcome is unknown or the process dies. [`Journal::pending`] lists the open entries;
//! `Client::resolve` closes them.
//!
//! What an entry holds: the operation, the request's identifying fields
//! ([`crate::resolve::IDENTIFYING_FIELDS`]: ids, amounts, mid/tid,
//! requestTimestamp), the time, the process id, the state and how it ended.
//! Never keys, tokens, signatures or real-name fields.
//!
//! Several threads (one connection per client, behind a mutex) and several
//! processes (SQLite's locks, a 10 s busy timeout) share one file.

use crate::error::{Error, Result};
use crate::ops;
use crate::resolve::{identifying, CallRecord};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use std::sync::Mutex;
use std::time::Duration;

/// How long a write waits for another process or thread holding the lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Closed entries older than this are deleted when a client opens the
/// journal: an audit trail of a month, a file that does not grow forever.
/// Open entries are never deleted.
pub const KEEP_CLOSED: Duration = Duration::from_secs(30 * 24 * 3600);

/// The most open entries `pending` lists at once.
pub const MAX_PENDING: usize = 10_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operation TEXT NOT NULL,
    request TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    pid INTEGER NOT NULL,
    open INTEGER NOT NULL DEFAULT 1,
    outcome TEXT,
    last_verdict TEXT,
    closed_ms INTEGER
);
CREATE INDEX IF NOT EXISTS calls_open ON calls(open) WHERE open = 1;
";

/// A journal file, opened by a client.
pub struct Journal {
    path: String,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

/// An open entry, as `pending` lists it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub record: CallRecord,
    pub started_ms: i64,
    pub pid: i64,
    /// The verdict of the last `resolve` that left it open (pending,
    /// cannot_tell), if any.
    pub last_verdict: Option<String>,
}

impl Entry {
    /// `{"journalId", "operation", "request", "startedAt", "pid",
    /// "lastVerdict"}`: also a valid input of `resolve`.
    pub fn to_json(&self) -> Value {
        let mut doc = self.record.to_json();
        doc["journalId"] = self.id.into();
        doc["startedAtUnixMs"] = self.started_ms.into();
        doc["pid"] = self.pid.into();
        if let Some(v) = &self.last_verdict {
            doc["lastVerdict"] = v.clone().into();
        }
        doc
    }
}

fn failed(what: &str, e: rusqlite::Error) -> Error {
    // SQLite's messages name files and SQL, never request values.
    Error::config("journal", format!("{what}: {e}"))
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`: WAL mode, fsync on
    /// every commit (`synchronous=FULL`), a busy timeout for the other
    /// writers. Opening also checks the file is a journal.
    pub fn open(path: &str) -> Result<Journal> {
        let conn = Connection::open(path).map_err(|e| failed("cannot open the journal", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| failed("cannot set the busy timeout", e))?;
        // WAL lets readers and one writer work at once across processes.
        // `begin` commits with synchronous=FULL (the WAL is fsynced before
        // the request is sent); closing an entry commits with NORMAL (no
        // fsync of its own): a close lost in a power cut leaves the entry
        // open, and `resolve` closes it again. One fsync per call, not two.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| failed("cannot switch the journal to WAL", e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| failed("cannot set synchronous=NORMAL", e))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| failed("cannot create the journal's table", e))?;
        let horizon = unix_ms() - KEEP_CLOSED.as_millis() as i64;
        conn.execute(
            "DELETE FROM calls WHERE open = 0 AND closed_ms < ?1",
            [horizon],
        )
        .map_err(|e| failed("cannot prune the journal", e))?;
        Ok(Journal {
            path: path.to_string(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a call about to be sent; returns its id. Committed (and
    /// fsynced) when this returns.
    pub fn begin(&self, record: &CallRecord, now_ms: i64) -> Result<i64> {
        let request = Value::Object(record.request.clone()).to_string();
        let conn = self.conn();
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| failed("cannot set synchronous=FULL; nothing was sent", e))?;
        let inserted = conn
            .execute(
                "INSERT INTO calls (operation, request, started_ms, pid) VALUES (?1, ?2, ?3, ?4)",
                params![
                    record.operation.name,
                    request,
                    now_ms,
                    std::process::id() as i64
                ],
            )
            .map_err(|e| failed("cannot record the call; nothing was sent", e));
        let id = conn.last_insert_rowid();
        // Back to NORMAL for the close; a failure here only costs an fsync.
        let _ = conn.pragma_update(None, "synchronous", "NORMAL");
        inserted?;
        Ok(id)
    }

    /// Closes entry `id` with `outcome`; false when it was already closed
    /// (or does not exist).
    pub fn close(&self, id: i64, outcome: &str) -> Result<bool> {
        let changed = self
            .conn()
            .execute(
                "UPDATE calls SET open = 0, outcome = ?2, closed_ms = ?3 WHERE id = ?1 AND open = 1",
                params![id, outcome, unix_ms()],
            )
            .map_err(|e| failed("cannot close the journal entry", e))?;
        Ok(changed == 1)
    }

    /// Notes the verdict of a `resolve` that left entry `id` open.
    pub fn note(&self, id: i64, verdict: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE calls SET last_verdict = ?2 WHERE id = ?1",
                params![id, verdict],
            )
            .map_err(|e| failed("cannot update the journal entry", e))?;
        Ok(())
    }

    /// The open entries, oldest first (at most [`MAX_PENDING`]).
    pub fn pending(&self) -> Result<Vec<Entry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, operation, request, started_ms, pid, last_verdict FROM calls
                 WHERE open = 1 ORDER BY id LIMIT ?1",
            )
            .map_err(|e| failed("cannot read the journal", e))?;
        let rows = stmt
            .query_map([MAX_PENDING as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| failed("cannot read the journal", e))?;
        let mut entries = Vec::new();
        for row in rows {
            let (id, operation, request, started_ms, pid, last_verdict) =
                row.map_err(|e| failed("cannot read the journal", e))?;
            entries.push(Entry {
                id,
                record: record_of(id, &operation, &request)?,
                started_ms,
                pid,
                last_verdict,
            });
        }
        Ok(entries)
    }

    /// One entry (open or closed): `(entry, outcome)`; outcome is None
    /// while open.
    pub fn get(&self, id: i64) -> Result<Option<(Entry, Option<String>)>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT operation, request, started_ms, pid, last_verdict, outcome FROM calls WHERE id = ?1",
                [id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| failed("cannot read the journal", e))?;
        let Some((operation, request, started_ms, pid, last_verdict, outcome)) = row else {
            return Ok(None);
        };
        let entry = Entry {
            id,
            record: record_of(id, &operation, &request)?,
            started_ms,
            pid,
            last_verdict,
        };
        Ok(Some((entry, outcome)))
    }

    /// Every entry, open or closed, oldest first: for tests and audits.
    pub fn all(&self) -> Result<Vec<Row>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT id, operation, request, open, outcome FROM calls ORDER BY id")
            .map_err(|e| failed("cannot read the journal", e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)? == 1,
                    row.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| failed("cannot read the journal", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, op, request, open, outcome) =
                row.map_err(|e| failed("cannot read the journal", e))?;
            let request = match serde_json::from_str(&request) {
                Ok(Value::Object(m)) => m,
                _ => return Err(corrupt(id)),
            };
            out.push(Row {
                id,
                operation: op,
                request,
                open,
                outcome,
            });
        }
        Ok(out)
    }

    /// SQLite's own check of the file (`PRAGMA integrity_check`): "ok".
    pub fn integrity_check(&self) -> Result<String> {
        self.conn()
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|e| failed("cannot check the journal", e))
    }
}

/// One entry as [`Journal::all`] lists it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub operation: String,
    /// The identifying fields recorded.
    pub request: Map<String, Value>,
    pub open: bool,
    /// How it ended (`applied`, `rejected (errCode ..)`, `not sent (..)`,
    /// `resolved applied`, ...); None while open.
    pub outcome: Option<String>,
}

fn corrupt(id: i64) -> Error {
    Error::config("journal", format!("entry {id} is not a journal entry"))
}

fn record_of(id: i64, operation: &str, request: &str) -> Result<CallRecord> {
    let operation = ops::find(operation).ok_or_else(|| corrupt(id))?;
    let request = match serde_json::from_str(request) {
        Ok(Value::Object(m)) => identifying(&m),
        _ => return Err(corrupt(id)),
    };
    Ok(CallRecord {
        operation,
        request,
        bill: None,
    })
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The document of `pending`: `{"pending": [entries], "count": N}`.
pub fn pending_json(entries: &[Entry]) -> Value {
    json!({
        "count": entries.len(),
        "pending": entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
    })
}
