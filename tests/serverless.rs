//! The serverless path end to end on this machine: the real SQS batch driver and handler, the
//! DynamoDB store and the retry and parking queues on a moto server started by the test, and the
//! fake Visma (eAccounting, spec-validating). Duplicates — the same message twice, concurrently,
//! and redriven with a new message id — make exactly one Visma document; a 429 goes to the retry
//! queue and succeeds from there; a permanent error lands in the parking queue with its reason; a
//! crash between the Visma write and the ledger commit does not duplicate; one bad record never
//! fails its neighbours.

#[path = "support/queues.rs"]
mod queues;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use ctvisma_aws::testing::MotoServer;
use ctvisma_aws::Queues;
use ctvisma_core::Rules;
use ctvisma_fake_visma::{DocKind, FakeVisma, Fault};
use ctvisma_handler::{Handler, RecordedResources};
use ctvisma_lambda::Driver;
use ctvisma_ledger::IdempotencyStore;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::{Deadline, LedgerTarget};
use lambda_runtime::{Context, LambdaEvent};
use queues::{attribute, take_all};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// A shipped SQS event (`events/`), as Lambda would deliver it.
fn event(name: &str) -> SqsEvent {
    serde_json::from_str(&std::fs::read_to_string(repo("events").join(name)).unwrap()).unwrap()
}

fn invocation(event: SqsEvent, request_id: &str) -> LambdaEvent<SqsEvent> {
    let mut context = Context::default();
    context.request_id = request_id.to_string();
    context.deadline = now_ms() + 30_000;
    LambdaEvent::new(event, context)
}

struct Stack {
    moto: MotoServer,
    fake: FakeVisma,
    driver: Arc<Driver>,
    target: Arc<dyn LedgerTarget>,
}

async fn stack() -> Stack {
    let moto = MotoServer::start().await;
    let fake = FakeVisma::start().await;
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let http = Http::new(HttpSettings {
        base_backoff: Duration::from_millis(20),
        ..HttpSettings::default()
    })
    .unwrap();
    let se = fake
        .connect_eaccounting(http, "SE", &rules.entities["SE"])
        .await
        .unwrap();
    let target: Arc<dyn LedgerTarget> = Arc::new(se);
    let handler = Handler {
        rules,
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), target.clone())]),
        store: Arc::new(moto.store()),
        resources: Arc::new(RecordedResources::from_dirs(&[
            &repo("tests/data/orders"),
            &repo("tests/data/payments"),
        ])),
    };
    let driver = Driver {
        handler: Arc::new(handler),
        mover: Arc::new(moto.queues()),
        max_attempts: 3,
        function: "orders".into(),
        base_delay_secs: 0,
    };
    Stack {
        moto,
        fake,
        driver: Arc::new(driver),
        target,
    }
}

impl Stack {
    fn vouchers(&self) -> usize {
        self.fake.documents(DocKind::Voucher).len()
    }
}

fn batch_of(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

#[tokio::test]
async fn duplicates_twice_concurrently_and_after_a_redrive_make_one_document() {
    let s = stack().await;
    let first = s
        .driver
        .run(invocation(event("order-created-se-sek-mixed-rates.json"), "r1"))
        .await
        .unwrap();
    assert!(first.batch_item_failures.is_empty());
    let made = s.vouchers();
    assert!(made >= 1);
    // Twice more, concurrently.
    let (a, b) = tokio::join!(
        s.driver
            .run(invocation(event("order-created-se-sek-mixed-rates.json"), "r2")),
        s.driver
            .run(invocation(event("order-created-se-sek-mixed-rates.json"), "r3")),
    );
    assert!(a.unwrap().batch_item_failures.is_empty() && b.unwrap().batch_item_failures.is_empty());
    // Redriven from the DLQ: a new message id, the same business identity.
    let mut redriven = event("order-created-se-sek-mixed-rates.json");
    redriven.records[0].message_id = Some("redriven-message-id".into());
    s.driver.run(invocation(redriven, "r4")).await.unwrap();
    assert_eq!(s.vouchers(), made, "exactly one Visma document per key");
    // Concurrent deliveries that lost the race for a key went to the retry queue, not to the floor.
    let retried = take_all(&s.moto, &s.moto.retry_url).await;
    for m in retried {
        assert_eq!(attribute(&m, "attempt"), "2");
        s.driver.run(invocation(batch_of(vec![m]), "r5")).await.unwrap();
    }
    assert_eq!(s.vouchers(), made);
    let ledger = s.moto.store().ledger_for("CV-SE-SEK-MIXED-RATES").await.unwrap();
    assert_eq!(ledger.len(), made, "the audit ledger holds each posting once");
}

#[tokio::test]
async fn a_rate_limit_goes_to_the_retry_queue_and_succeeds_from_there() {
    let s = stack().await;
    s.fake
        .inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 600 }, 1);
    let out = s
        .driver
        .run(invocation(event("order-created-se-sek-gift-card.json"), "r1"))
        .await
        .unwrap();
    assert!(out.batch_item_failures.is_empty(), "moved, not failed");
    assert_eq!(s.vouchers(), 0);
    let retried = take_all(&s.moto, &s.moto.retry_url).await;
    assert_eq!(retried.len(), 1);
    assert_eq!(attribute(&retried[0], "attempt"), "2");
    assert!(
        attribute(&retried[0], "first_error").contains("rate limited"),
        "{:?}",
        retried[0].message_attributes
    );
    // The retry function runs the same handler on it.
    s.driver.run(invocation(batch_of(retried), "r2")).await.unwrap();
    assert_eq!(s.vouchers(), 1);
    assert!(take_all(&s.moto, &s.moto.parking_url).await.is_empty());
}

