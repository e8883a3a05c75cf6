//! The ops commands as an operator runs them: `check-rules` offline and against the fake Visma
//! and fake commercetools, the park → fix rules → `replay` path on the shipped events (each
//! posting exactly once), `reconcile` reports, and `status` / `redrive` on moto.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use ctvisma_aws::testing::{MotoServer, IDEMPOTENCY_TABLE, LEDGER_TABLE, REGION};
use ctvisma_aws::Park;
use ctvisma_core::ErrorClass;
use ctvisma_ledger::{Begin, Document, IdempotencyStore, LedgerEntry, MessageRecord};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The command with none of the live-system variables of the caller's shell.
fn ctvisma() -> Command {
    let mut c = Command::cargo_bin("ctvisma").unwrap();
    c.current_dir(repo());
    for name in [
        "CTP_PROJECT_KEY",
        "CTP_CLIENT_ID",
        "CTP_CLIENT_SECRET",
        "CTP_API_URL",
        "CTP_AUTH_URL",
        "CTP_SCOPES",
        "EACCOUNTING_API_URL",
        "EACCOUNTING_IDENTITY_URL",
        "EACCOUNTING_CLIENT_ID",
        "EACCOUNTING_CLIENT_SECRET",
        "EACCOUNTING_REFRESH_TOKEN",
        "VISMANET_API_URL",
        "VISMANET_TOKEN_URL",
        "VISMANET_CLIENT_ID",
        "VISMANET_CLIENT_SECRET",
        "VISMANET_TENANT_ID",
        "IDEMPOTENCY_TABLE",
        "LEDGER_TABLE",
        "AWS_PROFILE",
    ] {
        c.env_remove(name);
    }
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// A copy of the shipped rules (with its rate table) with `edit` applied.
fn rules_copy(dir: &Path, edit: impl FnOnce(String) -> String) -> PathBuf {
    let shipped = std::fs::read_to_string(repo().join("config/rules.toml")).unwrap();
    std::fs::copy(
        repo().join("config/ecb-rates-sample.csv"),
        dir.join("ecb-rates-sample.csv"),
    )
    .unwrap();
    let path = dir.join("rules.toml");
    std::fs::write(&path, edit(shipped)).unwrap();
    path
}

const JP_10: &str = "[[entities.JP.vat]]\ncountry = \"JP\"\nrate = \"10\"\ncode = \"CT10\"\naccount = \"2611\"\n";

fn without_jp_10(rules: String) -> String {
    assert!(rules.contains(JP_10), "the shipped rules changed: adjust the test");
    rules.replace(JP_10, "")
}

fn line_value(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

fn journal_keys(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["idempotency_key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn check_rules_passes_the_shipped_rules_and_lists_what_a_broken_file_lacks() {
    let ok = ctvisma().arg("check-rules").output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains("nothing missing"));

    let dir = tempfile::tempdir().unwrap();
    let broken = rules_copy(dir.path(), |r| {
        r.replacen("receivable = \"1510\"      # Kundfordringar\n", "", 1)
            .replacen("account = \"2621\"\n", "", 1)
    });
    let bad = ctvisma()
        .arg("check-rules")
        .arg("--rules")
        .arg(&broken)
        .output()
        .unwrap();
    let stdout = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("entities.SE.accounts.receivable is missing"),
        "{stdout}"
    );
    assert!(
        stdout.contains("entities.SE.vat[1] (country SE, rate 12): account is missing"),
        "{stdout}"
    );
    assert!(stdout.contains("2 problem(s)"), "{stdout}");

    let unparsable = dir.path().join("bad.toml");
    std::fs::write(&unparsable, "[entities.SE]\nname = 1\n").unwrap();
    let out = ctvisma()
        .arg("check-rules")
        .arg("--rules")
        .arg(&unparsable)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("not usable"), "{}", text(&out.stdout));
}

