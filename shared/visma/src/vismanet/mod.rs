//! Visma.net ERP Financials: every posting becomes a general-ledger journal transaction, released
//! when the entity's settings say so. With `documents = "invoices" | "drafts"` in the entity's
//! rules, invoices and credit notes instead become customer invoices / credit notes made out to
//! the order's customer (found or created, [`customer`]); see [`invoice`] for the body, the
//! `externalReference` they are looked up by and the VAT check. `invoices` releases them (when
//! `release` is set), `drafts` leaves them on hold. Captures, refunds and payouts stay journals. Lookups list the journal transactions of the posting's
//! financial period and match our reference in the description. The hourly request budget is read
//! from the `X-RateLimit-*` headers: when it is spent and resets later than the caller can wait,
//! the call fails as transient.
//!
//! Endpoints: `VISMANET_API_URL` (default `https://api.finance.visma.net`) and
//! `VISMANET_TOKEN_URL` (default `https://connect.visma.com/connect/token`).

mod ar;
pub mod auth;
pub mod customer;
pub mod invoice;
pub mod journal;

use std::time::Duration;

use ctvisma_core::customer::CustomerData;
use ctvisma_core::rules::Documents;
use ctvisma_core::Posting;
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use self::auth::{VismanetAuth, TARGET};
use crate::env::{need, var};
use crate::error::VismaError;
use crate::http::{Deadline, Http};
use crate::reference::document_text;
use crate::token_store::Secret;
use crate::{amount, has_effect, LedgerTarget, Posted};

#[derive(Debug, Clone)]
pub struct VismanetConfig {
    pub api_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub tenant_id: String,
    /// Release journal transactions to the ledger right after creating them.
    pub release: bool,
}

impl VismanetConfig {
    pub fn from_env() -> Result<Self, VismaError> {
        let need = |name: &str| need(TARGET, name);
        Ok(Self {
            api_url: var("VISMANET_API_URL").unwrap_or_else(|| "https://api.finance.visma.net".into()),
            token_url: var("VISMANET_TOKEN_URL").unwrap_or_else(|| "https://connect.visma.com/connect/token".into()),
            client_id: need("VISMANET_CLIENT_ID")?,
            client_secret: Secret::new(need("VISMANET_CLIENT_SECRET")?),
            tenant_id: need("VISMANET_TENANT_ID")?,
            release: var("VISMANET_RELEASE").is_none_or(|v| v != "false"),
        })
    }
}

/// What the last response said about the hourly budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateBudget {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Seconds until the budget resets.
    pub reset_secs: Option<u64>,
}

pub struct Vismanet {
    http: Http,
    base: String,
    auth: VismanetAuth,
    release: bool,
    documents: Documents,
    budget: std::sync::Mutex<RateBudget>,
}

impl Vismanet {
    pub fn new(http: Http, config: &VismanetConfig) -> Self {
        let auth = VismanetAuth::new(
            http.clone(),
            &config.token_url,
            &config.client_id,
            config.client_secret.clone(),
            &config.tenant_id,
        );
        Self {
            http,
            base: config.api_url.trim_end_matches('/').to_string(),
            auth,
            release: config.release,
            documents: Documents::Vouchers,
            budget: std::sync::Mutex::new(RateBudget::default()),
        }
    }

    /// Which documents invoices and credit notes become (the entity's `documents` rule).
    pub fn with_documents(mut self, documents: Documents) -> Self {
        self.documents = documents;
        self
    }

    /// The customer-document kind `posting` becomes, or `None` for a journal transaction.
    fn ar_kind(&self, posting: &Posting) -> Option<invoice::ArKind> {
        (self.documents != Documents::Vouchers)
            .then(|| invoice::ArKind::of(posting))
            .flatten()
    }

    pub fn budget(&self) -> RateBudget {
        self.budget.lock().map(|b| *b).unwrap_or_default()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&str>,
        deadline: Deadline,
    ) -> Result<Response, VismaError> {
        let budget = self.budget();
        if budget.remaining == Some(0) {
            let wait = Duration::from_secs(budget.reset_secs.unwrap_or(3600));
            if !deadline.allows(wait) {
                return Err(VismaError::RateLimited {
                    target: TARGET,
                    retry_after_secs: wait.as_secs(),
                });
            }
            tokio::time::sleep(wait).await;
        }
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .send_authorized(TARGET, deadline, &self.auth, method, &url, query, body, |r| {
                self.note_budget(r)
            })
            .await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Err(refusal(status, &text))
    }

    fn note_budget(&self, r: &Response) {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let budget = RateBudget {
            limit: header("x-ratelimit-limit"),
            remaining: header("x-ratelimit-remaining"),
            reset_secs: header("x-ratelimit-reset"),
        };
        if budget.remaining.is_some() {
            if let Ok(mut b) = self.budget.lock() {
                *b = budget;
            }
        }
    }
}

