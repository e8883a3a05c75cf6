//! commercetools order → Visma postings. Pure: same inputs and rules, same postings, byte for byte.
//!
//! - [`book`]: a run's orders, payments and messages together, and every posting they call for
//! - [`items`]: the amounts of every line item, custom line item and shipping of an order
//! - [`invoice`]: the invoice posting built from them, with its consistency checks
//! - [`order_discount`]: an order-total discount per VAT group and per item
//! - [`split`]: proportional split (largest remainder) of an amount by weights
//! - [`partial`]: slices of lines for partial invoices and credit notes
//! - [`shipments`]: invoicing per delivery; [`returns`]: credit notes; [`cancellation`]
//! - [`payments`]: captures, refunds and chargebacks; [`payouts`]: PSP settlement lines

pub mod book;
pub mod cancellation;
pub mod invoice;
pub mod items;
pub mod order_discount;
pub mod partial;
pub mod payments;
pub mod payouts;
pub mod returns;
pub mod shipments;
pub mod split;

pub use cancellation::map_cancellation;
pub use invoice::map_invoice;
pub use payments::map_payment;
pub use payouts::map_settlement;
pub use returns::map_credit_notes;
pub use shipments::map_delivery_invoices;
