//! A local HTTP fake of the **Visma eAccounting API v2** and the **Visma.net ERP API** for
//! tests. Every JSON request body is validated against the official OpenAPI specs (the 2026
//! PascalCase eAccounting spec, JSON Schema 2020-12; the Visma.net 2025-04-24 spec, draft 4),
//! business rules of the real APIs are enforced, and faults can be injected.
//!
//! ```no_run
//! # async fn demo() {
//! use ctvisma_fake_visma::{DocKind, FakeVisma, Fault};
//! let fake = FakeVisma::start().await;
//! let ea_api = format!("{}/v2", fake.base_url()); // eAccounting API
//! let ea_token = fake.eaccounting_token_url(); // {base}/connect/token
//! let vn_api = fake.vismanet_base_url(); // {base}/vismanet (then /v1/..., /v2/...)
//! fake.inject_on("/v2/vouchers", Fault::PostThenFail, 1);
//! // ... run the client against these URLs ...
//! assert_eq!(fake.documents(DocKind::Voucher).len(), 0);
//! # }
//! ```
//!
//! # URLs (all on `http://127.0.0.1:PORT`, see [`FakeVisma::base_url`])
//!
//! | what | path |
//! | --- | --- |
//! | eAccounting token (refresh_token grant, form-urlencoded) | `POST /connect/token` |
//! | eAccounting API (base URL `{base}/v2`) | `/v2/...` |
//! | Visma.net token (client_credentials + `tenant_id`) | `POST /vismanet/connect/token` |
//! | Visma.net API (base URL `{base}/vismanet`) | `/vismanet/v1/...`, `/vismanet/v2/...` |
//!
//! eAccounting endpoints (bearer token required): `GET /v2/companysettings`, `GET /v2/vatcodes[/{id}]`,
//! `GET /v2/units[/{id}]`, `GET /v2/termsofpayments[/{id}]`, `GET /v2/articleaccountcodings[/{id}]`,
//! `GET /v2/fiscalyears[/{id}]`, `GET /v2/accounts`, `GET /v2/accounts/{fiscalyearId}[/{accountNumber}]`,
//! `GET|POST /v2/customers`, `GET|PUT /v2/customers/{id}`, `GET|POST /v2/articles`,
//! `GET|PUT /v2/articles/{id}`, `GET|POST /v2/customerinvoicedrafts`,
//! `GET|PUT /v2/customerinvoicedrafts/{id}`, `POST /v2/customerinvoicedrafts/{id}/convert`,
//! `GET|POST /v2/customerinvoices`, `GET /v2/customerinvoices/{id}`, `GET|POST /v2/vouchers`,
//! `GET /v2/vouchers/{fiscalyearId}[/{voucherId}]`. Lists take OData `$filter`
//! (`Field eq 'x' and Other ne 3`; `eq ne gt ge lt le`; top-level fields of the item schema,
//! case-insensitive; unknown fields → 400) and `$page` / `$pagesize` (default 50) and answer
//! `{Meta:{CurrentPage,PageSize,TotalNumberOfPages,TotalNumberOfResults,ServerTimeUtc},Data:[..]}`.
//! Other paths of the spec answer 501; paths not in the spec 404.
//!
//! Visma.net endpoints (bearer token required; every answer has `X-RateLimit-Limit`,
//! `-Remaining`, `-Reset` (seconds to window end), `-Policy`): `POST /v2/customerinvoice`
//! (and `/v1/`), `POST /v2/customerCreditNote` (and `/v1/`), `POST /v2/journaltransaction`,
//! `POST /v1/customer` — 201, empty body, `Location: {base}/vismanet/v1/customerinvoice/{n}`
//! (`/v1/customerCreditNote/{n}`, `/v2/journaltransaction/{n}`, `/v1/customer/{n}`);
//! `GET /v1/customerinvoice[/{n}]`, `GET /v1/customerCreditNote[/{n}]` (filters
//! `externalReference`, `customerRefNumber`, `paymentReference`, `customer`, `status`,
//! `released`, `documentType`, `financialPeriod`, `project`), `GET /v2/journaltransaction[/{n}]`
//! (filters `periodId` (YYYYMM, mandatory unless `lastModifiedDateTime`), `status`,
//! `releasedBatch`, `module`, `branch`), `GET /v1/customer[/{n}]` (filters `name`, `status`,
//! `corporateId`, `vatRegistrationId`, `email`, `phone`); all lists take `pageNumber`/`pageSize`;
//! `POST /v1/customerinvoice/{n}/action/release`, `/v1/customerCreditNote/{n}/action/release`,
//! `/v2/journaltransaction/{n}/action/release` → `{"actionId","actionResult":"Done"}`.
//! Customer documents get `vatTotal` from their lines' `vatCodeId` (rates of
//! [`FakeConfig::vat_codes`], matched by code or id, rounded per code; unknown codes → 400) and
//! `amount` = lines + VAT.
//! With `"overrideNumberSeries": {"value": true}` the posted `referenceNumber` / `batchNumber`
//! is used (duplicates → 400), which makes a document findable by a number the client chose.
//!
//! The specs are read at run time from `$CTVISMA_VISMA_SPECS` or from the first
//! `shared/specs/visma` folder above this crate (the workspace's sibling `shared/`).

