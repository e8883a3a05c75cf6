//! Customers and products through the handler to the fake eAccounting: the first sync creates,
//! a second with no change sends nothing, a change sends exactly the change, stale and replayed
//! messages change nothing, and entities on SIE keep no master data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ctvisma_core::Rules;
use ctvisma_fake_visma::{DocKind, FakeVisma};
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, NoResources, Outcome};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::{Deadline, LedgerTarget};
use serde_json::{json, Value};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn ctx(n: i64) -> MessageContext {
    MessageContext {
        message_id: format!("m-{n}"),
        request_id: format!("req-{n}"),
        deadline_ms: n + 60_000,
        deadline: Deadline::in_(Duration::from_secs(20)),
        now_ms: n,
    }
}

/// SE on the fake eAccounting; DK kept on SIE (a target that keeps no master data).
async fn world() -> (FakeVisma, Handler) {
    let fake = FakeVisma::start().await;
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let http = Http::new(HttpSettings::default()).unwrap();
    let se = fake
        .connect_eaccounting(http, "SE", &rules.entities["SE"])
        .await
        .unwrap();
    let targets: BTreeMap<String, Arc<dyn LedgerTarget>> = BTreeMap::from([
        ("SE".to_string(), Arc::new(se) as Arc<dyn LedgerTarget>),
        ("DK".to_string(), Arc::new(LedgerOnly) as Arc<dyn LedgerTarget>),
    ]);
    let handler = Handler {
        rules,
        rates: None,
        targets,
        store: Arc::new(MemoryStore::new()),
        resources: Arc::new(NoResources),
    };
    (fake, handler)
}

fn customer_message(version: u64, seq: u64, city: &str, store: &str) -> String {
    json!({
        "notificationType": "Message", "id": format!("msg-{seq}"), "version": 1,
        "sequenceNumber": seq, "resource": {"typeId": "customer", "id": "cust-1"},
        "resourceVersion": version, "type": "CustomerCreated", "createdAt": "2026-11-20T10:00:00.000Z",
        "customer": {
            "id": "cust-1", "version": version, "customerNumber": "K-1001",
            "email": "anna.svensson@example.com", "firstName": "Anna", "lastName": "Svensson",
            "stores": [{"typeId": "store", "key": store}],
            "addresses": [{"id": "a1", "country": "SE", "streetName": "Storgatan", "streetNumber": "1",
                           "postalCode": "111 22", "city": city, "phone": "+46 70 123 45 67"}],
            "defaultBillingAddressId": "a1"
        }
    })
    .to_string()
}

fn product_message(version: u64, skus: &[&str]) -> String {
    let variants: Vec<Value> = skus
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, s)| json!({"id": i + 1, "sku": s}))
        .collect();
    json!({
        "notificationType": "Message", "id": format!("pmsg-{version}"), "version": 1,
        "sequenceNumber": version, "resource": {"typeId": "product", "id": "prod-1"},
        "resourceVersion": version, "type": "ProductPublished", "createdAt": "2026-11-20T10:00:00.000Z",
        "scope": "All",
        "productProjection": {
            "id": "prod-1", "version": version,
            "name": {"en": "Linen shirt", "sv": "Linneskjorta"},
            "masterVariant": {"id": 1, "sku": skus[0]},
            "variants": variants
        }
    })
    .to_string()
}

fn writes(fake: &FakeVisma, path: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method != "GET" && r.path.starts_with(path))
        .count()
}

#[tokio::test]
async fn a_customer_is_created_once_updated_only_in_what_changed_and_never_from_a_stale_message() {
    let (fake, h) = world().await;
    let first = h
        .handle(&customer_message(1, 1, "Stockholm", "se-webshop"), &ctx(1))
        .await;
    assert!(
        matches!(&first, Outcome::Synced(w) if w == "customer created in SE"),
        "{first:?}"
    );
    assert_eq!(fake.documents(DocKind::Customer).len(), 1);
    assert_eq!(fake.documents(DocKind::Customer)[0]["CustomerNumber"], "K-1001");

    // A newer version with the same data: looked up, nothing written.
    let same = h
        .handle(&customer_message(2, 2, "Stockholm", "se-webshop"), &ctx(2))
        .await;
    assert!(
        matches!(&same, Outcome::Synced(w) if w == "customer unchanged in SE"),
        "{same:?}"
    );
    assert_eq!(writes(&fake, "/v2/customers"), 1);

    // A move: exactly that field is sent.
    let moved = h
        .handle(&customer_message(3, 3, "Uppsala", "se-webshop"), &ctx(3))
        .await;
    assert!(
        matches!(&moved, Outcome::Synced(w) if w == "customer updated (InvoiceCity) in SE"),
        "{moved:?}"
    );
    assert_eq!(writes(&fake, "/v2/customers"), 2);
    assert_eq!(fake.documents(DocKind::Customer)[0]["InvoiceCity"], "Uppsala");

    // The old version arriving late (or replayed) changes nothing.
    let stale = h
        .handle(&customer_message(2, 2, "Stockholm", "se-webshop"), &ctx(4))
        .await;
    assert!(
        matches!(&stale, Outcome::Skipped(w) if w.starts_with("stale")),
        "{stale:?}"
    );
    assert_eq!(writes(&fake, "/v2/customers"), 2);
    assert_eq!(fake.documents(DocKind::Customer)[0]["InvoiceCity"], "Uppsala");
}

