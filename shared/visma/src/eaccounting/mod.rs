//! Visma eAccounting v2. By default every posting becomes a voucher (the "bookkeeping" route,
//! which keeps our figures to the öre). With `documents = "invoices" | "drafts"` in the entity's
//! rules, invoices and credit notes become customer (credit) invoices or drafts made out to the
//! order's customer ([`invoice`]); payment events stay vouchers. The company's accounts, VAT
//! codes, currency, lock date (and for invoices its article codings) are read once at connect
//! and checked against the entity's rules.
//!
//! Endpoints: `EACCOUNTING_API_URL` (host root; `/v2/…` is added) and `EACCOUNTING_IDENTITY_URL`
//! (`/connect/token` is added), per `../shared/CONTRACT.md`.

pub mod api;
pub mod article;
pub mod auth;
pub mod company;
pub mod customer;
pub mod invoice;
pub mod stock;
pub mod voucher;

use std::sync::Arc;

use ctvisma_core::article::ArticleSpec;
use ctvisma_core::base_currency::in_base_currency;
use ctvisma_core::customer::CustomerData;
use ctvisma_core::posting::EventKind;
use ctvisma_core::rules::{AccountCode, Documents, Entity};
use ctvisma_core::Posting;
use reqwest::Method;
use serde_json::Value;

use self::api::{Api, TARGET};
use self::auth::EaccountingAuth;
use self::company::{Company, Invoicing};
use self::invoice::{is_invoice_document, Found, REFERENCE_MAX};
use crate::env::{need, var};
use crate::error::VismaError;
use crate::http::{Deadline, Http};
use crate::reference::{document_text, odata_literal};
use crate::token_store::{Secret, TokenStore};
use crate::{amount, has_effect, LedgerTarget, Posted};

/// Where and who: read from the environment in local runs, from Secrets Manager in AWS.
#[derive(Debug, Clone)]
pub struct EaccountingConfig {
    pub api_url: String,
    pub identity_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// The first refresh token; a rotated one saved in the token store wins over it.
    pub refresh_token: Option<Secret>,
}

impl EaccountingConfig {
    pub fn from_env() -> Result<Self, VismaError> {
        let need = |name: &str| need(TARGET, name);
        Ok(Self {
            api_url: var("EACCOUNTING_API_URL").unwrap_or_else(|| "https://eaccountingapi.vismaonline.com".into()),
            identity_url: var("EACCOUNTING_IDENTITY_URL").unwrap_or_else(|| "https://identity.vismaonline.com".into()),
            client_id: need("EACCOUNTING_CLIENT_ID")?,
            client_secret: Secret::new(need("EACCOUNTING_CLIENT_SECRET")?),
            refresh_token: var("EACCOUNTING_REFRESH_TOKEN").map(Secret::new),
        })
    }
}

/// One eAccounting company: the target of one entity.
pub struct Eaccounting {
    api: Api,
    pub company: Company,
    base_currency: String,
    rounding: AccountCode,
    documents: Documents,
    /// Article codings and unit: read at connect when invoices are made, else on first use.
    invoicing: tokio::sync::OnceCell<Invoicing>,
}

impl Eaccounting {
    /// Connects, reads the company and refuses rules that name what it lacks (all at once).
    pub async fn connect(
        http: Http,
        config: &EaccountingConfig,
        store: Arc<dyn TokenStore>,
        entity_id: &str,
        entity: &Entity,
        deadline: Deadline,
    ) -> Result<Self, VismaError> {
        let auth = EaccountingAuth::new(
            http.clone(),
            &config.identity_url,
            &config.client_id,
            config.client_secret.clone(),
            config.refresh_token.clone(),
            store,
        );
        let api = Api {
            http,
            base: config.api_url.clone(),
            auth,
        };
        let company = Company::load(&api, deadline).await?;
        let mut missing = company.missing_for(entity_id, entity);
        let invoicing = tokio::sync::OnceCell::new();
        if entity.documents != Documents::Vouchers {
            let loaded = Invoicing::load(&api, deadline).await?;
            missing.extend(loaded.missing_for(entity_id, entity));
            let _ = invoicing.set(loaded);
        }
        if entity.accounts.rounding.is_none() {
            missing.push(format!(
                "entities.{entity_id}.accounts.rounding: needed for currency rounding on vouchers"
            ));
        }
        if !missing.is_empty() {
            return Err(VismaError::Setup {
                target: TARGET,
                missing,
            });
        }
        Ok(Self {
            api,
            company,
            base_currency: entity.base_currency.clone(),
            rounding: entity.accounts.rounding.clone().unwrap_or(AccountCode(String::new())),
            documents: entity.documents,
            invoicing,
        })
    }

    /// The company's article codings and unit, read once.
    async fn invoicing(&self, deadline: Deadline) -> Result<&Invoicing, VismaError> {
        self.invoicing
            .get_or_try_init(|| Invoicing::load(&self.api, deadline))
            .await
    }

