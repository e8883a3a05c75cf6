//! A cancelled order: before invoicing nothing posts; after invoicing, each invoice is reversed by
//! a full credit note. An order with credited returns is not reversed automatically (that would
//! credit the returned goods twice): it is refused for a person to settle.

use super::partial::reversed;
use super::returns::has_accepted_returns;
use crate::commercetools::order::Order;
use crate::keys::IdempotencyKey;
use crate::posting::{EventKind, Posting};
use crate::validation::{Problem, ValidationError};

/// The credit note reversing `invoice`, dated `date` (the cancellation's local date).
pub fn map_cancellation(order: &Order, invoice: &Posting, date: String) -> Result<Posting, ValidationError> {
    if has_accepted_returns(order) {
        return Err(ValidationError::of(
            order,
            vec![Problem::new(
                "orderState",
                "cancelled after returns were credited: reverse the rest by hand, an automatic full credit note would credit the returns twice",
            )
            .at("order", None)],
        ));
    }
    let mut p = Posting::new(
        EventKind::CreditNote,
        IdempotencyKey::cancellation(&invoice.idempotency_key),
        &invoice.entity,
        &invoice.currency,
        date,
    );
    p.external_ref = format!("{}/cancel", invoice.external_ref);
    p.order_id = invoice.order_id.clone();
    p.refers_to = Some(invoice.idempotency_key.clone());
    p.exchange_rate = None;
    p.lines = reversed(&invoice.lines);
    Ok(p)
}

/// True when the order is cancelled.
pub fn is_cancelled(order: &Order) -> bool {
    order.order_state.as_deref() == Some("Cancelled")
}