#[tokio::test]
async fn customers_of_an_sie_entity_or_of_no_entity_send_nothing() {
    let (fake, h) = world().await;
    let dk = h
        .handle(&customer_message(1, 1, "København", "dk-webshop"), &ctx(1))
        .await;
    assert!(
        matches!(&dk, Outcome::Skipped(w) if w.contains("keeps no customers")),
        "{dk:?}"
    );
    let nowhere = customer_message(1, 1, "Paris", "fr-webshop").replace("\"SE\"", "\"FR\"");
    let out = h.handle(&nowhere.replace("cust-1", "cust-2"), &ctx(2)).await;
    assert!(
        matches!(&out, Outcome::Skipped(w) if w.contains("no store or country")),
        "{out:?}"
    );
    assert!(fake.documents(DocKind::Customer).is_empty());
}

#[tokio::test]
async fn products_become_one_article_per_sku_sent_only_when_changed() {
    let (fake, h) = world().await;
    let first = h.handle(&product_message(1, &["SHIRT-S", "SHIRT-M"]), &ctx(1)).await;
    assert!(
        matches!(&first, Outcome::Synced(w) if w.contains("2 article(s) sent, 0 unchanged")),
        "{first:?}"
    );
    let articles = fake.documents(DocKind::Article);
    assert_eq!(articles.len(), 2);
    assert_eq!(articles[0]["Name"], "Linneskjorta", "named in the entity's language");
    let article_calls = |fake: &FakeVisma| {
        fake.requests()
            .iter()
            .filter(|r| r.path.starts_with("/v2/articles"))
            .count()
    };
    let calls = article_calls(&fake);

    // Republished without change: the hashes match, Visma is not even asked.
    let again = h.handle(&product_message(2, &["SHIRT-S", "SHIRT-M"]), &ctx(2)).await;
    assert!(
        matches!(&again, Outcome::Synced(w) if w.contains("0 article(s) sent, 2 unchanged")),
        "{again:?}"
    );
    assert_eq!(article_calls(&fake), calls);

    // A new variant: exactly one article is sent.
    let grown = h
        .handle(&product_message(3, &["SHIRT-S", "SHIRT-M", "SHIRT-L"]), &ctx(3))
        .await;
    assert!(
        matches!(&grown, Outcome::Synced(w) if w.contains("1 article(s) sent, 2 unchanged")),
        "{grown:?}"
    );
    assert_eq!(fake.documents(DocKind::Article).len(), 3);
    assert_eq!(writes(&fake, "/v2/articles"), 3);

    // A replay of an old version is a no-op.
    let replay = h.handle(&product_message(1, &["SHIRT-S"]), &ctx(4)).await;
    assert!(matches!(replay, Outcome::Skipped(_)), "{replay:?}");
    assert_eq!(writes(&fake, "/v2/articles"), 3);
}

#[tokio::test]
async fn the_shipped_master_data_events_are_acknowledged() {
    let (_fake, h) = world().await;
    for name in [
        "customer-created-customer-basic.json",
        "product-published-product-projection.json",
    ] {
        let event: Value = serde_json::from_str(&std::fs::read_to_string(repo("events").join(name)).unwrap()).unwrap();
        let body = event["Records"][0]["body"].as_str().unwrap();
        let out = h.handle(body, &ctx(1)).await;
        // The recorded customer has no store or address, the recorded product no SKU.
        assert!(matches!(out, Outcome::Skipped(_)), "{name}: {out:?}");
    }
}
