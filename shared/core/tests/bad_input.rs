//! Bad input through the pure core (parse → book → postings with config/rules.toml): malformed
//! and truncated JSON, wrong types, missing money fields, absurd quantities, negative prices,
//! unknown currencies, impossible fraction digits, broken envelopes (tests/data/bad-input/, made by
//! tools/make_bad_input.py), and the large cases built here: 10 000 line items, deep nesting,
//! oversized bodies. Each must end in a permanent, classified error that names the problem, never a
//! panic, and never a partial posting: an order yields all its balanced postings or none.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::{Classify, CoreError, ErrorClass, Posting, Rules};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const RULES: &str = include_str!("../../../config/rules.toml");

fn bad_input_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/bad-input")
}

/// What a bad-input file must end in.
#[derive(Debug)]
enum Expect {
    /// Nothing posted; every error permanent; the messages name each part.
    Refused(&'static [&'static str]),
    /// An envelope with a good and a bad part: the bad part refused as above, the good one whole.
    PartlyRefused(&'static [&'static str]),
    /// Odd but self-consistent (the core maps from commercetools' totals): posted whole, balanced.
    PostedWhole,
}

use Expect::{PartlyRefused, PostedWhole, Refused};

/// Every file of tests/data/bad-input/ and what it must end in.
const EXPECTED: &[(&str, Expect)] = &[
    (
        "malformed-json.json",
        Refused(&["not valid commercetools JSON", "expected value", "line"]),
    ),
    ("truncated.json", Refused(&["not valid commercetools JSON", "EOF"])),
    ("empty.json", Refused(&["not valid commercetools JSON", "EOF"])),
    ("not-an-object.json", Refused(&["expected a JSON object"])),
    (
        "wrong-type-quantity.json",
        Refused(&["lineItems[0].quantity", "invalid type: string"]),
    ),
    (
        "wrong-type-cent-amount.json",
        Refused(&["totalPrice.centAmount", "invalid type: string"]),
    ),
    (
        "wrong-type-line-items.json",
        Refused(&["lineItems", "invalid type: map, expected a sequence"]),
    ),
    ("wrong-type-tax-rate.json", Refused(&["lineItems[0].taxRate.amount"])),
    ("missing-total-price.json", Refused(&["missing field `totalPrice`"])),
    (
        "missing-cent-amount.json",
        Refused(&["lineItems[0].totalPrice", "missing field `centAmount`"]),
    ),
    (
        "missing-currency-code.json",
        Refused(&["totalPrice", "missing field `currencyCode`"]),
    ),
    ("missing-line-total.json", PostedWhole),
    ("absurd-quantity.json", Refused(&["BAD-1001", "TSHIRT-M"])),
    ("absurd-quantity-and-price.json", Refused(&["BAD-1001"])),
    ("zero-quantity.json", Refused(&["BAD-1001", "quantity 0"])),
    ("negative-quantity.json", Refused(&["BAD-1001", "quantity"])),
    ("negative-prices.json", Refused(&["BAD-1001", "negative"])),
    ("unknown-currency.json", Refused(&["BAD-1001", "XQZ"])),
    (
        "huge-fraction-digits.json",
        Refused(&["fractionDigits", "out of range"]),
    ),
    (
        "fraction-digits-past-decimal.json",
        Refused(&["fractionDigits", "out of range"]),
    ),
    ("absurd-tax-rate.json", Refused(&["lineItems[0].taxRate.amount"])),
    // No store and an unknown country: routed by currency (SEK → SE), as the rules say.
    ("unroutable-country.json", PostedWhole),
    ("bad-created-at.json", Refused(&["BAD-1001", "createdAt", "RFC 3339"])),
    (
        "order-created-order-is-string.json",
        Refused(&["order", "expected struct Order"]),
    ),
    (
        "order-created-without-order.json",
        Refused(&["OrderCreated", "without order"]),
    ),
    ("sqs-body-not-json.json", Refused(&["Records[0].body", "not JSON"])),
    (
        "sqs-record-without-body.json",
        Refused(&["Records[0].body", "without a string body"]),
    ),
    ("sqs-one-good-one-bad.json", PartlyRefused(&["Records[1].body", "id"])),
];

