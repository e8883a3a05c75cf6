//! An in-memory store: for tests and dry runs. One `std::sync::Mutex` around all maps, so each
//! call is atomic; the lock is never held across an `.await`.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::{Begin, IdempotencyStore, KeyRecord, LedgerEntry, MessageRecord, Millis, Status, StoreError};

#[derive(Debug, Default)]
struct State {
    keys: HashMap<String, KeyRecord>,
    /// Ledger entries in completion order (a key completes at most once).
    ledger: Vec<LedgerEntry>,
    /// Messages in insertion order.
    messages: Vec<MessageRecord>,
    versions: HashMap<String, i64>,
    states: HashMap<String, String>,
}

/// The store behind [`crate::IdempotencyStore`] in tests: same semantics as the SQLite and
/// DynamoDB stores (checked by [`crate::conformance::run_all`]), nothing persisted.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave a half-applied change: every mutation below is a single
        // insert/remove/push after all checks, so the state behind a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether a ledger entry belongs to `order` (order id, order number, or a ref under it such as
/// the credit note "CV-1001/R1" of order "CV-1001").
pub(crate) fn entry_matches_order(entry: &LedgerEntry, order: &str) -> bool {
    entry.order_id.as_deref() == Some(order)
        || entry.external_ref == order
        || entry
            .external_ref
            .strip_prefix(order)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The decision [`IdempotencyStore::begin`] makes for an existing key, shared by the stores.
pub(crate) enum Decision {
    /// Write the claim (fresh, re-entry by the same holder, or take-over of an expired lease).
    Claim,
    Answer(Begin),
}

pub(crate) fn decide(existing: Option<&KeyRecord>, payload_hash: &str, holder: &str, now: Millis) -> Decision {
    let Some(record) = existing else {
        return Decision::Claim;
    };
    if record.payload_hash != payload_hash {
        return Decision::Answer(Begin::Conflict(record.clone()));
    }
    match record.status {
        Status::Completed => Decision::Answer(Begin::Completed(record.clone())),
        Status::InProgress if record.holder == holder || record.lease_until <= now => Decision::Claim,
        Status::InProgress => Decision::Answer(Begin::Busy {
            holder: record.holder.clone(),
            lease_until: record.lease_until,
        }),
    }
}

fn not_holder(key: &str, holder: &str) -> StoreError {
    StoreError::NotHolder {
        key: key.to_owned(),
        holder: holder.to_owned(),
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for MemoryStore {
    async fn begin(
        &self,
        key: &str,
        payload_hash: &str,
        holder: &str,
        lease_until: Millis,
        now: Millis,
    ) -> Result<Begin, StoreError> {
        let mut state = self.lock();
        match decide(state.keys.get(key), payload_hash, holder, now) {
            Decision::Answer(answer) => Ok(answer),
            Decision::Claim => {
                let record = KeyRecord {
                    key: key.to_owned(),
                    status: Status::InProgress,
                    payload_hash: payload_hash.to_owned(),
                    holder: holder.to_owned(),
                    lease_until,
                    document: None,
                };
                state.keys.insert(key.to_owned(), record);
                Ok(Begin::Acquired)
            }
        }
    }

    async fn complete(&self, holder: &str, entry: &LedgerEntry) -> Result<(), StoreError> {
        let mut state = self.lock();
        let record = match state.keys.get_mut(&entry.key) {
            Some(r) if r.status == Status::InProgress && r.holder == holder => r,
            _ => return Err(not_holder(&entry.key, holder)),
        };
        record.status = Status::Completed;
        record.document = Some(entry.document.clone());
        state.ledger.push(entry.clone());
        Ok(())
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        match state.keys.get(key) {
            Some(r) if r.status == Status::InProgress && r.holder == holder => {
                state.keys.remove(key);
                Ok(())
            }
            _ => Err(not_holder(key, holder)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<KeyRecord>, StoreError> {
        Ok(self.lock().keys.get(key).cloned())
    }

    async fn ledger_for(&self, order: &str) -> Result<Vec<LedgerEntry>, StoreError> {
        let state = self.lock();
        let mut entries: Vec<LedgerEntry> = state
            .ledger
            .iter()
            .filter(|e| entry_matches_order(e, order))
            .cloned()
            .collect();
        entries.sort_by(|a, b| (a.completed_at, &a.key).cmp(&(b.completed_at, &b.key)));
        Ok(entries)
    }

    async fn ledger_between(&self, from: Millis, to: Millis) -> Result<Vec<LedgerEntry>, StoreError> {
        let state = self.lock();
        let mut entries: Vec<LedgerEntry> = state
            .ledger
            .iter()
            .filter(|e| e.completed_at >= from && e.completed_at < to)
            .cloned()
            .collect();
        entries.sort_by(|a, b| (a.completed_at, &a.key).cmp(&(b.completed_at, &b.key)));
        Ok(entries)
    }

    async fn record_message(&self, record: &MessageRecord) -> Result<(), StoreError> {
        self.lock().messages.push(record.clone());
        Ok(())
    }

    async fn messages_for(&self, resource: &str) -> Result<Vec<MessageRecord>, StoreError> {
        let state = self.lock();
        let mut messages: Vec<MessageRecord> = state
            .messages
            .iter()
            .filter(|m| m.resource_id == resource || m.order_number.as_deref() == Some(resource))
            .cloned()
            .collect();
        // Stable: equal times keep insertion order.
        messages.sort_by_key(|m| m.at);
        Ok(messages)
    }

    async fn advance_version(&self, resource_id: &str, version: i64) -> Result<bool, StoreError> {
        let mut state = self.lock();
        match state.versions.get(resource_id) {
            Some(&stored) if version <= stored => Ok(false),
            _ => {
                state.versions.insert(resource_id.to_owned(), version);
                Ok(true)
            }
        }
    }

    async fn get_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().states.get(name).cloned())
    }

    async fn set_state(&self, name: &str, expected: Option<&str>, value: &str) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if state.states.get(name).map(String::as_str) != expected {
            return Ok(false);
        }
        state.states.insert(name.to_owned(), value.to_owned());
        Ok(true)
    }
}
