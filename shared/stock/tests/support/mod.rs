//! The stock sync against the fake commercetools (loaded with the recorded fixtures) and the
//! fake eAccounting, shared by the tests and the benchmark.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::rules::stock::{StockQuantity, StockRules, StockSource};
use ctvisma_fake_commercetools::FakeCommercetools;
use ctvisma_fake_visma::{Api, FakeVisma};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_stock::StockSync;
use ctvisma_visma::eaccounting::stock::EaStock;
use ctvisma_visma::eaccounting::EaccountingConfig;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::{MemoryTokenStore, Secret};
use ctvisma_visma::Deadline;
use futures::StreamExt;
use serde_json::{json, Value};

/// The InventorySupply channel of the fixtures (`channel-inventory-supply.json`).
pub const CHANNEL: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

pub struct Env {
    pub ct: FakeCommercetools,
    pub visma: FakeVisma,
    pub sync: StockSync,
    pub store: Arc<MemoryStore>,
}

pub fn rules(source: StockSource) -> StockRules {
    StockRules {
        source,
        supply_channel: CHANNEL.into(),
        supply_channel_key: Some("distribution-channel-us".into()),
        quantity: StockQuantity::Available,
    }
}

pub fn http() -> Http {
    Http::new(HttpSettings {
        base_backoff: Duration::from_millis(10),
        ..HttpSettings::default()
    })
    .expect("http client")
}

pub fn ct_config(fake: &FakeCommercetools) -> CtConfig {
    let c = fake.config();
    let mut config = CtConfig::new(
        fake.project_key(),
        c.client_id.clone(),
        Secret::new(c.client_secret.clone()),
    );
    config.auth_url = fake.auth_url();
    config.api_url = fake.api_url();
    config
}

pub fn ea_config(fake: &FakeVisma) -> EaccountingConfig {
    fake.eaccounting_config()
}

/// Both fakes (commercetools with every recorded fixture) and a sync over them.
pub async fn env(concurrency: usize) -> Env {
    let ct = FakeCommercetools::with_fixtures().await;
    let visma = FakeVisma::start().await;
    let store = Arc::new(MemoryStore::new());
    let http = http();
    let sync = StockSync {
        ct: CtClient::new(ct_config(&ct), http.clone()),
        visma: Arc::new(EaStock::new(
            http,
            &ea_config(&visma),
            Arc::new(MemoryTokenStore::default()),
        )),
        store: store.clone(),
        concurrency,
        deadline: Deadline::none(),
    };
    Env { ct, visma, sync, store }
}

async fn first_id(client: &reqwest::Client, base: &str, token: &str, path: &str) -> String {
    let body: Value = client
        .get(format!("{base}/v2/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("fake visma")
        .json()
        .await
        .expect("json");
    body["Data"][0]["Id"].as_str().expect("an id").to_string()
}

/// Creates eAccounting articles (number = SKU) with these stock balances, straight through the
/// fake's API (`concurrency` at a time).
pub async fn seed_articles(visma: &FakeVisma, items: Vec<(String, f64)>) {
    let token = visma.issue_access_token(Api::EAccounting);
    let client = reqwest::Client::new();
    let base = visma.base_url();
    let coding = first_id(&client, &base, &token, "articleaccountcodings").await;
    let unit = first_id(&client, &base, &token, "units").await;
    futures::stream::iter(items)
        .map(|(sku, balance)| {
            let (client, base, token, coding, unit) = (&client, &base, &token, &coding, &unit);
            async move {
                let body = json!({"Number": sku, "Name": format!("Article {sku}"), "CodingId": coding,
                    "UnitId": unit, "IsActive": true, "IsStock": true, "StockBalance": balance});
                let resp = client
                    .post(format!("{base}/v2/articles"))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("fake visma");
                assert_eq!(
                    resp.status().as_u16(),
                    201,
                    "seeding {sku}: {}",
                    resp.text().await.unwrap_or_default()
                );
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// Sets an article's balance as someone in Visma would.
pub async fn set_visma_balance(visma: &FakeVisma, sku: &str, balance: f64) {
    let article = visma_article(visma, sku).expect("article");
    let token = visma.issue_access_token(Api::EAccounting);
    let id = article["Id"].as_str().unwrap().to_string();
    let mut body = json!({});
    for f in ["Number", "Name", "CodingId", "UnitId", "IsActive", "IsStock"] {
        body[f] = article[f].clone();
    }
    body["StockBalance"] = json!(balance);
    let resp = reqwest::Client::new()
        .put(format!("{}/v2/articles/{id}", visma.base_url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

pub fn visma_article(visma: &FakeVisma, sku: &str) -> Option<Value> {
    visma
        .documents(ctvisma_fake_visma::DocKind::Article)
        .into_iter()
        .find(|a| a["Number"] == sku)
}

/// The channel's entry of `sku` in the fake commercetools.
pub fn ct_entry(ct: &FakeCommercetools, sku: &str) -> Option<Value> {
    ct.all("inventory")
        .into_iter()
        .find(|e| e["sku"] == sku && e["supplyChannel"]["id"] == CHANNEL)
}

/// commercetools writes (creates and updates of inventory entries) since the last clear.
pub fn ct_writes(ct: &FakeCommercetools) -> Vec<String> {
    let prefix = format!("/{}/inventory", ct.project_key());
    ct.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with(&prefix))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

/// eAccounting writes since the start.
pub fn visma_writes(visma: &FakeVisma) -> Vec<String> {
    visma
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && r.path.starts_with("/v2/"))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

/// The recorded fixture `inventory-entry-basic.json`, moved onto our channel as `sku`'s entry.
pub fn fixture_entry_on_channel(sku: &str, quantity: i64) -> Value {
    let dir = ctvisma_fake_commercetools::fixtures::fixtures_dir().expect("fixtures");
    let text = std::fs::read_to_string(dir.join("inventory-entry-basic.json")).expect("fixture");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v["id"] = json!(format!("fixture-{sku}"));
    v["key"] = json!(format!("ie-{sku}"));
    v["sku"] = json!(sku);
    v["quantityOnStock"] = json!(quantity);
    v["availableQuantity"] = json!(quantity);
    v["supplyChannel"] = json!({"typeId": "channel", "id": CHANNEL});
    v
}