/// What the core made of one input.
#[derive(Default)]
struct Report {
    /// Documents that could not be read or added, with where they were found.
    errors: Vec<(String, CoreError)>,
    /// Postings per source document, or why that document has none.
    outcomes: Vec<Result<Vec<Posting>, CoreError>>,
}

impl Report {
    fn refusals(&self) -> Vec<String> {
        let at = |p: &str, e: &CoreError| {
            if p.is_empty() {
                e.to_string()
            } else {
                format!("{p}: {e}")
            }
        };
        self.errors
            .iter()
            .map(|(p, e)| at(p, e))
            .chain(
                self.outcomes
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .map(|e| e.to_string()),
            )
            .collect()
    }

    fn classes(&self) -> Vec<ErrorClass> {
        self.errors
            .iter()
            .map(|(_, e)| e.class())
            .chain(
                self.outcomes
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .map(Classify::class),
            )
            .collect()
    }

    fn postings(&self) -> Vec<&Posting> {
        self.outcomes.iter().filter_map(|r| r.as_ref().ok()).flatten().collect()
    }
}

/// The core as the handler and `ctvisma map` drive it. Panics propagate to the caller.
fn run(rules: &Rules, text: &str) -> Report {
    let mut report = Report::default();
    let mut book = Book::default();
    for found in documents_from_str(text) {
        let source = Source {
            file: "input".into(),
            path: found.path.clone(),
        };
        match found.document {
            Ok(doc) => {
                if let Err(e) = book.add(doc, source) {
                    report.errors.push((found.path, e));
                }
            }
            Err(e) => report.errors.push((found.path, e)),
        }
    }
    report.outcomes = book.postings(rules, None).into_iter().map(|(_, r)| r).collect();
    report
}

