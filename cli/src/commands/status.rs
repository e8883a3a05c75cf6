//! `ctvisma status <order number or id>`: what happened to an order, from the ledger — every
//! message seen (with its outcome and, for failures, the reason) and every posting made (with
//! the Visma document). Reads the local SQLite ledger of `ctvisma run`, or the deployed stack's
//! DynamoDB ledger (`--ledger dynamodb`, or whenever the Lambdas' table variables are set).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use ctvisma_aws::dynamo::{IDEMPOTENCY_TABLE_ENV, LEDGER_TABLE_ENV};
use ctvisma_aws::{AwsClients, DynamoStore};
use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::IdempotencyStore;
use serde_json::json;

use super::setup_error;
use crate::{exit, LedgerKind, StatusArgs};

pub fn run(args: &StatusArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    runtime.block_on(status(args, out, err))
}

async fn status(args: &StatusArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (store, name) = match open_ledger(args.ledger, &args.out).await {
        Ok(s) => s,
        Err(message) => return setup_error(err, &message),
    };
    let messages = store.messages_for(&args.order).await;
    let postings = store.ledger_for(&args.order).await;
    let (messages, postings) = match (messages, postings) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "{}", json!({"error": "store", "message": e.to_string()}));
            return exit::SETUP;
        }
    };
    let report = json!({
        "order": args.order,
        "ledger": name,
        "messages": messages.iter().map(|m| json!({
            "kind": m.kind, "message_id": m.message_id, "outcome": m.outcome,
            "reason": m.reason, "keys": m.keys, "sequence_number": m.sequence_number,
        })).collect::<Vec<_>>(),
        "postings": postings.iter().map(|p| json!({
            "idempotency_key": p.key, "event": p.event, "entity": p.entity, "currency": p.currency,
            "date": p.date, "external_ref": p.external_ref, "target": p.document.target,
            "document_id": p.document.id, "document_number": p.document.number, "total": p.document.total,
        })).collect::<Vec<_>>(),
    });
    let _ = writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    if messages.is_empty() && postings.is_empty() {
        let _ = writeln!(
            err,
            "{}",
            json!({"notice": "unknown", "order": args.order, "message": "nothing about this order in the ledger"})
        );
        return exit::REFUSED;
    }
    exit::OK
}

/// Whether the Lambdas' table variables are set (then `auto` reads DynamoDB).
fn tables_in_env() -> bool {
    [IDEMPOTENCY_TABLE_ENV, LEDGER_TABLE_ENV]
        .iter()
        .all(|n| std::env::var(n).is_ok_and(|v| !v.trim().is_empty()))
}

/// The ledger to read, and a name for it ("sqlite <path>" / "dynamodb <table>"). The SQLite
/// ledger must exist already: reading never creates one.
pub(crate) async fn open_ledger(kind: LedgerKind, out: &Path) -> Result<(Arc<dyn IdempotencyStore>, String), String> {
    let dynamo = match kind {
        LedgerKind::Auto => tables_in_env(),
        LedgerKind::Sqlite => false,
        LedgerKind::Dynamodb => true,
    };
    if dynamo {
        let clients = AwsClients::from_env().await;
        let store = DynamoStore::from_env(clients.dynamodb).map_err(|e| e.to_string())?;
        let name = format!("dynamodb {}", store.ledger_table());
        return Ok((Arc::new(store), name));
    }
    let path = out.join("ctvisma.sqlite");
    if !path.exists() {
        return Err(format!("no ledger at {}: run `ctvisma run` first", path.display()));
    }
    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
    Ok((Arc::new(store), format!("sqlite {}", path.display())))
}
