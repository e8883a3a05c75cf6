//! Resources ctvisma reads only for context (routing, checks): Cart, Store, Channel,
//! ShippingMethod, TaxCategory, Subscription. Light models: just what is used.

use serde::{Deserialize, Serialize};

use super::common::{LocalizedString, Reference, TaxRate, TaxedPrice};
use super::order::{CustomLineItem, LineItem, ShippingInfo};
use crate::money::CtMoney;

/// A Cart (or a fragment of one): the same line shapes as an Order, everything optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub store: Option<Reference>,
    #[serde(default)]
    pub total_price: Option<CtMoney>,
    #[serde(default)]
    pub taxed_price: Option<TaxedPrice>,
    #[serde(default)]
    pub tax_mode: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub custom_line_items: Vec<CustomLineItem>,
    #[serde(default)]
    pub shipping_info: Option<ShippingInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub name: Option<LocalizedString>,
    #[serde(default)]
    pub countries: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(default)]
    pub tax_category: Option<Reference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCategory {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(default)]
    pub rates: Vec<TaxRate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[serde(default)]
    pub key: Option<String>,
    pub destination: serde_json::Value,
    #[serde(default)]
    pub format: Option<serde_json::Value>,
    #[serde(default)]
    pub status: Option<String>,
}
