//! Fault injection across the real serverless path: 1 000 SQS deliveries through the real batch
//! driver and handler, the DynamoDB store, retry and parking queues on moto, the fake
//! commercetools for look-ups and the spec-validating fake eAccounting.
//!
//! The deliveries: 675 distinct messages (600 OrderCreated of cloned sample orders, 75
//! OrderStateChanged cancellations) and 325 duplicates (same SQS message id, or a new one as after
//! a redrive), shuffled, in batches of 10 run eight at a time, so duplicates also race each other
//! (DynamoDB conditional-check races). Along the way:
//! - about 27 % of Visma voucher calls fail: 429 beyond the deadline, 500, a write whose answer is
//!   lost (500 after storing, or an answer slower than the client waits), a slow answer;
//! - 5 % of ledger commits "crash" after the Visma write (the claim stays until its lease ends);
//! - the rules at first lack the 6 % VAT rule, so every order with a 6 % line is parked; ops then
//!   fix the rules and redrive the parking queue.
//!
//! Afterwards: exactly one Visma document per business key and none other, every document
//! balanced and equal to its posting, Visma's receivables equal commercetools' order totals,
//! every key completed in the ledger, both queues empty: nothing lost, nothing twice.

#[path = "support/queues.rs"]
mod queues;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use ctvisma_aws::testing::MotoServer;
use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::{Posting, Rules};
use ctvisma_fake_commercetools::FakeCommercetools;
use ctvisma_fake_visma::{DocKind, FakeVisma, Fault};
use ctvisma_handler::Handler;
use ctvisma_lambda::Driver;
use ctvisma_ledger::observed::{Call, Observed, StoreHook};
use ctvisma_ledger::{IdempotencyStore, Status, StoreError};
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::reference::key_in;
use ctvisma_visma::token_store::Secret;
use ctvisma_visma::{debit_total, has_effect, LedgerTarget};
use lambda_runtime::{Context, LambdaEvent};
use queues::{attribute, take_all};
use rust_decimal::Decimal;
use serde_json::Value;

const SEED: u64 = 0x2026_1203;
const CLONES: usize = 75;
const TEMPLATES: [&str; 8] = [
    "mixed-rates",
    "multiple-shipping",
    "split-shipment",
    "returns",
    "custom-line-item",
    "external-tax",
    "gift-card",
    "cancelled",
];
/// Templates with a 6 % line: parked until the rules are fixed.
const NEEDS_SIX_PERCENT: [&str; 4] = ["mixed-rates", "multiple-shipping", "split-shipment", "returns"];

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// xorshift64: reproducible shuffles and faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

fn body_of(event: &str) -> String {
    let e: Value = serde_json::from_str(&std::fs::read_to_string(repo("events").join(event)).unwrap()).unwrap();
    e["Records"][0]["body"].as_str().unwrap().to_string()
}

/// One message to deliver: its template and its body.
#[derive(Clone)]
struct Message {
    template: &'static str,
    body: String,
    message_id: String,
}

/// The cloned orders (for commercetools) and their messages.
fn corpus() -> (Vec<Value>, Vec<Message>) {
    let mut orders = Vec::new();
    let mut messages = Vec::new();
    for template in TEMPLATES {
        let created = body_of(&format!("order-created-se-sek-{template}.json"));
        let parsed: Value = serde_json::from_str(&created).unwrap();
        let order_id = parsed["resource"]["id"].as_str().unwrap().to_string();
        let number = parsed["order"]["orderNumber"].as_str().unwrap().to_string();
        let message_id = parsed["id"].as_str().unwrap().to_string();
        let state_changed = (template == "cancelled").then(|| body_of("order-state-changed-se-sek-cancelled.json"));
        for i in 0..CLONES {
            let clone_id = format!("{}-{i:04}", &order_id[..order_id.len() - 5]);
            let rename = |body: &str, mid: &str, new_mid: &str| {
                body.replace(&order_id, &clone_id)
                    .replace(&format!("\"{number}\""), &format!("\"{number}-{i:04}\""))
                    .replace(mid, new_mid)
            };
            let body = rename(&created, &message_id, &format!("{template}-created-{i}"));
            let order: Value = serde_json::from_str::<Value>(&body).unwrap()["order"].clone();
            orders.push(order);
            messages.push(Message {
                template,
                body,
                message_id: format!("sqs-{template}-created-{i}"),
            });
            if let Some(changed) = &state_changed {
                let mid = serde_json::from_str::<Value>(changed).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                messages.push(Message {
                    template,
                    body: rename(changed, &mid, &format!("{template}-state-{i}")),
                    message_id: format!("sqs-{template}-state-{i}"),
                });
            }
        }
    }
    (orders, messages)
}

