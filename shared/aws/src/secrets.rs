//! Secrets Manager: credentials read at cold start, and eAccounting's rotating refresh token.
//!
//! A secret is a JSON object (`{"client_id": .., "client_secret": .., "refresh_token": ..}`).
//! Secret values are never logged nor put in an error: errors name the secret id and the field.
//!
//! Several entities' refresh tokens share one secret, and each is written by whichever function
//! instance rotated it. A save is therefore a compare-and-swap on the secret's version: the new
//! JSON goes in as a version labelled [`PENDING_STAGE`], and `AWSCURRENT` is moved to it only if it
//! still sits on the version the JSON was merged from. Otherwise the save merges its field into the
//! newer JSON and tries again, so a concurrent rotation of another field is never overwritten.

use std::time::Duration;

use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::operation::update_secret_version_stage::UpdateSecretVersionStageError;
use aws_sdk_secretsmanager::Client;
use ctvisma_visma::error::VismaError;
use ctvisma_visma::token_store::{Secret, TokenStore};
use serde_json::{Map, Value};

use crate::{aws_error, AwsError};

const SERVICE: &str = "secretsmanager";
const TARGET: &str = "token store";
const CURRENT_STAGE: &str = "AWSCURRENT";
/// The label of a version written by a save that has not become current yet. A version it moves
/// away from without becoming current has no label left and is cleaned up by Secrets Manager.
pub const PENDING_STAGE: &str = "CTVISMA_PENDING";
/// Saves that lose the race this many times in a row give up with a transient error.
const SAVE_ATTEMPTS: u32 = 8;

/// The JSON object a secret holds (e.g. client id and secret at cold start). Debug-printing the
/// value shows the secrets: hand its fields to `Secret` at once.
pub async fn secret_json(client: &Client, secret_id: &str) -> Result<Value, AwsError> {
    match read_object(client, secret_id).await? {
        Some((fields, _)) => Ok(Value::Object(fields)),
        None => Err(AwsError::Broken {
            service: SERVICE,
            what: format!("secret {secret_id} does not exist or holds no string"),
        }),
    }
}

/// [`TokenStore`] on one field of a JSON secret; the other fields are kept as they are.
#[derive(Debug, Clone)]
pub struct SecretsTokenStore {
    client: Client,
    secret_id: String,
    field: String,
}

impl SecretsTokenStore {
    /// The token in the `refresh_token` field of `secret_id` (a name or an ARN).
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
            field: "refresh_token".into(),
        }
    }

    /// The token in another field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

#[async_trait::async_trait]
impl TokenStore for SecretsTokenStore {
    async fn load(&self) -> Result<Option<Secret>, VismaError> {
        let fields = read_object(&self.client, &self.secret_id).await.map_err(visma_error)?;
        Ok(fields
            .as_ref()
            .and_then(|(f, _)| f.get(&self.field))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Secret::new))
    }

    async fn save(&self, token: &Secret) -> Result<(), VismaError> {
        for attempt in 1..=SAVE_ATTEMPTS {
            // The secret (with the client credentials) is made by the deployment, never here.
            let (mut fields, current) = read_object(&self.client, &self.secret_id)
                .await
                .map_err(visma_error)?
                .ok_or_else(|| VismaError::Protocol {
                    target: TARGET,
                    what: format!("secret {} does not exist", self.secret_id),
                })?;
            fields.insert(self.field.clone(), Value::String(token.expose().to_string()));
            if self.swap(&current, Value::Object(fields).to_string()).await? {
                tracing::info!(secret_id = %self.secret_id, field = %self.field, attempt, "saved the rotated token");
                return Ok(());
            }
            tracing::warn!(secret_id = %self.secret_id, field = %self.field, attempt,
                "the secret changed while saving; merging into the newer version");
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
        }
        Err(VismaError::Unavailable {
            target: TARGET,
            what: format!("secret {} kept changing during {SAVE_ATTEMPTS} saves", self.secret_id),
        })
    }
}

impl SecretsTokenStore {
    /// Writes `text` as a pending version and makes it current if `expected` still is. `false`
    /// when another writer made a newer version current first.
    async fn swap(&self, expected: &str, text: String) -> Result<bool, VismaError> {
        let put = self
            .client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .secret_string(text)
            .version_stages(PENDING_STAGE)
            .send()
            .await
            .map_err(|e| visma_error(aws_error(SERVICE, &e)))?;
        let written = put.version_id().ok_or_else(|| VismaError::Protocol {
            target: TARGET,
            what: format!("secret {}: PutSecretValue returned no version id", self.secret_id),
        })?;
        let moved = self
            .client
            .update_secret_version_stage()
            .secret_id(&self.secret_id)
            .version_stage(CURRENT_STAGE)
            .remove_from_version_id(expected)
            .move_to_version_id(written)
            .send()
            .await;
        match moved {
            Ok(_) => Ok(true),
            // AWSCURRENT is no longer on `expected`: someone else saved in between.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateSecretVersionStageError::InvalidParameterException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(visma_error(aws_error(SERVICE, &e))),
        }
    }
}

/// The current version's JSON object and version id; `None` when the secret does not exist or
/// holds no string.
async fn read_object(client: &Client, secret_id: &str) -> Result<Option<(Map<String, Value>, String)>, AwsError> {
    // The stage is named although it is the default: moto resolves only a named stage correctly
    // after `UpdateSecretVersionStage` has moved it.
    let read = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(CURRENT_STAGE)
        .send()
        .await;
    let out = match read {
        Ok(out) => out,
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(GetSecretValueError::ResourceNotFoundException(_))
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(aws_error(SERVICE, &e)),
    };
    let (Some(text), Some(version)) = (out.secret_string(), out.version_id()) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(Some((fields, version.to_string()))),
        // Neither the text nor serde's message (which may quote it) goes into the error.
        _ => Err(AwsError::Broken {
            service: SERVICE,
            what: format!("secret {secret_id} is not a JSON object"),
        }),
    }
}

fn visma_error(e: AwsError) -> VismaError {
    match e {
        AwsError::Unavailable { what, .. } => VismaError::Unavailable { target: TARGET, what },
        AwsError::Broken { what, .. } => VismaError::Protocol { target: TARGET, what },
    }
}
