//! `ctvisma reconcile --date YYYY-MM-DD`: does the ledger hold what commercetools says was sold
//! and paid that day? The day's orders and payments (the recorded inputs, or the project when
//! CTP_* is set) are mapped with the current rules to the postings they call for; these are
//! compared, key by key, with what the ledger recorded as posted (posting date = the day):
//! counts and debit totals per entity and currency, VAT per entity, currency and VAT code, and
//! every difference with its order number — a posting missing (with the parked reason when the
//! message log has one), a total that differs, a posting the inputs do not explain, an order the
//! rules cannot map. Writes `reconcile-<date>.md` and `.html` to `--out`; exit 0 when everything
//! reconciles, 1 otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ctvisma_commercetools::{quote, CtClient, CtConfig};
use ctvisma_core::input::{documents_from_str, Document};
use ctvisma_core::{Posting, Role};
use ctvisma_handler::{Handler, LedgerOnly, Outcome};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_ledger::{posting_hash, IdempotencyStore, LedgerEntry};
use ctvisma_visma::http::{Http, HttpSettings};
use rust_decimal::Decimal;
use serde_json::Value;

use super::setup_error;
use crate::{exit, files, ReconcileArgs};

pub fn run(args: &ReconcileArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    runtime.block_on(reconcile(args, out, err))
}

/// One line of the differences table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    order: String,
    key: String,
    entity: String,
    what: String,
    details: String,
}

/// Counts and amounts on both sides.
#[derive(Debug, Default, Clone, Copy)]
struct Side {
    count: usize,
    amount: Decimal,
}

#[derive(Default)]
struct Report {
    date: String,
    sources: String,
    ledger: String,
    entity: Option<String>,
    /// (entity, currency) → (expected, posted): postings and debit totals.
    totals: BTreeMap<(String, String), (Side, Side)>,
    /// (entity, currency, VAT code) → (expected, posted): VAT amounts.
    vat: BTreeMap<(String, String, String), (Side, Side)>,
    differences: Vec<Difference>,
}

