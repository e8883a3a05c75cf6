//! `ctvisma map`: orders, payments, their messages and settlement reports → postings, as one JSON
//! document on stdout.
//!
//! Deterministic: same inputs and rules, same bytes. The same event seen twice (a raw order and
//! its OrderCreated envelope, two payment versions) yields one posting. Every problem is one JSON line on stderr with
//! the file and the place inside it; the other inputs are still mapped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Added, Book, Source};
use ctvisma_core::mapper::payouts::{map_settlement, PayoutOutcome};
use ctvisma_core::rates::RateTable;
use ctvisma_core::settlement;
use ctvisma_core::{CoreError, Posting, PostingDocument, Rules};
use serde_json::json;

use crate::{exit, files, MapArgs};

pub fn run(args: &MapArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (rules, rates) = match load(&args.rules, err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let (postings, code) = map_paths(&args.paths, &rules, rates.as_ref(), err);
    let doc = PostingDocument { postings };
    let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{\"postings\":[]}".into());
    if writeln!(out, "{text}").is_err() {
        return exit::SETUP;
    }
    code
}

/// The rules and their rate table; a file that cannot be used is reported on `err` and gives
/// [`exit::SETUP`].
pub(crate) fn load(path: &Path, err: &mut dyn Write) -> Result<(Rules, Option<RateTable>), i32> {
    load_rules(path).map_err(|message| {
        report(
            err,
            json!({"error": "rules", "file": path.display().to_string(), "message": message}),
        );
        exit::SETUP
    })
}

/// Maps the inputs under `paths` to postings, one per idempotency key, in input order. Problems
/// go to `err` as JSON lines; the exit code is [`exit::REFUSED`] if any input was refused (the
/// others are still mapped), else [`exit::OK`].
pub(crate) fn map_paths(
    paths: &[PathBuf],
    rules: &Rules,
    rates: Option<&RateTable>,
    err: &mut dyn Write,
) -> (Vec<Posting>, i32) {
    let mut refused = false;
    let mut book = Book::default();
    let mut settlements = Vec::new();

    for file in files::input_files(paths) {
        let file = match file {
            Ok(f) => f,
            Err((dir, e)) => {
                refused = true;
                report(
                    err,
                    json!({"error": "io", "file": dir.display().to_string(), "message": e.to_string()}),
                );
                continue;
            }
        };
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                refused = true;
                report(err, json!({"error": "io", "file": name, "message": e.to_string()}));
                continue;
            }
        };
        if settlement::looks_like_settlement(&text) {
            settlements.extend(settlement_postings(&text, &name, rules, rates, err));
            continue;
        }
        for found in documents_from_str(&text) {
            let source = Source {
                file: name.clone(),
                path: found.path,
            };
            match found.document.and_then(|d| book.add(d, source.clone())) {
                Ok(Added::Used) => {}
                Ok(Added::Duplicate(id)) => report(
                    err,
                    json!({"notice": "duplicate", "file": source.file, "path": source.path, "id": id, "reason": "already read: the same or a newer version"}),
                ),
                Ok(Added::Skipped(kind)) => report(
                    err,
                    json!({"notice": "skipped", "file": source.file, "path": source.path, "kind": kind, "reason": "nothing to post"}),
                ),
                Err(e) => {
                    refused = true;
                    report(err, error_json(&source, &e));
                }
            }
        }
    }

    let mut postings: Vec<Posting> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (source, outcome) in book.postings(rules, rates).into_iter().chain(settlements) {
        let found = match outcome {
            Ok(p) => p,
            Err(e) => {
                refused = true;
                report(err, error_json(&source, &e));
                continue;
            }
        };
        for p in found {
            match seen.get(p.idempotency_key.as_str()) {
                Some(&i) if postings[i] == p => report(
                    err,
                    json!({"notice": "duplicate", "file": source.file, "path": source.path, "idempotency_key": p.idempotency_key}),
                ),
                Some(_) => {
                    refused = true;
                    report(
                        err,
                        json!({"error": "conflict", "file": source.file, "path": source.path, "idempotency_key": p.idempotency_key,
                        "message": "same idempotency key as an earlier input, different posting: the first one is kept"}),
                    );
                }
                None => {
                    seen.insert(p.idempotency_key.to_string(), postings.len());
                    postings.push(p);
                }
            }
        }
    }

    (postings, if refused { exit::REFUSED } else { exit::OK })
}

/// The payout postings of a settlement report, one outcome per line; a file that does not parse is
/// one error listing all its bad lines.
fn settlement_postings(
    text: &str,
    name: &str,
    rules: &Rules,
    rates: Option<&RateTable>,
    err: &mut dyn Write,
) -> Vec<(Source, Result<Vec<Posting>, CoreError>)> {
    let source = |line: usize| Source {
        file: name.to_string(),
        path: format!("line {line}"),
    };
    let parsed = match settlement::parse(text) {
        Ok(s) => s,
        Err(e) => return vec![(source(1), Err(e.into()))],
    };
    let mut out = Vec::new();
    for (line, outcome) in parsed.lines.iter().zip(map_settlement(&parsed, rules, rates)) {
        match outcome {
            PayoutOutcome::Posted(p) => out.push((source(line.file_line), Ok(vec![*p]))),
            PayoutOutcome::Refused(e) => out.push((source(line.file_line), Err(e.into()))),
            PayoutOutcome::Skipped { line, reason } => report(
                err,
                json!({"notice": "skipped", "file": name, "path": format!("line {line}"), "kind": "MerchantPayout", "reason": reason}),
            ),
        }
    }
    out
}

/// The rules and the exchange-rate table they name (relative to the rules file).
fn load_rules(path: &Path) -> Result<(Rules, Option<RateTable>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let rules = Rules::from_toml(&text).map_err(|e| e.to_string())?;
    let Some(name) = &rules.fx.rates else {
        return Ok((rules, None));
    };
    let file = path.parent().unwrap_or(Path::new(".")).join(name);
    let table = std::fs::read_to_string(&file)
        .map_err(|e| format!("fx.rates {}: {e}", file.display()))
        .and_then(|t| RateTable::from_ecb_csv(&t).map_err(|e| format!("fx.rates {}: {e}", file.display())))?;
    Ok((rules, Some(table)))
}

fn error_json(source: &Source, e: &CoreError) -> serde_json::Value {
    let (file, path) = (&source.file, &source.path);
    match e {
        CoreError::Validation(v) => json!({
            "error": "validation", "file": file, "path": path,
            "order": v.order, "order_id": v.order_id, "problems": v.problems, "message": v.to_string(),
        }),
        CoreError::Unlinked(m) => json!({"error": "unlinked", "file": file, "path": path, "message": m}),
        CoreError::Settlement(s) => json!({
            "error": "validation", "file": file, "path": path, "problems": s.problems, "message": s.to_string(),
        }),
        other => json!({"error": "parse", "file": file, "path": path, "message": other.to_string()}),
    }
}

pub(crate) fn report(err: &mut dyn Write, value: serde_json::Value) {
    // stderr is the user's terminal or a log: a failed write there has nowhere else to go.
    let _ = writeln!(err, "{value}");
}
