//! `ctvisma sync-stock`: the `stock` function once, on this machine — the same
//! [`StockSync::run_entity`] per entity with `[entities.<ID>.stock]`, commercetools from `CTP_*`
//! and eAccounting from `EACCOUNTING_*` (`../shared/CONTRACT.md`). The per-entry versions of the
//! commercetools-source direction live in `<out>/ctvisma.sqlite`, rotated eAccounting refresh
//! tokens in `<out>/.eaccounting-<entity>.token`, as `ctvisma run` keeps them.
//!
//! With paths, their InventoryEntry messages (any envelope `ctvisma run` reads) are applied
//! instead, each once per entry version. The summary is one JSON document on stdout; exit 1 when
//! an entity or a SKU failed, 2 when the setup is unusable.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::commercetools::message::Message;
use ctvisma_core::input::{documents_from_str, Document};
use ctvisma_core::rules::stock::StockRules;
use ctvisma_core::Rules;
use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_stock::StockSync;
use ctvisma_visma::eaccounting::stock::EaStock;
use ctvisma_visma::eaccounting::EaccountingConfig;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::FileTokenStore;
use ctvisma_visma::Deadline;
use serde_json::{json, Value};

use super::setup_error;
use crate::{exit, files, SyncStockArgs};

pub fn run(args: &SyncStockArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match super::runtime(err) {
        Ok(runtime) => runtime.block_on(sync(args, out, err)),
        Err(code) => code,
    }
}

/// The entities to run: those with stock rules, or only `--entity`.
fn selected<'r>(rules: &'r Rules, only: Option<&str>) -> Result<BTreeMap<&'r String, &'r StockRules>, String> {
    if let Some(id) = only {
        let entity = rules.entities.get(id).ok_or_else(|| format!("unknown entity {id:?}"))?;
        if entity.stock.is_none() {
            return Err(format!("entities.{id} has no [stock] section"));
        }
    }
    Ok(rules
        .entities
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .filter_map(|(id, e)| e.stock.as_ref().map(|s| (id, s)))
        .collect())
}

async fn sync(args: &SyncStockArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let text = match std::fs::read_to_string(&args.rules) {
        Ok(t) => t,
        Err(e) => return setup_error(err, &format!("{}: {e}", args.rules.display())),
    };
    let rules = match Rules::from_toml(&text) {
        Ok(r) => r,
        Err(e) => return setup_error(err, &format!("{}: {e}", args.rules.display())),
    };
    let entities = match selected(&rules, args.entity.as_deref()) {
        Ok(e) if e.is_empty() => return setup_error(err, "no entity has [entities.<ID>.stock] rules"),
        Ok(e) => e,
        Err(m) => return setup_error(err, &m),
    };
    let ct = match CtConfig::from_env() {
        Ok(Some(c)) => c,
        Ok(None) => return setup_error(err, "CTP_PROJECT_KEY, CTP_CLIENT_ID and CTP_CLIENT_SECRET must be set"),
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let ea = match EaccountingConfig::from_env() {
        Ok(c) => c,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return setup_error(err, &format!("{}: {e}", args.out.display()));
    }
    let store = match SqliteStore::open(args.out.join("ctvisma.sqlite")) {
        Ok(s) => Arc::new(s),
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let http = match Http::new(HttpSettings::default()) {
        Ok(h) => h,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let ct = CtClient::new(ct, http.clone());
    // One client per entity: each keeps its own rotated refresh token, as `ctvisma run` does.
    let sync_for = |id: &str| StockSync {
        ct: ct.clone(),
        visma: Arc::new(EaStock::new(
            http.clone(),
            &ea,
            Arc::new(FileTokenStore {
                path: args.out.join(format!(".eaccounting-{id}.token")),
            }),
        )),
        store: store.clone(),
        concurrency: args.concurrency.max(1),
        deadline: Deadline::none(),
    };

    let mut failed = false;
    let summary = if args.paths.is_empty() {
        let mut reports = Vec::new();
        let mut errors = Vec::new();
        for (id, stock) in entities {
            match sync_for(id).run_entity(id, stock).await {
                Ok(r) => {
                    failed |= r.failed > 0;
                    reports.push(r);
                }
                Err(e) => {
                    failed = true;
                    errors.push(json!({"entity": id, "reason": e.to_string()}));
                }
            }
        }
        json!({"entities": reports, "errors": errors})
    } else {
        let (results, bad) = apply_messages(args, &rules, &sync_for, err).await;
        failed |= bad;
        json!({"messages": results})
    };
    let _ = writeln!(out, "{summary}");
    if failed {
        exit::REFUSED
    } else {
        exit::OK
    }
}

/// Every InventoryEntry message of the paths, in order; other documents are skipped.
async fn apply_messages(
    args: &SyncStockArgs,
    rules: &Rules,
    sync_for: &dyn Fn(&str) -> StockSync,
    err: &mut dyn Write,
) -> (Vec<Value>, bool) {
    // The entity is found from each message's channel; any entity's client reads commercetools,
    // and each message's entity decides the Visma company.
    let syncs: BTreeMap<String, StockSync> = rules
        .entities
        .iter()
        .filter(|(_, e)| e.stock.is_some())
        .map(|(id, _)| (id.clone(), sync_for(id)))
        .collect();
    let mut results = Vec::new();
    let mut failed = false;
    for file in files::input_files(&args.paths) {
        let path = match file {
            Ok(p) => p,
            Err((p, e)) => {
                failed = true;
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "io", "file": p.display().to_string(), "message": e.to_string()})
                );
                continue;
            }
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                failed = true;
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "io", "file": path.display().to_string(), "message": e.to_string()})
                );
                continue;
            }
        };
        for found in documents_from_str(&text) {
            let Ok(Document::Message(message)) = found.document else {
                continue;
            };
            let message: &Message = &message;
            let Some(sync) = entity_sync(&syncs, rules, message) else {
                continue;
            };
            match sync.apply_message(rules, message).await {
                Ok(Some(r)) => results.push(json!(r)),
                Ok(None) => {}
                Err(e) => {
                    failed = true;
                    let _ = writeln!(
                        err,
                        "{}",
                        json!({"error": "stock", "file": path.display().to_string(), "at": found.path, "message": e.to_string()})
                    );
                }
            }
        }
    }
    (results, failed)
}

/// The client of the entity whose commercetools-source channel the message names, else the
/// first (which reads commercetools to find the channel, or reports the message as unclaimed).
fn entity_sync<'a>(syncs: &'a BTreeMap<String, StockSync>, rules: &Rules, message: &Message) -> Option<&'a StockSync> {
    let channel = message
        .payload
        .get("supplyChannel")
        .or_else(|| {
            message
                .payload
                .get("inventoryEntry")
                .and_then(|e| e.get("supplyChannel"))
        })
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str);
    rules
        .entities
        .iter()
        .find(|(_, e)| {
            e.stock
                .as_ref()
                .is_some_and(|s| Some(s.supply_channel.as_str()) == channel)
        })
        .and_then(|(id, _)| syncs.get(id))
        .or_else(|| syncs.values().next())
}
