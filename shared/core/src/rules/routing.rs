//! Entity routing: store key, then country, then currency. The first level with a match wins;
//! a level without a match falls through to the next.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    #[serde(default)]
    pub by_store: BTreeMap<String, String>,
    #[serde(default)]
    pub by_country: BTreeMap<String, String>,
    #[serde(default)]
    pub by_currency: BTreeMap<String, String>,
    /// PSP settlement reports: the merchant account a payout batch belongs to.
    #[serde(default)]
    pub by_merchant_account: BTreeMap<String, String>,
}

/// Which routing level chose the entity (kept in the posting's trace for auditors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLevel {
    Store,
    Country,
    Currency,
}

impl Routing {
    /// The entity id for an order's store key, country and currency.
    pub fn route(&self, store: Option<&str>, country: Option<&str>, currency: &str) -> Option<(&str, RouteLevel)> {
        fn hit<'m>(map: &'m BTreeMap<String, String>, key: Option<&str>) -> Option<&'m str> {
            key.and_then(|k| map.get(k)).map(String::as_str)
        }
        hit(&self.by_store, store)
            .map(|e| (e, RouteLevel::Store))
            .or_else(|| hit(&self.by_country, country).map(|e| (e, RouteLevel::Country)))
            .or_else(|| hit(&self.by_currency, Some(currency)).map(|e| (e, RouteLevel::Currency)))
    }

    /// Every route as (level, key, entity), for checking the file.
    pub fn routes(&self) -> impl Iterator<Item = (&'static str, &str, &str)> {
        self.by_store
            .iter()
            .map(|(k, v)| ("by_store", k.as_str(), v.as_str()))
            .chain(
                self.by_country
                    .iter()
                    .map(|(k, v)| ("by_country", k.as_str(), v.as_str())),
            )
            .chain(
                self.by_currency
                    .iter()
                    .map(|(k, v)| ("by_currency", k.as_str(), v.as_str())),
            )
            .chain(
                self.by_merchant_account
                    .iter()
                    .map(|(k, v)| ("by_merchant_account", k.as_str(), v.as_str())),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing() -> Routing {
        Routing {
            by_store: [("se-webshop".to_string(), "SE".to_string())].into(),
            by_country: [("DE".to_string(), "DE".to_string())].into(),
            by_currency: [
                ("NOK".to_string(), "NO".to_string()),
                ("EUR".to_string(), "DE".to_string()),
            ]
            .into(),
            by_merchant_account: Default::default(),
        }
    }

    #[test]
    fn store_beats_country_beats_currency() {
        let r = routing();
        assert_eq!(
            r.route(Some("se-webshop"), Some("DE"), "NOK"),
            Some(("SE", RouteLevel::Store))
        );
        assert_eq!(
            r.route(Some("unknown"), Some("DE"), "NOK"),
            Some(("DE", RouteLevel::Country))
        );
        assert_eq!(r.route(None, Some("FR"), "NOK"), Some(("NO", RouteLevel::Currency)));
        assert_eq!(r.route(None, Some("FR"), "JPY"), None);
    }
}
