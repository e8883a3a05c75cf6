//! Hand-written serde models of the commercetools resources and messages ctvisma reads.
//! Tolerant: unknown fields are ignored, optional ones may be absent.

pub mod common;
pub mod customer;
pub mod errors;
pub mod inventory;
pub mod message;
pub mod order;
pub mod other;
pub mod payment;
pub mod product;
