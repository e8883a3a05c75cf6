//! Why a commercetools call failed, classified: transient failures are retried later, permanent
//! ones parked. Messages carry status, commercetools' error codes and resource paths, never
//! tokens or secrets.

use ctvisma_core::commercetools::errors::ErrorResponse;
use ctvisma_core::{Classify, ErrorClass};
use ctvisma_handler::HandlerError;
use ctvisma_visma::VismaError;

#[derive(Debug, thiserror::Error)]
pub enum CtError {
    /// 429 after the retries the deadline allowed.
    #[error("commercetools: rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 5xx, a timeout or a broken connection.
    #[error("commercetools: unavailable: {0}")]
    Unavailable(String),
    /// The version moved on under every retry (409 ConcurrentModification).
    #[error("commercetools: {path}: concurrent modification (current version {current_version:?})")]
    Conflict { path: String, current_version: Option<u64> },
    /// commercetools refused the request (400, 403, 404 on a write, other 4xx).
    #[error("commercetools: {path}: HTTP {status} {code}: {message}")]
    Refused {
        path: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The client credentials are refused, or a fresh token still gets 401.
    #[error("commercetools: authorization failed: {0}")]
    Unauthorized(String),
    /// An answer we could not read.
    #[error("commercetools: {path}: unexpected response: {what}")]
    Protocol { path: String, what: String },
    /// Missing or malformed `CTP_*` settings.
    #[error("commercetools configuration: {0}")]
    Config(String),
}

impl Classify for CtError {
    fn class(&self) -> ErrorClass {
        match self {
            CtError::RateLimited { .. } | CtError::Unavailable(_) | CtError::Conflict { .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }
}

impl CtError {
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// From the shared HTTP layer (which only gives up with rate limits and unavailability).
    pub(crate) fn from_http(e: VismaError) -> Self {
        match e {
            VismaError::RateLimited { retry_after_secs, .. } => CtError::RateLimited { retry_after_secs },
            VismaError::Unavailable { what, .. } => CtError::Unavailable(what),
            other => CtError::Protocol {
                path: String::new(),
                what: other.to_string(),
            },
        }
    }

    /// A refusal from an error answer: the first error code and the message of the body.
    pub(crate) fn refused(path: &str, status: u16, body: &str) -> Self {
        let parsed = serde_json::from_str::<ErrorResponse>(body).ok();
        let code = parsed
            .as_ref()
            .and_then(|r| r.api_errors().first().map(|e| e.code.clone()))
            .or_else(|| parsed.as_ref().and_then(|r| r.error.clone()))
            .unwrap_or_default();
        let message = parsed
            .as_ref()
            .and_then(|r| {
                r.api_errors()
                    .iter()
                    .filter_map(|e| e.message.clone())
                    .reduce(|a, b| format!("{a}; {b}"))
                    .or_else(|| r.message.clone())
            })
            .unwrap_or_else(|| body.chars().take(200).collect());
        CtError::Refused {
            path: path.to_string(),
            status,
            code,
            message,
        }
    }

    /// For the handler: a fetch of `what` failed.
    pub fn into_handler(self, what: impl Into<String>) -> HandlerError {
        HandlerError::Fetch {
            what: what.into(),
            transient: self.is_transient(),
            message: self.to_string(),
        }
    }
}

impl From<CtError> for HandlerError {
    fn from(e: CtError) -> Self {
        e.into_handler("commercetools resource")
    }
}