async fn reconcile(args: &ReconcileArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if chrono::NaiveDate::parse_from_str(&args.date, "%Y-%m-%d").is_err() {
        return setup_error(err, &format!("--date {:?} is not YYYY-MM-DD", args.date));
    }
    let (rules, rates) = match crate::commands::map::load(&args.rules, err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if let Some(e) = &args.entity {
        if !rules.entities.contains_key(e) {
            return setup_error(
                err,
                &format!("--entity {e}: no such entity in {}", args.rules.display()),
            );
        }
    }
    let (store, ledger) = match crate::commands::status::open_ledger(args.ledger, &args.out).await {
        Ok(s) => s,
        Err(message) => return setup_error(err, &message),
    };
    // The inputs: recorded files, or the day's orders and payments fetched from the project.
    let fetched = match CtConfig::from_env() {
        Ok(Some(config)) => match fetch_day(config, &args.date, &args.out).await {
            Ok(dir) => Some(dir),
            Err(e) => return setup_error(err, &format!("commercetools: {e}")),
        },
        Ok(None) => None,
        Err(e) => return setup_error(err, &e.to_string()),
    };
    let paths: Vec<PathBuf> = match &fetched {
        Some((dir, _)) => vec![dir.clone()],
        None => args.paths.clone(),
    };
    let inputs = read_bodies(&paths);
    let dates = order_dates(&inputs);
    let (expected, refused) = match simulate(&inputs, rules, rates).await {
        Ok(r) => r,
        Err(message) => return setup_error(err, &message),
    };
    let sources = match &fetched {
        Some((dir, project)) => {
            let _ = std::fs::remove_dir_all(dir);
            format!("commercetools project {project}")
        }
        None => paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };

    let in_scope = |entity: &str, date: &str| date == args.date && args.entity.as_deref().is_none_or(|e| e == entity);
    let expected: BTreeMap<String, Posting> = expected
        .into_iter()
        .filter(|p| in_scope(&p.entity, &p.date))
        .map(|p| (p.idempotency_key.to_string(), p))
        .collect();
    let posted: BTreeMap<String, LedgerEntry> = match store.ledger_between(0, i64::MAX).await {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| in_scope(&e.entity, &e.date))
            .map(|e| (e.key.clone(), e))
            .collect(),
        Err(e) => return setup_error(err, &format!("ledger: {e}")),
    };

    let mut report = Report {
        date: args.date.clone(),
        sources,
        ledger,
        entity: args.entity.clone(),
        ..Report::default()
    };
    for p in expected.values() {
        add(&mut report, p, true);
    }
    for e in posted.values() {
        match serde_json::from_str::<Posting>(&e.posting) {
            Ok(p) => add(&mut report, &p, false),
            Err(_) => {
                let side = &mut report
                    .totals
                    .entry((e.entity.clone(), e.currency.clone()))
                    .or_default()
                    .1;
                side.count += 1;
                side.amount += e.document.total.parse::<Decimal>().unwrap_or_default();
            }
        }
    }
    for (key, p) in &expected {
        let order = p.external_ref.clone();
        match posted.get(key) {
            None => {
                let why = parked_reason(store.as_ref(), p).await;
                report.differences.push(Difference {
                    order,
                    key: key.clone(),
                    entity: p.entity.clone(),
                    what: if why.is_some() {
                        "parked".into()
                    } else {
                        "missing posting".into()
                    },
                    details: why.unwrap_or_else(|| {
                        format!(
                            "{} {} {} not in the ledger",
                            event_name(p),
                            p.currency,
                            ctvisma_visma::debit_total(p)
                        )
                    }),
                });
            }
            Some(entry) => {
                let want = ctvisma_visma::debit_total(p);
                let got = serde_json::from_str::<Posting>(&entry.posting)
                    .map(|q| ctvisma_visma::debit_total(&q))
                    .unwrap_or_else(|_| entry.document.total.parse().unwrap_or_default());
                if want != got {
                    report.differences.push(Difference {
                        order,
                        key: key.clone(),
                        entity: p.entity.clone(),
                        what: "total differs".into(),
                        details: format!(
                            "commercetools {} {want}, ledger {} {got} (document {})",
                            p.currency, entry.currency, entry.document.id
                        ),
                    });
                } else if posting_hash(p) != entry.payload_hash {
                    report.differences.push(Difference {
                        order,
                        key: key.clone(),
                        entity: p.entity.clone(),
                        what: "lines differ".into(),
                        details: format!(
                            "same total {} {want}, but accounts or VAT codes differ from what the current rules give (document {})",
                            p.currency, entry.document.id
                        ),
                    });
                }
            }
        }
    }
    for (key, e) in &posted {
        if !expected.contains_key(key) {
            report.differences.push(Difference {
                order: e.external_ref.clone(),
                key: key.clone(),
                entity: e.entity.clone(),
                what: "not in commercetools data".into(),
                details: format!(
                    "{} {} {} posted as document {}, but the inputs do not call for it",
                    e.event, e.currency, e.document.total, e.document.id
                ),
            });
        }
    }
    // Messages the rules cannot post at all: no posting to compare, still a difference.
    let mut seen_refused = BTreeSet::new();
    for r in refused {
        let date = dates.get(&r.order_id).or_else(|| dates.get(&r.order_number));
        if date.is_none_or(|d| *d != args.date) || !seen_refused.insert((r.order_id.clone(), r.reason.clone())) {
            continue;
        }
        report.differences.push(Difference {
            order: if r.order_number.is_empty() {
                r.order_id
            } else {
                r.order_number
            },
            key: "-".into(),
            entity: "-".into(),
            what: "cannot be posted".into(),
            details: format!("{}: {}", r.label, r.reason),
        });
    }
    report.differences.sort();

    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return setup_error(err, &format!("{}: {e}", args.out.display()));
    }
    let md = args.out.join(format!("reconcile-{}.md", args.date));
    let html = args.out.join(format!("reconcile-{}.html", args.date));
    if let Err(e) = std::fs::write(&md, markdown(&report)).and_then(|()| std::fs::write(&html, to_html(&report))) {
        return setup_error(err, &e.to_string());
    }
    let _ = write!(out, "{}", markdown(&report));
    let _ = writeln!(out, "\nreport: {} and {}", md.display(), html.display());
    if report.differences.is_empty() {
        exit::OK
    } else {
        exit::REFUSED
    }
}

