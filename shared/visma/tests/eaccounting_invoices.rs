//! eAccounting invoice documents (`documents = "invoices" | "drafts"`) against the fake Visma,
//! which validates every body against the official spec and computes VAT per row as eAccounting
//! does: invoices and credit invoices made out to the order's customer, articles per SKU and
//! per (account, rate), totals checked before anything is booked, lookups by reference, lost
//! answers, 429s and refusals.

mod common;

use std::sync::Arc;

use ctvisma_core::customer::CustomerData;
use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::posting::EventKind;
use ctvisma_core::{Classify, ErrorClass, Posting, Role, Rules};
use ctvisma_fake_visma::{DocKind, FakeConfig, FakeVisma, Fault};
use ctvisma_visma::eaccounting::Eaccounting;
use ctvisma_visma::token_store::MemoryTokenStore;
use ctvisma_visma::{Deadline, LedgerTarget, VismaError};
use rust_decimal::Decimal;

/// The example rules with SE making invoices (or drafts); discounts netted into revenue, since
/// a standard eAccounting company has no article coding for a discount account.
fn rules(documents: &str) -> Rules {
    let text = std::fs::read_to_string(common::repo("config/rules.toml")).unwrap();
    let text = text.replacen(
        "discounts = \"separate\"",
        &format!("discounts = \"net\"\ndocuments = \"{documents}\""),
        1,
    );
    Rules::from_toml(&text).unwrap()
}

/// The postings of sample orders, each with its order's customer.
fn postings(rules: &Rules, orders: &[&str]) -> Vec<(Posting, CustomerData)> {
    let mut book = Book::default();
    for name in orders {
        let text = std::fs::read_to_string(common::repo("tests/data/orders").join(name)).unwrap();
        for found in documents_from_str(&text) {
            book.add(found.document.unwrap(), Source::default()).unwrap();
        }
    }
    book.postings(rules, None)
        .into_iter()
        .flat_map(|(_, r)| r.unwrap())
        .map(|p| {
            let order = book.order(p.order_id.as_deref().unwrap()).unwrap();
            let customer = CustomerData::from_order(order);
            (p, customer)
        })
        .collect()
}

async fn connect_with(fake: &FakeVisma, rules: &Rules) -> Result<Eaccounting, VismaError> {
    let config = fake.eaccounting_config();
    let store = Arc::new(MemoryTokenStore::default());
    Eaccounting::connect(
        common::http(),
        &config,
        store,
        "SE",
        &rules.entities["SE"],
        Deadline::none(),
    )
    .await
}

fn of(postings: &[(Posting, CustomerData)], kind: EventKind) -> (Posting, CustomerData) {
    postings.iter().find(|(p, _)| p.event == kind).cloned().unwrap()
}

fn amount(v: &serde_json::Value) -> Decimal {
    v.as_f64().map(|f| Decimal::try_from(f).unwrap().round_dp(2)).unwrap()
}

#[tokio::test]
async fn an_order_becomes_one_invoice_to_its_customer_with_the_orders_totals() {
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let all = postings(&rules, &["se-sek-mixed-rates.json"]);
    let (invoice, customer) = of(&all, EventKind::Invoice);

    let (posted, existed) = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap();
    assert!(!existed);
    assert_eq!(posted.total, invoice.total(Role::Receivable));
    let invoices = fake.documents(DocKind::CustomerInvoice);
    assert_eq!(invoices.len(), 1);
    let doc = &invoices[0];
    assert_eq!(posted.number, Some(doc["InvoiceNumber"].to_string()));
    assert_eq!(amount(&doc["TotalAmount"]), invoice.total(Role::Receivable));
    assert_eq!(amount(&doc["TotalVatAmount"]), -invoice.total(Role::Vat));
    assert_eq!(doc["BuyersOrderReference"], invoice.external_ref.as_str());
    assert!(doc["OurReference"]
        .as_str()
        .unwrap()
        .contains(&invoice.idempotency_key.to_string()));
    // One article per SKU, each with the coding of its line's account and rate.
    let skus: Vec<&str> = invoice.lines.iter().filter_map(|l| l.sku.as_deref()).collect();
    let articles = fake.documents(DocKind::Article);
    for sku in &skus {
        assert!(articles.iter().any(|a| a["Number"] == *sku), "article for {sku}");
    }
    assert!(
        fake.documents(DocKind::CustomerInvoiceDraft).is_empty(),
        "the draft was converted"
    );
    assert!(
        fake.validation_failures().is_empty(),
        "{:?}",
        fake.validation_failures()
    );

    // Again (a duplicate delivery, a redrive): found by reference, nothing new.
    let (again, existed) = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap();
    assert!(existed);
    assert_eq!(again, posted);
    assert_eq!(ea.find(&invoice, Deadline::none()).await.unwrap(), Some(posted));
    assert_eq!(fake.documents(DocKind::CustomerInvoice).len(), 1);
    assert_eq!(fake.documents(DocKind::Customer).len(), 1);
}

