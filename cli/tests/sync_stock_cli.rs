//! `ctvisma sync-stock` against the fake commercetools (recorded fixtures loaded) and the fake
//! eAccounting, configured only through CTP_* and EACCOUNTING_*, as CONTRACT.md says.

#[path = "../../shared/stock/tests/support/mod.rs"]
mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::{json, Value};
use support::*;

fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary (blocking, off the runtime that serves the fakes): exit code and stdout JSON.
async fn sync_stock(env: &Env, out: &Path, rules: &Path, extra: &[String]) -> (i32, Value) {
    let ct = ct_config(&env.ct);
    let ea = ea_config(&env.visma);
    let mut cmd = Command::cargo_bin("ctvisma").unwrap();
    cmd.arg("sync-stock")
        .arg("--rules")
        .arg(rules)
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("CTP_PROJECT_KEY", &ct.project_key)
        .env("CTP_CLIENT_ID", &ct.client_id)
        .env("CTP_CLIENT_SECRET", ct.client_secret.expose())
        .env("CTP_AUTH_URL", &ct.auth_url)
        .env("CTP_API_URL", &ct.api_url)
        .env("EACCOUNTING_API_URL", &ea.api_url)
        .env("EACCOUNTING_IDENTITY_URL", &ea.identity_url)
        .env("EACCOUNTING_CLIENT_ID", &ea.client_id)
        .env("EACCOUNTING_CLIENT_SECRET", ea.client_secret.expose())
        .env("EACCOUNTING_REFRESH_TOKEN", ea.refresh_token.as_ref().unwrap().expose());
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: stdout {stdout:?}, stderr {stderr:?}"));
    (output.status.code().unwrap_or(-1), value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visma_levels_onto_the_channel_then_nothing_then_only_the_change() {
    let env = env(4).await;
    seed_articles(&env.visma, vec![("A".into(), 5.0), ("B".into(), 3.0)]).await;
    env.ct.insert("inventory", fixture_entry_on_channel("B", 1));
    let dir = tempfile::tempdir().unwrap();
    let rules = Path::new(&repo("config/rules.toml")).to_path_buf();

    let (code, first) = sync_stock(&env, dir.path(), &rules, &[]).await;
    assert_eq!(code, 0, "{first}");
    let se = &first["entities"][0];
    assert_eq!(
        (se["entity"].as_str(), se["created"].as_u64(), se["updated"].as_u64()),
        (Some("SE"), Some(1), Some(1)),
        "{first}"
    );
    assert_eq!(ct_entry(&env.ct, "A").unwrap()["quantityOnStock"], 5);
    assert_eq!(ct_entry(&env.ct, "B").unwrap()["quantityOnStock"], 3);

    env.ct.clear_requests();
    let (code, second) = sync_stock(&env, dir.path(), &rules, &[]).await;
    assert_eq!(code, 0);
    assert_eq!(second["entities"][0]["unchanged"], 2, "{second}");
    assert!(ct_writes(&env.ct).is_empty());

    set_visma_balance(&env.visma, "B", 0.0).await;
    env.ct.clear_requests();
    let (_, third) = sync_stock(&env, dir.path(), &rules, &["--entity".into(), "SE".into()]).await;
    assert_eq!(third["entities"][0]["updated"], 1, "{third}");
    assert_eq!(ct_writes(&env.ct).len(), 1);
    assert_eq!(ct_entry(&env.ct, "B").unwrap()["quantityOnStock"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commercetools_source_messages_adjust_visma_once() {
    let env = env(2).await;
    seed_articles(&env.visma, vec![("A".into(), 2.0)]).await;
    let entry = fixture_entry_on_channel("A", 7);
    let entry_id = entry["id"].as_str().unwrap().to_string();
    env.ct.insert("inventory", entry);
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("config/rules.toml")).unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        text.replacen("source = \"visma\"", "source = \"commercetools\"", 1),
    )
    .unwrap();
    // An SQS event holding the message (no InventoryEntry message is among the fixtures).
    let message = json!({"notificationType": "Message", "id": "m-1", "version": 1, "sequenceNumber": 2,
        "resource": {"typeId": "inventory-entry", "id": entry_id}, "resourceVersion": 2,
        "type": "InventoryEntryQuantitySet", "oldQuantityOnStock": 2, "newQuantityOnStock": 7,
        "oldAvailableQuantity": 2, "newAvailableQuantity": 7,
        "createdAt": "2026-01-10T10:00:00.000Z", "lastModifiedAt": "2026-01-10T10:00:00.000Z"});
    let event = json!({"Records": [{"messageId": "q-1", "body": message.to_string(), "eventSource": "aws:sqs"}]});
    let file = dir.path().join("inventory-event.json");
    std::fs::write(&file, event.to_string()).unwrap();
    let args = [file.display().to_string()];

    let (code, first) = sync_stock(&env, &dir.path().join("out"), &rules, &args).await;
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["messages"][0]["outcome"], "applied", "{first}");
    assert_eq!(first["messages"][0]["entity"], "SE");
    assert_eq!(visma_article(&env.visma, "A").unwrap()["StockBalance"], 7.0);
    let writes = visma_writes(&env.visma).len();

    let (code, replay) = sync_stock(&env, &dir.path().join("out"), &rules, &args).await;
    assert_eq!(code, 0);
    assert_eq!(replay["messages"][0]["outcome"], "stale", "{replay}");
    assert_eq!(visma_writes(&env.visma).len(), writes, "a replay writes nothing");
}
