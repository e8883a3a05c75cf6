//! `make bench`: issue 9's performance figures, measured in one run on this machine and written
//! to `docs/bench/figures.txt` (see docs/BENCHMARKS.md for what each means).
//!
//! usage: ctvisma-bench --cli <release ctvisma> [--out FILE] [--messages N] [--rounds N] [--quick]
//! Run from the repository root (it reads config/, events/ and tests/data/).

mod handler;
mod orders;
mod process;

use std::fmt::Write as _;
use std::path::PathBuf;

/// Lambda arm64 price per GB-second and per request (us-east-1 / eu-north-1 list price).
const PRICE_GB_S: f64 = 0.000_013_333_4;
const PRICE_REQUEST: f64 = 0.20 / 1e6;
const MEMORY_MB: f64 = 256.0;
/// Lambda gives one full vCPU at 1769 MB and CPU in proportion below it.
const FULL_VCPU_MB: f64 = 1769.0;
/// Assumed in-region DynamoDB latency per request, and Visma API latency per call.
const DYNAMO_MS: f64 = 6.0;
const VISMA_MS: f64 = 150.0;

/// `key = value` lines grouped by section, in the order measured.
#[derive(Default)]
pub struct Figures {
    text: String,
}

impl Figures {
    pub fn section(&mut self, name: &str, what: &str) {
        let _ = write!(self.text, "\n# [{name}] {what}\n");
        eprintln!("bench: {name}");
    }

    pub fn put(&mut self, key: &str, value: String) {
        eprintln!("  {key} = {value}");
        let _ = writeln!(self.text, "{key} = {value}");
    }
}

struct Args {
    cli: PathBuf,
    out: PathBuf,
    messages: usize,
    rounds: usize,
    quick: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        cli: PathBuf::new(),
        out: PathBuf::from("docs/bench/figures.txt"),
        messages: 2000,
        rounds: 50,
        quick: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--cli" => a.cli = value()?.into(),
            "--out" => a.out = value()?.into(),
            "--messages" => a.messages = value()?.parse().map_err(|e| format!("--messages: {e}"))?,
            "--rounds" => a.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--quick" => a.quick = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.cli.as_os_str().is_empty() {
        return Err("--cli <path of the release ctvisma> is required".into());
    }
    Ok(a)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("ctvisma-bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args = args()?;
    let (rounds, messages, visma_messages, starts) = if args.quick {
        (3, 100, 20, 3)
    } else {
        (args.rounds, args.messages, 200, 10)
    };
    let rules_text = std::fs::read_to_string("config/rules.toml").map_err(|e| format!("config/rules.toml: {e}"))?;
    let rules = ctvisma_core::Rules::from_toml(&rules_text).map_err(|e| format!("config/rules.toml: {e}"))?;
    let target_dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()));

    let mut f = Figures::default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let _ = writeln!(
        f.text,
        "# ctvisma-bench figures: one run of `make bench`; compare ratios, not absolute times (noisy shared machine)\nmachine.cores = {cores}\nmachine.arch = {}",
        std::env::consts::ARCH
    );

    orders::bench(&rules, &mut f)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let h = runtime.block_on(handler::bench_memory(&rules, rounds, &mut f))?;
    let fake_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let fake_ms = fake_runtime.block_on(handler::bench_eaccounting(&rules, visma_messages, &mut f))?;
    drop(fake_runtime);
    process::bench_e2e(&args.cli, messages, &mut f)?;
    let cold_ms = process::bench_cold_start(&args.cli, starts, &mut f)?;
    process::sizes(&args.cli, &target_dir, &mut f);
    cost(&h, fake_ms, cold_ms, &mut f);

    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&args.out, &f.text).map_err(|e| format!("{}: {e}", args.out.display()))?;
    eprintln!("bench: figures written to {}", args.out.display());
    Ok(())
}

/// Cost per million orders (one OrderCreated message each) on Lambda arm64 at 256 MB.
fn cost(h: &handler::HandlerFigures, fake_ms: f64, cold_ms: f64, f: &mut Figures) {
    f.section(
        "cost",
        &format!(
            "Lambda arm64, {MEMORY_MB} MB, ${PRICE_GB_S}/GB-s, $0.20/M requests; handler CPU × {FULL_VCPU_MB}/{MEMORY_MB} (CPU share); DynamoDB {DYNAMO_MS} ms/request and Visma {VISMA_MS} ms/call assumed; 1 message per order"
        ),
    );
    let cpu_ms = h.us_per_message / 1e3 * FULL_VCPU_MB / MEMORY_MB;
    let dynamo_ms = (h.store_reads_per_message + h.store_writes_per_message) * DYNAMO_MS;
    let visma_calls = 2.0 * h.postings_per_message;
    let per_million = |ms: f64, batch: f64| {
        let gb_s = 1e6 * ms / 1e3 * MEMORY_MB / 1024.0;
        gb_s * PRICE_GB_S + 1e6 / batch * PRICE_REQUEST
    };
    let scenarios = [
        ("sie", cpu_ms + dynamo_ms),
        ("visma", cpu_ms + dynamo_ms + visma_calls * VISMA_MS),
        ("local_fake_visma", cpu_ms + dynamo_ms + fake_ms),
    ];
    f.put("cost.cpu_ms_per_message_at_256mb", format!("{cpu_ms:.2}"));
    f.put("cost.dynamo_ms_per_message", format!("{dynamo_ms:.1}"));
    f.put("cost.visma_calls_per_message", format!("{visma_calls:.2}"));
    for (name, ms) in scenarios {
        f.put(&format!("cost.{name}.ms_per_message"), format!("{ms:.1}"));
        f.put(
            &format!("cost.{name}.usd_per_million_orders_batch_1"),
            format!("{:.2}", per_million(ms, 1.0)),
        );
        f.put(
            &format!("cost.{name}.usd_per_million_orders_batch_10"),
            format!("{:.2}", per_million(ms, 10.0)),
        );
    }
    // A cold start (init) per this many messages is billed on top: the run-one-event proxy.
    f.put("cost.cold_start_proxy_ms", format!("{cold_ms:.1}"));
}
