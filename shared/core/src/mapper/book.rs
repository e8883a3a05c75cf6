//! The order book: every order, payment and message of one run, put together so each order's
//! financial events can be posted: its invoice(s) by the entity's `invoice_on` rule, credit notes
//! for accepted returns, reversal on cancellation, and its payments' captures and refunds.
//!
//! Resources keep their newest version; messages are applied on top (a transaction that turned
//! Success, a delivery, a return, a cancellation), so a message seen before or after a newer
//! resource gives the same result. A payment is linked to its order through the order's
//! `paymentInfo.payments`. Output is in order of first appearance: deterministic.

use std::collections::BTreeMap;

use serde_json::Value;

use super::cancellation::{is_cancelled, map_cancellation};
use super::invoice::{map_invoice, Builder};
use super::payments::map_payment;
use super::returns::map_credit_notes;
use super::shipments::map_delivery_invoices;
use crate::commercetools::message::Message;
use crate::commercetools::order::{Delivery, Order, ReturnInfo};
use crate::commercetools::payment::{Payment, Transaction};
use crate::error::CoreError;
use crate::input::Document;
use crate::posting::Posting;
use crate::rates::{attach_rate, RateTable};
use crate::rules::{InvoiceTrigger, Rules};

/// Where a document came from (file and place inside it), for reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub path: String,
}

/// What the book did with a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Used,
    /// Nothing to post from it (a customer, a product, a subscription test message): its kind.
    Skipped(String),
    /// The same or an older version of a resource already in the book: its id.
    Duplicate(String),
}

struct Entry<T> {
    value: T,
    source: Source,
    /// The newest time a message said something about it (cancellation date, fallback dates).
    last_message_at: Option<String>,
}

#[derive(Default)]
pub struct Book {
    orders: BTreeMap<String, Entry<Order>>,
    order_sequence: Vec<String>,
    payments: BTreeMap<String, Entry<Payment>>,
    payment_sequence: Vec<String>,
    /// Messages about a resource not among the inputs (yet): applied once it arrives, or reported.
    waiting: Vec<(Source, Message)>,
}

/// The postings of one source document, or why it could not be posted.
pub type Outcome = (Source, Result<Vec<Posting>, CoreError>);

impl Book {
    pub fn add(&mut self, doc: Document, source: Source) -> Result<Added, CoreError> {
        match doc {
            Document::Order(o) => Ok(self.add_order(*o, source, None)),
            Document::Payment(p) => Ok(self.add_payment(*p, source, None)),
            Document::Message(m) => self.add_message(*m, source),
            Document::Customer(_) => Ok(Added::Skipped("Customer".into())),
            Document::InventoryEntry(_) => Ok(Added::Skipped("InventoryEntry".into())),
            Document::Other(k) => Ok(Added::Skipped(k)),
        }
    }

    fn add_order(&mut self, order: Order, source: Source, at: Option<String>) -> Added {
        let id = order.id.clone();
        match self.orders.get_mut(&id) {
            Some(e) if e.value.version >= order.version => return Added::Duplicate(id),
            Some(e) => {
                e.value = order;
                e.source = source;
            }
            None => {
                self.order_sequence.push(id.clone());
                self.orders.insert(
                    id,
                    Entry {
                        value: order,
                        source,
                        last_message_at: at,
                    },
                );
            }
        }
        self.retry_waiting();
        Added::Used
    }

    fn add_payment(&mut self, payment: Payment, source: Source, at: Option<String>) -> Added {
        let Some(id) = payment.id.clone() else {
            return Added::Skipped("Payment draft".into());
        };
        match self.payments.get_mut(&id) {
            Some(e) if e.value.version >= payment.version => return Added::Duplicate(id),
            Some(e) => {
                // A newer version keeps what messages already said about its transactions.
                let old = std::mem::replace(&mut e.value, payment);
                merge_transactions(&mut e.value, &old);
                e.source = source;
            }
            None => {
                self.payment_sequence.push(id.clone());
                self.payments.insert(
                    id,
                    Entry {
                        value: payment,
                        source,
                        last_message_at: at,
                    },
                );
            }
        }
        self.retry_waiting();
        Added::Used
    }

