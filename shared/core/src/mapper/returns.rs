//! Credit notes for returns: one per ReturnInfo, for exactly the returned units of its lines.
//!
//! A return item is accepted when it is received (shipmentState Returned, BackInStock, Unusable)
//! or refunded (paymentState Refunded); it is pending while Advised with paymentState Initial;
//! otherwise (Advised and NotRefunded / NonRefundable) it is excluded and never credited. A
//! ReturnInfo posts once none of its items is pending and at least one is accepted; its key is the
//! order id + the sorted ids of the accepted items. Amounts per line follow [`super::partial`]:
//! pending items reserve their units in list order, so a return accepted later still gets the
//! slice it would have had, and the last slice of a line takes the remainder. Lines carry their
//! share of an order-total discount, so returning everything credits exactly the invoice.

use rust_decimal::Decimal;

use super::invoice::Builder;
use super::items::items;
use super::order_discount::apply_to_items;
use super::partial::{reversed, slice_items, slice_lines, Tally};
use crate::commercetools::order::{Order, ReturnInfo, ReturnItem};
use crate::keys::IdempotencyKey;
use crate::posting::{EventKind, Posting};
use crate::rules::Rules;
use crate::validation::{Problem, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnState {
    Accepted,
    Pending,
    Excluded,
}

pub fn return_state(item: &ReturnItem) -> ReturnState {
    let received = matches!(
        item.shipment_state.as_deref(),
        Some("Returned" | "BackInStock" | "Unusable")
    );
    match (received, item.payment_state.as_deref()) {
        (true, _) | (_, Some("Refunded")) => ReturnState::Accepted,
        (false, Some("NotRefunded" | "NonRefundable")) => ReturnState::Excluded,
        _ => ReturnState::Pending,
    }
}

/// True when some return item of the order is accepted.
pub fn has_accepted_returns(order: &Order) -> bool {
    order
        .return_info
        .iter()
        .flat_map(|r| &r.items)
        .any(|i| return_state(i) == ReturnState::Accepted)
}

/// Every credit note the order's returns call for now; the whole order is refused when any of
/// them has a problem, with all problems at once.
pub fn map_credit_notes(order: &Order, rules: &Rules) -> Result<Vec<Posting>, ValidationError> {
    let mut problems = Vec::new();
    let postings = build(order, rules, &mut problems);
    ValidationError::unless_empty(order, problems, postings)
}

fn build(order: &Order, rules: &Rules, problems: &mut Vec<Problem>) -> Vec<Posting> {
    if !has_accepted_returns(order) {
        return Vec::new();
    }
    let digits = order.total_price.cent_digits();
    let mut all_items = items(order, digits, problems);
    apply_to_items(order, &mut all_items, digits, problems);
    let lines_total: Vec<(&str, i64)> = all_items
        .iter()
        .filter_map(|i| i.line_id.map(|id| (id, i.quantity)))
        .collect();
    let mut tally = Tally::default();
    let mut postings = Vec::new();
    for (n, info) in order.return_info.iter().enumerate() {
        let states: Vec<ReturnState> = info.items.iter().map(return_state).collect();
        let mut slices = Vec::new();
        let mut accepted_ids = Vec::new();
        for (item, state) in info.items.iter().zip(&states) {
            if *state == ReturnState::Excluded {
                continue;
            }
            let Some(line_id) = item.line_item_id.as_deref().or(item.custom_line_item_id.as_deref()) else {
                problems.push(
                    Problem::new("lineItemId", format!("return item {} names no line", item.id)).at("order", None),
                );
                continue;
            };
            let slice = tally.slice(line_id, item.quantity.unwrap_or(0));
            if *state == ReturnState::Accepted {
                slices.push(slice);
                accepted_ids.push(item.id.as_str());
            }
        }
        if accepted_ids.is_empty() || states.contains(&ReturnState::Pending) {
            continue;
        }
        let Some(mut b) = Builder::for_order(order, rules, digits, problems) else {
            return Vec::new();
        };
        let everything_back = lines_total.iter().all(|(id, q)| tally.covered(id) >= *q);
        let with_shipping = b.entity.returns.credit_shipping && everything_back;
        let sliced = slice_items(&all_items, &slices, with_shipping, digits, b.problems);
        let reference = return_ref(order, info, n);
        slice_lines(&mut b, &sliced, format!("Return {reference}"));
        let date = b.local_date(return_time(info), "returnDate");
        let lines = reversed(&std::mem::take(&mut b.lines));
        let (Some(date), entity_id) = (date, b.entity_id) else {
            continue;
        };
        let mut p = Posting::new(
            EventKind::CreditNote,
            IdempotencyKey::credit_note(&order.id, &accepted_ids),
            entity_id,
            &order.total_price.currency_code,
            date,
        );
        p.external_ref = reference;
        p.order_id = Some(order.id.clone());
        p.refers_to = Some(IdempotencyKey::invoice(&order.id));
        p.lines = lines;
        debug_assert_eq!(p.balance(), Decimal::ZERO);
        postings.push(p);
    }
    postings
}

/// "CV-1001/R1" or the return tracking id: what finance sees on the credit note.
fn return_ref(order: &Order, info: &ReturnInfo, index: usize) -> String {
    match &info.return_tracking_id {
        Some(t) => format!("{}/{t}", order.display_ref()),
        None => format!("{}/R{}", order.display_ref(), index + 1),
    }
}

/// The return's date: its returnDate, else when its first item was created.
fn return_time(info: &ReturnInfo) -> Option<&str> {
    info.return_date
        .as_deref()
        .or_else(|| info.items.iter().find_map(|i| i.created_at.as_deref()))
}
