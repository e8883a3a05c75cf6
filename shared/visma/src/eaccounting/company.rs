//! What the eAccounting company has, read once at start-up: its currency, lock date, chart of
//! accounts and VAT codes. Rules that point at an account or VAT code the company lacks are
//! refused up front with the full list, instead of failing posting by posting.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use ctvisma_core::rules::Entity;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::Value;

use super::api::Api;
use crate::error::VismaError;
use crate::http::Deadline;

#[derive(Debug, Clone, Default)]
pub struct Company {
    pub currency: Option<String>,
    /// Bookkeeping is locked up to and including this date.
    pub locked_to: Option<NaiveDate>,
    /// Active account numbers.
    pub accounts: BTreeSet<i64>,
    /// VAT code ("MP1") → eAccounting's id.
    pub vat_codes: BTreeMap<String, String>,
}

impl Company {
    pub async fn load(api: &Api, deadline: Deadline) -> Result<Self, VismaError> {
        let settings = api
            .call(Method::GET, "/v2/companysettings", &[], None, deadline)
            .await?;
        let locked_to = settings
            .get("AccountingLockedTo")
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok());
        let accounts = pages(api, "/v2/accounts", deadline)
            .await?
            .iter()
            .filter(|a| a.get("IsActive").and_then(Value::as_bool).unwrap_or(true))
            // AccountApi.Number is a string in the spec; voucher rows take it as an integer.
            .filter_map(|a| match a.get("Number")? {
                Value::String(s) => s.trim().parse().ok(),
                n => n.as_i64(),
            })
            .collect();
        let vat_codes = pages(api, "/v2/vatcodes", deadline)
            .await?
            .iter()
            .filter_map(|v| Some((v.get("Code")?.as_str()?.to_string(), v.get("Id")?.as_str()?.to_string())))
            .collect();
        Ok(Self {
            currency: settings.get("CurrencyCode").and_then(Value::as_str).map(str::to_string),
            locked_to,
            accounts,
            vat_codes,
        })
    }

    /// Everything `entity`'s rules name that this company lacks.
    pub fn missing_for(&self, entity_id: &str, entity: &Entity) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(c) = &self.currency {
            if *c != entity.base_currency {
                missing.push(format!(
                    "entities.{entity_id}.base_currency is {} but the company keeps {c}",
                    entity.base_currency
                ));
            }
        }
        for (path, account) in referenced_accounts(entity) {
            match account.parse::<i64>() {
                Ok(n) if self.accounts.contains(&n) => {}
                Ok(_) => missing.push(format!(
                    "entities.{entity_id}.{path} = {account}: no such active account"
                )),
                Err(_) => missing.push(format!(
                    "entities.{entity_id}.{path} = {account:?}: not an account number"
                )),
            }
        }
        for (i, rule) in entity.vat.iter().enumerate() {
            if !self.vat_codes.contains_key(&rule.code) {
                missing.push(format!(
                    "entities.{entity_id}.vat[{i}].code = {:?}: no such VAT code",
                    rule.code
                ));
            }
        }
        missing
    }
}

/// Every account an entity's rules can post to, with where it is set.
pub fn referenced_accounts(entity: &Entity) -> Vec<(String, String)> {
    let a = &entity.accounts;
    let mut out: Vec<(String, String)> = [
        ("accounts.receivable", &a.receivable),
        ("accounts.revenue", &a.revenue),
        ("accounts.shipping", &a.shipping),
        ("accounts.discount", &a.discount),
        ("accounts.gift_card", &a.gift_card),
        ("accounts.rounding", &a.rounding),
        ("payments.clearing", &entity.payments.clearing),
        ("payments.goodwill", &entity.payments.goodwill),
        ("payouts.bank", &entity.payouts.bank),
        ("payouts.fees", &entity.payouts.fees),
        ("payouts.balance", &entity.payouts.balance),
    ]
    .into_iter()
    .filter_map(|(p, acc)| acc.as_ref().map(|acc| (p.to_string(), acc.0.clone())))
    .collect();
    let maps = [
        ("payments.by_interface", &entity.payments.by_interface),
        ("payments.by_method", &entity.payments.by_method),
        ("revenue.by_sku", &entity.revenue.by_sku),
        ("revenue.by_product_type", &entity.revenue.by_product_type),
        ("revenue.by_tax_category", &entity.revenue.by_tax_category),
        (
            "revenue.by_custom_line_item_slug",
            &entity.revenue.by_custom_line_item_slug,
        ),
        ("shipping.by_method", &entity.shipping.by_method),
    ];
    for (path, map) in maps {
        for (k, acc) in map {
            out.push((format!("{path}.{k:?}"), acc.0.clone()));
        }
    }
    for (i, rule) in entity.vat.iter().enumerate() {
        if let Some(acc) = &rule.account {
            out.push((format!("vat[{i}].account"), acc.0.clone()));
        }
        if let Some(acc) = &rule.revenue_account {
            out.push((format!("vat[{i}].revenue_account"), acc.0.clone()));
        }
    }
    out
}

