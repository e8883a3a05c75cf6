//! Stock sync of 10 000 SKUs against the fake commercetools and the fake eAccounting, in one
//! process: the first sync (every entry created), a second with no change (reads only), and one
//! with 1 % of the levels changed. Prints wall time, requests per side and peak RSS (VmHWM of
//! this process, which also holds both fakes and their request logs); `--out FILE` writes the
//! same figures there. Figures, not assertions: see docs/BENCHMARKS.md.
//!
//! `cargo bench -p ctvisma-stock --bench sync_10k [-- --skus N --out FILE]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::time::Instant;

use ctvisma_core::rules::stock::StockSource;
use support::*;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = arg("--skus").and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let env = env(ctvisma_stock::DEFAULT_CONCURRENCY).await;
    let seed = Instant::now();
    seed_articles(
        &env.visma,
        (0..n).map(|i| (format!("SKU-{i:06}"), (i % 50) as f64)).collect(),
    )
    .await;
    let seeded = seed.elapsed();
    let rss_seeded = vm_hwm_kib();
    let rules = rules(StockSource::Visma);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "stock sync, {n} SKUs, concurrency {}, fakes in process (seeding {n} Visma articles: {:.1} s)",
        ctvisma_stock::DEFAULT_CONCURRENCY,
        seeded.as_secs_f64()
    );

    let changed = n / 100;
    for (label, change) in [("first (creates)", false), ("no change", false), ("1 % changed", true)] {
        if change {
            for i in 0..changed {
                set_visma_balance(&env.visma, &format!("SKU-{:06}", i * 100), 1_000.0).await;
            }
        }
        env.ct.clear_requests();
        let visma_before = env.visma.requests().len();
        let start = Instant::now();
        let report = env.sync.run_entity("SE", &rules).await.expect("sync");
        let wall = start.elapsed();
        let ct_requests = env.ct.requests().len();
        let ct_writes = ct_writes(&env.ct).len();
        let visma_requests = env.visma.requests().len() - visma_before;
        let writes = report.created + report.updated;
        let _ = writeln!(
            out,
            "{label:16} wall {:7.2} s  {:6.1} ms/1000 SKUs  ct requests {ct_requests:6} (writes {ct_writes:6})  visma requests {visma_requests:4}  created {:6} updated {:5} unchanged {:6} failed {}  requests per written SKU {}",
            wall.as_secs_f64(),
            wall.as_secs_f64() * 1000.0 / (n as f64 / 1000.0),
            report.created,
            report.updated,
            report.unchanged,
            report.failed,
            if writes > 0 { format!("{:.2}", ct_writes as f64 / writes as f64) } else { "-".into() },
        );
        assert_eq!(report.failed, 0, "{report:?}");
    }
    let _ = writeln!(
        out,
        "peak RSS (VmHWM): {} MiB after seeding the fakes, {} MiB after the three syncs",
        rss_seeded / 1024,
        vm_hwm_kib() / 1024
    );
    print!("{out}");
    if let Some(path) = arg("--out") {
        if let Some(dir) = std::path::Path::new(&path).parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(&path, &out).expect("write figures");
    }
}
