//! The AWS adapters against a real moto server (one per test, started from `.venv`).

mod common;

use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use common::{MotoServer, IDEMPOTENCY_TABLE, LEDGER_TABLE};
use ctvisma_aws::dynamo::KEY_RETENTION_SECS;
use ctvisma_aws::{secret_json, AwsClients, AwsError, DynamoStore, Park, SecretsTokenStore};
use ctvisma_core::ErrorClass;
use ctvisma_ledger::{conformance, Begin, Document, IdempotencyStore, LedgerEntry, Status, StoreError};
use ctvisma_visma::token_store::{Secret, TokenStore};

const NOW: i64 = 1_764_720_000_000; // 2025-12-03T00:00:00Z

fn entry(key: &str, completed_at: i64) -> LedgerEntry {
    LedgerEntry {
        key: key.into(),
        event: "order-invoiced".into(),
        entity: "SE01".into(),
        currency: "SEK".into(),
        date: "2025-12-03".into(),
        external_ref: "CV-1001".into(),
        order_id: Some("order-uuid".into()),
        payment_id: None,
        payload_hash: "h1".into(),
        document: Document {
            target: "eaccounting".into(),
            id: "doc-1".into(),
            number: Some("V7".into()),
            total: "125.00".into(),
        },
        completed_at,
        posting: r#"{"lines":[]}"#.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamo_store_passes_the_conformance_suite() {
    let moto = MotoServer::start().await;
    let store = moto.store();
    conformance::run_all(&store, "dynamo-").await;
    // Twice against the same tables: the suite namespaces its keys.
    conformance::run_all(&store, "dynamo-again-").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_begins_acquire_once() {
    let moto = MotoServer::start().await;
    conformance::concurrent_begin(Arc::new(moto.store())).await;
    conformance::concurrent_set_state(Arc::new(moto.store())).await;
}

/// moto's own TransactWriteItems restores whole tables when a transaction fails, undoing writes
/// that other requests made meanwhile. The tests start moto through `tools/moto_server.py`, which
/// restores only the transaction's own items; without it this test loses claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_commit_undoes_no_write_made_meanwhile() {
    let moto = MotoServer::start().await;
    let store = Arc::new(moto.store());
    // A ledger of some size: moto's whole-table copy then takes long enough to overlap writes.
    let mut big = entry("filler", NOW);
    big.posting = "x".repeat(20_000);
    for i in 0..100 {
        let key = format!("filler-{i}");
        store.begin(&key, "h1", "w", NOW + 60_000, NOW).await.unwrap();
        store.complete("w", &LedgerEntry { key, ..big.clone() }).await.unwrap();
    }
    store.begin("held", "h1", "holder-a", NOW + 60_000, NOW).await.unwrap();
    let refused = {
        let store = store.clone();
        tokio::spawn(async move {
            for _ in 0..60 {
                // Not the holder: the transaction is cancelled.
                assert!(store.complete("holder-b", &entry("held", NOW)).await.is_err());
            }
        })
    };
    let claims = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                let begun = store.begin(&format!("claim-{i}"), "h1", "c", NOW + 60_000, NOW).await;
                assert!(matches!(begun, Ok(Begin::Acquired)), "{begun:?}");
            }
        })
    };
    refused.await.unwrap();
    claims.await.unwrap();
    let mut lost = Vec::new();
    for i in 0..300 {
        if store.get(&format!("claim-{i}")).await.unwrap().is_none() {
            lost.push(i);
        }
    }
    assert!(lost.is_empty(), "claims acknowledged and then lost: {lost:?}");
}

