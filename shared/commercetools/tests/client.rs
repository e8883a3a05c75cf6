//! The client against the local fake: tokens, reads from the recorded fixtures, paging, conflict
//! retries, back-off and error classes.

use std::collections::BTreeSet;
use std::time::Duration;

use ctvisma_commercetools::{CtClient, CtConfig, CtError, Query};
use ctvisma_core::commercetools::inventory::InventoryEntry;
use ctvisma_core::input::Document;
use ctvisma_core::{Classify, ErrorClass};
use ctvisma_fake_commercetools::{FakeCommercetools, Fault};
use ctvisma_handler::Resources;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::Secret;
use serde_json::{json, Value};

const FIXTURE_ORDER: &str = "7506b6f1-8fe2-440d-ac76-4f62dfbd3775";
const FIXTURE_PAYMENT: &str = "40a495a2-d709-4484-88cb-d4129acffda7";
/// tests/data: se-sek-mixed-rates lists card-two-captures-goodwill-refund.
const SAMPLE_ORDER: &str = "2b671ff5-5efa-5a71-bc3c-c8004544c438";
const SAMPLE_PAYMENT: &str = "70c4aff7-14d8-512e-be3b-d6f995cbabdc";
const MISSING: &str = "00000000-0000-4000-8000-000000000000";

fn client_for(fake: &FakeCommercetools) -> CtClient {
    let mut config = CtConfig::new(
        fake.project_key(),
        fake.config().client_id.clone(),
        Secret::new(fake.config().client_secret.clone()),
    );
    config.auth_url = fake.auth_url();
    config.api_url = fake.api_url();
    let http = Http::new(HttpSettings {
        request_timeout: Duration::from_secs(1),
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..HttpSettings::default()
    })
    .unwrap();
    CtClient::new(config, http)
}

fn statuses(fake: &FakeCommercetools, method: &str, path: &str) -> Vec<u16> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .map(|r| r.status)
        .collect()
}

fn entry(id: &str, sku: &str, channel: Option<&str>, quantity: i64) -> Value {
    let mut v = json!({
        "id": id, "version": 1, "sku": sku,
        "quantityOnStock": quantity, "availableQuantity": quantity,
    });
    if let Some(c) = channel {
        v["supplyChannel"] = json!({"typeId": "channel", "id": c});
    }
    v
}

/// Unique ids in an order unrelated to insertion (multiplying by an odd number permutes u32).
fn scrambled_id(i: u32) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i.wrapping_mul(2_654_435_761), i)
}

#[tokio::test]
async fn the_token_is_fetched_once_and_shared() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get_order(FIXTURE_ORDER).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    client.get_payment(FIXTURE_PAYMENT).await.unwrap().unwrap();
    assert_eq!(fake.token_grants(), 1);
    assert_eq!(fake.count("POST", "/oauth/token"), 1);
    assert!(fake
        .requests()
        .iter()
        .filter(|r| r.path != "/oauth/token")
        .all(|r| r.bearer));
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed() {
    let fake = FakeCommercetools::with_fixtures().await;
    // Valid for 60 s: within the client's one-minute margin, so never reused.
    fake.set_token_lifetime(Duration::from_secs(60));
    let client = client_for(&fake);
    client.get_order(FIXTURE_ORDER).await.unwrap().unwrap();
    client.get_order(FIXTURE_ORDER).await.unwrap().unwrap();
    assert_eq!(fake.token_grants(), 2);
    assert!(statuses(&fake, "GET", &format!("/fake-project/orders/{FIXTURE_ORDER}"))
        .iter()
        .all(|s| *s == 200));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);
    client.get_order(FIXTURE_ORDER).await.unwrap().unwrap();
    fake.expire_tokens();
    client.get_order(FIXTURE_ORDER).await.unwrap().unwrap();
    // Expired on the server's clock while the client still trusts it.
    fake.set_token_lifetime(Duration::from_secs(3600));
    fake.expire_tokens();
    client.get_payment(FIXTURE_PAYMENT).await.unwrap().unwrap();
    fake.advance(Duration::from_secs(3601));
    client.get_payment(FIXTURE_PAYMENT).await.unwrap().unwrap();
    assert_eq!(fake.token_grants(), 4);
    assert_eq!(
        statuses(&fake, "GET", &format!("/fake-project/orders/{FIXTURE_ORDER}")),
        [200, 401, 200]
    );
    assert_eq!(
        statuses(&fake, "GET", &format!("/fake-project/payments/{FIXTURE_PAYMENT}")),
        [401, 200, 401, 200]
    );
}