/// Every posting the corpus calls for, by the full rules: the expected Visma documents.
fn expected(orders: &[Value], rules: &Rules) -> BTreeMap<String, Posting> {
    let mut book = Book::default();
    for o in orders {
        for f in documents_from_str(&o.to_string()) {
            book.add(f.document.unwrap(), Source::default()).unwrap();
        }
    }
    book.postings(rules, None)
        .into_iter()
        .flat_map(|(_, r)| r.unwrap())
        .filter(has_effect)
        .map(|p| (p.idempotency_key.to_string(), p))
        .collect()
}

/// A hook on the DynamoDB store: every `every`-th commit "crashes" after the Visma write. Nothing
/// is written and the claim stays until its lease runs out, as when a Lambda dies there.
struct Crashes {
    every: u64,
    commits: AtomicU64,
    count: AtomicU64,
}

#[async_trait::async_trait]
impl StoreHook for Crashes {
    async fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        if matches!(call, Call::Complete { .. })
            && self.commits.fetch_add(1, Ordering::SeqCst) % self.every == self.every - 1
        {
            self.count.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::Unavailable("injected crash before the commit".into()));
        }
        Ok(())
    }
}

fn record(m: &Message) -> SqsMessage {
    let mut r = SqsMessage::default();
    r.message_id = Some(m.message_id.clone());
    r.body = Some(m.body.clone());
    r.event_source_arn = Some("arn:aws:sqs:eu-north-1:000000000000:ctvisma-orders".into());
    r
}

fn invocation(records: Vec<SqsMessage>, request_id: String) -> LambdaEvent<SqsEvent> {
    let mut event = SqsEvent::default();
    event.records = records;
    let mut context = Context::default();
    context.request_id = request_id;
    // A short Lambda: leases of crashed commits run out within seconds (deadline less margin).
    context.deadline = now_ms() + 7_000;
    LambdaEvent::new(event, context)
}

/// Runs records in batches of 10, eight batches at a time (concurrent Lambda invocations).
async fn deliver(driver: &Arc<Driver>, records: Vec<SqsMessage>, round: &str) {
    let batches: Vec<Vec<SqsMessage>> = records.chunks(10).map(<[SqsMessage]>::to_vec).collect();
    for (g, group) in batches.chunks(8).enumerate() {
        let mut runs = tokio::task::JoinSet::new();
        for (b, batch) in group.iter().enumerate() {
            let driver = driver.clone();
            let request = format!("{round}-{g}-{b}");
            let batch = batch.clone();
            runs.spawn(async move { driver.run(invocation(batch, request)).await.unwrap() });
        }
        while let Some(response) = runs.join_next().await {
            assert!(
                response.unwrap().batch_item_failures.is_empty(),
                "every record was moved somewhere"
            );
        }
    }
}

/// Works the retry queue until it stays empty (the retry function's job), pausing between rounds
/// so that the leases of crashed commits run out.
async fn work_retries(moto: &MotoServer, driver: &Arc<Driver>, label: &str) -> usize {
    let mut handled = 0;
    for round in 0..150 {
        let retried = take_all(moto, &moto.retry_url).await;
        if retried.is_empty() {
            return handled;
        }
        handled += retried.len();
        deliver(driver, retried, &format!("{label}-retry-{round}")).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the retry queue did not drain");
}

fn driver_for(
    rules: Rules,
    target: Arc<dyn LedgerTarget>,
    store: Arc<dyn IdempotencyStore>,
    moto: &MotoServer,
    ct: CtClient,
) -> Arc<Driver> {
    let handler = Handler {
        rules,
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), target)]),
        store,
        resources: Arc::new(ct),
    };
    Arc::new(Driver {
        handler: Arc::new(handler),
        mover: Arc::new(moto.queues()),
        // Retries here come every ~0.3 s, not after back-off: enough of them to outlast a
        // 7 s claim kept for an unconfirmed write or a crashed commit.
        max_attempts: 100,
        function: "orders".into(),
        base_delay_secs: 0,
    })
}

