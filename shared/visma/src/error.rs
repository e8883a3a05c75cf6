//! The connectors' error type. Every variant says whether a retry can help: rate limits, 5xx,
//! timeouts and network failures are transient (retry queue); validation, missing accounts or VAT
//! codes, locked periods and lost consent are permanent (parking queue, with Visma's code and
//! message for the person who fixes it).

use ctvisma_core::{Classify, ErrorClass};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VismaError {
    /// 429 / ErrorCode 4010, or a budget that resets later than the time left.
    #[error("{target}: rate limited, retry after {retry_after_secs} s")]
    RateLimited {
        target: &'static str,
        retry_after_secs: u64,
    },
    /// 5xx, a timeout or a broken connection: the request may or may not have been applied.
    #[error("{target}: {what}")]
    Unavailable { target: &'static str, what: String },
    /// A write whose answer was lost (5xx, timeout, broken connection) and that a lookup right
    /// after did not show. Visma may still be working on it and store it later, so nobody may
    /// write the same document again before it would show: the handler keeps its idempotency
    /// claim until the lease runs out instead of releasing it. Transient.
    #[error("{target}: write not confirmed: {what}")]
    Unconfirmed { target: &'static str, what: String },
    /// Visma refused the document; `code` is Visma's ErrorCode (eAccounting) or the HTTP status.
    #[error("{target}: refused ({code}): {message}")]
    Refused {
        target: &'static str,
        code: String,
        message: String,
        /// Whether Visma says this may pass later (a 409 conflict on a busy resource).
        transient: bool,
    },
    /// The refresh token or client credentials no longer work: someone must consent again.
    #[error("{target}: authorization failed: {message}")]
    Unauthorized { target: &'static str, message: String },
    /// Our rules point at something the company does not have.
    #[error("{target}: the company lacks what the rules name: {}", missing.join("; "))]
    Setup { target: &'static str, missing: Vec<String> },
    /// A response we could not read: Visma changed, or a proxy answered.
    #[error("{target}: unexpected response: {what}")]
    Protocol { target: &'static str, what: String },
    /// The posting cannot be expressed in this target (a currency the ledger cannot hold).
    #[error("{target}: {message}")]
    Unsupported { target: &'static str, message: String },
}

impl Classify for VismaError {
    fn class(&self) -> ErrorClass {
        match self {
            VismaError::RateLimited { .. } | VismaError::Unavailable { .. } | VismaError::Unconfirmed { .. } => {
                ErrorClass::Transient
            }
            VismaError::Refused { transient: true, .. } => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }
}

impl VismaError {
    /// A short machine-readable code for logs and DLQ attributes.
    pub fn code(&self) -> String {
        match self {
            VismaError::RateLimited { .. } => "rate_limited".into(),
            VismaError::Unavailable { .. } => "unavailable".into(),
            VismaError::Unconfirmed { .. } => "unconfirmed".into(),
            VismaError::Refused { code, .. } => format!("refused:{code}"),
            VismaError::Unauthorized { .. } => "unauthorized".into(),
            VismaError::Setup { .. } => "setup".into(),
            VismaError::Protocol { .. } => "protocol".into(),
            VismaError::Unsupported { .. } => "unsupported".into(),
        }
    }
}

impl VismaError {
    /// What a write's [`VismaError::Unavailable`] becomes when the lookup after it found nothing:
    /// [`VismaError::Unconfirmed`]. Other errors are returned as they are.
    pub fn unconfirmed(self) -> Self {
        match self {
            VismaError::Unavailable { target, what } => VismaError::Unconfirmed { target, what },
            other => other,
        }
    }

    /// True when a write may have been applied without our knowing (see
    /// [`VismaError::Unconfirmed`]).
    pub fn may_have_written(&self) -> bool {
        matches!(self, VismaError::Unconfirmed { .. })
    }
}

/// eAccounting's ErrorCode → transient? Only a rate limit may pass by waiting; validation (2000),
/// not found (3xxx), conflict and access (4000–4006), locked period (4026) and unbalanced rows
/// (4032) need a person.
pub fn eaccounting_code_is_transient(code: i64) -> bool {
    code == 4010
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let t = "eaccounting";
        assert_eq!(
            VismaError::RateLimited {
                target: t,
                retry_after_secs: 3
            }
            .class(),
            ErrorClass::Transient
        );
        assert_eq!(
            VismaError::Unavailable {
                target: t,
                what: "500".into()
            }
            .class(),
            ErrorClass::Transient
        );
        let locked = VismaError::Refused {
            target: t,
            code: "4026".into(),
            message: "locked".into(),
            transient: false,
        };
        assert_eq!(locked.class(), ErrorClass::Permanent);
        assert_eq!(locked.code(), "refused:4026");
        assert_eq!(
            VismaError::Unauthorized {
                target: t,
                message: "x".into()
            }
            .class(),
            ErrorClass::Permanent
        );
        assert!(eaccounting_code_is_transient(4010));
        assert!(!eaccounting_code_is_transient(4026));
    }
}
