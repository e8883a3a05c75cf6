//! What every ctvisma Lambda shares, so each `functions/<name>/src/main.rs` stays ten lines:
//! - [`setup`]: logging, configuration, AWS clients, store, Visma targets — once per cold start;
//! - [`driver`]: the SQS batch driver — each record through the shared handler, transient
//!   failures to the retry queue with back-off, permanent ones (or too many attempts) to the
//!   parking queue with the reason, and a partial batch response for anything it could not move;
//! - [`export`]: the scheduled SIE export of every SIE entity's new ledger postings to S3;
//! - [`stock`]: the scheduled stock sync between Visma and commercetools, per entity;
//! - [`metrics`]: business metrics as CloudWatch Embedded Metric Format lines.

pub mod driver;
pub mod export;
pub mod metrics;
pub mod setup;
pub mod stock;

pub use driver::Driver;
pub use export::Exporter;
pub use stock::StockFunction;
