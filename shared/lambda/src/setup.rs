//! Cold start: everything a function needs, built once and shared by every batch. Configuration
//! comes from the environment the SAM template sets; the posting rules and rate table are the
//! repository's `config/` files, compiled in (edit them and redeploy). Any problem here fails the
//! cold start loudly: SQS keeps the messages and parks them after five receives.

use std::collections::BTreeMap;
use std::sync::Arc;

use ctvisma_aws::config::AwsClients;
use ctvisma_aws::dynamo::DynamoStore;
use ctvisma_aws::queues::Queues;
use ctvisma_aws::secrets::{secret_json, SecretsTokenStore};
use ctvisma_core::rates::RateTable;
use ctvisma_core::rules::Target;
use ctvisma_core::Rules;
use ctvisma_handler::{Handler, LedgerOnly, NoResources};
use ctvisma_visma::eaccounting::{Eaccounting, EaccountingConfig};
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::Secret;
use ctvisma_visma::vismanet::{Vismanet, VismanetConfig};
use ctvisma_visma::{Deadline, LedgerTarget};
use serde_json::Value;

use crate::driver::Driver;

pub const RULES_TOML: &str = include_str!("../../../config/rules.toml");
pub const RATES_CSV: &str = include_str!("../../../config/ecb-rates-sample.csv");

/// JSON logs for CloudWatch: level from `RUST_LOG` (default info), no colours, span fields kept.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

fn env(name: &str) -> Result<String, lambda_runtime::Error> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("environment variable {name} is not set").into())
}

/// The driver of an SQS-triggered function.
pub async fn driver(function: &str) -> Result<Driver, lambda_runtime::Error> {
    let clients = AwsClients::from_env().await;
    let rules = Rules::from_toml(RULES_TOML)?;
    let rates = RateTable::from_ecb_csv(RATES_CSV)?;
    let store = DynamoStore::from_env(clients.dynamodb.clone())?;
    let queues = Queues::new(clients.sqs.clone(), env("RETRY_QUEUE_URL")?, env("PARKING_QUEUE_URL")?);
    let targets = targets(&rules, &clients).await?;
    let handler = Handler {
        rules,
        rates: Some(rates),
        targets,
        store: Arc::new(store),
        resources: Arc::new(NoResources),
    };
    Ok(Driver {
        handler: Arc::new(handler),
        mover: Arc::new(queues),
        max_attempts: std::env::var("MAX_ATTEMPTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(8),
        function: function.to_string(),
        base_delay_secs: crate::driver::BASE_DELAY_SECS,
    })
}

/// One target per entity, by the rules' `target`: the SIE route needs no credentials; the API
/// routes read theirs from the Visma secret (`VISMA_SECRET_ARN`), whose JSON holds
/// `client_id`, `client_secret`, `tenant_id` and the refresh token per entity
/// (`refresh_token_<ENTITY>`, else `refresh_token`). eAccounting companies are checked against
/// the rules now, at cold start.
async fn targets(
    rules: &Rules,
    clients: &AwsClients,
) -> Result<BTreeMap<String, Arc<dyn LedgerTarget>>, lambda_runtime::Error> {
    let mut out: BTreeMap<String, Arc<dyn LedgerTarget>> = BTreeMap::new();
    let needs_secret = rules.entities.values().any(|e| e.target != Target::Sie);
    let secret = if needs_secret {
        let arn = env("VISMA_SECRET_ARN")?;
        Some((arn.clone(), secret_json(&clients.secrets, &arn).await?))
    } else {
        None
    };
    let http = Http::new(HttpSettings::default())?;
    let field = |s: &Value, name: &str| s.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    for (id, entity) in &rules.entities {
        let target: Arc<dyn LedgerTarget> = match (entity.target, &secret) {
            (Target::Sie, _) => Arc::new(LedgerOnly),
            (Target::Eaccounting, Some((arn, s))) => {
                let token_field = if s.get(format!("refresh_token_{id}")).is_some() {
                    format!("refresh_token_{id}")
                } else {
                    "refresh_token".into()
                };
                let config = EaccountingConfig {
                    api_url: s
                        .get("api_url")
                        .and_then(Value::as_str)
                        .unwrap_or("https://eaccountingapi.vismaonline.com")
                        .to_string(),
                    identity_url: s
                        .get("identity_url")
                        .and_then(Value::as_str)
                        .unwrap_or("https://identity.vismaonline.com")
                        .to_string(),
                    client_id: field(s, "client_id"),
                    client_secret: Secret::new(field(s, "client_secret")),
                    refresh_token: None,
                };
                let store = SecretsTokenStore::new(clients.secrets.clone(), arn.clone()).with_field(token_field);
                Arc::new(
                    Eaccounting::connect(http.clone(), &config, Arc::new(store), id, entity, Deadline::none()).await?,
                )
            }
            (Target::Vismanet, Some((_, s))) => {
                let config = VismanetConfig {
                    api_url: s
                        .get("vismanet_api_url")
                        .and_then(Value::as_str)
                        .unwrap_or("https://api.finance.visma.net")
                        .to_string(),
                    token_url: s
                        .get("vismanet_token_url")
                        .and_then(Value::as_str)
                        .unwrap_or("https://connect.visma.com/connect/token")
                        .to_string(),
                    client_id: field(s, "client_id"),
                    client_secret: Secret::new(field(s, "client_secret")),
                    tenant_id: field(s, "tenant_id"),
                    release: true,
                };
                Arc::new(Vismanet::new(http.clone(), &config))
            }
            (_, None) => return Err(format!("entity {id} needs the Visma secret").into()),
        };
        out.insert(id.clone(), target);
    }
    Ok(out)
}
