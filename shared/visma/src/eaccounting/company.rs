//! What the eAccounting company has, read once at start-up: its currency, lock date, chart of
//! accounts and VAT codes. Rules that point at an account or VAT code the company lacks are
//! refused up front with the full list, instead of failing posting by posting.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use ctvisma_core::rules::Entity;
use reqwest::Method;
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
