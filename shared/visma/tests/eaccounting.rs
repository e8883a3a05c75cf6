//! The eAccounting connector against the fake Visma, which validates every body against the
//! official OpenAPI spec: create, lookup by reference, credit notes and refunds, 429 back-off,
//! token rotation, crash-after-write reconciliation and permanent-error classification.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ctvisma_core::posting::EventKind;
use ctvisma_core::{Classify, ErrorClass};
use ctvisma_fake_visma::{DocKind, FakeConfig, FakeVisma, Fault};
use ctvisma_visma::eaccounting::{Eaccounting, EaccountingConfig};
use ctvisma_visma::token_store::{MemoryTokenStore, TokenStore};
use ctvisma_visma::{debit_total, has_effect, Deadline, LedgerTarget, Posted, VismaError};

fn config(fake: &FakeVisma) -> EaccountingConfig {
    fake.eaccounting_config()
}

async fn connect(fake: &FakeVisma, store: Arc<dyn TokenStore>) -> Result<Eaccounting, VismaError> {
    let rules = common::rules();
    Eaccounting::connect(
        common::http(),
        &config(fake),
        store,
        "SE",
        &rules.entities["SE"],
        Deadline::none(),
    )
    .await
}

async fn connected(fake: &FakeVisma) -> Eaccounting {
    connect(fake, Arc::new(MemoryTokenStore::default())).await.unwrap()
}

#[tokio::test]
async fn every_sample_posting_becomes_one_valid_voucher_found_again_by_reference() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let postings = common::se_postings();
    let kinds: std::collections::BTreeSet<EventKind> = postings.iter().map(|p| p.event).collect();
    for k in [
        EventKind::Invoice,
        EventKind::CreditNote,
        EventKind::Capture,
        EventKind::Refund,
        EventKind::Payout,
    ] {
        assert!(kinds.contains(&k), "sample data lacks {k:?}");
    }
    let (empty, postings): (Vec<_>, Vec<_>) = postings.into_iter().partition(|p| !has_effect(p));
    assert_eq!(empty.len(), 1, "the zero-total order");
    assert_eq!(
        ea.post_once(&empty[0], Deadline::none()).await.unwrap().0,
        Posted::nothing()
    );
    for p in &postings {
        assert_eq!(ea.find(p, Deadline::none()).await.unwrap(), None);
        let posted = ea
            .post(p, Deadline::none())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", p.idempotency_key));
        let found = ea.find(p, Deadline::none()).await.unwrap().expect("found by reference");
        assert_eq!(found.id, posted.id);
        if p.currency == "SEK" {
            assert_eq!(found.total, debit_total(p), "{}", p.idempotency_key);
        }
    }
    assert!(
        fake.validation_failures().is_empty(),
        "{:?}",
        fake.validation_failures()
    );
    let vouchers = fake.documents(DocKind::Voucher);
    assert_eq!(vouchers.len(), postings.len());
    let texts: Vec<&str> = vouchers.iter().map(|v| v["VoucherText"].as_str().unwrap()).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("credit_note") && t.contains("[credit:")),
        "a return"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("credit_note") && t.contains("[cancel:invoice:")),
        "a cancellation"
    );
}