fn event_name(p: &Posting) -> String {
    serde_json::to_value(p.event)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn add(report: &mut Report, p: &Posting, expected: bool) {
    let t = report.totals.entry((p.entity.clone(), p.currency.clone())).or_default();
    let side = if expected { &mut t.0 } else { &mut t.1 };
    side.count += 1;
    side.amount += ctvisma_visma::debit_total(p);
    for l in p.lines.iter().filter(|l| l.role == Role::Vat) {
        let code = l.vat_code.clone().unwrap_or_else(|| "-".into());
        let v = report
            .vat
            .entry((p.entity.clone(), p.currency.clone(), code))
            .or_default();
        let side = if expected { &mut v.0 } else { &mut v.1 };
        side.count += 1;
        side.amount -= l.amount;
    }
}

/// The reason the message log gives for the posting's order, when its latest message failed.
async fn parked_reason(store: &dyn IdempotencyStore, p: &Posting) -> Option<String> {
    let mut ids = vec![p.external_ref.clone()];
    ids.extend(p.order_id.clone());
    ids.extend(p.payment_id.clone());
    for id in ids {
        let Ok(messages) = store.messages_for(&id).await else {
            continue;
        };
        let failed = messages
            .iter()
            .rev()
            .find(|m| m.keys.is_empty() || m.keys.iter().any(|k| k == p.idempotency_key.as_str()))
            .filter(|m| m.outcome == "parked" || m.outcome == "retry");
        if let Some(m) = failed {
            return Some(format!(
                "{} {}: {}",
                m.kind,
                m.outcome,
                m.reason.clone().unwrap_or_default()
            ));
        }
    }
    None
}

/// Every message of the inputs as `ctvisma run` reads them: each record of an SQS event file,
/// else the whole file; labelled `file#Records[i]` or `file`.
fn read_bodies(paths: &[PathBuf]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in files::input_files(paths).into_iter().flatten() {
        if file.extension().is_some_and(|x| x == "csv") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let name = file.display().to_string();
        match serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("Records").and_then(Value::as_array).cloned())
        {
            Some(records) => {
                for (i, r) in records.iter().enumerate() {
                    let body = r.get("body").and_then(Value::as_str).unwrap_or_default();
                    out.push((format!("{name}#Records[{i}]"), body.to_string()));
                }
            }
            None => out.push((name, text)),
        }
    }
    out
}

