//! Shapes shared by commercetools resources: references, localized strings, tax rates, addresses.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::money::CtMoney;

/// `{ "typeId": "store", "id": "…" }` or `{ "typeId": "store", "key": "…" }`, maybe expanded (`obj`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    #[serde(default)]
    pub type_id: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    /// The expanded resource, when the API was asked to expand it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj: Option<serde_json::Value>,
}

impl Reference {
    /// `key` of the reference or of its expanded object.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref().or_else(|| self.obj.as_ref()?.get("key")?.as_str())
    }

    /// Every identifier a rule may name: id, key and (for expanded objects) the object's key.
    pub fn identifiers(&self) -> impl Iterator<Item = &str> {
        self.id.as_deref().into_iter().chain(self.key())
    }
}

/// `{ "en": "…", "de": "…" }`: ordered so that picking a fallback is deterministic.
pub type LocalizedString = BTreeMap<String, String>;

/// Picks `locale`, then `en`, then the first language present.
pub fn localized<'a>(s: &'a LocalizedString, locale: Option<&str>) -> Option<&'a str> {
    locale
        .and_then(|l| s.get(l))
        .or_else(|| s.get("en"))
        .or_else(|| s.values().next())
        .map(String::as_str)
}

/// A tax rate as a decimal fraction. commercetools sends floats (`0.19`,
/// `0.14923475685028115`); the shortest round-trip text of the float is taken as the exact value,
/// which is what every other client (and a person reading the JSON) sees.
pub fn de_rate<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    parse_rate(&n).ok_or_else(|| serde::de::Error::custom(format!("tax rate {n} is not a number")))
}

fn parse_rate(n: &serde_json::Number) -> Option<Decimal> {
    let text = n.to_string();
    text.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&text).ok())
        .map(|d| d.normalize())
}

fn de_opt_rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(|n| parse_rate(&n).ok_or_else(|| serde::de::Error::custom("tax rate is not a number")))
        .transpose()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRate {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "de_rate")]
    pub amount: Decimal,
    #[serde(default)]
    pub included_in_price: bool,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub sub_rates: Vec<SubRate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubRate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_rate")]
    pub amount: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxPortion {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "de_rate")]
    pub rate: Decimal,
    pub amount: CtMoney,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxedPrice {
    pub total_net: CtMoney,
    pub total_gross: CtMoney,
    #[serde(default)]
    pub total_tax: Option<CtMoney>,
    #[serde(default)]
    pub tax_portions: Vec<TaxPortion>,
}

/// Addresses hold personal data: they are parsed (country routing needs them) but never logged.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub street_name: Option<String>,
    #[serde(default)]
    pub street_number: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
}

impl std::fmt::Debug for Address {
    // Debug output may end up in a log line: show only what is not personal.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Address")
            .field("country", &self.country)
            .finish_non_exhaustive()
    }
}

/// `createdBy` / `lastModifiedBy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientLogging {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub is_platform_client: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_rates_become_their_shortest_decimal_text() {
        let t: TaxRate = serde_json::from_str(r#"{"amount":0.14923475685028115,"includedInPrice":false}"#).unwrap();
        assert_eq!(t.amount.to_string(), "0.14923475685028115");
        let t: TaxRate = serde_json::from_str(r#"{"amount":0,"country":"US"}"#).unwrap();
        assert!(t.amount.is_zero());
    }

    #[test]
    fn address_debug_hides_personal_fields() {
        let a = Address {
            first_name: Some("Max".into()),
            country: Some("DE".into()),
            ..Default::default()
        };
        let shown = format!("{a:?}");
        assert!(shown.contains("DE") && !shown.contains("Max"));
    }
}
