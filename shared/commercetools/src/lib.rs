//! commercetools for ctvisma: [`CtConfig`] from the `CTP_*` variables, and [`CtClient`], which
//! reads orders, payments, customers, products and inventory entries, pages through queries of
//! any size, updates with optimistic concurrency, and answers the handler's
//! [`ctvisma_handler::Resources`] look-ups. Errors are one classified type, [`CtError`].

pub mod catalog;
pub mod client;
pub mod config;
pub mod error;
mod resources;

pub use catalog::{ShippingMethod, TaxCategory, TaxRate};
pub use client::{quote, CtClient, Page, Query, CONFLICT_RETRIES, PAGE_SIZE, TOKEN_MARGIN};
pub use config::{CtConfig, DEFAULT_API_URL, DEFAULT_AUTH_URL};
pub use error::CtError;
