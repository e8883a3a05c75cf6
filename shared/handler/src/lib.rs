//! One message in, exactly-once postings out. The same code runs in every Lambda (behind the SQS
//! batch driver) and in `ctvisma run`:
//!
//! 1. unwrap the message ([`ctvisma_core::input`]); acknowledge subscription test messages;
//! 2. fetch what the message does not carry ([`resources::Resources`]: the order of a payment,
//!    the payment of a transaction message, the order of an order message without payload);
//! 3. map with the core's order book;
//! 4. per posting: read its key; if new, claim it, look the document up in Visma, post it if
//!    missing, and complete the key with the document (ledger entry in the same write);
//! 5. record what happened to the message.
//!
//! Customers and products take another path ([`master_data`]): they become Visma customers and
//! articles, sent only when they changed.
//!
//! The worst result of the message's postings decides its fate ([`Outcome`]): all done or
//! duplicates → acknowledged; a transient failure → retry queue; a permanent one → parking queue
//! with the reason. Postings already completed stay completed: on retry they are duplicates.

pub mod error;
pub mod handler;
pub mod ledger_only;
mod master_data;
pub mod resources;
pub mod sie_export;

pub use error::HandlerError;
pub use handler::{Handler, MessageContext, Outcome, PostingResult};
pub use ledger_only::LedgerOnly;
pub use resources::{NoResources, RecordedResources, Resources};
pub use sie_export::{export_entity, ExportReport, ObjectSink};
