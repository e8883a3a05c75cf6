//! The SQS batch driver. One bad message never fails or blocks its neighbours: every record is
//! handled on its own; a record that must be retried or parked is moved by sending it to the
//! retry or parking queue, and reported as a batch item failure only when that send fails (then
//! SQS redelivers it, and its queue's redrive policy parks it after five receives). Nothing is
//! dropped.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use ctvisma_aws::queues::{backoff_delay, Park, Queues};
use ctvisma_core::Classify;
use ctvisma_handler::{Handler, MessageContext, Outcome, PostingResult};
use ctvisma_visma::Deadline;
use lambda_runtime::LambdaEvent;

use crate::metrics::Counts;

/// Seconds kept in hand before the Lambda deadline: Visma calls stop waiting by then.
const MARGIN_MS: i64 = 5_000;
/// The first retry waits up to this long; each later one doubles it (SQS delays cap at 15 min).
pub const BASE_DELAY_SECS: u32 = 30;

/// Where a retried or parked message goes. A trait so tests can drive the batch without AWS.
#[async_trait::async_trait]
pub trait Mover: Send + Sync {
    async fn retry(&self, body: &str, attempt: u32, delay_secs: u32, error: &str) -> Result<(), String>;
    async fn park(&self, body: &str, why: &Park) -> Result<(), String>;
}

#[async_trait::async_trait]
impl Mover for Queues {
    async fn retry(&self, body: &str, attempt: u32, delay_secs: u32, error: &str) -> Result<(), String> {
        self.send_retry(body, attempt, delay_secs, error)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn park(&self, body: &str, why: &Park) -> Result<(), String> {
        Queues::park(self, body, why)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub struct Driver {
    pub handler: Arc<Handler>,
    pub mover: Arc<dyn Mover>,
    /// Deliveries before a transiently failing message is parked.
    pub max_attempts: u32,
    /// The function's name, for metrics and the parking attributes.
    pub function: String,
    /// Back-off of the first retry ([`BASE_DELAY_SECS`]; tests use 0).
    pub base_delay_secs: u32,
}

impl Driver {
    /// Handles a batch; the response lists only records that could not be moved.
    pub async fn run(&self, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let deadline_ms = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
        let request_id = event.context.request_id.clone();
        let mut counts = Counts::default();
        let mut failures = Vec::new();
        for record in &event.payload.records {
            let id = record.message_id.clone().unwrap_or_default();
            let span = tracing::info_span!("message", message_id = %id, function = %self.function);
            let _guard = span.enter();
            if let Err(e) = self.one(record, &request_id, deadline_ms, &mut counts).await {
                tracing::error!(error = %e, "could not move the message: SQS will redeliver it");
                failures.push(id);
            }
        }
        println!("{}", counts.emf(&self.function, now_ms()));
        let mut response = SqsBatchResponse::default();
        for id in failures {
            response.add_failure(id);
        }
        Ok(response)
    }

    async fn one(
        &self,
        record: &SqsMessage,
        request_id: &str,
        deadline_ms: i64,
        counts: &mut Counts,
    ) -> Result<(), String> {
        let body = record.body.clone().unwrap_or_default();
        let attempt = attempt_of(record);
        let now = now_ms();
        let ctx = MessageContext {
            message_id: record.message_id.clone().unwrap_or_default(),
            request_id: request_id.to_string(),
            // Claims last until the invocation's end; writes start only before its end less
            // the margin, so a write Visma finishes after our timeout lands inside the lease.
            deadline_ms,
            deadline: Deadline::in_(Duration::from_millis((deadline_ms - MARGIN_MS - now).max(0) as u64)),
            now_ms: now,
        };
        let outcome = self.handler.handle(&body, &ctx).await;
        count(&outcome, counts);
        let source = record.event_source_arn.clone().unwrap_or_default();
        match outcome {
            Outcome::Done { .. } | Outcome::Skipped(_) | Outcome::Synced(_) => Ok(()),
            Outcome::Retry(e, _) if attempt < self.max_attempts => {
                let delay = backoff_delay(attempt, self.base_delay_secs, |c| fastrand::u32(0..=c));
                tracing::warn!(error_class = "transient", error_code = %e.code(), attempt, delay_secs = delay, "retry later");
                counts.add("Retries", 1);
                self.mover.retry(&body, attempt + 1, delay, &e.reason()).await
            }
            Outcome::Retry(e, _) | Outcome::Park(e, _) => {
                let why = Park {
                    class: e.class(),
                    code: e.code(),
                    reason: e.reason(),
                    attempts: attempt,
                    source_queue: source,
                };
                tracing::error!(error_class = ?why.class, error_code = %why.code, attempts = attempt, "parked");
                counts.add("Parked", 1);
                self.mover.park(&body, &why).await
            }
        }
    }
}

fn count(outcome: &Outcome, counts: &mut Counts) {
    let postings = match outcome {
        Outcome::Done { postings } | Outcome::Retry(_, postings) | Outcome::Park(_, postings) => postings,
        Outcome::Skipped(_) => return,
        Outcome::Synced(_) => return counts.add("MasterDataSynced", 1),
    };
    for p in postings {
        match p {
            PostingResult::Posted { .. } => counts.add("PostingsCreated", 1),
            PostingResult::Duplicate { .. } => counts.add("DuplicatesSuppressed", 1),
            PostingResult::Failed { error, .. } if error.code().starts_with("rate_limited") => {
                counts.add("VismaRateLimited", 1)
            }
            PostingResult::Failed { .. } => {}
        }
    }
}

/// The delivery attempt: our `attempt` attribute on retried messages, else SQS's receive count.
fn attempt_of(record: &SqsMessage) -> u32 {
    record
        .message_attributes
        .get("attempt")
        .and_then(|a| a.string_value.as_deref())
        .and_then(|v| v.parse().ok())
        .or_else(|| {
            record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(1)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
