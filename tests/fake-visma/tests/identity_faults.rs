//! Token rotation, expiry, and fault injection.

mod common;

use std::time::Duration;

use common::*;
use ctvisma_fake_visma::{DocKind, FakeVisma, Fault};
use serde_json::Value;

#[tokio::test]
async fn refresh_rotates_and_the_old_refresh_token_dies() {
    let fake = FakeVisma::start().await;
    let first = fake.config().initial_refresh_token.clone();
    let resp = ea_refresh(&fake, &first).await;
    assert_eq!(resp.status(), 200);
    let t1: Value = resp.json().await.unwrap();
    assert_eq!(t1["token_type"], "Bearer");
    assert_eq!(t1["expires_in"], 3600);
    let second = t1["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second, first);

    let resp = ea_refresh(&fake, &first).await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "invalid_grant");

    let t2: Value = ea_refresh(&fake, &second).await.json().await.unwrap();
    assert_ne!(t2["access_token"], t1["access_token"]);
    assert_ne!(t2["refresh_token"], t1["refresh_token"]);
    assert_eq!(fake.token_refreshes(), 2);
    assert_eq!(fake.current_refresh_token().as_deref(), t2["refresh_token"].as_str());

    // wrong secret, wrong content type
    let resp = client()
        .post(fake.eaccounting_token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "fake-client"),
            ("client_secret", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = client()
        .post(fake.eaccounting_token_url())
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // the old access token still works until it expires
    let (status, _) = get(&fake, t1["access_token"].as_str().unwrap(), "/v2/companysettings").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn expired_access_token_is_401() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    let (status, _) = get(&fake, &token, "/v2/vatcodes").await;
    assert_eq!(status, 200);
    fake.advance(Duration::from_secs(3601));
    let resp = client()
        .get(format!("{}/v2/vatcodes", fake.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("expired"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["ErrorCode"], 4005);
    let fresh = ea_token(&fake).await;
    let (status, _) = get(&fake, &fresh, "/v2/vatcodes").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rate_limit_fault_has_the_real_body_and_clears() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    fake.inject(Fault::RateLimited { retry_after_secs: 7 }, 2);
    for _ in 0..2 {
        let resp = client()
            .get(format!("{}/v2/vouchers", fake.base_url()))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429);
        assert!(resp.headers().get("retry-after").is_none());
        let body: Value = resp.json().await.unwrap();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3, "{body}");
        assert_eq!(body["ErrorCode"], 4010);
        assert!(body["DeveloperErrorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Try again in 7 seconds."));
        assert_eq!(body["ErrorId"].as_str().unwrap().len(), 36);
    }
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 200);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 429, 429, 200]);
}

#[tokio::test]
async fn post_then_fail_stores_but_answers_500() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;
    fake.inject_on("/v2/vouchers", Fault::PostThenFail, 1);
    // a GET does not consume it
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 200);
    let (status, _) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-05-01", "order-7")).await;
    assert_eq!(status, 500);
    assert_eq!(fake.documents(DocKind::Voucher).len(), 1);
    // the client looks before re-posting, and finds it
    let (_, found) = get(&fake, &token, "/v2/vouchers?$filter=VoucherText eq 'order-7'").await;
    assert_eq!(found["Meta"]["TotalNumberOfResults"], 1);
    let (status, _) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-05-01", "order-8")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn other_faults() {
    let fake = FakeVisma::start().await;
    let token = ea_token(&fake).await;

    fake.inject_on("/v2/customerinvoices", Fault::ServerError, 1);
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 200, "scoped to another path");
    let (status, _) = get(&fake, &token, "/v2/customerinvoices").await;
    assert_eq!(status, 500);

    fake.inject(Fault::LockedPeriod, 1);
    let (status, err) = ea_post(&fake, &token, "/v2/vouchers", &voucher("2024-05-01", "x")).await;
    assert_eq!((status, err["ErrorCode"].as_i64()), (400, Some(4026)));

    fake.inject(Fault::ExpireToken, 1);
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 401);
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 401, "the token stays expired");

    let token = ea_token(&fake).await;
    fake.inject(Fault::Slow(Duration::from_millis(400)), 1);
    let slow = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = slow
        .get(format!("{}/v2/vouchers", fake.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());

    fake.inject_on("/connect/token", Fault::ServerError, 1);
    let rt = fake.current_refresh_token().unwrap();
    assert_eq!(ea_refresh(&fake, &rt).await.status(), 500);
    assert_eq!(
        ea_refresh(&fake, &rt).await.status(),
        200,
        "refresh token not consumed by the 500"
    );

    fake.inject(Fault::ServerError, 5);
    fake.reset_faults();
    let token = ea_token(&fake).await;
    let (status, _) = get(&fake, &token, "/v2/vouchers").await;
    assert_eq!(status, 200);
}
