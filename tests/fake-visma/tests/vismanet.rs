//! Visma.net side: value-wrapped bodies, numbering, release, reference search, rate limits.

mod common;

use std::time::Duration;

use common::*;
use ctvisma_fake_visma::{DocKind, FakeConfig, FakeVisma, Fault};
use serde_json::{json, Value};

async fn post(fake: &FakeVisma, token: &str, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", fake.vismanet_base_url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn token_needs_client_secret_and_tenant() {
    let fake = FakeVisma::start().await;
    let cfg = fake.config();
    let resp = client()
        .post(fake.vismanet_token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", cfg.vismanet_client_id.as_str()),
            ("client_secret", cfg.vismanet_client_secret.as_str()),
            ("tenant_id", "other"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let token = vn_token(&fake).await;
    assert_eq!(fake.vismanet_token_grants(), 1);
    let (status, _) = get(&fake, &token, "/vismanet/v1/customer").await;
    assert_eq!(status, 200);
    let ea = ea_token(&fake).await;
    let (status, _) = get(&fake, &ea, "/vismanet/v1/customer").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn journal_transaction_validates_stores_and_releases() {
    let fake = FakeVisma::start().await;
    let token = vn_token(&fake).await;
    let resp = post(
        &fake,
        &token,
        "/v2/journaltransaction",
        &journal("2024-03-15", "order-1001"),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("{}/v2/journaltransaction/000001", fake.vismanet_base_url())
    );
    assert_eq!(resp.text().await.unwrap(), "");

    let resp = client().get(&location).bearer_auth(&token).send().await.unwrap();
    let jt: Value = resp.json().await.unwrap();
    assert_eq!(jt["batchNumber"], "000001");
    assert_eq!(jt["status"], "Balanced");
    assert_eq!(jt["financialPeriod"], "202403");
    assert_eq!(jt["journalTransactionLines"][0]["accountNumber"], "1580");
    assert_eq!(jt["journalTransactionLines"][0]["referenceNumber"], "order-1001");
    assert_eq!(jt["debitTotal"], 125.0);

    // reference search for journal transactions: period list, then the line reference
    let (status, _) = get(&fake, &token, "/vismanet/v2/journaltransaction").await;
    assert_eq!(status, 400, "periodId is mandatory");
    let (_, list) = get(
        &fake,
        &token,
        "/vismanet/v2/journaltransaction?periodId=202403&releasedBatch=false",
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    let resp = post(
        &fake,
        &token,
        "/v2/journaltransaction/000001/action/release",
        &json!({}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let result: Value = resp.json().await.unwrap();
    assert_eq!(result["actionResult"], "Done");
    let docs = fake.documents(DocKind::VismaNetJournalTransaction);
    assert_eq!(docs[0]["status"], "Posted");
    let resp = post(
        &fake,
        &token,
        "/v2/journaltransaction/000001/action/release",
        &json!({}),
    )
    .await;
    assert_eq!(resp.status(), 400, "already released");

    // own batch number, then a duplicate
    let mut own = journal("2024-03-16", "order-1002");
    own["batchNumber"] = json!({"value": "WEB-1002"});
    own["overrideNumberSeries"] = json!({"value": true});
    assert_eq!(post(&fake, &token, "/v2/journaltransaction", &own).await.status(), 201);
    let (status, _) = get(&fake, &token, "/vismanet/v2/journaltransaction/WEB-1002").await;
    assert_eq!(status, 200);
    assert_eq!(post(&fake, &token, "/v2/journaltransaction", &own).await.status(), 400);

    // unbalanced: stored, but release refuses
    let mut unbalanced = journal("2024-03-17", "order-1003");
    unbalanced["journalTransactionLines"][0]["debitAmountInCurrency"] = json!({"value": 120.0});
    assert_eq!(
        post(&fake, &token, "/v2/journaltransaction", &unbalanced)
            .await
            .status(),
        201
    );
    let resp = post(
        &fake,
        &token,
        "/v2/journaltransaction/000002/action/release",
        &json!({}),
    )
    .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn wrong_shapes_are_refused() {
    let fake = FakeVisma::start().await;
    let token = vn_token(&fake).await;
    let mut unwrapped = journal("2024-03-15", "x");
    unwrapped["journalTransactionLines"][0]["accountNumber"] = json!("1580");
    let resp = post(&fake, &token, "/v2/journaltransaction", &unwrapped).await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert!(
        err["ExceptionMessage"]
            .as_str()
            .unwrap()
            .contains("journalTransactionLines[0].accountNumber"),
        "{err}"
    );
    for key in ["ExceptionType", "ExceptionFaultCode", "ExceptionMessageID"] {
        assert!(err[key].is_string(), "{key}: {err}");
    }
    assert_eq!(
        fake.last_validation_errors()[0].field,
        "journalTransactionLines[0].accountNumber"
    );

    let mut typo = journal("2024-03-15", "x");
    typo["journalTransactionLines"][0]["acountNumber"] = json!({"value": "1580"});
    assert_eq!(post(&fake, &token, "/v2/journaltransaction", &typo).await.status(), 400);
    let mut bad_op = journal("2024-03-15", "x");
    bad_op["journalTransactionLines"][0]["operation"] = json!("Add");
    assert_eq!(
        post(&fake, &token, "/v2/journaltransaction", &bad_op).await.status(),
        400
    );
    let mut unknown_account = journal("2024-03-15", "x");
    unknown_account["journalTransactionLines"][1]["accountNumber"] = json!({"value": "9999"});
    assert_eq!(
        post(&fake, &token, "/v2/journaltransaction", &unknown_account)
            .await
            .status(),
        400
    );
    assert!(fake.documents(DocKind::VismaNetJournalTransaction).is_empty());

    // nullable wrappers admit null
    let mut nullable = journal("2024-03-15", "x");
    nullable["hold"] = json!({"value": false});
    let resp = post(
        &fake,
        &token,
        "/v2/customerinvoice",
        &json!({
            "customerNumber": {"value": "10000"}, "sendToAutoInvoice": {"value": null}, "invoiceLines": []
        }),
    )
    .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        post(&fake, &token, "/v2/journaltransaction", &nullable).await.status(),
        201
    );
}

#[tokio::test]
async fn invoices_are_found_by_external_reference_and_released() {
    let fake = FakeVisma::start().await;
    let token = vn_token(&fake).await;
    let invoice = json!({
        "customerNumber": {"value": "10000"},
        "documentDate": {"value": "2024-03-15"},
        "externalReference": {"value": "order-1001"},
        "customerRefNumber": {"value": "order-1001"},
        "invoiceText": {"value": "Webshop order 1001"},
        "invoiceLines": [{
            "operation": "Insert", "description": {"value": "T-shirt"},
            "quantity": {"value": 2}, "unitPriceInCurrency": {"value": 100.0},
            "accountNumber": {"value": "3001"}, "vatCodeId": {"value": "MP1"}
        }]
    });
    let resp = post(&fake, &token, "/v2/customerinvoice", &invoice).await;
    assert_eq!(resp.status(), 201);
    assert!(resp.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/vismanet/v1/customerinvoice/000001"));
    let mut credit = invoice.clone();
    credit["externalReference"] = json!({"value": "refund-1001"});
    credit["lines"] = credit["invoiceLines"].take();
    credit.as_object_mut().unwrap().remove("invoiceLines");
    let resp = post(&fake, &token, "/v2/customerCreditNote", &credit).await;
    assert_eq!(resp.status(), 201);

    let (_, found) = get(
        &fake,
        &token,
        "/vismanet/v1/customerinvoice?externalReference=order-1001",
    )
    .await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["referenceNumber"], "000001");
    assert_eq!(found[0]["amount"], 250.0, "net 200 + 25 % VAT");
    assert_eq!(found[0]["vatTotal"], 50.0);
    assert_eq!(found[0]["customer"]["number"], "10000");
    let (_, none) = get(&fake, &token, "/vismanet/v1/customerinvoice?externalReference=order-9").await;
    assert_eq!(none, json!([]));
    let (_, notes) = get(
        &fake,
        &token,
        "/vismanet/v1/customerCreditNote?customerRefNumber=order-1001",
    )
    .await;
    assert_eq!(notes[0]["referenceNumber"], "000002");

    let resp = post(&fake, &token, "/v1/customerinvoice/000001/action/release", &json!({})).await;
    assert_eq!(resp.status(), 200);
    let (_, released) = get(&fake, &token, "/vismanet/v1/customerinvoice?released=1").await;
    assert_eq!(released.as_array().unwrap().len(), 1);
    assert_eq!(released[0]["status"], "Open");
    let resp = post(
        &fake,
        &token,
        "/v1/customerCreditNote/000002/action/release",
        &json!({}),
    )
    .await;
    assert_eq!(resp.status(), 200);

    // unknown customer
    let mut other = invoice.clone();
    other["customerNumber"] = json!({"value": "55555"});
    assert_eq!(post(&fake, &token, "/v2/customerinvoice", &other).await.status(), 400);
    // customers can be created and found
    let resp = post(
        &fake,
        &token,
        "/v1/customer",
        &json!({"name": {"value": "Acme AB"}, "corporateId": {"value": "556000-0000"}}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let (_, acme) = get(&fake, &token, "/vismanet/v1/customer?corporateId=556000-0000").await;
    assert_eq!(acme[0]["number"], "10001");
}

#[tokio::test]
async fn rate_limit_headers_decrement_and_429_at_zero() {
    let fake = FakeVisma::with_config(FakeConfig {
        vismanet_hourly_limit: 3,
        ..FakeConfig::default()
    })
    .await;
    let token = vn_token(&fake).await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let resp = client()
            .get(format!("{}/v1/customer", fake.vismanet_base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(resp.headers()["x-ratelimit-policy"], "4-fixed-window");
        let reset: u64 = resp.headers()["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > 3500 && reset <= 3600);
        remaining.push(resp.headers()["x-ratelimit-remaining"].to_str().unwrap().to_string());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let resp = client()
        .get(format!("{}/v1/customer", fake.vismanet_base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(fake.vismanet_rate_remaining(), 0);

    fake.advance(Duration::from_secs(3600));
    let token = vn_token(&fake).await; // the old one expired with the hour
    let (status, _) = get(&fake, &token, "/vismanet/v1/customer").await;
    assert_eq!(status, 200);

    fake.inject_on("/vismanet", Fault::RateLimited { retry_after_secs: 9 }, 1);
    let resp = client()
        .get(format!("{}/v1/customer", fake.vismanet_base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "9");
}

#[tokio::test]
async fn post_then_fail_on_vismanet_stores_the_invoice() {
    let fake = FakeVisma::start().await;
    let token = vn_token(&fake).await;
    fake.inject_on("/vismanet/v2/customerinvoice", Fault::PostThenFail, 1);
    let body =
        json!({"customerNumber": {"value": "10000"}, "externalReference": {"value": "order-5"}, "invoiceLines": []});
    assert_eq!(post(&fake, &token, "/v2/customerinvoice", &body).await.status(), 500);
    let (_, found) = get(&fake, &token, "/vismanet/v1/customerinvoice?externalReference=order-5").await;
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn lax_mode_accepts_unknown_fields_and_never_panics() {
    let fake = FakeVisma::with_config(FakeConfig {
        vismanet_reject_unknown_fields: false,
        ..FakeConfig::default()
    })
    .await;
    let token = vn_token(&fake).await;
    let mut extra = journal("2024-03-15", "x");
    extra["someFutureField"] = json!({"value": 1});
    assert_eq!(
        post(&fake, &token, "/v2/journaltransaction", &extra).await.status(),
        201
    );
    let odd_lines = json!({"journalTransactionLines": [{"value": 5}]});
    let not_object = json!({"value": [1, 2]});
    let odd_invoice = json!({"customerNumber": {"value": "10000"}, "invoiceLines": [{"value": "x"}]});
    for (path, body, expected) in [
        ("/v2/journaltransaction", &odd_lines, 400),
        ("/v2/journaltransaction", &not_object, 400),
        ("/v2/journaltransaction", &odd_invoice, 201),
        ("/v2/customerinvoice", &odd_lines, 400),
        ("/v2/customerinvoice", &not_object, 400),
        ("/v2/customerinvoice", &odd_invoice, 400),
        ("/v1/customer", &not_object, 400),
    ] {
        let status = post(&fake, &token, path, body).await.status();
        assert_eq!(status, expected, "{path} {body}");
    }
    let resp = client()
        .post(format!("{}/v2/journaltransaction", fake.vismanet_base_url()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    fake.inject(Fault::ExpireToken, 1);
    let (status, _) = get(&fake, &token, "/vismanet/v1/customer").await;
    assert_eq!(status, 401);
    let fresh = vn_token(&fake).await;
    let (status, _) = get(&fake, &fresh, "/vismanet/v1/customer").await;
    assert_eq!(status, 200);
}
