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
    /// What the customer owes for an order (or for one delivery of it, when invoicing on shipment).
    Invoice,
    /// Money received: one per successful Charge transaction.
    Capture,
    /// Money paid back: one per successful Refund transaction.
    Refund,
    /// Money taken back by the card scheme: one per successful Chargeback transaction.
    Chargeback,
    /// The reverse of (part of) an invoice: an accepted return, or a cancellation after invoicing.
    CreditNote,
    /// A PSP settlement line: the clearing account is emptied into the bank, less fees.
    Payout,
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
    /// The bank account a payout lands on.
    Bank,
    /// Money held by the PSP between settlement and payout (when the rules keep it apart).
    PspBalance,
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
    /// Captures, refunds and chargebacks: the commercetools payment and transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Credit notes: the idempotency key of the invoice they reverse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<IdempotencyKey>,
    /// A document in a currency other than the entity's base currency carries its exchange rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_rate: Option<ExchangeRate>,
    pub lines: Vec<PostingLine>,
}

/// Units of the entity's base currency for one unit of the posting's currency, and the rate
/// table's date it comes from (the newest business day on or before the posting date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    pub base_currency: String,
    pub rate: Decimal,
    pub rate_date: String,
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

    /// A posting with the common fields set and no lines yet.
    pub fn new(event: EventKind, key: IdempotencyKey, entity: &str, currency: &str, date: String) -> Self {
        Self {
            event,
            idempotency_key: key,
            entity: entity.to_string(),
            currency: currency.to_string(),
            date,
            external_ref: String::new(),
            order_id: None,
            payment_id: None,
            transaction_id: None,
            refers_to: None,
            exchange_rate: None,
            lines: Vec::new(),
        }
    }
}

/// The JSON document `ctvisma map` prints: `{"postings":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingDocument {
    pub postings: Vec<Posting>,
}
