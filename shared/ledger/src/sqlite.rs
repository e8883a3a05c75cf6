//! An embedded SQLite store for local runs (`ctvisma` CLI, replays): the same semantics as the
//! DynamoDB store, in one file.
//!
//! Every call runs in one transaction opened with `BEGIN IMMEDIATE`, which takes SQLite's write
//! lock before the key is read, so two processes (or two handles) on the same file can never both
//! acquire a key. A busy database is waited for up to [`BUSY_TIMEOUT`]; after that the call fails
//! with [`StoreError::Unavailable`] (a transient error: retry).
//!
//! Threading: the `Connection` sits behind a `std::sync::Mutex`. Inside a Tokio runtime each call
//! runs on the blocking pool (`tokio::task::spawn_blocking`), so waiting on a file lock held by
//! another process never stalls the async workers; outside a runtime (another executor, a plain
//! `block_on`) the call runs synchronously on the caller's thread.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};

use crate::memory::{decide, Decision};
use crate::{Begin, Document, IdempotencyStore, KeyRecord, LedgerEntry, MessageRecord, Millis, Status, StoreError};

/// How long a call waits for another connection's write lock before giving up as `Unavailable`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS keys (
    key          TEXT PRIMARY KEY NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('IN_PROGRESS', 'COMPLETED')),
    payload_hash TEXT NOT NULL,
    holder       TEXT NOT NULL,
    lease_until  INTEGER NOT NULL,
    document     TEXT
);
CREATE TABLE IF NOT EXISTS ledger (
    key          TEXT PRIMARY KEY NOT NULL,
    event        TEXT NOT NULL,
    entity       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    date         TEXT NOT NULL,
    external_ref TEXT NOT NULL,
    order_id     TEXT,
    payment_id   TEXT,
    payload_hash TEXT NOT NULL,
    document     TEXT NOT NULL,
    completed_at INTEGER NOT NULL,
    posting      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_order_id ON ledger (order_id);
CREATE INDEX IF NOT EXISTS ledger_external_ref ON ledger (external_ref);
CREATE INDEX IF NOT EXISTS ledger_completed_at ON ledger (completed_at, key);
CREATE TABLE IF NOT EXISTS messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_id     TEXT NOT NULL,
    order_number    TEXT,
    kind            TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    sequence_number INTEGER,
    at              INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    keys            TEXT NOT NULL,
    reason          TEXT
);
CREATE INDEX IF NOT EXISTS messages_resource_id ON messages (resource_id, at, seq);
CREATE INDEX IF NOT EXISTS messages_order_number ON messages (order_number, at, seq);
CREATE TABLE IF NOT EXISTS versions (
    resource_id TEXT PRIMARY KEY NOT NULL,
    version     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS states (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
";

const LEDGER_COLUMNS: &str = "key, event, entity, currency, date, external_ref, order_id, payment_id, payload_hash, \
                              document, completed_at, posting";
const MESSAGE_COLUMNS: &str = "resource_id, order_number, kind, message_id, sequence_number, at, outcome, keys, reason";

/// See the module docs.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and its schema. File databases use WAL, so
    /// readers do not block the writer.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(map_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
        // Returns the resulting mode as a row; "memory" for in-memory databases.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(map_err)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(map_err)?;
        Self::init(conn)
    }

    /// A private database that lives as long as this handle (and its clones).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(map_err)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_err)?;
        tx.execute_batch(SCHEMA).map_err(map_err)?;
        tx.commit().map_err(map_err)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed if `f` returns `Ok`.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            let out = f(&tx)?;
            tx.commit().map_err(map_err)?;
            Ok(out)
        })
        .await
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let call = move || {
            // A panic inside a call drops its transaction (rolled back), so the connection
            // behind a poisoned lock is still usable.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(call)
                .await
                .map_err(|e| StoreError::Broken(format!("sqlite call failed: {e}")))?,
            Err(_) => call(),
        }
    }
}

impl SqliteStore {
    /// The whole message log in the order it was written (for `ctvisma replay`, which re-runs
    /// the messages whose latest outcome is `parked` or `retry`). Local store only: the DynamoDB
    /// ledger is read per resource ([`IdempotencyStore::messages_for`]).
    pub async fn all_messages(&self) -> Result<Vec<MessageRecord>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare(&format!("SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq"))
                .map_err(map_err)?;
            let rows = stmt.query_map([], message_row).map_err(map_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (mut record, keys) = row.map_err(map_err)?;
                record.keys = serde_json::from_str(&keys).map_err(json_err)?;
                out.push(record);
            }
            Ok(out)
        })
        .await
    }
}

