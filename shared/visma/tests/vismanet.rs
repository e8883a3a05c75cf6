//! The Visma.net connector against the fake: value-wrapped journal transactions that pass the
//! spec, release, lookup by our reference, the hourly budget headers, 429, token expiry,
//! crash-after-write reconciliation and permanent refusals.

mod common;

use std::time::Duration;

use ctvisma_core::posting::EventKind;
use ctvisma_core::{Classify, ErrorClass};
use ctvisma_fake_visma::{DocKind, FakeConfig, FakeVisma, Fault};
use ctvisma_visma::vismanet::Vismanet;
use ctvisma_visma::{has_effect, Deadline, LedgerTarget, VismaError};

fn connect(fake: &FakeVisma) -> Vismanet {
    Vismanet::new(common::http(), &fake.vismanet_config())
}

#[tokio::test]
async fn sample_postings_become_released_journal_transactions_found_by_reference() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake);
    let postings: Vec<_> = common::se_postings().into_iter().filter(has_effect).collect();
    for p in &postings {
        let (posted, existed) = vn
            .post_once(p, Deadline::none())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", p.idempotency_key));
        assert!(!existed);
        let found = vn.find(p, Deadline::none()).await.unwrap().expect("found by reference");
        assert_eq!(found.id, posted.id);
        assert_eq!(found.total, ctvisma_visma::debit_total(p), "{}", p.idempotency_key);
    }
    assert!(
        fake.validation_failures().is_empty(),
        "{:?}",
        fake.validation_failures()
    );
    let journals = fake.documents(DocKind::VismaNetJournalTransaction);
    assert_eq!(journals.len(), postings.len());
    assert!(
        journals.iter().all(|j| j["status"] == "Posted"),
        "every one released to the ledger"
    );
    // Posting every one again changes nothing.
    for p in &postings {
        assert!(vn.post_once(p, Deadline::none()).await.unwrap().1);
    }
    assert_eq!(
        fake.documents(DocKind::VismaNetJournalTransaction).len(),
        postings.len()
    );
    // The budget headers are read: each request used one unit of the hourly budget.
    let budget = vn.budget();
    assert_eq!(budget.limit, Some(u64::from(fake.config().vismanet_hourly_limit)));
    assert_eq!(budget.remaining, Some(u64::from(fake.vismanet_rate_remaining())));
}

#[tokio::test]
async fn a_spent_hourly_budget_is_transient_and_a_429_is_waited_out() {
    let config = FakeConfig {
        vismanet_hourly_limit: 3,
        ..FakeConfig::default()
    };
    let fake = FakeVisma::with_config(config).await;
    let vn = connect(&fake);
    let invoice = common::first(EventKind::Invoice);
    // find (1) + post (2) + release (3): the budget is spent.
    vn.post_once(&invoice, Deadline::none()).await.unwrap();
    assert_eq!(vn.budget().remaining, Some(0));
    let e = vn
        .post_once(
            &common::first(EventKind::Capture),
            Deadline::in_(Duration::from_secs(10)),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, VismaError::RateLimited { .. }), "{e}");
    assert_eq!(e.class(), ErrorClass::Transient);

    let fake = FakeVisma::start().await;
    let vn = connect(&fake);
    fake.inject_on(
        "/vismanet/v2/journaltransaction",
        Fault::RateLimited { retry_after_secs: 1 },
        1,
    );
    vn.post_once(&invoice, Deadline::none()).await.unwrap();
    assert_eq!(fake.documents(DocKind::VismaNetJournalTransaction).len(), 1);
}

#[tokio::test]
async fn expired_tokens_are_renewed_and_lost_answers_are_reconciled() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake);
    let invoice = common::first(EventKind::Invoice);
    vn.post_once(&invoice, Deadline::none()).await.unwrap();
    assert_eq!(fake.vismanet_token_grants(), 1);
    fake.advance(Duration::from_secs(3700));
    let capture = common::first(EventKind::Capture);
    fake.inject_on("/vismanet/v2/journaltransaction", Fault::PostThenFail, 1);
    let (_, existed) = vn.post_once(&capture, Deadline::none()).await.unwrap();
    assert!(!existed);
    assert_eq!(fake.vismanet_token_grants(), 2, "a new token after expiry");
    assert_eq!(
        fake.documents(DocKind::VismaNetJournalTransaction).len(),
        2,
        "no duplicate after the lost answer"
    );
}

#[tokio::test]
async fn a_closed_period_is_a_permanent_refusal() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake);
    fake.inject_on("/vismanet/v2/journaltransaction", Fault::LockedPeriod, 1);
    let e = vn
        .post(&common::first(EventKind::Invoice), Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(e, VismaError::Refused { .. }), "{e}");
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(fake.documents(DocKind::VismaNetJournalTransaction).is_empty());
}
