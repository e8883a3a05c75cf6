//! The SQLite store's whole message log (`all_messages`, for `ctvisma replay`): every record in
//! write order, keys and reasons kept, across handles on one file.

use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::{IdempotencyStore, MessageRecord};

fn record(resource: &str, message_id: &str, at: i64, outcome: &str) -> MessageRecord {
    MessageRecord {
        resource_id: resource.into(),
        order_number: Some(format!("N-{resource}")),
        kind: "OrderCreated".into(),
        message_id: message_id.into(),
        sequence_number: Some(1),
        at,
        outcome: outcome.into(),
        keys: vec![format!("invoice:{resource}")],
        reason: (outcome == "parked").then(|| "Permanent validation: no VAT rule".to_string()),
    }
}

#[tokio::test]
async fn all_messages_lists_the_log_in_write_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.all_messages().await.unwrap().is_empty());
    // Written out of time order on purpose: the log keeps write order.
    let written = [
        record("o1", "events/a.json#Records[0]", 20, "parked"),
        record("o2", "events/a.json#Records[1]", 10, "posted"),
        record("o1", "events/a.json#Records[0]", 30, "posted"),
    ];
    for r in &written {
        store.record_message(r).await.unwrap();
    }
    let other = SqliteStore::open(&path).unwrap();
    assert_eq!(other.all_messages().await.unwrap(), written.to_vec());
}