fn message_row(r: &Row<'_>) -> rusqlite::Result<(MessageRecord, String)> {
    Ok((
        MessageRecord {
            resource_id: r.get(0)?,
            order_number: r.get(1)?,
            kind: r.get(2)?,
            message_id: r.get(3)?,
            sequence_number: r.get(4)?,
            at: r.get(5)?,
            outcome: r.get(6)?,
            keys: Vec::new(),
            reason: r.get(8)?,
        },
        r.get::<_, String>(7)?,
    ))
}

fn map_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable(format!("sqlite: {e}")),
        _ => StoreError::Broken(format!("sqlite: {e}")),
    }
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Broken(format!("sqlite: bad JSON column: {e}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(json_err)
}

fn status_str(status: Status) -> &'static str {
    match status {
        Status::InProgress => "IN_PROGRESS",
        Status::Completed => "COMPLETED",
    }
}

fn get_key(conn: &Connection, key: &str) -> Result<Option<KeyRecord>, StoreError> {
    let row = conn
        .query_row(
            "SELECT key, status, payload_hash, holder, lease_until, document FROM keys WHERE key = ?1",
            [key],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )
        .optional()
        .map_err(map_err)?;
    let Some((key, status, payload_hash, holder, lease_until, document)) = row else {
        return Ok(None);
    };
    let status = match status.as_str() {
        "IN_PROGRESS" => Status::InProgress,
        "COMPLETED" => Status::Completed,
        other => {
            return Err(StoreError::Broken(format!(
                "sqlite: key {key} has unknown status {other:?}"
            )))
        }
    };
    let document = document
        .map(|d| serde_json::from_str::<Document>(&d))
        .transpose()
        .map_err(json_err)?;
    Ok(Some(KeyRecord {
        key,
        status,
        payload_hash,
        holder,
        lease_until,
        document,
    }))
}

/// Raw ledger row; the document is JSON, decoded outside the rusqlite row closure.
type LedgerRow = (LedgerEntry, String);

fn ledger_row(r: &Row<'_>) -> rusqlite::Result<LedgerRow> {
    let placeholder = Document {
        target: String::new(),
        id: String::new(),
        number: None,
        total: String::new(),
    };
    Ok((
        LedgerEntry {
            key: r.get(0)?,
            event: r.get(1)?,
            entity: r.get(2)?,
            currency: r.get(3)?,
            date: r.get(4)?,
            external_ref: r.get(5)?,
            order_id: r.get(6)?,
            payment_id: r.get(7)?,
            payload_hash: r.get(8)?,
            document: placeholder,
            completed_at: r.get(10)?,
            posting: r.get(11)?,
        },
        r.get(9)?,
    ))
}

fn query_ledger(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<LedgerEntry>, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(map_err)?;
    let rows = stmt.query_map(params, ledger_row).map_err(map_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (mut entry, document) = row.map_err(map_err)?;
        entry.document = serde_json::from_str(&document).map_err(json_err)?;
        out.push(entry);
    }
    Ok(out)
}

