//! Documents built from the public commercetools fixture orders (not our own samples) pass the
//! official schemas: an eAccounting voucher (in the entity's base currency, with the exchange
//! rate applied) and a Visma.net journal transaction (value-wrapped, in the order currency).

mod common;

use std::collections::BTreeMap;

use ctvisma_core::base_currency::in_base_currency;
use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::posting::EventKind;
use ctvisma_core::rates::RateTable;
use ctvisma_core::rules::AccountCode;
use ctvisma_core::Posting;
use ctvisma_fake_visma::{validate, Api};
use ctvisma_visma::eaccounting::company::Company;
use ctvisma_visma::eaccounting::voucher::voucher;
use ctvisma_visma::vismanet::journal::journal;

/// The USD fixture order with a return: invoiced by the Swedish company, so foreign currency.
const FIXTURE: &str = "order-platform-tax-usd-return-info-discount-code-paid-shipped.json";

fn fixture_postings() -> Vec<Posting> {
    let path = common::repo("../shared/fixtures/commercetools/resources").join(FIXTURE);
    let mut book = Book::default();
    for found in documents_from_str(&std::fs::read_to_string(path).unwrap()) {
        book.add(found.document.unwrap(), Source::default()).unwrap();
    }
    let rates = RateTable::from_ecb_csv(&std::fs::read_to_string(common::repo("config/ecb-rates-sample.csv")).unwrap())
        .unwrap();
    book.postings(&common::rules(), Some(&rates))
        .into_iter()
        .flat_map(|(_, r)| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn a_fixture_order_gives_schema_valid_vouchers_and_journal_transactions() {
    let postings = fixture_postings();
    let invoice = postings
        .iter()
        .find(|p| p.event == EventKind::Invoice)
        .expect("an invoice");
    assert_eq!((invoice.entity.as_str(), invoice.currency.as_str()), ("SE", "USD"));
    for p in &postings {
        let sek = in_base_currency(p, "SEK", &AccountCode("3740".into())).unwrap();
        assert_eq!(sek.balance(), rust_decimal::Decimal::ZERO);
        let company = Company {
            currency: Some("SEK".into()),
            locked_to: None,
            accounts: sek.lines.iter().map(|l| l.account.0.parse().unwrap()).collect(),
            vat_codes: sek
                .lines
                .iter()
                .filter_map(|l| l.vat_code.clone())
                .map(|c| (c, "00007a70-0000-4000-8000-000000000001".to_string()))
                .collect::<BTreeMap<_, _>>(),
        };
        let body = serde_json::from_str(&serde_json::to_string(&voucher(&sek, &company).unwrap()).unwrap()).unwrap();
        let errors = validate(Api::EAccounting, "VoucherApi", &body).unwrap();
        assert!(errors.is_empty(), "{}: {errors:?}", p.idempotency_key);

        let body = serde_json::from_str(&serde_json::to_string(&journal(p)).unwrap()).unwrap();
        let errors = validate(Api::VismaNet, "JournalTransactionUpdateDto", &body).unwrap();
        assert!(errors.is_empty(), "{}: {errors:?}", p.idempotency_key);
    }
}

#[test]
fn a_fixture_orders_invoice_and_credit_note_give_schema_valid_invoice_drafts() {
    use ctvisma_visma::eaccounting::company::{Coding, Invoicing};
    use ctvisma_visma::eaccounting::invoice::{draft_body, plan_rows, Credited};

    let postings = fixture_postings();
    let documents: Vec<&Posting> = postings
        .iter()
        .filter(|p| matches!(p.event, EventKind::Invoice | EventKind::CreditNote))
        .collect();
    assert!(documents.iter().any(|p| p.event == EventKind::Invoice));
    for p in documents {
        let sek = in_base_currency(p, "SEK", &AccountCode("3740".into())).unwrap();
        // A company whose codings book every (account, rate) the posting uses.
        let codings = sek
            .lines
            .iter()
            .filter(|l| l.vat_rate.is_some() && l.role != ctvisma_core::Role::Vat)
            .enumerate()
            .map(|(i, l)| Coding {
                id: format!("00007a70-0000-4000-8000-{:012}", i + 1),
                name: format!("coding {i}"),
                vat_percent: l.vat_rate.as_deref().unwrap().parse().unwrap(),
                domestic_account: Some(l.account.0.parse().unwrap()),
                zero_rated_accounts: Vec::new(),
            })
            .collect();
        let invoicing = Invoicing {
            codings,
            unit_id: "00007a70-0000-4000-8000-0000000000aa".into(),
        };
        let rows: Vec<_> = plan_rows(&sek, &invoicing)
            .unwrap()
            .into_iter()
            .map(|r| (r, "00007a70-0000-4000-8000-0000000000bb".to_string()))
            .collect();
        let credited = Credited {
            number: "1001".into(),
            reference: "invoice 1 [invoice:x]".into(),
        };
        let credited = (p.event == EventKind::CreditNote).then_some(&credited);
        let body = draft_body(&sek, "00007a70-0000-4000-8000-0000000000cc", &rows, credited);
        let errors = validate(Api::EAccounting, "CustomerInvoiceDraftApi", &body).unwrap();
        assert!(errors.is_empty(), "{}: {errors:?}", p.idempotency_key);
        assert_eq!(body["IsCreditInvoice"], p.event == EventKind::CreditNote);
    }
}
