//! The scheduled `export-sie` function: on every invocation, each SIE entity's next settled range
//! of ledger postings as one SIE file in the bucket (see `ctvisma_handler::sie_export` for why
//! each posting lands in exactly one object).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ctvisma_core::{Classify, Rules};
use ctvisma_handler::sie_export::{export_entity, ExportReport, ObjectSink};
use ctvisma_ledger::{IdempotencyStore, Millis};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

use crate::metrics::Counts;

/// Built once per cold start ([`crate::setup::exporter`]).
pub struct Exporter {
    pub store: Arc<dyn IdempotencyStore>,
    pub sink: Arc<dyn ObjectSink>,
    pub rules: Rules,
    /// The entities whose rules target is SIE.
    pub entities: Vec<String>,
    pub settle_ms: Millis,
    pub function: String,
}

impl Exporter {
    /// One scheduled invocation (the EventBridge event itself is not read).
    pub async fn run(&self, _event: LambdaEvent<Value>) -> Result<Value, lambda_runtime::Error> {
        let now = now_ms();
        let (summary, counts, failed) = self.export_all(now).await;
        tracing::info!(summary = %summary, "sie export");
        println!("{}", counts.emf(&self.function, now));
        if failed > 0 {
            // Failing the invocation is what the function's Errors alarm watches; the entities
            // that failed are redone (same range, same object) on the next run.
            return Err(format!("SIE export failed for {failed} entities: {summary}").into());
        }
        Ok(summary)
    }

    /// Every entity in turn (one failing does not stop the others): the summary, the metrics,
    /// and how many entities failed.
    pub async fn export_all(&self, now: Millis) -> (Value, Counts, usize) {
        let mut reports: Vec<ExportReport> = Vec::new();
        let mut errors = Vec::new();
        for entity in &self.entities {
            match export_entity(
                self.store.as_ref(),
                self.sink.as_ref(),
                &self.rules,
                entity,
                now,
                self.settle_ms,
            )
            .await
            {
                Ok(report) => reports.push(report),
                Err(e) => {
                    tracing::error!(entity = %entity, class = ?e.class(), code = %e.code(), reason = %e.reason(), "SIE export failed");
                    errors.push(json!({"entity": entity, "class": format!("{:?}", e.class()), "code": e.code(), "reason": e.reason()}));
                }
            }
        }
        let exported: usize = reports.iter().map(|r| r.exported).sum();
        let refused: usize = reports.iter().map(|r| r.refused.len()).sum();
        let mut counts = Counts::default();
        counts.add("SieExported", exported as u64);
        counts.add("SieRefused", refused as u64);
        counts.add("SieExportFailed", errors.len() as u64);
        let failed = errors.len();
        let summary = json!({
            "function": self.function,
            "exported": exported,
            "refused": refused,
            "entities": reports,
            "errors": errors,
        });
        (summary, counts, failed)
    }
}

fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::time::Duration;

    use ctvisma_handler::{Handler, LedgerOnly, MessageContext, NoResources};
    use ctvisma_ledger::memory::MemoryStore;
    use ctvisma_visma::{Deadline, LedgerTarget};

    use super::*;

    #[derive(Default)]
    struct Sink(Mutex<Vec<String>>);

    #[async_trait::async_trait]
    impl ObjectSink for Sink {
        async fn put(&self, key: &str, _: Vec<u8>) -> Result<(), String> {
            self.0.lock().unwrap().push(key.to_string());
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_sie_entity_is_exported_and_counted_and_a_failure_does_not_stop_the_others() {
        let rules = Rules::from_toml(crate::setup::RULES_TOML).unwrap();
        let store = Arc::new(MemoryStore::new());
        let handler = Handler {
            rules: rules.clone(),
            rates: None,
            targets: BTreeMap::from([("SE".to_string(), Arc::new(LedgerOnly) as Arc<dyn LedgerTarget>)]),
            store: store.clone(),
            resources: Arc::new(NoResources),
        };
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/order-created-se-sek-mixed-rates.json"
        );
        let event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let t = 1_764_720_000_000;
        let ctx = MessageContext {
            message_id: "m".into(),
            request_id: "r".into(),
            deadline_ms: t + 60_000,
            deadline: Deadline::in_(Duration::from_secs(20)),
            now_ms: t,
        };
        let out = handler
            .handle(event["Records"][0]["body"].as_str().unwrap(), &ctx)
            .await;
        assert_eq!(out.label(), "posted", "{out:?}");
        let posted = store.ledger_between(t, t + 1).await.unwrap().len();

        let mut entities = ctvisma_handler::sie_export::sie_entities(&rules);
        assert!(entities.contains(&"SE".to_string()), "{entities:?}");
        entities.push("XX".into()); // not in the rules: fails alone
        let sink = Arc::new(Sink::default());
        let exporter = Exporter {
            store: store.clone(),
            sink: sink.clone(),
            rules,
            entities,
            settle_ms: 300_000,
            function: "export-sie".into(),
        };
        let (summary, counts, failed) = exporter.export_all(t + 3_600_000).await;
        assert_eq!(failed, 1, "{summary}");
        assert_eq!(summary["exported"], posted);
        assert_eq!(summary["errors"][0]["entity"], "XX");
        assert_eq!(counts.0["SieExported"], posted as u64);
        assert_eq!(counts.emf("export-sie", t)["SieExported"], posted);
        assert_eq!(sink.0.lock().unwrap().len(), 1);

        let (summary, counts, _) = exporter.export_all(t + 7_200_000).await;
        assert_eq!(counts.0["SieExported"], 0, "{summary}");
        assert_eq!(sink.0.lock().unwrap().len(), 1);
    }
}