/// Created documents answer 201 with their address: the number is its last segment.
fn location_number(response: &Response, what: &str) -> Result<String, VismaError> {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or_else(|| VismaError::Protocol {
            target: TARGET,
            what: format!("{what} created without a Location header"),
        })
}

/// Visma.net's error bodies vary (`message`, `ExceptionMessage`); keep what there is.
fn refusal(status: StatusCode, text: &str) -> VismaError {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let message = ["message", "Message", "ExceptionMessage"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_string);
    if status == StatusCode::FORBIDDEN {
        return VismaError::Unauthorized {
            target: TARGET,
            message,
        };
    }
    VismaError::Refused {
        target: TARGET,
        code: status.as_u16().to_string(),
        message,
        // A 409 is Visma.net's optimistic-concurrency answer: another write won, try again.
        transient: status == StatusCode::CONFLICT,
    }
}

#[async_trait::async_trait]
impl LedgerTarget for Vismanet {
    fn name(&self) -> &'static str {
        TARGET
    }

    async fn find(&self, posting: &Posting, deadline: Deadline) -> Result<Option<Posted>, VismaError> {
        if !has_effect(posting) {
            return Ok(Some(Posted::nothing()));
        }
        if let Some(kind) = self.ar_kind(posting) {
            return self.find_ar(posting, kind, deadline).await;
        }
        let text = document_text(posting, journal::DESCRIPTION_MAX);
        let period = posting.date.get(..7).unwrap_or("").replace('-', "");
        let mut page = 1;
        loop {
            let query = [
                ("periodId", period.clone()),
                ("pageNumber", page.to_string()),
                ("pageSize", "500".to_string()),
            ];
            let response = self
                .call(Method::GET, "/v2/journaltransaction", &query, None, deadline)
                .await?;
            let list: Vec<Value> = response.json().await.map_err(|e| VismaError::Protocol {
                target: TARGET,
                what: format!("journal transaction list: {e}"),
            })?;
            if let Some(found) = list
                .iter()
                .find(|j| j.get("description").and_then(Value::as_str) == Some(text.as_str()))
            {
                return Ok(Some(Posted {
                    id: found
                        .get("batchNumber")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    number: found.get("batchNumber").and_then(Value::as_str).map(str::to_string),
                    total: found
                        .get("debitTotalInCurrency")
                        .and_then(amount::parse)
                        .unwrap_or_default(),
                }));
            }
            if list.len() < 500 {
                return Ok(None);
            }
            page += 1;
        }
    }

    async fn post(&self, posting: &Posting, deadline: Deadline) -> Result<Posted, VismaError> {
        if !has_effect(posting) {
            return Ok(Posted::nothing());
        }
        if self.ar_kind(posting).is_some() {
            return Err(no_customer());
        }
        let body = serde_json::to_string(&journal::journal(posting)).map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: e.to_string(),
        })?;
        let response = self
            .call(Method::POST, "/v2/journaltransaction", &[], Some(&body), deadline)
            .await?;
        let number = location_number(&response, "journal transaction")?;
        if self.release {
            let path = format!("/v2/journaltransaction/{number}/action/release");
            self.call(Method::POST, &path, &[], None, deadline).await?;
        }
        Ok(Posted {
            id: number.clone(),
            number: Some(number),
            total: crate::debit_total(posting),
        })
    }

    async fn post_once_for(
        &self,
        posting: &Posting,
        customer: Option<&CustomerData>,
        deadline: Deadline,
    ) -> Result<(Posted, bool), VismaError> {
        let Some(kind) = self.ar_kind(posting).filter(|_| has_effect(posting)) else {
            return self.post_once(posting, deadline).await;
        };
        if let Some(found) = self.find_ar(posting, kind, deadline).await? {
            return Ok((found, true));
        }
        let customer = customer.ok_or_else(no_customer)?;
        let number = self.customer_number(customer, deadline).await?;
        match self.post_ar(posting, kind, &number, deadline).await {
            // The write may have been applied although its answer was lost.
            Err(e @ VismaError::Unavailable { .. }) => match self.find_ar(posting, kind, deadline).await {
                Ok(Some(found)) => Ok((found, false)),
                _ => Err(e.unconfirmed()),
            },
            other => other.map(|p| (p, false)),
        }
    }

    /// Found or created; an existing Visma.net customer is not overwritten (finance may have
    /// corrected it there).
    async fn sync_customer(&self, customer: &CustomerData, deadline: Deadline) -> Result<Option<String>, VismaError> {
        let number = self.customer_number(customer, deadline).await?;
        Ok(Some(format!("present as {number}")))
    }
}

/// An invoice-route document needs the order's customer, which only `post_once_for` has.
fn no_customer() -> VismaError {
    VismaError::Unsupported {
        target: TARGET,
        message: "this entity books invoices and credit notes as customer documents, which need the order's customer; none was given".into(),
    }
}
