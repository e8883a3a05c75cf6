//! Cold start: everything a function needs, built once and shared by every batch. Configuration
//! comes from the environment the SAM template sets; the posting rules and rate table are the
//! repository's `config/` files, compiled in (edit them and redeploy). Any problem here fails the
//! cold start loudly: SQS keeps the messages and parks them after five receives.

use std::collections::BTreeMap;
use std::sync::Arc;

use ctvisma_aws::config::AwsClients;
use ctvisma_aws::dynamo::DynamoStore;
use ctvisma_aws::queues::Queues;
use ctvisma_aws::s3::{S3Sink, SIE_BUCKET_ENV};
use ctvisma_aws::secrets::{secret_json, SecretsTokenStore};
use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::rates::RateTable;
use ctvisma_core::rules::Target;
use ctvisma_core::Rules;
use ctvisma_handler::sie_export::{sie_entities, DEFAULT_SETTLE_MS};
use ctvisma_handler::{Handler, LedgerOnly, NoResources, Resources};
use ctvisma_visma::eaccounting::{Eaccounting, EaccountingConfig};
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::Secret;
use ctvisma_visma::vismanet::{Vismanet, VismanetConfig};
use ctvisma_visma::{Deadline, LedgerTarget};
use serde_json::Value;

use crate::driver::Driver;
use crate::export::Exporter;
use crate::stock::StockFunction;

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
        resources: resources(&clients).await?,
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

/// The scheduled SIE export: the store, the bucket (`SIE_BUCKET`), the compiled-in rules and
/// their SIE entities. `SIE_SETTLE_MS` overrides how long a range waits after its end (default
/// 5 minutes). Needs no Visma secret and no queue.
pub async fn exporter(function: &str) -> Result<Exporter, lambda_runtime::Error> {
    let clients = AwsClients::from_env().await;
    let rules = Rules::from_toml(RULES_TOML)?;
    let store = DynamoStore::from_env(clients.dynamodb.clone())?;
    let sink = S3Sink::new(clients.s3.clone(), env(SIE_BUCKET_ENV)?);
    let settle_ms = match std::env::var("SIE_SETTLE_MS") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("SIE_SETTLE_MS is not a number of milliseconds: {v:?}"))?,
        _ => DEFAULT_SETTLE_MS,
    };
    Ok(Exporter {
        entities: sie_entities(&rules),
        store: Arc::new(store),
        sink: Arc::new(sink),
        rules,
        settle_ms,
        function: function.to_string(),
    })
}

/// The commercetools project, from the secret `CTP_SECRET_ARN` names (`project_key`,
/// `client_id`, `client_secret`, optional `auth_url`, `api_url`, `scopes`): payments, orders of
/// messages without payload and the order of a payment are read there. Without the secret,
/// messages must carry their resources (a payment message then waits in the retry queue).
async fn resources(clients: &AwsClients) -> Result<Arc<dyn Resources>, lambda_runtime::Error> {
    let Ok(arn) = env("CTP_SECRET_ARN") else {
        tracing::warn!("CTP_SECRET_ARN is not set: resources are not fetched from commercetools");
        return Ok(Arc::new(NoResources));
    };
    let config = ct_config(clients, &arn).await?;
    Ok(Arc::new(CtClient::new(config, Http::new(HttpSettings::default())?)))
}

/// The commercetools API client in the secret `arn`.
async fn ct_config(clients: &AwsClients, arn: &str) -> Result<CtConfig, lambda_runtime::Error> {
    let s = secret_json(&clients.secrets, arn).await?;
    let field = |name: &str| s.get(name).and_then(Value::as_str).map(str::to_string);
    let (Some(key), Some(id), Some(secret)) = (field("project_key"), field("client_id"), field("client_secret")) else {
        return Err("the commercetools secret needs project_key, client_id and client_secret".into());
    };
    let mut config = CtConfig::new(key, id, Secret::new(secret));
    for (name, slot) in [
        ("auth_url", &mut config.auth_url),
        ("api_url", &mut config.api_url),
        ("scopes", &mut config.scopes),
    ] {
        if let Some(v) = field(name) {
            *slot = v;
        }
    }
    Ok(config)
}

/// An entity's eAccounting client from the Visma secret's JSON, and the secret field its refresh
/// token rotates in (`refresh_token_<ENTITY>` when present, else the shared `refresh_token`).
fn eaccounting_config(secret: &Value, entity: &str) -> (EaccountingConfig, String) {
    let text = |name: &str, default: &str| secret.get(name).and_then(Value::as_str).unwrap_or(default).to_string();
    let token_field = if secret.get(format!("refresh_token_{entity}")).is_some() {
        format!("refresh_token_{entity}")
    } else {
        "refresh_token".into()
    };
    let config = EaccountingConfig {
        api_url: text("api_url", "https://eaccountingapi.vismaonline.com"),
        identity_url: text("identity_url", "https://identity.vismaonline.com"),
        client_id: text("client_id", ""),
        client_secret: Secret::new(text("client_secret", "")),
        refresh_token: None,
    };
    (config, token_field)
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
                let (config, token_field) = eaccounting_config(s, id);
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
                Arc::new(Vismanet::new(http.clone(), &config).with_documents(entity.documents))
            }
            (_, None) => return Err(format!("entity {id} needs the Visma secret").into()),
        };
        out.insert(id.clone(), target);
    }
    Ok(out)
}

/// The scheduled stock function: the commercetools project (`CTP_SECRET_ARN`, required), the
/// eAccounting company of each entity with `[stock]` rules (`VISMA_SECRET_ARN`, the same secret
/// and refresh-token field as the posting functions), the store for per-entry versions.
/// `STOCK_CONCURRENCY` caps writes in flight (default 8).
pub async fn stock(function: &str) -> Result<StockFunction, lambda_runtime::Error> {
    use ctvisma_stock::VismaStock;
    use ctvisma_visma::eaccounting::stock::EaStock;

    let clients = AwsClients::from_env().await;
    let rules = Rules::from_toml(RULES_TOML)?;
    let store = DynamoStore::from_env(clients.dynamodb.clone())?;
    let http = Http::new(HttpSettings::default())?;
    let ct = ct_config(&clients, &env("CTP_SECRET_ARN")?).await?;
    let mut visma: BTreeMap<String, Arc<dyn VismaStock>> = BTreeMap::new();
    if rules.entities.values().any(|e| e.stock.is_some()) {
        let arn = env("VISMA_SECRET_ARN")?;
        let v = secret_json(&clients.secrets, &arn).await?;
        for id in rules
            .entities
            .iter()
            .filter(|(_, e)| e.stock.is_some())
            .map(|(id, _)| id)
        {
            let (config, token_field) = eaccounting_config(&v, id);
            let tokens = SecretsTokenStore::new(clients.secrets.clone(), arn.clone()).with_field(token_field);
            visma.insert(
                id.clone(),
                Arc::new(EaStock::new(http.clone(), &config, Arc::new(tokens))),
            );
        }
    }
    let concurrency = match std::env::var("STOCK_CONCURRENCY") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| format!("STOCK_CONCURRENCY is not a number: {v:?}"))?,
        _ => ctvisma_stock::DEFAULT_CONCURRENCY,
    };
    Ok(StockFunction {
        ct: CtClient::new(ct, http),
        visma,
        store: Arc::new(store),
        rules,
        concurrency,
        function: function.to_string(),
    })
}
