//! The behaviour every [`IdempotencyStore`] must show, as runnable checks: call [`run_all`] and
//! [`concurrent_begin`] from each implementation's tests (memory, SQLite, DynamoDB). They panic
//! with a message naming the violated rule.
//!
//! Every key, order, message resource and version resource a run touches is unique to that run
//! (the caller's prefix, plus the process id, the time and a counter), and range queries are
//! filtered to the run's own entries, so the checks can run repeatedly against a shared table.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::{Begin, Document, IdempotencyStore, KeyRecord, LedgerEntry, MessageRecord, Millis, Status, StoreError};

/// A fixed "now" (2024-01-01T00:00:00Z); the store never reads a clock.
const T0: Millis = 1_704_067_200_000;
const LEASE: Millis = 30_000;

/// A prefix no other run (in this process or another) uses.
fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}{}-{nanos:x}-{n}-", std::process::id())
}

fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("conformance: {what}: expected Ok, got error {e:?}"),
    }
}

fn expect_not_holder<T: Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::NotHolder { .. }) => {}
        other => panic!("conformance: {what}: expected Err(NotHolder), got {other:?}"),
    }
}

fn document(id: &str, number: Option<&str>) -> Document {
    Document {
        target: "eaccounting".into(),
        id: id.into(),
        number: number.map(Into::into),
        total: "125.00".into(),
    }
}

