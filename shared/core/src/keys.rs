//! Idempotency keys, derived from business identity only: the order id for an invoice (plus the
//! delivery id when invoicing per shipment), payment id + transaction id for money movements,
//! order id + return item ids for credit notes, merchant account + batch + line for payouts.
//! Never the SQS message id, the envelope id or a resource version, which change on redrive or on
//! every update.

use serde::{Deserialize, Serialize};

/// A key that identifies one financial effect in Visma, whatever delivered it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    pub fn invoice(order_id: &str) -> Self {
        Self(format!("invoice:{order_id}"))
    }

    /// An invoice for one delivery of an order (invoicing on shipment).
    pub fn delivery_invoice(order_id: &str, delivery_id: &str) -> Self {
        Self(format!("invoice:{order_id}:delivery:{delivery_id}"))
    }

    /// `capture`, `refund` or `chargeback` of one transaction. `occurrence` counts earlier
    /// transactions of the same payment with the same id (a PSP may reuse one): 0 adds nothing.
    pub fn transaction(event: &str, payment_id: &str, transaction_id: &str, occurrence: usize) -> Self {
        let suffix = if occurrence == 0 {
            String::new()
        } else {
            format!("#{occurrence}")
        };
        Self(format!("{event}:{payment_id}:{transaction_id}{suffix}"))
    }

    /// A credit note for a return: the order and the sorted ids of the return items it credits.
    pub fn credit_note(order_id: &str, return_item_ids: &[&str]) -> Self {
        let mut ids = return_item_ids.to_vec();
        ids.sort_unstable();
        Self(format!("credit:{order_id}:{}", ids.join(",")))
    }

    /// The credit note that reverses an invoice when its order is cancelled.
    pub fn cancellation(invoice: &IdempotencyKey) -> Self {
        Self(format!("cancel:{}", invoice.0))
    }

    /// One line of a PSP settlement report.
    pub fn payout(merchant_account: &str, batch: &str, line_id: &str) -> Self {
        Self(format!("payout:{merchant_account}:{batch}:{line_id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
