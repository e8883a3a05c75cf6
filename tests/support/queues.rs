//! What Lambda's SQS event source does, done on moto by the serverless tests: take every waiting
//! message of a queue, with its attributes, as the records of an SQS event.
//! Included with `#[path]` by the test files (it needs the AWS SDK, a test-only dependency).

use aws_lambda_events::event::sqs::{SqsMessage, SqsMessageAttribute};
use ctvisma_aws::testing::MotoServer;

/// Receives and deletes everything in a queue, as SQS event records.
pub async fn take_all(moto: &MotoServer, url: &str) -> Vec<SqsMessage> {
    let mut out = Vec::new();
    for m in moto.take_all(url).await {
        let mut r = SqsMessage::default();
        r.message_id = m.message_id;
        r.body = m.body;
        r.event_source_arn = Some("arn:aws:sqs:eu-north-1:000000000000:ctvisma-orders".into());
        for (name, value) in m.message_attributes.unwrap_or_default() {
            let mut a = SqsMessageAttribute::default();
            a.string_value = value.string_value;
            a.data_type = Some(value.data_type);
            r.message_attributes.insert(name, a);
        }
        out.push(r);
    }
    out
}

/// A message attribute's text, or "" when it has none.
pub fn attribute<'a>(m: &'a SqsMessage, name: &str) -> &'a str {
    m.message_attributes
        .get(name)
        .and_then(|a| a.string_value.as_deref())
        .unwrap_or("")
}
