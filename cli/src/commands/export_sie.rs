//! `ctvisma export-sie`: one entity's postings as a SIE 4I file of vouchers for its ledger to
//! import, each posting exported once.
//!
//! Inputs are mapped exactly as `ctvisma map` maps them. A state file beside the output,
//! `.sie-exported-<entity>.json` (a sorted JSON list of idempotency keys), records what earlier
//! runs exported: those postings are skipped. The SIE file is written first and the state only
//! after it, both through a temporary file and a rename, so a crash in between can export a
//! posting twice (its key is in the #VER text) but never lose one. An existing file is never
//! overwritten. The summary is one JSON line on stderr; when nothing is new, no file is written.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ctvisma_core::Posting;
use ctvisma_sie::{SieError, SieHeader};
use serde_json::json;

use crate::commands::map::{load, map_paths, report};
use crate::{exit, ExportSieArgs};

pub fn run(args: &ExportSieArgs, err: &mut dyn Write) -> i32 {
    match export(args, err) {
        Ok(code) => code,
        Err(value) => {
            report(err, value);
            exit::SETUP
        }
    }
}

/// The exit code, or the setup error to report (nothing written, or the state left behind).
fn export(args: &ExportSieArgs, err: &mut dyn Write) -> Result<i32, serde_json::Value> {
    let (rules, rates) = match load(&args.rules, err) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let id = args.entity.as_str();
    let rules_file = args.rules.display().to_string();
    let entity = rules.entities.get(id).ok_or_else(|| {
        let known: Vec<&str> = rules.entities.keys().map(String::as_str).collect();
        json!({"error": "entity", "file": rules_file, "message": format!("unknown entity {id:?}; the rules have {known:?}")})
    })?;
    let today = chrono::Local::now().date_naive();
    let mut header = SieHeader::for_entity(id, entity, today).map_err(|e| {
        let message = match e {
            SieError::Header(m) => m,
            other => other.to_string(),
        };
        json!({"error": "rules", "file": rules_file, "message": message})
    })?;

    let out = match &args.out {
        Some(p) => p.clone(),
        None => free_default(Path::new("out"), id, today),
    };
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let state_path = dir.join(format!(".sie-exported-{id}.json"));
    let mut exported = read_state(&state_path)
        .map_err(|message| json!({"error": "state", "file": state_path.display().to_string(), "message": message}))?;

    let (postings, mut code) = map_paths(&args.paths, &rules, rates.as_ref(), err);
    let (done, new): (Vec<Posting>, Vec<Posting>) = postings
        .into_iter()
        .filter(|p| p.entity == id)
        .partition(|p| exported.contains(p.idempotency_key.as_str()));

    // A posting that cannot be a voucher (say, no exchange rate) is reported and left for a later
    // run; the others are exported.
    let mut todo = Vec::with_capacity(new.len());
    for p in new {
        match ctvisma_sie::write(std::slice::from_ref(&p), &header) {
            Ok(_) => todo.push(p),
            Err(SieError::Header(m)) => {
                return Err(json!({"error": "rules", "file": rules_file, "message": format!("entities.{id}: {m}")}));
            }
            Err(e) => {
                code = exit::REFUSED;
                report(
                    err,
                    json!({"error": "sie", "idempotency_key": p.idempotency_key, "message": e.to_string()}),
                );
            }
        }
    }

    let summary = |n: usize, file: Option<&Path>| json!({"exported": n, "skipped_already_exported": done.len(), "file": file.map(|f| f.display().to_string())});
    if todo.is_empty() {
        report(err, summary(0, None));
        return Ok(code);
    }

    // Every posting date parsed when its voucher was written above.
    header.set_fiscal_year_of(&todo, today);
    let io_error =
        |file: &Path, message: String| json!({"error": "io", "file": file.display().to_string(), "message": message});
    let bytes = ctvisma_sie::write(&todo, &header).map_err(|e| io_error(&out, e.to_string()))?;
    if out.exists() {
        return Err(io_error(
            &out,
            "already exists; not overwritten (its vouchers may not be imported yet)".into(),
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e.to_string()))?;
    write_atomically(&out, &bytes).map_err(|e| io_error(&out, e.to_string()))?;

    exported.extend(todo.iter().map(|p| p.idempotency_key.to_string()));
    let keys: Vec<&String> = exported.iter().collect();
    let state = serde_json::to_vec_pretty(&keys).unwrap_or_default();
    write_atomically(&state_path, &state).map_err(|e| {
        io_error(
            &state_path,
            format!(
                "{e}; {} was written but its postings are not marked exported",
                out.display()
            ),
        )
    })?;
    report(err, summary(todo.len(), Some(&out)));
    Ok(code)
}

/// `dir/<entity>-<YYYYMMDD>.si`, or `-2`, `-3`, … when an earlier run today wrote that name.
fn free_default(dir: &Path, entity: &str, today: NaiveDate) -> PathBuf {
    let stem = format!("{entity}-{}", today.format("%Y%m%d"));
    let mut path = dir.join(format!("{stem}.si"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.si"));
        n += 1;
    }
    path
}

/// The keys exported so far; none when the file does not exist yet.
fn read_state(path: &Path) -> Result<BTreeSet<String>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<BTreeSet<String>>(&bytes)
            .map_err(|e| format!("not a JSON list of idempotency keys: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e.to_string()),
    }
}

/// Writes a hidden temporary file beside `path`, flushes it to disk and renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
