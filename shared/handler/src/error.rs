//! Why a message could not be completed, classified: transient failures are retried, permanent
//! ones parked with a reason fit for an attribute (short, no PII: codes, keys, rule paths).

use ctvisma_core::{Classify, CoreError, ErrorClass};
use ctvisma_ledger::StoreError;
use ctvisma_visma::VismaError;

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Visma(#[from] VismaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("entity {0} has no Visma target configured")]
    NoTarget(String),
    /// The key was already used for a different posting: flagged, never posted.
    #[error("idempotency key {0} was already used for a different posting")]
    Conflict(String),
    /// A concurrent delivery holds the key: try again after its lease.
    #[error("idempotency key {0} is being posted by another delivery")]
    Busy(String),
    #[error("fetching {what}: {message}")]
    Fetch {
        what: String,
        message: String,
        transient: bool,
    },
    /// Writing an export object failed (S3 unavailable, access denied): the next run redoes it.
    #[error("writing export object: {0}")]
    Sink(String),
    /// The rules cannot describe a SIE file for the entity (unknown entity, no rounding account).
    #[error("SIE export: {0}")]
    Sie(String),
}

impl Classify for HandlerError {
    fn class(&self) -> ErrorClass {
        match self {
            HandlerError::Core(e) => e.class(),
            HandlerError::Visma(e) => e.class(),
            HandlerError::Store(e) => e.class(),
            HandlerError::Busy(_) | HandlerError::Sink(_) => ErrorClass::Transient,
            HandlerError::Fetch { transient: true, .. } => ErrorClass::Transient,
            HandlerError::NoTarget(_)
            | HandlerError::Conflict(_)
            | HandlerError::Fetch { .. }
            | HandlerError::Sie(_) => ErrorClass::Permanent,
        }
    }
}

impl HandlerError {
    /// A short machine-readable code for metrics and DLQ attributes.
    pub fn code(&self) -> String {
        match self {
            HandlerError::Core(CoreError::Validation(_)) => "validation".into(),
            HandlerError::Core(CoreError::Parse(_)) => "parse".into(),
            HandlerError::Core(CoreError::Rules(_)) => "rules".into(),
            HandlerError::Core(CoreError::Unlinked(_)) => "out_of_order".into(),
            HandlerError::Core(CoreError::Settlement(_)) => "settlement".into(),
            HandlerError::Visma(e) => e.code(),
            HandlerError::Store(_) => "store".into(),
            HandlerError::NoTarget(_) => "no_target".into(),
            HandlerError::Conflict(_) => "key_conflict".into(),
            HandlerError::Busy(_) => "busy".into(),
            HandlerError::Fetch { .. } => "fetch".into(),
            HandlerError::Sink(_) => "sink".into(),
            HandlerError::Sie(_) => "sie".into(),
        }
    }

    /// The reason for people, cut to fit an SQS attribute. Validation messages name the order
    /// number, the line's SKU, the field and the rule: no personal data.
    pub fn reason(&self) -> String {
        self.to_string().chars().take(256).collect()
    }
}
