//! The scheduled SIE export: each entity's new ledger postings as one SIE 4 file in an object
//! store (S3 in the `export-sie` function), every posting in exactly one object.
//!
//! The checkpoint is a named state in the store, `sie-export#<entity>`, holding JSON
//! `{"exported_to": ms, "pending": null | {"to": ms, "object": "<key>"}}` (first run: nothing
//! stored, `exported_to` = 0). One run of [`export_entity`]:
//!
//! 1. If a range is pending (an earlier run stopped after claiming it), redo exactly that range
//!    into exactly that object.
//! 2. Else the range is `[exported_to, now − settle)`, its object `sie/<entity>/<from>-<to>.si`,
//!    and it is claimed by compare-and-set of the state read → pending. A lost compare-and-set
//!    means another run owns it: this run reports so and writes nothing.
//! 3. The entity's ledger entries of target `sie` completed in the range become one SIE file
//!    (one #VER per posting), put under the object key (nothing is put when there are none).
//! 4. Compare-and-set pending → `{"exported_to": to, "pending": null}`.
//!
//! Why exactly once: the ranges are half-open and contiguous (each starts where the last one
//! ended), so every `completed_at` falls in exactly one range; a range is claimed by one run
//! only (compare-and-set); and a crash anywhere before step 4 leaves the range pending, so the
//! next run redoes the *same* range into the *same* object key — overwriting, never adding a
//! second object — with the same bytes (the file's `#GEN` date is the range end's, not the
//! clock's). Step 4 moves the checkpoint past the range only after the object is written.
//!
//! Why the settle time: a ledger entry is stamped with the time its message's processing began
//! and written up to a Lambda timeout later (and DynamoDB's by-day index is eventually
//! consistent), so a range is closed only once `settle_ms` (default 5 minutes, more than the
//! function timeout) has passed since its end: no entry can appear in it afterwards.
//!
//! A posting that cannot be a voucher (say, unreadable JSON or a non-positive rate) cannot
//! become one on any later run either: it is left out of the file, logged as an error and listed
//! in the report's `refused`, so the rest of the entity's postings keep flowing.

use ctvisma_core::rules::Target;
use ctvisma_core::{Posting, Rules};
use ctvisma_ledger::{IdempotencyStore, Millis};
use ctvisma_sie::{SieError, SieHeader};
use serde::{Deserialize, Serialize};

use crate::error::HandlerError;

/// How long after a range's end it is exported: longer than any function's timeout.
pub const DEFAULT_SETTLE_MS: Millis = 5 * 60 * 1000;

/// Where SIE files go: an S3 bucket in the function, memory in tests.
#[async_trait::async_trait]
pub trait ObjectSink: Send + Sync {
    /// Writes (or overwrites) the object `key`.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String>;
}

/// The checkpoint of one entity's export, stored as JSON under [`state_name`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    /// Everything completed before this (ms) is exported.
    pub exported_to: Millis,
    /// A claimed range `[exported_to, to)` whose object may or may not be written yet.
    pub pending: Option<Pending>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub to: Millis,
    pub object: String,
}

/// A posting left out of the file because it cannot be a voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refused {
    pub key: String,
    pub reason: String,
}

/// What one run did for one entity (logged as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub entity: String,
    /// The range `[from, to)` looked at.
    pub from: Millis,
    pub to: Millis,
    /// The object written; `None` when the range held nothing to export or the run did nothing.
    pub object: Option<String>,
    /// Postings in the object.
    pub exported: usize,
    pub refused: Vec<Refused>,
    /// An earlier run's pending range was redone.
    pub redone: bool,
    /// Why nothing was done: "not settled" (no closed range yet), "owned by another run".
    pub skipped: Option<String>,
}

/// The state name of an entity's checkpoint.
pub fn state_name(entity: &str) -> String {
    format!("sie-export#{entity}")
}

/// The object key of the range `[from, to)`.
pub fn object_key(entity: &str, from: Millis, to: Millis) -> String {
    format!("sie/{entity}/{from}-{to}.si")
}

