//! The fake's HTTP surface, spoken to directly.

use ctvisma_fake_commercetools::{fixtures, FakeCommercetools};
use serde_json::{json, Value};

async fn token(fake: &FakeCommercetools, http: &reqwest::Client) -> String {
    let c = fake.config();
    let answer: Value = http
        .post(format!("{}/oauth/token", fake.auth_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "manage_project:fake-project"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_string()
}

#[test]
fn the_fixtures_load() {
    let all = fixtures::all().unwrap();
    for kind in ["orders", "payments", "customers", "products", "inventory"] {
        assert!(all.iter().any(|(k, _)| *k == kind), "no {kind}");
    }
    assert!(all.iter().all(|(_, v)| v["id"].is_string()));
    // Extension-wrapped payments are unwrapped.
    assert!(all
        .iter()
        .any(|(_, v)| v["id"] == "911d0e6b-218a-4c3c-a542-d5c45db8a170"));
}

#[tokio::test]
async fn lists_pages_keys_and_deletes() {
    let fake = FakeCommercetools::start().await;
    let http = reqwest::Client::new();
    let api = format!("{}/fake-project", fake.api_url());
    fake.insert_all(
        "orders",
        (0..30).map(|i| json!({"id": format!("o{i:02}"), "version": 1, "key": format!("k{i}"), "n": i})),
    );
    let r = http.get(format!("{api}/orders")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let t = token(&fake, &http).await;

    let page: Value = http
        .get(format!("{api}/orders"))
        .bearer_auth(&t)
        .query(&[
            ("where", "n >= 10 and n < 20"),
            ("sort", "n desc"),
            ("limit", "4"),
            ("offset", "2"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((page["total"].as_u64(), page["count"].as_u64()), (Some(10), Some(4)));
    assert_eq!(page["results"][0]["id"], "o17");

    let page: Value = http
        .get(format!("{api}/orders?withTotal=false"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.get("total").is_none());
    assert_eq!(page["count"], 20, "default limit");

    let bad = http
        .get(format!("{api}/orders?limit=501"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = http
        .get(format!("{api}/orders?where=n%20%3D"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let by_key: Value = http
        .get(format!("{api}/orders/key=k3"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_key["id"], "o03");

    let conflict: Value = http
        .delete(format!("{api}/orders/o03?version=2"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(conflict["statusCode"], 409);
    assert_eq!(conflict["errors"][0]["code"], "ConcurrentModification");
    assert_eq!(conflict["errors"][0]["currentVersion"], 1);
    let ok = http
        .delete(format!("{api}/orders/o03?version=1"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(fake.get("orders", "o03").is_none());
    assert!(fake.requests().iter().any(|r| r.status == 401 && !r.bearer));
}