    /// Whether `posting` becomes an invoice document rather than a voucher.
    fn invoice_route(&self, posting: &Posting) -> bool {
        self.documents != Documents::Vouchers && is_invoice_document(posting)
    }

    /// Refuses a date in the company's locked period before anything is written.
    fn check_open(&self, posting: &Posting) -> Result<(), VismaError> {
        if let (Some(locked), Ok(date)) = (
            self.company.locked_to,
            chrono::NaiveDate::parse_from_str(&posting.date, "%Y-%m-%d"),
        ) {
            if date <= locked {
                return Err(VismaError::Refused {
                    target: TARGET,
                    code: "4026".into(),
                    message: format!(
                        "{} is in a locked period (bookkeeping locked to {locked}): unlock it or move the date",
                        posting.date
                    ),
                    transient: false,
                });
            }
        }
        Ok(())
    }

    /// The invoice document of `posting`, if one exists: an invoice, or (in drafts mode, or
    /// half-way through a conversion) a draft.
    async fn existing_document(&self, posting: &Posting, deadline: Deadline) -> Result<Option<Found>, VismaError> {
        invoice::find_document(&self.api, &document_text(posting, REFERENCE_MAX), deadline).await
    }

    /// Finds or makes the invoice document of `posting` (see [`invoice`]).
    async fn post_invoice_document(
        &self,
        posting: &Posting,
        customer: Option<&CustomerData>,
        deadline: Deadline,
    ) -> Result<(Posted, bool), VismaError> {
        let base = self.in_base(posting)?;
        let expected = invoice::expected_totals(&base);
        let found = self.existing_document(posting, deadline).await?;
        if let Some(f) = &found {
            if !f.is_draft || self.documents == Documents::Drafts {
                return Ok((f.posted(), true));
            }
        }
        let draft = match found {
            Some(draft) => draft,
            None => self.create_draft(&base, customer, deadline).await?,
        };
        invoice::check_totals(&draft, expected, posting)?;
        if self.documents == Documents::Drafts {
            return Ok((draft.posted(), false));
        }
        match invoice::convert(&self.api, &draft.id, expected, deadline).await {
            Ok(invoice) => Ok((invoice.posted(), false)),
            // The answer was lost: the conversion may have happened.
            Err(e @ VismaError::Unavailable { .. }) => match self.existing_document(posting, deadline).await {
                Ok(Some(f)) if !f.is_draft => Ok((f.posted(), false)),
                _ => Err(e.unconfirmed()),
            },
            Err(e) => Err(e),
        }
    }

    /// The customer, the articles and the draft of `base` (a posting in the company's currency).
    async fn create_draft(
        &self,
        base: &Posting,
        customer: Option<&CustomerData>,
        deadline: Deadline,
    ) -> Result<Found, VismaError> {
        self.check_open(base)?;
        let invoicing = self.invoicing(deadline).await?;
        let rows = invoice::plan_rows(base, invoicing)?;
        let mut customer = customer.cloned().ok_or_else(|| VismaError::Unsupported {
            target: TARGET,
            message: format!(
                "{}: an invoice document needs the order's customer, and the order is not at hand",
                base.idempotency_key
            ),
        })?;
        // Documents are in the company's currency (amounts are converted like vouchers').
        customer.currency = None;
        let customer_id = customer::upsert_customer(self, &customer, deadline).await?.id;
        let credited = match (&base.event, &base.refers_to) {
            (EventKind::CreditNote, Some(key)) => {
                let found = invoice::find_credited(&self.api, &customer_id, &key.to_string(), deadline).await?;
                // Out of order: the invoice it credits is not in eAccounting yet. Retry later.
                Some(found.ok_or_else(|| VismaError::Refused {
                    target: TARGET,
                    code: "out_of_order".into(),
                    message: format!(
                        "{}: the invoice it credits ({key}) is not in eAccounting yet",
                        base.idempotency_key
                    ),
                    transient: true,
                })?)
            }
            _ => None,
        };
        let mut with_articles = Vec::with_capacity(rows.len());
        for row in rows {
            let id = invoice::article_for(&self.api, &row, &invoicing.unit_id, deadline).await?;
            with_articles.push((row, id));
        }
        let body = invoice::draft_body(base, &customer_id, &with_articles, credited.as_ref());
        match invoice::create_draft(&self.api, &body, deadline).await {
            Ok(draft) => Ok(draft),
            Err(e @ VismaError::Unavailable { .. }) => match self.existing_document(base, deadline).await {
                Ok(Some(found)) => Ok(found),
                _ => Err(e.unconfirmed()),
            },
            Err(e) => Err(e),
        }
    }

