//! The retry queue (a transient failure comes back after a delay) and the parking queue (a
//! permanent failure waits there, with its class, code and reason, for a person).
//!
//! Message attributes are listed in `TABLES.md`. Reasons must be sanitised by the caller (no
//! personal data); they are cut to 256 characters here.

use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;
use ctvisma_core::ErrorClass;

use crate::{aws_error, truncate_chars, AwsError};

/// SQS's longest delivery delay.
pub const MAX_DELAY_SECS: u32 = 900;
/// The longest error reason put in an attribute.
pub const MAX_REASON_CHARS: usize = 256;

/// The two queues a handler sends to. The client is cheap to clone.
#[derive(Debug, Clone)]
pub struct Queues {
    pub client: Client,
    pub retry_url: String,
    pub parking_url: String,
}

/// Why a message is parked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Park {
    pub class: ErrorClass,
    /// A short machine-readable code (`refused:2000`, `validation`, …).
    pub code: String,
    /// A sanitised, human-readable reason: no personal data.
    pub reason: String,
    /// Deliveries tried before parking.
    pub attempts: u32,
    /// The queue the message came from (its ARN or URL), for a redrive.
    pub source_queue: String,
}

impl Queues {
    pub fn new(client: Client, retry_url: impl Into<String>, parking_url: impl Into<String>) -> Self {
        Self {
            client,
            retry_url: retry_url.into(),
            parking_url: parking_url.into(),
        }
    }

    /// Sends `body` to the retry queue, delivered after `delay_secs` (at most 900), with the
    /// attempt number and the first error; returns the new message id.
    pub async fn send_retry(
        &self,
        body: &str,
        attempt: u32,
        delay_secs: u32,
        first_error: &str,
    ) -> Result<String, AwsError> {
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.retry_url)
            .message_body(body)
            .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
            .message_attributes("attempt", number(attempt)?);
        if let Some(first) = text(truncate_chars(first_error, MAX_REASON_CHARS))? {
            send = send.message_attributes("first_error", first);
        }
        let out = send.send().await.map_err(|e| aws_error("sqs", &e))?;
        Ok(out.message_id.unwrap_or_default())
    }

    /// Sends `body` to the parking queue with why it failed; returns the new message id.
    pub async fn park(&self, body: &str, why: &Park) -> Result<String, AwsError> {
        let class = match why.class {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        };
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.parking_url)
            .message_body(body)
            .message_attributes("attempts", number(why.attempts)?);
        for (name, value) in [
            ("error_class", class),
            ("error_code", truncate_chars(&why.code, MAX_REASON_CHARS)),
            ("error_reason", truncate_chars(&why.reason, MAX_REASON_CHARS)),
            ("source_queue", why.source_queue.as_str()),
        ] {
            // SQS refuses empty attribute values: an unknown one is left out.
            if let Some(value) = text(value)? {
                send = send.message_attributes(name, value);
            }
        }
        let out = send.send().await.map_err(|e| aws_error("sqs", &e))?;
        tracing::info!(code = %why.code, attempts = why.attempts, "parked a message");
        Ok(out.message_id.unwrap_or_default())
    }
}

/// Seconds to wait before retry `attempt` (1 for the first retry): `base_secs · 2^(attempt-1)`,
/// capped at 900, then "full jitter": `jitter(ceiling)` picks the delay in `0..=ceiling` (pass
/// `|c| fastrand::u32(0..=c)`, or `|c| c` for none); a pick above the ceiling is cut to it.
pub fn backoff_delay(attempt: u32, base_secs: u32, jitter: impl FnOnce(u32) -> u32) -> u32 {
    let doublings = attempt.saturating_sub(1).min(31);
    let ceiling = u64::from(base_secs)
        .saturating_mul(1u64 << doublings)
        .min(u64::from(MAX_DELAY_SECS)) as u32;
    jitter(ceiling).min(ceiling)
}

fn number(value: u32) -> Result<MessageAttributeValue, AwsError> {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value.to_string())
        .build()
        .map_err(build_error)
}

fn text(value: &str) -> Result<Option<MessageAttributeValue>, AwsError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map(Some)
        .map_err(build_error)
}

fn build_error(e: aws_sdk_sqs::error::BuildError) -> AwsError {
    AwsError::Broken {
        service: "sqs",
        what: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_fifteen_minutes() {
        let delays: Vec<u32> = (1..=9).map(|a| backoff_delay(a, 10, |c| c)).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(backoff_delay(0, 10, |c| c), 10);
        assert_eq!(backoff_delay(u32::MAX, u32::MAX, |c| c), 900);
        assert_eq!(backoff_delay(3, 0, |c| c), 0);
    }

    #[test]
    fn jitter_picks_within_the_ceiling() {
        let mut seen = 0;
        assert_eq!(
            backoff_delay(4, 10, |c| {
                seen = c;
                c / 2
            }),
            40
        );
        assert_eq!(seen, 80);
        assert_eq!(backoff_delay(4, 10, |_| 5_000), 80);
        assert_eq!(backoff_delay(4, 10, |_| 0), 0);
    }

    #[test]
    fn reasons_are_cut_on_characters() {
        let long = "å".repeat(300);
        assert_eq!(truncate_chars(&long, MAX_REASON_CHARS).chars().count(), 256);
        assert_eq!(truncate_chars("short", MAX_REASON_CHARS), "short");
    }
}
