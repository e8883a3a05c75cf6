//! The scheduled `stock` function: on every invocation, each entity with `[entities.<ID>.stock]`
//! in the direction its rules name (see `ctvisma-stock`). `ctvisma sync-stock` runs the same
//! [`StockSync::run_entity`] with the variables of a local run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ctvisma_commercetools::CtClient;
use ctvisma_core::Rules;
use ctvisma_ledger::IdempotencyStore;
use ctvisma_stock::{StockSync, SyncReport, VismaStock};
use ctvisma_visma::Deadline;
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

use crate::metrics::Counts;

/// Time kept back from the Lambda deadline to report and return.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// Built once per cold start ([`crate::setup::stock`]).
pub struct StockFunction {
    pub ct: CtClient,
    /// The eAccounting company of each entity with stock rules.
    pub visma: BTreeMap<String, Arc<dyn VismaStock>>,
    pub store: Arc<dyn IdempotencyStore>,
    pub rules: Rules,
    pub concurrency: usize,
    pub function: String,
}

impl StockFunction {
    /// One scheduled invocation (the EventBridge event itself is not read).
    pub async fn run(&self, event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        let now = now_ms();
        let left = Duration::from_millis(event.context.deadline.saturating_sub(now as u64));
        let deadline = Deadline::in_(left.saturating_sub(DEADLINE_MARGIN));
        let (summary, counts, failed) = self.sync_all(deadline).await;
        tracing::info!(summary = %summary, "stock sync");
        println!("{}", counts.emf(&self.function, now));
        if failed > 0 {
            // The Errors alarm watches this; the next scheduled run starts over (absolute values).
            return Err(format!("stock sync failed for {failed} entities: {summary}").into());
        }
        Ok(summary)
    }

    /// Every entity with stock rules in turn: the summary, the metrics and how many entities
    /// failed (a run with per-SKU failures counts as failed too, so the alarm sees it).
    pub async fn sync_all(&self, deadline: Deadline) -> (Value, Counts, usize) {
        let mut reports: Vec<SyncReport> = Vec::new();
        let mut errors: Vec<Value> = Vec::new();
        for (id, entity) in &self.rules.entities {
            let Some(stock) = &entity.stock else { continue };
            let Some(visma) = self.visma.get(id) else {
                errors.push(json!({"entity": id, "reason": "no eAccounting company configured"}));
                continue;
            };
            let sync = StockSync {
                ct: self.ct.with_deadline(deadline),
                visma: visma.clone(),
                store: self.store.clone(),
                concurrency: self.concurrency,
                deadline,
            };
            match sync.run_entity(id, stock).await {
                Ok(r) => reports.push(r),
                Err(e) => {
                    tracing::error!(entity = %id, error = %e, "stock sync failed");
                    errors.push(json!({"entity": id, "reason": e.to_string()}));
                }
            }
        }
        let sum = |f: fn(&SyncReport) -> usize| reports.iter().map(f).sum::<usize>() as u64;
        let mut counts = Counts::default();
        counts.add("StockCreated", sum(|r| r.created));
        counts.add("StockUpdated", sum(|r| r.updated));
        counts.add("StockUnchanged", sum(|r| r.unchanged));
        counts.add("StockFailed", sum(|r| r.failed));
        counts.add("StockSyncFailed", errors.len() as u64);
        let failed = errors.len() + reports.iter().filter(|r| r.failed > 0).count();
        let summary = json!({"function": self.function, "entities": reports, "errors": errors});
        (summary, counts, failed)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
