//! `ctvisma run` as a user runs it: the shipped events through the Lambdas' handler on the
//! embedded SQLite ledger; the second run posts nothing new and says so; a bad file is reported by
//! name with its reason and the rest still posts.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ctvisma() -> Command {
    let mut c = Command::cargo_bin("ctvisma").unwrap();
    c.current_dir(repo());
    c
}

fn line_value(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

#[test]
fn the_second_run_posts_nothing_new() {
    let out = tempfile::tempdir().unwrap();
    let run = || {
        ctvisma()
            .args(["run", "--target", "sie", "--out"])
            .arg(out.path())
            .arg("events")
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert_eq!(line_value(&stdout, "messages read"), 40);
    assert!(line_value(&stdout, "postings made") >= 25, "{stdout}");
    assert_eq!(line_value(&stdout, "parked"), 0);
    assert!(
        stdout.contains("SE   SEK  MP1"),
        "VAT per entity, currency and code:\n{stdout}"
    );
    let journal = std::fs::read_to_string(out.path().join("journal.jsonl")).unwrap();
    assert_eq!(journal.lines().count() as u64, line_value(&stdout, "postings made"));
    // Each entity's postings as one SIE file, every voucher balanced.
    let sie_dir = out.path().join("sie/SE");
    let files: Vec<_> = std::fs::read_dir(&sie_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let sie = ctvisma_sie::read(&std::fs::read(&files[0]).unwrap()).unwrap();
    let se_postings = journal.lines().filter(|l| l.contains("\"entity\":\"SE\"")).count();
    assert_eq!(sie.vouchers.len(), se_postings);
    assert!(sie.vouchers.iter().all(|v| v.balance().is_zero()));

    let second = run();
    assert_eq!(second.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(line_value(&stdout, "postings made"), 0);
    assert!(stdout.contains("nothing new to post"), "{stdout}");
    assert!(stdout.contains("SIE SE: nothing new to export"), "{stdout}");
    assert_eq!(
        std::fs::read_dir(out.path().join("sie/SE")).unwrap().count(),
        1,
        "no second file"
    );
}

#[test]
fn a_bad_file_is_named_with_its_reason_and_the_rest_still_posts() {
    let out = tempfile::tempdir().unwrap();
    let bad = out.path().join("broken.json");
    std::fs::write(
        &bad,
        "{\"notificationType\": \"Message\", \"type\": \"OrderCreated\", \"order\": 5}",
    )
    .unwrap();
    let result = ctvisma()
        .args(["run", "--target", "sie", "--out"])
        .arg(out.path().join("state"))
        .arg(&bad)
        .arg("events/order-created-se-sek-returns.json")
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    let parked: serde_json::Value =
        serde_json::from_str(stderr.lines().find(|l| l.contains("\"parked\"")).unwrap()).unwrap();
    assert!(parked["input"].as_str().unwrap().ends_with("broken.json"));
    assert_eq!(parked["class"], "Permanent");
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(line_value(&stdout, "postings made") >= 1, "{stdout}");
}

#[test]
fn status_shows_every_message_and_posting_of_an_order() {
    let out = tempfile::tempdir().unwrap();
    let run = ctvisma()
        .args(["run", "--target", "sie", "--out"])
        .arg(out.path())
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let status = ctvisma()
        .args(["status", "CV-SE-SEK-RETURNS", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let events: Vec<&str> = report["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["event"].as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"invoice") && events.contains(&"credit_note"),
        "{events:?}"
    );
    assert!(report["postings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["target"] == "sie" && !p["document_id"].as_str().unwrap().is_empty()));
    let kinds: Vec<&str> = report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"OrderCreated") && kinds.contains(&"ReturnInfoAdded"),
        "{kinds:?}"
    );
    // An order the ledger never saw is said so.
    let unknown = ctvisma()
        .args(["status", "NO-SUCH-ORDER", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
}
