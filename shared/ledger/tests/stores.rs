//! The conformance checks against the in-memory and SQLite stores, plus SQLite persistence and
//! two handles (as two processes would) on one file.

use std::sync::Arc;

use ctvisma_ledger::conformance::{concurrent_begin, concurrent_set_state, run_all};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::{Begin, Document, IdempotencyStore, LedgerEntry, Status};

const NOW: i64 = 1_704_067_200_000;

fn entry(key: &str) -> LedgerEntry {
    LedgerEntry {
        key: key.into(),
        event: "order-invoiced".into(),
        entity: "SE01".into(),
        currency: "SEK".into(),
        date: "2024-01-01".into(),
        external_ref: "CV-1001".into(),
        order_id: Some("order-1".into()),
        payment_id: None,
        payload_hash: "h1".into(),
        document: Document {
            target: "sie".into(),
            id: "A7".into(),
            number: Some("7".into()),
            total: "99.00".into(),
        },
        completed_at: NOW + 5,
        posting: "{}".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_conforms() {
    let store = Arc::new(MemoryStore::new());
    run_all(store.as_ref(), "memory-").await;
    // Twice on the same store: runs must not collide.
    run_all(store.as_ref(), "memory-").await;
    concurrent_set_state(store.clone()).await;
    concurrent_begin(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory_conforms() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    run_all(store.as_ref(), "sqlite-mem-").await;
    run_all(store.as_ref(), "sqlite-mem-").await;
    concurrent_set_state(store.clone()).await;
    concurrent_begin(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        run_all(store.as_ref(), "sqlite-file-").await;
        concurrent_begin(store.clone()).await;
        concurrent_set_state(store.clone()).await;

        assert_eq!(
            store.begin("persist", "h1", "req-a", NOW + 30_000, NOW).await.unwrap(),
            Begin::Acquired
        );
        store.complete("req-a", &entry("persist")).await.unwrap();
        assert_eq!(
            store.begin("held", "h2", "req-b", NOW + 30_000, NOW).await.unwrap(),
            Begin::Acquired
        );
        assert!(store.advance_version("order-1", 4).await.unwrap());
    }

    // Reopen: schema creation is idempotent and everything is still there.
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    match store
        .begin("persist", "h1", "req-c", NOW + 90_000, NOW + 60_000)
        .await
        .unwrap()
    {
        Begin::Completed(record) => {
            assert_eq!(record.status, Status::Completed);
            assert_eq!(record.holder, "req-a");
            assert_eq!(record.document, Some(entry("persist").document));
        }
        other => panic!("a completed key must still be Completed after reopen, got {other:?}"),
    }
    assert_eq!(
        store.begin("held", "h2", "req-c", NOW + 30_000, NOW + 1).await.unwrap(),
        Begin::Busy {
            holder: "req-b".into(),
            lease_until: NOW + 30_000
        },
        "a live lease must survive reopen"
    );
    assert_eq!(store.ledger_for("CV-1001").await.unwrap(), vec![entry("persist")]);
    assert_eq!(store.ledger_for("order-1").await.unwrap(), vec![entry("persist")]);
    assert!(
        !store.advance_version("order-1", 4).await.unwrap(),
        "the version must survive reopen"
    );
    run_all(store.as_ref(), "sqlite-file-reopened-").await;
}

/// Two handles on one file, each with its own connection (as two `ctvisma` processes would):
/// `BEGIN IMMEDIATE` lets exactly one of them acquire.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sqlite_handles_on_one_file_race_begin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.sqlite");
    let handles: Vec<Arc<SqliteStore>> = (0..4).map(|_| Arc::new(SqliteStore::open(&path).unwrap())).collect();

    for round in 0..20 {
        let key = format!("race-{round}");
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (store, barrier, key) = (
                Arc::clone(&handles[i % handles.len()]),
                Arc::clone(&barrier),
                key.clone(),
            );
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store.begin(&key, "h", &format!("proc-{i}"), NOW + 30_000, NOW).await
            }));
        }
        let mut acquired = 0;
        for t in tasks {
            match t.await.unwrap().unwrap() {
                Begin::Acquired => acquired += 1,
                Begin::Busy { .. } => {}
                other => panic!("expected Acquired or Busy, got {other:?}"),
            }
        }
        assert_eq!(acquired, 1, "round {round}: exactly one handle must acquire");
    }

    // Each handle sees what the others wrote.
    let winner = handles[0].get("race-0").await.unwrap().expect("race-0 claimed");
    for h in &handles {
        assert_eq!(h.get("race-0").await.unwrap().as_ref(), Some(&winner));
    }
    concurrent_begin(handles[1].clone()).await;
}

/// Outside a Tokio runtime the SQLite store runs each call on the caller's thread: the future is
/// ready on its first poll.
#[test]
fn sqlite_without_a_runtime() {
    let store = SqliteStore::in_memory().unwrap();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut poll_once = |fut: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>>| {
        let mut fut = fut;
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => panic!("without a runtime the call must complete synchronously"),
        }
    };
    assert_eq!(
        poll_once(store.begin("k", "h", "req", NOW + 1, NOW)).unwrap(),
        Begin::Acquired
    );
    assert_eq!(
        poll_once(store.begin("k", "h", "other", NOW + 2, NOW)).unwrap(),
        Begin::Busy {
            holder: "req".into(),
            lease_until: NOW + 1
        }
    );
}
