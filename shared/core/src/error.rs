//! The core's error type, classified: the class decides between retry and the parking queue.

use crate::rules::RulesError;
use crate::validation::ValidationError;

/// Whether a failure may pass if tried again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Retry with backoff (rate limit, 5xx, timeout, out-of-order).
    Transient,
    /// Park with the reason; retrying cannot help until data or rules change.
    Permanent,
}

/// Anything that classifies itself.
pub trait Classify {
    fn class(&self) -> ErrorClass;
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("input is not valid commercetools JSON: {0}")]
    Parse(String),
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Settlement(#[from] crate::settlement::SettlementError),
    /// A payment or update whose order (or payment) is not known yet: it may arrive or be fetched.
    #[error("not linked: {0}")]
    Unlinked(String),
}

impl Classify for CoreError {
    fn class(&self) -> ErrorClass {
        match self {
            // Messages arrive out of order: the missing resource usually shows up soon.
            CoreError::Unlinked(_) => ErrorClass::Transient,
            // Otherwise the same input gives the same answer: retrying cannot help.
            _ => ErrorClass::Permanent,
        }
    }
}
