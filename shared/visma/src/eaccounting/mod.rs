//! Visma eAccounting v2. Every posting becomes a voucher (the "bookkeeping" route, which keeps our
//! figures to the öre); the company's accounts, VAT codes, currency and lock date are read once
//! at connect and checked against the entity's rules.
//!
//! Endpoints: `EACCOUNTING_API_URL` (host root; `/v2/…` is added) and `EACCOUNTING_IDENTITY_URL`
//! (`/connect/token` is added), per `../shared/CONTRACT.md`.

pub mod api;
pub mod auth;
pub mod company;
pub mod customer;
pub mod voucher;

use std::sync::Arc;

use ctvisma_core::base_currency::in_base_currency;
use ctvisma_core::rules::{AccountCode, Entity};
use ctvisma_core::Posting;
use reqwest::Method;
use serde_json::Value;

use self::api::{Api, TARGET};
use self::auth::EaccountingAuth;
use self::company::Company;
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
        })
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
        let posting = self.in_base(posting)?;
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
