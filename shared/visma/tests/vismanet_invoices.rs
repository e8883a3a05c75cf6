//! The Visma.net invoice route against the fake: customer invoices and credit notes made out to
//! a found-or-created customer, looked up by our reference, released or left on hold, with the
//! same 429 / token / lost-answer behaviour as journals, and VAT checked against the posting.

mod common;

use std::time::Duration;

use ctvisma_core::customer::CustomerData;
use ctvisma_core::posting::EventKind;
use ctvisma_core::rules::Documents;
use ctvisma_core::{Classify, ErrorClass, Posting, Role};
use ctvisma_fake_visma::{validate, Api, DocKind, FakeVisma, Fault};
use ctvisma_visma::vismanet::customer::customer_body;
use ctvisma_visma::vismanet::invoice::{document, ArKind};
use ctvisma_visma::vismanet::Vismanet;
use ctvisma_visma::{Deadline, LedgerTarget, VismaError};

fn connect(fake: &FakeVisma, documents: Documents) -> Vismanet {
    Vismanet::new(common::http(), &fake.vismanet_config()).with_documents(documents)
}

fn anna() -> CustomerData {
    CustomerData {
        email: Some("anna@example.com".into()),
        name: "Anna Svensson".into(),
        city: Some("Stockholm".into()),
        country_code: Some("SE".into()),
        currency: Some("SEK".into()),
        ..CustomerData::default()
    }
}

fn invoices() -> Vec<Posting> {
    common::se_postings()
        .into_iter()
        .filter(|p| p.event == EventKind::Invoice && ctvisma_visma::has_effect(p))
        .collect()
}

/// A credit note and the invoice it reverses.
fn credit_and_invoice() -> (Posting, Posting) {
    let all = common::se_postings();
    let credit = all
        .iter()
        .find(|p| p.event == EventKind::CreditNote && p.refers_to.is_some())
        .expect("a credit note")
        .clone();
    let invoice = all
        .iter()
        .find(|p| Some(&p.idempotency_key) == credit.refers_to.as_ref())
        .expect("its invoice")
        .clone();
    (credit, invoice)
}

fn no_failures(fake: &FakeVisma) {
    assert!(
        fake.validation_failures().is_empty(),
        "{:?}",
        fake.validation_failures()
    );
}

#[tokio::test]
async fn invoices_go_to_one_customer_and_are_found_by_reference() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Invoices);
    let all = invoices();
    let (first, second) = (&all[0], &all[1]);
    let (posted, existed) = vn.post_once_for(first, Some(&anna()), Deadline::none()).await.unwrap();
    assert!(!existed);
    assert_eq!(fake.documents(DocKind::VismaNetCustomer).len(), 2, "seeded + created");
    vn.post_once_for(second, Some(&anna()), Deadline::none()).await.unwrap();
    assert_eq!(fake.documents(DocKind::VismaNetCustomer).len(), 2, "found by e-mail");
    let (again, existed) = vn.post_once_for(first, Some(&anna()), Deadline::none()).await.unwrap();
    assert!(existed);
    assert_eq!(again.id, posted.id);
    assert_eq!(again.total, first.total(Role::Receivable).abs());
    let docs = fake.documents(DocKind::VismaNetCustomerInvoice);
    assert_eq!(docs.len(), 2, "no duplicate");
    assert!(docs.iter().all(|d| d["status"] == "Open"), "released");
    assert!(fake.documents(DocKind::VismaNetJournalTransaction).is_empty());
    // Payments stay journal transactions.
    vn.post_once_for(&common::first(EventKind::Capture), Some(&anna()), Deadline::none())
        .await
        .unwrap();
    assert_eq!(fake.documents(DocKind::VismaNetJournalTransaction).len(), 1);
    no_failures(&fake);
}

#[tokio::test]
async fn credit_notes_name_their_invoice_and_drafts_stay_on_hold() {
    let (credit, invoice) = credit_and_invoice();
    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Invoices);
    let (inv, _) = vn
        .post_once_for(&invoice, Some(&anna()), Deadline::none())
        .await
        .unwrap();
    let (cn, _) = vn
        .post_once_for(&credit, Some(&anna()), Deadline::none())
        .await
        .unwrap();
    let notes = fake.documents(DocKind::VismaNetCreditNote);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["referenceNumber"], cn.id.as_str());
    assert_eq!(notes[0]["status"], "Open");
    let text = notes[0]["invoiceText"].as_str().unwrap_or_default();
    assert!(text.contains(&inv.id), "{text}");
    assert!(vn.find(&credit, Deadline::none()).await.unwrap().is_some());

    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Drafts);
    vn.post_once_for(&invoice, Some(&anna()), Deadline::none())
        .await
        .unwrap();
    vn.post_once_for(&credit, Some(&anna()), Deadline::none())
        .await
        .unwrap();
    assert_eq!(fake.documents(DocKind::VismaNetCustomerInvoice)[0]["status"], "Hold");
    assert_eq!(fake.documents(DocKind::VismaNetCreditNote)[0]["status"], "Hold");
    no_failures(&fake);
}

