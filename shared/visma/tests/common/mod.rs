//! Postings from the sample data (the same ones `ctvisma map` prints) for the connector tests.

#![allow(dead_code)]

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::mapper::payouts::{map_settlement, PayoutOutcome};
use ctvisma_core::rates::RateTable;
use ctvisma_core::settlement;
use ctvisma_core::{Posting, Rules};

/// The client the connector tests use: short timeouts and quick back-off against the fake.
pub fn http() -> ctvisma_visma::http::Http {
    ctvisma_visma::http::Http::new(ctvisma_visma::http::HttpSettings {
        request_timeout: std::time::Duration::from_secs(2),
        base_backoff: std::time::Duration::from_millis(20),
        ..Default::default()
    })
    .unwrap()
}

pub fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

pub fn rules() -> Rules {
    Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap()
}

fn rates() -> RateTable {
    RateTable::from_ecb_csv(&std::fs::read_to_string(repo("config/ecb-rates-sample.csv")).unwrap()).unwrap()
}

/// Every posting of entity SE from the sample orders, payments and settlement batch, in a
/// stable order: invoices, credit notes, captures, refunds, payouts.
pub fn se_postings() -> Vec<Posting> {
    let mut book = Book::default();
    for dir in ["tests/data/orders", "tests/data/payments"] {
        let mut files: Vec<_> = std::fs::read_dir(repo(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "json")) {
            for found in documents_from_str(&std::fs::read_to_string(f).unwrap()) {
                let _ = book.add(found.document.unwrap(), Source::default());
            }
        }
    }
    let rules = rules();
    let rates = rates();
    let mut out: Vec<Posting> = book
        .postings(&rules, Some(&rates))
        .into_iter()
        .filter_map(|(_, r)| r.ok())
        .flatten()
        .collect();
    let csv = std::fs::read_to_string(repo("tests/data/settlements/adyen-settlement-batch-1042.csv")).unwrap();
    for o in map_settlement(&settlement::parse(&csv).unwrap(), &rules, Some(&rates)) {
        if let PayoutOutcome::Posted(p) = o {
            out.push(*p);
        }
    }
    out.retain(|p| p.entity == "SE");
    out
}

/// The first SE posting of an event kind.
pub fn first(kind: ctvisma_core::posting::EventKind) -> Posting {
    se_postings()
        .into_iter()
        .find(|p| p.event == kind)
        .expect("sample data has one")
}
