//! The AWS adapters: the ports of `ctvisma-ledger`, `ctvisma-visma` and `ctvisma-handler` on
//! DynamoDB, Secrets Manager, SQS and S3.
//!
//! - [`dynamo::DynamoStore`]: the idempotency store and audit ledger (tables in `TABLES.md`).
//! - [`secrets::SecretsTokenStore`]: eAccounting's rotating refresh token in a JSON secret.
//! - [`queues::Queues`]: the delayed retry queue and the parking queue.
//! - [`s3::S3Sink`]: the SIE export's object sink on an S3 bucket.
//! - [`config::AwsClients`]: the SDK clients, built once per cold start and cloned.

pub mod config;
pub mod dynamo;
pub mod queues;
pub mod s3;
pub mod secrets;
pub mod testing;

pub use config::AwsClients;
pub use dynamo::DynamoStore;
pub use queues::{backoff_delay, Park, Queues};
pub use s3::S3Sink;
pub use secrets::{secret_json, SecretsTokenStore};

// The error types are aws-smithy's, re-exported by every service crate.
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An AWS call that failed, outside the idempotency store (which answers with `StoreError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// Throttling, a timeout, a 5xx or a broken connection: retry.
    #[error("{service} unavailable: {what}")]
    Unavailable { service: &'static str, what: String },
    /// Access denied, a missing resource, malformed data: a person must fix it.
    #[error("{service}: {what}")]
    Broken { service: &'static str, what: String },
}

impl ctvisma_core::Classify for AwsError {
    fn class(&self) -> ctvisma_core::ErrorClass {
        match self {
            AwsError::Unavailable { .. } => ctvisma_core::ErrorClass::Transient,
            AwsError::Broken { .. } => ctvisma_core::ErrorClass::Permanent,
        }
    }
}

/// Error codes that mean "slow down or try again" on any of the services we call.
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
    "KMSThrottlingException",
    "KMS.ThrottlingException",
];

pub(crate) fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

/// Whether an SDK error is worth retrying (throttling, timeouts, 5xx, connection failures), and
/// its full message (the error chain; AWS error messages carry no secret values).
pub(crate) fn sdk_failure<E>(err: &SdkError<E>) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = DisplayErrorContext(err).to_string();
    let retryable = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            service.err().code().is_some_and(is_retryable_code) || service.raw().status().as_u16() >= 500
        }
        _ => false,
    };
    (retryable, text)
}

pub(crate) fn aws_error<E>(service: &'static str, err: &SdkError<E>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (retryable, what) = sdk_failure(err);
    if retryable {
        AwsError::Unavailable { service, what }
    } else {
        AwsError::Broken { service, what }
    }
}

/// Cuts `s` to at most `max` characters (never inside a character).
pub(crate) fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
