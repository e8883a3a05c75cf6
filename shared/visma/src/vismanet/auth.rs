//! Visma.net ERP OAuth: client credentials for one tenant (company). The token is cached until a
//! minute before it expires; one refresh at a time.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use crate::error::VismaError;
use crate::http::{Deadline, Http};
use crate::token_store::Secret;

pub(crate) const TARGET: &str = "vismanet";

pub struct VismanetAuth {
    http: Http,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    tenant_id: String,
    access: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

impl VismanetAuth {
    pub fn new(http: Http, token_url: &str, client_id: &str, client_secret: Secret, tenant_id: &str) -> Self {
        Self {
            http,
            token_url: token_url.to_string(),
            client_id: client_id.to_string(),
            client_secret,
            tenant_id: tenant_id.to_string(),
            access: tokio::sync::Mutex::new(None),
        }
    }

    pub async fn token(&self, deadline: Deadline) -> Result<Secret, VismaError> {
        let mut access = self.access.lock().await;
        if let Some((token, expires)) = access.as_ref() {
            if *expires > Instant::now() + Duration::from_secs(60) {
                return Ok(token.clone());
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
            ("tenant_id", self.tenant_id.as_str()),
        ];
        let response = self
            .http
            .send(TARGET, deadline, true, || {
                self.http.request(Method::POST, &self.token_url).form(&form)
            })
            .await?;
        if !response.status().is_success() {
            return Err(VismaError::Unauthorized {
                target: TARGET,
                message: format!("token endpoint answered {}", response.status().as_u16()),
            });
        }
        let body: TokenResponse = response.json().await.map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: format!("token response: {e}"),
        })?;
        let token = Secret::new(body.access_token);
        let expires = Instant::now() + Duration::from_secs(body.expires_in.unwrap_or(3600));
        *access = Some((token.clone(), expires));
        Ok(token)
    }

    pub async fn reject(&self, used: &Secret) {
        let mut access = self.access.lock().await;
        if access.as_ref().is_some_and(|(t, _)| t == used) {
            *access = None;
        }
    }
}

#[async_trait::async_trait]
impl crate::http::BearerAuth for VismanetAuth {
    async fn token(&self, deadline: Deadline) -> Result<Secret, VismaError> {
        VismanetAuth::token(self, deadline).await
    }

    async fn reject(&self, used: &Secret) {
        VismanetAuth::reject(self, used).await
    }
}