#[tokio::test]
async fn permanent_errors_are_parked_with_their_reason_and_neighbours_still_post() {
    let s = stack().await;
    let mut batch = event("order-created-se-sek-returns.json");
    let norway = event("order-created-no-nok-three-rates.json").records.remove(0);
    let mut malformed = SqsMessage::default();
    malformed.message_id = Some("broken".into());
    malformed.body = Some("{\"notificationType\": \"Message\", \"order\": ".into());
    batch.records.push(norway);
    batch.records.push(malformed);
    let out = s.driver.run(invocation(batch, "r1")).await.unwrap();
    assert!(out.batch_item_failures.is_empty());
    assert!(s.vouchers() >= 1, "the good record posted");
    let parked = take_all(&s.moto, &s.moto.parking_url).await;
    let codes: Vec<&str> = parked.iter().map(|m| attribute(m, "error_code")).collect();
    assert_eq!(parked.len(), 2, "{codes:?}");
    assert!(codes.contains(&"no_target") && codes.contains(&"parse"), "{codes:?}");
    for m in &parked {
        assert_eq!(attribute(m, "error_class"), "permanent");
        assert!(!attribute(m, "error_reason").is_empty());
    }
}

#[tokio::test]
async fn too_many_transient_failures_end_in_the_parking_queue() {
    let s = stack().await;
    s.fake
        .inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 600 }, 10);
    let mut record = event("order-created-se-sek-custom-line-item.json").records.remove(0);
    let mut attempt = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
    attempt.string_value = Some("3".into());
    attempt.data_type = Some("Number".into());
    record.message_attributes.insert("attempt".into(), attempt);
    s.driver.run(invocation(batch_of(vec![record]), "r1")).await.unwrap();
    let parked = take_all(&s.moto, &s.moto.parking_url).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(attribute(&parked[0], "error_class"), "transient");
    assert_eq!(attribute(&parked[0], "attempts"), "3");
}

#[tokio::test]
async fn a_crash_between_the_visma_write_and_the_commit_does_not_duplicate() {
    let s = stack().await;
    let body = event("order-created-se-sek-multiple-shipping.json").records[0]
        .body
        .clone()
        .unwrap();
    let mut book = ctvisma_core::mapper::book::Book::default();
    for f in ctvisma_core::input::documents_from_str(&body) {
        book.add(f.document.unwrap(), Default::default()).unwrap();
    }
    let posting = book
        .postings(&s.driver.handler.rules, None)
        .remove(0)
        .1
        .unwrap()
        .remove(0);
    let store = s.moto.store();
    let key = posting.idempotency_key.to_string();
    // A delivery claimed the key, posted to Visma and died; its lease has run out.
    let past = now_ms() as i64 - 60_000;
    store
        .begin(
            &key,
            &ctvisma_ledger::posting_hash(&posting),
            "dead-request",
            past + 1_000,
            past,
        )
        .await
        .unwrap();
    s.target.post(&posting, Deadline::none()).await.unwrap();
    s.driver
        .run(invocation(event("order-created-se-sek-multiple-shipping.json"), "r2"))
        .await
        .unwrap();
    assert_eq!(s.vouchers(), 1, "found by reference, not posted again");
    assert_eq!(
        store.get(&key).await.unwrap().unwrap().status,
        ctvisma_ledger::Status::Completed
    );
}

#[tokio::test]
async fn a_record_that_cannot_be_moved_is_reported_as_a_batch_item_failure() {
    let s = stack().await;
    // The parking queue is unreachable: the record stays on its queue (SQS redelivers it).
    let broken = Queues::new(
        s.moto.clients.sqs.clone(),
        &s.moto.retry_url,
        "http://127.0.0.1:9/nowhere",
    );
    let driver = Driver {
        handler: s.driver.handler.clone(),
        mover: Arc::new(broken),
        max_attempts: 3,
        function: "orders".into(),
        base_delay_secs: 0,
    };
    let mut batch = event("order-created-no-nok-three-rates.json");
    batch
        .records
        .extend(event("order-created-se-sek-export-us.json").records);
    let out = driver.run(invocation(batch, "r1")).await.unwrap();
    let failed: Vec<&str> = out
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "only the record that could not be parked: {failed:?}");
}
