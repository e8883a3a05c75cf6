//! InventoryEntry: stock per SKU and supply channel. `sku` is missing on some real data.

use serde::{Deserialize, Serialize};

use super::common::Reference;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryEntry {
    pub id: String,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub supply_channel: Option<Reference>,
    pub quantity_on_stock: i64,
    #[serde(default)]
    pub available_quantity: Option<i64>,
    #[serde(default)]
    pub restockable_in_days: Option<i64>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}
