//! The shared handler on the shipped `events/` against the fake Visma (eAccounting) and the
//! in-memory ledger: posted once, duplicates (again, concurrently, after a redrive with a new
//! message id) suppressed, 429 → retry, permanent errors → park, a crash between the Visma
//! write and the ledger commit reconciled without a duplicate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ctvisma_core::{Classify, ErrorClass, Rules};
use ctvisma_fake_visma::{DocKind, FakeVisma, Fault};
use ctvisma_handler::{Handler, MessageContext, Outcome, RecordedResources};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_ledger::IdempotencyStore;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::{Deadline, LedgerTarget};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

/// The commercetools message inside a shipped SQS event.
fn event_body(name: &str) -> String {
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("events").join(name)).unwrap()).unwrap();
    event["Records"][0]["body"].as_str().unwrap().to_string()
}

fn ctx(message_id: &str, request_id: &str, now_ms: i64) -> MessageContext {
    MessageContext {
        message_id: message_id.into(),
        request_id: request_id.into(),
        deadline_ms: now_ms + 60_000,
        deadline: Deadline::in_(Duration::from_secs(20)),
        now_ms,
    }
}

struct World {
    fake: FakeVisma,
    handler: Arc<Handler>,
    store: Arc<MemoryStore>,
    target: Arc<dyn LedgerTarget>,
}

async fn world() -> World {
    world_with(HttpSettings {
        base_backoff: Duration::from_millis(20),
        ..HttpSettings::default()
    })
    .await
}

async fn world_with(settings: HttpSettings) -> World {
    let fake = FakeVisma::start().await;
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let http = Http::new(settings).unwrap();
    let se = fake
        .connect_eaccounting(http, "SE", &rules.entities["SE"])
        .await
        .unwrap();
    let target: Arc<dyn LedgerTarget> = Arc::new(se);
    let store = Arc::new(MemoryStore::new());
    let resources = RecordedResources::from_dirs(&[&repo("tests/data/orders"), &repo("tests/data/payments")]);
    let handler = Handler {
        rules,
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), target.clone())]),
        store: store.clone(),
        resources: Arc::new(resources),
    };
    World {
        fake,
        handler: Arc::new(handler),
        store,
        target,
    }
}

fn vouchers(w: &World) -> usize {
    w.fake.documents(DocKind::Voucher).len()
}

#[tokio::test]
async fn a_message_posts_once_and_every_redelivery_is_a_duplicate() {
    let w = world().await;
    let body = event_body("order-created-se-sek-mixed-rates.json");
    let first = w.handler.handle(&body, &ctx("m-1", "req-1", 1_000)).await;
    assert_eq!(first.label(), "posted", "{first:?}");
    let made = vouchers(&w);
    assert!(made >= 1);
    // The same message again, and redriven from the DLQ with a new message id.
    for (mid, req) in [("m-1", "req-2"), ("m-redriven", "req-3")] {
        let again = w.handler.handle(&body, &ctx(mid, req, 2_000)).await;
        assert_eq!(again.label(), "duplicate", "{again:?}");
    }
    assert_eq!(vouchers(&w), made);
    let log = w.store.messages_for("CV-SE-SEK-MIXED-RATES").await.unwrap();
    let outcomes: Vec<&str> = log.iter().map(|m| m.outcome.as_str()).collect();
    // Redeliveries of an applied message (same sequence number) are logged as stale.
    assert_eq!(outcomes, vec!["posted", "stale", "stale"]);
    assert!(!w.store.ledger_for("CV-SE-SEK-MIXED-RATES").await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_duplicates_make_one_document() {
    let w = world().await;
    let body = event_body("order-created-se-sek-returns.json");
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (h, b) = (w.handler.clone(), body.clone());
            tokio::spawn(async move {
                h.handle(&b, &ctx(&format!("m-{i}"), &format!("req-{i}"), 1_000))
                    .await
                    .label()
            })
        })
        .collect();
    let mut labels = Vec::new();
    for t in tasks {
        labels.push(t.await.unwrap());
    }
    // Losers see a live lease (retry later) or the completed key (duplicate); never a second post.
    assert!(
        labels.iter().all(|l| ["posted", "duplicate", "retry"].contains(l)),
        "{labels:?}"
    );
    let keys = w.handler.handle(&body, &ctx("m-late", "req-late", 100_000)).await;
    assert_eq!(keys.label(), "duplicate");
    let texts: Vec<String> = w
        .fake
        .documents(DocKind::Voucher)
        .iter()
        .map(|v| v["VoucherText"].to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "one voucher per key");
}

