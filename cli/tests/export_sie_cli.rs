//! `ctvisma export-sie` driven as a user drives it: the sample data of the Swedish entity becomes
//! a SIE file that reads back as the postings `ctvisma map` prints, each posting exported once.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ctvisma_core::{Posting, PostingDocument};
use ctvisma_sie::{read, vouchers_match, SieHeader};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ctvisma() -> Command {
    let mut c = Command::cargo_bin("ctvisma").unwrap();
    c.current_dir(repo());
    c
}

const INPUTS: [&str; 3] = ["tests/data/orders", "tests/data/payments", "tests/data/settlements"];

/// The postings `ctvisma map` prints for these inputs, of one entity.
fn mapped(rules: &Path, inputs: &[PathBuf], entity: &str) -> Vec<Posting> {
    let out = ctvisma()
        .arg("map")
        .arg("--rules")
        .arg(rules)
        .args(inputs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: PostingDocument = serde_json::from_slice(&out.stdout).unwrap();
    doc.postings.into_iter().filter(|p| p.entity == entity).collect()
}

fn export(rules: &Path, inputs: &[PathBuf], out: &Path) -> std::process::Output {
    ctvisma()
        .args(["export-sie", "--entity", "SE", "--rules"])
        .arg(rules)
        .arg("--out")
        .arg(out)
        .args(inputs)
        .output()
        .unwrap()
}

/// The stderr line that is the summary (the others are map's notices).
fn summary(out: &std::process::Output) -> Value {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l}")))
        .find(|v| v.get("exported").is_some())
        .unwrap_or_else(|| panic!("no summary: {}", String::from_utf8_lossy(&out.stderr)))
}

fn se_header() -> SieHeader {
    // What the rules say about SE; the dates do not take part in `vouchers_match`.
    SieHeader::new(
        "Nordic Goods AB",
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        "SEK",
        "3740",
    )
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_swedish_postings_are_exported_once() {
    let dir = tempfile::tempdir().unwrap();
    let rules = repo().join("config/rules.toml");
    let inputs: Vec<PathBuf> = INPUTS.iter().map(PathBuf::from).collect();
    let postings = mapped(&rules, &inputs, "SE");
    assert!(postings.len() >= 20, "{}", postings.len());

    let file = dir.path().join("out/se.si");
    let out = export(&rules, &inputs, &file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&out);
    assert_eq!(s["exported"], postings.len());
    assert_eq!(s["skipped_already_exported"], 0);
    assert_eq!(s["file"], file.display().to_string());

    let sie = read(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(sie.vouchers.len(), postings.len());
    assert!(sie.vouchers.iter().all(|v| v.balance().is_zero()));
    vouchers_match(&postings, &sie, &se_header()).unwrap();
    assert_eq!(sie.fnamn.as_deref(), Some("Nordic Goods AB"));
    assert_eq!(sie.valuta.as_deref(), Some("SEK"));
    let newest = postings.iter().map(|p| p.date.as_str()).max().unwrap();
    let (start, end) = (sie.fiscal_years[0].1, sie.fiscal_years[0].2);
    assert_eq!(
        (start.to_string(), end.to_string()),
        (format!("{}-01-01", &newest[..4]), format!("{}-12-31", &newest[..4]))
    );

    // The state: every exported key, sorted.
    let state: Vec<String> =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/.sie-exported-SE.json")).unwrap()).unwrap();
    let mut keys: Vec<String> = postings.iter().map(|p| p.idempotency_key.to_string()).collect();
    keys.sort();
    assert_eq!(state, keys);

    // Again: nothing new, no file.
    let before = files_in(&dir.path().join("out"));
    let again = export(&rules, &inputs, &dir.path().join("out/se-again.si"));
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let s = summary(&again);
    assert_eq!((s["exported"].as_u64(), s["file"].is_null()), (Some(0), true));
    assert_eq!(s["skipped_already_exported"], postings.len());
    assert_eq!(files_in(&dir.path().join("out")), before);

    // A new posting among the old ones: only it is exported.
    let usd = repo()
        .join("../shared/fixtures/commercetools/resources/order-tax-disabled-usd-three-line-items-discounted.json");
    let mut more = inputs.clone();
    more.push(usd.clone());
    let third = export(&rules, &more, &dir.path().join("out/se-usd.si"));
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));
    let s = summary(&third);
    assert_eq!(s["exported"], 1);
    assert_eq!(s["skipped_already_exported"], postings.len());
    let usd_postings = mapped(&rules, &[usd], "SE");
    assert_eq!(usd_postings[0].currency, "USD");
    let sie = read(&std::fs::read(dir.path().join("out/se-usd.si")).unwrap()).unwrap();
    vouchers_match(&usd_postings, &sie, &se_header()).unwrap();
    assert!(sie.vouchers[0].rows[0].text.as_deref().unwrap().contains("USD 48.00"));
}

#[test]
fn the_default_file_is_dated_and_an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut c = Command::cargo_bin("ctvisma").unwrap();
        c.current_dir(dir.path())
            .args(["export-sie", "--entity", "SE", "--rules"])
            .arg(repo().join("config/rules.toml"))
            .args(extra)
            .arg(repo().join("tests/data/orders/se-sek-gift-card.json"))
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let names = files_in(&dir.path().join("out"));
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], ".sie-exported-SE.json");
    let name = &names[1];
    assert!(
        name.len() == "SE-20261203.si".len()
            && name.starts_with("SE-")
            && name.ends_with(".si")
            && name[3..11].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(summary(&out)["file"], format!("out/{name}"));

    // Forget the state: the file it would write exists, so it refuses rather than overwrite.
    std::fs::remove_file(dir.path().join("out/.sie-exported-SE.json")).unwrap();
    let out = run(&["--out", &format!("out/{name}")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert!(!dir.path().join("out/.sie-exported-SE.json").exists());
}

#[test]
fn a_missing_rounding_account_or_entity_is_a_setup_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("config/rules.toml")).unwrap();
    let se_rounding = "rounding = \"3740\"        # Öresutjämning\n";
    assert!(text.contains(se_rounding));
    std::fs::write(dir.path().join("rules.toml"), text.replacen(se_rounding, "", 1)).unwrap();
    std::fs::copy(
        repo().join("config/ecb-rates-sample.csv"),
        dir.path().join("ecb-rates-sample.csv"),
    )
    .unwrap();
    let inputs: Vec<PathBuf> = INPUTS.iter().map(PathBuf::from).collect();
    let out = export(&dir.path().join("rules.toml"), &inputs, &dir.path().join("out/se.si"));
    assert_eq!(out.status.code(), Some(2));
    let err: Value = serde_json::from_slice(out.stderr.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(err["error"], "rules");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("entities.SE.accounts.rounding is missing"),
        "{err}"
    );
    assert!(!dir.path().join("out").exists(), "nothing is written");

    let out = ctvisma()
        .args(["export-sie", "--entity", "XX", "--out"])
        .arg(dir.path().join("out/xx.si"))
        .args(INPUTS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown entity \\\"XX\\\""));
}
