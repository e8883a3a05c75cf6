//! `ctvisma map` driven as a user drives it: real fixture orders, the shared posting checker,
//! validation errors on stderr, bad files among good ones.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("../shared/fixtures/commercetools/resources").join(name)
}

fn ctvisma() -> Command {
    let mut c = Command::cargo_bin("ctvisma").unwrap();
    c.current_dir(repo());
    c
}

/// Fixture orders the example rules accept.
const ACCEPTED: [&str; 4] = [
    "order-2015-legacy-tax-portion-without-name.json",
    "order-legacy-money-no-type-de-19.json",
    "order-platform-tax-usd-return-info-discount-code-paid-shipped.json",
    "order-tax-disabled-usd-three-line-items-discounted.json",
];

fn sample_orders() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/data/orders"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// Runs ../shared/tools/check_postings.py with our binary; returns its last line.
fn check_postings(rules: &Path, files: &[PathBuf]) -> String {
    let out = std::process::Command::new("python3")
        .arg(repo().join("../shared/tools/check_postings.py"))
        .arg("--cmd")
        .arg(assert_cmd::cargo::cargo_bin("ctvisma"))
        .arg("--rules")
        .arg(rules)
        .args(files)
        .output()
        .expect("python3 runs the shared checker");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "checker failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().last().unwrap_or_default().to_string()
}

fn stderr_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l}")))
        .collect()
}

