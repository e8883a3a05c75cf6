//! The two token endpoints and bearer-token checks.
//!
//! * eAccounting (`/connect/token`): `grant_type=refresh_token`. Every refresh returns a new
//!   access token AND a new refresh token; the old refresh token is dead afterwards.
//! * Visma.net (`/vismanet/connect/token`): `grant_type=client_credentials` with `tenant_id`.
//!
//! Client credentials may come in the form or as HTTP Basic auth.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::json;

use crate::spec::Api;
use crate::store::{json, new_uuid, set_header, Inner, Shared, Token};

/// Why a bearer token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuthError {
    Missing,
    Invalid,
    Expired,
}

/// Returns the presented token if it is valid for `api` now.
pub(crate) fn check_bearer(shared: &Shared, inner: &Inner, headers: &HeaderMap, api: Api) -> Result<String, AuthError> {
    let token = bearer(headers).ok_or(AuthError::Missing)?;
    let info = inner.tokens.get(&token).ok_or(AuthError::Invalid)?;
    if info.api != api {
        return Err(AuthError::Invalid);
    }
    if inner.now(shared) >= info.expires_at {
        return Err(AuthError::Expired);
    }
    Ok(token)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Marks a token as expired right now (fault `ExpireToken`).
pub(crate) fn expire(shared: &Shared, inner: &mut Inner, headers: &HeaderMap) {
    if let Some(token) = bearer(headers) {
        let now = inner.now(shared);
        if let Some(info) = inner.tokens.get_mut(&token) {
            info.expires_at = now;
        }
    }
}

fn oauth_error(error: &str, description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &json!({ "error": error, "error_description": description }),
    )
}

struct TokenRequest {
    params: Vec<(String, String)>,
    client: Option<(String, String)>,
}

impl TokenRequest {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, Response> {
        let form = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(oauth_error(
                "invalid_request",
                "token requests must be application/x-www-form-urlencoded",
            ));
        }
        let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        let basic = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                let (id, secret) = s.split_once(':')?;
                let dec = |x: &str| {
                    form_urlencoded::parse(format!("x={x}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some((dec(id), dec(secret)))
            });
        let mut req = Self { params, client: basic };
        if req.client.is_none() {
            if let (Some(id), Some(secret)) = (req.get("client_id"), req.get("client_secret")) {
                req.client = Some((id.to_string(), secret.to_string()));
            }
        }
        Ok(req)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn client_is(&self, id: &str, secret: &str) -> bool {
        self.client.as_ref().is_some_and(|(i, s)| i == id && s == secret)
    }
}

fn token_response(body: serde_json::Value) -> Response {
    let mut resp = json(StatusCode::OK, &body);
    set_header(&mut resp, "cache-control", "no-store");
    resp
}

/// `POST /connect/token` (eAccounting identity server).
pub(crate) fn eaccounting_token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let req = match TokenRequest::parse(headers, body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let cfg = &shared.config;
    if !req.client_is(&cfg.client_id, &cfg.client_secret) {
        return oauth_error("invalid_client", "unknown client or wrong secret");
    }
    match req.get("grant_type") {
        Some("refresh_token") => {}
        Some(_) => return oauth_error("unsupported_grant_type", "use refresh_token"),
        None => return oauth_error("invalid_request", "grant_type is missing"),
    }
    let presented = req.get("refresh_token").unwrap_or_default();
    let mut inner = shared.lock();
    if presented.is_empty() || inner.refresh_token.as_deref() != Some(presented) {
        return oauth_error("invalid_grant", "refresh token is invalid or was already used");
    }
    let access = format!("ea-at-{}", new_uuid());
    let refresh = format!("ea-rt-{}", new_uuid());
    let expires_at = inner.now(shared) + cfg.access_token_lifetime;
    inner.tokens.insert(
        access.clone(),
        Token {
            api: Api::EAccounting,
            expires_at,
        },
    );
    inner.refresh_token = Some(refresh.clone());
    inner.refreshes += 1;
    token_response(json!({
        "access_token": access,
        "expires_in": cfg.access_token_lifetime.as_secs(),
        "token_type": "Bearer",
        "refresh_token": refresh,
        "scope": "ea:api ea:sales ea:accounting offline_access",
    }))
}

/// `POST /vismanet/connect/token` (Visma Connect, client credentials).
pub(crate) fn vismanet_token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let req = match TokenRequest::parse(headers, body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let cfg = &shared.config;
    if !req.client_is(&cfg.vismanet_client_id, &cfg.vismanet_client_secret) {
        return oauth_error("invalid_client", "unknown client or wrong secret");
    }
    match req.get("grant_type") {
        Some("client_credentials") => {}
        Some(_) => return oauth_error("unsupported_grant_type", "use client_credentials"),
        None => return oauth_error("invalid_request", "grant_type is missing"),
    }
    match req.get("tenant_id") {
        None | Some("") => return oauth_error("invalid_request", "tenant_id is missing"),
        Some(t) if t != cfg.vismanet_tenant_id => {
            return oauth_error("invalid_grant", "the client has no access to this tenant")
        }
        Some(_) => {}
    }
    let scope = req
        .get("scope")
        .unwrap_or("vismanet_erp_service_api:read vismanet_erp_service_api:create vismanet_erp_service_api:update")
        .to_string();
    let mut inner = shared.lock();
    let access = format!("vn-at-{}", new_uuid());
    let expires_at = inner.now(shared) + cfg.vismanet_token_lifetime;
    inner.tokens.insert(
        access.clone(),
        Token {
            api: Api::VismaNet,
            expires_at,
        },
    );
    inner.vismanet_grants += 1;
    token_response(json!({
        "access_token": access,
        "expires_in": cfg.vismanet_token_lifetime.as_secs(),
        "token_type": "Bearer",
        "scope": scope,
    }))
}