    fn add_message(&mut self, m: Message, source: Source) -> Result<Added, CoreError> {
        let parse = |field: &str| -> Result<Value, CoreError> {
            m.payload
                .get(field)
                .cloned()
                .ok_or_else(|| CoreError::Parse(format!("{} message without {field}", m.kind())))
        };
        if m.payload_not_included.is_some() {
            // Too large for the queue: the resource itself must be read (the Lambdas fetch it;
            // `ctvisma map` needs the resource among its inputs). Not an error of the message.
            return Ok(Added::Skipped(format!(
                "{} without its payload (payloadNotIncluded): the {} resource must be read",
                m.kind(),
                m.resource_type().unwrap_or("changed")
            )));
        }
        match m.kind() {
            "OrderCreated" | "OrderImported" => {
                let order: Order = from(parse("order")?, "order")?;
                return Ok(self.add_order(order, source, m.created_at.clone()));
            }
            "PaymentCreated" => {
                let payment: Payment = from(parse("payment")?, "payment")?;
                return Ok(self.add_payment(payment, source, m.created_at.clone()));
            }
            "OrderStateChanged"
            | "DeliveryAdded"
            | "ReturnInfoAdded"
            | "ReturnInfoSet"
            | "OrderShipmentStateChanged"
            | "OrderReturnShipmentStateChanged"
            | "ReturnShipmentStateChanged"
            | "ReturnPaymentStateChanged"
            | "PaymentTransactionAdded"
            | "PaymentTransactionStateChanged" => {
                self.waiting.push((source, m));
                self.retry_waiting();
            }
            other => return Ok(Added::Skipped(other.to_string())),
        }
        Ok(Added::Used)
    }

    /// Applies every waiting message whose resource is now known.
    fn retry_waiting(&mut self) {
        let waiting = std::mem::take(&mut self.waiting);
        for (source, m) in waiting {
            if !self.apply(&m) {
                self.waiting.push((source, m));
            }
        }
    }

