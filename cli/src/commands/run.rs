//! `ctvisma run`: the main job on one machine. Every message of the inputs (SQS event files as
//! the Lambdas receive them, or bare messages and resources) goes through exactly the handler the
//! Lambdas use, with embedded defaults: an SQLite idempotency store and ledger in `out/`, the
//! recorded resources of the inputs (and `tests/data`) for lookups, and per entity the target of
//! the rules (`--target` overrides): `sie` entities end in the ledger and are exported as SIE 4
//! files to `out/sie/`; `eaccounting` / `vismanet` post to the company named by the environment
//! (see ../shared/CONTRACT.md). A second run over the same inputs posts nothing and says so.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::rules::Target;
use ctvisma_core::{Classify, Posting, Role};
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, Outcome, PostingResult, RecordedResources, Resources};
use ctvisma_ledger::sqlite::SqliteStore;
use ctvisma_ledger::IdempotencyStore;
use ctvisma_visma::eaccounting::{Eaccounting, EaccountingConfig};
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::FileTokenStore;
use ctvisma_visma::vismanet::{Vismanet, VismanetConfig};
use ctvisma_visma::{Deadline, LedgerTarget};
use rust_decimal::Decimal;
use serde_json::json;

use super::setup_error;
use crate::{exit, files, RunArgs};

pub fn run(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match super::runtime(err) {
        Ok(runtime) => runtime.block_on(run_async(args, out, err)),
        Err(code) => code,
    }
}

/// One message to handle: where it came from and its body.
struct Input {
    label: String,
    body: String,
}

async fn run_async(args: &RunArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (rules, rates) = match crate::commands::map::load(&args.rules, err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return setup_error(err, &format!("{}: {e}", args.out.display()));
    }
    let store = match SqliteStore::open(args.out.join("ctvisma.sqlite")) {
        Ok(s) => Arc::new(s),
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let (inputs, mut refused) = read_inputs(&args.paths, err);
    let bodies = inputs.iter().map(|i| i.body.as_str());
    let handler = match handler(rules, rates, args.target, &args.out, store.clone(), bodies).await {
        Ok(h) => h,
        Err(message) => return setup_error(err, &message),
    };

    let started = now_ms();
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(inputs.len() as u64), indicatif::ProgressDrawTarget::stderr());
    let mut summary = Summary::default();
    for (n, input) in inputs.iter().enumerate() {
        let ctx = local_context(&input.label, format!("run-{}-{started}-{n}", std::process::id()));
        let outcome = handler.handle(&input.body, &ctx).await;
        summary.count(&input.label, &outcome, err);
        refused |= matches!(outcome, Outcome::Park(..) | Outcome::Retry(..));
        bar.inc(1);
    }
    bar.finish_and_clear();

    let exports = export_sie(&handler, store.as_ref(), args.target, &args.out, err).await;
    refused |= exports.iter().any(|(_, r)| r.is_err());

    let entries = store.ledger_between(started, now_ms() + 1).await.unwrap_or_default();
    let postings: Vec<Posting> = entries
        .iter()
        .filter_map(|e| serde_json::from_str(&e.posting).ok())
        .collect();
    if let Err(e) = append_journal(&args.out.join("journal.jsonl"), &postings) {
        let _ = writeln!(err, "{}", json!({"error": "io", "message": e.to_string()}));
    }
    summary.print(out, &postings, &args.out);
    print_exports(out, &exports, &args.out);
    if refused {
        exit::REFUSED
    } else {
        exit::OK
    }
}

/// Each SIE entity's export: what it wrote, or why it failed.
pub(crate) type Exports = Vec<(String, Result<ctvisma_handler::sie_export::ExportReport, String>)>;

/// Writes each SIE entity's postings not exported yet as one file under `<out>/sie/`, exactly
/// once per posting (the same checkpointed export as the `export-sie` Lambda, with no settling
/// time: this run's postings are all complete). `run` and `replay` call it after their messages.
pub(crate) async fn export_sie(
    handler: &Handler,
    store: &dyn IdempotencyStore,
    only: Option<Target>,
    out: &Path,
    err: &mut dyn Write,
) -> Exports {
    let entities = match only {
        Some(Target::Sie) => handler.rules.entities.keys().cloned().collect(),
        Some(_) => Vec::new(),
        None => ctvisma_handler::sie_export::sie_entities(&handler.rules),
    };
    let sink = FileSink(out.to_path_buf());
    let mut reports = Vec::new();
    for entity in entities {
        let report = ctvisma_handler::sie_export::export_entity(store, &sink, &handler.rules, &entity, now_ms() + 1, 0)
            .await
            .map_err(|e| e.to_string());
        if let Err(e) = &report {
            let _ = writeln!(
                err,
                "{}",
                json!({"error": "sie_export", "entity": entity, "message": e})
            );
        }
        reports.push((entity, report));
    }
    reports
}

