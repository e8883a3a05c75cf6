//! Source commercetools: an inventory entry's quantity at one version becomes the Visma
//! article's `StockBalance`, once.
//!
//! eAccounting has no stock-adjustment resource (see `ctvisma_visma::eaccounting::stock`): the
//! adjustment is the balance set to commercetools' `quantityOnStock`, an absolute value, so doing
//! it twice is harmless and only order matters. The last version applied per entry is kept in
//! the ledger store (state `stock:inventory:<entry id>`, compare-and-set): a version at or below
//! it — a replay, a duplicate delivery, a message overtaken by a newer one — changes nothing.
//! The balance is written before the version is recorded, so a crash in between repeats a write
//! of the same value, never loses one.
//!
//! Messages: `InventoryEntryCreated` (the entry in the payload), `InventoryEntryQuantitySet`
//! (`newQuantityOnStock`; the SKU is read from the entry), `InventoryEntryDeleted` (recorded, the
//! Visma balance left as it is: a deleted entry is not a count of zero).

use ctvisma_core::commercetools::inventory::InventoryEntry;
use ctvisma_core::commercetools::message::Message;
use ctvisma_core::rules::stock::{StockRules, StockSource};
use ctvisma_core::{Classify, Rules};
use ctvisma_visma::eaccounting::stock::BalanceAction;
use serde::Serialize;
use serde_json::Value;

use crate::sync::{StockSync, SyncReport};
use crate::StockError;

/// Prefix of the per-entry state names in the ledger store.
pub const STATE_PREFIX: &str = "stock:inventory:";

/// An inventory entry as of one version: from a message or from the entry itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryChange {
    pub entry_id: String,
    pub version: u64,
    pub sku: Option<String>,
    pub channel: Option<String>,
    /// `None`: the entry was deleted.
    pub quantity: Option<i64>,
    /// The message type, or `InventoryEntry`.
    pub kind: String,
}

impl InventoryChange {
    /// The entry's current state; `None` without a version.
    pub fn from_entry(e: &InventoryEntry) -> Option<Self> {
        Some(Self {
            entry_id: e.id.clone(),
            version: e.version?,
            sku: e.sku.clone(),
            channel: e.supply_channel.as_ref().and_then(|c| c.id.clone()),
            quantity: Some(e.quantity_on_stock),
            kind: "InventoryEntry".into(),
        })
    }

    /// An InventoryEntry message's change; `Ok(None)` for any other message.
    pub fn from_message(m: &Message) -> Result<Option<Self>, StockError> {
        let kind = m.kind.clone().unwrap_or_default();
        if !matches!(
            kind.as_str(),
            "InventoryEntryCreated" | "InventoryEntryQuantitySet" | "InventoryEntryDeleted"
        ) {
            return Ok(None);
        }
        let invalid =
            |what: &str| StockError::Invalid(format!("{kind} message {}: {what}", m.id.as_deref().unwrap_or("?")));
        let entry_id = m
            .resource
            .as_ref()
            .and_then(|r| r.id.clone())
            .ok_or_else(|| invalid("no resource id"))?;
        let version = m.resource_version.ok_or_else(|| invalid("no resourceVersion"))?;
        let channel_of = |v: Option<&Value>| v.and_then(|c| c.get("id")).and_then(Value::as_str).map(str::to_string);
        let p = &m.payload;
        let (sku, channel, quantity) = match kind.as_str() {
            "InventoryEntryCreated" => {
                let entry = p.get("inventoryEntry").ok_or_else(|| invalid("no inventoryEntry"))?;
                let quantity = entry
                    .get("quantityOnStock")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| invalid("no inventoryEntry.quantityOnStock"))?;
                (
                    entry.get("sku").and_then(Value::as_str).map(str::to_string),
                    channel_of(entry.get("supplyChannel")),
                    Some(quantity),
                )
            }
            "InventoryEntryQuantitySet" => {
                let quantity = p
                    .get("newQuantityOnStock")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| invalid("no newQuantityOnStock"))?;
                (None, channel_of(p.get("supplyChannel")), Some(quantity))
            }
            _ => (
                p.get("sku").and_then(Value::as_str).map(str::to_string),
                channel_of(p.get("supplyChannel")),
                None,
            ),
        };
        Ok(Some(Self {
            entry_id,
            version,
            sku,
            channel,
            quantity,
            kind,
        }))
    }
}

/// What one change did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum EntryOutcome {
    /// Visma's balance was `was` and is now the entry's quantity.
    Applied { sku: String, was: f64, now: i64 },
    /// Visma already had that balance (the version is recorded).
    AlreadySet { sku: String },
    /// This version or a newer one was applied before: nothing done.
    Stale { applied: u64 },
    /// The entry is on a channel no entity syncs from commercetools.
    OtherChannel,
    /// The entry has no SKU (or is gone), so no article to set.
    NoSku,
    /// Visma has no article with this SKU as its number.
    NoArticle { sku: String },
    /// The entry was deleted: recorded, Visma left as it is.
    Deleted,
}

