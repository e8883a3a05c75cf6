//! Orders with 1, 10 and 100 line items from a real sample, and mapping vs parsing them.
//!
//! The lines of `tests/data/orders/se-sek-mixed-rates.json` (6/12/25 %, one line cart-discounted)
//! are repeated as often as needed; the order's `totalPrice`, `taxedPrice` and `taxPortions` are
//! recomputed from the lines' own taxed prices plus shipping, which is how commercetools adds them
//! up (LineItemLevel), so the mapper's total checks hold.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Book, Source};
use ctvisma_core::Rules;
use serde_json::{json, Value};

use crate::Figures;

const SAMPLE: &str = "tests/data/orders/se-sek-mixed-rates.json";

fn cents(v: &Value) -> i64 {
    v["centAmount"].as_i64().unwrap_or_default()
}

fn with_cents(template: &Value, amount: i64) -> Value {
    let mut m = template.clone();
    m["centAmount"] = json!(amount);
    m
}

/// The sample order with `n` line items and totals that add up.
pub fn scaled_order(n: usize) -> Result<Value, String> {
    let text = std::fs::read_to_string(SAMPLE).map_err(|e| format!("{SAMPLE}: {e}"))?;
    let mut order: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let base = order["lineItems"].as_array().cloned().unwrap_or_default();
    if base.is_empty() {
        return Err(format!("{SAMPLE} has no line items"));
    }
    let template = order["totalPrice"].clone();
    let shipping = &order["shippingInfo"];
    let (mut total, mut net, mut gross) = (
        cents(&shipping["price"]),
        cents(&shipping["taxedPrice"]["totalNet"]),
        cents(&shipping["taxedPrice"]["totalGross"]),
    );
    // Tax per rate, keyed by the rate's name; shipping's tax first.
    let mut portions: BTreeMap<String, (Value, i64)> = BTreeMap::new();
    let ship_rate = &shipping["taxRate"];
    portions.insert(
        ship_rate["name"].as_str().unwrap_or_default().to_string(),
        (ship_rate["amount"].clone(), gross - net),
    );
    let mut lines = Vec::with_capacity(n);
    for i in 0..n {
        let mut line = base[i % base.len()].clone();
        if i >= base.len() {
            let id = line["id"].as_str().unwrap_or_default();
            line["id"] = json!(format!("{}-{i:04}", &id[..id.len().min(31)]));
        }
        let taxed = &line["taxedPrice"];
        let (l_net, l_gross) = (cents(&taxed["totalNet"]), cents(&taxed["totalGross"]));
        total += cents(&line["totalPrice"]);
        net += l_net;
        gross += l_gross;
        let rate = &line["taxRate"];
        portions
            .entry(rate["name"].as_str().unwrap_or_default().to_string())
            .or_insert_with(|| (rate["amount"].clone(), 0))
            .1 += l_gross - l_net;
        lines.push(line);
    }
    order["lineItems"] = Value::Array(lines);
    order["totalPrice"] = with_cents(&template, total);
    order["taxedPrice"] = json!({
        "totalNet": with_cents(&template, net),
        "totalGross": with_cents(&template, gross),
        "totalTax": with_cents(&template, gross - net),
        "taxPortions": portions
            .into_iter()
            .rev()
            .filter(|(_, (_, amount))| *amount != 0)
            .map(|(name, (rate, amount))| json!({"rate": rate, "amount": with_cents(&template, amount), "name": name}))
            .collect::<Vec<_>>(),
    });
    Ok(order)
}

/// Parses and maps one order's text the way the handler does; the number of postings.
pub fn map(text: &str, rules: &Rules) -> Result<usize, String> {
    let mut book = Book::default();
    for found in documents_from_str(text) {
        let doc = found.document.map_err(|e| e.to_string())?;
        book.add(doc, Source::default()).map_err(|e| e.to_string())?;
    }
    let mut n = 0;
    for (_, result) in book.postings(rules, None) {
        n += result.map_err(|e| e.to_string())?.len();
    }
    Ok(n)
}

/// Nanoseconds per call of `f`: the fastest of `rounds` batches of about `batch` each.
fn best_ns(rounds: usize, batch: Duration, mut f: impl FnMut()) -> f64 {
    // Calibrate the iteration count on a short warm-up.
    let start = Instant::now();
    let mut warm = 0u64;
    while start.elapsed() < batch / 10 || warm < 3 {
        f();
        warm += 1;
    }
    let per = start.elapsed().as_secs_f64() / warm as f64;
    let iters = ((batch.as_secs_f64() / per) as u64).max(5);
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    best
}

pub fn bench(rules: &Rules, figures: &mut Figures) -> Result<(), String> {
    figures.section("mapping", "parse+map (documents_from_str, Book, postings) vs serde_json::from_slice::<Value>, same bytes; best of 5 batches of ~0.3 s each, interleaved");
    for n in [1usize, 10, 100] {
        let bytes = serde_json::to_vec(&scaled_order(n)?).map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
        let postings = map(text, rules).map_err(|e| format!("scaled order with {n} line items: {e}"))?;
        if postings == 0 {
            return Err(format!("scaled order with {n} line items makes no posting"));
        }
        let (mut parse, mut mapped) = (f64::MAX, f64::MAX);
        // Interleaved so both see the same machine state.
        for _ in 0..5 {
            parse = parse.min(best_ns(1, Duration::from_millis(300), || {
                black_box(serde_json::from_slice::<Value>(black_box(&bytes)).ok());
            }));
            mapped = mapped.min(best_ns(1, Duration::from_millis(300), || {
                black_box(map(black_box(text), rules).ok());
            }));
        }
        let key = format!("mapping.lines_{n}");
        figures.put(&format!("{key}.bytes"), bytes.len().to_string());
        figures.put(&format!("{key}.postings"), postings.to_string());
        figures.put(&format!("{key}.parse_us"), format!("{:.1}", parse / 1e3));
        figures.put(&format!("{key}.parse_map_us"), format!("{:.1}", mapped / 1e3));
        figures.put(
            &format!("{key}.parse_mb_s"),
            format!("{:.0}", bytes.len() as f64 / parse * 1e3),
        );
        figures.put(&format!("{key}.ratio_map_to_parse"), format!("{:.2}", mapped / parse));
    }
    Ok(())
}
