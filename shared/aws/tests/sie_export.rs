//! The SIE export's AWS adapters against moto: `S3Sink` puts objects, `DynamoStore`'s named
//! states compare-and-set, and one export of handler-completed postings from DynamoDB to S3.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use common::{MotoServer, REGION};
use ctvisma_aws::S3Sink;
use ctvisma_core::Rules;
use ctvisma_handler::sie_export::{export_entity, object_key, ObjectSink, DEFAULT_SETTLE_MS};
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, NoResources};
use ctvisma_ledger::{conformance, IdempotencyStore};
use ctvisma_visma::{Deadline, LedgerTarget};

const BUCKET: &str = "ctvisma-sie-test";
const NOW: i64 = 1_764_720_000_000; // 2025-12-03T00:00:00Z

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

async fn bucket(moto: &MotoServer) -> S3Sink {
    moto.clients
        .s3
        .create_bucket()
        .bucket(BUCKET)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .expect("create bucket");
    S3Sink::new(moto.clients.s3.clone(), BUCKET)
}

async fn object(moto: &MotoServer, key: &str) -> Vec<u8> {
    let out = moto
        .clients
        .s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .expect("get object");
    out.body.collect().await.expect("object body").into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_sink_puts_objects_and_dynamo_states_compare_and_set() {
    let moto = MotoServer::start().await;
    let sink = bucket(&moto).await;
    sink.put("sie/SE/0-5.si", b"#FLAGGA 0\r\n".to_vec()).await.unwrap();
    assert_eq!(object(&moto, "sie/SE/0-5.si").await, b"#FLAGGA 0\r\n");
    // A redo overwrites the same key.
    sink.put("sie/SE/0-5.si", b"#FLAGGA 0\r\n#GEN 20251203\r\n".to_vec())
        .await
        .unwrap();
    assert_eq!(object(&moto, "sie/SE/0-5.si").await, b"#FLAGGA 0\r\n#GEN 20251203\r\n");
    let missing = S3Sink::new(moto.clients.s3.clone(), "no-such-bucket");
    assert!(missing.put("k", vec![1]).await.is_err());

    let store = moto.store();
    assert_eq!(store.get_state("sie-export#SE").await.unwrap(), None);
    assert!(!store.set_state("sie-export#SE", Some("a"), "b").await.unwrap());
    assert!(store.set_state("sie-export#SE", None, "a").await.unwrap());
    assert!(!store.set_state("sie-export#SE", None, "b").await.unwrap());
    assert!(!store.set_state("sie-export#SE", Some("x"), "b").await.unwrap());
    assert!(store.set_state("sie-export#SE", Some("a"), "b").await.unwrap());
    assert_eq!(store.get_state("sie-export#SE").await.unwrap().as_deref(), Some("b"));
    // Laid out as TABLES.md says.
    let item = moto
        .clients
        .dynamodb
        .get_item()
        .table_name(common::LEDGER_TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("state#sie-export#SE".into()),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("s".into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("state item");
    assert_eq!(item["value"].as_s().unwrap(), "b");

    conformance::concurrent_set_state(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handler_postings_are_exported_from_dynamodb_to_s3_once() {
    let moto = MotoServer::start().await;
    let sink = bucket(&moto).await;
    let store = Arc::new(moto.store());
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let handler = Handler {
        rules: rules.clone(),
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), Arc::new(LedgerOnly) as Arc<dyn LedgerTarget>)]),
        store: store.clone(),
        resources: Arc::new(NoResources),
    };
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("events/order-created-se-sek-mixed-rates.json")).unwrap())
            .unwrap();
    let ctx = MessageContext {
        message_id: "m-1".into(),
        request_id: "req-1".into(),
        deadline_ms: NOW + 60_000,
        deadline: Deadline::in_(Duration::from_secs(20)),
        now_ms: NOW,
    };
    let out = handler
        .handle(event["Records"][0]["body"].as_str().unwrap(), &ctx)
        .await;
    assert_eq!(out.label(), "posted", "{out:?}");
    let posted = store.ledger_between(NOW, NOW + 1).await.unwrap().len();

    let now = NOW + 3_600_000;
    let report = export_entity(store.as_ref(), &sink, &rules, "SE", now, DEFAULT_SETTLE_MS)
        .await
        .unwrap();
    let key = object_key("SE", 0, now - DEFAULT_SETTLE_MS);
    assert_eq!(report.object.as_deref(), Some(key.as_str()));
    assert_eq!(report.exported, posted);
    let file = ctvisma_sie::read(&object(&moto, &key).await).unwrap();
    assert_eq!(file.vouchers.len(), posted);

    let again = export_entity(store.as_ref(), &sink, &rules, "SE", now + 3_600_000, DEFAULT_SETTLE_MS)
        .await
        .unwrap();
    assert_eq!((again.exported, again.object), (0, None));
}
