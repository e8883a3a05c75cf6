//! Payment and its transactions. Only Success Charge/Refund transactions move money in the ledger.

use serde::{Deserialize, Serialize};

use super::common::{LocalizedString, Reference};
use crate::money::CtMoney;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// Absent only on payment drafts (API extension input before creation).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub interface_id: Option<String>,
    #[serde(default)]
    pub customer: Option<Reference>,
    pub amount_planned: CtMoney,
    #[serde(default)]
    pub payment_method_info: PaymentMethodInfo,
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
    #[serde(default)]
    pub custom: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodInfo {
    #[serde(default)]
    pub payment_interface: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub name: Option<LocalizedString>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Authorization, CancelAuthorization, Charge, Refund, Chargeback.
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: CtMoney,
    #[serde(default)]
    pub interaction_id: Option<String>,
    /// Initial, Pending, Success, Failure.
    pub state: String,
}