    /// Applies an update message to its resource; false when the resource is not (yet) known.
    fn apply(&mut self, m: &Message) -> bool {
        let Some(id) = m.resource_id() else { return true };
        let field = |k: &str| m.payload.get(k);
        let text = |k: &str| field(k).and_then(Value::as_str).map(str::to_string);
        if m.kind().starts_with("Payment") {
            let Some(e) = self.payments.get_mut(id) else {
                return false;
            };
            e.last_message_at = m.created_at.clone().or(e.last_message_at.take());
            let tx = &mut e.value.transactions;
            if let Some(t) = field("transaction").and_then(|v| serde_json::from_value::<Transaction>(v.clone()).ok()) {
                if !tx.iter().any(|x| x.id == t.id) {
                    tx.push(t);
                }
            }
            if let (Some(tid), Some(state)) = (text("transactionId"), text("state")) {
                tx.iter_mut()
                    .filter(|t| t.id == tid)
                    .for_each(|t| t.state = state.clone());
            }
            return true;
        }
        let Some(e) = self.orders.get_mut(id) else { return false };
        e.last_message_at = m.created_at.clone().or(e.last_message_at.take());
        let o = &mut e.value;
        match m.kind() {
            "OrderStateChanged" => o.order_state = text("orderState").or(o.order_state.take()),
            "OrderShipmentStateChanged" => o.shipment_state = text("shipmentState").or(o.shipment_state.take()),
            "DeliveryAdded" => {
                if let Some(d) = field("delivery").and_then(|v| serde_json::from_value::<Delivery>(v.clone()).ok()) {
                    add_delivery(o, d, text("shippingKey").as_deref());
                }
            }
            "ReturnInfoAdded" => {
                if let Some(r) = field("returnInfo").and_then(|v| serde_json::from_value::<ReturnInfo>(v.clone()).ok())
                {
                    let known = |x: &ReturnInfo| x.items.iter().any(|i| r.items.iter().any(|j| j.id == i.id));
                    if !o.return_info.iter().any(known) {
                        o.return_info.push(r);
                    }
                }
            }
            "ReturnInfoSet" => {
                if let Some(r) = field("returnInfo").and_then(|v| serde_json::from_value(v.clone()).ok()) {
                    o.return_info = r;
                }
            }
            // commercetools sends OrderReturnShipmentStateChanged; the shorter names are kept for
            // recorded messages of older tools. A return item's payment state has no message of
            // its own: it arrives with ReturnInfoSet or the order.
            kind @ ("OrderReturnShipmentStateChanged" | "ReturnShipmentStateChanged" | "ReturnPaymentStateChanged") => {
                let (Some(item_id), state) = (
                    text("returnItemId"),
                    text("returnShipmentState").or(text("paymentState")),
                ) else {
                    return true;
                };
                for item in o
                    .return_info
                    .iter_mut()
                    .flat_map(|r| r.items.iter_mut())
                    .filter(|i| i.id == item_id)
                {
                    if kind != "ReturnPaymentStateChanged" {
                        item.shipment_state = state.clone();
                    } else {
                        item.payment_state = state.clone();
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// Every posting the book's documents call for, per source document. Documents in another
    /// currency than their entity's base currency get their exchange rate from `rates`.
    /// The newest version of an order in the book.
    pub fn order(&self, id: &str) -> Option<&Order> {
        self.orders.get(id).map(|e| &e.value)
    }

    pub fn postings(&self, rules: &Rules, rates: Option<&RateTable>) -> Vec<Outcome> {
        self.unrated_postings(rules)
            .into_iter()
            .map(|(source, r)| (source, r.and_then(|ps| with_rates(ps, rules, rates))))
            .collect()
    }

    fn unrated_postings(&self, rules: &Rules) -> Vec<Outcome> {
        let mut out: Vec<Outcome> = Vec::new();
        let mut linked = std::collections::BTreeSet::new();
        for id in &self.order_sequence {
            let e = &self.orders[id];
            let payments: Vec<&Entry<Payment>> = e
                .value
                .payment_info
                .iter()
                .flat_map(|i| &i.payments)
                .filter_map(|r| r.id.as_deref().and_then(|pid| self.payments.get(pid)))
                .collect();
            linked.extend(payments.iter().filter_map(|p| p.value.id.clone()));
            out.push((e.source.clone(), order_postings(e, &payments, rules)));
            for p in payments {
                let r = map_payment(&p.value, &e.value, rules, p.last_message_at.as_deref()).map_err(CoreError::from);
                out.push((p.source.clone(), r));
            }
        }
        for id in self.payment_sequence.iter().filter(|id| !linked.contains(*id)) {
            let e = &self.payments[id];
            let msg = format!("payment {id}: no order among the inputs lists it in paymentInfo.payments");
            out.push((e.source.clone(), Err(CoreError::Unlinked(msg))));
        }
        for (source, m) in &self.waiting {
            let msg = format!(
                "{} message for {} {}: that resource is not among the inputs",
                m.kind(),
                m.resource_type().unwrap_or("resource"),
                m.resource_id().unwrap_or("-")
            );
            out.push((source.clone(), Err(CoreError::Unlinked(msg))));
        }
        out
    }
}

/// Attaches each posting's exchange rate; a missing one refuses the document's postings.
fn with_rates(mut postings: Vec<Posting>, rules: &Rules, rates: Option<&RateTable>) -> Result<Vec<Posting>, CoreError> {
    let mut problems = Vec::new();
    for p in &mut postings {
        let Some(entity) = rules.entities.get(&p.entity) else {
            continue;
        };
        if let Err(problem) = attach_rate(p, &entity.base_currency, rates) {
            problems.push(problem.at("order", None));
        }
    }
    match postings.first() {
        Some(first) if !problems.is_empty() => Err(CoreError::Validation(crate::validation::ValidationError {
            order: first.external_ref.split('/').next().unwrap_or_default().to_string(),
            order_id: first.order_id.clone().unwrap_or_default(),
            problems,
        })),
        _ => Ok(postings),
    }
}

/// Invoices by the entity's trigger, credit notes for returns, and reversals when cancelled.
fn order_postings(e: &Entry<Order>, payments: &[&Entry<Payment>], rules: &Rules) -> Result<Vec<Posting>, CoreError> {
    let order = &e.value;
    let trigger = trigger_of(order, rules);
    let mut invoices = match trigger {
        InvoiceTrigger::Order => vec![map_invoice(order, rules)?],
        InvoiceTrigger::Shipment => map_delivery_invoices(order, rules)?,
        InvoiceTrigger::Capture => match first_capture(payments) {
            Some(time) => {
                let mut p = map_invoice(order, rules)?;
                p.date = local_date_of(order, rules, &time)?;
                vec![p]
            }
            None => Vec::new(),
        },
    };
    let mut postings = map_credit_notes(order, rules)?;
    if is_cancelled(order) {
        let time = e
            .last_message_at
            .clone()
            .or(order.last_modified_at.clone())
            .or(order.created_at.clone())
            .unwrap_or_default();
        let date = local_date_of(order, rules, &time)?;
        for invoice in &invoices {
            postings.push(map_cancellation(order, invoice, date.clone())?);
        }
    }
    invoices.append(&mut postings);
    Ok(invoices)
}

fn trigger_of(order: &Order, rules: &Rules) -> InvoiceTrigger {
    let mut problems = Vec::new();
    Builder::for_order(order, rules, order.total_price.cent_digits(), &mut problems)
        .map_or(InvoiceTrigger::Order, |b| b.entity.invoice_on)
}

fn local_date_of(order: &Order, rules: &Rules, time: &str) -> Result<String, CoreError> {
    let mut problems = Vec::new();
    let date = Builder::for_order(order, rules, order.total_price.cent_digits(), &mut problems)
        .and_then(|mut b| b.local_date(Some(time), "date"));
    date.ok_or_else(|| CoreError::Validation(crate::validation::ValidationError::of(order, problems)))
}

/// The time of the earliest successful capture of the order's payments.
fn first_capture(payments: &[&Entry<Payment>]) -> Option<String> {
    payments
        .iter()
        .flat_map(|p| p.value.transactions.iter().map(move |t| (p, t)))
        .filter(|(_, t)| t.kind == "Charge" && t.state == "Success")
        .filter_map(|(p, t)| t.timestamp.clone().or(p.last_message_at.clone()))
        .min()
}

fn add_delivery(order: &mut Order, delivery: Delivery, shipping_key: Option<&str>) {
    let known = |d: &Delivery| d.id.is_some() && d.id == delivery.id;
    if let Some(si) = order.shipping_info.as_mut() {
        if !si.deliveries.iter().any(known) {
            si.deliveries.push(delivery);
        }
        return;
    }
    let target = order
        .shipping
        .iter_mut()
        .find(|s| shipping_key.is_none() || s.shipping_key.as_deref() == shipping_key);
    if let Some(s) = target {
        if !s.shipping_info.deliveries.iter().any(known) {
            s.shipping_info.deliveries.push(delivery);
        }
    }
}

/// Transactions a message turned Success stay so in a payment version that predates the message.
fn merge_transactions(newer: &mut Payment, older: &Payment) {
    for old in &older.transactions {
        match newer.transactions.iter_mut().find(|t| t.id == old.id) {
            Some(t) if t.state != "Success" && old.state == "Success" => t.state = old.state.clone(),
            Some(_) => {}
            None => newer.transactions.push(old.clone()),
        }
    }
}

fn from<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, CoreError> {
    crate::input::from_value_at(v, what)
}