/// Runs one case under `catch_unwind`; fails the test (naming the case) if the core panicked.
fn run_caught(rules: &Rules, name: &str, text: &str) -> Report {
    match catch_unwind(AssertUnwindSafe(|| run(rules, text))) {
        Ok(r) => r,
        Err(p) => panic!("{name}: the core panicked: {}", panic_text(&*p)),
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn sum(p: &Posting) -> Decimal {
    p.lines.iter().map(|l| l.amount).sum()
}

/// Every posting made balances to zero and has lines; no order has postings next to an error.
fn assert_no_partial_posting(name: &str, report: &Report) {
    for p in report.postings() {
        assert!(
            !p.lines.is_empty(),
            "{name}: posting {} has no lines",
            p.idempotency_key
        );
        assert_eq!(
            sum(p),
            Decimal::ZERO,
            "{name}: posting {} does not balance",
            p.idempotency_key
        );
    }
    let refused: BTreeSet<String> = report
        .outcomes
        .iter()
        .filter_map(|r| match r {
            Err(CoreError::Validation(v)) => Some(v.order_id.clone()),
            _ => None,
        })
        .collect();
    for p in report.postings() {
        let order = p.order_id.clone().unwrap_or_default();
        assert!(
            !refused.contains(&order),
            "{name}: order {order} was refused yet posting {} was made",
            p.idempotency_key
        );
    }
}

/// A refused input: nothing posted, at least one error, every error permanent, and the messages
/// together name each expected part.
fn assert_refused(name: &str, report: &Report, names: &[&str]) {
    assert_no_partial_posting(name, report);
    let refusals = report.refusals();
    assert!(!refusals.is_empty(), "{name}: accepted, expected a refusal");
    let classes = report.classes();
    assert!(
        classes.iter().all(|c| *c == ErrorClass::Permanent),
        "{name}: expected every error permanent, got {classes:?}: {refusals:?}"
    );
    let text = refusals.join("\n");
    for part in names {
        assert!(text.contains(part), "{name}: the error does not name {part:?}:\n{text}");
    }
}

#[test]
fn every_bad_input_file_is_refused_with_a_classified_error_that_names_the_problem() {
    let rules = Rules::from_toml(RULES).unwrap();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(bad_input_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some((_, expect)) = EXPECTED.iter().find(|(n, _)| *n == name) else {
            panic!("{name}: a bad-input file without an expectation in EXPECTED");
        };
        let text = std::fs::read_to_string(&path).unwrap();
        // Every case is checked; the failures are reported together.
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| check_file(&rules, &name, &text, expect))) {
            failures.push(panic_text(&*p));
        }
        seen.insert(name);
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let missing: Vec<_> = EXPECTED.iter().filter(|(n, _)| !seen.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "expected files missing (run tools/make_bad_input.py): {missing:?}"
    );
}

fn check_file(rules: &Rules, name: &str, text: &str, expect: &Expect) {
    let report = run_caught(rules, name, text);
    match expect {
        Expect::Refused(names) => assert_refused(name, &report, names),
        Expect::PartlyRefused(names) => {
            assert_no_partial_posting(name, &report);
            let classes = report.classes();
            assert!(
                classes.iter().all(|c| *c == ErrorClass::Permanent),
                "{name}: {classes:?}"
            );
            let text = report.refusals().join("\n");
            assert!(names.iter().all(|p| text.contains(p)), "{name}: {text}");
        }
        Expect::PostedWhole => {
            assert_no_partial_posting(name, &report);
            assert!(report.refusals().is_empty(), "{name}: {:?}", report.refusals());
            assert!(!report.postings().is_empty(), "{name}: nothing posted");
        }
    }
}

fn sek(minor: i64) -> Value {
    json!({"type": "centPrecision", "currencyCode": "SEK", "centAmount": minor, "fractionDigits": 2})
}

/// A valid Swedish order with `n` lines of 1.25 SEK (25 % VAT included).
fn order_with_lines(n: usize) -> Value {
    let line = |i: usize| {
        json!({
            "id": format!("li-{i}"), "name": {"en": "Pin"}, "variant": {"id": 1, "sku": format!("PIN-{i}")},
            "price": {"value": sek(125)}, "quantity": 1,
            "taxRate": {"name": "25%", "amount": 0.25, "includedInPrice": true, "country": "SE"},
            "totalPrice": sek(125), "taxedPrice": {"totalNet": sek(100), "totalGross": sek(125)}
        })
    };
    let n_i64 = i64::try_from(n).unwrap();
    json!({
        "type": "Order", "id": "big-1", "version": 1, "orderNumber": "BIG-1",
        "createdAt": "2026-11-23T12:00:00.000Z", "country": "SE",
        "store": {"typeId": "store", "key": "se-webshop"},
        "totalPrice": sek(125 * n_i64),
        "taxedPrice": {"totalNet": sek(100 * n_i64), "totalGross": sek(125 * n_i64),
                       "taxPortions": [{"rate": 0.25, "amount": sek(25 * n_i64), "name": "25%"}]},
        "lineItems": (0..n).map(line).collect::<Vec<_>>()
    })
}

#[test]
fn ten_thousand_line_items_post_whole_and_balanced_or_not_at_all() {
    let rules = Rules::from_toml(RULES).unwrap();
    let text = order_with_lines(10_000).to_string();
    let started = std::time::Instant::now();
    let report = run_caught(&rules, "10 000 line items", &text);
    assert_no_partial_posting("10 000 line items", &report);
    assert!(report.errors.is_empty(), "{:?}", report.refusals());
    let postings = report.postings();
    assert_eq!(postings.len(), 1, "{:?}", report.refusals());
    let revenue: Decimal = postings[0]
        .lines
        .iter()
        .filter(|l| l.amount < Decimal::ZERO)
        .map(|l| l.amount)
        .sum();
    assert_eq!(revenue, Decimal::new(-1_250_000, 2));
    // Linear enough for a Lambda: far below its timeout even in a debug build.
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());

    // The same order with one line's total off by a cent from its taxedPrice: refused whole,
    // nothing posted (rounding may absorb VAT splits, never a line that disagrees with itself).
    let mut broken = order_with_lines(10_000);
    broken["lineItems"][9_999]["totalPrice"]["centAmount"] = json!(126);
    let report = run_caught(&rules, "10 000 line items, one wrong", &broken.to_string());
    assert_refused(
        "10 000 line items, one wrong",
        &report,
        &["BIG-1", "line item 10000", "taxedPrice.totalGross"],
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let rules = Rules::from_toml(RULES).unwrap();
    // Nesting runs on a small thread stack, as a Lambda's worker thread might have.
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "100 000 nested arrays",
            "[".repeat(100_000) + &"]".repeat(100_000),
            "recursion limit",
        ),
        (
            "100 000 nested objects in a custom field",
            {
                let mut order = order_with_lines(1).to_string();
                let deep = "{\"a\":".repeat(100_000) + "1" + &"}".repeat(100_000);
                order.insert_str(1, &format!("\"custom\":{deep},"));
                order
            },
            "recursion limit",
        ),
        (
            "SQS bodies nested 12 deep",
            (0..12).fold(order_with_lines(1).to_string(), |inner, _| {
                json!({"Records": [{"body": inner}]}).to_string()
            }),
            "nested too deeply",
        ),
    ];
    for (name, text, expect) in cases {
        let rules = rules.clone();
        let report = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let r = run_caught(&rules, name, &text);
                (r.refusals(), r.classes(), r.postings().len())
            })
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{name}: the core panicked or overflowed its stack"));
        let (refusals, classes, posted) = report;
        assert_eq!(posted, 0, "{name}");
        assert!(!refusals.is_empty(), "{name}: accepted");
        assert!(
            classes.iter().all(|c| *c == ErrorClass::Permanent),
            "{name}: {classes:?}"
        );
        assert!(refusals.iter().any(|r| r.contains(expect)), "{name}: {refusals:?}");
    }
}