/// One line per SIE entity: where its new postings went, or why not.
pub(crate) fn print_exports(out: &mut dyn Write, exports: &Exports, dir: &Path) {
    for (entity, report) in exports {
        let line = match report {
            Ok(r) => match &r.object {
                Some(object) => format!(
                    "SIE {entity}: {} posting(s) → {}",
                    r.exported,
                    dir.join(object).display()
                ),
                None => format!("SIE {entity}: nothing new to export"),
            },
            Err(e) => format!("SIE {entity}: export failed: {e}"),
        };
        let _ = writeln!(out, "{line}");
    }
}

/// SIE files as plain files under the output folder.
struct FileSink(PathBuf);

#[async_trait::async_trait]
impl ctvisma_handler::sie_export::ObjectSink for FileSink {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        let path = self.0.join(key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &path).map_err(|e| e.to_string())
    }
}

/// Every message of the inputs: each record of an SQS event file, else the whole file.
fn read_inputs(paths: &[PathBuf], err: &mut dyn Write) -> (Vec<Input>, bool) {
    let mut inputs = Vec::new();
    let mut refused = false;
    for file in files::input_files(paths) {
        let file = match file {
            Ok(f) => f,
            Err((dir, e)) => {
                refused = true;
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "io", "file": dir.display().to_string(), "message": e.to_string()})
                );
                continue;
            }
        };
        if file.extension().is_some_and(|x| x == "csv") {
            continue; // settlement reports are mapped by `ctvisma map` / `export-sie`
        }
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                refused = true;
                let _ = writeln!(
                    err,
                    "{}",
                    json!({"error": "io", "file": name, "message": e.to_string()})
                );
                continue;
            }
        };
        let records = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("Records").and_then(|r| r.as_array()).cloned());
        match records {
            Some(records) => {
                for (i, r) in records.iter().enumerate() {
                    let body = r.get("body").and_then(|b| b.as_str()).unwrap_or_default().to_string();
                    inputs.push(Input {
                        label: format!("{name}#Records[{i}]"),
                        body,
                    });
                }
            }
            None => inputs.push(Input {
                label: name,
                body: text,
            }),
        }
    }
    (inputs, refused)
}

/// The context of one message handled on this machine (`run`, `replay`, `reconcile`): the
/// clock now, and a Lambda-sized minute for its claims and Visma calls.
pub(crate) fn local_context(message_id: &str, request_id: String) -> MessageContext {
    let now = now_ms();
    MessageContext {
        message_id: message_id.to_string(),
        request_id,
        deadline_ms: now + 60_000,
        deadline: Deadline::in_(Duration::from_secs(60)),
        now_ms: now,
    }
}

/// Where lookups (a payment's order, an order message without payload) go: commercetools when
/// `CTP_*` is set, else the inputs' own `bodies` and the recorded samples of `tests/data`. Used
/// by `run`, `replay` and `reconcile`.
pub(crate) fn resources<'b>(bodies: impl Iterator<Item = &'b str>) -> Result<Arc<dyn Resources>, String> {
    Ok(match CtConfig::from_env().map_err(|e| e.to_string())? {
        Some(config) => {
            let http = Http::new(HttpSettings::default()).map_err(|e| e.to_string())?;
            Arc::new(CtClient::new(config, http))
        }
        None => {
            let recorded: Vec<&Path> = ["tests/data/orders", "tests/data/payments"]
                .iter()
                .map(Path::new)
                .filter(|p| p.is_dir())
                .collect();
            let mut r = RecordedResources::from_dirs(&recorded);
            for body in bodies {
                r.add_text(body);
            }
            Arc::new(r)
        }
    })
}

/// The handler of `run` and `replay`: per entity its target ([`targets`]), the local store, and
/// lookups as [`resources`] has them.
pub(crate) async fn handler<'b>(
    rules: ctvisma_core::Rules,
    rates: Option<ctvisma_core::rates::RateTable>,
    only: Option<Target>,
    out: &Path,
    store: Arc<SqliteStore>,
    bodies: impl Iterator<Item = &'b str>,
) -> Result<Handler, String> {
    let resources = resources(bodies)?;
    Ok(Handler {
        targets: targets(&rules, only, out).await?,
        rules,
        rates,
        store,
        resources,
    })
}