fn problems_of(out: &std::process::Output) -> Vec<Value> {
    stderr_lines(out)
        .into_iter()
        .filter(|v| v["error"] == "validation")
        .flat_map(|v| v["problems"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// config/rules.toml plus the VAT codes of the fixtures' invented rates.
fn rules_with_fixture_rates(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("config/rules.toml")).unwrap()
        + &std::fs::read_to_string(repo().join("tests/data/rules-fixture-rates.toml")).unwrap();
    let path = dir.join("rules.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::copy(
        repo().join("config/ecb-rates-sample.csv"),
        dir.join("ecb-rates-sample.csv"),
    )
    .unwrap();
    path
}

#[test]
fn sample_and_fixture_orders_pass_the_shared_posting_checker() {
    let mut files = sample_orders();
    assert!(files.len() >= 12, "the constructed sample orders are missing");
    files.extend(ACCEPTED.iter().map(|f| fixture(f)));
    let last = check_postings(&repo().join("config/rules.toml"), &files);
    assert_eq!(last, format!("{0}/{0} files pass", files.len()));
}

#[test]
fn fixture_orders_with_invented_rates_pass_once_their_vat_codes_exist() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_with_fixture_rates(dir.path());
    let files: Vec<PathBuf> = [
        "order-platform-tax-hr-shippinginfo-freeabove.json",
        "order-platform-tax-refused-gift-shippinginfo.json",
    ]
    .iter()
    .chain(ACCEPTED.iter())
    .map(|f| fixture(f))
    .collect();
    assert_eq!(check_postings(&rules, &files), "6/6 files pass");

    // The checker cannot read API-extension wrappers, so this one is checked here.
    let out = ctvisma()
        .args(["map", "--rules"])
        .arg(&rules)
        .arg(fixture(
            "order-in-extension-create-platform-tax-gbp-custom-line-item.json",
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines = doc["postings"][0]["lines"].as_array().unwrap();
    let amount = |role: &str| -> Vec<&str> {
        lines
            .iter()
            .filter(|l| l["role"] == role)
            .map(|l| l["amount"].as_str().unwrap())
            .collect()
    };
    assert_eq!(amount("receivable"), ["37.02"]);
    assert_eq!(amount("revenue"), ["-30.85"]);
    assert_eq!(amount("vat"), ["-6.17"]);
}

#[test]
fn refused_fixture_orders_name_the_order_line_field_and_rule() {
    let run = |file: &str| {
        let out = ctvisma()
            .args(["map", "--rules", "config/rules.toml"])
            .arg(fixture(file))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file} must be refused");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["postings"], Value::Array(vec![]), "{file}: nothing is posted");
        out
    };
    // Inconsistent official example: a 6.34 tax portion on a line whose tax is 1.00, no order taxedPrice.
    let out = run("order-external-tax-lineitem-taxedprice-eur.json");
    let fields: Vec<String> = problems_of(&out)
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"totals".to_string()) && fields.contains(&"taxedPrice".to_string()),
        "{fields:?}"
    );
    let err = &stderr_lines(&out)[0];
    assert_eq!(err["order"], "92f5a867-bf19-47ab-982c-6720a03a3921");

    // Invented rates: every missing VAT code is named with its line, SKU and rule, all at once.
    let out = run("order-platform-tax-hr-shippinginfo-freeabove.json");
    let p = problems_of(&out);
    assert_eq!(stderr_lines(&out)[0]["order"], "Order_513472835");
    assert!(p.iter().any(|p| p["field"] == "vat_code"
        && p["sku"] == "MasterVariant_Sku_1497859223"
        && p["line"] == "line item 1"
        && p["rule"]
            .as_str()
            .unwrap()
            .contains("entities.DE.vat (country = \"HR\", rate = \"49.797288235182546\")")));
    assert!(p.iter().any(|p| p["field"] == "vat_code" && p["line"] == "shipping"));
    assert!(
        !p.iter().any(|p| p["field"] == "totals"),
        "missing codes must not masquerade as bad totals: {p:?}"
    );

    let p = problems_of(&run("order-platform-tax-refused-gift-shippinginfo.json"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["rule"], "entities.DE.vat (country = \"DE\", rate = \"20\")");

    let p = problems_of(&run("order-in-extension-create-platform-tax-gbp-custom-line-item.json"));
    assert!(
        p.iter()
            .any(|p| p["line"] == "custom line item 1" && p["field"] == "vat_code"),
        "{p:?}"
    );
}

#[test]
fn raw_order_and_its_envelope_give_one_posting_with_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let raw = fixture("order-legacy-money-no-type-de-19.json");
    let order: Value = serde_json::from_str(&std::fs::read_to_string(&raw).unwrap()).unwrap();
    let envelope = serde_json::json!({
        "notificationType": "Message", "projectKey": "p", "id": "m-1", "version": 1, "sequenceNumber": 1,
        "resource": {"typeId": "order", "id": order["id"]}, "resourceVersion": 1, "type": "OrderCreated",
        "createdAt": "2017-04-10T15:44:55.000Z", "lastModifiedAt": "2017-04-10T15:44:55.000Z", "order": order,
    });
    let env_path = dir.path().join("envelope.json");
    std::fs::write(&env_path, envelope.to_string()).unwrap();

    let map = |files: &[&Path]| {
        ctvisma()
            .args(["map", "--rules", "config/rules.toml"])
            .args(files)
            .output()
            .unwrap()
    };
    let a = map(&[&raw]);
    let b = map(&[&env_path]);
    assert!(a.status.success() && b.status.success());
    assert_eq!(a.stdout, b.stdout, "raw order and envelope map to the same bytes");

    let both = map(&[&raw, &env_path]);
    assert!(both.status.success());
    let doc: Value = serde_json::from_slice(&both.stdout).unwrap();
    assert_eq!(doc["postings"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["postings"][0]["idempotency_key"],
        "invoice:734a6def-985d-4662-b0cc-af7db688f4b5"
    );
    assert!(stderr_lines(&both).iter().any(|l| l["notice"] == "duplicate"));
}

#[test]
fn mapping_the_sample_events_is_deterministic() {
    let run = || {
        ctvisma()
            .args(["map", "--rules", "config/rules.toml", "events"])
            .output()
            .unwrap()
    };
    let (a, b) = (run(), run());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
    let doc: Value = serde_json::from_slice(&a.stdout).unwrap();
    assert!(doc["postings"].as_array().unwrap().len() >= 16);
    // The subscription test message is acknowledged, not an error.
    assert!(stderr_lines(&a)
        .iter()
        .any(|l| l["notice"] == "skipped" && l["kind"] == "ResourceCreated"));
}

#[test]
fn bad_files_are_reported_by_name_and_the_rest_still_maps() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("a-malformed.json", "{\"type\": \"Order\", ");
    write("b-no-total.json", r#"{"type":"Order","id":"x","lineItems":[]}"#);
    write("c-array.json", "[1, 2]");
    std::fs::copy(fixture(ACCEPTED[1]), dir.path().join("d-good.json")).unwrap();

    let out = ctvisma()
        .args(["map", "--rules", "config/rules.toml"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["postings"].as_array().unwrap().len(),
        1,
        "the good file is still mapped"
    );
    let errors: Vec<Value> = stderr_lines(&out)
        .into_iter()
        .filter(|l| l["error"] == "parse")
        .collect();
    let names: Vec<&str> = errors.iter().map(|e| e["file"].as_str().unwrap()).collect();
    for bad in ["a-malformed.json", "b-no-total.json", "c-array.json"] {
        assert!(names.iter().any(|n| n.ends_with(bad)), "{bad} not reported: {names:?}");
    }
    assert!(errors
        .iter()
        .any(|e| e["message"].as_str().unwrap().contains("totalPrice")));
}

#[test]
fn unusable_rules_are_a_setup_error() {
    let out = ctvisma()
        .args(["map", "--rules", "does-not-exist.toml", "events"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_lines(&out)[0]["error"], "rules");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("rules.toml");
    std::fs::write(&bad, "[routing]\nby_store = { s = \"NOPE\" }\n[entities]\n").unwrap();
    let out = ctvisma()
        .args(["map", "--rules"])
        .arg(&bad)
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_lines(&out)[0]["message"]
        .as_str()
        .unwrap()
        .contains(r#"unknown entity "NOPE""#));
}

/// Maps one sample order and returns its single posting.
fn posting_of(sample: &str) -> Value {
    let out = ctvisma()
        .args(["map", "--rules", "config/rules.toml"])
        .arg(repo().join("tests/data/orders").join(sample))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["postings"][0].clone()
}

fn lines_of<'a>(posting: &'a Value, role: &str) -> Vec<(&'a str, &'a str, &'a str)> {
    posting["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["role"] == role)
        .map(|l| {
            (
                l["account"].as_str().unwrap(),
                l["amount"].as_str().unwrap(),
                l["vat_code"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn sample_orders_post_what_the_swedish_ledger_expects() {
    // 23:30 UTC on the 23rd is the 24th in Stockholm: the posting date is the entity's local date.
    let p = posting_of("se-sek-mixed-rates.json");
    assert_eq!(p["entity"], "SE");
    assert_eq!(p["date"], "2026-11-24");
    assert_eq!(lines_of(&p, "receivable"), [("1510", "993.00", "")]);
    assert_eq!(
        lines_of(&p, "vat"),
        [
            ("2611", "-109.40", "MP1"),
            ("2621", "-26.46", "MP2"),
            ("2631", "-11.26", "MP3")
        ]
    );
    // Coffee: 3 × 89.00 list, one unit at 69.00; revenue at list net, the discount on its own account.
    assert_eq!(lines_of(&p, "discount"), [("3730", "17.85", "MP2")]);

    let gift = posting_of("se-sek-gift-card.json");
    assert_eq!(lines_of(&gift, "gift_card"), [("2421", "-500.00", "MF")]);

    let export = posting_of("se-sek-export-us.json");
    assert_eq!(lines_of(&export, "revenue"), [("3105", "-398.00", "EXP")]);
    assert!(lines_of(&export, "vat").is_empty());

    let free = posting_of("se-sek-zero-total.json");
    assert_eq!(lines_of(&free, "receivable"), [("1510", "0.00", "")]);

    let multi = posting_of("se-sek-multiple-shipping.json");
    assert_eq!(
        lines_of(&multi, "shipping"),
        [("3520", "-39.20", "MP1"), ("3521", "-47.20", "MP1")]
    );
}

#[test]
fn sample_orders_in_other_entities_use_their_currency_digits_and_codes() {
    let jp = posting_of("jp-jpy-zero-decimals.json");
    assert_eq!(
        (jp["entity"].as_str(), jp["currency"].as_str()),
        (Some("JP"), Some("JPY"))
    );
    assert_eq!(lines_of(&jp, "receivable"), [("1510", "7786", "")]);
    assert_eq!(
        lines_of(&jp, "vat"),
        [("2611", "-590", "CT10"), ("2621", "-96", "CT8R")]
    );

    let de = posting_of("de-eur-net-b2b-discount-on-total.json");
    // 50.00 off the total, split by each rate's net: 459.87 at 19 %, 199.50 at 7 %.
    assert_eq!(
        lines_of(&de, "discount"),
        [("3730", "15.13", "USt7"), ("3730", "34.87", "USt19")]
    );

    let hp = posting_of("de-eur-high-precision.json");
    assert_eq!(lines_of(&hp, "receivable"), [("1510", "8.64", "")]);
    assert_eq!(lines_of(&hp, "revenue"), [("3001", "-7.26", "USt19")]);

    let no = posting_of("no-nok-three-rates.json");
    let codes: Vec<&str> = lines_of(&no, "vat").iter().map(|l| l.2).collect();
    assert_eq!(codes, ["3", "31", "33"]);
}

#[test]
fn payments_beside_their_orders_give_captures_refunds_and_credit_notes_in_one_document() {
    let out = ctvisma()
        .args([
            "map",
            "--rules",
            "config/rules.toml",
            "tests/data/orders",
            "tests/data/payments",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let count = |event: &str| {
        doc["postings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["event"] == event)
            .count()
    };
    assert_eq!(
        (count("capture"), count("refund"), count("credit_note")),
        (5, 3, 3),
        "the pending charge posts nothing yet"
    );
    let capture = doc["postings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event"] == "capture")
        .unwrap();
    assert!(capture["payment_id"].is_string() && capture["transaction_id"].is_string());

    // A payment without its order is reported, not posted.
    let out = ctvisma()
        .args([
            "map",
            "--rules",
            "config/rules.toml",
            "tests/data/payments/klarna-invoice.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_lines(&out).iter().any(|l| l["error"] == "unlinked"));
}

#[test]
fn foreign_currency_documents_carry_the_rate_of_their_date_and_a_missing_rate_is_refused() {
    let usd = fixture("order-tax-disabled-usd-three-line-items-discounted.json");
    let out = ctvisma()
        .args(["map", "--rules", "config/rules.toml"])
        .arg(&usd)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fx = &doc["postings"][0]["exchange_rate"];
    // 11.21 SEK / 1.049 USD per euro on 2025-02-26.
    assert_eq!(fx["base_currency"], "SEK");
    assert_eq!(fx["rate"], "10.686368");
    assert_eq!(fx["rate_date"], "2025-02-26");

    // The same rules with a table that lacks the day: refused, naming the rate.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("config/rules.toml"), dir.path().join("rules.toml")).unwrap();
    std::fs::write(
        dir.path().join("ecb-rates-sample.csv"),
        "Date,USD,SEK\n2026-11-20,1.05,11.2\n",
    )
    .unwrap();
    let out = ctvisma()
        .args(["map", "--rules"])
        .arg(dir.path().join("rules.toml"))
        .arg(&usd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let p = problems_of(&out);
    assert_eq!(p[0]["field"], "exchange_rate", "{p:?}");
    assert!(p[0]["message"].as_str().unwrap().contains("USD→SEK"));
}

#[test]
fn settlement_reports_map_beside_orders_and_bad_lines_are_named() {
    let out = ctvisma()
        .args([
            "map",
            "--rules",
            "config/rules.toml",
            "tests/data/settlements",
            "tests/data/orders/se-sek-returns.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let postings = doc["postings"].as_array().unwrap();
    let payouts: Vec<&Value> = postings.iter().filter(|p| p["event"] == "payout").collect();
    assert_eq!(payouts.len(), 9);
    assert!(postings.iter().any(|p| p["event"] == "invoice"));
    let skipped = stderr_lines(&out);
    assert!(
        skipped
            .iter()
            .any(|l| l["notice"] == "skipped" && l["kind"] == "MerchantPayout" && l["path"] == "line 11"),
        "{skipped:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken-settlement.csv");
    let text = std::fs::read_to_string(repo().join("tests/data/settlements/adyen-settlement-batch-1042.csv")).unwrap();
    std::fs::write(
        &bad,
        text.replacen("496.75", "49x.75", 1)
            .replacen("2026-11-25 02:14:10", "tomorrow", 1),
    )
    .unwrap();
    let out = ctvisma()
        .args(["map", "--rules", "config/rules.toml"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let errors = stderr_lines(&out);
    let lines: Vec<u64> = errors[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 4], "{errors:?}");
    assert_eq!(errors[0]["error"], "validation");
}
