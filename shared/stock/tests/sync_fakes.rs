//! The stock sync end to end against the fake commercetools (recorded fixtures loaded) and the
//! fake eAccounting. Figures for 10 000 SKUs are in the benchmark (`benches/sync_10k.rs`).

mod support;

use ctvisma_core::commercetools::message::Message;
use ctvisma_core::rules::stock::StockSource;
use ctvisma_core::Rules;
use ctvisma_stock::inbound::EntryOutcome;
use serde_json::json;
use support::*;

fn skus(n: usize) -> Vec<(String, f64)> {
    (0..n).map(|i| (format!("SKU-{i:05}"), (i % 7) as f64)).collect()
}

#[tokio::test]
async fn first_sync_creates_second_sends_nothing_a_change_sends_exactly_it() {
    let env = env(4).await;
    seed_articles(
        &env.visma,
        vec![("A".into(), 5.0), ("B".into(), 3.0), ("C".into(), 2.75)],
    )
    .await;
    // B already has an entry on the channel (the recorded fixture, moved there) at 1.
    env.ct.insert("inventory", fixture_entry_on_channel("B", 1));
    let fixtures_before = env.ct.all("inventory").len();
    let rules = rules(StockSource::Visma);

    let first = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!(
        (first.created, first.updated, first.unchanged, first.failed),
        (2, 1, 0, 0),
        "{first:?}"
    );
    assert_eq!(first.visma_articles, 3);
    assert_eq!(ct_entry(&env.ct, "A").unwrap()["quantityOnStock"], 5);
    assert_eq!(ct_entry(&env.ct, "B").unwrap()["quantityOnStock"], 3);
    assert_eq!(
        ct_entry(&env.ct, "B").unwrap()["id"],
        "fixture-B",
        "the existing entry is updated"
    );
    assert_eq!(
        ct_entry(&env.ct, "C").unwrap()["quantityOnStock"],
        2,
        "whole units, rounded down"
    );
    assert_eq!(env.ct.all("inventory").len(), fixtures_before + 2);
    // The fixtures' entries of other channels are never touched.
    for e in env.ct.all("inventory") {
        if e["supplyChannel"]["id"] != CHANNEL {
            assert_eq!(e["version"], 1, "{e}");
        }
    }

    env.ct.clear_requests();
    let second = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!(ct_writes(&env.ct), Vec::<String>::new(), "no change, no write");
    assert_eq!((second.created, second.updated, second.unchanged), (0, 0, 3));

    set_visma_balance(&env.visma, "A", 8.0).await;
    env.ct.clear_requests();
    let third = env.sync.run_entity("SE", &rules).await.unwrap();
    let a = ct_entry(&env.ct, "A").unwrap();
    assert_eq!(
        ct_writes(&env.ct),
        vec![format!(
            "POST /{}/inventory/{} 200",
            env.ct.project_key(),
            a["id"].as_str().unwrap()
        )]
    );
    assert_eq!(a["quantityOnStock"], 8);
    assert_eq!((third.created, third.updated, third.unchanged), (0, 1, 2));
    assert!(visma_writes(&env.visma)
        .iter()
        .all(|w| w.starts_with("PUT /v2/articles") || w.starts_with("POST /v2/articles")));
}

#[tokio::test]
async fn a_409_is_retried_with_the_current_version() {
    let env = env(2).await;
    seed_articles(&env.visma, vec![("A".into(), 5.0)]).await;
    env.ct.insert("inventory", fixture_entry_on_channel("A", 1));
    env.ct.conflict_next_update(2);
    let report = env.sync.run_entity("SE", &rules(StockSource::Visma)).await.unwrap();
    assert_eq!((report.updated, report.failed), (1, 0), "{report:?}");
    let entry = ct_entry(&env.ct, "A").unwrap();
    assert_eq!(entry["quantityOnStock"], 5);
    // Two conflicts moved the version to 3; our write made it 4.
    assert_eq!(entry["version"], 4);
    let statuses: Vec<String> = ct_writes(&env.ct);
    assert_eq!(
        statuses.iter().filter(|w| w.ends_with("409")).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|w| w.ends_with("200")).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn conflicts_past_the_retries_fail_that_sku_only() {
    let env = env(1).await;
    seed_articles(&env.visma, vec![("A".into(), 5.0), ("B".into(), 4.0)]).await;
    env.ct.insert("inventory", fixture_entry_on_channel("A", 1));
    env.ct.conflict_next_update(10);
    let report = env.sync.run_entity("SE", &rules(StockSource::Visma)).await.unwrap();
    assert_eq!((report.created, report.updated, report.failed), (1, 0, 1), "{report:?}");
    assert_eq!(report.failures[0].sku, "A");
    assert_eq!(report.failures[0].class, "Transient");
}

#[tokio::test]
async fn pages_through_more_than_one_page_on_both_sides() {
    let env = env(8).await;
    seed_articles(&env.visma, skus(1_200)).await;
    let rules = rules(StockSource::Visma);
    let first = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!((first.visma_articles, first.created, first.failed), (1_200, 1_200, 0));
    env.ct.clear_requests();
    let second = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!(
        (second.ct_entries, second.unchanged, second.created, second.updated),
        (1_200, 1_200, 0, 0)
    );
    assert!(ct_writes(&env.ct).is_empty());
    let reads = env.ct.count("GET", &format!("/{}/inventory", env.ct.project_key()));
    assert_eq!(reads, 3, "1 200 entries in pages of 500");
    let visma_pages = env
        .visma
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path == "/v2/articles"
                && (r.query.contains("%24page=") || r.query.contains("$page="))
        })
        .count();
    assert!(visma_pages >= 6, "3 Visma pages per sync, two syncs: {visma_pages}");
}