#[tokio::test]
async fn wrong_credentials_are_permanent() {
    let fake = FakeCommercetools::start().await;
    let mut config = client_for(&fake).config().clone();
    config.client_secret = Secret::new("not-the-secret");
    let client = CtClient::new(config, Http::new(HttpSettings::default()).unwrap());
    let err = client.get_order(FIXTURE_ORDER).await.unwrap_err();
    assert!(matches!(err, CtError::Unauthorized(_)), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(!err.to_string().contains("not-the-secret"));
    assert!(!format!("{client:?}").contains("not-the-secret"));
}

#[tokio::test]
async fn orders_and_payments_by_id_from_the_fixtures() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);

    let order = client.get_order(FIXTURE_ORDER).await.unwrap().unwrap();
    assert_eq!(order.id, FIXTURE_ORDER);
    let payment = client.get_payment(FIXTURE_PAYMENT).await.unwrap().unwrap();
    assert_eq!(payment.id.as_deref(), Some(FIXTURE_PAYMENT));

    match client.order(SAMPLE_ORDER).await.unwrap() {
        Some(Document::Order(o)) => assert_eq!(o.id, SAMPLE_ORDER),
        other => panic!("expected an order, got {other:?}"),
    }
    match client.payment(SAMPLE_PAYMENT).await.unwrap() {
        Some(Document::Payment(p)) => assert_eq!(p.id.as_deref(), Some(SAMPLE_PAYMENT)),
        other => panic!("expected a payment, got {other:?}"),
    }
    for c in fake.all("customers") {
        let id = c["id"].as_str().unwrap();
        assert_eq!(client.get_customer(id).await.unwrap().unwrap().id, id);
    }
    for p in fake.all("products") {
        let id = p["id"].as_str().unwrap();
        assert_eq!(client.get_product(id).await.unwrap().unwrap().id, id);
    }
    for e in fake.all("inventory") {
        let id = e["id"].as_str().unwrap();
        assert_eq!(client.get_inventory_entry(id).await.unwrap().unwrap().id, id);
    }
}

#[tokio::test]
async fn the_order_of_a_payment_is_found() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);
    match client.order_of_payment(SAMPLE_PAYMENT).await.unwrap() {
        Some(Document::Order(o)) => {
            assert_eq!(o.id, SAMPLE_ORDER);
            let ids: Vec<_> = o
                .payment_info
                .iter()
                .flat_map(|i| &i.payments)
                .filter_map(|r| r.id.clone())
                .collect();
            assert!(ids.iter().any(|i| i == SAMPLE_PAYMENT));
        }
        other => panic!("expected the order, got {other:?}"),
    }
    // The fixture order listing a payment the fixtures do not hold.
    let o = client
        .find_order_of_payment("1e211e21-4317-4046-899f-824670ce266f")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.id, "7fa40b1b-08b5-4a43-9100-5de89342fc16");
    assert!(client.order_of_payment(MISSING).await.unwrap().is_none());
    let query = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/fake-project/orders")
        .unwrap()
        .query;
    assert!(query.contains("where=paymentInfo%28payments%28id%3D%22"), "{query}");
}

#[tokio::test]
async fn not_found_is_none() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);
    assert!(client.get_order(MISSING).await.unwrap().is_none());
    assert!(client.get_payment(MISSING).await.unwrap().is_none());
    assert!(client.get_inventory_entry(MISSING).await.unwrap().is_none());
    assert!(client.order(MISSING).await.unwrap().is_none());
    assert!(client.payment(MISSING).await.unwrap().is_none());
}

