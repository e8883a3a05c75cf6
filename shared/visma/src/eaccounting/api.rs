//! One eAccounting call: bearer token, the retry loop of [`crate::http`], one token refresh on
//! 401, and Visma's error body turned into a classified [`VismaError`].

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::auth::EaccountingAuth;
use crate::error::{eaccounting_code_is_transient, VismaError};
use crate::http::{Deadline, Http};

pub(crate) const TARGET: &str = "eaccounting";

pub struct Api {
    pub(crate) http: Http,
    /// Host root; paths are `/v2/…`.
    pub(crate) base: String,
    pub(crate) auth: EaccountingAuth,
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&str>,
        deadline: Deadline,
    ) -> Result<Value, VismaError> {
        let url = format!("{}{path}", self.base.trim_end_matches('/'));
        let response = self
            .http
            .send_authorized(TARGET, deadline, &self.auth, method, &url, query, body, |_| {})
            .await?;
        let status = response.status();
        let text = response.text().await.map_err(|e| VismaError::Unavailable {
            target: TARGET,
            what: format!("reading the response: {e}"),
        })?;
        if !status.is_success() {
            return Err(refusal(status, &text));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: format!("{path}: {e}"),
        })
    }
}

/// Visma's error body (`ErrorCode`, `DeveloperErrorMessage`, `Errors[]`) as a classified error.
pub(crate) fn refusal(status: StatusCode, text: &str) -> VismaError {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = body.get("ErrorCode").and_then(Value::as_i64);
    let mut message = body
        .get("DeveloperErrorMessage")
        .or_else(|| body.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(errors) = body.get("Errors").and_then(Value::as_array) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| {
                let field = e.get("Field").and_then(Value::as_str).unwrap_or("");
                let m = e.get("Message").and_then(Value::as_str).unwrap_or("");
                format!("{field}: {m}")
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join("; "));
        }
    }
    if message.is_empty() {
        message = format!("HTTP {}", status.as_u16());
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return VismaError::Unauthorized {
            target: TARGET,
            message,
        };
    }
    VismaError::Refused {
        target: TARGET,
        code: code.map_or_else(|| status.as_u16().to_string(), |c| c.to_string()),
        message,
        transient: code.is_some_and(eaccounting_code_is_transient),
    }
}