fn entry(key: &str, hash: &str, external_ref: &str, order_id: Option<&str>, completed_at: Millis) -> LedgerEntry {
    LedgerEntry {
        key: key.into(),
        event: "order-invoiced".into(),
        entity: "SE01".into(),
        currency: "SEK".into(),
        date: "2024-01-01".into(),
        external_ref: external_ref.into(),
        order_id: order_id.map(Into::into),
        payment_id: None,
        payload_hash: hash.into(),
        document: document(&format!("doc-{key}"), Some("V42")),
        completed_at,
        posting: format!(r#"{{"key":"{key}","lines":[{{"account":"1510","debit":"125.00"}}]}}"#),
    }
}

/// Acquires `key` for `holder` or panics.
async fn acquire(store: &dyn IdempotencyStore, key: &str, hash: &str, holder: &str, now: Millis, what: &str) {
    let got = ok(store.begin(key, hash, holder, now + LEASE, now).await, what);
    assert_eq!(
        got,
        Begin::Acquired,
        "conformance: {what}: begin on a free key must acquire it"
    );
}

/// Completes `entry` (acquiring its key first) or panics.
async fn post(store: &dyn IdempotencyStore, entry: &LedgerEntry, holder: &str) {
    acquire(store, &entry.key, &entry.payload_hash, holder, T0, "ledger setup").await;
    ok(
        store.complete(holder, entry).await,
        "ledger setup: complete by the holder",
    );
}

/// Runs every check against `store`. `prefix` namespaces the run (any string; a run id is added).
pub async fn run_all(store: &dyn IdempotencyStore, prefix: &str) {
    let p = unique(prefix);
    acquire_and_complete(store, &p).await;
    lease_take_over(store, &p).await;
    conflicts(store, &p).await;
    release(store, &p).await;
    ledger(store, &p).await;
    messages(store, &p).await;
    versions(store, &p).await;
    states(store, &p).await;
}

async fn acquire_and_complete(store: &dyn IdempotencyStore, p: &str) {
    let key = format!("{p}acquire");
    assert_eq!(
        ok(store.get(&key).await, "get of an unknown key"),
        None,
        "conformance: get of an unknown key must be None"
    );

    acquire(store, &key, "h1", "req-a", T0, "acquire").await;
    let held = ok(store.get(&key).await, "get after acquire").expect("conformance: an acquired key must exist");
    let expected = KeyRecord {
        key: key.clone(),
        status: Status::InProgress,
        payload_hash: "h1".into(),
        holder: "req-a".into(),
        lease_until: T0 + LEASE,
        document: None,
    };
    assert_eq!(
        held, expected,
        "conformance: an acquired key must be IN_PROGRESS with our holder, hash and lease"
    );

    let again = ok(
        store.begin(&key, "h1", "req-a", T0 + LEASE, T0 + 1).await,
        "begin again by the holder",
    );
    assert_eq!(
        again,
        Begin::Acquired,
        "conformance: begin by the holder of a live lease is idempotent (Acquired)"
    );

    let dup = ok(
        store.begin(&key, "h1", "req-b", T0 + 5 + LEASE, T0 + 5).await,
        "concurrent duplicate",
    );
    assert_eq!(
        dup,
        Begin::Busy {
            holder: "req-a".into(),
            lease_until: T0 + LEASE
        },
        "conformance: a concurrent duplicate (live lease of another holder) must be Busy with the holder and lease"
    );

    let e = entry(&key, "h1", &format!("{p}ORD-ACQ"), None, T0 + 10);
    expect_not_holder(store.complete("req-b", &e).await, "complete by a non-holder");
    expect_not_holder(store.release(&key, "req-b").await, "release by a non-holder");
    ok(store.complete("req-a", &e).await, "complete by the holder");

    let done = ok(store.get(&key).await, "get after complete").expect("conformance: a completed key must exist");
    assert_eq!(
        done.status,
        Status::Completed,
        "conformance: complete must set COMPLETED"
    );
    assert_eq!(
        done.document.as_ref(),
        Some(&e.document),
        "conformance: complete must store the document"
    );
    assert_eq!(
        done.payload_hash, "h1",
        "conformance: complete must keep the payload hash"
    );

    // A duplicate delivery long after the lease: the stored result, nothing to post.
    let later = T0 + 10 * LEASE;
    let dup = ok(
        store.begin(&key, "h1", "req-c", later + LEASE, later).await,
        "duplicate after complete",
    );
    match dup {
        Begin::Completed(record) => {
            assert_eq!(
                record, done,
                "conformance: a duplicate after complete must return the stored record"
            );
            assert_eq!(
                record.document,
                Some(e.document.clone()),
                "conformance: duplicate must carry the document"
            );
        }
        other => panic!("conformance: duplicate after complete: expected Completed, got {other:?}"),
    }
    let dup = ok(
        store.begin(&key, "h1", "req-a", later + LEASE, later).await,
        "duplicate by the old holder",
    );
    assert!(
        matches!(dup, Begin::Completed(_)),
        "conformance: begin of a completed key by its completer must be Completed, got {dup:?}"
    );

    expect_not_holder(
        store.complete("req-a", &e).await,
        "complete of an already completed key",
    );
    expect_not_holder(store.release(&key, "req-a").await, "release of a completed key");
    let still = ok(store.get(&key).await, "get after refused release");
    assert_eq!(
        still,
        Some(done),
        "conformance: refused calls must not change a completed key"
    );
}

async fn lease_take_over(store: &dyn IdempotencyStore, p: &str) {
    let key = format!("{p}lease");
    acquire(store, &key, "h1", "req-old", T0, "lease: first claim").await;

    let before = ok(
        store
            .begin(&key, "h1", "req-new", T0 + LEASE + 1000, T0 + LEASE - 1)
            .await,
        "lease: just before",
    );
    assert!(
        matches!(before, Begin::Busy { .. }),
        "conformance: a lease is live until lease_until (now < lease_until must be Busy), got {before:?}"
    );

    // lease_until <= now: expired, taken over.
    let now = T0 + LEASE;
    let taken = ok(
        store.begin(&key, "h1", "req-new", now + LEASE, now).await,
        "lease: take-over",
    );
    assert_eq!(
        taken,
        Begin::Acquired,
        "conformance: an expired lease (lease_until <= now) must be taken over"
    );
    let rec = ok(store.get(&key).await, "lease: get").expect("conformance: a taken-over key must exist");
    assert_eq!(
        (rec.status, rec.holder.as_str(), rec.lease_until),
        (Status::InProgress, "req-new", now + LEASE),
        "conformance: a take-over must record the new holder and lease"
    );

    let e = entry(&key, "h1", &format!("{p}ORD-LEASE"), None, now + 10);
    expect_not_holder(
        store.complete("req-old", &e).await,
        "complete by the holder whose lease was taken over",
    );
    expect_not_holder(
        store.release(&key, "req-old").await,
        "release by the holder whose lease was taken over",
    );
    let back = ok(
        store.begin(&key, "h1", "req-old", now + 2 * LEASE, now + 1).await,
        "lease: old holder again",
    );
    assert_eq!(
        back,
        Begin::Busy {
            holder: "req-new".into(),
            lease_until: now + LEASE
        },
        "conformance: the old holder must see the new holder's live lease"
    );
    ok(store.complete("req-new", &e).await, "lease: complete by the new holder");
    let rec = ok(store.get(&key).await, "lease: get after complete").expect("key must exist");
    assert_eq!(
        rec.status,
        Status::Completed,
        "conformance: the new holder's complete must stick"
    );
}

async fn conflicts(store: &dyn IdempotencyStore, p: &str) {
    let key = format!("{p}conflict");
    acquire(store, &key, "h1", "req-a", T0, "conflict: claim").await;
    let held = ok(store.get(&key).await, "conflict: get").expect("key must exist");

    for (holder, now, when) in [
        ("req-b", T0 + 1, "a live lease"),
        ("req-b", T0 + 2 * LEASE, "an expired lease"),
    ] {
        let got = ok(
            store.begin(&key, "h2", holder, now + LEASE, now).await,
            "conflict while in progress",
        );
        assert_eq!(
            got,
            Begin::Conflict(held.clone()),
            "conformance: same key, different hash, on {when} must be Conflict with the existing record"
        );
    }
    let got = ok(
        store.begin(&key, "h2", "req-a", T0 + LEASE, T0 + 1).await,
        "conflict: same holder, other hash",
    );
    assert!(
        matches!(got, Begin::Conflict(_)),
        "conformance: a different hash is a Conflict even for the holder, got {got:?}"
    );
    let unchanged = ok(store.get(&key).await, "conflict: get after").expect("key must exist");
    assert_eq!(unchanged, held, "conformance: a Conflict must not change the key");

    let e = entry(&key, "h1", &format!("{p}ORD-CONFLICT"), None, T0 + 10);
    ok(store.complete("req-a", &e).await, "conflict: complete");
    let done = ok(store.get(&key).await, "conflict: get after complete").expect("key must exist");
    let got = ok(
        store.begin(&key, "h2", "req-c", T0 + 3 * LEASE, T0 + 2 * LEASE).await,
        "conflict after complete",
    );
    match got {
        Begin::Conflict(record) => {
            assert_eq!(
                record, done,
                "conformance: Conflict after completion must carry the completed record"
            )
        }
        other => panic!("conformance: same key, different hash, after completion: expected Conflict, got {other:?}"),
    }
}

async fn release(store: &dyn IdempotencyStore, p: &str) {
    let key = format!("{p}release");
    acquire(store, &key, "h1", "req-a", T0, "release: claim").await;
    expect_not_holder(store.release(&key, "req-b").await, "release by a non-holder");
    let held = ok(store.get(&key).await, "release: get").expect("key must exist");
    assert_eq!(
        held.holder, "req-a",
        "conformance: a refused release must leave the key held"
    );
    let busy = ok(
        store.begin(&key, "h1", "req-b", T0 + 1 + LEASE, T0 + 1).await,
        "release: begin while held",
    );
    assert!(
        matches!(busy, Begin::Busy { .. }),
        "conformance: still held after a refused release, got {busy:?}"
    );

    ok(store.release(&key, "req-a").await, "release by the holder");
    assert_eq!(
        ok(store.get(&key).await, "release: get after"),
        None,
        "conformance: release must free the key"
    );
    expect_not_holder(store.release(&key, "req-a").await, "release of a free key");

    // A retry takes the key at once, even with a different payload (the old claim is gone).
    acquire(store, &key, "h2", "req-b", T0 + 2, "release: claim after release").await;
    let rec = ok(store.get(&key).await, "release: get after re-claim").expect("key must exist");
    assert_eq!(
        (rec.holder.as_str(), rec.payload_hash.as_str()),
        ("req-b", "h2"),
        "conformance: re-claim after release"
    );
}

fn sorted_keys(entries: &[LedgerEntry]) -> Vec<String> {
    let mut keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    keys.sort();
    keys
}

async fn ledger(store: &dyn IdempotencyStore, p: &str) {
    let order_id = format!("{p}order-uuid");
    let number = format!("{p}CV-1");
    let t = T0 + 1_000_000;

    let invoice = entry(&format!("{p}L-invoice"), "hi", &number, Some(&order_id), t);
    let mut payment = entry(&format!("{p}L-payment"), "hp", &number, Some(&order_id), t + 1000);
    payment.event = "payment-captured".into();
    payment.payment_id = Some(format!("{p}payment-uuid"));
    payment.document = document("pay-1", None);
    let mut credit = entry(&format!("{p}L-credit"), "hc", &format!("{number}/R1"), None, t + 2000);
    credit.event = "credit-note".into();
    // Must not match "CV-1": another order whose number merely starts with it.
    let other = entry(
        &format!("{p}L-other"),
        "ho",
        &format!("{p}CV-10"),
        Some(&format!("{p}other-uuid")),
        t + 1000,
    );
    let mut other_credit = entry(
        &format!("{p}L-other-credit"),
        "hoc",
        &format!("{p}CV-10/R1"),
        None,
        t + 3000,
    );
    other_credit.date = "2024-01-02".into();

    for e in [&invoice, &payment, &credit, &other, &other_credit] {
        post(store, e, "req-ledger").await;
    }

    let by_id = ok(store.ledger_for(&order_id).await, "ledger_for(order id)");
    assert_eq!(
        sorted_keys(&by_id),
        sorted_keys(&[invoice.clone(), payment.clone()]),
        "conformance: ledger_for(order id) must return the entries with that order_id"
    );
    let found = by_id.iter().find(|e| e.key == payment.key).expect("payment entry");
    assert_eq!(
        found, &payment,
        "conformance: a ledger entry must round-trip every field"
    );

    let by_number = ok(store.ledger_for(&number).await, "ledger_for(order number)");
    assert_eq!(
        sorted_keys(&by_number),
        sorted_keys(&[invoice.clone(), payment.clone(), credit.clone()]),
        "conformance: ledger_for(order number) must return entries with that external_ref or under number + \"/\" \
         (credit note CV-1/R1), and nothing of CV-10"
    );
    let found = by_number.iter().find(|e| e.key == credit.key).expect("credit entry");
    assert_eq!(found, &credit, "conformance: the credit note entry must round-trip");

    let by_other = ok(store.ledger_for(&format!("{p}CV-10")).await, "ledger_for(CV-10)");
    assert_eq!(
        sorted_keys(&by_other),
        sorted_keys(&[other.clone(), other_credit.clone()]),
        "conformance: ledger_for(CV-10)"
    );
    let none = ok(store.ledger_for(&format!("{p}CV")).await, "ledger_for(partial number)");
    assert!(
        none.is_empty(),
        "conformance: ledger_for must not match a bare string prefix, got {none:?}"
    );

    // Pending (not completed) postings are not in the ledger.
    acquire(
        store,
        &format!("{p}L-pending"),
        "hx",
        "req-ledger",
        T0,
        "ledger: pending claim",
    )
    .await;
    let pending_ref = ok(store.ledger_for(&number).await, "ledger_for after a pending claim");
    assert_eq!(
        pending_ref.len(),
        3,
        "conformance: an IN_PROGRESS key must not appear in the ledger"
    );

    let mine = |entries: Vec<LedgerEntry>| -> Vec<String> {
        entries
            .into_iter()
            .filter(|e| e.key.starts_with(p))
            .map(|e| e.key)
            .collect()
    };
    let between = mine(ok(store.ledger_between(t, t + 2000).await, "ledger_between"));
    let mut expected = vec![invoice.key.clone(), other.key.clone(), payment.key.clone()];
    expected[1..].sort(); // equal completed_at (t + 1000): by key
    assert_eq!(
        between, expected,
        "conformance: ledger_between(from, to) must be [from, to) on completed_at, sorted by completed_at then key"
    );
    let between = mine(ok(
        store.ledger_between(t + 1, t + 2001).await,
        "ledger_between shifted",
    ));
    let mut expected = vec![other.key.clone(), payment.key.clone()];
    expected.sort();
    expected.push(credit.key.clone());
    assert_eq!(
        between, expected,
        "conformance: ledger_between excludes before `from`, includes `to - 1`"
    );
    let empty = mine(ok(
        store.ledger_between(t + 3000, t + 3000).await,
        "ledger_between empty",
    ));
    assert!(
        empty.is_empty(),
        "conformance: ledger_between(x, x) must be empty, got {empty:?}"
    );
    let all: BTreeSet<String> = mine(ok(store.ledger_between(t, t + 3001).await, "ledger_between all"))
        .into_iter()
        .collect();
    assert_eq!(
        all.len(),
        5,
        "conformance: ledger_between over all five entries, got {all:?}"
    );
}

fn message(resource: &str, number: Option<&str>, id: &str, at: Millis) -> MessageRecord {
    MessageRecord {
        resource_id: resource.into(),
        order_number: number.map(Into::into),
        kind: "OrderCreated".into(),
        message_id: id.into(),
        sequence_number: Some(1),
        at,
        outcome: "posted".into(),
        keys: vec![format!("key-{id}"), format!("key-{id}-2")],
        reason: None,
    }
}

async fn messages(store: &dyn IdempotencyStore, p: &str) {
    let order = format!("{p}order-uuid");
    let number = format!("{p}CV-7");
    let payment = format!("{p}payment-uuid");

    let m1 = message(&order, Some(&number), "m1", T0 + 20);
    let mut m2 = message(&order, None, "m2", T0 + 10);
    m2.kind = "OrderStateChanged".into();
    m2.sequence_number = None;
    let mut m3 = message(&payment, Some(&number), "m3", T0 + 20);
    m3.kind = "PaymentTransactionStateChanged".into();
    m3.outcome = "retry".into();
    m3.keys = vec![];
    m3.reason = Some("Transient: visma 429".into());
    let m4 = message(&order, Some(&number), "m4", T0 + 20);
    let unrelated = message(&format!("{p}other"), Some(&format!("{p}CV-70")), "m5", T0);

    for m in [&m1, &m2, &m3, &m4, &unrelated] {
        ok(store.record_message(m).await, "record_message");
    }

    let by_id = ok(store.messages_for(&order).await, "messages_for(order id)");
    assert_eq!(
        by_id,
        vec![m2.clone(), m1.clone(), m4.clone()],
        "conformance: messages_for(order id) must return its messages oldest first (by at, then insertion)"
    );
    let by_number = ok(store.messages_for(&number).await, "messages_for(order number)");
    assert_eq!(
        by_number,
        vec![m1.clone(), m3.clone(), m4.clone()],
        "conformance: messages_for(order number) must return messages carrying that number, oldest first \
         (by at, then insertion), every field kept"
    );
    let by_payment = ok(store.messages_for(&payment).await, "messages_for(payment id)");
    assert_eq!(by_payment, vec![m3], "conformance: messages_for(payment id)");
    let none = ok(
        store.messages_for(&format!("{p}nothing")).await,
        "messages_for(unknown)",
    );
    assert!(
        none.is_empty(),
        "conformance: messages_for an unknown resource must be empty"
    );
}

async fn versions(store: &dyn IdempotencyStore, p: &str) {
    let r = format!("{p}resource");
    let steps = [
        (3, true, "first version"),
        (3, false, "replay"),
        (2, false, "stale"),
        (5, true, "newer"),
        (4, false, "stale after newer"),
        (5, false, "replay of newest"),
        (6, true, "next"),
    ];
    for (version, expected, what) in steps {
        let got = ok(store.advance_version(&r, version).await, "advance_version");
        assert_eq!(
            got, expected,
            "conformance: advance_version({version}) ({what}) must return {expected}"
        );
    }
    let other = format!("{p}resource-2");
    assert!(
        ok(store.advance_version(&other, 1).await, "advance_version"),
        "conformance: versions are per resource"
    );
    assert!(
        !ok(store.advance_version(&r, 5).await, "advance_version"),
        "conformance: another resource must not lower"
    );
}

async fn states(store: &dyn IdempotencyStore, p: &str) {
    let name = format!("{p}state");
    assert_eq!(
        ok(store.get_state(&name).await, "get_state of an unset name"),
        None,
        "conformance: get_state of an unset name must be None"
    );
    assert!(
        !ok(
            store.set_state(&name, Some("x"), "v1").await,
            "set_state expecting a value"
        ),
        "conformance: set_state expecting a value on an unset name must return false"
    );
    assert_eq!(
        ok(store.get_state(&name).await, "get_state"),
        None,
        "conformance: a refused set_state must not create the name"
    );
    assert!(
        ok(store.set_state(&name, None, "v1").await, "set_state(None → v1)"),
        "conformance: set_state expecting None on an unset name must write"
    );
    assert_eq!(
        ok(store.get_state(&name).await, "get_state after set"),
        Some("v1".to_string()),
        "conformance: get_state must return what set_state wrote"
    );
    assert!(
        !ok(
            store.set_state(&name, None, "v2").await,
            "set_state(None) on a set name"
        ),
        "conformance: set_state expecting None on a set name must return false"
    );
    assert!(
        !ok(store.set_state(&name, Some("v0"), "v2").await, "set_state(stale)"),
        "conformance: set_state with a stale expected value must return false"
    );
    assert_eq!(
        ok(store.get_state(&name).await, "get_state after refusals"),
        Some("v1".to_string()),
        "conformance: refused set_state calls must change nothing"
    );
    let json = r#"{"exported_to":5,"pending":{"to":9,"object":"sie/SE/5-9.si"}}"#;
    assert!(
        ok(store.set_state(&name, Some("v1"), json).await, "set_state(v1 → json)"),
        "conformance: set_state with the current value must write"
    );
    assert_eq!(
        ok(store.get_state(&name).await, "get_state of JSON"),
        Some(json.to_string()),
        "conformance: a state must round-trip exactly"
    );
    let other = format!("{p}state-2");
    assert_eq!(
        ok(store.get_state(&other).await, "get_state of another name"),
        None,
        "conformance: states are per name"
    );
}

/// 16 tasks race `set_state` from the same expected value: exactly one wins, and the stored
/// value is the winner's. Needs a Tokio runtime (multi-threaded for a real race).
pub async fn concurrent_set_state(store: Arc<dyn IdempotencyStore>) {
    const TASKS: usize = 16;
    let name = format!("{}state", unique("concurrent-state-"));
    for expected in [None, Some("start".to_string())] {
        if let Some(start) = &expected {
            let current = ok(store.get_state(&name).await, "concurrent_set_state: get");
            assert!(
                ok(
                    store.set_state(&name, current.as_deref(), start).await,
                    "concurrent_set_state: reset"
                ),
                "conformance: concurrent_set_state: reset must write"
            );
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
        let mut handles = Vec::with_capacity(TASKS);
        for i in 0..TASKS {
            let (store, barrier, name, expected) =
                (Arc::clone(&store), Arc::clone(&barrier), name.clone(), expected.clone());
            handles.push(tokio::spawn(async move {
                let value = format!("writer-{i}");
                barrier.wait().await;
                let won = store.set_state(&name, expected.as_deref(), &value).await;
                (value, won)
            }));
        }
        let mut winners = Vec::new();
        for h in handles {
            let (value, won) = h
                .await
                .unwrap_or_else(|e| panic!("conformance: concurrent_set_state: task failed: {e}"));
            if ok(won, "concurrent_set_state") {
                winners.push(value);
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "conformance: exactly one of {TASKS} set_state calls from {expected:?} must win, got {winners:?}"
        );
        assert_eq!(
            ok(store.get_state(&name).await, "concurrent_set_state: get after"),
            Some(winners[0].clone()),
            "conformance: the stored state must be the winner's"
        );
    }
}

/// 16 tasks race `begin` on one key (at once, by different holders): exactly one acquires, the
/// others see it Busy. Then the same race on an expired lease: exactly one takes it over.
/// Needs a Tokio runtime (multi-threaded for a real race).
pub async fn concurrent_begin(store: Arc<dyn IdempotencyStore>) {
    let p = unique("concurrent-");
    let key = format!("{p}race");
    race(&store, &key, T0, "race on a free key").await;

    // The winner walks away; once its lease ends, 16 others race to take it over.
    let later = T0 + 2 * LEASE;
    race(&store, &key, later, "race to take over an expired lease").await;
}

async fn race(store: &Arc<dyn IdempotencyStore>, key: &str, now: Millis, what: &str) {
    const TASKS: usize = 16;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut handles = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let (store, barrier, key) = (Arc::clone(store), Arc::clone(&barrier), key.to_owned());
        handles.push(tokio::spawn(async move {
            let holder = format!("req-{now}-{i}");
            barrier.wait().await;
            let got = store.begin(&key, "hash", &holder, now + LEASE, now).await;
            (holder, got)
        }));
    }
    let mut winners = Vec::new();
    let mut busy = Vec::new();
    for h in handles {
        let (holder, got) = h
            .await
            .unwrap_or_else(|e| panic!("conformance: {what}: task failed: {e}"));
        match ok(got, what) {
            Begin::Acquired => winners.push(holder),
            Begin::Busy { holder: h, lease_until } => busy.push((h, lease_until)),
            other => panic!("conformance: {what}: expected Acquired or Busy, got {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "conformance: {what}: exactly one of {TASKS} must acquire, got {winners:?}"
    );
    for (h, lease) in &busy {
        assert_eq!(
            (h, *lease),
            (&winners[0], now + LEASE),
            "conformance: {what}: the losers must see the winner's lease"
        );
    }
    let rec = ok(store.get(key).await, what).expect("raced key must exist");
    assert_eq!(
        rec.holder, winners[0],
        "conformance: {what}: the stored holder must be the winner"
    );
}
