//! `ctvisma redrive --from <parking queue url> [--to <queue url>] [--dry-run]`: moves parked
//! messages back to be handled again. Each message goes to `--to`, or to the queue its
//! `source_queue` attribute names (the function that parked it wrote the source queue's ARN
//! there); it is deleted from the parking queue only after SQS accepted the copy. The parking
//! attributes (`error_*`, `attempts`, `source_queue`) and retry counters are left behind, so the
//! message starts afresh. Redriving is safe: postings made before are suppressed as duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
use aws_sdk_sqs::Client;
use ctvisma_aws::AwsClients;
use serde_json::json;

use crate::{exit, RedriveArgs};

/// Attributes that describe the parking, not the message.
const PARKING_ATTRIBUTES: &[&str] = &[
    "error_class",
    "error_code",
    "error_reason",
    "attempts",
    "source_queue",
    "attempt",
    "first_error",
];
/// How long a received message stays hidden from other readers while it is moved.
const VISIBILITY_SECS: i32 = 60;

pub fn run(args: &RedriveArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "{}", json!({"error": "setup", "message": e.to_string()}));
            return exit::SETUP;
        }
    };
    runtime.block_on(redrive(args, out, err))
}

async fn redrive(args: &RedriveArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let sqs = AwsClients::from_env().await.sqs;
    let mut resolved: BTreeMap<String, Result<String, String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut hidden = Vec::new(); // receipt handles to show again (dry run, failures)
    let (mut moved, mut failed, mut listed) = (0usize, 0usize, 0usize);
    let max = args.max.unwrap_or(usize::MAX);
    'receive: while moved + listed < max {
        let received = sqs
            .receive_message()
            .queue_url(&args.from)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .visibility_timeout(VISIBILITY_SECS)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(r) => r.messages.unwrap_or_default(),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "sqs", "queue": args.from, "message": aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()})
                );
                return exit::SETUP;
            }
        };
        if messages.is_empty() {
            break;
        }
        let mut new = 0;
        for m in messages {
            let id = m.message_id.clone().unwrap_or_default();
            let handle = m.receipt_handle.clone().unwrap_or_default();
            if !seen.insert(id.clone()) {
                hidden.push(handle);
                continue;
            }
            new += 1;
            let attributes = m.message_attributes.clone().unwrap_or_default();
            let attr = |name: &str| attributes.get(name).and_then(|a| a.string_value.clone());
            let source = attr("source_queue");
            let destination = match (&args.to, &source) {
                (Some(to), _) => Ok(to.clone()),
                (None, Some(source)) => resolved
                    .entry(source.clone())
                    .or_insert(queue_url(&sqs, source).await)
                    .clone(),
                (None, None) => Err("no source_queue attribute: pass --to".to_string()),
            };
            let reason = json!({
                "message_id": id, "error_code": attr("error_code"), "error_reason": attr("error_reason"),
                "attempts": attr("attempts"), "source_queue": source,
            });
            let destination = match destination {
                Ok(d) => d,
                Err(e) => {
                    failed += 1;
                    let _ = writeln!(
                        err,
                        "{}",
                        json!({"error": "destination", "message": e, "parked": reason})
                    );
                    hidden.push(handle);
                    continue;
                }
            };
            if args.dry_run {
                listed += 1;
                let _ = writeln!(
                    out,
                    "would move {id} → {destination} ({}: {})",
                    attr("error_code").unwrap_or_else(|| "-".into()),
                    attr("error_reason").unwrap_or_else(|| "no reason recorded".into())
                );
                hidden.push(handle);
                continue;
            }
            let mut send = sqs
                .send_message()
                .queue_url(&destination)
                .message_body(m.body.clone().unwrap_or_default());
            for (name, value) in kept_attributes(&attributes) {
                send = send.message_attributes(name, value);
            }
            if let Err(e) = send.send().await {
                failed += 1;
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "sqs", "queue": destination, "message": aws_sdk_sqs::error::DisplayErrorContext(&e).to_string(), "parked": reason})
                );
                hidden.push(handle);
                continue;
            }
            // Sent: only now may the parked copy go. A failed delete leaves a duplicate
            // delivery, which the idempotency keys make harmless.
            if let Err(e) = sqs
                .delete_message()
                .queue_url(&args.from)
                .receipt_handle(&handle)
                .send()
                .await
            {
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"warning": "sqs", "message": format!("re-sent but not deleted from the parking queue: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)), "parked": reason})
                );
            }
            moved += 1;
            let _ = writeln!(out, "moved {id} → {destination}");
            if moved + listed >= max {
                break 'receive;
            }
        }
        if new == 0 {
            break;
        }
    }
    // What was only looked at becomes visible again at once.
    for handle in hidden {
        let _ = sqs
            .change_message_visibility()
            .queue_url(&args.from)
            .receipt_handle(handle)
            .visibility_timeout(0)
            .send()
            .await;
    }
    if args.dry_run {
        let _ = writeln!(out, "dry run: {listed} message(s) would be moved, {failed} could not");
    } else {
        let _ = writeln!(out, "{moved} message(s) moved, {failed} left in the parking queue");
    }
    if failed == 0 {
        exit::OK
    } else {
        exit::REFUSED
    }
}

/// The message's own attributes, without those the parking added.
fn kept_attributes(
    attributes: &std::collections::HashMap<String, MessageAttributeValue>,
) -> Vec<(String, MessageAttributeValue)> {
    let mut kept: Vec<(String, MessageAttributeValue)> = attributes
        .iter()
        .filter(|(name, _)| !PARKING_ATTRIBUTES.contains(&name.as_str()))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept
}

/// A queue URL from a URL (as is) or an ARN (`arn:aws:sqs:<region>:<account>:<name>`).
async fn queue_url(sqs: &Client, source: &str) -> Result<String, String> {
    if source.starts_with("https://") || source.starts_with("http://") {
        return Ok(source.to_string());
    }
    let Some((account, name)) = parse_arn(source) else {
        return Err(format!("source_queue {source:?} is neither a queue URL nor an SQS ARN"));
    };
    sqs.get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| format!("queue {source}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e)))?
        .queue_url
        .ok_or_else(|| format!("queue {source}: no URL in the answer"))
}

/// (account, queue name) of an SQS ARN.
fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] if !name.is_empty() => Some((account, name)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_the_account_and_queue() {
        assert_eq!(
            parse_arn("arn:aws:sqs:eu-north-1:123456789012:ctvisma-orders"),
            Some(("123456789012", "ctvisma-orders"))
        );
        assert_eq!(parse_arn("ctvisma-orders"), None);
        assert_eq!(parse_arn("arn:aws:sns:eu-north-1:1:topic"), None);
    }
}