#[tokio::test]
async fn rate_limits_tokens_and_lost_answers_on_the_invoice_route() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Invoices);
    let all = invoices();
    fake.inject_on(
        "/vismanet/v2/customerinvoice",
        Fault::RateLimited { retry_after_secs: 1 },
        1,
    );
    vn.post_once_for(&all[0], Some(&anna()), Deadline::none())
        .await
        .unwrap();
    assert_eq!(fake.documents(DocKind::VismaNetCustomerInvoice).len(), 1);

    fake.advance(Duration::from_secs(3700));
    fake.inject_on("/vismanet/v2/customerinvoice", Fault::PostThenFail, 1);
    let (_, existed) = vn
        .post_once_for(&all[1], Some(&anna()), Deadline::none())
        .await
        .unwrap();
    assert!(!existed);
    assert_eq!(fake.vismanet_token_grants(), 2, "a new token after expiry");
    assert_eq!(
        fake.documents(DocKind::VismaNetCustomerInvoice).len(),
        2,
        "no duplicate"
    );
}

#[tokio::test]
async fn refusals_are_permanent() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Invoices);
    let mut invoice = invoices()[0].clone();
    // No customer: an invoice-route invoice cannot be written.
    let e = vn.post(&invoice, Deadline::none()).await.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Permanent, "{e}");
    let e = vn.post_once_for(&invoice, None, Deadline::none()).await.unwrap_err();
    assert!(matches!(e, VismaError::Unsupported { .. }), "{e}");

    fake.inject_on("/vismanet/v2/customerinvoice", Fault::LockedPeriod, 1);
    let e = vn
        .post_once_for(&invoice, Some(&anna()), Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(e, VismaError::Refused { .. }), "{e}");
    assert_eq!(e.class(), ErrorClass::Permanent);

    for l in invoice.lines.iter_mut().filter(|l| l.role == Role::Revenue) {
        l.vat_code = Some("NOPE".into());
    }
    let e = vn
        .post_once_for(&invoice, Some(&anna()), Deadline::none())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("NOPE"), "{e}");
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(fake.documents(DocKind::VismaNetCustomerInvoice).is_empty());
}

#[tokio::test]
async fn a_vat_difference_leaves_the_document_unreleased() {
    let fake = FakeVisma::start().await;
    let vn = connect(&fake, Documents::Invoices);
    let mut invoice = invoices()[0].clone();
    // Our rules say one cent more VAT than Visma.net computes from the VAT codes.
    let cent = rust_decimal::Decimal::new(1, 2);
    let vat = invoice.lines.iter_mut().find(|l| l.role == Role::Vat).unwrap();
    vat.amount -= cent;
    let receivable = invoice.lines.iter_mut().find(|l| l.role == Role::Receivable).unwrap();
    receivable.amount += cent;
    let e = vn
        .post_once_for(&invoice, Some(&anna()), Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, VismaError::Refused { code, .. } if code == "vat_mismatch"),
        "{e}"
    );
    assert_eq!(e.class(), ErrorClass::Permanent);
    let docs = fake.documents(DocKind::VismaNetCustomerInvoice);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["status"], "Balanced", "not released");
    assert!(
        e.to_string().contains(docs[0]["referenceNumber"].as_str().unwrap()),
        "{e}"
    );
    // A redrive finds it and posts nothing more.
    assert!(
        vn.post_once_for(&invoice, Some(&anna()), Deadline::none())
            .await
            .unwrap()
            .1
    );
}

#[test]
fn documents_from_a_fixture_order_pass_the_spec() {
    let (credit, invoice) = credit_and_invoice();
    for (p, kind, dto) in [
        (&invoice, ArKind::Invoice, "CustomerInvoiceUpdateDto"),
        (&credit, ArKind::CreditNote, "CustomerCreditNoteUpdateDto"),
    ] {
        let body = document(p, kind, "10000", false, Some("000001"));
        let errors = validate(Api::VismaNet, dto, &body).unwrap();
        assert!(errors.is_empty(), "{}: {errors:?}", p.idempotency_key);
    }
    let b2b = CustomerData {
        customer_number: Some("K-1001".into()),
        company: Some("Acme AB".into()),
        vat_number: Some("SE556677889901".into()),
        ..anna()
    };
    let errors = validate(Api::VismaNet, "CustomerUpdateDto", &customer_body(&b2b)).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
}
