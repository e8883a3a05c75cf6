//! Per-message handler cost, and store and Visma calls per posting.
//!
//! The shipped `events/` bodies go through [`Handler`] with the in-memory store behind a counting
//! decorator (each port call is one DynamoDB request in the AWS store: `get` GetItem, `begin`
//! conditional PutItem, `complete` one TransactWriteItems, `record_message` PutItem,
//! `advance_version` UpdateItem) and every entity on a counting [`LedgerOnly`]. A fresh store per
//! round keeps every posting new. Then the eAccounting connector against the fake Visma counts
//! the HTTP requests per posting and times the local round trip.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ctvisma_core::{Posting, Rules};
use ctvisma_fake_visma::FakeVisma;
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, Outcome, PostingResult, RecordedResources};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_ledger::observed::{Call, Cost, Observed, StoreHook};
use ctvisma_ledger::StoreError;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::{Deadline, LedgerTarget, Posted, VismaError};

use crate::Figures;

#[derive(Default)]
pub struct Counts {
    reads: AtomicU64,
    /// begin, complete, release: the posting's idempotency key and ledger entry.
    writes: AtomicU64,
    /// record_message, advance_version, set_state: the message log and delta sync.
    log_writes: AtomicU64,
    finds: AtomicU64,
    posts: AtomicU64,
}

impl Counts {
    fn take(&self) -> [u64; 5] {
        [&self.reads, &self.writes, &self.log_writes, &self.finds, &self.posts].map(|c| c.swap(0, Relaxed))
    }
}

/// Counts the store's reads and writes (one DynamoDB request each in the AWS store).
struct Counting(Arc<Counts>);

#[async_trait::async_trait]
impl StoreHook for Counting {
    async fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        let counter = match call.cost() {
            Cost::Read => &self.0.reads,
            Cost::KeyWrite => &self.0.writes,
            Cost::LogWrite => &self.0.log_writes,
        };
        counter.fetch_add(1, Relaxed);
        Ok(())
    }
}

/// Counts a target's look-ups and writes (the default `post_once` calls these two).
struct CountingTarget {
    inner: Arc<dyn LedgerTarget>,
    counts: Arc<Counts>,
}

#[async_trait::async_trait]
impl LedgerTarget for CountingTarget {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    async fn find(&self, posting: &Posting, deadline: Deadline) -> Result<Option<Posted>, VismaError> {
        self.counts.finds.fetch_add(1, Relaxed);
        self.inner.find(posting, deadline).await
    }
    async fn post(&self, posting: &Posting, deadline: Deadline) -> Result<Posted, VismaError> {
        self.counts.posts.fetch_add(1, Relaxed);
        self.inner.post(posting, deadline).await
    }
}

fn ctx(n: usize) -> MessageContext {
    let now_ms = 1_800_000_000_000 + n as i64;
    MessageContext {
        message_id: format!("bench-{n}"),
        request_id: format!("bench-req-{n}"),
        deadline_ms: now_ms + 60_000,
        deadline: Deadline::in_(Duration::from_secs(60)),
        now_ms,
    }
}

/// The message bodies of the shipped SQS events, in file order.
pub fn event_bodies() -> Result<Vec<(String, String)>, String> {
    let mut files: Vec<_> = std::fs::read_dir("events")
        .map_err(|e| format!("events/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut bodies = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        for r in v["Records"].as_array().into_iter().flatten() {
            let name = f.file_name().unwrap_or_default().to_string_lossy().to_string();
            bodies.push((name, r["body"].as_str().unwrap_or_default().to_string()));
        }
    }
    Ok(bodies)
}

fn postings_made(outcome: &Outcome) -> usize {
    let results: &[PostingResult] = match outcome {
        Outcome::Done { postings } => postings,
        Outcome::Retry(_, r) | Outcome::Park(_, r) => r,
        _ => &[],
    };
    results
        .iter()
        .filter(|r| matches!(r, PostingResult::Posted { .. }))
        .count()
}

fn resources() -> Arc<RecordedResources> {
    Arc::new(RecordedResources::from_dirs(&[
        Path::new("tests/data/orders"),
        Path::new("tests/data/payments"),
    ]))
}

/// What one handler bench measured.
pub struct HandlerFigures {
    /// Microseconds per message, handler only (CPU: in-memory store, no Visma).
    pub us_per_message: f64,
    pub postings_per_message: f64,
    pub store_reads_per_message: f64,
    pub store_writes_per_message: f64,
}