fn message(kind: &str, entry_id: &str, version: u64, payload: serde_json::Value) -> Message {
    // No InventoryEntry message is in the recorded fixtures: built here in the platform format.
    let mut m = json!({
        "notificationType": "Message",
        "id": format!("msg-{entry_id}-{version}"),
        "version": 1,
        "sequenceNumber": version,
        "resource": {"typeId": "inventory-entry", "id": entry_id},
        "resourceVersion": version,
        "type": kind,
        "createdAt": "2026-01-10T10:00:00.000Z",
        "lastModifiedAt": "2026-01-10T10:00:00.000Z",
    });
    for (k, v) in payload.as_object().unwrap() {
        m[k] = v.clone();
    }
    serde_json::from_value(m).unwrap()
}

fn ct_rules() -> Rules {
    let mut rules = Rules::from_toml(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/rules.toml")).unwrap(),
    )
    .unwrap();
    rules.entities.get_mut("SE").unwrap().stock = Some(support::rules(StockSource::Commercetools));
    rules
}

#[tokio::test]
async fn commercetools_source_a_message_is_one_visma_adjustment_and_a_replay_nothing() {
    let env = env(2).await;
    seed_articles(&env.visma, vec![("A".into(), 2.0)]).await;
    let entry = fixture_entry_on_channel("A", 9);
    let entry_id = entry["id"].as_str().unwrap().to_string();
    env.ct.insert("inventory", entry);
    let rules = ct_rules();
    let set = message(
        "InventoryEntryQuantitySet",
        &entry_id,
        2,
        json!({"oldQuantityOnStock": 2, "newQuantityOnStock": 9, "oldAvailableQuantity": 2, "newAvailableQuantity": 9,
               "supplyChannel": {"typeId": "channel", "id": CHANNEL}}),
    );
    let first = env.sync.apply_message(&rules, &set).await.unwrap().unwrap();
    assert_eq!(first.entity.as_deref(), Some("SE"));
    assert_eq!(
        first.outcome,
        EntryOutcome::Applied {
            sku: "A".into(),
            was: 2.0,
            now: 9
        }
    );
    assert_eq!(visma_article(&env.visma, "A").unwrap()["StockBalance"], 9.0);
    let writes = visma_writes(&env.visma);
    let puts: Vec<&String> = writes.iter().filter(|w| w.starts_with("PUT")).collect();
    assert_eq!(puts.len(), 1, "{writes:?}");

    // The same message again, and an older one: nothing.
    let replay = env.sync.apply_message(&rules, &set).await.unwrap().unwrap();
    assert_eq!(replay.outcome, EntryOutcome::Stale { applied: 2 });
    let older = message(
        "InventoryEntryCreated",
        &entry_id,
        1,
        json!({"inventoryEntry": {"id": entry_id, "version": 1, "sku": "A", "quantityOnStock": 2,
               "supplyChannel": {"typeId": "channel", "id": CHANNEL}}}),
    );
    let stale = env.sync.apply_message(&rules, &older).await.unwrap().unwrap();
    assert_eq!(stale.outcome, EntryOutcome::Stale { applied: 2 });
    assert_eq!(visma_writes(&env.visma).len(), writes.len(), "no further Visma write");
    assert_eq!(visma_article(&env.visma, "A").unwrap()["StockBalance"], 9.0);

    // A message of another channel belongs to no entity.
    let other = message(
        "InventoryEntryQuantitySet",
        "e-other",
        5,
        json!({"newQuantityOnStock": 1, "supplyChannel": {"typeId": "channel", "id": "5c0516b5-f506-4b6a-b4d1-c06ca29ab7e1"}}),
    );
    let other = env.sync.apply_message(&rules, &other).await.unwrap().unwrap();
    assert_eq!((other.entity, other.outcome), (None, EntryOutcome::OtherChannel));
}

#[tokio::test]
async fn commercetools_source_on_the_schedule_applies_each_version_once() {
    let env = env(2).await;
    seed_articles(&env.visma, vec![("A".into(), 2.0), ("B".into(), 4.0)]).await;
    env.ct.insert("inventory", fixture_entry_on_channel("A", 6));
    env.ct.insert("inventory", fixture_entry_on_channel("B", 4));
    env.ct.insert("inventory", fixture_entry_on_channel("NOT-IN-VISMA", 4));
    let rules = support::rules(StockSource::Commercetools);
    let first = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!(
        (first.updated, first.unchanged, first.untouched, first.failed),
        (1, 1, 1, 0),
        "{first:?}"
    );
    assert_eq!(visma_article(&env.visma, "A").unwrap()["StockBalance"], 6.0);
    let writes = visma_writes(&env.visma).len();
    let second = env.sync.run_entity("SE", &rules).await.unwrap();
    assert_eq!(second.stale, 3, "{second:?}");
    assert_eq!(visma_writes(&env.visma).len(), writes);
    assert!(ct_writes(&env.ct).is_empty(), "commercetools is only read");
}
