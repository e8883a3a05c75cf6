//! The executor of a Visma → commercetools sync, and the scheduled run over every entity.
//!
//! Memory: the Visma levels are held as one `(SKU, quantity)` pair per stock article (about the
//! SKU's length plus 40 bytes; some 1 MB for 10 000 SKUs); commercetools entries are read 500 at a
//! time and dropped once planned; at most `concurrency` writes are in flight; the creates of a
//! run are listed once at the end (one small record per missing entry). Nothing holds whole
//! resources of the catalogue, so the peak grows with the number of SKUs only through those
//! small records.

use std::collections::BTreeMap;
use std::sync::Arc;

use ctvisma_commercetools::{quote, CtClient, CtError, Page, Query, PAGE_SIZE};
use ctvisma_core::commercetools::inventory::InventoryEntry;
use ctvisma_core::rules::stock::{StockQuantity, StockRules, StockSource};
use ctvisma_core::{Classify, ErrorClass, Rules};
use ctvisma_ledger::IdempotencyStore;
use ctvisma_visma::Deadline;
use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::inbound::{self, EntryOutcome, InventoryChange};
use crate::plan::{quantity_of, Change, CtEntry, Planner};
use crate::{StockError, VismaStock};

/// Writes in flight at once against commercetools (its limits are per project, generous for
/// this) or Visma.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// Failures listed in a report (all are counted).
pub const MAX_LISTED_FAILURES: usize = 50;

/// One SKU that could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub sku: String,
    /// `Transient` ones are retried by the next scheduled run.
    pub class: String,
    pub reason: String,
}

/// What one entity's run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub entity: String,
    /// "visma" or "commercetools": the source of truth.
    pub source: String,
    pub supply_channel: String,
    /// Stock articles read from Visma (source visma).
    pub visma_articles: usize,
    /// Inactive and service articles: not synced.
    pub visma_skipped: usize,
    /// Inventory entries of the channel read from commercetools.
    pub ct_entries: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Entries whose SKU has no Visma stock article (source visma), or that had no SKU, were on
    /// another channel or had no Visma article (source commercetools): left alone.
    pub untouched: usize,
    /// Entries already applied at this version (source commercetools).
    pub stale: usize,
    pub failed: usize,
    /// The first [`MAX_LISTED_FAILURES`] failures.
    pub failures: Vec<Failure>,
}

impl SyncReport {
    fn new(entity: &str, rules: &StockRules) -> Self {
        Self {
            entity: entity.to_string(),
            source: match rules.source {
                StockSource::Visma => "visma",
                StockSource::Commercetools => "commercetools",
            }
            .into(),
            supply_channel: rules.supply_channel.clone(),
            ..Self::default()
        }
    }

    pub(crate) fn fail(&mut self, sku: &str, class: ErrorClass, reason: String) {
        tracing::warn!(entity = %self.entity, sku, class = ?class, reason = %reason, "stock write failed");
        self.failed += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(Failure {
                sku: sku.to_string(),
                class: format!("{class:?}"),
                reason,
            });
        }
    }
}

/// What a write did.
enum Written {
    Created,
    Updated,
    Unchanged,
}

/// One stock run's clients.
pub struct StockSync {
    /// With the run's deadline already set ([`CtClient::with_deadline`]).
    pub ct: CtClient,
    pub visma: Arc<dyn VismaStock>,
    /// The per-entry applied versions (source commercetools).
    pub store: Arc<dyn IdempotencyStore>,
    pub concurrency: usize,
    pub deadline: Deadline,
}

impl StockSync {
    /// Every entity of `rules` with a `[stock]` section (or only `only`), each in turn; one
    /// failing does not stop the others. The reports and the failed runs.
    pub async fn run_all(&self, rules: &Rules, only: Option<&str>) -> (Vec<SyncReport>, Vec<Value>) {
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        let entities: BTreeMap<&String, &StockRules> = rules
            .entities
            .iter()
            .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
            .filter_map(|(id, e)| e.stock.as_ref().map(|s| (id, s)))
            .collect();
        for (id, stock) in entities {
            match self.run_entity(id, stock).await {
                Ok(r) => reports.push(r),
                Err(e) => {
                    tracing::error!(entity = %id, class = ?e.class(), error = %e, "stock sync failed");
                    errors.push(json!({"entity": id, "class": format!("{:?}", e.class()), "reason": e.to_string()}));
                }
            }
        }
        (reports, errors)
    }

