//! `ctvisma replay`: after a rules fix (or a Visma outage), re-runs every message whose latest
//! outcome in the local ledger is `parked` or `retry` through the same handler as `ctvisma run`.
//! The message bodies are re-read from the inputs `run` was given: the message log names each by
//! its file and record (`events/x.json#Records[2]`). Idempotency keys come from business identity,
//! so a posting made before is suppressed as a duplicate, never posted twice; a second replay
//! finds nothing left to do. New postings of SIE entities are exported to `out/sie/` as `run`
//! does, and appended to `out/journal.jsonl`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use ctvisma_core::{Classify, Posting};
use ctvisma_handler::{Outcome, PostingResult};
use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::{IdempotencyStore, MessageRecord};
use serde_json::json;

use super::run::{append_journal, export_sie, handler, local_context, now_ms, print_exports};
use super::setup_error;
use crate::{exit, ReplayArgs};

pub fn run(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match super::runtime(err) {
        Ok(runtime) => runtime.block_on(replay(args, out, err)),
        Err(code) => code,
    }
}

/// The messages to replay: the latest record of each message id, when it failed.
pub(crate) fn pending(log: &[MessageRecord]) -> Vec<MessageRecord> {
    let mut latest: BTreeMap<&str, (usize, &MessageRecord)> = BTreeMap::new();
    for (i, m) in log.iter().enumerate() {
        if !m.message_id.is_empty() {
            latest.insert(m.message_id.as_str(), (i, m));
        }
    }
    let mut out: Vec<(usize, &MessageRecord)> = latest
        .into_values()
        .filter(|(_, m)| m.outcome == "parked" || m.outcome == "retry")
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, m)| m.clone()).collect()
}

/// `file#Records[i]` → (file, Some(i)); a bare file name → (file, None).
pub(crate) fn split_label(label: &str) -> (PathBuf, Option<usize>) {
    if let Some((file, rest)) = label.rsplit_once("#Records[") {
        if let Some(i) = rest.strip_suffix(']').and_then(|n| n.parse().ok()) {
            return (PathBuf::from(file), Some(i));
        }
    }
    (PathBuf::from(label), None)
}

/// The message body a label names, re-read from its input file.
fn body_of(label: &str, files: &mut BTreeMap<PathBuf, Result<String, String>>) -> Result<String, String> {
    let (file, record) = split_label(label);
    let text = files
        .entry(file.clone())
        .or_insert_with(|| std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display())))
        .clone()?;
    let Some(i) = record else {
        return Ok(text);
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    value
        .get("Records")
        .and_then(|r| r.get(i))
        .and_then(|r| r.get("body"))
        .and_then(|b| b.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("{}: no Records[{i}].body", file.display()))
}

