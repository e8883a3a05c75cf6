//! Product (current/staged) and ProductProjection: master data for Visma articles.

use serde::{Deserialize, Serialize};

use super::common::{LocalizedString, Reference};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub product_type: Option<Reference>,
    #[serde(default)]
    pub tax_category: Option<Reference>,
    #[serde(default)]
    pub master_data: Option<ProductCatalogData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductCatalogData {
    #[serde(default)]
    pub published: bool,
    pub current: ProductData,
    pub staged: ProductData,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductData {
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub master_variant: Option<ProductVariant>,
    #[serde(default)]
    pub variants: Vec<ProductVariant>,
}

/// What a ProductPublished message carries: the product's current data, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductProjection {
    pub id: String,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub product_type: Option<Reference>,
    #[serde(default)]
    pub tax_category: Option<Reference>,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub master_variant: Option<ProductVariant>,
    #[serde(default)]
    pub variants: Vec<ProductVariant>,
    #[serde(default)]
    pub published: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductVariant {
    pub id: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub prices: Vec<serde_json::Value>,
    #[serde(default)]
    pub attributes: Vec<serde_json::Value>,
}
