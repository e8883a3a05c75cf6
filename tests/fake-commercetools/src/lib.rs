//! A local HTTP fake of the **commercetools HTTP API** for tests, serving JSON resources the test
//! passes in (or the recorded fixtures, see [`fixtures`]).
//!
//! ```no_run
//! # async fn demo() {
//! use ctvisma_fake_commercetools::{FakeCommercetools, Fault};
//! let fake = FakeCommercetools::start().await;
//! fake.insert("orders", serde_json::json!({"id": "o1", "version": 1}));
//! fake.fail_next(Fault::TooManyRequests, 1);
//! // CTP_AUTH_URL = fake.auth_url(), CTP_API_URL = fake.api_url(),
//! // CTP_PROJECT_KEY = fake.project_key(), client id/secret from fake.config()
//! # }
//! ```
//!
//! # What it serves (on `http://127.0.0.1:PORT`, both auth and API)
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /oauth/token` (HTTP Basic client id:secret, form `grant_type=client_credentials[&scope=…]`) | `{access_token, token_type, expires_in, scope}`; bad credentials → 401 `invalid_client` |
//! | `GET /{project}/{resource}/{id}` or `…/key={key}` | the resource, or 404 `ResourceNotFound` |
//! | `GET /{project}/{resource}?where=…&sort=…&limit=…&offset=…&withTotal=…` | `{limit, offset, count, total?, results}` |
//! | `POST /{project}/{resource}` | creates (id, version 1, timestamps); `inventory` drafts are checked and completed |
//! | `POST /{project}/{resource}/{id}` `{version, actions}` | applies the actions; a stale version → 409 `ConcurrentModification` with `currentVersion` |
//! | `DELETE /{project}/{resource}/{id}?version=N` | deletes (same version check) |
//!
//! Every API request needs `Authorization: Bearer <token from /oauth/token>` (401
//! `invalid_token` otherwise, also after [`FakeCommercetools::expire_tokens`] or when the token's
//! lifetime has passed on the fake clock). `where` may be repeated (all must hold); see
//! [`predicate`] for the grammar. `limit` defaults to 20 and may be at most 500, `offset` at most
//! 10 000, as in commercetools. `sort` takes `field asc|desc` (dotted paths allowed), repeatable.
//!
//! Update actions: `addQuantity`, `removeQuantity`, `changeQuantity`, `setRestockableInDays`,
//! `setExpectedDelivery`, `setSupplyChannel` (inventory); `setKey`, `setCustomField` (any
//! resource). Anything else → 400 `InvalidOperation`. A duplicate inventory entry (same SKU and
//! supply channel) → 400 `DuplicateField` (an approximation of the real refusal).

// Handlers return whole HTTP responses as their error type; the size of that is irrelevant here.
#![allow(clippy::result_large_err)]

pub mod fixtures;
pub mod predicate;
mod server;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Who may ask for tokens, and for how long they hold.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub project_key: String,
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of issued tokens (commercetools issues 48 h tokens).
    pub token_lifetime: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            project_key: "fake-project".into(),
            client_id: "fake-client-id".into(),
            client_secret: "fake-client-secret".into(),
            token_lifetime: Duration::from_secs(172_800),
        }
    }
}

/// What the next requests get instead of (or before) their normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with commercetools' body, no `Retry-After`.
    TooManyRequests,
    /// 500 `General` error.
    InternalError,
    /// 503 from the gateway.
    ServiceUnavailable,
    /// Any status with this body.
    Status(u16, Value),
    /// Wait this long, then answer normally.
    Slow(Duration),
}

/// One request as the fake saw it (the `Authorization` header is never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string.
    pub query: String,
    pub status: u16,
    /// Whether a bearer token was presented.
    pub bearer: bool,
}

#[derive(Default)]
pub(crate) struct Inner {
    /// resource path segment (`orders`, `inventory`, …) → resources in insertion order
    pub resources: BTreeMap<String, Vec<Value>>,
    /// token → expiry on the fake clock
    pub tokens: HashMap<String, Instant>,
    pub grants: usize,
    pub api_faults: VecDeque<Fault>,
    pub token_faults: VecDeque<Fault>,
    pub conflicts: usize,
    pub log: Vec<RecordedRequest>,
    pub offset: Duration,
    pub token_lifetime: Duration,
}

impl Inner {
    pub fn now(&self) -> Instant {
        Instant::now() + self.offset
    }
}

pub(crate) struct Shared {
    pub config: FakeConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake. The server stops when the handle is dropped.
pub struct FakeCommercetools {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCommercetools {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeCommercetools {
    /// Starts an empty fake with [`FakeConfig::default`] on `127.0.0.1:0`.
    pub async fn start() -> Self {
        Self::with_config(FakeConfig::default()).await
    }

    /// Starts a fake loaded with every recorded resource ([`fixtures::all`]).
    ///
    /// # Panics
    /// If the fixture folders cannot be found (a test setup error).
    pub async fn with_fixtures() -> Self {
        let fake = Self::start().await;
        for (resource, value) in fixtures::all().unwrap_or_else(|e| panic!("ctvisma-fake-commercetools: {e}")) {
            fake.insert(resource, value);
        }
        fake
    }

    /// Starts an empty fake. Must be called inside a tokio runtime.
    ///
    /// # Panics
    /// If 127.0.0.1:0 cannot be bound (a test setup error).
    pub async fn with_config(config: FakeConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ctvisma-fake-commercetools: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let inner = Inner {
            token_lifetime: config.token_lifetime,
            ..Inner::default()
        };
        let shared = Arc::new(Shared {
            config,
            inner: Mutex::new(inner),
        });
        let app = axum::Router::new().fallback(server::entry).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { shared, addr, server }
    }

    /// `http://127.0.0.1:PORT`: the API URL (`CTP_API_URL`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same host: the auth URL (`CTP_AUTH_URL`; the client adds `/oauth/token`).
    pub fn auth_url(&self) -> String {
        self.api_url()
    }

    pub fn project_key(&self) -> &str {
        &self.shared.config.project_key
    }

    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// Adds (or replaces, by `id`) a resource under `resource` (`orders`, `payments`,
    /// `customers`, `products`, `inventory`, …). Missing `id` and `version` are filled in.
    pub fn insert(&self, resource: &str, mut value: Value) {
        if let Value::Object(obj) = &mut value {
            obj.entry("id")
                .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
            obj.entry("version").or_insert(Value::from(1));
        }
        let id = value.get("id").cloned();
        let mut inner = self.shared.lock();
        let list = inner.resources.entry(resource.to_string()).or_default();
        match list.iter_mut().find(|v| v.get("id") == id.as_ref()) {
            Some(slot) => *slot = value,
            None => list.push(value),
        }
    }

    /// Adds many resources at once.
    pub fn insert_all(&self, resource: &str, values: impl IntoIterator<Item = Value>) {
        let mut inner = self.shared.lock();
        let list = inner.resources.entry(resource.to_string()).or_default();
        list.extend(values);
    }

    /// The stored resource, as it is now.
    pub fn get(&self, resource: &str, id: &str) -> Option<Value> {
        let inner = self.shared.lock();
        inner
            .resources
            .get(resource)?
            .iter()
            .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
            .cloned()
    }

    /// Every stored resource of a kind, in insertion order.
    pub fn all(&self, resource: &str) -> Vec<Value> {
        self.shared.lock().resources.get(resource).cloned().unwrap_or_default()
    }

    /// The next `times` API requests (not token requests) get `fault`, in order with earlier ones.
    pub fn fail_next(&self, fault: Fault, times: usize) {
        let mut inner = self.shared.lock();
        inner.api_faults.extend(std::iter::repeat_n(fault, times));
    }

    /// The next `times` token requests get `fault`.
    pub fn fail_next_token(&self, fault: Fault, times: usize) {
        let mut inner = self.shared.lock();
        inner.token_faults.extend(std::iter::repeat_n(fault, times));
    }

    /// Every token issued so far stops working (the next API call gets 401 `invalid_token`).
    pub fn expire_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// The next `times` updates find that someone else changed the resource first: its version
    /// goes up by one and the update gets 409 `ConcurrentModification` with the new version.
    pub fn conflict_next_update(&self, times: usize) {
        self.shared.lock().conflicts += times;
    }

    /// Lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().token_lifetime = lifetime;
    }

    /// Moves the fake clock forward (token expiry).
    pub fn advance(&self, by: Duration) {
        self.shared.lock().offset += by;
    }

    /// Successful client-credentials grants so far.
    pub fn token_grants(&self) -> usize {
        self.shared.lock().grants
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Requests so far whose method and path match (`path` compared exactly).
    pub fn count(&self, method: &str, path: &str) -> usize {
        let inner = self.shared.lock();
        inner
            .log
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().log.clear();
    }
}