pub async fn bench_memory(rules: &Rules, rounds: usize, figures: &mut Figures) -> Result<HandlerFigures, String> {
    figures.section(
        "handler",
        "Handler with MemoryStore (counting) and LedgerOnly targets (counting) over every events/ body; a fresh store per round",
    );
    let bodies = event_bodies()?;
    let resources = resources();
    let counts = Arc::new(Counts::default());
    let targets: BTreeMap<String, Arc<dyn LedgerTarget>> = rules
        .entities
        .keys()
        .map(|e| {
            let t: Arc<dyn LedgerTarget> = Arc::new(CountingTarget {
                inner: Arc::new(LedgerOnly),
                counts: counts.clone(),
            });
            (e.clone(), t)
        })
        .collect();
    let mut elapsed = Duration::ZERO;
    let (mut messages, mut postings) = (0usize, 0usize);
    let mut labels: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut totals = [0u64; 5];
    let mut first_round = Duration::ZERO;
    for round in 0..=rounds {
        let store = Arc::new(Observed::new(Arc::new(MemoryStore::new()), Counting(counts.clone())));
        let handler = Handler {
            rules: rules.clone(),
            rates: None,
            targets: targets.clone(),
            store,
            resources: resources.clone(),
        };
        counts.take();
        let t = Instant::now();
        let mut round_postings = 0;
        let mut round_labels = Vec::new();
        for (i, (_, body)) in bodies.iter().enumerate() {
            let outcome = handler.handle(body, &ctx(i)).await;
            round_postings += postings_made(&outcome);
            round_labels.push(outcome.label());
        }
        let took = t.elapsed();
        let c = counts.take();
        if round == 0 {
            // Warm-up: caches, allocator. Its outcomes describe the corpus.
            first_round = took;
            for l in round_labels {
                *labels.entry(l).or_default() += 1;
            }
            continue;
        }
        elapsed += took;
        messages += bodies.len();
        postings += round_postings;
        for (t, c) in totals.iter_mut().zip(c) {
            *t += c;
        }
    }
    let [reads, writes, log_writes, finds, posts] = totals.map(|c| c as f64);
    let (m, p) = (messages as f64, postings as f64);
    let us = elapsed.as_secs_f64() * 1e6 / m;
    figures.put("handler.messages_per_round", bodies.len().to_string());
    figures.put(
        "handler.outcomes",
        labels
            .iter()
            .map(|(l, n)| format!("{l}:{n}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    figures.put("handler.rounds", rounds.to_string());
    figures.put(
        "handler.first_round_us_per_message",
        format!("{:.1}", first_round.as_secs_f64() * 1e6 / bodies.len() as f64),
    );
    figures.put("handler.us_per_message", format!("{us:.1}"));
    figures.put(
        "handler.us_per_posting",
        format!("{:.1}", elapsed.as_secs_f64() * 1e6 / p),
    );
    figures.put("handler.postings_per_message", format!("{:.2}", p / m));
    figures.put("handler.store_reads_per_posting", format!("{:.2}", reads / p));
    figures.put("handler.store_writes_per_posting", format!("{:.2}", writes / p));
    figures.put("handler.store_log_writes_per_message", format!("{:.2}", log_writes / m));
    figures.put("handler.visma_calls_per_posting", format!("{:.2}", (finds + posts) / p));
    figures.put("handler.visma_finds_per_posting", format!("{:.2}", finds / p));
    figures.put("handler.visma_posts_per_posting", format!("{:.2}", posts / p));
    Ok(HandlerFigures {
        us_per_message: us,
        postings_per_message: p / m,
        store_reads_per_message: reads / m,
        store_writes_per_message: (writes + log_writes) / m,
    })
}

/// `body` with the order's id (and the message id) replaced by ids derived from `n`: a new order.
pub fn fresh_order_message(body: &str, n: usize) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let mut out = body.to_string();
    for id in [v["resource"]["id"].as_str(), v["id"].as_str()].into_iter().flatten() {
        if id.len() > 12 && id.is_char_boundary(id.len() - 12) {
            let new = format!("{}{n:012x}", &id[..id.len() - 12]);
            out = out.replace(id, &new);
        }
    }
    out
}

/// Visma HTTP requests per posting and the local round trip, eAccounting against the fake.
pub async fn bench_eaccounting(rules: &Rules, messages: usize, figures: &mut Figures) -> Result<f64, String> {
    figures.section(
        "visma",
        "eAccounting connector (counting) against the local fake Visma (validates bodies against the OpenAPI spec); one new SE order per message",
    );
    let fake = FakeVisma::start().await;
    let http = Http::new(HttpSettings::default()).map_err(|e| e.to_string())?;
    let entity = rules.entities.get("SE").ok_or("no SE entity in the rules")?;
    let se = fake
        .connect_eaccounting(http, "SE", entity)
        .await
        .map_err(|e| format!("eAccounting connect: {e}"))?;
    let counts = Arc::new(Counts::default());
    let target: Arc<dyn LedgerTarget> = Arc::new(CountingTarget {
        inner: Arc::new(se),
        counts: counts.clone(),
    });
    let handler = Handler {
        rules: rules.clone(),
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), target)]),
        store: Arc::new(MemoryStore::new()),
        resources: resources(),
    };
    let body = event_bodies()?
        .into_iter()
        .find(|(name, _)| name == "order-created-se-sek-mixed-rates.json")
        .ok_or("events/order-created-se-sek-mixed-rates.json missing")?
        .1;
    // One message first: the connection, the token, the company's settings.
    let first = handler.handle(&fresh_order_message(&body, 0), &ctx(0)).await;
    if first.label() != "posted" {
        return Err(format!("eAccounting warm-up: {first:?}"));
    }
    counts.take();
    let before = fake.requests().len();
    let mut postings = 0;
    let t = Instant::now();
    for n in 1..=messages {
        let outcome = handler.handle(&fresh_order_message(&body, n), &ctx(n)).await;
        if outcome.label() != "posted" {
            return Err(format!("eAccounting message {n}: {outcome:?}"));
        }
        postings += postings_made(&outcome);
    }
    let elapsed = t.elapsed();
    let requests = (fake.requests().len() - before) as f64;
    let [_, _, _, finds, posts] = counts.take().map(|c| c as f64);
    let p = postings as f64;
    let ms = elapsed.as_secs_f64() * 1e3 / messages as f64;
    figures.put("visma.messages", messages.to_string());
    figures.put("visma.postings_per_message", format!("{:.2}", p / messages as f64));
    figures.put(
        "visma.connector_calls_per_posting",
        format!("{:.2}", (finds + posts) / p),
    );
    figures.put("visma.http_requests_per_posting", format!("{:.2}", requests / p));
    figures.put("visma.ms_per_message_local_fake", format!("{ms:.2}"));
    figures.put(
        "visma.ms_per_http_request_local_fake",
        format!("{:.2}", elapsed.as_secs_f64() * 1e3 / requests),
    );
    Ok(ms)
}
