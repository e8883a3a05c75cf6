//! eAccounting customers against the fake Visma (which validates every body against the spec):
//! create, unchanged, update of only what changed, lookup by e-mail, B2B, refusals without a
//! request, and no personal data in `Debug`.

mod common;

use ctvisma_core::{Classify, ErrorClass};
use ctvisma_fake_visma::{DocKind, FakeVisma};
use ctvisma_visma::eaccounting::customer::{upsert_customer, CustomerAction, CustomerData};
use ctvisma_visma::eaccounting::Eaccounting;
use ctvisma_visma::Deadline;

async fn connected(fake: &FakeVisma) -> Eaccounting {
    let rules = common::rules();
    fake.connect_eaccounting(common::http(), "SE", &rules.entities["SE"])
        .await
        .unwrap()
}

fn anna() -> CustomerData {
    CustomerData {
        customer_number: Some("C-1001".into()),
        email: Some("anna.svensson@example.com".into()),
        name: "Anna Svensson".into(),
        address1: Some("Storgatan 1".into()),
        postal_code: Some("111 22".into()),
        city: Some("Stockholm".into()),
        country_code: Some("SE".into()),
        phone: Some("+46701234567".into()),
        currency: Some("SEK".into()),
        ..CustomerData::default()
    }
}

/// Requests that write (POST or PUT) to `/v2/customers…`, as (method, path).
fn writes(fake: &FakeVisma) -> Vec<(String, String)> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v2/customers") && (r.method == "POST" || r.method == "PUT"))
        .map(|r| (r.method, r.path))
        .collect()
}

fn assert_valid(fake: &FakeVisma) {
    assert!(
        fake.validation_failures().is_empty(),
        "{:?}",
        fake.validation_failures()
    );
}

#[tokio::test]
async fn create_then_unchanged_then_only_the_changed_field_is_put() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;

    let created = upsert_customer(&ea, &anna(), Deadline::none()).await.unwrap();
    assert_eq!(created.action, CustomerAction::Created);
    assert_valid(&fake);
    let docs = fake.documents(DocKind::Customer);
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["Id"], created.id.as_str());
    assert_eq!(doc["CustomerNumber"], "C-1001");
    assert_eq!(doc["Name"], "Anna Svensson");
    assert_eq!(doc["IsPrivatePerson"], true);
    assert_eq!(doc["IsActive"], true);
    assert_eq!(doc["InvoicePostalCode"], "111 22");
    assert!(doc["TermsOfPaymentId"].as_str().is_some_and(|t| !t.is_empty()));

    // The same data again: found by number, nothing written.
    let before = writes(&fake).len();
    let again = upsert_customer(&ea, &anna(), Deadline::none()).await.unwrap();
    assert_eq!(again.id, created.id);
    assert_eq!(again.action, CustomerAction::Unchanged);
    assert_eq!(writes(&fake).len(), before, "no POST or PUT for unchanged data");

    // A new city: one PUT, naming only that field; the rest of the customer is kept.
    let moved = CustomerData {
        city: Some("Göteborg".into()),
        ..anna()
    };
    let updated = upsert_customer(&ea, &moved, Deadline::none()).await.unwrap();
    assert_eq!(updated.id, created.id);
    assert_eq!(updated.action, CustomerAction::Updated(vec!["InvoiceCity".into()]));
    let w = writes(&fake);
    assert_eq!(w.len(), before + 1);
    assert_eq!(w[before], ("PUT".to_string(), format!("/v2/customers/{}", created.id)));
    assert_valid(&fake);
    let docs = fake.documents(DocKind::Customer);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["InvoiceCity"], "Göteborg");
    assert_eq!(docs[0]["Telephone"], "+46701234567");
    assert_eq!(docs[0]["CustomerNumber"], "C-1001");

    // And unchanged again after the update.
    let settled = upsert_customer(&ea, &moved, Deadline::none()).await.unwrap();
    assert_eq!(settled.action, CustomerAction::Unchanged);
}

