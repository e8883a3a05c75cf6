//! Secrets Manager: credentials read at cold start, and eAccounting's rotating refresh token.
//!
//! A secret is a JSON object (`{"client_id": .., "client_secret": .., "refresh_token": ..}`).
//! Secret values are never logged nor put in an error: errors name the secret id and the field.

use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::Client;
use ctvisma_visma::error::VismaError;
use ctvisma_visma::token_store::{Secret, TokenStore};
use serde_json::{Map, Value};

use crate::{aws_error, AwsError};

const SERVICE: &str = "secretsmanager";
const TARGET: &str = "token store";

/// The JSON object a secret holds (e.g. client id and secret at cold start). Debug-printing the
/// value shows the secrets: hand its fields to `Secret` at once.
pub async fn secret_json(client: &Client, secret_id: &str) -> Result<Value, AwsError> {
    match read_object(client, secret_id).await? {
        Some(fields) => Ok(Value::Object(fields)),
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
            .and_then(|f| f.get(&self.field))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(Secret::new))
    }

    async fn save(&self, token: &Secret) -> Result<(), VismaError> {
        // The secret (with the client credentials) is made by the deployment, never here.
        let mut fields = read_object(&self.client, &self.secret_id)
            .await
            .map_err(visma_error)?
            .ok_or_else(|| VismaError::Protocol {
                target: TARGET,
                what: format!("secret {} does not exist", self.secret_id),
            })?;
        fields.insert(self.field.clone(), Value::String(token.expose().to_string()));
        self.client
            .put_secret_value()
            .secret_id(&self.secret_id)
            .secret_string(Value::Object(fields).to_string())
            .send()
            .await
            .map_err(|e| visma_error(aws_error(SERVICE, &e)))?;
        tracing::info!(secret_id = %self.secret_id, field = %self.field, "saved the rotated token");
        Ok(())
    }
}

/// The secret's JSON object; `None` when the secret does not exist or holds no string.
async fn read_object(client: &Client, secret_id: &str) -> Result<Option<Map<String, Value>>, AwsError> {
    let out = match client.get_secret_value().secret_id(secret_id).send().await {
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
    let Some(text) = out.secret_string() else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(fields)) => Ok(Some(fields)),
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
