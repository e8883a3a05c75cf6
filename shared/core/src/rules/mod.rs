//! Posting rules: which legal entity an order belongs to, and which accounts and VAT codes its
//! lines post to. Loaded from a TOML file (`config/rules.toml` is the complete example).
//!
//! Where each rule lives:
//! - entity routing (store key → country → currency): [`routing`]
//! - revenue / shipping / gift-card accounts per line: [`accounts`]
//! - VAT code and VAT account by (entity, tax country, rate): [`vat`]
//! - when to invoice, clearing accounts, goodwill, returns and payouts: [`payments`]

pub mod accounts;
pub mod payments;
pub mod routing;
pub mod stock;
pub mod vat;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use accounts::{LineAccount, LineKind, LineRef};
pub use payments::{Clearing, InvoiceTrigger, PaymentRules, PayoutRules, ReturnRules};
pub use vat::{VatRule, VatScope};

/// A ledger account number as Visma and SIE know it ("1510", "3001").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct AccountCode(pub String);

impl std::fmt::Display for AccountCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The whole rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub routing: routing::Routing,
    pub entities: BTreeMap<String, Entity>,
    /// Exchange rates for documents not in the entity's base currency.
    #[serde(default)]
    pub fx: FxRules,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxRules {
    /// A rate table in the ECB euro reference CSV format; a relative path is relative to the
    /// rules file. Whoever loads the rules reads it (the core does no I/O).
    pub rates: Option<String>,
}

/// Where an entity's postings go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Sie,
    Eaccounting,
    Vismanet,
}

/// How line discounts are posted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscountPosting {
    /// Revenue at the undiscounted net, plus a `discount` line for the difference (default).
    #[default]
    Separate,
    /// Revenue at the discounted net only.
    Net,
}

/// Which Visma documents an entity's invoices and credit notes become. Payment events (captures,
/// refunds, chargebacks, payouts) are always vouchers; SIE files always hold vouchers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Documents {
    /// Bookkeeping only: every posting is a voucher / journal transaction (default).
    #[default]
    Vouchers,
    /// Customer invoices and credit invoices, booked at once.
    Invoices,
    /// Invoice drafts that finance reviews and converts in Visma (eAccounting); Visma.net
    /// documents left on hold, not released.
    Drafts,
}

/// A legal entity: its own Visma company, currency, time zone, accounts and VAT codes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    pub name: String,
    /// The entity's home country (ISO 3166-1 alpha-2): decides what counts as "EU" and "foreign".
    pub country: String,
    pub base_currency: String,
    /// IANA time zone, e.g. "Europe/Stockholm"; posting dates are local dates here.
    pub time_zone: String,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub documents: Documents,
    #[serde(default)]
    pub discounts: DiscountPosting,
    #[serde(default)]
    pub invoice_on: InvoiceTrigger,
    pub accounts: accounts::EntityAccounts,
    #[serde(default)]
    pub revenue: accounts::RevenueRules,
    #[serde(default)]
    pub shipping: accounts::ShippingRules,
    #[serde(default)]
    pub gift_cards: accounts::GiftCardRules,
    #[serde(default)]
    pub vat: Vec<VatRule>,
    #[serde(default)]
    pub payments: PaymentRules,
    #[serde(default)]
    pub returns: ReturnRules,
    #[serde(default)]
    pub payouts: PayoutRules,
    /// Stock sync (`[entities.<ID>.stock]`); none without the section.
    #[serde(default)]
    pub stock: Option<stock::StockRules>,
}

/// A problem in the rules file itself (not in an order).
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("rules file is not valid TOML for the rules schema: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error("rules file is inconsistent: {}", .0.join("; "))]
    Inconsistent(Vec<String>),
}

impl Rules {
    /// Parses and checks a rules file: every route names an existing entity, every time zone and
    /// VAT rate parses.
    pub fn from_toml(text: &str) -> Result<Self, RulesError> {
        let rules: Rules = toml::from_str(text)?;
        let problems = rules.self_check();
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(RulesError::Inconsistent(problems))
        }
    }

    fn self_check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (level, key, entity) in self.routing.routes() {
            if !self.entities.contains_key(entity) {
                problems.push(format!("routing.{level}.{key} names unknown entity {entity:?}"));
            }
        }
        for (id, e) in &self.entities {
            if e.time_zone.parse::<chrono_tz::Tz>().is_err() {
                problems.push(format!("entities.{id}.time_zone {:?} is not an IANA zone", e.time_zone));
            }
            for (i, v) in e.vat.iter().enumerate() {
                if v.rate().is_none() {
                    problems.push(format!("entities.{id}.vat[{i}].rate {:?} is not a percent", v.rate));
                }
            }
            if let Some(stock) = &e.stock {
                problems.extend(stock.problems(id));
            }
        }
        problems
    }
}