#[tokio::test]
async fn the_same_guest_gets_one_customer_and_articles_are_reused() {
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let all = postings(&rules, &["se-sek-mixed-rates.json", "se-sek-external-tax.json"]);
    let invoices: Vec<_> = all.iter().filter(|(p, _)| p.event == EventKind::Invoice).collect();
    assert_eq!(invoices.len(), 2);
    for (p, c) in &invoices {
        ea.post_once_for(p, Some(c), Deadline::none()).await.unwrap();
    }
    assert_eq!(fake.documents(DocKind::CustomerInvoice).len(), 2);
    // Both orders were placed with the same e-mail address: found by it, not created twice.
    assert_eq!(fake.documents(DocKind::Customer).len(), 1);
    let articles = fake.documents(DocKind::Article);
    let mut numbers: Vec<&str> = articles.iter().map(|a| a["Number"].as_str().unwrap()).collect();
    numbers.sort();
    let before = numbers.len();
    numbers.dedup();
    assert_eq!(numbers.len(), before, "no article created twice");
    assert!(numbers.iter().any(|n| n.starts_with("SHIPPING-3520-")), "{numbers:?}");
}

#[tokio::test]
async fn a_return_becomes_a_credit_invoice_naming_the_invoice_it_credits() {
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let all = postings(&rules, &["se-sek-returns.json"]);
    let (invoice, customer) = of(&all, EventKind::Invoice);
    let (credit, _) = of(&all, EventKind::CreditNote);

    // Out of order: the credit note before its invoice waits (transient), posting nothing.
    let err = ea
        .post_once_for(&credit, Some(&customer), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Transient, "{err}");
    assert!(err.to_string().contains("not in eAccounting yet"), "{err}");
    assert!(fake.documents(DocKind::CustomerInvoice).is_empty());
    assert!(fake.documents(DocKind::CustomerInvoiceDraft).is_empty());

    let (inv, _) = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap();
    let (posted, _) = ea
        .post_once_for(&credit, Some(&customer), Deadline::none())
        .await
        .unwrap();
    let docs = fake.documents(DocKind::CustomerInvoice);
    let credit_doc = docs.iter().find(|d| d["IsCreditInvoice"] == true).unwrap();
    assert_eq!(
        credit_doc["YourReference"],
        format!("Credit of invoice {}", inv.number.clone().unwrap()).as_str()
    );
    assert_eq!(credit_doc["Rows"][0]["IsTextRow"], true);
    // Negative in eAccounting, exactly the credit note's receivable.
    assert_eq!(amount(&credit_doc["TotalAmount"]), credit.total(Role::Receivable));
    assert_eq!(amount(&credit_doc["TotalVatAmount"]), -credit.total(Role::Vat));
    assert_eq!(posted.total, credit.total(Role::Receivable).abs());
    // Captures and refunds stay vouchers in invoice mode.
    let capture = common::first(EventKind::Capture);
    ea.post_once_for(&capture, None, Deadline::none()).await.unwrap();
    assert_eq!(fake.documents(DocKind::Voucher).len(), 1);
}

#[tokio::test]
async fn drafts_mode_leaves_drafts_for_finance_and_finds_them_again() {
    let fake = FakeVisma::start().await;
    let rules = rules("drafts");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let (invoice, customer) = of(&postings(&rules, &["se-sek-mixed-rates.json"]), EventKind::Invoice);
    let (posted, existed) = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap();
    assert!(!existed);
    assert!(posted.number.as_deref().unwrap().starts_with("draft "), "{posted:?}");
    assert_eq!(fake.documents(DocKind::CustomerInvoiceDraft).len(), 1);
    assert!(fake.documents(DocKind::CustomerInvoice).is_empty());
    let (_, existed) = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap();
    assert!(existed);
    assert_eq!(fake.documents(DocKind::CustomerInvoiceDraft).len(), 1);
}