fn not_holder(key: &str, holder: &str) -> StoreError {
    StoreError::NotHolder {
        key: key.to_owned(),
        holder: holder.to_owned(),
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for SqliteStore {
    async fn begin(
        &self,
        key: &str,
        payload_hash: &str,
        holder: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<Begin, StoreError> {
        let (key, payload_hash, holder) = (key.to_owned(), payload_hash.to_owned(), holder.to_owned());
        self.write(
            move |tx| match decide(get_key(tx, &key)?.as_ref(), &payload_hash, &holder, now) {
                Decision::Answer(answer) => Ok(answer),
                Decision::Claim => {
                    tx.execute(
                        "INSERT INTO keys (key, status, payload_hash, holder, lease_until, document)
                     VALUES (?1, ?2, ?3, ?4, ?5, NULL)
                     ON CONFLICT (key) DO UPDATE SET status = excluded.status, payload_hash = excluded.payload_hash,
                         holder = excluded.holder, lease_until = excluded.lease_until, document = NULL",
                        params![key, status_str(Status::InProgress), payload_hash, holder, lease_until],
                    )
                    .map_err(map_err)?;
                    Ok(Begin::Acquired)
                }
            },
        )
        .await
    }

    async fn complete(&self, holder: &str, entry: &LedgerEntry) -> Result<(), StoreError> {
        let (holder, entry) = (holder.to_owned(), entry.clone());
        self.write(move |tx| {
            let document = to_json(&entry.document)?;
            let updated = tx
                .execute(
                    "UPDATE keys SET status = ?1, document = ?2
                     WHERE key = ?3 AND status = ?4 AND holder = ?5",
                    params![
                        status_str(Status::Completed),
                        document,
                        entry.key,
                        status_str(Status::InProgress),
                        holder
                    ],
                )
                .map_err(map_err)?;
            if updated == 0 {
                return Err(not_holder(&entry.key, &holder));
            }
            tx.execute(
                &format!(
                    "INSERT INTO ledger ({LEDGER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ),
                params![
                    entry.key,
                    entry.event,
                    entry.entity,
                    entry.currency,
                    entry.date,
                    entry.external_ref,
                    entry.order_id,
                    entry.payment_id,
                    entry.payload_hash,
                    document,
                    entry.completed_at,
                    entry.posting
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        let (key, holder) = (key.to_owned(), holder.to_owned());
        self.write(move |tx| {
            let deleted = tx
                .execute(
                    "DELETE FROM keys WHERE key = ?1 AND status = ?2 AND holder = ?3",
                    params![key, status_str(Status::InProgress), holder],
                )
                .map_err(map_err)?;
            if deleted == 0 {
                return Err(not_holder(&key, &holder));
            }
            Ok(())
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| get_key(conn, &key)).await
    }

    async fn ledger_for(&self, order: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        // "Starts with order + '/'" as an index range: '0' is the character after '/'.
        let order = order.to_owned();
        self.run(move |conn| {
            query_ledger(
                conn,
                &format!(
                    "SELECT {LEDGER_COLUMNS} FROM ledger
                     WHERE order_id = ?1 OR external_ref = ?1 OR (external_ref >= ?1 || '/' AND external_ref < ?1 || '0')
                     ORDER BY completed_at, key"
                ),
                [order],
            )
        })
        .await
    }

    async fn ledger_between(&self, from: Millis, to: Millis) -> Result<Vec<LedgerEntry>, StoreError> {
        self.run(move |conn| {
            query_ledger(
                conn,
                &format!(
                    "SELECT {LEDGER_COLUMNS} FROM ledger WHERE completed_at >= ?1 AND completed_at < ?2
                     ORDER BY completed_at, key"
                ),
                [from, to],
            )
        })
        .await
    }

    async fn record_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.write(move |tx| {
            tx.execute(
                &format!("INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    record.resource_id,
                    record.order_number,
                    record.kind,
                    record.message_id,
                    record.sequence_number,
                    record.at,
                    record.outcome,
                    to_json(&record.keys)?,
                    record.reason
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn messages_for(&self, resource: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let resource = resource.to_owned();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE resource_id = ?1 OR order_number = ?1 ORDER BY at, seq"
                ))
                .map_err(map_err)?;
            let rows = stmt
                .query_map([resource], message_row)
                .map_err(map_err)?;
            let mut out = Vec::new();
            for row in rows {
                let (mut record, keys) = row.map_err(map_err)?;
                record.keys = serde_json::from_str(&keys).map_err(json_err)?;
                out.push(record);
            }
            Ok(out)
        })
        .await
    }

    async fn advance_version(&self, resource_id: &str, version: i64) -> Result<bool, StoreError> {
        let resource_id = resource_id.to_owned();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "INSERT INTO versions (resource_id, version) VALUES (?1, ?2)
                     ON CONFLICT (resource_id) DO UPDATE SET version = excluded.version
                     WHERE excluded.version > versions.version",
                    params![resource_id, version],
                )
                .map_err(map_err)?;
            Ok(changed > 0)
        })
        .await
    }

    async fn get_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.run(move |conn| {
            conn.query_row("SELECT value FROM states WHERE name = ?1", [name], |r| r.get(0))
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn set_state(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool, StoreError> {
        let (name, expected, value) = (name.to_owned(), expected.map(str::to_owned), value.to_owned());
        self.write(move |tx| {
            let changed = match expected {
                None => tx
                    .execute(
                        "INSERT INTO states (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                        params![name, value],
                    )
                    .map_err(map_err)?,
                Some(expected) => tx
                    .execute(
                        "UPDATE states SET value = ?2 WHERE name = ?1 AND value = ?3",
                        params![name, value, expected],
                    )
                    .map_err(map_err)?,
            };
            Ok(changed > 0)
        })
        .await
    }
}