    /// One entity, in the direction its rules name.
    pub async fn run_entity(&self, entity: &str, rules: &StockRules) -> Result<SyncReport, StockError> {
        let problems = rules.problems(entity);
        if !problems.is_empty() {
            return Err(StockError::Invalid(problems.join("; ")));
        }
        let report = match rules.source {
            StockSource::Visma => self.visma_to_commercetools(entity, rules).await?,
            StockSource::Commercetools => self.commercetools_to_visma(entity, rules).await?,
        };
        tracing::info!(
            entity,
            source = %report.source,
            created = report.created,
            updated = report.updated,
            unchanged = report.unchanged,
            untouched = report.untouched,
            failed = report.failed,
            "stock sync"
        );
        Ok(report)
    }

    /// Visma's levels onto the channel's inventory entries: creates and absolute sets for the
    /// changes only. A failed read ends the run (nothing half-planned is written after it); a
    /// failed write is counted and listed, and the others go on.
    pub async fn visma_to_commercetools(&self, entity: &str, rules: &StockRules) -> Result<SyncReport, StockError> {
        let mut report = SyncReport::new(entity, rules);
        let mut planner = Planner::new(self.read_levels(rules.quantity, &mut report).await?);
        let mut last: Option<String> = None;
        loop {
            let page = self.entries_page(&rules.supply_channel, last.as_deref()).await?;
            let results_len = page.results.len();
            let full = results_len >= PAGE_SIZE as usize;
            report.ct_entries += results_len;
            last = page.results.last().map(|e| e.id.clone());
            let entries: Vec<CtEntry> = page
                .results
                .into_iter()
                .filter_map(|e| {
                    Some(CtEntry {
                        version: e.version?,
                        sku: e.sku?,
                        id: e.id,
                        quantity_on_stock: e.quantity_on_stock,
                    })
                })
                .collect();
            // Entries without a SKU are no SKU's stock.
            report.untouched += results_len - entries.len();
            let sets = planner.page(&entries);
            drop(entries);
            self.apply(sets, &rules.supply_channel, &mut report).await;
            if !full || last.is_none() {
                break;
            }
        }
        let (creates, tally) = planner.finish();
        self.apply(creates, &rules.supply_channel, &mut report).await;
        report.unchanged += tally.unchanged;
        report.untouched += tally.untouched;
        Ok(report)
    }

    /// Visma's levels per SKU, every page: active stock articles only.
    async fn read_levels(
        &self,
        quantity: StockQuantity,
        report: &mut SyncReport,
    ) -> Result<Vec<(String, i64)>, StockError> {
        let mut levels = Vec::new();
        let mut page = 1;
        loop {
            let got = self.visma.levels_page(page, self.deadline).await?;
            for l in got.levels {
                if !l.is_active || l.is_service || l.number.is_empty() {
                    report.visma_skipped += 1;
                    continue;
                }
                let level = match quantity {
                    StockQuantity::Available => l.available,
                    StockQuantity::Balance => l.balance,
                };
                levels.push((l.number, quantity_of(level)));
            }
            if !got.more {
                break;
            }
            page += 1;
        }
        report.visma_articles = levels.len();
        Ok(levels)
    }

    /// One page of the channel's entries after `last` (by id).
    pub(crate) async fn entries_page(
        &self,
        channel: &str,
        last: Option<&str>,
    ) -> Result<Page<InventoryEntry>, CtError> {
        let mut where_ = vec![format!("supplyChannel(id={})", quote(channel))];
        if let Some(id) = last {
            where_.push(format!("id > {}", quote(id)));
        }
        let query = Query {
            where_,
            sort: vec!["id asc".into()],
            limit: Some(PAGE_SIZE),
            offset: None,
            with_total: Some(false),
        };
        self.ct.query("inventory", &query).await
    }

