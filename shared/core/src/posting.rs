//! The posting document: what `ctvisma map` prints and every Visma connector consumes.
//! Amounts are signed decimal strings (debit positive, credit negative) in the currency's
//! fraction digits; every posting's lines sum to exactly zero.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::keys::IdempotencyKey;
use crate::rules::AccountCode;

/// The financial event a posting records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Invoice,
}

/// What a posting line stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Receivable,
    Revenue,
    Shipping,
    Discount,
    GiftCard,
    Vat,
    Rounding,
    Payment,
    Fee,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingLine {
    pub role: Role,
    pub account: AccountCode,
    pub amount: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_code: Option<String>,
    /// Percent without trailing zeros ("25", "5.5", "0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub event: EventKind,
    pub idempotency_key: IdempotencyKey,
    pub entity: String,
    pub currency: String,
    /// Local date in the entity's time zone, `YYYY-MM-DD`.
    pub date: String,
    /// Our stable reference on the Visma document (the order number, else the order id).
    pub external_ref: String,
    /// The commercetools order the posting belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub lines: Vec<PostingLine>,
}

impl Posting {
    /// Sum of all line amounts; zero for every posting the mapper emits.
    pub fn balance(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }

    /// Sum of the lines with one role.
    pub fn total(&self, role: Role) -> Decimal {
        self.lines.iter().filter(|l| l.role == role).map(|l| l.amount).sum()
    }
}

/// The JSON document `ctvisma map` prints: `{"postings":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingDocument {
    pub postings: Vec<Posting>,
}