fn rows_total(voucher: &Value, side: &str) -> Decimal {
    voucher["Rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r[side].as_f64())
        .map(|f| Decimal::try_from(f).unwrap().round_dp(2))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_deliveries_under_faults_make_exactly_the_right_documents() {
    let moto = MotoServer::start().await;
    let fake = FakeVisma::start().await;
    let ct_fake = FakeCommercetools::start().await;
    let full_text = std::fs::read_to_string(repo("config/rules.toml")).unwrap();
    let full = Rules::from_toml(&full_text).unwrap();
    // The rules as first deployed: the 6 % VAT rule of SE is missing.
    let six = "[[entities.SE.vat]]\ncountry = \"SE\"\nrate = \"6\"\ncode = \"MP3\"\naccount = \"2631\"\nrevenue_account = \"3003\"\n";
    assert!(full_text.contains(six));
    let broken = Rules::from_toml(&full_text.replacen(six, "", 1)).unwrap();

    let (orders, unique) = corpus();
    assert_eq!(unique.len(), TEMPLATES.len() * CLONES + CLONES);
    ct_fake.insert_all("orders", orders.clone());
    let expected = expected(&orders, &full);

    // 1 000 deliveries: every message once, 325 duplicates, shuffled.
    let mut rng = Rng(SEED);
    let mut deliveries: Vec<Message> = unique.clone();
    while deliveries.len() < 1_000 {
        let mut dup = unique[rng.below(unique.len())].clone();
        if rng.chance(0.4) {
            dup.message_id = format!("{}-redriven-{}", dup.message_id, deliveries.len());
        }
        deliveries.push(dup);
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rng.below(i + 1));
    }
    let duplicates = deliveries.len() - unique.len();
    assert!(duplicates * 5 >= deliveries.len(), "at least 20 % duplicates");
    let should_park = deliveries
        .iter()
        .filter(|m| NEEDS_SIX_PERCENT.contains(&m.template))
        .count();

    let http = Http::new(HttpSettings {
        request_timeout: Duration::from_millis(400),
        base_backoff: Duration::from_millis(10),
        ..HttpSettings::default()
    })
    .unwrap();
    let target: Arc<dyn LedgerTarget> = Arc::new(
        fake.connect_eaccounting(http.clone(), "SE", &full.entities["SE"])
            .await
            .unwrap(),
    );
    let mut ct_config = CtConfig::new(
        ct_fake.project_key(),
        ct_fake.config().client_id.clone(),
        Secret::new(ct_fake.config().client_secret.clone()),
    );
    ct_config.auth_url = ct_fake.auth_url();
    ct_config.api_url = ct_fake.api_url();
    let crashes = Crashes {
        every: 20,
        commits: AtomicU64::new(0),
        count: AtomicU64::new(0),
    };
    let store = Arc::new(Observed::new(Arc::new(moto.store()), crashes));
    fake.inject_random(
        "/v2/vouchers",
        vec![
            (Fault::RateLimited { retry_after_secs: 600 }, 0.08),
            (Fault::ServerError, 0.08),
            (Fault::PostThenFail, 0.05),
            (Fault::SlowAfterWrite(Duration::from_millis(600)), 0.03),
            (Fault::Slow(Duration::from_millis(600)), 0.03),
        ],
        SEED,
    );

    // Phase 1: everything, on the rules as first deployed.
    let first = driver_for(
        broken,
        target.clone(),
        store.clone(),
        &moto,
        CtClient::new(ct_config.clone(), http.clone()),
    );
    let records: Vec<SqsMessage> = deliveries.iter().map(record).collect();
    let clock = std::time::Instant::now();
    deliver(&first, records, "main").await;
    eprintln!("main deliveries: {:?}", clock.elapsed());
    let retried = work_retries(&moto, &first, "main").await;
    eprintln!("main retries ({retried}): {:?}", clock.elapsed());
    assert!(retried > 0, "faults sent messages through the retry queue");

    // Ops look at the parking queue: every delivery of an order with a 6 % line, each with its reason.
    let parked = take_all(&moto, &moto.parking_url).await;
    assert_eq!(
        parked.len(),
        should_park,
        "parked: exactly the orders the rules could not map"
    );
    for m in &parked {
        assert_eq!(attribute(m, "error_class"), "permanent", "{:?}", m.message_attributes);
        assert!(
            attribute(m, "error_reason").contains("at 6 %"),
            "{}",
            attribute(m, "error_reason")
        );
    }

    // Phase 2: the rules are fixed and the parking queue redriven (new message ids).
    let fixed = driver_for(
        full,
        target.clone(),
        store.clone(),
        &moto,
        CtClient::new(ct_config, http),
    );
    let redriven: Vec<SqsMessage> = parked
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            // SQS "redrive to source" keeps the body and attributes; the message id is new.
            m.message_id = Some(format!("redrive-{i}"));
            m
        })
        .collect();
    deliver(&fixed, redriven, "redrive").await;
    work_retries(&moto, &fixed, "redrive").await;
    eprintln!("redrive done: {:?}", clock.elapsed());
    fake.reset_faults();

    // Nothing left anywhere.
    assert!(take_all(&moto, &moto.retry_url).await.is_empty());
    assert!(
        take_all(&moto, &moto.parking_url).await.is_empty(),
        "nothing lost in parking"
    );
    assert!(store.hook.count.load(Ordering::SeqCst) > 0, "crashes were injected");

    // Exactly one balanced voucher per business key, equal to its posting, and no other.
    let vouchers = fake.documents(DocKind::Voucher);
    let mut by_key: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for v in &vouchers {
        let key = key_in(v["VoucherText"].as_str().unwrap()).unwrap().to_string();
        by_key.entry(key).or_default().push(v);
    }
    let twice: Vec<&String> = by_key.iter().filter(|(_, v)| v.len() > 1).map(|(k, _)| k).collect();
    assert!(twice.is_empty(), "documents posted twice: {twice:?}");
    let made: BTreeSet<&String> = by_key.keys().collect();
    let wanted: BTreeSet<&String> = expected.keys().collect();
    assert_eq!(made, wanted, "one document per business key, none missing, none extra");
    for (key, posting) in &expected {
        let v = by_key[key][0];
        let (debit, credit) = (rows_total(v, "DebitAmount"), rows_total(v, "CreditAmount"));
        assert_eq!(debit, credit, "{key}: balanced");
        assert_eq!(debit, debit_total(posting), "{key}: the posting's amounts");
        let record = store.get(key).await.unwrap().unwrap();
        assert_eq!(record.status, Status::Completed, "{key}: completed in the ledger");
    }

    // Visma's receivables equal commercetools' order totals.
    let ct_total: Decimal = orders
        .iter()
        .map(|o| {
            let m = &o["taxedPrice"]["totalGross"];
            Decimal::new(
                m["centAmount"].as_i64().unwrap(),
                m["fractionDigits"].as_u64().unwrap_or(2) as u32,
            )
        })
        .sum();
    let visma_receivables: Decimal = expected
        .iter()
        .filter(|(k, _)| k.starts_with("invoice:"))
        .map(|(k, _)| {
            by_key[k][0]["Rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["AccountNumber"] == 1510)
                .filter_map(|r| r["DebitAmount"].as_f64())
                .map(|f| Decimal::try_from(f).unwrap().round_dp(2))
                .sum::<Decimal>()
        })
        .sum();
    assert_eq!(
        visma_receivables, ct_total,
        "receivables in Visma = order totals in commercetools"
    );
}