/// Every item of a paged list (`{Meta: {CurrentPage, TotalNumberOfPages}, Data: […]}`).
pub(crate) async fn pages(api: &Api, path: &str, deadline: Deadline) -> Result<Vec<Value>, VismaError> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let query = [("$page", page.to_string()), ("$pagesize", "500".to_string())];
        let body = api.call(Method::GET, path, &query, None, deadline).await?;
        let data = body.get("Data").and_then(Value::as_array).cloned().unwrap_or_default();
        out.extend(data);
        let total = body
            .pointer("/Meta/TotalNumberOfPages")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if page >= total {
            return Ok(out);
        }
        page += 1;
    }
}

/// What invoice documents need besides accounts: the article account codings (which sales account
/// and VAT rate an article books) and the unit new articles get.
#[derive(Debug, Clone, Default)]
pub struct Invoicing {
    pub codings: Vec<Coding>,
    /// The unit of new articles: "st" / "pcs" when the company has it, else its first unit.
    pub unit_id: String,
}

/// One article account coding (`ArticleAccountCodingApi`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coding {
    pub id: String,
    pub name: String,
    /// Percent ("25", "12", "0").
    pub vat_percent: Decimal,
    pub domestic_account: Option<i64>,
    /// The accounts the coding books for sales abroad or exempt sales (all at 0 % VAT).
    pub zero_rated_accounts: Vec<i64>,
}

impl Coding {
    /// Whether an article with this coding books `account` at `percent` VAT.
    pub fn books(&self, account: i64, percent: Decimal) -> bool {
        if percent != self.vat_percent && !percent.is_zero() {
            return false;
        }
        (percent == self.vat_percent && self.domestic_account == Some(account))
            || (percent.is_zero() && self.zero_rated_accounts.contains(&account))
    }
}

impl Invoicing {
    pub async fn load(api: &Api, deadline: Deadline) -> Result<Self, VismaError> {
        let codings = pages(api, "/v2/articleaccountcodings", deadline)
            .await?
            .iter()
            .filter(|c| c.get("IsActive").and_then(Value::as_bool).unwrap_or(true))
            .filter_map(coding)
            .collect();
        let units = pages(api, "/v2/units", deadline).await?;
        let abbreviation = |u: &Value| {
            u.get("Abbreviation")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let unit = units
            .iter()
            .find(|u| ["st", "pcs", "stk"].contains(&abbreviation(u).as_str()))
            .or_else(|| units.first())
            .and_then(|u| u.get("Id").and_then(Value::as_str))
            .map(str::to_string)
            .ok_or_else(|| VismaError::Setup {
                target: super::api::TARGET,
                missing: vec!["a unit for articles (/v2/units is empty)".into()],
            })?;
        Ok(Self { codings, unit_id: unit })
    }

    /// Domestic revenue of every VAT rule (its revenue account at its rate) needs a coding that
    /// books it; other lines are checked when an invoice needs them.
    pub fn missing_for(&self, entity_id: &str, entity: &Entity) -> Vec<String> {
        let mut missing = Vec::new();
        for (i, rule) in entity.vat.iter().enumerate() {
            if !rule.country.eq_ignore_ascii_case(&entity.country) {
                continue;
            }
            let (Some(account), Some(rate)) = (&rule.revenue_account, rule.rate()) else {
                continue;
            };
            let Ok(number) = account.0.parse::<i64>() else {
                continue; // reported as "not an account number" by Company::missing_for
            };
            if self.coding_for(number, rate.normalize()).is_none() {
                missing.push(format!(
                    "entities.{entity_id}.vat[{i}].revenue_account = {account} at {} %: no article account coding books it (documents = invoices needs one)",
                    rate.normalize()
                ));
            }
        }
        missing
    }

    /// The coding that books `account` at `percent`; a domestic match wins over a zero-rated one.
    pub fn coding_for(&self, account: i64, percent: Decimal) -> Option<&Coding> {
        self.codings
            .iter()
            .find(|c| c.domestic_account == Some(account) && c.vat_percent == percent)
            .or_else(|| self.codings.iter().find(|c| c.books(account, percent)))
    }
}

fn coding(c: &Value) -> Option<Coding> {
    let account = |key: &str| c.get(key).and_then(Value::as_i64);
    let vat_percent = c.get("VatRatePercent").and_then(crate::amount::parse)? * Decimal::ONE_HUNDRED;
    Some(Coding {
        id: c.get("Id")?.as_str()?.to_string(),
        name: c.get("Name").and_then(Value::as_str).unwrap_or_default().to_string(),
        vat_percent: vat_percent.normalize(),
        domestic_account: account("DomesticSalesSubjectToVatAccountNumber"),
        zero_rated_accounts: [
            "DomesticSalesVatExemptAccountNumber",
            "DomesticSalesVatCodeExemptAccountNumber",
            "ForeignSalesSubjectToThirdPartySalesAccountNumber",
            "ForeignSalesSubjectToVatWithinEuAccountNumber",
            "ForeignSalesVatExemptOutsideEuAccountNumber",
            "ForeignSalesVatExemptWithinEuAccountNumber",
        ]
        .into_iter()
        .filter_map(account)
        .collect(),
    })
}
