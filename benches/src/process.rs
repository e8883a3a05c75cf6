//! The release `ctvisma` as a process: end-to-end `run` throughput, a cold-start proxy, sizes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::handler::{event_bodies, fresh_order_message};
use crate::Figures;

/// The Lambda functions `make build` makes (Makefile `FUNCTIONS`, plus stock when built).
const FUNCTIONS: [&str; 7] = [
    "orders",
    "payments",
    "customers",
    "products",
    "retry",
    "export-sie",
    "stock",
];

fn run(cli: &Path, out: &Path, inputs: &Path) -> Result<Duration, String> {
    let t = Instant::now();
    let status = Command::new(cli)
        .args(["run", "--rules", "config/rules.toml", "--target", "sie", "--out"])
        .arg(out)
        .arg(inputs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", cli.display()))?;
    let took = t.elapsed();
    if !status.success() {
        return Err(format!("ctvisma run {} exited with {status}", inputs.display()));
    }
    Ok(took)
}

/// Writes `n` new OrderCreated messages (the shipped ones with new order ids) as SQS event files.
fn replicate(dir: &Path, n: usize) -> Result<usize, String> {
    let orders: Vec<String> = event_bodies()?
        .into_iter()
        .filter(|(name, _)| name.starts_with("order-created-") && !name.contains("payload-not-included"))
        .map(|(_, body)| body)
        .collect();
    if orders.is_empty() {
        return Err("no order-created events".into());
    }
    // Ten messages per file, as an SQS batch delivers them.
    for (f, chunk) in (0..n).collect::<Vec<_>>().chunks(10).enumerate() {
        let records: Vec<_> = chunk
            .iter()
            .map(|&i| json!({"messageId": format!("bench-{i}"), "body": fresh_order_message(&orders[i % orders.len()], 0x10_0000 + i)}))
            .collect();
        std::fs::write(
            dir.join(format!("batch-{f:05}.json")),
            json!({"Records": records}).to_string(),
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(orders.len())
}

pub fn bench_e2e(cli: &Path, messages: usize, figures: &mut Figures) -> Result<(), String> {
    figures.section(
        "e2e",
        "release `ctvisma run --target sie` (SQLite store, SIE export, journal) over new OrderCreated messages, then the same again (all duplicates)",
    );
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let inputs = tmp.path().join("events");
    std::fs::create_dir_all(&inputs).map_err(|e| e.to_string())?;
    let kinds = replicate(&inputs, messages)?;
    let out = tmp.path().join("out");
    let first = run(cli, &out, &inputs)?;
    let second = run(cli, &out, &inputs)?;
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap_or_default();
    let posted = journal.lines().filter(|l| !l.trim().is_empty()).count();
    figures.put("e2e.cli", cli.display().to_string());
    figures.put("e2e.messages", messages.to_string());
    figures.put("e2e.distinct_sample_orders", kinds.to_string());
    figures.put("e2e.postings_first_run", posted.to_string());
    figures.put("e2e.first_run_s", format!("{:.2}", first.as_secs_f64()));
    figures.put(
        "e2e.first_run_msgs_per_s",
        format!("{:.0}", messages as f64 / first.as_secs_f64()),
    );
    figures.put("e2e.duplicate_run_s", format!("{:.2}", second.as_secs_f64()));
    figures.put(
        "e2e.duplicate_run_msgs_per_s",
        format!("{:.0}", messages as f64 / second.as_secs_f64()),
    );
    figures.put(
        "e2e.ratio_duplicate_to_first_throughput",
        format!("{:.2}", first.as_secs_f64() / second.as_secs_f64()),
    );
    Ok(())
}

/// Process spawn to exit of `ctvisma run` on one event (fresh store each time): the fastest of `runs`.
pub fn bench_cold_start(cli: &Path, runs: usize, figures: &mut Figures) -> Result<f64, String> {
    figures.section(
        "cold_start",
        "spawn → exit of the release CLI: `--help` (process start only) and `run` on one event with a fresh SQLite store; min of N",
    );
    let event = Path::new("events/order-created-se-sek-mixed-rates.json");
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (mut help, mut one) = (Duration::MAX, Duration::MAX);
    for i in 0..runs {
        let t = Instant::now();
        Command::new(cli)
            .arg("--help")
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        help = help.min(t.elapsed());
        one = one.min(run(cli, &tmp.path().join(format!("out-{i}")), event)?);
    }
    figures.put("cold_start.runs", runs.to_string());
    figures.put("cold_start.process_only_ms", format!("{:.1}", help.as_secs_f64() * 1e3));
    figures.put("cold_start.run_one_event_ms", format!("{:.1}", one.as_secs_f64() * 1e3));
    Ok(one.as_secs_f64() * 1e3)
}

pub fn sizes(cli: &Path, target_dir: &Path, figures: &mut Figures) {
    figures.section(
        "size",
        "stripped release binaries (profile.release: lto thin, codegen-units 1, strip); Lambda bootstraps from `make build` when present",
    );
    let mb = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| format!("{:.1}", m.len() as f64 / 1_048_576.0))
    };
    figures.put("size.cli", cli.display().to_string());
    figures.put("size.ctvisma_cli_mb", mb(cli).unwrap_or_else(|| "missing".into()));
    let mut found = false;
    for f in FUNCTIONS {
        let bootstrap: PathBuf = target_dir.join("lambda").join(f).join("bootstrap");
        if let Some(size) = mb(&bootstrap) {
            found = true;
            figures.put(&format!("size.lambda_{}_mb", f.replace('-', "_")), size);
        }
    }
    if !found {
        figures.put(
            "size.lambda",
            "not built (run `make build ARCH=x86_64` or `make build`, then `make bench`)".into(),
        );
    }
}
