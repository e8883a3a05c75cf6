//! Captures, refunds and chargebacks: one posting per successful Charge, Refund or Chargeback
//! transaction of a payment, on the entity of the payment's order.
//!
//! capture:    payment (debit, the clearing account of PSP + method) / receivable (credit)
//! refund:     receivable (debit) / payment (credit). What credit notes (returns, cancellation) have
//!             not credited is goodwill: that part debits the goodwill account instead.
//! chargeback: receivable (debit) / payment (credit): the customer owes the amount again.
//! Authorization, CancelAuthorization and any Initial, Pending or Failure transaction post nothing
//! (they post when a later version shows them Success). Refunds beyond the captured amount, a
//! currency other than the order's, or a payment without id are refused, never posted.

use rust_decimal::Decimal;

use super::cancellation::is_cancelled;
use super::invoice::Builder;
use super::returns::map_credit_notes;
use crate::commercetools::order::Order;
use crate::commercetools::payment::{Payment, Transaction};
use crate::keys::IdempotencyKey;
use crate::posting::{EventKind, Posting, Role};
use crate::rules::{AccountCode, Rules};
use crate::validation::{Problem, ValidationError};

/// The postings of every successful money movement of `payment`. `fallback_time` (the message's
/// createdAt) dates transactions without a timestamp; then the payment's lastModifiedAt does.
pub fn map_payment(
    payment: &Payment,
    order: &Order,
    rules: &Rules,
    fallback_time: Option<&str>,
) -> Result<Vec<Posting>, ValidationError> {
    let mut problems = Vec::new();
    let postings = build(payment, order, rules, fallback_time, &mut problems);
    ValidationError::unless_empty(order, problems, postings)
}

/// What the order's credit notes credit to the customer: the whole invoice when cancelled.
fn credited(order: &Order, rules: &Rules) -> Decimal {
    if is_cancelled(order) {
        return order
            .taxed_price
            .as_ref()
            .map_or(&order.total_price, |t| &t.total_gross)
            .amount();
    }
    map_credit_notes(order, rules)
        .map(|notes| -notes.iter().map(|p| p.total(Role::Receivable)).sum::<Decimal>())
        .unwrap_or_default()
}

fn build(
    payment: &Payment,
    order: &Order,
    rules: &Rules,
    fallback_time: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Vec<Posting> {
    let at = |p: Problem| p.at("payment", None);
    let Some(payment_id) = payment.id.as_deref() else {
        problems.push(at(Problem::new(
            "id",
            "a payment draft has no id yet: nothing to key it by",
        )));
        return Vec::new();
    };
    let currency = order.total_price.currency_code.as_str();
    let mismatched = std::iter::once(&payment.amount_planned)
        .chain(payment.transactions.iter().map(|t| &t.amount))
        .find(|m| m.currency_code != currency);
    if let Some(m) = mismatched {
        problems.push(at(Problem::new(
            "currency",
            format!("payment in {} but its order is in {currency}", m.currency_code),
        )));
        return Vec::new();
    }
    let digits = order.total_price.cent_digits();
    let credited = credited(order, rules);
    let Some(mut b) = Builder::for_order(order, rules, digits, problems) else {
        return Vec::new();
    };
    let (entity_id, entity) = (b.entity_id, b.entity);
    let info = &payment.payment_method_info;
    let clearing = entity
        .payments
        .clearing(entity_id, info.payment_interface.as_deref(), info.method.as_deref());
    let clearing_account = if clearing.gift_card {
        entity.accounts.gift_card.clone()
    } else {
        clearing.account.clone()
    }
    .unwrap_or_else(|| {
        b.problems
            .push(at(Problem::new("account", "no clearing account for the payment method")).rule(&clearing.rule));
        AccountCode(String::new())
    });
    let receivable = b.account(entity.accounts.receivable.as_ref(), "receivable", "accounts.receivable");

    let success: Vec<&Transaction> = payment.transactions.iter().filter(|t| t.state == "Success").collect();
    let captured: Decimal = success
        .iter()
        .filter(|t| t.kind == "Charge")
        .map(|t| t.amount.amount())
        .sum();
    let (mut refunded, mut postings) = (Decimal::ZERO, Vec::new());
    for (i, t) in success.iter().enumerate() {
        let event = match t.kind.as_str() {
            "Charge" => EventKind::Capture,
            "Refund" => EventKind::Refund,
            "Chargeback" => EventKind::Chargeback,
            _ => continue, // Authorization, CancelAuthorization: no ledger effect
        };
        let amount = t.amount.amount();
        let label = format!("{} transaction {}", t.kind, t.id);
        let mut lines = Vec::new();
        match event {
            EventKind::Capture => {
                lines.push((Role::Payment, clearing_account.clone(), amount, "Payment received"));
                lines.push((Role::Receivable, receivable.clone(), -amount, "Payment received"));
            }
            _ => {
                if refunded + amount > captured {
                    b.problems.push(
                        Problem::new(
                            "amount",
                            format!(
                                "{} of {amount} exceeds what was captured ({captured}) less earlier refunds ({refunded})",
                                t.kind
                            ),
                        )
                        .at(&label, None),
                    );
                }
                let owed = if event == EventKind::Refund {
                    (credited - refunded).clamp(Decimal::ZERO, amount)
                } else {
                    amount
                };
                refunded += amount;
                if !owed.is_zero() || owed == amount {
                    lines.push((Role::Receivable, receivable.clone(), owed, "Refund"));
                }
                if owed < amount {
                    let goodwill = entity.payments.goodwill.clone().unwrap_or_else(|| {
                        b.problems.push(
                            Problem::new("account", "a refund without a credited return needs a goodwill account")
                                .at(&label, None)
                                .rule(format!("entities.{entity_id}.payments.goodwill")),
                        );
                        AccountCode(String::new())
                    });
                    lines.push((Role::Receivable, goodwill, amount - owed, "Goodwill refund"));
                }
                lines.push((Role::Payment, clearing_account.clone(), -amount, "Refund"));
            }
        }
        let time = t
            .timestamp
            .as_deref()
            .or(fallback_time)
            .or(payment.last_modified_at.as_deref());
        let Some(date) = b.local_date(time, "transactions.timestamp") else {
            continue;
        };
        let occurrence = success[..i].iter().filter(|o| o.id == t.id).count();
        let kind = match event {
            EventKind::Capture => "capture",
            EventKind::Refund => "refund",
            _ => "chargeback",
        };
        let mut p = Posting::new(
            event,
            IdempotencyKey::transaction(kind, payment_id, &t.id, occurrence),
            entity_id,
            currency,
            date,
        );
        p.external_ref = format!(
            "{}/{}",
            order.display_ref(),
            t.interaction_id.as_deref().unwrap_or(&t.id)
        );
        p.order_id = Some(order.id.clone());
        p.payment_id = Some(payment_id.to_string());
        p.transaction_id = Some(t.id.clone());
        for (role, account, amount, text) in lines {
            b.lines.clear();
            b.push(role, account, amount, None, None, Some(text.to_string()));
            p.lines.append(&mut b.lines);
        }
        postings.push(p);
    }
    postings
}
