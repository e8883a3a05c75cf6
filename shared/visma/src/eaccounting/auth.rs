//! eAccounting OAuth: access tokens live about an hour; every refresh returns a new refresh token
//! and kills the old one. One refresh at a time per company (a mutex), the new refresh token is
//! saved before the new access token is used, and neither is ever logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;

use crate::error::VismaError;
use crate::http::{Deadline, Http};
use crate::token_store::{Secret, TokenStore};

const TARGET: &str = "eaccounting";

pub struct EaccountingAuth {
    http: Http,
    token_url: String,
    client_id: String,
    client_secret: Secret,
    /// The first refresh token (from configuration); a saved one wins over it.
    initial: Option<Secret>,
    store: Arc<dyn TokenStore>,
    access: tokio::sync::Mutex<Option<Access>>,
}

struct Access {
    token: Secret,
    expires: Instant,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
}

impl EaccountingAuth {
    /// `identity_url` is the host root (`https://identity.vismaonline.com`); `/connect/token` is added.
    pub fn new(
        http: Http,
        identity_url: &str,
        client_id: &str,
        client_secret: Secret,
        initial: Option<Secret>,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        Self {
            http,
            token_url: format!("{}/connect/token", identity_url.trim_end_matches('/')),
            client_id: client_id.to_string(),
            client_secret,
            initial,
            store,
            access: tokio::sync::Mutex::new(None),
        }
    }

    /// A valid access token, refreshing it first when it is missing or about to expire.
    pub async fn token(&self, deadline: Deadline) -> Result<Secret, VismaError> {
        let mut access = self.access.lock().await;
        if let Some(a) = access.as_ref() {
            if a.expires > Instant::now() + Duration::from_secs(60) {
                return Ok(a.token.clone());
            }
        }
        let fresh = self.refresh(deadline).await?;
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok(token)
    }

    /// Forgets `used` after a 401, so the next call refreshes (unless another task already did).
    pub async fn reject(&self, used: &Secret) {
        let mut access = self.access.lock().await;
        if access.as_ref().is_some_and(|a| &a.token == used) {
            *access = None;
        }
    }

    async fn refresh(&self, deadline: Deadline) -> Result<Access, VismaError> {
        let current = match self.store.load().await? {
            Some(t) => t,
            None => self.initial.clone().ok_or_else(|| VismaError::Unauthorized {
                target: TARGET,
                message: "no refresh token: set EACCOUNTING_REFRESH_TOKEN from the consent flow".into(),
            })?,
        };
        match self.exchange(&current, deadline).await {
            Err(VismaError::Unauthorized { .. }) => {
                // Another instance may have rotated the token a moment ago: use the one it saved.
                match self.store.load().await? {
                    Some(newer) if newer != current => self.exchange(&newer, deadline).await,
                    _ => Err(VismaError::Unauthorized {
                        target: TARGET,
                        message: "the refresh token was refused (invalid_grant): the company must consent again".into(),
                    }),
                }
            }
            other => other,
        }
    }

    async fn exchange(&self, refresh: &Secret, deadline: Deadline) -> Result<Access, VismaError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose()),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose()),
        ];
        let response = self
            .http
            .send(TARGET, deadline, true, || {
                self.http.request(Method::POST, &self.token_url).form(&form)
            })
            .await?;
        let status = response.status();
        if status.is_client_error() {
            return Err(VismaError::Unauthorized {
                target: TARGET,
                message: format!("token endpoint answered {}", status.as_u16()),
            });
        }
        let body: TokenResponse = response.json().await.map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: format!("token response: {e}"),
        })?;
        if let Some(next) = body.refresh_token {
            // Saved before use: losing it would lose the company's consent.
            self.store.save(&Secret::new(next)).await?;
        }
        tracing::info!(target_system = TARGET, "access token refreshed");
        Ok(Access {
            token: Secret::new(body.access_token),
            expires: Instant::now() + Duration::from_secs(body.expires_in.unwrap_or(3600)),
        })
    }
}

#[async_trait::async_trait]
impl crate::http::BearerAuth for EaccountingAuth {
    async fn token(&self, deadline: Deadline) -> Result<Secret, VismaError> {
        EaccountingAuth::token(self, deadline).await
    }

    async fn reject(&self, used: &Secret) {
        EaccountingAuth::reject(self, used).await
    }
}
