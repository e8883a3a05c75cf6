//! Idempotency keys and external references, derived from business identity only: the order
//! id for an invoice. Never the SQS message id, the envelope id or a resource version, which
//! change on redrive or on every update.

use serde::{Deserialize, Serialize};

/// A key that identifies one financial effect in Visma, whatever delivered it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    pub fn invoice(order_id: &str) -> Self {
        Self(format!("invoice:{order_id}"))
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
