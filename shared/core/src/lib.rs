//! ctvisma core: commercetools models, money, posting rules and the order → posting mapper.
//!
//! Pure by design: no I/O, no AWS, no clock. Every rule that decides a number lives here:
//! - money and rounding: [`money`]
//! - what commercetools sends: [`commercetools`], and how inputs are unwrapped: [`input`]
//! - which entity, account and VAT code: [`rules`]
//! - the invoice posting and its checks: [`mapper`]
//! - the output document: [`posting`]; idempotency keys: [`keys`]
//! - who an invoice is made out to: [`customer`]; what a product variant becomes: [`article`]
//! - what can go wrong: [`validation`], [`error`]

pub mod article;
pub mod base_currency;
pub mod commercetools;
pub mod customer;
pub mod error;
pub mod input;
pub mod keys;
pub mod mapper;
pub mod money;
pub mod posting;
pub mod rates;
pub mod rules;
pub mod settlement;
pub mod validation;

pub use error::{Classify, CoreError, ErrorClass};
pub use mapper::{map_cancellation, map_credit_notes, map_delivery_invoices, map_invoice, map_payment};
pub use posting::{Posting, PostingDocument, PostingLine, Role};
pub use rules::Rules;
pub use validation::{Problem, ValidationError};