async fn replay(args: &ReplayArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (rules, rates) = match crate::commands::map::load(&args.rules, err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let path = args.out.join("ctvisma.sqlite");
    if !path.exists() {
        return setup_error(
            err,
            &format!("no ledger at {}: run `ctvisma run` first", path.display()),
        );
    }
    let store = match SqliteStore::open(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let log = match store.all_messages().await {
        Ok(l) => l,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let todo = pending(&log);
    if todo.is_empty() {
        let _ = writeln!(
            out,
            "nothing to replay: no message in {} is parked or waiting for a retry",
            path.display()
        );
        return exit::OK;
    }

    // Every input file the log names: lookups (a payment's order) as `run` had them.
    let mut files: BTreeMap<PathBuf, Result<String, String>> = BTreeMap::new();
    let labels: BTreeSet<&str> = log.iter().map(|m| m.message_id.as_str()).collect();
    let mut bodies = Vec::new();
    for label in &labels {
        if let Ok(body) = body_of(label, &mut files) {
            bodies.push(body);
        }
    }
    let handler = match handler(
        rules,
        rates,
        args.target,
        &args.out,
        store.clone(),
        bodies.iter().map(String::as_str),
    )
    .await
    {
        Ok(h) => h,
        Err(message) => return setup_error(err, &message),
    };

    let started = now_ms();
    let (mut posted, mut duplicates, mut failed) = (0usize, 0usize, Vec::new());
    let _ = writeln!(out, "replaying {} message(s)", todo.len());
    for (n, m) in todo.iter().enumerate() {
        let body = match body_of(&m.message_id, &mut files) {
            Ok(b) => b,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "io", "input": m.message_id, "message": format!("cannot re-read the message: {e}")})
                );
                failed.push((m.message_id.clone(), format!("cannot re-read the message: {e}")));
                continue;
            }
        };
        let ctx = local_context(&m.message_id, format!("replay-{}-{started}-{n}", std::process::id()));
        let outcome = handler.handle(&body, &ctx).await;
        let results = match &outcome {
            Outcome::Done { postings } | Outcome::Retry(_, postings) | Outcome::Park(_, postings) => {
                postings.as_slice()
            }
            Outcome::Skipped(_) | Outcome::Synced(_) => &[],
        };
        let mine_posted = results
            .iter()
            .filter(|p| matches!(p, PostingResult::Posted { .. }))
            .count();
        let mine_dup = results
            .iter()
            .filter(|p| matches!(p, PostingResult::Duplicate { .. }))
            .count();
        posted += mine_posted;
        duplicates += mine_dup;
        let line = match &outcome {
            Outcome::Park(e, _) | Outcome::Retry(e, _) => {
                let reason = format!("{:?} {}: {}", e.class(), e.code(), e.reason());
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "parked", "input": m.message_id, "class": format!("{:?}", e.class()), "code": e.code(), "reason": e.reason()})
                );
                failed.push((m.message_id.clone(), reason.clone()));
                format!("still {}: {reason}", outcome.label())
            }
            _ => format!("{} ({mine_posted} posted, {mine_dup} already posted)", outcome.label()),
        };
        let _ = writeln!(
            out,
            "  {} [{}]: {line}",
            m.message_id,
            m.order_number.as_deref().unwrap_or(&m.resource_id)
        );
    }

    let exports = export_sie(&handler, store.as_ref(), args.target, &args.out, err).await;
    let entries = store.ledger_between(started, now_ms() + 1).await.unwrap_or_default();
    let postings: Vec<Posting> = entries
        .iter()
        .filter_map(|e| serde_json::from_str(&e.posting).ok())
        .collect();
    if let Err(e) = append_journal(&args.out.join("journal.jsonl"), &postings) {
        let _ = writeln!(err, "{}", json!({"error": "io", "message": e.to_string()}));
    }
    let _ = writeln!(out, "postings made        {posted:>6}");
    let _ = writeln!(out, "duplicates suppressed{duplicates:>6}");
    let _ = writeln!(out, "still parked         {:>6}", failed.len());
    print_exports(out, &exports, &args.out);
    if failed.is_empty() && exports.iter().all(|(_, r)| r.is_ok()) {
        exit::OK
    } else {
        exit::REFUSED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, outcome: &str) -> MessageRecord {
        MessageRecord {
            resource_id: "o1".into(),
            order_number: None,
            kind: "OrderCreated".into(),
            message_id: id.into(),
            sequence_number: None,
            at: 0,
            outcome: outcome.into(),
            keys: Vec::new(),
            reason: None,
        }
    }

    #[test]
    fn only_messages_whose_latest_outcome_failed_are_replayed() {
        let log = [
            record("a#Records[0]", "parked"),
            record("b#Records[0]", "posted"),
            record("c", "retry"),
            record("a#Records[0]", "posted"),
            record("b#Records[0]", "parked"),
        ];
        let ids: Vec<String> = pending(&log).into_iter().map(|m| m.message_id).collect();
        assert_eq!(ids, ["c", "b#Records[0]"]);
    }

    #[test]
    fn labels_name_a_file_and_a_record() {
        assert_eq!(
            split_label("events/x#y.json#Records[12]"),
            (PathBuf::from("events/x#y.json"), Some(12))
        );
        assert_eq!(split_label("events/x.json"), (PathBuf::from("events/x.json"), None));
        assert_eq!(
            split_label("x.json#Records[a]"),
            (PathBuf::from("x.json#Records[a]"), None)
        );
    }
}