#[tokio::test]
async fn guests_without_a_number_are_found_by_email() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let guest = CustomerData {
        customer_number: None,
        email: Some("guest@example.com".into()),
        name: "Gustav Gäst".into(),
        postal_code: Some("222 33".into()),
        city: Some("Lund".into()),
        ..CustomerData::default()
    };
    let created = upsert_customer(&ea, &guest, Deadline::none()).await.unwrap();
    assert_eq!(created.action, CustomerAction::Created);
    assert_valid(&fake);
    let docs = fake.documents(DocKind::Customer);
    assert_eq!(docs.len(), 1);
    assert!(
        docs[0]["CustomerNumber"].as_str().is_some_and(|n| !n.is_empty()),
        "Visma numbers guests"
    );

    let again = upsert_customer(&ea, &guest, Deadline::none()).await.unwrap();
    assert_eq!(again.id, created.id);
    assert_eq!(again.action, CustomerAction::Unchanged);

    // A number unknown to Visma falls back to the e-mail address.
    let registered = CustomerData {
        customer_number: Some("C-2002".into()),
        phone: Some("040123456".into()),
        ..guest.clone()
    };
    let found = upsert_customer(&ea, &registered, Deadline::none()).await.unwrap();
    assert_eq!(found.id, created.id);
    assert_eq!(found.action, CustomerAction::Updated(vec!["Telephone".into()]));
    assert_eq!(fake.documents(DocKind::Customer).len(), 1);
    assert_valid(&fake);
}

#[tokio::test]
async fn business_customers_carry_company_name_and_vat_number() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let b2b = CustomerData {
        customer_number: Some("B-77".into()),
        company: Some("Exempel AB".into()),
        vat_number: Some("SE556677889901".into()),
        corporate_id: Some("556677-8899".into()),
        ..anna()
    };
    let created = upsert_customer(&ea, &b2b, Deadline::none()).await.unwrap();
    assert_eq!(created.action, CustomerAction::Created);
    assert_valid(&fake);
    let doc = &fake.documents(DocKind::Customer)[0];
    assert_eq!(doc["Name"], "Exempel AB");
    assert_eq!(doc["IsPrivatePerson"], false);
    assert_eq!(doc["VatNumber"], "SE556677889901");
    assert_eq!(doc["CorporateIdentityNumber"], "556677-8899");
    assert_eq!(doc["ContactPersonName"], "Anna Svensson");
    assert_eq!(doc["InvoiceCountryCode"], "SE");
    let again = upsert_customer(&ea, &b2b, Deadline::none()).await.unwrap();
    assert_eq!(again.action, CustomerAction::Unchanged);
}

#[tokio::test]
async fn a_missing_postal_code_is_refused_without_a_request() {
    let fake = FakeVisma::start().await;
    let ea = connected(&fake).await;
    let before = fake.requests().len();
    let no_postal = CustomerData {
        postal_code: None,
        ..anna()
    };
    let e = upsert_customer(&ea, &no_postal, Deadline::none()).await.unwrap_err();
    assert_eq!(e.code(), "refused:2000");
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert!(e.to_string().contains("InvoicePostalCode"), "{e}");
    assert!(!e.to_string().contains("Anna"), "{e}");
    assert_eq!(fake.requests().len(), before, "no request for an invalid customer");
    assert!(fake.documents(DocKind::Customer).is_empty());
}

#[test]
fn debug_shows_no_personal_data() {
    let b2b = CustomerData {
        company: Some("Exempel AB".into()),
        vat_number: Some("SE556677889901".into()),
        ..anna()
    };
    let text = format!("{b2b:?} {:#?}", anna());
    assert!(text.contains("C-1001"), "{text}");
    for secret in [
        "Anna",
        "Svensson",
        "anna.svensson",
        "example.com",
        "Storgatan",
        "111 22",
        "Stockholm",
        "+4670",
        "Exempel",
        "SE556677889901",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}
