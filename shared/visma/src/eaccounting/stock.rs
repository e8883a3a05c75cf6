//! eAccounting stock levels: read page by page from the articles, and set on one article.
//!
//! eAccounting v2 has no stock-adjustment endpoint: the 2026 spec's only stock field a client
//! may write is `ArticleApi.StockBalance` ("Sets the stock balance for this article"), through
//! `PUT /v2/articles/{id}`, which replaces the article — so [`EaStock::set_balance`] reads the
//! article, keeps its writable fields and changes `StockBalance` only. The spec marks the field
//! read-only when the company's stock module is active; eAccounting then refuses the write and
//! the refusal is reported per SKU. Valuation (`StockValue`, purchase prices) is never touched.
//!
//! Articles are matched to SKUs by `Number`, as [`super::article`] creates them.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::api::{Api, TARGET};
use super::article::{find_article, writable_fields};
use super::auth::EaccountingAuth;
use super::EaccountingConfig;
use crate::error::VismaError;
use crate::http::{Deadline, Http};
use crate::token_store::TokenStore;

/// Articles per `GET /v2/articles` page.
pub const STOCK_PAGE_SIZE: u32 = 500;

/// One article's stock, as eAccounting reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLevel {
    /// `Number`: the SKU.
    pub number: String,
    pub article_id: String,
    /// `StockBalance`: physical stock.
    pub balance: f64,
    /// `StockBalanceAvailable`: balance less what eAccounting has reserved (the balance when the
    /// answer has no such field).
    pub available: f64,
    pub is_active: bool,
    /// Service articles hold no stock.
    pub is_service: bool,
}

/// One page of stock levels and whether another follows.
#[derive(Debug, Clone, PartialEq)]
pub struct StockPage {
    pub levels: Vec<StockLevel>,
    pub more: bool,
}

/// What [`EaStock::set_balance`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum BalanceAction {
    /// Written; the balance before.
    Set { was: f64 },
    /// Already at that balance: nothing sent.
    Unchanged,
    /// No article with that number.
    NoArticle,
}

/// Stock reads and writes of one eAccounting company. Needs only the `ea:sales` scope and none of
/// the company checks of [`super::Eaccounting::connect`].
pub struct EaStock {
    api: Arc<Api>,
}

impl EaStock {
    pub fn new(http: Http, config: &EaccountingConfig, store: Arc<dyn TokenStore>) -> Self {
        let auth = EaccountingAuth::new(
            http.clone(),
            &config.identity_url,
            &config.client_id,
            config.client_secret.clone(),
            config.refresh_token.clone(),
            store,
        );
        Self {
            api: Arc::new(Api {
                http,
                base: config.api_url.clone(),
                auth,
            }),
        }
    }

    /// Page `page` (1-based) of the articles' stock levels.
    pub async fn levels_page(&self, page: u32, deadline: Deadline) -> Result<StockPage, VismaError> {
        let query = [("$page", page.to_string()), ("$pagesize", STOCK_PAGE_SIZE.to_string())];
        let body = self
            .api
            .call(Method::GET, "/v2/articles", &query, None, deadline)
            .await?;
        let data = body
            .get("Data")
            .and_then(Value::as_array)
            .ok_or_else(|| VismaError::Protocol {
                target: TARGET,
                what: "/v2/articles: no Data in the answer".into(),
            })?;
        let levels: Vec<StockLevel> = data.iter().filter_map(level_of).collect();
        let pages = body
            .pointer("/Meta/TotalNumberOfPages")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let more = u64::from(page) < pages && !data.is_empty();
        Ok(StockPage { levels, more })
    }

    /// Sets the `StockBalance` of the article numbered `number` to `balance`, unless it already
    /// is. Every other writable field is sent back as read.
    pub async fn set_balance(
        &self,
        number: &str,
        balance: f64,
        deadline: Deadline,
    ) -> Result<BalanceAction, VismaError> {
        let Some(article) = find_article(&self.api, number, deadline).await? else {
            return Ok(BalanceAction::NoArticle);
        };
        let was = article.get("StockBalance").and_then(Value::as_f64).unwrap_or(0.0);
        if (was - balance).abs() < 0.005 {
            return Ok(BalanceAction::Unchanged);
        }
        let id = article
            .get("Id")
            .and_then(Value::as_str)
            .ok_or_else(|| VismaError::Protocol {
                target: TARGET,
                what: format!("article {number} without an Id"),
            })?
            .to_string();
        let mut body = writable_fields(&article, &["StockBalance"]);
        body.insert("StockBalance".into(), Value::from(balance));
        let text = Value::Object(body).to_string();
        self.api
            .call(Method::PUT, &format!("/v2/articles/{id}"), &[], Some(&text), deadline)
            .await?;
        tracing::info!(target_system = TARGET, article = %number, was, balance, "stock balance set");
        Ok(BalanceAction::Set { was })
    }
}

fn level_of(a: &Value) -> Option<StockLevel> {
    let number = a.get("Number").and_then(Value::as_str)?.to_string();
    let article_id = a.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    let balance = a.get("StockBalance").and_then(Value::as_f64).unwrap_or(0.0);
    Some(StockLevel {
        number,
        article_id,
        balance,
        available: a
            .get("StockBalanceAvailable")
            .and_then(Value::as_f64)
            .unwrap_or(balance),
        is_active: a.get("IsActive").and_then(Value::as_bool).unwrap_or(true),
        is_service: a.get("IsServiceArticle").and_then(Value::as_bool).unwrap_or(false),
    })
}