/// Runs a command off the async test's threads (the fakes serve on them).
async fn output(mut c: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_rules_against_the_fake_visma_and_commercetools() {
    // The fake finds the specs from its own build location; name them, in case it was built
    // elsewhere (a shared target directory).
    let specs = repo().join("../shared/specs/visma");
    if std::env::var_os("CTVISMA_VISMA_SPECS").is_none() && specs.is_dir() {
        std::env::set_var("CTVISMA_VISMA_SPECS", specs);
    }
    let visma = ctvisma_fake_visma::FakeVisma::start().await;
    let ct = ctvisma_fake_commercetools::FakeCommercetools::start().await;
    ct.insert(
        "tax-categories",
        serde_json::json!({"id": "tc-standard", "key": "standard", "name": "Standard", "rates": [
            {"name": "SE 25", "amount": 0.25, "country": "SE", "includedInPrice": true},
            {"name": "DE 19", "amount": 0.19, "country": "DE", "includedInPrice": true},
            {"name": "SE 8", "amount": 0.08, "country": "SE", "includedInPrice": true}]}),
    );
    ct.insert(
        "shipping-methods",
        serde_json::json!({"id": "sm-budbee", "key": "budbee", "name": "Budbee"}),
    );
    ct.insert(
        "shipping-methods",
        serde_json::json!({"id": "sm-express", "key": "express", "name": "Express"}),
    );
    let out = tempfile::tempdir().unwrap();
    let env = |c: &mut Command| {
        let v = visma.config();
        c.env("EACCOUNTING_API_URL", visma.base_url())
            .env("EACCOUNTING_IDENTITY_URL", visma.base_url())
            .env("EACCOUNTING_CLIENT_ID", &v.client_id)
            .env("EACCOUNTING_CLIENT_SECRET", &v.client_secret)
            .env("EACCOUNTING_REFRESH_TOKEN", &v.initial_refresh_token)
            .env("VISMANET_API_URL", visma.vismanet_base_url())
            .env("VISMANET_TOKEN_URL", visma.vismanet_token_url())
            .env("VISMANET_CLIENT_ID", &v.vismanet_client_id)
            .env("VISMANET_CLIENT_SECRET", &v.vismanet_client_secret)
            .env("VISMANET_TENANT_ID", &v.vismanet_tenant_id)
            .arg("--out")
            .arg(out.path());
    };

    // The Swedish entity against the (Swedish) fake company: complete.
    let dir = tempfile::tempdir().unwrap();
    let se_on_ea = rules_copy(dir.path(), |r| {
        r.replacen("target = \"sie\"", "target = \"eaccounting\"", 1).replacen(
            "target = \"eaccounting\"\n\n[entities.NO.accounts]",
            "target = \"sie\"\n\n[entities.NO.accounts]",
            1,
        )
    });
    let mut c = ctvisma();
    c.args(["check-rules", "--against", "visma", "--rules"]).arg(&se_on_ea);
    env(&mut c);
    let ok = output(c).await;
    let stdout = text(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{stdout}{}", text(&ok.stderr));
    assert!(
        stdout.contains("entity SE (Nordic Goods AB, target eaccounting): ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Visma.net: accounts and VAT codes not checked"),
        "{stdout}"
    );
    assert!(stdout.contains("commercetools: not checked"), "{stdout}");

    // The shipped rules: the Norwegian accounts are not in the Swedish company; and the
    // project has a rate and a shipping method without rules.
    let mut c = ctvisma();
    c.args(["check-rules", "--against", "visma", "--ct-url"])
        .arg(ct.api_url())
        .env("CTP_PROJECT_KEY", ct.project_key())
        .env("CTP_CLIENT_ID", &ct.config().client_id)
        .env("CTP_CLIENT_SECRET", &ct.config().client_secret);
    env(&mut c);
    let bad = output(c).await;
    let stdout = text(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}{}", text(&bad.stderr));
    let no = stdout
        .lines()
        .skip_while(|l| !l.starts_with("entity NO"))
        .take_while(|l| !l.starts_with("entity SE"))
        .collect::<Vec<_>>();
    assert!(no[0].contains("missing"), "{stdout}");
    assert!(no.iter().any(|l| l.contains("eAccounting:")), "{stdout}");
    assert!(stdout.contains("1 tax categories, 2 shipping methods"), "{stdout}");
    assert!(stdout.contains("SE 8 % has no VAT rule"), "{stdout}");
    assert!(!stdout.contains("SE 25 %") && !stdout.contains("DE 19 %"), "{stdout}");
    assert!(stdout.contains("shipping method \"Express\""), "{stdout}");
    assert!(!stdout.contains("shipping method \"Budbee\""), "{stdout}");
}

#[test]
fn parked_messages_post_exactly_once_after_the_rules_are_fixed() {
    let work = tempfile::tempdir().unwrap();
    let broken = rules_copy(work.path(), without_jp_10);
    let out = work.path().join("out");

    // 1. A run with a mapping missing parks the Japanese order with its reason.
    let first = ctvisma()
        .args(["run", "--target", "sie", "--rules"])
        .arg(&broken)
        .arg("--out")
        .arg(&out)
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(1));
    let stdout = text(&first.stdout);
    assert_eq!(line_value(&stdout, "parked"), 1, "{stdout}");
    assert!(stdout.contains("no VAT code for tax country JP at 10 %"), "{stdout}");
    let posted_first = journal_keys(&out);

    // The day's reconciliation shows it, by order number.
    let rec = ctvisma()
        .args(["reconcile", "--date", "2026-11-24", "--out"])
        .arg(&out)
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(rec.status.code(), Some(1), "{}", text(&rec.stderr));
    let md = std::fs::read_to_string(out.join("reconcile-2026-11-24.md")).unwrap();
    assert!(
        md.contains("| CV-JP-JPY-ZERO-DECIMALS |") && md.contains("| parked |"),
        "{md}"
    );
    let html = std::fs::read_to_string(out.join("reconcile-2026-11-24.html")).unwrap();
    assert!(html.contains("CV-JP-JPY-ZERO-DECIMALS") && html.starts_with("<!DOCTYPE html>"));

    // 2. With the shipped (fixed) rules, replay posts it, once.
    let replay = || {
        ctvisma()
            .args(["replay", "--target", "sie", "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let second = replay();
    let stdout = text(&second.stdout);
    assert_eq!(second.status.code(), Some(0), "{stdout}{}", text(&second.stderr));
    assert!(stdout.contains("replaying 1 message(s)"), "{stdout}");
    assert_eq!(line_value(&stdout, "postings made"), 1, "{stdout}");
    assert_eq!(line_value(&stdout, "still parked"), 0, "{stdout}");
    assert!(stdout.contains("SIE JP: 1 posting(s) →"), "{stdout}");
    let keys = journal_keys(&out);
    assert_eq!(keys.len(), posted_first.len() + 1);
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "no posting twice");

    // 3. Nothing is left: replay and run again post nothing.
    let third = replay();
    assert_eq!(third.status.code(), Some(0));
    assert!(
        text(&third.stdout).contains("nothing to replay"),
        "{}",
        text(&third.stdout)
    );
    let again = ctvisma()
        .args(["run", "--target", "sie", "--out"])
        .arg(&out)
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(line_value(&text(&again.stdout), "postings made"), 0);
    assert_eq!(journal_keys(&out).len(), keys.len());

    // 4. Now the day reconciles; status shows the order's history, parked then posted.
    let rec = ctvisma()
        .args(["reconcile", "--date", "2026-11-24", "--entity", "JP", "--out"])
        .arg(&out)
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(rec.status.code(), Some(0), "{}", text(&rec.stdout));
    assert!(text(&rec.stdout).contains("everything reconciles"));
    let status = ctvisma()
        .args(["status", "CV-JP-JPY-ZERO-DECIMALS", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let outcomes: Vec<&str> = report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.first(), Some(&"parked"), "{outcomes:?}");
    assert!(outcomes.contains(&"posted"), "{outcomes:?}");
    assert_eq!(report["postings"].as_array().unwrap().len(), 1);
}

#[test]
fn every_day_of_a_clean_run_reconciles() {
    let out = tempfile::tempdir().unwrap();
    let run = ctvisma()
        .args(["run", "--target", "sie", "--out"])
        .arg(out.path())
        .arg("events")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let days: std::collections::BTreeSet<String> = std::fs::read_to_string(out.path().join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["date"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(days.len() > 5);
    for day in &days {
        let rec = ctvisma()
            .args(["reconcile", "--date", day, "--out"])
            .arg(out.path())
            .arg("events")
            .output()
            .unwrap();
        assert_eq!(rec.status.code(), Some(0), "{day}:\n{}", text(&rec.stdout));
    }
    let bad_date = ctvisma()
        .args(["reconcile", "--date", "23.11.2026", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(bad_date.status.code(), Some(2));
}

/// AWS variables that point the SDK at moto.
fn aws_env(c: &mut Command, moto: &MotoServer) {
    c.env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_the_dynamodb_ledger() {
    let moto = MotoServer::start().await;
    let store = moto.store();
    let now = 1_796_000_000_000;
    assert_eq!(
        store
            .begin("invoice:o-1", "h1", "req-1", now + 60_000, now)
            .await
            .unwrap(),
        Begin::Acquired
    );
    let entry = LedgerEntry {
        key: "invoice:o-1".into(),
        event: "invoice".into(),
        entity: "SE".into(),
        currency: "SEK".into(),
        date: "2026-11-23".into(),
        external_ref: "CV-1001".into(),
        order_id: Some("o-1".into()),
        payment_id: None,
        payload_hash: "h1".into(),
        document: Document {
            target: "eaccounting".into(),
            id: "v-77".into(),
            number: Some("77".into()),
            total: "1250.00".into(),
        },
        completed_at: now + 5,
        posting: "{}".into(),
    };
    store.complete("req-1", &entry).await.unwrap();
    store
        .record_message(&MessageRecord {
            resource_id: "o-1".into(),
            order_number: Some("CV-1001".into()),
            kind: "OrderCreated".into(),
            message_id: "sqs-1".into(),
            sequence_number: Some(1),
            at: now,
            outcome: "posted".into(),
            keys: vec!["invoice:o-1".into()],
            reason: None,
        })
        .await
        .unwrap();
    let empty = tempfile::tempdir().unwrap();
    for explicit in [true, false] {
        let mut c = ctvisma();
        c.args(["status", "CV-1001", "--out"]).arg(empty.path());
        if explicit {
            c.args(["--ledger", "dynamodb"]);
        }
        aws_env(&mut c, &moto);
        c.env("IDEMPOTENCY_TABLE", IDEMPOTENCY_TABLE)
            .env("LEDGER_TABLE", LEDGER_TABLE);
        let out = output(c).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ledger"], format!("dynamodb {LEDGER_TABLE}"));
        assert_eq!(report["postings"][0]["document_id"], "v-77");
        assert_eq!(report["messages"][0]["outcome"], "posted");
    }
    // Without the variables, auto means the local ledger (none here: a setup error).
    let mut c = ctvisma();
    c.args(["status", "CV-1001", "--out"]).arg(empty.path());
    let out = output(c).await;
    assert_eq!(out.status.code(), Some(2));
}

async fn depth(moto: &MotoServer, url: &str) -> usize {
    let out = moto
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    out.attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<usize>().ok()).sum())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_moves_parked_messages_back_to_their_source_queue() {
    let moto = MotoServer::start().await;
    let orders = moto
        .clients
        .sqs
        .create_queue()
        .queue_name("ctvisma-orders")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queues = moto.queues();
    for i in 0..3 {
        let why = Park {
            class: ErrorClass::Permanent,
            code: "validation".into(),
            reason: format!("no VAT code for tax country JP at 10 % ({i})"),
            attempts: 1,
            source_queue: format!("arn:aws:sqs:{REGION}:123456789012:ctvisma-orders"),
        };
        queues.park(&format!("{{\"n\":{i}}}"), &why).await.unwrap();
    }
    // One without a source: only moved with --to.
    let orphan = Park {
        class: ErrorClass::Permanent,
        code: "validation".into(),
        reason: "orphan".into(),
        attempts: 5,
        source_queue: String::new(),
    };
    queues.park("{\"n\":9}", &orphan).await.unwrap();

    let redrive = |args: Vec<String>| {
        let mut c = ctvisma();
        c.arg("redrive").args(args);
        aws_env(&mut c, &moto);
        c
    };
    let from = vec!["--from".to_string(), moto.parking_url.clone()];
    let dry = output(redrive([from.clone(), vec!["--dry-run".into()]].concat())).await;
    let stdout = text(&dry.stdout);
    assert!(
        stdout.contains("dry run: 3 message(s) would be moved, 1 could not"),
        "{stdout}{}",
        text(&dry.stderr)
    );
    assert_eq!(dry.status.code(), Some(1));
    assert!(text(&dry.stderr).contains("no source_queue attribute"));
    assert_eq!(depth(&moto, &orders).await, 0, "a dry run sends nothing");
    assert_eq!(depth(&moto, &moto.parking_url).await, 4, "and deletes nothing");

    let moved = output(redrive(from.clone())).await;
    let stdout = text(&moved.stdout);
    assert!(
        stdout.contains("3 message(s) moved, 1 left in the parking queue"),
        "{stdout}{}",
        text(&moved.stderr)
    );
    assert_eq!(depth(&moto, &orders).await, 3);
    // The orphan is visible again at once, for the next redrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let to = output(redrive([from.clone(), vec!["--to".into(), orders.clone()]].concat())).await;
    assert_eq!(to.status.code(), Some(0), "{}{}", text(&to.stdout), text(&to.stderr));
    assert!(text(&to.stdout).contains("1 message(s) moved, 0 left"));
    assert_eq!(depth(&moto, &moto.parking_url).await, 0);

    let messages = moto.take_all(&orders).await;
    let mut bodies: Vec<String> = messages.iter().filter_map(|m| m.body.clone()).collect();
    bodies.sort();
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    assert_eq!(bodies[0], "{\"n\":0}");
    assert!(
        messages.iter().all(|m| m
            .message_attributes
            .as_ref()
            .is_none_or(|a| a.get("error_code").is_none())),
        "the parking attributes stay behind"
    );
}