#[tokio::test]
async fn payment_messages_fetch_their_payment_and_order() {
    let w = world().await;
    let out = w
        .handler
        .handle(
            &event_body("payment-created-swish-paid-and-refunded.json"),
            &ctx("m-p", "req-p", 1_000),
        )
        .await;
    let Outcome::Done { postings } = &out else {
        panic!("{out:?}")
    };
    assert!(
        postings.len() >= 3,
        "invoice, credit notes, capture, refunds: {postings:?}"
    );
    let texts: Vec<String> = w
        .fake
        .documents(DocKind::Voucher)
        .iter()
        .map(|v| v["VoucherText"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("capture ")), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("refund ")), "{texts:?}");
}

#[tokio::test]
async fn a_rate_limit_beyond_the_deadline_goes_to_retry_and_then_succeeds() {
    let w = world().await;
    let body = event_body("order-created-se-sek-gift-card.json");
    w.fake
        .inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 120 }, 1);
    let out = w.handler.handle(&body, &ctx("m-1", "req-1", 1_000)).await;
    assert_eq!(out.label(), "retry", "{out:?}");
    assert_eq!(vouchers(&w), 0);
    let out = w.handler.handle(&body, &ctx("m-1", "req-2", 200_000)).await;
    assert_eq!(out.label(), "posted", "{out:?}");
}

#[tokio::test]
async fn permanent_errors_are_parked_with_a_reason() {
    let w = world().await;
    // Norway has no target configured in this world.
    let out = w
        .handler
        .handle(
            &event_body("order-created-no-nok-three-rates.json"),
            &ctx("m-no", "req-no", 1_000),
        )
        .await;
    let Outcome::Park(e, _) = &out else { panic!("{out:?}") };
    assert_eq!(e.code(), "no_target");
    // A locked period is Visma's refusal: parked with its code.
    w.fake.inject_on("/v2/vouchers", Fault::LockedPeriod, 1);
    let out = w
        .handler
        .handle(
            &event_body("order-created-se-sek-custom-line-item.json"),
            &ctx("m-l", "req-l", 1_000),
        )
        .await;
    let Outcome::Park(e, _) = &out else { panic!("{out:?}") };
    assert_eq!(e.code(), "refused:4026");
    assert!(e.reason().contains("4026"), "{}", e.reason());
    // Malformed input is parked too, never dropped.
    let out = w.handler.handle("{not json", &ctx("m-bad", "req-bad", 1_000)).await;
    assert_eq!(out.label(), "parked");
    // The subscription's test message is acknowledged.
    let out = w
        .handler
        .handle(
            &event_body("subscription-test-message.json"),
            &ctx("m-t", "req-t", 1_000),
        )
        .await;
    assert_eq!(out.label(), "skipped");
}

