//! Helpers shared by the fake's own tests.
#![allow(dead_code)]

use ctvisma_fake_visma::FakeVisma;
use serde_json::{json, Value};

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Refreshes with the currently valid refresh token; returns (access, refresh).
pub async fn ea_refresh(fake: &FakeVisma, refresh_token: &str) -> reqwest::Response {
    let cfg = fake.config();
    client()
        .post(fake.eaccounting_token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", cfg.client_id.as_str()),
            ("client_secret", cfg.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn ea_token(fake: &FakeVisma) -> String {
    let rt = fake.current_refresh_token().unwrap();
    let body: Value = ea_refresh(fake, &rt).await.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub async fn vn_token(fake: &FakeVisma) -> String {
    let cfg = fake.config();
    let body: Value = client()
        .post(fake.vismanet_token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", cfg.vismanet_client_id.as_str()),
            ("client_secret", cfg.vismanet_client_secret.as_str()),
            ("tenant_id", cfg.vismanet_tenant_id.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

pub async fn ea_post(fake: &FakeVisma, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", fake.base_url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

pub async fn get(fake: &FakeVisma, token: &str, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", fake.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A balanced voucher: 125 on 1580 against 100 sales (3001) + 25 VAT (2611).
pub fn voucher(date: &str, text: &str) -> Value {
    json!({
        "VoucherDate": date,
        "VoucherText": text,
        "Rows": [
            {"AccountNumber": 1580, "DebitAmount": 125.0, "CreditAmount": 0, "TransactionText": text},
            {"AccountNumber": 3001, "DebitAmount": 0, "CreditAmount": 100.0},
            {"AccountNumber": 2611, "DebitAmount": 0, "CreditAmount": 25.0}
        ]
    })
}

/// A value-wrapped Visma.net journal transaction, balanced.
pub fn journal(date: &str, reference: &str) -> Value {
    json!({
        "transactionDate": {"value": date},
        "description": {"value": format!("Order {reference}")},
        "journalTransactionLines": [
            {"operation": "Insert", "accountNumber": {"value": "1580"},
             "debitAmountInCurrency": {"value": 125.0},
             "referenceNumber": {"value": reference},
             "transactionDescription": {"value": reference}},
            {"operation": "Insert", "accountNumber": {"value": "3001"},
             "creditAmountInCurrency": {"value": 100.0}},
            {"operation": "Insert", "accountNumber": {"value": "2611"},
             "creditAmountInCurrency": {"value": 25.0}}
        ]
    })
}
