//! The commercetools HTTP client: a client-credentials token cached until a minute before it
//! expires (one refresh at a time, once more on a 401), typed reads by id (404 → `None`), paged
//! queries that sort by id and continue after the last one (no offset limit), and versioned
//! updates that retry a 409 ConcurrentModification with the current version.
//!
//! Calls go through [`ctvisma_visma::http::Http`]: 429 and connection failures are retried with
//! back-off, 5xx and timeouts only for reads, never past the client's [`Deadline`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use ctvisma_core::commercetools::customer::Customer;
use ctvisma_core::commercetools::errors::ErrorResponse;
use ctvisma_core::commercetools::inventory::InventoryEntry;
use ctvisma_core::commercetools::order::Order;
use ctvisma_core::commercetools::payment::Payment;
use ctvisma_core::commercetools::product::Product;
use ctvisma_visma::http::{Deadline, Http};
use ctvisma_visma::token_store::Secret;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::CtConfig;
use crate::error::CtError;

const TARGET: &str = "commercetools";
/// A token is renewed this long before commercetools says it expires.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// commercetools' largest page.
pub const PAGE_SIZE: u32 = 500;
/// Retries of an update after a 409 ConcurrentModification.
pub const CONFLICT_RETRIES: u32 = 3;

struct CachedToken {
    token: Secret,
    fresh_until: Instant,
}

/// One page of a query (`PagedQueryResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub count: Option<u64>,
    /// Absent with `withTotal=false`.
    #[serde(default)]
    pub total: Option<u64>,
    pub results: Vec<T>,
}

/// Parameters of one query page. Every `where` must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub where_: Vec<String>,
    /// `field asc|desc`.
    pub sort: Vec<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub with_total: Option<bool>,
}

impl Query {
    pub fn filter(predicate: impl Into<String>) -> Self {
        Self {
            where_: vec![predicate.into()],
            ..Self::default()
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p: Vec<(&'static str, String)> = self.where_.iter().map(|w| ("where", w.clone())).collect();
        p.extend(self.sort.iter().map(|s| ("sort", s.clone())));
        p.extend(self.limit.map(|l| ("limit", l.to_string())));
        p.extend(self.offset.map(|o| ("offset", o.to_string())));
        p.extend(self.with_total.map(|t| ("withTotal", t.to_string())));
        p
    }
}

/// A string literal for a query predicate: `"…"` with `"` and `\` escaped.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-encodes a path segment (ids are safe; keys may not be).
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The client. Cheap to clone: clones share the connection pool and the token.
#[derive(Clone)]
pub struct CtClient {
    config: Arc<CtConfig>,
    http: Http,
    token: Arc<tokio::sync::Mutex<Option<CachedToken>>>,
    deadline: Deadline,
}

impl std::fmt::Debug for CtClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CtClient")
            .field("project_key", &self.config.project_key)
            .field("api_url", &self.config.api_url)
            .finish_non_exhaustive()
    }
}

impl CtClient {
    pub fn new(config: CtConfig, http: Http) -> Self {
        Self {
            config: Arc::new(config),
            http,
            token: Arc::new(tokio::sync::Mutex::new(None)),
            deadline: Deadline::none(),
        }
    }

    /// A clone whose calls give up (as transient) rather than wait past `deadline`.
    pub fn with_deadline(&self, deadline: Deadline) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    pub fn config(&self) -> &CtConfig {
        &self.config
    }