#[tokio::test]
async fn paging_returns_every_entry_exactly_once() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    let channel = |i: u32| if i & 1 == 0 { "channel-a" } else { "channel-b" };
    fake.insert_all(
        "inventory",
        (0..2500).map(|i| entry(&scrambled_id(i), &format!("SKU-{i}"), Some(channel(i)), i as i64)),
    );

    let all: Vec<InventoryEntry> = client.query_all("inventory", &[]).await.unwrap();
    assert_eq!(all.len(), 2500);
    let ids: BTreeSet<String> = all.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, (0..2500).map(scrambled_id).collect::<BTreeSet<_>>());
    let pages = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/fake-project/inventory")
        .collect::<Vec<_>>();
    assert_eq!(pages.len(), 6, "five full pages and an empty one");
    assert!(pages.iter().all(|p| p.query.contains("sort=id+asc")
        && p.query.contains("withTotal=false")
        && !p.query.contains("offset")));

    let a: Vec<InventoryEntry> = client
        .query_all("inventory", &[r#"supplyChannel(id = "channel-a")"#.to_string()])
        .await
        .unwrap();
    assert_eq!(a.len(), 1250);
    assert!(a
        .iter()
        .all(|e| e.supply_channel.as_ref().and_then(|c| c.id.as_deref()) == Some("channel-a")));

    let one: Vec<InventoryEntry> = client
        .query_all(
            "inventory",
            &[r#"sku = "SKU-7" and supplyChannel(id = "channel-b")"#.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].quantity_on_stock, 7);
}

#[tokio::test]
async fn paging_goes_past_the_offset_limit() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert_all(
        "inventory",
        (0..10_250).map(|i| entry(&scrambled_id(i), &format!("SKU-{i}"), None, 1)),
    );
    // An offset past 10 000 is refused, as by commercetools.
    let err = client
        .query::<Value>(
            "inventory",
            &Query {
                offset: Some(10_001),
                ..Query::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    let all: Vec<InventoryEntry> = client.query_all("inventory", &[]).await.unwrap();
    assert_eq!(all.iter().map(|e| e.id.clone()).collect::<BTreeSet<_>>().len(), 10_250);
}

#[tokio::test]
async fn a_concurrent_modification_is_retried_with_the_current_version() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert("inventory", entry("e1", "SKU-1", None, 5));
    fake.conflict_next_update(1);
    let updated = client
        .update("inventory/e1", 1, json!([{"action": "changeQuantity", "quantity": 7}]))
        .await
        .unwrap();
    assert_eq!(updated["version"], 3);
    assert_eq!(updated["quantityOnStock"], 7);
    assert_eq!(updated["availableQuantity"], 7);
    assert_eq!(statuses(&fake, "POST", "/fake-project/inventory/e1"), [409, 200]);

    // A stale version the caller passed in: the 409 names the current one.
    let updated = client
        .update("inventory/e1", 1, json!([{"action": "addQuantity", "quantity": 3}]))
        .await
        .unwrap();
    assert_eq!(
        (updated["version"].as_u64(), updated["quantityOnStock"].as_i64()),
        (Some(4), Some(10))
    );

    // Someone keeps winning: give up after three retries, as transient.
    fake.clear_requests();
    fake.conflict_next_update(4);
    let err = client
        .update("inventory/e1", 4, json!([{"action": "removeQuantity", "quantity": 1}]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CtError::Conflict {
                current_version: Some(8),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(
        statuses(&fake, "POST", "/fake-project/inventory/e1"),
        [409, 409, 409, 409]
    );
    assert_eq!(fake.get("inventory", "e1").unwrap()["quantityOnStock"], 10);
}

#[tokio::test]
async fn relative_actions_are_recomputed_after_a_conflict() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert("inventory", entry("e5", "SKU-5", None, 10));
    let read = fake.get("inventory", "e5").unwrap();
    // Someone else writes between our read and our write; we want the stock at 25.
    fake.conflict_next_update(1);
    let mut seen = Vec::new();
    let updated = client
        .update_with("inventory/e5", read, |current| {
            let on_stock = current["quantityOnStock"].as_i64()?;
            seen.push(current["version"].as_u64());
            (on_stock != 25).then(|| json!([{"action": "addQuantity", "quantity": 25 - on_stock}]))
        })
        .await
        .unwrap();
    assert_eq!(seen, [Some(1), Some(2)]);
    assert_eq!(
        (updated["version"].as_u64(), updated["quantityOnStock"].as_i64()),
        (Some(3), Some(25))
    );
    let unchanged = client.update_with("inventory/e5", updated, |_| None).await.unwrap();
    assert_eq!(unchanged["version"], 3);
    assert_eq!(statuses(&fake, "GET", "/fake-project/inventory/e5"), [200]);
}

#[tokio::test]
async fn a_409_without_current_version_reads_the_resource_again() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert(
        "inventory",
        json!({"id": "e2", "version": 6, "sku": "X", "quantityOnStock": 1}),
    );
    let minimal = json!({"statusCode": 409, "message": "conflict",
        "errors": [{"code": "ConcurrentModification", "message": "conflict"}]});
    fake.fail_next(Fault::Status(409, minimal), 1);
    let updated = client
        .update("inventory/e2", 6, json!([{"action": "changeQuantity", "quantity": 2}]))
        .await
        .unwrap();
    assert_eq!(updated["version"], 7);
    assert_eq!(statuses(&fake, "GET", "/fake-project/inventory/e2"), [200]);
}

#[tokio::test]
async fn rate_limits_and_outages_on_reads_are_retried() {
    let fake = FakeCommercetools::with_fixtures().await;
    let client = client_for(&fake);
    fake.fail_next(Fault::TooManyRequests, 2);
    assert!(client.get_order(FIXTURE_ORDER).await.unwrap().is_some());
    fake.fail_next(Fault::InternalError, 1);
    fake.fail_next(Fault::ServiceUnavailable, 1);
    fake.fail_next(Fault::Slow(Duration::from_secs(3)), 1);
    assert!(client.get_order(FIXTURE_ORDER).await.unwrap().is_some());
    let path = format!("/fake-project/orders/{FIXTURE_ORDER}");
    let seen = statuses(&fake, "GET", &path);
    assert_eq!(&seen[..2], [429, 429]);
    assert_eq!(seen.last(), Some(&200));

    // More than the retries allow: transient.
    fake.fail_next(Fault::TooManyRequests, 10);
    let err = client.get_order(FIXTURE_ORDER).await.unwrap_err();
    assert!(matches!(err, CtError::RateLimited { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Transient);
    fake.fail_next(Fault::TooManyRequests, 10);
    let err = client.order(FIXTURE_ORDER).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient);
}

#[tokio::test]
async fn writes_retry_rate_limits_but_not_outages() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert("inventory", entry("e3", "SKU-3", None, 1));
    fake.fail_next(Fault::TooManyRequests, 1);
    client
        .update("inventory/e3", 1, json!([{"action": "changeQuantity", "quantity": 4}]))
        .await
        .unwrap();
    assert_eq!(statuses(&fake, "POST", "/fake-project/inventory/e3"), [429, 200]);

    fake.fail_next(Fault::InternalError, 1);
    let err = client
        .update("inventory/e3", 2, json!([{"action": "changeQuantity", "quantity": 5}]))
        .await
        .unwrap_err();
    assert!(matches!(err, CtError::Unavailable(_)), "{err}");
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(statuses(&fake, "POST", "/fake-project/inventory/e3"), [429, 200, 500]);
}

#[tokio::test]
async fn refusals_are_permanent() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    fake.insert("inventory", entry("e4", "SKU-4", None, 1));
    let err = client
        .update("inventory/e4", 1, json!([{"action": "noSuchAction"}]))
        .await
        .unwrap_err();
    match &err {
        CtError::Refused { status: 400, code, .. } => assert_eq!(code, "InvalidOperation"),
        other => panic!("expected a 400 refusal, got {other}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);

    let err = client
        .update(&format!("inventory/{MISSING}"), 1, json!([]))
        .await
        .unwrap_err();
    assert!(matches!(err, CtError::Refused { status: 404, .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Permanent);

    let forbidden = json!({"statusCode": 403, "message": "Insufficient scope. One of the following scopes is missing: view_orders",
        "errors": [{"code": "insufficient_scope", "message": "Insufficient scope."}]});
    fake.fail_next(Fault::Status(403, forbidden), 1);
    let err = client.order(MISSING).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("insufficient_scope"), "{err}");

    let bad = json!({"statusCode": 400, "message": "First error message.",
        "errors": [{"code": "SyntaxError", "message": "First error message."}, {"code": "SemanticError", "message": "Second error message."}]});
    fake.fail_next(Fault::Status(400, bad), 1);
    let err = client
        .query::<Value>("orders", &Query::filter("nonsense"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CtError::Refused { code, .. } if code == "SyntaxError"),
        "{err}"
    );
    assert_eq!(err.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn inventory_entries_are_created() {
    let fake = FakeCommercetools::start().await;
    let client = client_for(&fake);
    let draft = json!({"sku": "NEW-1", "quantityOnStock": 12, "supplyChannel": {"typeId": "channel", "id": "c1"}});
    let created = client.create("inventory", &draft).await.unwrap();
    assert_eq!(
        (created["version"].as_u64(), created["availableQuantity"].as_i64()),
        (Some(1), Some(12))
    );
    let id = created["id"].as_str().unwrap();
    let read = client.get_inventory_entry(id).await.unwrap().unwrap();
    assert_eq!(read.sku.as_deref(), Some("NEW-1"));
    let err = client.create("inventory", &draft).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
}
