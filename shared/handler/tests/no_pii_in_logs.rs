//! No personal data and no secret in any log line: every shipped event (orders with names,
//! e-mails, street addresses and phone numbers) goes through the handler and an eAccounting
//! connector (OAuth with rotating tokens) while every log line of every crate, at TRACE, is
//! captured as JSON; none may contain any of those values.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ctvisma_core::Rules;
use ctvisma_fake_visma::{FakeVisma, Fault};
use ctvisma_handler::{Handler, LedgerOnly, MessageContext, RecordedResources};
use ctvisma_ledger::memory::MemoryStore;
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::{Deadline, LedgerTarget};
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every value of a personal field in the events' messages.
fn personal_values(bodies: &[String]) -> Vec<String> {
    const FIELDS: [&str; 9] = [
        "customerEmail",
        "email",
        "firstName",
        "lastName",
        "streetName",
        "phone",
        "mobile",
        "fax",
        "additionalAddressInfo",
    ];
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, x) in map {
                    if let (true, Some(s)) = (FIELDS.contains(&k.as_str()), x.as_str()) {
                        if s.len() >= 3 {
                            out.push(s.to_string());
                        }
                    }
                    walk(x, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for b in bodies {
        walk(&serde_json::from_str(b).unwrap(), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn a_full_run_logs_no_personal_data_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let fake = FakeVisma::start().await;
    let rules = Rules::from_toml(&std::fs::read_to_string(repo("config/rules.toml")).unwrap()).unwrap();
    let http = Http::new(HttpSettings {
        base_backoff: Duration::from_millis(10),
        ..HttpSettings::default()
    })
    .unwrap();
    let se = fake
        .connect_eaccounting(http, "SE", &rules.entities["SE"])
        .await
        .unwrap();
    let mut targets: BTreeMap<String, Arc<dyn LedgerTarget>> = rules
        .entities
        .keys()
        .map(|id| (id.clone(), Arc::new(LedgerOnly) as Arc<dyn LedgerTarget>))
        .collect();
    targets.insert("SE".into(), Arc::new(se));
    let handler = Handler {
        rules,
        rates: None,
        targets,
        store: Arc::new(MemoryStore::new()),
        resources: Arc::new(RecordedResources::from_dirs(&[
            &repo("tests/data/orders"),
            &repo("tests/data/payments"),
        ])),
    };
    // Token expiry, a rate limit and a failure on the way, so those paths log too.
    fake.inject_on("/v2/vouchers", Fault::ExpireToken, 1);
    fake.inject_on("/v2/vouchers", Fault::RateLimited { retry_after_secs: 1 }, 1);

    let mut bodies = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(repo("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in &names {
        let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        bodies.push(event["Records"][0]["body"].as_str().unwrap().to_string());
    }
    for (i, body) in bodies.iter().enumerate() {
        let ctx = MessageContext {
            message_id: format!("m-{i}"),
            request_id: format!("r-{i}"),
            deadline_ms: 60_000 + i as i64,
            deadline: Deadline::in_(Duration::from_secs(20)),
            now_ms: i as i64,
        };
        handler.handle(body, &ctx).await;
    }
    handler
        .handle("{\"order\": {\"customerEmail\": \"leak@example.com\"", &ctx_bad())
        .await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.lines().count() > 20, "the run logged: {}", logs.lines().count());
    assert!(
        logs.contains("idempotency_key") && logs.contains("access token refreshed"),
        "business and auth events are logged"
    );
    let c = fake.config();
    let mut secrets = vec![c.client_secret.clone(), c.initial_refresh_token.clone()];
    secrets.extend(fake.current_refresh_token());
    let personal = personal_values(&bodies);
    assert!(personal.len() > 20, "the events carry personal data: {personal:?}");
    for needle in personal
        .iter()
        .chain(&secrets)
        .chain(std::iter::once(&"leak@example.com".to_string()))
    {
        assert!(!logs.contains(needle.as_str()), "{needle:?} appears in the logs");
    }
    assert!(
        !logs.to_lowercase().contains("bearer "),
        "an authorization header was logged"
    );
}

fn ctx_bad() -> MessageContext {
    MessageContext {
        message_id: "bad".into(),
        request_id: "bad".into(),
        deadline_ms: 60_000,
        deadline: Deadline::in_(Duration::from_secs(5)),
        now_ms: 0,
    }
}
