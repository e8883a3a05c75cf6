//! commercetools HTTP error bodies (`{statusCode, message, errors[]}`), including the JS SDK's
//! wrapped form that nests the API body under `body`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Vec<ErrorObject>,
    /// OAuth errors (`invalid_token`).
    #[serde(default)]
    pub error: Option<String>,
    /// The JS SDK's wrapper keeps the API body here.
    #[serde(default)]
    pub body: Option<Box<ErrorResponse>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorObject {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
    /// ConcurrentModification: the version to retry with (missing on some responses).
    #[serde(default)]
    pub current_version: Option<u64>,
}

impl ErrorResponse {
    /// The innermost API error list (unwrapping the SDK wrapper).
    pub fn api_errors(&self) -> &[ErrorObject] {
        match &self.body {
            Some(b) if self.errors.is_empty() => b.api_errors(),
            _ => &self.errors,
        }
    }

    /// The version a ConcurrentModification error reports, if any.
    pub fn current_version(&self) -> Option<u64> {
        self.api_errors()
            .iter()
            .find(|e| e.code == "ConcurrentModification")?
            .current_version
    }
}