// Handlers return whole HTTP responses as their error type; the size of that is irrelevant here.
#![allow(clippy::result_large_err)]

mod company;
mod config;
mod ea_docs;
mod eaccounting;
mod faults;
mod identity;
mod odata;
mod server;
mod spec;
mod store;
mod vismanet;
mod vn_docs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use config::{Account, FakeConfig, VatCode};
pub use faults::Fault;
pub use spec::{specs_dir, validate, Api, FieldError, SPECS_ENV};
pub use store::{DocKind, RecordedRequest, ValidationFailure};

use faults::FaultEntry;
use store::{Shared, Token};

/// A running fake. The server stops when the handle is dropped.
pub struct FakeVisma {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeVisma {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeVisma {
    /// Starts a fake with [`FakeConfig::default`] on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If the specs cannot be found or loaded, or the port cannot be bound (test setup errors).
    pub async fn start() -> FakeVisma {
        Self::with_config(FakeConfig::default()).await
    }

    /// Starts a fake with `config`. Must be called inside a tokio runtime.
    ///
    /// # Panics
    /// If the specs cannot be found or loaded, or the port cannot be bound (test setup errors).
    pub async fn with_config(config: FakeConfig) -> FakeVisma {
        let loaded = tokio::task::spawn_blocking(|| {
            spec::spec(Api::EAccounting)?;
            spec::spec(Api::VismaNet).map(|_| ())
        })
        .await;
        match loaded {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("ctvisma-fake-visma: {e}"),
            Err(e) => panic!("ctvisma-fake-visma: loading specs failed: {e}"),
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ctvisma-fake-visma: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        {
            let mut inner = shared.lock();
            let now = inner.timestamp(&shared);
            for (number, name) in &shared.config.vismanet_customers {
                let id = inner.next("vn-customer-internal", 1000);
                let doc = vn_docs::customer_doc(id, number, name, &now);
                inner.docs_mut(DocKind::VismaNetCustomer).push(doc);
            }
        }
        let app = axum::Router::new().fallback(server::entry).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeVisma { shared, addr, server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// eAccounting API base: `{base}/v2`.
    pub fn eaccounting_api_url(&self) -> String {
        format!("{}/v2", self.base_url())
    }

    /// eAccounting token endpoint: `{base}/connect/token`.
    pub fn eaccounting_token_url(&self) -> String {
        format!("{}/connect/token", self.base_url())
    }

    /// Visma.net API base: `{base}/vismanet` (append `/v1/...` or `/v2/...`).
    pub fn vismanet_base_url(&self) -> String {
        format!("{}{}", self.base_url(), server::VISMANET_PREFIX)
    }

    /// Visma.net token endpoint: `{base}/vismanet/connect/token`.
    pub fn vismanet_token_url(&self) -> String {
        format!("{}/connect/token", self.vismanet_base_url())
    }

    /// The eAccounting client settings for this fake: both endpoints on it, its client id and
    /// secret, and its first refresh token.
    pub fn eaccounting_config(&self) -> ctvisma_visma::eaccounting::EaccountingConfig {
        use ctvisma_visma::token_store::Secret;
        let c = self.config();
        ctvisma_visma::eaccounting::EaccountingConfig {
            api_url: self.base_url(),
            identity_url: self.base_url(),
            client_id: c.client_id.clone(),
            client_secret: Secret::new(c.client_secret.clone()),
            refresh_token: Some(Secret::new(c.initial_refresh_token.clone())),
        }
    }

    /// An eAccounting connector for `entity_id` on this fake, keeping its tokens in memory.
    pub async fn connect_eaccounting(
        &self,
        http: ctvisma_visma::http::Http,
        entity_id: &str,
        entity: &ctvisma_core::rules::Entity,
    ) -> Result<ctvisma_visma::eaccounting::Eaccounting, ctvisma_visma::VismaError> {
        ctvisma_visma::eaccounting::Eaccounting::connect(
            http,
            &self.eaccounting_config(),
            std::sync::Arc::new(ctvisma_visma::token_store::MemoryTokenStore::default()),
            entity_id,
            entity,
            ctvisma_visma::Deadline::none(),
        )
        .await
    }

    /// The Visma.net client settings for this fake (releasing what it posts).
    pub fn vismanet_config(&self) -> ctvisma_visma::vismanet::VismanetConfig {
        use ctvisma_visma::token_store::Secret;
        let c = self.config();
        ctvisma_visma::vismanet::VismanetConfig {
            api_url: self.vismanet_base_url(),
            token_url: self.vismanet_token_url(),
            client_id: c.vismanet_client_id.clone(),
            client_secret: Secret::new(c.vismanet_client_secret.clone()),
            tenant_id: c.vismanet_tenant_id.clone(),
            release: true,
        }
    }

    /// The configuration the fake runs with.
    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// Moves the fake clock forward (token expiry, rate-limit windows, timestamps, "today").
    pub fn advance(&self, by: Duration) {
        self.shared.lock().offset += by;
    }

    /// Successful eAccounting refresh-token grants so far.
    pub fn token_refreshes(&self) -> usize {
        self.shared.lock().refreshes
    }

    /// Successful Visma.net client-credentials grants so far.
    pub fn vismanet_token_grants(&self) -> usize {
        self.shared.lock().vismanet_grants
    }

    /// The eAccounting refresh token that is valid right now.
    pub fn current_refresh_token(&self) -> Option<String> {
        self.shared.lock().refresh_token.clone()
    }

    /// A valid access token for `api` without the token dance (lifetime from the config).
    pub fn issue_access_token(&self, api: Api) -> String {
        let mut inner = self.shared.lock();
        let lifetime = match api {
            Api::EAccounting => self.shared.config.access_token_lifetime,
            Api::VismaNet => self.shared.config.vismanet_token_lifetime,
        };
        let token = format!("issued-{}", store::new_uuid());
        let expires_at = inner.now(&self.shared) + lifetime;
        inner.tokens.insert(token.clone(), Token { api, expires_at });
        token
    }

    /// The next `times` API requests (any path except the token endpoints) get `fault`.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.push_fault(None, fault, times);
    }

    /// The next `times` requests whose path starts with `path_prefix` get `fault`
    /// (e.g. `"/v2/vouchers"`, `"/vismanet/v2/journaltransaction"`, `"/connect/token"`).
    pub fn inject_on(&self, path_prefix: &str, fault: Fault, times: usize) {
        self.push_fault(Some(path_prefix.to_string()), fault, times);
    }

    fn push_fault(&self, prefix: Option<String>, fault: Fault, times: usize) {
        if times > 0 {
            self.shared.lock().faults.push(FaultEntry {
                fault,
                prefix,
                remaining: times,
            });
        }
    }

    /// From now on every request whose path starts with `path_prefix` gets one of `faults` at
    /// random, each with its probability (at most one per request; write-only faults skip
    /// GETs). `seed` makes the sequence reproducible.
    pub fn inject_random(&self, path_prefix: &str, faults: Vec<(Fault, f64)>, seed: u64) {
        self.shared.lock().random_faults.push(faults::RandomFaults {
            prefix: path_prefix.to_string(),
            faults,
            state: seed.max(1),
        });
    }

    /// Removes all pending faults, counted and random.
    pub fn reset_faults(&self) {
        let mut inner = self.shared.lock();
        inner.faults.clear();
        inner.random_faults.clear();
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Stored documents of `kind`, in creation order (eAccounting ones exactly as a GET
    /// returns them; Visma.net ones in their GET shape — the posted bodies are in
    /// [`FakeVisma::requests`]).
    pub fn documents(&self, kind: DocKind) -> Vec<Value> {
        self.shared.lock().docs(kind).to_vec()
    }

    /// Every body that failed schema validation, in order.
    pub fn validation_failures(&self) -> Vec<ValidationFailure> {
        self.shared.lock().failures.clone()
    }

    /// The errors of the most recent schema-validation failure (empty if none yet).
    pub fn last_validation_errors(&self) -> Vec<FieldError> {
        self.shared
            .lock()
            .failures
            .last()
            .map(|f| f.errors.clone())
            .unwrap_or_default()
    }

    /// Visma.net requests left in the current hourly window.
    pub fn vismanet_rate_remaining(&self) -> u32 {
        let inner = self.shared.lock();
        let used = inner.vn_window.map_or(0, |w| w.1);
        self.shared.config.vismanet_hourly_limit.saturating_sub(used)
    }
}
