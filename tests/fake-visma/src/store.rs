//! Shared server state: the fake clock, tokens, stored documents, request log, counters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::config::FakeConfig;
use crate::faults::{FaultEntry, RandomFaults};
use crate::spec::{Api, FieldError};

/// Kinds of documents the fake stores (see [`crate::FakeVisma::documents`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// eAccounting `VoucherApi`.
    Voucher,
    /// eAccounting `CustomerInvoiceDraftApi` (removed when converted).
    CustomerInvoiceDraft,
    /// eAccounting `CustomerInvoiceApi` (converted drafts and direct posts).
    CustomerInvoice,
    /// eAccounting `CustomerApi`.
    Customer,
    /// eAccounting `ArticleApi`.
    Article,
    /// Visma.net customer invoice (stored in the `CustomerInvoiceDto` read shape).
    VismaNetCustomerInvoice,
    /// Visma.net customer credit note (read shape).
    VismaNetCreditNote,
    /// Visma.net journal transaction (`JournalTransactionDto` read shape).
    VismaNetJournalTransaction,
    /// Visma.net customer (`CustomerDto` read shape).
    VismaNetCustomer,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path as requested (percent-encoded form), e.g. `/v2/vouchers` or `/vismanet/v1/customer`.
    pub path: String,
    /// Raw query string (without `?`), empty if none.
    pub query: String,
    /// Status code the fake answered.
    pub status: u16,
    /// The JSON body, if the request had one that parsed.
    pub body: Option<Value>,
}

/// A request body that failed schema validation.
#[derive(Clone, Debug)]
pub struct ValidationFailure {
    /// Which API.
    pub api: Api,
    /// Method of the request.
    pub method: String,
    /// Path of the request.
    pub path: String,
    /// The spec's path template that matched.
    pub template: String,
    /// The violations.
    pub errors: Vec<FieldError>,
}

pub(crate) struct Token {
    pub api: Api,
    pub expires_at: Duration,
}

pub(crate) struct Shared {
    pub config: FakeConfig,
    pub base_url: String,
    start: Instant,
    start_utc: DateTime<Utc>,
    pub inner: Mutex<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub offset: Duration,
    pub tokens: HashMap<String, Token>,
    pub refresh_token: Option<String>,
    pub refreshes: usize,
    pub vismanet_grants: usize,
    pub docs: HashMap<DocKind, Vec<Value>>,
    pub faults: Vec<FaultEntry>,
    pub random_faults: Vec<RandomFaults>,
    pub requests: Vec<RecordedRequest>,
    pub failures: Vec<ValidationFailure>,
    pub counters: HashMap<String, i64>,
    /// Visma.net fixed window: (start, used).
    pub vn_window: Option<(Duration, u32)>,
    /// eAccounting per-URL minute windows.
    pub ea_windows: HashMap<String, (Duration, u32)>,
}

impl Shared {
    pub fn new(config: FakeConfig, base_url: String) -> Self {
        let inner = Inner {
            refresh_token: Some(config.initial_refresh_token.clone()),
            ..Inner::default()
        };
        Self {
            config,
            base_url,
            start: Instant::now(),
            start_utc: Utc::now(),
            inner: Mutex::new(inner),
        }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        crate::spec::lock(&self.inner)
    }
}

impl Inner {
    /// Fake time since start: real elapsed time plus everything `advance`d.
    pub fn now(&self, shared: &Shared) -> Duration {
        shared.start.elapsed() + self.offset
    }

    pub fn utc_now(&self, shared: &Shared) -> DateTime<Utc> {
        let now = self.now(shared);
        shared.start_utc + chrono::Duration::from_std(now).unwrap_or_default()
    }

    pub fn today(&self, shared: &Shared) -> NaiveDate {
        self.utc_now(shared).date_naive()
    }

    pub fn timestamp(&self, shared: &Shared) -> String {
        self.utc_now(shared).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// Next value of a named counter, starting at `first`.
    pub fn next(&mut self, name: &str, first: i64) -> i64 {
        let c = self.counters.entry(name.to_string()).or_insert(first - 1);
        *c += 1;
        *c
    }

    pub fn docs(&self, kind: DocKind) -> &[Value] {
        self.docs.get(&kind).map_or(&[], Vec::as_slice)
    }

    pub fn docs_mut(&mut self, kind: DocKind) -> &mut Vec<Value> {
        self.docs.entry(kind).or_default()
    }
}

pub(crate) fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

pub(crate) fn set_header(resp: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// Rounds to 2 decimals (money).
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Case-insensitive lookup of a top-level property.
pub(crate) fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}