/// The order a message is about: (id, number), as far as the message says.
fn order_of(body: &str) -> (String, String) {
    for found in documents_from_str(body) {
        match found.document {
            Ok(Document::Order(o)) => return (o.id.clone(), o.order_number.clone().unwrap_or_default()),
            Ok(Document::Message(m)) => {
                let number = m
                    .payload
                    .get("order")
                    .and_then(|o| o.get("orderNumber"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return (m.resource_id().unwrap_or_default().to_string(), number.to_string());
            }
            Ok(Document::Payment(p)) => return (p.id.clone().unwrap_or_default(), String::new()),
            _ => {}
        }
    }
    (String::new(), String::new())
}

/// Order id and number → the UTC date of `createdAt`, from every order the inputs hold.
fn order_dates(inputs: &[(String, String)]) -> BTreeMap<String, String> {
    let mut dates = BTreeMap::new();
    let mut note = |id: Option<&str>, number: Option<&str>, created: Option<&str>| {
        if let Some(day) = created.and_then(|c| c.get(..10)) {
            for k in [id, number].into_iter().flatten() {
                dates.entry(k.to_string()).or_insert_with(|| day.to_string());
            }
        }
    };
    for (_, body) in inputs {
        for found in documents_from_str(body) {
            match found.document {
                Ok(Document::Order(o)) => note(Some(&o.id), o.order_number.as_deref(), o.created_at.as_deref()),
                Ok(Document::Message(m)) => {
                    if let Some(o) = m.payload.get("order") {
                        let s = |k: &str| o.get(k).and_then(Value::as_str);
                        note(s("id"), s("orderNumber"), s("createdAt"));
                    }
                }
                _ => {}
            }
        }
    }
    dates
}

/// A message the rules could not post.
struct Refused {
    label: String,
    order_id: String,
    order_number: String,
    reason: String,
}

/// What the inputs call for: every message through the same handler as `ctvisma run`, on a
/// scratch in-memory ledger with every entity as a ledger-only target, with the lookups `run`
/// has (the project when CTP_* is set, else the recorded resources and the inputs themselves).
async fn simulate(
    inputs: &[(String, String)],
    rules: ctvisma_core::Rules,
    rates: Option<ctvisma_core::rates::RateTable>,
) -> Result<(Vec<Posting>, Vec<Refused>), String> {
    let resources = crate::commands::run::resources(inputs.iter().map(|(_, body)| body.as_str()))?;
    let targets: BTreeMap<String, Arc<dyn ctvisma_visma::LedgerTarget>> = rules
        .entities
        .keys()
        .map(|id| (id.clone(), Arc::new(LedgerOnly) as Arc<dyn ctvisma_visma::LedgerTarget>))
        .collect();
    let store = Arc::new(MemoryStore::new());
    let handler = Handler {
        rules,
        rates,
        targets,
        store: store.clone(),
        resources,
    };
    let mut refused = Vec::new();
    for (n, (label, body)) in inputs.iter().enumerate() {
        let ctx = crate::commands::run::local_context(label, format!("reconcile-{n}"));
        if let Outcome::Park(e, _) | Outcome::Retry(e, _) = handler.handle(body, &ctx).await {
            let (order_id, order_number) = order_of(body);
            refused.push(Refused {
                label: label.clone(),
                order_id,
                order_number,
                reason: format!("{} {}", e.code(), e.reason()),
            });
        }
    }
    let postings = store
        .ledger_between(0, i64::MAX)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .filter_map(|e| serde_json::from_str(&e.posting).ok())
        .collect();
    Ok((postings, refused))
}

/// The orders created from the day before to the day after (time zones), the payments of those
/// orders and the payments changed then (with their orders), as files in a scratch folder.
async fn fetch_day(config: CtConfig, date: &str, out: &Path) -> Result<(PathBuf, String), String> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| e.to_string())?;
    let from = format!("{}T00:00:00.000Z", day - chrono::Duration::days(1));
    let to = format!("{}T00:00:00.000Z", day + chrono::Duration::days(2));
    let project = config.project_key.clone();
    let http = Http::new(HttpSettings::default()).map_err(|e| e.to_string())?;
    let client = CtClient::new(config, http);
    let window = |field: &str| vec![format!("{field} >= {} and {field} < {}", quote(&from), quote(&to))];
    let mut orders: BTreeMap<String, Value> = BTreeMap::new();
    for o in client
        .query_all::<Value>("orders", &window("createdAt"))
        .await
        .map_err(|e| e.to_string())?
    {
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            orders.insert(id.to_string(), o.clone());
        }
    }
    let mut payments: BTreeMap<String, Value> = BTreeMap::new();
    for p in client
        .query_all::<Value>("payments", &window("lastModifiedAt"))
        .await
        .map_err(|e| e.to_string())?
    {
        let Some(id) = p.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        if let Some(order) = client.find_order_of_payment(&id).await.map_err(|e| e.to_string())? {
            let value = serde_json::to_value(&order).map_err(|e| e.to_string())?;
            orders.entry(order.id.clone()).or_insert(value);
        }
        payments.insert(id, p);
    }
    let linked: Vec<String> = orders
        .values()
        .flat_map(|o| {
            o.pointer("/paymentInfo/payments")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    for id in linked {
        if payments.contains_key(&id) {
            continue;
        }
        if let Some(p) = client
            .get::<Value>(&format!("payments/{id}"))
            .await
            .map_err(|e| e.to_string())?
        {
            payments.insert(id, p);
        }
    }
    let dir = out.join(format!(".reconcile-{date}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for (kind, list) in [("order", &orders), ("payment", &payments)] {
        for (id, v) in list {
            let name: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            std::fs::write(dir.join(format!("{kind}-{name}.json")), v.to_string()).map_err(|e| e.to_string())?;
        }
    }
    Ok((dir, project))
}

fn verdict(r: &Report) -> String {
    if r.differences.is_empty() {
        "everything reconciles".into()
    } else {
        format!("{} difference(s)", r.differences.len())
    }
}

fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let mut w = |line: String| {
        s.push_str(&line);
        s.push('\n');
    };
    w(format!("# Reconciliation {}", r.date));
    w(String::new());
    w(format!("- commercetools: {}", r.sources));
    w(format!("- ledger: {}", r.ledger));
    w(format!("- entity: {}", r.entity.as_deref().unwrap_or("all")));
    w(format!("- result: **{}**", verdict(r)));
    w(String::new());
    w("## Postings per entity and currency (debit totals)".into());
    w(String::new());
    w("| entity | currency | expected | posted | expected total | posted total | difference |".into());
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: |".into());
    for ((entity, currency), (e, p)) in &r.totals {
        w(format!(
            "| {entity} | {currency} | {} | {} | {} | {} | {} |",
            e.count,
            p.count,
            e.amount,
            p.amount,
            p.amount - e.amount
        ));
    }
    w(String::new());
    w("## VAT per entity, currency and VAT code".into());
    w(String::new());
    w("| entity | currency | VAT code | expected VAT | posted VAT | difference |".into());
    w("| --- | --- | --- | ---: | ---: | ---: |".into());
    for ((entity, currency, code), (e, p)) in &r.vat {
        w(format!(
            "| {entity} | {currency} | {code} | {} | {} | {} |",
            e.amount,
            p.amount,
            p.amount - e.amount
        ));
    }
    w(String::new());
    w("## Differences".into());
    w(String::new());
    if r.differences.is_empty() {
        w("None.".into());
    } else {
        w("| order | posting | entity | what | details |".into());
        w("| --- | --- | --- | --- | --- |".into());
        for d in &r.differences {
            w(format!(
                "| {} | {} | {} | {} | {} |",
                md_cell(&d.order),
                md_cell(&d.key),
                md_cell(&d.entity),
                d.what,
                md_cell(&d.details)
            ));
        }
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// HTML-escapes text for element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut s = String::from("<table>\n<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let class = if i >= numeric_from { " class=\"num\"" } else { "" };
        s.push_str(&format!("<th{class}>{}</th>", escape(h)));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i >= numeric_from { " class=\"num\"" } else { "" };
            s.push_str(&format!("<td{class}>{}</td>", escape(cell)));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

fn to_html(r: &Report) -> String {
    let totals: Vec<Vec<String>> = r
        .totals
        .iter()
        .map(|((entity, currency), (e, p))| {
            vec![
                entity.clone(),
                currency.clone(),
                e.count.to_string(),
                p.count.to_string(),
                e.amount.to_string(),
                p.amount.to_string(),
                (p.amount - e.amount).to_string(),
            ]
        })
        .collect();
    let vat: Vec<Vec<String>> = r
        .vat
        .iter()
        .map(|((entity, currency, code), (e, p))| {
            vec![
                entity.clone(),
                currency.clone(),
                code.clone(),
                e.amount.to_string(),
                p.amount.to_string(),
                (p.amount - e.amount).to_string(),
            ]
        })
        .collect();
    let diffs: Vec<Vec<String>> = r
        .differences
        .iter()
        .map(|d| {
            vec![
                d.order.clone(),
                d.key.clone(),
                d.entity.clone(),
                d.what.clone(),
                d.details.clone(),
            ]
        })
        .collect();
    let title = format!("Reconciliation {}", r.date);
    let status = if r.differences.is_empty() { "ok" } else { "bad" };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\n\
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; margin-bottom: 1.5em; }}\n\
th, td {{ border: 1px solid #999; padding: 0.3em 0.6em; text-align: left; }} .num {{ text-align: right; }}\n\
.ok {{ color: #060; }} .bad {{ color: #a00; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n<ul>\n\
<li>commercetools: {}</li>\n<li>ledger: {}</li>\n<li>entity: {}</li>\n<li>result: <strong class=\"{status}\">{}</strong></li>\n</ul>\n\
<h2>Postings per entity and currency (debit totals)</h2>\n{}<h2>VAT per entity, currency and VAT code</h2>\n{}<h2>Differences</h2>\n{}</body>\n</html>\n",
        escape(&r.sources),
        escape(&r.ledger),
        escape(r.entity.as_deref().unwrap_or("all")),
        escape(&verdict(r)),
        table(
            &["entity", "currency", "expected", "posted", "expected total", "posted total", "difference"],
            &totals,
            2
        ),
        table(
            &["entity", "currency", "VAT code", "expected VAT", "posted VAT", "difference"],
            &vat,
            3
        ),
        if diffs.is_empty() {
            "<p>None.</p>\n".to_string()
        } else {
            table(&["order", "posting", "entity", "what", "details"], &diffs, 5)
        },
        title = escape(&title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<b>&\"x'</b>"), "&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;");
        let r = Report {
            date: "2026-11-23".into(),
            sources: "<script>".into(),
            differences: vec![Difference {
                order: "A&B".into(),
                key: "invoice:1".into(),
                entity: "SE".into(),
                what: "missing posting".into(),
                details: "<img src=x>".into(),
            }],
            ..Report::default()
        };
        let html = to_html(&r);
        assert!(!html.contains("<script>") && !html.contains("<img"));
        assert!(html.contains("A&amp;B") && html.contains("&lt;img src=x&gt;"));
    }
}