    /// Runs `changes` with at most `concurrency` in flight and tallies them into `report`.
    async fn apply(&self, changes: Vec<Change>, channel: &str, report: &mut SyncReport) {
        let results: Vec<(String, Result<Written, CtError>)> = futures::stream::iter(changes)
            .map(|c| async move {
                let sku = c.sku().to_string();
                (sku, self.write(c, channel).await)
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        for (sku, result) in results {
            match result {
                Ok(Written::Created) => report.created += 1,
                Ok(Written::Updated) => report.updated += 1,
                Ok(Written::Unchanged) => report.unchanged += 1,
                Err(e) => report.fail(&sku, e.class(), e.to_string()),
            }
        }
    }

    async fn write(&self, change: Change, channel: &str) -> Result<Written, CtError> {
        match change {
            Change::Set { id, version, to, .. } => {
                self.set(&id, version, to).await?;
                Ok(Written::Updated)
            }
            Change::Create { sku, quantity } => {
                let draft = json!({
                    "sku": sku,
                    "quantityOnStock": quantity,
                    "supplyChannel": {"typeId": "channel", "id": channel},
                });
                match self.ct.create("inventory", &draft).await {
                    Ok(_) => Ok(Written::Created),
                    // Created by someone else since we read the channel: set that one.
                    Err(CtError::Refused { ref code, .. }) if code == "DuplicateField" => {
                        self.set_existing(&sku, channel, quantity).await
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// `changeQuantity`: absolute, so the client's 409 retry with the current version is safe.
    async fn set(&self, id: &str, version: u64, quantity: i64) -> Result<Value, CtError> {
        let actions = json!([{"action": "changeQuantity", "quantity": quantity}]);
        self.ct.update(&format!("inventory/{id}"), version, actions).await
    }

    /// The channel's entry of `sku` (`sku="…" and supplyChannel(id="…")`), set to `quantity`.
    async fn set_existing(&self, sku: &str, channel: &str, quantity: i64) -> Result<Written, CtError> {
        let query = Query {
            where_: vec![format!("sku={} and supplyChannel(id={})", quote(sku), quote(channel))],
            limit: Some(1),
            with_total: Some(false),
            ..Query::default()
        };
        let page: Page<InventoryEntry> = self.ct.query("inventory", &query).await?;
        let Some(entry) = page.results.into_iter().next() else {
            return Err(CtError::Refused {
                path: "inventory".into(),
                status: 400,
                code: "DuplicateField".into(),
                message: format!("an entry of {sku} exists but cannot be found on the channel"),
            });
        };
        if entry.quantity_on_stock == quantity {
            return Ok(Written::Unchanged);
        }
        self.set(&entry.id, entry.version.unwrap_or(0), quantity).await?;
        Ok(Written::Updated)
    }

    /// Source commercetools, on the schedule: every entry of the channel through
    /// [`inbound::apply_change`], so an entry changes Visma once per version whether its message
    /// was delivered or not.
    pub async fn commercetools_to_visma(&self, entity: &str, rules: &StockRules) -> Result<SyncReport, StockError> {
        let mut report = SyncReport::new(entity, rules);
        let mut last: Option<String> = None;
        loop {
            let page = self.entries_page(&rules.supply_channel, last.as_deref()).await?;
            let full = page.results.len() >= PAGE_SIZE as usize;
            report.ct_entries += page.results.len();
            last = page.results.last().map(|e| e.id.clone());
            let changes: Vec<InventoryChange> = page.results.iter().filter_map(InventoryChange::from_entry).collect();
            report.untouched += page.results.len() - changes.len();
            let results: Vec<(InventoryChange, Result<EntryOutcome, StockError>)> = futures::stream::iter(changes)
                .map(|c| async move {
                    let r = inbound::apply_change(self, entity, rules, &c).await;
                    (c, r)
                })
                .buffer_unordered(self.concurrency.max(1))
                .collect()
                .await;
            for (change, result) in results {
                inbound::tally(&mut report, &change, result);
            }
            if !full || last.is_none() {
                break;
            }
        }
        Ok(report)
    }
}
