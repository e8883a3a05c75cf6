//! Customer: master data for the Visma customer register. Every field but ids is personal data.

use serde::{Deserialize, Serialize};

use super::common::{Address, Reference};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub vat_id: Option<String>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub default_billing_address_id: Option<String>,
    #[serde(default)]
    pub default_shipping_address_id: Option<String>,
    #[serde(default)]
    pub stores: Vec<Reference>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}

impl std::fmt::Debug for Customer {
    // Only identifiers: names, emails and addresses must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("customer_number", &self.customer_number)
            .finish_non_exhaustive()
    }
}