    /// `{api}/{project}/{path}`.
    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}/{}",
            self.config.api_url,
            segment(&self.config.project_key),
            path.trim_start_matches('/')
        )
    }

    // ---- token ----

    /// The cached token, or a new one when there is none or it expires within a minute.
    async fn token(&self) -> Result<Secret, CtError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.fresh_until) {
            return Ok(t.token.clone());
        }
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// After a 401 with `stale`: a new token, unless another call already replaced it.
    async fn renew(&self, stale: &Secret) -> Result<Secret, CtError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached
            .as_ref()
            .filter(|t| &t.token != stale && Instant::now() < t.fresh_until)
        {
            return Ok(t.token.clone());
        }
        *cached = None;
        let fresh = self.fetch_token().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch_token(&self) -> Result<CachedToken, CtError> {
        let url = format!("{}/oauth/token", self.config.auth_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.config.scopes.as_str()),
        ];
        let resp = self
            .http
            .send(TARGET, self.deadline, true, || {
                self.http
                    .request(Method::POST, &url)
                    .basic_auth(&self.config.client_id, Some(self.config.client_secret.expose()))
                    .form(&form)
            })
            .await
            .map_err(CtError::from_http)?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| CtError::Unavailable(e.without_url().to_string()))?;
        if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let reason = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
            return Err(CtError::Unauthorized(format!(
                "token endpoint refused the client: {reason}"
            )));
        }
        if !status.is_success() {
            return Err(CtError::refused("oauth/token", status.as_u16(), &body));
        }
        let answer: TokenAnswer = serde_json::from_str(&body).map_err(|e| CtError::Protocol {
            path: "oauth/token".into(),
            what: format!("token answer: {}", e.classify_name()),
        })?;
        // commercetools issues 48 h tokens; assume an hour when it does not say.
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        tracing::debug!(
            target_system = TARGET,
            expires_in_s = lifetime.as_secs(),
            "obtained a commercetools access token"
        );
        Ok(CachedToken {
            token: Secret::new(answer.access_token),
            fresh_until: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        })
    }

    // ---- raw calls ----

    /// Sends with the bearer token; on a 401 renews the token once and sends again.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&'static str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), CtError> {
        let url = self.url(path);
        let repeatable = method == Method::GET;
        let mut token = self.token().await?;
        for attempt in 0..2 {
            let resp = self
                .http
                .send(TARGET, self.deadline, repeatable, || {
                    let mut req = self
                        .http
                        .request(method.clone(), &url)
                        .bearer_auth(token.expose())
                        .query(query);
                    if let Some(b) = body {
                        req = req.json(b);
                    }
                    req
                })
                .await
                .map_err(CtError::from_http)?;
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                tracing::info!(target_system = TARGET, "access token refused: renewing it once");
                token = self.renew(&token).await?;
                continue;
            }
            let text = resp
                .text()
                .await
                .map_err(|e| CtError::Unavailable(e.without_url().to_string()))?;
            if status == StatusCode::UNAUTHORIZED {
                return Err(CtError::Unauthorized(format!("{path}: a fresh token was refused")));
            }
            return Ok((status, text));
        }
        unreachable!("the loop returns on its second pass")
    }

    fn parse<T: DeserializeOwned>(path: &str, body: &str) -> Result<T, CtError> {
        serde_json::from_str(body).map_err(|e| CtError::Protocol {
            path: path.to_string(),
            what: e.to_string().chars().take(300).collect(),
        })
    }

    fn failure(path: &str, status: StatusCode, body: &str) -> CtError {
        if status == StatusCode::TOO_MANY_REQUESTS {
            CtError::RateLimited { retry_after_secs: 1 }
        } else if status.is_server_error() {
            CtError::Unavailable(format!("{path}: HTTP {}", status.as_u16()))
        } else {
            CtError::refused(path, status.as_u16(), body)
        }
    }

    // ---- reads ----

    /// GET `{project}/{path}`: the resource, or `None` on 404.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, CtError> {
        let (status, body) = self.call(Method::GET, path, &[], None).await?;
        match status {
            s if s.is_success() => Self::parse(path, &body).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(Self::failure(path, s, &body)),
        }
    }

    async fn by_id<T: DeserializeOwned>(&self, resource: &str, id: &str) -> Result<Option<T>, CtError> {
        self.get(&format!("{resource}/{}", segment(id))).await
    }

    pub async fn get_order(&self, id: &str) -> Result<Option<Order>, CtError> {
        self.by_id("orders", id).await
    }

    pub async fn get_payment(&self, id: &str) -> Result<Option<Payment>, CtError> {
        self.by_id("payments", id).await
    }

    pub async fn get_customer(&self, id: &str) -> Result<Option<Customer>, CtError> {
        self.by_id("customers", id).await
    }

    pub async fn get_product(&self, id: &str) -> Result<Option<Product>, CtError> {
        self.by_id("products", id).await
    }

    pub async fn get_inventory_entry(&self, id: &str) -> Result<Option<InventoryEntry>, CtError> {
        self.by_id("inventory", id).await
    }

    /// One page of `{project}/{resource}` (`orders`, `payments`, `inventory`, …).
    pub async fn query<T: DeserializeOwned>(&self, resource: &str, query: &Query) -> Result<Page<T>, CtError> {
        let (status, body) = self.call(Method::GET, resource, &query.params(), None).await?;
        if !status.is_success() {
            return Err(Self::failure(resource, status, &body));
        }
        Self::parse(resource, &body)
    }

    /// Every resource matching all `where_` predicates, however many: pages of 500 sorted by
    /// id, each continuing after the last id seen (`id > "…"`), without totals, so neither
    /// commercetools' offset limit (10 000) nor a slow count gets in the way.
    pub async fn query_all<T: DeserializeOwned>(&self, resource: &str, where_: &[String]) -> Result<Vec<T>, CtError> {
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let mut wheres = where_.to_vec();
            if let Some(id) = &last {
                wheres.push(format!("id > {}", quote(id)));
            }
            let query = Query {
                where_: wheres,
                sort: vec!["id asc".into()],
                limit: Some(PAGE_SIZE),
                offset: None,
                with_total: Some(false),
            };
            let page: Page<Value> = self.query(resource, &query).await?;
            let full = page.results.len() >= PAGE_SIZE as usize;
            let Some(next) = page.results.last().and_then(|v| v.get("id")).and_then(Value::as_str) else {
                break;
            };
            if last.as_deref().is_some_and(|l| l >= next) {
                return Err(CtError::Protocol {
                    path: resource.to_string(),
                    what: "paging by id did not advance".into(),
                });
            }
            last = Some(next.to_string());
            for v in page.results {
                out.push(serde_json::from_value(v).map_err(|e| CtError::Protocol {
                    path: resource.to_string(),
                    what: e.to_string().chars().take(300).collect(),
                })?);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// The order whose `paymentInfo.payments` lists the payment.
    pub async fn find_order_of_payment(&self, payment_id: &str) -> Result<Option<Order>, CtError> {
        let query = Query {
            where_: vec![format!("paymentInfo(payments(id={}))", quote(payment_id))],
            limit: Some(1),
            with_total: Some(false),
            ..Query::default()
        };
        let page: Page<Order> = self.query("orders", &query).await?;
        Ok(page.results.into_iter().next())
    }

    // ---- writes ----

    /// POST `{project}/{resource}` with a draft: the created resource.
    pub async fn create(&self, resource: &str, draft: &Value) -> Result<Value, CtError> {
        let (status, body) = self.call(Method::POST, resource, &[], Some(draft)).await?;
        if !status.is_success() {
            return Err(Self::failure(resource, status, &body));
        }
        Self::parse(resource, &body)
    }

    /// POST `{project}/{path}` with `{version, actions}`: the updated resource. A 409
    /// ConcurrentModification is retried up to [`CONFLICT_RETRIES`] times with the version the
    /// error reports (or, when it reports none, the version read again); the same actions are
    /// sent again, so use it for actions that hold whatever changed in between (absolute
    /// values such as `changeQuantity`). A write that may have been applied (5xx, timeout) is
    /// not repeated here: it fails as transient.
    pub async fn update(&self, path: &str, version: u64, actions: Value) -> Result<Value, CtError> {
        let mut version = version;
        let mut conflicts = 0;
        loop {
            let reported = match self.post_update(path, version, &actions).await? {
                Ok(updated) => return Ok(updated),
                Err(reported) => reported,
            };
            if conflicts >= CONFLICT_RETRIES {
                return Err(CtError::Conflict {
                    path: path.to_string(),
                    current_version: reported,
                });
            }
            conflicts += 1;
            let current = match reported {
                Some(v) => v,
                None => self.current_version(path).await?,
            };
            tracing::info!(
                target_system = TARGET,
                path,
                stale_version = version,
                current_version = current,
                attempt = conflicts,
                "concurrent modification: retrying with the current version"
            );
            version = current;
        }
    }

    /// Like [`CtClient::update`], for actions that depend on the resource (relative ones such
    /// as `addQuantity`): `actions` computes them from `resource` (as last read, with its
    /// `version`), and again from the resource read afresh after each 409. `None` from
    /// `actions` means nothing to do: the resource is returned unchanged.
    pub async fn update_with<F>(&self, path: &str, resource: Value, mut actions: F) -> Result<Value, CtError>
    where
        F: FnMut(&Value) -> Option<Value>,
    {
        let mut resource = resource;
        let mut conflicts = 0;
        loop {
            let Some(todo) = actions(&resource) else {
                return Ok(resource);
            };
            let version = resource
                .get("version")
                .and_then(Value::as_u64)
                .ok_or_else(|| CtError::Protocol {
                    path: path.to_string(),
                    what: "resource without a version".into(),
                })?;
            let reported = match self.post_update(path, version, &todo).await? {
                Ok(updated) => return Ok(updated),
                Err(reported) => reported,
            };
            if conflicts >= CONFLICT_RETRIES {
                return Err(CtError::Conflict {
                    path: path.to_string(),
                    current_version: reported,
                });
            }
            conflicts += 1;
            tracing::info!(
                target_system = TARGET,
                path,
                stale_version = version,
                attempt = conflicts,
                "concurrent modification: reading the resource again"
            );
            resource = self.get(path).await?.ok_or_else(|| deleted(path))?;
        }
    }

    /// One update request: the updated resource, or `Err(currentVersion)` on a
    /// ConcurrentModification.
    async fn post_update(
        &self,
        path: &str,
        version: u64,
        actions: &Value,
    ) -> Result<Result<Value, Option<u64>>, CtError> {
        let body = json!({"version": version, "actions": actions});
        let (status, text) = self.call(Method::POST, path, &[], Some(&body)).await?;
        if status.is_success() {
            return Self::parse(path, &text).map(Ok);
        }
        if status != StatusCode::CONFLICT {
            return Err(Self::failure(path, status, &text));
        }
        let error = serde_json::from_str::<ErrorResponse>(&text).ok();
        let concurrent = error
            .as_ref()
            .is_some_and(|e| e.api_errors().iter().any(|o| o.code == "ConcurrentModification"));
        if !concurrent {
            return Err(Self::failure(path, status, &text));
        }
        Ok(Err(error.as_ref().and_then(ErrorResponse::current_version)))
    }

    async fn current_version(&self, path: &str) -> Result<u64, CtError> {
        let resource: Option<Value> = self.get(path).await?;
        let resource = resource.ok_or_else(|| deleted(path))?;
        resource
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| CtError::Protocol {
                path: path.to_string(),
                what: "resource without a version".into(),
            })
    }
}

fn deleted(path: &str) -> CtError {
    CtError::Refused {
        path: path.to_string(),
        status: 404,
        code: "ResourceNotFound".into(),
        message: "deleted while updating".into(),
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "unexpected fields",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}
