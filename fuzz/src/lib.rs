//! The parse + map property the fuzzer checks: whatever bytes arrive, the core never panics; every
//! error it returns is permanent (bad input is parked, never retried forever) except a document
//! waiting for another one (`Unlinked`, retried by design); and every posting it makes has lines
//! and balances to zero.
//!
//! Kept apart from libFuzzer: `shared/core/tests/bad_input.rs` includes this file and runs it on
//! every corpus file in `make test`, so it cannot rot between fuzzing runs.

use std::sync::OnceLock;

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::{Classify, CoreError, ErrorClass, Rules};
use rust_decimal::Decimal;

/// The shipped rules, parsed once.
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| Rules::from_toml(include_str!("../../config/rules.toml")).expect("config/rules.toml is valid"))
}

/// Parses `data` as the handler does, books every document and maps the postings. Panics (which
/// the fuzzer reports as a crash) when the property above does not hold.
pub fn parse_and_map(data: &[u8], rules: &Rules) {
    // SQS bodies are UTF-8 by contract; anything else never reaches the core.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut book = Book::default();
    for found in documents_from_str(text) {
        let added = found.document.and_then(|doc| {
            let source = Source {
                file: "fuzz".into(),
                path: found.path.clone(),
            };
            book.add(doc, source)
        });
        if let Err(e) = added {
            assert_permanent(&e);
        }
    }
    for (_, outcome) in book.postings(rules, None) {
        match outcome {
            Ok(postings) => {
                for p in postings {
                    let sum: Decimal = p.lines.iter().map(|l| l.amount).sum();
                    assert!(!p.lines.is_empty(), "{}: no lines", p.idempotency_key);
                    assert_eq!(sum, Decimal::ZERO, "{}: does not balance", p.idempotency_key);
                }
            }
            Err(e) => assert_permanent(&e),
        }
    }
}

fn assert_permanent(e: &CoreError) {
    if !matches!(e, CoreError::Unlinked(_)) {
        assert_eq!(e.class(), ErrorClass::Permanent, "{e}");
    }
}
