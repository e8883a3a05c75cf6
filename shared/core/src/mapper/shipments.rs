//! Invoicing on shipment: one invoice per delivery, for exactly the units it holds.
//!
//! Deliveries are taken in the order commercetools lists them (every shipping of a multiple-
//! shipping order in turn); shipping is charged with the first delivery. The amounts of each
//! delivery are slices of the order's lines (see [`super::partial`]), each line carrying its share
//! of an order-total discount, so split shipments add up to the order exactly. An order marked
//! Shipped or Delivered without any delivery is invoiced whole.

use super::invoice::{map_invoice, Builder};
use super::items::items;
use super::order_discount::apply_to_items;
use super::partial::{slice_items, slice_lines, Tally};
use crate::commercetools::order::{Delivery, Order};
use crate::keys::IdempotencyKey;
use crate::posting::{EventKind, Posting};
use crate::rules::Rules;
use crate::validation::{Problem, ValidationError};

/// Every delivery's invoice (none while nothing shipped).
pub fn map_delivery_invoices(order: &Order, rules: &Rules) -> Result<Vec<Posting>, ValidationError> {
    let deliveries: Vec<&Delivery> = order
        .shippings()
        .into_iter()
        .flat_map(|(_, si)| &si.deliveries)
        .filter(|d| !d.items.is_empty())
        .collect();
    if deliveries.is_empty() {
        let shipped = matches!(order.shipment_state.as_deref(), Some("Shipped" | "Delivered"));
        return if shipped {
            map_invoice(order, rules).map(|p| vec![p])
        } else {
            Ok(Vec::new())
        };
    }
    let mut problems = Vec::new();
    let digits = order.total_price.cent_digits();
    let mut all_items = items(order, digits, &mut problems);
    apply_to_items(order, &mut all_items, digits, &mut problems);
    let mut tally = Tally::default();
    let mut postings = Vec::new();
    for (n, delivery) in deliveries.iter().enumerate() {
        let slices: Vec<_> = delivery.items.iter().map(|i| tally.slice(&i.id, i.quantity)).collect();
        let Some(mut b) = Builder::for_order(order, rules, digits, &mut problems) else {
            break;
        };
        let Some(delivery_id) = delivery.id.as_deref() else {
            b.problems
                .push(Problem::new("deliveries.id", "a delivery without id cannot be keyed").at("order", None));
            continue;
        };
        let sliced = slice_items(&all_items, &slices, n == 0, digits, b.problems);
        let reference = format!("{}/D{}", order.display_ref(), n + 1);
        slice_lines(&mut b, &sliced, format!("Delivery {reference}"));
        let date = b.local_date(delivery.created_at.as_deref(), "deliveries.createdAt");
        let (lines, entity_id) = (std::mem::take(&mut b.lines), b.entity_id);
        let Some(date) = date else { continue };
        let mut p = Posting::new(
            EventKind::Invoice,
            IdempotencyKey::delivery_invoice(&order.id, delivery_id),
            entity_id,
            &order.total_price.currency_code,
            date,
        );
        p.external_ref = reference;
        p.order_id = Some(order.id.clone());
        p.lines = lines;
        postings.push(p);
    }
    ValidationError::unless_empty(order, problems, postings)
}