/// Per entity its Visma target (`only` overrides the rules): also used by `replay`.
pub(crate) async fn targets(
    rules: &ctvisma_core::Rules,
    only: Option<Target>,
    out: &Path,
) -> Result<BTreeMap<String, Arc<dyn LedgerTarget>>, String> {
    let http = Http::new(HttpSettings::default()).map_err(|e| e.to_string())?;
    let mut targets: BTreeMap<String, Arc<dyn LedgerTarget>> = BTreeMap::new();
    for (id, entity) in &rules.entities {
        let target: Arc<dyn LedgerTarget> = match only.unwrap_or(entity.target) {
            Target::Sie => Arc::new(LedgerOnly),
            Target::Eaccounting => {
                let config = EaccountingConfig::from_env().map_err(|e| format!("entity {id}: {e}"))?;
                let store = FileTokenStore {
                    path: out.join(format!(".eaccounting-{id}.token")),
                };
                let ea = Eaccounting::connect(
                    http.clone(),
                    &config,
                    Arc::new(store),
                    id,
                    entity,
                    Deadline::in_(Duration::from_secs(60)),
                )
                .await
                .map_err(|e| format!("entity {id}: {e}"))?;
                Arc::new(ea)
            }
            Target::Vismanet => {
                let config = VismanetConfig::from_env().map_err(|e| format!("entity {id}: {e}"))?;
                Arc::new(Vismanet::new(http.clone(), &config).with_documents(entity.documents))
            }
        };
        targets.insert(id.clone(), target);
    }
    Ok(targets)
}

pub(crate) fn append_journal(path: &Path, postings: &[Posting]) -> std::io::Result<()> {
    if postings.is_empty() {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    for p in postings {
        writeln!(f, "{}", serde_json::to_string(p)?)?;
    }
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What the run did, for the closing table.
#[derive(Default)]
struct Summary {
    messages: usize,
    by_label: BTreeMap<&'static str, usize>,
    posted: usize,
    duplicates: usize,
    parked: Vec<(String, String)>,
}

impl Summary {
    fn count(&mut self, label: &str, outcome: &Outcome, err: &mut dyn Write) {
        self.messages += 1;
        *self.by_label.entry(outcome.label()).or_default() += 1;
        let postings = match outcome {
            Outcome::Done { postings } | Outcome::Retry(_, postings) | Outcome::Park(_, postings) => {
                postings.as_slice()
            }
            Outcome::Skipped(_) | Outcome::Synced(_) => &[],
        };
        for p in postings {
            match p {
                PostingResult::Posted { .. } => self.posted += 1,
                PostingResult::Duplicate { .. } => self.duplicates += 1,
                PostingResult::Failed { .. } => {}
            }
        }
        if let Outcome::Park(e, _) | Outcome::Retry(e, _) = outcome {
            let reason = format!("{:?} {}: {}", e.class(), e.code(), e.reason());
            let _ = writeln!(
                err,
                "{}",
                json!({"error": "parked", "input": label, "class": format!("{:?}", e.class()), "code": e.code(), "reason": e.reason()})
            );
            self.parked.push((label.to_string(), reason));
        }
    }

    fn print(&self, out: &mut dyn Write, postings: &[Posting], dir: &Path) {
        let mut by_event: BTreeMap<String, usize> = BTreeMap::new();
        let mut totals: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        let mut vat: BTreeMap<(String, String, String), Decimal> = BTreeMap::new();
        for p in postings {
            let event = serde_json::to_value(p.event)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *by_event.entry(event).or_default() += 1;
            *totals.entry((p.entity.clone(), p.currency.clone())).or_default() += ctvisma_visma::debit_total(p);
            for l in p.lines.iter().filter(|l| l.role == Role::Vat) {
                let code = l.vat_code.clone().unwrap_or_else(|| "-".into());
                *vat.entry((p.entity.clone(), p.currency.clone(), code)).or_default() -= l.amount;
            }
        }
        let mut w = |line: String| {
            let _ = writeln!(out, "{line}");
        };
        w(format!("messages read        {:>6}", self.messages));
        for (label, n) in &self.by_label {
            w(format!("  {label:<18} {n:>6}"));
        }
        w(format!("postings made        {:>6}", self.posted));
        for (event, n) in &by_event {
            w(format!("  {event:<18} {n:>6}"));
        }
        w(format!("duplicates suppressed{:>6}", self.duplicates));
        w(format!("parked               {:>6}", self.parked.len()));
        for (input, reason) in &self.parked {
            w(format!("  {input}: {reason}"));
        }
        if !totals.is_empty() {
            w("posted (debit side) per entity and currency:".into());
            for ((entity, currency), amount) in &totals {
                w(format!("  {entity:<4} {currency:<4} {amount:>14}"));
            }
        }
        if !vat.is_empty() {
            w("output VAT per entity, currency and VAT code:".into());
            for ((entity, currency, code), amount) in &vat {
                w(format!("  {entity:<4} {currency:<4} {code:<6} {amount:>12}"));
            }
        }
        if self.posted == 0 && self.parked.is_empty() {
            w(format!(
                "nothing new to post: every posting of these inputs is already in {}",
                dir.join("ctvisma.sqlite").display()
            ));
        }
    }
}