#[tokio::test]
async fn totals_that_differ_by_one_ore_leave_the_draft_unbooked_with_both_figures() {
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let (mut invoice, customer) = of(&postings(&rules, &["se-sek-mixed-rates.json"]), EventKind::Invoice);
    // As if commercetools had computed one öre more VAT than per-row rounding gives.
    let cent = Decimal::new(1, 2);
    let vat = invoice.lines.iter().position(|l| l.role == Role::Vat).unwrap();
    invoice.lines[vat].amount -= cent;
    let receivable = invoice.lines.iter().position(|l| l.role == Role::Receivable).unwrap();
    invoice.lines[receivable].amount += cent;
    let err = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(err.code(), "refused:totals_differ");
    assert!(err.to_string().contains("left for review"), "{err}");
    assert!(fake.documents(DocKind::CustomerInvoice).is_empty(), "nothing booked");
    assert_eq!(fake.documents(DocKind::CustomerInvoiceDraft).len(), 1);
    // A redrive neither books nor duplicates it.
    assert!(ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .is_err());
    assert_eq!(fake.documents(DocKind::CustomerInvoiceDraft).len(), 1);
}

#[tokio::test]
async fn a_lost_answer_on_the_draft_or_a_429_still_books_exactly_one_invoice() {
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let all = postings(&rules, &["se-sek-mixed-rates.json", "se-sek-split-shipment.json"]);
    let invoices: Vec<_> = all.into_iter().filter(|(p, _)| p.event == EventKind::Invoice).collect();

    fake.inject_on("/v2/customerinvoicedrafts", Fault::PostThenFail, 1);
    let (p, c) = &invoices[0];
    ea.post_once_for(p, Some(c), Deadline::none()).await.unwrap();
    assert_eq!(fake.documents(DocKind::CustomerInvoice).len(), 1);

    fake.inject_on(
        "/v2/customerinvoicedrafts",
        Fault::RateLimited { retry_after_secs: 1 },
        1,
    );
    fake.inject_on("/v2/customerinvoices", Fault::ExpireToken, 1);
    let (p, c) = &invoices[1];
    ea.post_once_for(p, Some(c), Deadline::none()).await.unwrap();
    assert_eq!(fake.documents(DocKind::CustomerInvoice).len(), 2);
    assert!(fake.documents(DocKind::CustomerInvoiceDraft).is_empty());
}

#[tokio::test]
async fn refusals_are_permanent_and_say_what_to_fix() {
    // A discount account no article coding books: refused before anything is written.
    let fake = FakeVisma::start().await;
    let text = std::fs::read_to_string(common::repo("config/rules.toml"))
        .unwrap()
        .replacen("discounts = \"separate\"", "documents = \"invoices\"", 1);
    let separate = Rules::from_toml(&text).unwrap();
    let ea = connect_with(&fake, &separate).await.unwrap();
    let with_discount = postings(&separate, &["se-sek-mixed-rates.json"])
        .into_iter()
        .find(|(p, _)| p.event == EventKind::Invoice && p.total(Role::Discount) != Decimal::ZERO)
        .expect("a discounted sample order");
    let err = ea
        .post_once_for(&with_discount.0, Some(&with_discount.1), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("books account 3730"), "{err}");
    assert!(fake.documents(DocKind::CustomerInvoiceDraft).is_empty());

    // Without the order's customer there is nobody to invoice.
    let fake = FakeVisma::start().await;
    let rules = rules("invoices");
    let ea = connect_with(&fake, &rules).await.unwrap();
    let (invoice, customer) = of(&postings(&rules, &["se-sek-mixed-rates.json"]), EventKind::Invoice);
    let err = ea.post_once_for(&invoice, None, Deadline::none()).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(err.to_string().contains("customer"), "{err}");

    // A locked period: refused before the customer or any article is written.
    let locked = FakeVisma::with_config(FakeConfig {
        lock_date: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
        ..FakeConfig::default()
    })
    .await;
    let ea = connect_with(&locked, &rules).await.unwrap();
    let err = ea
        .post_once_for(&invoice, Some(&customer), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "refused:4026");
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert!(locked.documents(DocKind::Customer).is_empty());
    assert!(locked.documents(DocKind::Article).is_empty());
}

#[tokio::test]
async fn rules_naming_revenue_no_article_coding_books_are_refused_at_connect() {
    let fake = FakeVisma::start().await;
    let text = std::fs::read_to_string(common::repo("config/rules.toml"))
        .unwrap()
        .replacen("discounts = \"separate\"", "documents = \"invoices\"", 1)
        .replacen("revenue_account = \"3002\"", "revenue_account = \"3041\"", 1);
    let rules = Rules::from_toml(&text).unwrap();
    let Err(VismaError::Setup { missing, .. }) = connect_with(&fake, &rules).await else {
        panic!("connect must refuse");
    };
    assert!(
        missing.iter().any(|m| m.contains("revenue_account = 3041 at 12 %")),
        "{missing:?}"
    );
}
