//! Where the project lives and how to log in: the variables commercetools' own tools read.

use ctvisma_visma::token_store::Secret;

use crate::error::CtError;

pub const DEFAULT_AUTH_URL: &str = "https://auth.europe-west1.gcp.commercetools.com";
pub const DEFAULT_API_URL: &str = "https://api.europe-west1.gcp.commercetools.com";

/// A project and its API client. `Debug` never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtConfig {
    pub project_key: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Host root; the client adds `/oauth/token`.
    pub auth_url: String,
    /// Host root; the client adds `/{project_key}/…`.
    pub api_url: String,
    /// Space-separated, as commercetools' tools take them.
    pub scopes: String,
}

impl CtConfig {
    /// A config with the default region's URLs and the `manage_project:<key>` scope.
    pub fn new(project_key: impl Into<String>, client_id: impl Into<String>, client_secret: Secret) -> Self {
        let project_key = project_key.into();
        Self {
            scopes: format!("manage_project:{project_key}"),
            project_key,
            client_id: client_id.into(),
            client_secret,
            auth_url: DEFAULT_AUTH_URL.into(),
            api_url: DEFAULT_API_URL.into(),
        }
    }

    /// Reads `CTP_PROJECT_KEY`, `CTP_CLIENT_ID`, `CTP_CLIENT_SECRET` (required together),
    /// `CTP_AUTH_URL`, `CTP_API_URL`, `CTP_SCOPES` (defaults: the europe-west1 GCP region,
    /// `manage_project:<key>`). `Ok(None)` when none of the three required ones is set (then a
    /// local run reads recorded resources); an error when only some are.
    pub fn from_env() -> Result<Option<Self>, CtError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`CtConfig::from_env`] over any source of variables (tests, Secrets Manager JSON).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, CtError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let required = ["CTP_PROJECT_KEY", "CTP_CLIENT_ID", "CTP_CLIENT_SECRET"];
        let values: Vec<Option<String>> = required.iter().map(|n| get(n)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let missing: Vec<&str> = required
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(CtError::Config(format!("{} not set", missing.join(", "))));
        }
        let mut values = values.into_iter().flatten();
        let (project_key, client_id, secret) = match (values.next(), values.next(), values.next()) {
            (Some(p), Some(c), Some(s)) => (p, c, s),
            _ => return Err(CtError::Config("CTP_* variables incomplete".into())),
        };
        let mut config = Self::new(project_key, client_id, Secret::new(secret));
        if let Some(url) = get("CTP_AUTH_URL") {
            config.auth_url = url;
        }
        if let Some(url) = get("CTP_API_URL") {
            config.api_url = url;
        }
        if let Some(scopes) = get("CTP_SCOPES") {
            // commercetools' tools accept comma- or space-separated scopes.
            config.scopes = scopes
                .split([',', ' '])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
        }
        config.auth_url = config.auth_url.trim_end_matches('/').to_string();
        config.api_url = config.api_url.trim_end_matches('/').to_string();
        for (name, url) in [("CTP_AUTH_URL", &config.auth_url), ("CTP_API_URL", &config.api_url)] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(CtError::Config(format!("{name} is not an http(s) URL")));
            }
        }
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(CtConfig::from_vars(vars(&[])).unwrap(), None);
        let base = [
            ("CTP_PROJECT_KEY", "shop"),
            ("CTP_CLIENT_ID", "id"),
            ("CTP_CLIENT_SECRET", "s3cret"),
        ];
        let c = CtConfig::from_vars(vars(&base)).unwrap().unwrap();
        assert_eq!(c.auth_url, DEFAULT_AUTH_URL);
        assert_eq!(c.api_url, DEFAULT_API_URL);
        assert_eq!(c.scopes, "manage_project:shop");
        assert!(!format!("{c:?}").contains("s3cret"));

        let mut more = base.to_vec();
        more.extend([
            ("CTP_AUTH_URL", "http://127.0.0.1:9/"),
            ("CTP_API_URL", "http://127.0.0.1:9"),
            ("CTP_SCOPES", "view_orders:shop,view_payments:shop"),
        ]);
        let c = CtConfig::from_vars(vars(&more)).unwrap().unwrap();
        assert_eq!(c.auth_url, "http://127.0.0.1:9");
        assert_eq!(c.scopes, "view_orders:shop view_payments:shop");

        let err = CtConfig::from_vars(vars(&base[..2])).unwrap_err();
        assert!(err.to_string().contains("CTP_CLIENT_SECRET"));
    }
}