#[tokio::test]
async fn a_crash_between_the_visma_write_and_the_commit_does_not_duplicate() {
    let w = world().await;
    let body = event_body("order-created-se-sek-multiple-shipping.json");
    // The first delivery claimed the key and posted, then died before completing it.
    let order: serde_json::Value = serde_json::from_str(&body).unwrap();
    let posting = {
        let mut book = ctvisma_core::mapper::book::Book::default();
        for f in ctvisma_core::input::documents(order) {
            book.add(f.document.unwrap(), Default::default()).unwrap();
        }
        book.postings(&w.handler.rules, None).remove(0).1.unwrap().remove(0)
    };
    let key = posting.idempotency_key.to_string();
    let hash = ctvisma_ledger::posting_hash(&posting);
    w.store.begin(&key, &hash, "dead-request", 5_000, 1_000).await.unwrap();
    w.target.post(&posting, Deadline::none()).await.unwrap();
    assert_eq!(vouchers(&w), 1);
    // Redelivered while the dead lease is live: retry later.
    let out = w.handler.handle(&body, &ctx("m-2", "req-2", 2_000)).await;
    assert_eq!(out.label(), "retry", "{out:?}");
    // After the lease: taken over, found in Visma by reference, completed without posting again.
    let out = w.handler.handle(&body, &ctx("m-3", "req-3", 10_000)).await;
    assert_eq!(out.label(), "posted", "{out:?}");
    assert_eq!(vouchers(&w), 1);
    assert_eq!(
        w.store.get(&key).await.unwrap().unwrap().status,
        ctvisma_ledger::Status::Completed
    );
}

#[tokio::test]
async fn a_message_without_payload_is_mapped_from_the_fetched_order_and_replays_are_stale() {
    let w = world().await;
    let mut message: serde_json::Value =
        serde_json::from_str(&event_body("order-created-se-sek-split-shipment.json")).unwrap();
    message.as_object_mut().unwrap().remove("order");
    message["payloadNotIncluded"] = serde_json::json!({"reason": "Payload too large", "payloadType": "OrderCreated"});
    let out = w
        .handler
        .handle(&message.to_string(), &ctx("m-1", "req-1", 1_000))
        .await;
    assert_eq!(out.label(), "posted", "{out:?}");
    // The same message replayed: nothing new, logged as stale (its sequence number was applied).
    let out = w
        .handler
        .handle(&message.to_string(), &ctx("m-2", "req-2", 2_000))
        .await;
    assert_eq!(out.label(), "duplicate");
    let order_id = message["resource"]["id"].as_str().unwrap();
    let log = w.store.messages_for(order_id).await.unwrap();
    assert_eq!(
        log.iter().map(|m| m.outcome.as_str()).collect::<Vec<_>>(),
        vec!["posted", "stale"]
    );
}

