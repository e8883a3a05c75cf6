//! The idempotency store and sync ledger: the one port every handler records through.
//!
//! Lifecycle of a posting's key (see `docs/posting-contract.md` for where keys come from):
//! 1. [`IdempotencyStore::begin`] — a conditional write: the key is free (or its lease expired)
//!    → `IN_PROGRESS` with our holder id and a lease that ends at the Lambda deadline.
//! 2. The connector posts to Visma (after looking the document up: reconcile-before-write).
//! 3. [`IdempotencyStore::complete`] — only the holder may: `COMPLETED` with Visma's document id
//!    and the posting's hash; the ledger entry (kept for audit, no TTL) is written in the same call.
//!    Or [`IdempotencyStore::release`] on failure, so a retry can take the key at once.
//!
//! Two writes per posting on the happy path. A completed key returns its stored result to any
//! duplicate; the same key with a different payload hash is a [`Begin::Conflict`], never a
//! silent second posting. Messages seen and their outcomes (for `ctvisma status`), and the last
//! applied version per resource (delta sync) live here too, and small named states with
//! compare-and-set (the SIE export's checkpoint).
//!
//! Implementations: [`memory::MemoryStore`] (tests), [`sqlite::SqliteStore`] (local runs), and the
//! DynamoDB store in the AWS adapter crate. [`conformance`] holds the checks every one must pass;
//! [`observed::Observed`] wraps any of them with a hook (fault injection, request counts).

pub mod conformance;
pub mod memory;
pub mod observed;
pub mod sqlite;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch; the store never reads a clock itself (tests pass time in).
pub type Millis = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    InProgress,
    Completed,
}

/// What a key holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: String,
    pub status: Status,
    /// Hash of the posting (see [`posting_hash`]): the same key must always carry the same posting.
    pub payload_hash: String,
    /// The request id that holds (or completed) it.
    pub holder: String,
    pub lease_until: Millis,
    /// Set when completed.
    pub document: Option<Document>,
}

/// The Visma document a posting became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// "eaccounting", "vismanet", "sie".
    pub target: String,
    pub id: String,
    pub number: Option<String>,
    /// Debit total as a decimal string.
    pub total: String,
}

/// One line of the audit ledger: a posting that reached Visma. Never expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub key: String,
    pub event: String,
    pub entity: String,
    pub currency: String,
    pub date: String,
    pub external_ref: String,
    pub order_id: Option<String>,
    pub payment_id: Option<String>,
    pub payload_hash: String,
    pub document: Document,
    pub completed_at: Millis,
    /// The whole posting as JSON, so reports and SIE exports can be rebuilt from the ledger.
    pub posting: String,
}

/// The answer to [`IdempotencyStore::begin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// We hold the key: post, then complete or release.
    Acquired,
    /// Done before (a duplicate delivery): nothing to post; here is what was made.
    Completed(KeyRecord),
    /// Someone else holds a live lease (a concurrent duplicate): retry later.
    Busy { holder: String, lease_until: Millis },
    /// The key was used for a different posting: flag it, never post it.
    Conflict(KeyRecord),
}

/// What happened to one delivered message: for `ctvisma status` and the reconcile report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The commercetools resource (order or payment id) the message is about.
    pub resource_id: String,
    /// Order number when known, so status can be asked by number.
    pub order_number: Option<String>,
    /// "OrderCreated", "PaymentTransactionStateChanged", "settlement line", …
    pub kind: String,
    /// The commercetools message id, or the file and line for local inputs.
    pub message_id: String,
    pub sequence_number: Option<i64>,
    pub at: Millis,
    /// "posted", "duplicate", "stale", "skipped", "retry", "parked".
    pub outcome: String,
    /// Idempotency keys of the postings it made or found.
    pub keys: Vec<String>,
    /// Error class, code and message when it failed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Throttling, timeouts, a busy database: retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Only the holder may complete or release a key.
    #[error("key {key} is not held by {holder}")]
    NotHolder { key: String, holder: String },
    /// Corrupt data or a misconfigured table.
    #[error("store error: {0}")]
    Broken(String),
}

impl ctvisma_core::Classify for StoreError {
    fn class(&self) -> ctvisma_core::ErrorClass {
        match self {
            StoreError::Unavailable(_) | StoreError::NotHolder { .. } => ctvisma_core::ErrorClass::Transient,
            StoreError::Broken(_) => ctvisma_core::ErrorClass::Permanent,
        }
    }
}

#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for `holder` until `lease_until`, unless it is completed, held by a live
    /// lease, or was used with another payload hash. An expired lease is taken over.
    async fn begin(
        &self,
        key: &str,
        payload_hash: &str,
        holder: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<Begin, StoreError>;

    /// Marks the key completed with its document and writes the ledger entry (one call).
    async fn complete(&self, holder: &str, entry: &LedgerEntry) -> Result<(), StoreError>;

    /// Gives the key up after a failure (only its holder may), so a retry can claim it.
    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError>;

    async fn get(&self, key: &str) -> Result<Option<KeyRecord>, StoreError>;

    /// Ledger entries of an order (by order id, order number or external ref prefix).
    async fn ledger_for(&self, order: &str) -> Result<Vec<LedgerEntry>, StoreError>;

    /// Every ledger entry completed in `[from, to)`: for exports and reconciliation.
    async fn ledger_between(&self, from: Millis, to: Millis) -> Result<Vec<LedgerEntry>, StoreError>;

    /// Appends what happened to a message.
    async fn record_message(&self, record: &MessageRecord) -> Result<(), StoreError>;

    /// Messages about a resource (order id or order number), oldest first.
    async fn messages_for(&self, resource: &str) -> Result<Vec<MessageRecord>, StoreError>;

    /// Delta sync: moves the resource's applied version to `version` if it is newer; returns
    /// false (and changes nothing) for a stale or replayed version.
    async fn advance_version(&self, resource_id: &str, version: i64) -> Result<bool, StoreError>;

    /// A small named value (a checkpoint such as the SIE export's), `None` when never set.
    async fn get_state(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Compare-and-set: writes `value` only if the current value is `expected` (`None`: the name
    /// is unset). Returns false, changing nothing, when it is not: another writer got there first.
    async fn set_state(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool, StoreError>;
}

/// A stable hash of a posting (FNV-1a 64 over its canonical JSON): equal postings, equal hashes.
pub fn posting_hash(posting: &ctvisma_core::Posting) -> String {
    let json = serde_json::to_string(posting).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