#[tokio::test]
async fn a_posting_costs_two_writes_and_keys_expire_after_ninety_days() {
    let moto = MotoServer::start().await;
    let store = moto.store();
    let lease_until = NOW + 30_000;
    assert_eq!(
        store.begin("k1", "h1", "req-1", lease_until, NOW).await.unwrap(),
        Begin::Acquired
    );
    let e = entry("k1", NOW + 1_000);
    store.complete("req-1", &e).await.unwrap();
    assert_eq!(
        store.write_calls(),
        2,
        "begin + complete must be exactly two write calls"
    );

    // Reads are free; a duplicate is answered by the failed conditional put alone.
    let dup = store
        .begin("k1", "h1", "req-2", NOW + 90_000, NOW + 60_000)
        .await
        .unwrap();
    assert!(matches!(dup, Begin::Completed(ref r) if r.status == Status::Completed));
    assert_eq!(store.write_calls(), 3);
    assert_eq!(store.ledger_for("order-uuid").await.unwrap(), vec![e.clone()]);
    assert_eq!(store.write_calls(), 3);

    let ddb = &moto.clients.dynamodb;
    let key = ddb
        .get_item()
        .table_name(IDEMPOTENCY_TABLE)
        .key("pk", AttributeValue::S("k1".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires = key["expires_at"].as_n().unwrap().parse::<i64>().unwrap();
    assert_eq!(expires, (NOW + 1_000) / 1000 + KEY_RETENTION_SECS);
    assert_eq!(key["status"].as_s().unwrap(), "COMPLETED");

    let ttl = ddb
        .describe_time_to_live()
        .table_name(IDEMPOTENCY_TABLE)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));

    // The ledger item, with its keys as TABLES.md lays them out.
    let items = ddb
        .scan()
        .table_name(LEDGER_TABLE)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 1);
    let item = &items[0];
    let text = |name: &str| item[name].as_s().unwrap().clone();
    assert_eq!(text("pk"), "posting#order-uuid");
    assert_eq!(text("sk"), "001764720001000#k1");
    assert_eq!(text("gsi1pk"), "ref#CV-1001");
    assert_eq!(text("gsi2pk"), "day#2025-12-03");
    assert_eq!(text("gsi2sk"), text("sk"));
    assert!(!item.contains_key("expires_at"), "the audit ledger never expires");
}

#[tokio::test]
async fn a_begin_on_a_live_lease_is_busy_and_a_new_deadline_extends_the_holders_lease() {
    let moto = MotoServer::start().await;
    let store = moto.store();
    assert_eq!(
        store.begin("k", "h", "a", NOW + 10, NOW).await.unwrap(),
        Begin::Acquired
    );
    assert_eq!(
        store.begin("k", "h", "a", NOW + 50, NOW + 5).await.unwrap(),
        Begin::Acquired
    );
    assert_eq!(
        store.begin("k", "h", "b", NOW + 60, NOW + 20).await.unwrap(),
        Begin::Busy {
            holder: "a".into(),
            lease_until: NOW + 50
        }
    );
}