/// Every shipped event (one per message type, both envelope formats, without payload) is
/// handled: posted, a duplicate, or acknowledged with a reason; none is parked or retried.
#[tokio::test]
async fn every_shipped_event_is_handled() {
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let rates = ctvisma_core::rates::RateTable::from_ecb_csv(
        &std::fs::read_to_string(repo("config/ecb-rates-sample.csv")).unwrap(),
    )
    .unwrap();
    let targets: BTreeMap<String, Arc<dyn LedgerTarget>> = rules
        .entities
        .keys()
        .map(|id| {
            (
                id.clone(),
                Arc::new(ctvisma_handler::LedgerOnly) as Arc<dyn LedgerTarget>,
            )
        })
        .collect();
    let handler = Handler {
        rules,
        rates: Some(rates),
        targets,
        store: Arc::new(MemoryStore::new()),
        resources: Arc::new(RecordedResources::from_dirs(&[
            &repo("tests/data/orders"),
            &repo("tests/data/payments"),
        ])),
    };
    let mut names: Vec<String> = std::fs::read_dir(repo("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(names.len() >= 40);
    let mut labels = std::collections::BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        let out = handler
            .handle(&event_body(name), &ctx(name, &format!("req-{i}"), 1_000 + i as i64))
            .await;
        assert!(
            ["posted", "duplicate", "skipped"].contains(&out.label()),
            "{name}: {out:?}"
        );
        labels.insert(name.clone(), out.label());
    }
    assert_eq!(labels["subscription-test-message.json"], "skipped");
    assert_eq!(labels["customer-created-customer-basic.json"], "skipped");
    // The CloudEvents envelope sorts first: it posts, and its platform-format twin finds it done.
    assert_eq!(labels["cloudevents-order-created-se-sek-mixed-rates.json"], "posted");
    assert_eq!(labels["order-created-se-sek-mixed-rates.json"], "duplicate");
    assert_eq!(
        labels["order-return-shipment-state-changed-se-sek-returns.json"], "posted",
        "the received return is credited"
    );
}

/// Every file of the bad-input corpus (tests/data/bad-input/, see shared/core/tests/bad_input.rs)
/// as one message body: each bad one is parked, permanently, with a reason that names the problem,
/// and leaves nothing behind: no Visma write, no ledger entry, no claimed key. The two odd but
/// self-consistent orders post whole.
#[tokio::test]
async fn bad_input_is_parked_with_its_reason_and_leaves_nothing_behind() {
    const POSTS_WHOLE: [&str; 2] = ["missing-line-total.json", "unroutable-country.json"];
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("tests/data/bad-input"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 28, "{} files", files.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let w = world().await;
        let body = std::fs::read_to_string(&path).unwrap();
        let out = w.handler.handle(&body, &ctx("m-bad", "req-bad", 1_000)).await;
        if POSTS_WHOLE.contains(&name.as_str()) {
            assert_eq!(out.label(), "posted", "{name}: {out:?}");
            continue;
        }
        let Outcome::Park(e, results) = &out else {
            panic!("{name}: expected parked, got {out:?}")
        };
        assert!(results.is_empty(), "{name}: {results:?}");
        assert_eq!(e.class(), ErrorClass::Permanent, "{name}: {e}");
        assert!(e.reason().len() > 10, "{name}: reason {:?}", e.reason());
        let writes: Vec<_> = w.fake.requests().into_iter().filter(|r| r.method != "GET").collect();
        assert!(
            writes.iter().all(|r| r.path.contains("token")),
            "{name}: wrote to Visma: {writes:?}"
        );
        assert!(
            w.store.ledger_between(0, i64::MAX).await.unwrap().is_empty(),
            "{name}: ledger entries"
        );
    }
}

/// Visma stores a voucher only after our request timed out (it kept working after we gave up),
/// so the lookup right after the timeout does not show it yet. The claim is kept until its lease
/// ends: a redelivery meanwhile waits instead of writing again, and after the lease the lookup
/// finds the late voucher. One voucher per key.
#[tokio::test]
async fn a_write_that_lands_after_our_timeout_is_not_written_twice() {
    let w = world_with(HttpSettings {
        request_timeout: Duration::from_millis(300),
        base_backoff: Duration::from_millis(10),
        ..HttpSettings::default()
    })
    .await;
    let body = event_body("order-created-se-sek-mixed-rates.json");
    let texts = |w: &World| -> Vec<String> {
        w.fake
            .documents(DocKind::Voucher)
            .iter()
            .map(|v| v["VoucherText"].as_str().unwrap().to_string())
            .collect()
    };
    w.fake
        .inject_on("/v2/vouchers", Fault::SlowWrite(Duration::from_millis(800)), 1);
    let first = w.handler.handle(&body, &ctx("m-1", "req-1", 1_000)).await;
    let Outcome::Retry(e, _) = &first else {
        panic!("{first:?}")
    };
    assert_eq!(e.code(), "unconfirmed", "{e}");
    let stored_at_once = texts(&w).len();

    // Redelivered while the claim's lease (until the first call's deadline) runs: nothing written.
    let again = w.handler.handle(&body, &ctx("m-1", "req-2", 2_000)).await;
    assert_eq!(again.label(), "retry", "{again:?}");
    assert_eq!(texts(&w).len(), stored_at_once);

    // Visma finishes the slow write.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(texts(&w).len(), stored_at_once + 1, "the late voucher landed");

    // After the lease: claimed again, the late voucher is found and recorded, not written again.
    let late = w.handler.handle(&body, &ctx("m-1", "req-3", 100_000)).await;
    assert_eq!(late.label(), "posted", "{late:?}");
    let after = w.handler.handle(&body, &ctx("m-1", "req-4", 200_000)).await;
    assert_eq!(after.label(), "duplicate", "{after:?}");
    let all = texts(&w);
    let unique: std::collections::BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "one voucher per key: {all:?}");
    assert_eq!(all.len(), stored_at_once + 1);
}