    /// The authenticated API client, for the other eAccounting modules (customers, …).
    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    fn in_base(&self, posting: &Posting) -> Result<Posting, VismaError> {
        in_base_currency(posting, &self.base_currency, &self.rounding).map_err(|e| VismaError::Unsupported {
            target: TARGET,
            message: e.to_string(),
        })
    }
}

#[async_trait::async_trait]
impl LedgerTarget for Eaccounting {
    fn name(&self) -> &'static str {
        TARGET
    }

    async fn find(&self, posting: &Posting, deadline: Deadline) -> Result<Option<Posted>, VismaError> {
        if !has_effect(posting) {
            return Ok(Some(Posted::nothing()));
        }
        if self.invoice_route(posting) {
            let found = self.existing_document(posting, deadline).await?;
            return Ok(found
                .filter(|f| !f.is_draft || self.documents == Documents::Drafts)
                .map(|f| f.posted()));
        }
        let text = document_text(posting, voucher::VOUCHER_TEXT_MAX);
        let query = [("$filter", format!("VoucherText eq {}", odata_literal(&text)))];
        let body = self
            .api
            .call(Method::GET, "/v2/vouchers", &query, None, deadline)
            .await?;
        let found = body
            .get("Data")
            .and_then(Value::as_array)
            .and_then(|d| d.first())
            .cloned();
        Ok(found.map(|v| posted(&v)))
    }

    async fn post(&self, posting: &Posting, deadline: Deadline) -> Result<Posted, VismaError> {
        if !has_effect(posting) {
            return Ok(Posted::nothing());
        }
        if self.invoice_route(posting) {
            return self
                .post_invoice_document(posting, None, deadline)
                .await
                .map(|(p, _)| p);
        }
        let posting = self.in_base(posting)?;
        self.check_open(&posting)?;
        let body = voucher::voucher(&posting, &self.company)?;
        let text = serde_json::to_string(&body).map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: e.to_string(),
        })?;
        let query = [
            ("useAutomaticVatCalculation", "false".to_string()),
            ("useDefaultVatCodes", "false".to_string()),
            ("useDefaultVoucherSeries", "true".to_string()),
        ];
        let created = self
            .api
            .call(Method::POST, "/v2/vouchers", &query, Some(&text), deadline)
            .await?;
        Ok(posted(&created))
    }

    async fn post_once_for(
        &self,
        posting: &Posting,
        customer: Option<&CustomerData>,
        deadline: Deadline,
    ) -> Result<(Posted, bool), VismaError> {
        if !has_effect(posting) || !self.invoice_route(posting) {
            return self.post_once(posting, deadline).await;
        }
        self.post_invoice_document(posting, customer, deadline).await
    }

    async fn sync_customer(&self, customer: &CustomerData, deadline: Deadline) -> Result<Option<String>, VismaError> {
        let outcome = customer::upsert_customer(self, customer, deadline).await?;
        Ok(Some(match outcome.action {
            customer::CustomerAction::Created => "created".into(),
            customer::CustomerAction::Updated(fields) => format!("updated ({})", fields.join(", ")),
            customer::CustomerAction::Unchanged => "unchanged".into(),
        }))
    }

    async fn sync_article(&self, spec: &ArticleSpec, deadline: Deadline) -> Result<Option<String>, VismaError> {
        let invoicing = self.invoicing(deadline).await?;
        let account: i64 = spec.account.0.parse().map_err(|_| VismaError::Setup {
            target: TARGET,
            missing: vec![format!(
                "SKU {}: account {:?} is not a number",
                spec.sku, spec.account.0
            )],
        })?;
        let coding = invoicing
            .coding_for(account, spec.vat_percent)
            .ok_or_else(|| VismaError::Setup {
                target: TARGET,
                missing: vec![format!(
                    "SKU {}: an article account coding that books account {account} at {} % VAT ({})",
                    spec.sku, spec.vat_percent, spec.rule
                )],
            })?;
        let data = article::ArticleData {
            number: spec.sku.clone(),
            name: spec.name.clone(),
            coding_id: coding.id.clone(),
            unit_id: invoicing.unit_id.clone(),
        };
        let (_, action) = article::upsert_article(&self.api, &data, deadline).await?;
        Ok(Some(match action {
            article::ArticleAction::Created => "created".into(),
            article::ArticleAction::Updated(fields) => format!("updated ({})", fields.join(", ")),
            article::ArticleAction::Unchanged => "unchanged".into(),
        }))
    }
}

/// A voucher as Visma returns it: id, number with series, and the sum of its debits.
fn posted(voucher: &Value) -> Posted {
    let total = voucher
        .get("Rows")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r.get("DebitAmount").and_then(amount::parse))
                .sum()
        })
        .unwrap_or_default();
    Posted {
        id: voucher
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        number: voucher
            .get("NumberAndNumberSeries")
            .and_then(Value::as_str)
            .map(str::to_string),
        total,
    }
}