/// The entities whose rules target is SIE, in rules order.
pub fn sie_entities(rules: &Rules) -> Vec<String> {
    rules
        .entities
        .iter()
        .filter(|(_, e)| e.target == Target::Sie)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Exports one entity's next range; see the module docs.
pub async fn export_entity(
    store: &dyn IdempotencyStore,
    sink: &dyn ObjectSink,
    rules: &Rules,
    entity_id: &str,
    now_ms: Millis,
    settle_ms: Millis,
) -> Result<ExportReport, HandlerError> {
    let entity = rules
        .entities
        .get(entity_id)
        .ok_or_else(|| HandlerError::Sie(format!("entity {entity_id} is not in the rules")))?;
    // Checked before anything is claimed: a rules problem leaves the checkpoint untouched.
    SieHeader::for_entity(entity_id, entity, date_of(0)).map_err(|e| HandlerError::Sie(e.to_string()))?;

    let name = state_name(entity_id);
    let raw = store.get_state(&name).await?;
    let state = match raw.as_deref() {
        Some(text) => serde_json::from_str::<ExportState>(text)
            .map_err(|e| HandlerError::Sie(format!("state {name} is not an export checkpoint: {e}")))?,
        None => ExportState {
            exported_to: 0,
            pending: None,
        },
    };
    let from = state.exported_to;
    let mut report = ExportReport {
        entity: entity_id.to_string(),
        from,
        to: from,
        object: None,
        exported: 0,
        refused: Vec::new(),
        redone: false,
        skipped: None,
    };

    // The pending state (as stored) and the range it names.
    let (pending_raw, pending) = match state.pending {
        Some(pending) => {
            report.redone = true;
            (raw.unwrap_or_default(), pending)
        }
        None => {
            let to = now_ms - settle_ms;
            report.to = to;
            if to <= from {
                report.skipped = Some("not settled".into());
                return Ok(report);
            }
            let pending = Pending {
                to,
                object: object_key(entity_id, from, to),
            };
            let claimed = to_json(&ExportState {
                exported_to: from,
                pending: Some(pending.clone()),
            })?;
            if !store.set_state(&name, raw.as_deref(), &claimed).await? {
                report.skipped = Some("owned by another run".into());
                return Ok(report);
            }
            (claimed, pending)
        }
    };
    report.to = pending.to;

    let mut header =
        SieHeader::for_entity(entity_id, entity, date_of(pending.to)).map_err(|e| HandlerError::Sie(e.to_string()))?;
    let mut postings: Vec<Posting> = Vec::new();
    for entry in store.ledger_between(from, pending.to).await? {
        if entry.entity != entity_id || entry.document.target != "sie" {
            continue;
        }
        let checked = serde_json::from_str::<Posting>(&entry.posting)
            .map_err(|e| format!("ledger posting is not readable: {e}"))
            .and_then(|p| match ctvisma_sie::write(std::slice::from_ref(&p), &header) {
                Ok(_) => Ok(p),
                Err(SieError::Header(m)) => Err(format!("SIE header: {m}")),
                Err(e) => Err(e.to_string()),
            });
        match checked {
            Ok(p) => postings.push(p),
            Err(reason) => {
                tracing::error!(entity = entity_id, idempotency_key = %entry.key, reason = %reason, "posting left out of the SIE export");
                report.refused.push(Refused { key: entry.key, reason });
            }
        }
    }

    if !postings.is_empty() {
        header.set_fiscal_year_of(&postings, date_of(pending.to));
        let bytes = ctvisma_sie::write(&postings, &header).map_err(|e| HandlerError::Sie(e.to_string()))?;
        sink.put(&pending.object, bytes).await.map_err(HandlerError::Sink)?;
        report.object = Some(pending.object.clone());
        report.exported = postings.len();
    }

    let done = to_json(&ExportState {
        exported_to: pending.to,
        pending: None,
    })?;
    if !store.set_state(&name, Some(&pending_raw), &done).await? {
        // Only a concurrent redo of the same pending range can get here: it wrote the same
        // object and moved the checkpoint.
        report.skipped = Some("finished by another run".into());
    }
    Ok(report)
}

fn to_json(state: &ExportState) -> Result<String, HandlerError> {
    serde_json::to_string(state).map_err(|e| HandlerError::Sie(format!("export checkpoint: {e}")))
}

/// The UTC date of a time in ms.
fn date_of(ms: Millis) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .date_naive()
}
