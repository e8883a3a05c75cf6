//! commercetools order → Visma posting. Pure: same order and rules, same posting, byte for byte.
//!
//! - [`items`]: the amounts of every line item, custom line item and shipping of an order
//! - [`invoice`]: the invoice posting built from them, with its consistency checks
//! - [`split`]: proportional split of an order-total discount across VAT rates

pub mod invoice;
pub mod items;
pub mod split;

pub use invoice::map_invoice;
