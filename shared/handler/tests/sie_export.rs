//! The scheduled SIE export against the in-memory ledger, with postings completed through the
//! handler (SE's target is SIE: `LedgerOnly`): exported once, nothing new on a second run, a
//! crash between the object write and the checkpoint redoes the same object with the same bytes,
//! late entries go to the next range, and of two concurrent runs one claims the range.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ctvisma_core::Rules;
use ctvisma_handler::sie_export::{export_entity, object_key, state_name, ExportState, ObjectSink, DEFAULT_SETTLE_MS};
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, NoResources};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_ledger::observed::{Call, Observed, StoreHook};
use ctvisma_ledger::{Begin, Document, IdempotencyStore, LedgerEntry, Millis, StoreError};
use ctvisma_visma::{Deadline, LedgerTarget};

/// 2025-12-03T00:00:00Z.
const T: Millis = 1_764_720_000_000;
const SETTLE: Millis = DEFAULT_SETTLE_MS;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn event_body(name: &str) -> String {
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("events").join(name)).unwrap()).unwrap();
    event["Records"][0]["body"].as_str().unwrap().to_string()
}

fn rules() -> Rules {
    Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap()
}

/// Objects put, in order (a redo puts the same key again).
#[derive(Default)]
struct MemorySink {
    puts: Mutex<Vec<(String, Vec<u8>)>>,
}

impl MemorySink {
    fn puts(&self) -> Vec<(String, Vec<u8>)> {
        self.puts.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl ObjectSink for MemorySink {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.puts.lock().unwrap().push((key.to_string(), bytes));
        Ok(())
    }
}

/// Store hooks: fail the checkpoint's final write once (a crash after the object is put), and
/// hold the first `gate_left` `get_state` calls until all have read (a race).
#[derive(Default)]
struct Faults {
    fail_finish: AtomicBool,
    gate: Option<tokio::sync::Barrier>,
    gate_left: AtomicUsize,
}

#[async_trait::async_trait]
impl StoreHook for Faults {
    async fn before(&self, call: Call<'_>) -> Result<(), StoreError> {
        match call {
            Call::SetState { value, .. }
                if value.contains(r#""pending":null"#) && self.fail_finish.swap(false, Ordering::SeqCst) =>
            {
                Err(StoreError::Unavailable("crashed before the checkpoint".into()))
            }
            _ => Ok(()),
        }
    }
    async fn after(&self, call: Call<'_>) {
        if let (Call::GetState { .. }, Some(gate)) = (call, &self.gate) {
            if self
                .gate_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                gate.wait().await;
            }
        }
    }
}

struct World {
    handler: Handler,
    store: Arc<MemoryStore>,
    rules: Rules,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let rules = rules();
    let handler = Handler {
        rules: rules.clone(),
        rates: None,
        targets: BTreeMap::from([("SE".to_string(), Arc::new(LedgerOnly) as Arc<dyn LedgerTarget>)]),
        store: store.clone(),
        resources: Arc::new(NoResources),
    };
    World { handler, store, rules }
}

impl World {
    /// Completes an event's postings at `at` (their `completed_at`); returns their keys.
    async fn post(&self, event: &str, at: Millis) -> Vec<String> {
        let ctx = MessageContext {
            message_id: format!("m-{event}-{at}"),
            request_id: format!("req-{event}-{at}"),
            deadline_ms: at + 60_000,
            deadline: Deadline::in_(Duration::from_secs(20)),
            now_ms: at,
        };
        let out = self.handler.handle(&event_body(event), &ctx).await;
        assert_eq!(out.label(), "posted", "{event}: {out:?}");
        let keys: Vec<String> = self
            .store
            .ledger_between(at, at + 1)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert!(!keys.is_empty(), "{event} made no ledger entry");
        keys
    }