#[test]
fn oversized_bodies_are_refused_or_posted_whole_never_in_part() {
    let rules = Rules::from_toml(RULES).unwrap();
    // 8 MiB: far past SQS's 1 MiB limit, as a misconfigured relay or a replay tool could send.
    let mut padded = order_with_lines(1);
    padded["custom"] = json!({"fields": {"note": "x".repeat(8 << 20)}});
    let report = run_caught(&rules, "8 MiB order", &padded.to_string());
    assert_no_partial_posting("8 MiB order", &report);

    // A truncated oversized body (a relay cut it): a parse error, nothing posted.
    let text = padded.to_string();
    let cut = &text[..text.len() / 2];
    let report = run_caught(&rules, "8 MiB order cut in half", cut);
    assert_refused("8 MiB order cut in half", &report, &["EOF"]);

    // A number longer than any money field can hold.
    let long = order_with_lines(1).to_string().replacen(
        "\"centAmount\":125",
        &format!("\"centAmount\":{}", "9".repeat(100_000)),
        1,
    );
    let report = run_caught(&rules, "a 100 000-digit amount", &long);
    // Refused while the JSON is read, before any field is known: the error says where in the text.
    assert_refused("a 100 000-digit amount", &report, &["number out of range", "column"]);

    // Many records in one event: each read; every order posts whole or is refused.
    let bodies: Vec<Value> = (0..2_000)
        .map(|i| {
            let mut o = order_with_lines(1);
            o["id"] = json!(format!("o-{i}"));
            o["orderNumber"] = json!(format!("N-{i}"));
            if i % 7 == 0 {
                o["totalPrice"]["centAmount"] = json!(-1);
            }
            json!({"body": o.to_string()})
        })
        .collect();
    let report = run_caught(&rules, "2 000 records", &json!({"Records": bodies}).to_string());
    assert_no_partial_posting("2 000 records", &report);
    assert_eq!(report.postings().len() + report.refusals().len(), 2_000);
}

/// The fuzz target's property (fuzz/src/lib.rs) on every bad-input file and sample order, so the
/// property `make fuzz` checks is compiled and exercised by `make test` too.
#[path = "../../../fuzz/src/lib.rs"]
mod fuzz_property;

#[test]
fn the_fuzz_property_holds_on_every_corpus_file() {
    let dirs = ["tests/data/bad-input", "tests/data/orders", "events"];
    let mut seen = 0;
    for dir in dirs {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            catch_unwind(|| fuzz_property::parse_and_map(&bytes, fuzz_property::rules()))
                .unwrap_or_else(|p| panic!("{name}: {}", panic_text(&*p)));
            seen += 1;
        }
    }
    assert!(seen > 40, "only {seen} corpus files found");
}
