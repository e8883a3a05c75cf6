//! The project's tax categories and shipping methods, every page: what `ctvisma check-rules`
//! compares with the posting rules (VAT rules per rate, shipping accounts per method).

use serde::Deserialize;

use crate::client::CtClient;
use crate::error::CtError;

/// A tax category (`/tax-categories`), with the fields the rules care about.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxCategory {
    pub id: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub rates: Vec<TaxRate>,
}

/// One rate of a tax category: a country (and state), an amount as a fraction (0.25 = 25 %).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxRate {
    #[serde(default)]
    pub name: String,
    /// As commercetools sends it: a JSON number between 0 and 1.
    pub amount: serde_json::Number,
    pub country: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub included_in_price: bool,
}

/// A shipping method (`/shipping-methods`): the rules match its key, id or name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingMethod {
    pub id: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub name: String,
}

impl CtClient {
    /// Every tax category of the project.
    pub async fn tax_categories(&self) -> Result<Vec<TaxCategory>, CtError> {
        self.query_all("tax-categories", &[]).await
    }

    /// Every shipping method of the project.
    pub async fn shipping_methods(&self) -> Result<Vec<ShippingMethod>, CtError> {
        self.query_all("shipping-methods", &[]).await
    }
}
