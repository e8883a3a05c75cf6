//! `ctvisma status <order number or id>`: what happened to an order, from the ledger — every
//! message seen (with its outcome and, for failures, the reason) and every posting made (with
//! the Visma document). Reads the local SQLite ledger of `ctvisma run`.

use std::io::Write;

use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::IdempotencyStore;
use serde_json::json;

use crate::{exit, StatusArgs};

pub fn run(args: &StatusArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let path = args.out.join("ctvisma.sqlite");
    if !path.exists() {
        let _ = writeln!(
            err,
            "{}",
            json!({"error": "setup", "message": format!("no ledger at {}: run `ctvisma run` first", path.display())})
        );
        return exit::SETUP;
    }
    let store = match SqliteStore::open(&path) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "{}", json!({"error": "setup", "message": e.to_string()}));
            return exit::SETUP;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "{}", json!({"error": "setup", "message": e.to_string()}));
            return exit::SETUP;
        }
    };
    let (messages, postings) = runtime.block_on(async {
        let messages = store.messages_for(&args.order).await;
        let postings = store.ledger_for(&args.order).await;
        (messages, postings)
    });
    let (messages, postings) = match (messages, postings) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "{}", json!({"error": "store", "message": e.to_string()}));
            return exit::SETUP;
        }
    };
    let report = json!({
        "order": args.order,
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