#[tokio::test]
async fn failures_are_classified() {
    let moto = MotoServer::start().await;
    let missing = DynamoStore::new(moto.clients.dynamodb.clone(), "no-such-table", "no-such-ledger");
    match missing.get("k").await {
        Err(StoreError::Broken(what)) => assert!(what.contains("ResourceNotFound"), "{what}"),
        other => panic!("a missing table is Broken, got {other:?}"),
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = AwsClients::local(&format!("http://127.0.0.1:{port}"), common::REGION).await;
    let nowhere = DynamoStore::new(dead.dynamodb, IDEMPOTENCY_TABLE, LEDGER_TABLE);
    match nowhere.begin("k", "h", "a", NOW + 10, NOW).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("a refused connection is Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn the_token_store_replaces_only_its_field() {
    let moto = MotoServer::start().await;
    let sm = &moto.clients.secrets;
    sm.create_secret()
        .name("ctvisma/eaccounting")
        .secret_string(r#"{"client_id":"cid","client_secret":"cs","refresh_token":"r1"}"#)
        .send()
        .await
        .unwrap();

    let store = SecretsTokenStore::new(sm.clone(), "ctvisma/eaccounting");
    assert_eq!(store.load().await.unwrap(), Some(Secret::new("r1")));
    store.save(&Secret::new("r2")).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(Secret::new("r2")));

    let json = secret_json(sm, "ctvisma/eaccounting").await.unwrap();
    assert_eq!(json["client_id"], "cid");
    assert_eq!(json["client_secret"], "cs");
    assert_eq!(json["refresh_token"], "r2");

    let other_field = SecretsTokenStore::new(sm.clone(), "ctvisma/eaccounting").with_field("sandbox_token");
    assert_eq!(other_field.load().await.unwrap(), None);
    other_field.save(&Secret::new("s1")).await.unwrap();
    let json = secret_json(sm, "ctvisma/eaccounting").await.unwrap();
    assert_eq!(
        (json["refresh_token"].as_str(), json["sandbox_token"].as_str()),
        (Some("r2"), Some("s1"))
    );

    let absent = SecretsTokenStore::new(sm.clone(), "ctvisma/none");
    assert_eq!(absent.load().await.unwrap(), None);
    assert!(
        absent.save(&Secret::new("x")).await.is_err(),
        "the secret is made by the deployment"
    );
    assert!(matches!(
        secret_json(sm, "ctvisma/none").await,
        Err(AwsError::Broken { .. })
    ));

    sm.create_secret()
        .name("ctvisma/plain")
        .secret_string("not json: s3cr3t")
        .send()
        .await
        .unwrap();
    let err = secret_json(sm, "ctvisma/plain").await.unwrap_err();
    assert!(
        !err.to_string().contains("s3cr3t"),
        "errors never carry secret values: {err}"
    );
}

/// Two entities' refresh tokens in one secret, rotated at the same moment by different instances:
/// every save is a compare-and-swap on the secret's version, so neither overwrites the other's
/// newest token (a lost refresh token is a company's lost consent), and the credentials stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_different_fields_lose_nothing() {
    let moto = MotoServer::start().await;
    let sm = &moto.clients.secrets;
    sm.create_secret()
        .name("ctvisma/visma")
        .secret_string(r#"{"client_id":"cid","client_secret":"cs"}"#)
        .send()
        .await
        .unwrap();
    const FIELDS: [&str; 4] = [
        "refresh_token_SE",
        "refresh_token_NO",
        "refresh_token_DK",
        "refresh_token_FI",
    ];
    let rounds = 6;
    let tasks: Vec<_> = FIELDS
        .iter()
        .map(|field| {
            let store = SecretsTokenStore::new(sm.clone(), "ctvisma/visma").with_field(*field);
            tokio::spawn(async move {
                for round in 1..=rounds {
                    store.save(&Secret::new(format!("{field}-{round}"))).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let json = secret_json(sm, "ctvisma/visma").await.unwrap();
    for field in FIELDS {
        assert_eq!(json[field], format!("{field}-{rounds}"), "{json:#}");
    }
    assert_eq!(
        (json["client_id"].as_str(), json["client_secret"].as_str()),
        (Some("cid"), Some("cs"))
    );
}

#[tokio::test]
async fn retries_and_parked_messages_carry_their_attributes() {
    let moto = MotoServer::start().await;
    let queues = moto.queues();
    let sqs = &moto.clients.sqs;
    let receive = |url: String| async move {
        sqs.receive_message()
            .queue_url(url)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default()
    };

    queues
        .send_retry(r#"{"id":"m1"}"#, 2, 0, "Transient: eaccounting: rate limited")
        .await
        .unwrap();
    // A delay past SQS's 900 s maximum is cut to it (SQS would refuse it).
    queues.send_retry(r#"{"id":"m2"}"#, 3, 5_000, "").await.unwrap();
    let got = receive(queues.retry_url.clone()).await;
    assert_eq!(got.len(), 1, "only the undelayed message is visible: {got:?}");
    let m = &got[0];
    assert_eq!(m.body(), Some(r#"{"id":"m1"}"#));
    let attrs = m.message_attributes().unwrap();
    assert_eq!(attrs["attempt"].data_type(), "Number");
    assert_eq!(attrs["attempt"].string_value(), Some("2"));
    assert_eq!(
        attrs["first_error"].string_value(),
        Some("Transient: eaccounting: rate limited")
    );

    let why = Park {
        class: ErrorClass::Permanent,
        code: "refused:2000".into(),
        reason: "x".repeat(300),
        attempts: 5,
        source_queue: "arn:aws:sqs:eu-north-1:123456789012:ctvisma-orders".into(),
    };
    queues.park(r#"{"id":"m3"}"#, &why).await.unwrap();
    let got = receive(queues.parking_url.clone()).await;
    assert_eq!(got.len(), 1);
    let attrs = got[0].message_attributes().unwrap();
    let value = |name: &str| attrs[name].string_value().unwrap().to_string();
    assert_eq!(value("error_class"), "permanent");
    assert_eq!(value("error_code"), "refused:2000");
    assert_eq!(value("error_reason"), "x".repeat(256));
    assert_eq!(value("attempts"), "5");
    assert_eq!(attrs["attempts"].data_type(), "Number");
    assert_eq!(value("source_queue"), why.source_queue);
}