    async fn state(&self) -> ExportState {
        let raw = self.store.get_state(&state_name("SE")).await.unwrap().unwrap();
        serde_json::from_str(&raw).unwrap()
    }
}

/// The idempotency keys of the vouchers in a SIE file (each voucher text ends in `[<key>]`).
fn voucher_keys(bytes: &[u8]) -> Vec<String> {
    let file = ctvisma_sie::read(bytes).unwrap();
    file.vouchers
        .iter()
        .map(|v| {
            let start = v.text.rfind('[').expect("key in voucher text");
            v.text[start + 1..v.text.len() - 1].to_string()
        })
        .collect()
}

/// Object key → its (last) bytes; panics if one posting is in two objects.
fn objects_by_key(puts: &[(String, Vec<u8>)]) -> BTreeMap<String, Vec<u8>> {
    let objects: BTreeMap<String, Vec<u8>> = puts.iter().cloned().collect();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (object, bytes) in &objects {
        for key in voucher_keys(bytes) {
            if let Some(other) = seen.insert(key.clone(), object.clone()) {
                panic!("posting {key} is in two objects: {other} and {object}");
            }
        }
    }
    objects
}

#[tokio::test]
async fn postings_are_exported_once_and_a_second_run_finds_nothing_new() {
    let w = world();
    let mut keys = w.post("order-created-se-sek-mixed-rates.json", T + 1_000).await;
    keys.extend(w.post("order-created-se-sek-split-shipment.json", T + 2_000).await);
    // Another entity's entry in the same range stays out of SE's file.
    let other = LedgerEntry {
        key: "no-key".into(),
        event: "order-invoiced".into(),
        entity: "NO".into(),
        currency: "NOK".into(),
        date: "2025-12-03".into(),
        external_ref: "CV-NO".into(),
        order_id: None,
        payment_id: None,
        payload_hash: "h".into(),
        document: Document {
            target: "eaccounting".into(),
            id: "1".into(),
            number: None,
            total: "1.00".into(),
        },
        completed_at: T + 1_500,
        posting: "{}".into(),
    };
    assert_eq!(
        w.store.begin("no-key", "h", "r", T + 60_000, T).await.unwrap(),
        Begin::Acquired
    );
    w.store.complete("r", &other).await.unwrap();

    let sink = MemorySink::default();
    let now = T + 3_600_000;
    let report = export_entity(w.store.as_ref(), &sink, &w.rules, "SE", now, SETTLE)
        .await
        .unwrap();
    let to = now - SETTLE;
    assert_eq!((report.from, report.to), (0, to));
    assert_eq!(report.object.as_deref(), Some(object_key("SE", 0, to).as_str()));
    assert_eq!(report.exported, keys.len());
    assert!(
        report.refused.is_empty() && !report.redone && report.skipped.is_none(),
        "{report:?}"
    );

    let puts = sink.puts();
    assert_eq!(puts.len(), 1);
    let mut in_file = voucher_keys(&puts[0].1);
    in_file.sort();
    keys.sort();
    assert_eq!(in_file, keys, "one #VER per SE posting, nothing else");
    let file = ctvisma_sie::read(&puts[0].1).unwrap();
    assert_eq!(file.fnamn.as_deref(), Some("Nordic Goods AB"));
    assert_eq!(
        w.state().await,
        ExportState {
            exported_to: to,
            pending: None
        }
    );

    // An hour later: the next range holds nothing; no object, the checkpoint moves on.
    let report = export_entity(w.store.as_ref(), &sink, &w.rules, "SE", now + 3_600_000, SETTLE)
        .await
        .unwrap();
    assert_eq!((report.from, report.exported, report.object), (to, 0, None));
    assert_eq!(sink.puts().len(), 1);
    assert_eq!(w.state().await.exported_to, now + 3_600_000 - SETTLE);

    // Run again at the same time: the range is empty (not settled), nothing changes.
    let report = export_entity(w.store.as_ref(), &sink, &w.rules, "SE", now + 3_600_000, SETTLE)
        .await
        .unwrap();
    assert_eq!(report.skipped.as_deref(), Some("not settled"));
    assert_eq!(sink.puts().len(), 1);
}

#[tokio::test]
async fn a_crash_after_the_put_redoes_the_same_object_with_the_same_bytes() {
    let w = world();
    let first = w.post("order-created-se-sek-mixed-rates.json", T + 1_000).await;
    let faulty = Observed::new(w.store.clone(), Faults::default());
    faulty.hook.fail_finish.store(true, Ordering::SeqCst);
    let sink = MemorySink::default();

    let now = T + 600_000;
    let crashed = export_entity(&faulty, &sink, &w.rules, "SE", now, SETTLE).await;
    assert!(crashed.is_err(), "{crashed:?}");
    let pending = w.state().await;
    let object = object_key("SE", 0, now - SETTLE);
    assert_eq!(pending.exported_to, 0);
    assert_eq!(
        pending.pending.as_ref().map(|p| p.object.as_str()),
        Some(object.as_str())
    );

    // Meanwhile a posting completes after the pending range's end: not part of the redo.
    let later = w.post("order-created-se-sek-split-shipment.json", now).await;

    // The next run, much later, redoes exactly the pending range.
    let redo = export_entity(&faulty, &sink, &w.rules, "SE", now + 3_600_000, SETTLE)
        .await
        .unwrap();
    assert!(redo.redone);
    assert_eq!((redo.from, redo.to), (0, now - SETTLE));
    assert_eq!(redo.object.as_deref(), Some(object.as_str()));
    let puts = sink.puts();
    assert_eq!(puts.len(), 2);
    assert_eq!(puts[0], puts[1], "the redo writes the same object with the same bytes");
    assert_eq!(voucher_keys(&puts[0].1).len(), first.len());
    assert_eq!(w.state().await.exported_to, now - SETTLE);

    // The run after picks up the later posting into a new object; no posting is in two.
    let next = export_entity(&faulty, &sink, &w.rules, "SE", now + 3_600_000, SETTLE)
        .await
        .unwrap();
    assert!(!next.redone);
    assert_eq!(next.exported, later.len());
    let objects = objects_by_key(&sink.puts());
    assert_eq!(objects.len(), 2);
    let exported: usize = objects.values().map(|b| voucher_keys(b).len()).sum();
    assert_eq!(exported, first.len() + later.len());
}

#[tokio::test]
async fn entries_completed_after_the_range_end_go_to_the_next_run() {
    let w = world();
    let sink = MemorySink::default();
    let early = w.post("order-created-se-sek-mixed-rates.json", T + 1_000).await;
    // Completed after the first range's end (T + 5_000), though before the run itself.
    let late = w.post("order-created-se-sek-split-shipment.json", T + 5_000).await;

    let one = export_entity(w.store.as_ref(), &sink, &w.rules, "SE", T + 5_000 + SETTLE, SETTLE)
        .await
        .unwrap();
    assert_eq!((one.to, one.exported), (T + 5_000, early.len()));
    let even_later = w.post("order-created-se-sek-custom-line-item.json", T + 9_000).await;

    let two = export_entity(w.store.as_ref(), &sink, &w.rules, "SE", T + 20_000 + SETTLE, SETTLE)
        .await
        .unwrap();
    assert_eq!((two.from, two.to), (T + 5_000, T + 20_000));
    assert_eq!(two.exported, late.len() + even_later.len());

    let objects = objects_by_key(&sink.puts());
    let mut second = voucher_keys(&objects[&object_key("SE", T + 5_000, T + 20_000)]);
    second.sort();
    let mut expected: Vec<String> = late.into_iter().chain(even_later).collect();
    expected.sort();
    assert_eq!(second, expected);
    let first: BTreeSet<String> = voucher_keys(&objects[&object_key("SE", 0, T + 5_000)])
        .into_iter()
        .collect();
    assert_eq!(first, early.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_runs_one_claims_the_range() {
    let w = world();
    let keys = w.post("order-created-se-sek-mixed-rates.json", T + 1_000).await;
    // Both runs read the (empty) checkpoint before either claims a range.
    let faults = Faults {
        gate: Some(tokio::sync::Barrier::new(2)),
        gate_left: AtomicUsize::new(2),
        ..Faults::default()
    };
    let faulty = Observed::new(w.store.clone(), faults);
    let (store, sink, rules) = (
        Arc::new(faulty),
        Arc::new(MemorySink::default()),
        Arc::new(w.rules.clone()),
    );

    let run = |now: Millis| {
        let (store, sink, rules) = (store.clone(), sink.clone(), rules.clone());
        tokio::spawn(async move {
            export_entity(store.as_ref(), sink.as_ref(), &rules, "SE", now, SETTLE)
                .await
                .unwrap()
        })
    };
    let (a, b) = (run(T + 600_000), run(T + 600_001));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let (winner, loser) = if a.skipped.is_none() { (a, b) } else { (b, a) };
    assert!(winner.skipped.is_none(), "{winner:?}");
    assert_eq!(loser.skipped.as_deref(), Some("owned by another run"), "{loser:?}");
    assert_eq!((loser.exported, loser.object), (0, None));
    assert_eq!(winner.exported, keys.len());
    let puts = sink.puts();
    assert_eq!(puts.len(), 1, "only the winner writes");
    assert_eq!(Some(puts[0].0.clone()), winner.object);
    assert_eq!(w.state().await.exported_to, winner.to);
}