#[tokio::test]
async fn post_once_never_duplicates_even_after_a_crash_after_the_write() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let invoice = common::first(EventKind::Invoice);
    // The voucher is stored but the answer is a 500: a blind retry would post it twice.
    fake.inject_on("/v2/vouchers", Fault::PostThenFail, 1);
    let e = ea.post(&invoice, Deadline::none()).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Transient, "{e}");
    assert_eq!(fake.documents(DocKind::Voucher).len(), 1, "no blind retry of a write");
    // The redelivered message looks first and finds it.
    let (_, existed) = ea.post_once(&invoice, Deadline::none()).await.unwrap();
    assert!(existed, "the redelivery finds the voucher instead of posting again");

    // Within one call, post_once looks again after a lost answer and reports the document.
    let capture = common::first(EventKind::Capture);
    fake.inject_on("/v2/vouchers", Fault::PostThenFail, 1);
    let (found, existed) = ea.post_once(&capture, Deadline::none()).await.unwrap();
    assert!(!existed);
    assert!(!found.id.is_empty());
    assert_eq!(fake.documents(DocKind::Voucher).len(), 2);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_waited_out_within_the_deadline() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let capture = common::first(EventKind::Capture);
    fake.inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 1 }, 1);
    ea.post(&capture, Deadline::none()).await.unwrap();
    // Reads are repeated after a 5xx; writes are not (they may have been applied).
    fake.inject_on("/v2/vouchers", Fault::ServerError, 1);
    assert!(ea.find(&capture, Deadline::none()).await.unwrap().is_some());
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/v2/vouchers")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 201, 500, 200]);

    // A wait longer than the time left is a transient error for the retry queue.
    let refund = common::first(EventKind::Refund);
    fake.inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 30 }, 1);
    let e = ea
        .post(&refund, Deadline::in_(Duration::from_secs(3)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            VismaError::RateLimited {
                retry_after_secs: 30,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.class(), ErrorClass::Transient);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_new_one_is_saved_before_use() {
    let fake = FakeVisma::start().await;
    let store = Arc::new(MemoryTokenStore::default());
    let ea = connect(&fake, store.clone()).await.unwrap();
    assert_eq!(fake.token_refreshes(), 1);
    let saved = store.load().await.unwrap().unwrap();
    assert_eq!(Some(saved.expose().to_string()), fake.current_refresh_token());
    assert_ne!(saved.expose(), fake.config().initial_refresh_token);

    // The access token expires after an hour: the next call refreshes once, and rotates again.
    fake.advance(Duration::from_secs(3700));
    ea.post(&common::first(EventKind::Invoice), Deadline::none())
        .await
        .unwrap();
    assert_eq!(fake.token_refreshes(), 2);
    let rotated = store.load().await.unwrap().unwrap();
    assert_ne!(rotated, saved);
    assert_eq!(Some(rotated.expose().to_string()), fake.current_refresh_token());

    // A token revoked early (401) is refreshed once and the call goes through.
    fake.inject_on("/v2/vouchers", Fault::ExpireToken, 1);
    ea.post(&common::first(EventKind::Capture), Deadline::none())
        .await
        .unwrap();
    assert_eq!(fake.token_refreshes(), 3);

    // A second process that starts from the stale configured token still gets in: the store
    // holds the rotated one and wins over the variable.
    let again = connect(&fake, store.clone()).await;
    assert!(again.is_ok());
    // Without the store, the dead initial token is refused as needing consent (permanent).
    let lost = connect(&fake, Arc::new(MemoryTokenStore::default()))
        .await
        .err()
        .unwrap();
    assert!(matches!(lost, VismaError::Unauthorized { .. }), "{lost}");
    assert_eq!(lost.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn locked_periods_and_missing_accounts_are_permanent_with_visma_code() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    fake.inject_on("/v2/vouchers", Fault::LockedPeriod, 1);
    let e = ea
        .post(&common::first(EventKind::Invoice), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "refused:4026");
    assert_eq!(e.class(), ErrorClass::Permanent);

    // A company that lacks what the rules name is refused at connect, listing all of it.
    let mut config = FakeConfig::default();
    config.accounts.retain(|a| a.number != 6570 && a.number != 3790);
    config.vat_codes.retain(|v| v.code != "VEU");
    let fake = FakeVisma::with_config(config).await;
    let e = connect(&fake, Arc::new(MemoryTokenStore::default()))
        .await
        .err()
        .unwrap();
    let text = e.to_string();
    for needle in ["payouts.fees = 6570", "payments.goodwill = 3790", "code = \"VEU\""] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert_eq!(e.class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn a_locked_date_known_at_connect_is_refused_without_a_call() {
    let config = FakeConfig {
        lock_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        ..FakeConfig::default()
    };
    let fake = FakeVisma::with_config(config).await;
    let ea = connected(&fake).await;
    let before = fake.requests().len();
    let e = ea
        .post(&common::first(EventKind::Invoice), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "refused:4026");
    assert!(e.to_string().contains("locked"), "{e}");
    assert_eq!(
        fake.requests().len(),
        before,
        "no request for a date known to be locked"
    );
}