fn state_name(entry_id: &str) -> String {
    format!("{STATE_PREFIX}{entry_id}")
}

/// Applies one change for `entity` (whose rules' source is commercetools), unless its version
/// was applied before.
pub async fn apply_change(
    sync: &StockSync,
    entity: &str,
    rules: &StockRules,
    change: &InventoryChange,
) -> Result<EntryOutcome, StockError> {
    if change.channel.as_deref().is_some_and(|c| c != rules.supply_channel) {
        return Ok(EntryOutcome::OtherChannel);
    }
    let name = state_name(&change.entry_id);
    let recorded = sync.store.get_state(&name).await?;
    if let Some(applied) = recorded.as_deref().and_then(|v| v.parse::<u64>().ok()) {
        if change.version <= applied {
            tracing::debug!(entity, entry = %change.entry_id, version = change.version, applied, "stale inventory change");
            return Ok(EntryOutcome::Stale { applied });
        }
    }
    let outcome = match change.quantity {
        None => EntryOutcome::Deleted,
        Some(quantity) => {
            let sku = match &change.sku {
                Some(s) => Some(s.clone()),
                None => sync.ct.get_inventory_entry(&change.entry_id).await?.and_then(|e| e.sku),
            };
            match sku {
                None => EntryOutcome::NoSku,
                Some(sku) => match sync.visma.set_balance(&sku, quantity as f64, sync.deadline).await? {
                    BalanceAction::Set { was } => EntryOutcome::Applied {
                        sku,
                        was,
                        now: quantity,
                    },
                    BalanceAction::Unchanged => EntryOutcome::AlreadySet { sku },
                    BalanceAction::NoArticle => EntryOutcome::NoArticle { sku },
                },
            }
        }
    };
    if !sync
        .store
        .set_state(&name, recorded.as_deref(), &change.version.to_string())
        .await?
    {
        // Another run recorded a version meanwhile; both wrote absolute values.
        tracing::info!(entity, entry = %change.entry_id, version = change.version, "inventory version recorded concurrently");
    }
    tracing::info!(entity, entry = %change.entry_id, version = change.version, outcome = ?outcome, "inventory change");
    Ok(outcome)
}

/// Counts one change's result into `report`.
pub(crate) fn tally(report: &mut SyncReport, change: &InventoryChange, result: Result<EntryOutcome, StockError>) {
    match result {
        Ok(EntryOutcome::Applied { .. }) => report.updated += 1,
        Ok(EntryOutcome::AlreadySet { .. }) => report.unchanged += 1,
        Ok(EntryOutcome::Stale { .. }) => report.stale += 1,
        Ok(_) => report.untouched += 1,
        Err(e) => {
            let sku = change.sku.clone().unwrap_or_else(|| change.entry_id.clone());
            report.fail(&sku, e.class(), e.to_string());
        }
    }
}

/// One message's result.
#[derive(Debug, Clone, Serialize)]
pub struct MessageResult {
    pub message_id: Option<String>,
    pub entry_id: String,
    pub version: u64,
    /// The entity whose rules took it, if any.
    pub entity: Option<String>,
    #[serde(flatten)]
    pub outcome: EntryOutcome,
}

impl StockSync {
    /// An InventoryEntry message for the entity whose commercetools-source stock rules name its
    /// channel (read from the entry when the message does not say). `Ok(None)` for other
    /// messages.
    pub async fn apply_message(&self, rules: &Rules, message: &Message) -> Result<Option<MessageResult>, StockError> {
        let Some(mut change) = InventoryChange::from_message(message)? else {
            return Ok(None);
        };
        if change.channel.is_none() && change.quantity.is_some() {
            if let Some(entry) = self.ct.get_inventory_entry(&change.entry_id).await? {
                change.channel = entry.supply_channel.and_then(|c| c.id);
                change.sku = change.sku.or(entry.sku);
            }
        }
        let target = rules.entities.iter().find_map(|(id, e)| {
            e.stock
                .as_ref()
                .filter(|s| {
                    s.source == StockSource::Commercetools && Some(&s.supply_channel) == change.channel.as_ref()
                })
                .map(|s| (id, s))
        });
        let (entity, outcome) = match target {
            Some((id, stock)) => (Some(id.clone()), apply_change(self, id, stock, &change).await?),
            None => (None, EntryOutcome::OtherChannel),
        };
        Ok(Some(MessageResult {
            message_id: message.id.clone(),
            entry_id: change.entry_id,
            version: change.version,
            entity,
            outcome,
        }))
    }
}
