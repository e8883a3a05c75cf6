//! Subscription deliveries: platform-format messages (`notificationType: Message`), change
//! notifications (`ResourceCreated/Updated/Deleted`), events, and CloudEvents wrapping any of
//! them. Messages from the `/messages` query endpoint have the same shape minus the envelope
//! fields and parse as the same type.

use serde::{Deserialize, Serialize};

use super::common::{ClientLogging, Reference};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// `Message`, `ResourceCreated`, `ResourceUpdated`, `ResourceDeleted`, `Event`; absent on
    /// `/messages` query results.
    #[serde(default)]
    pub notification_type: Option<String>,
    #[serde(default)]
    pub project_key: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub sequence_number: Option<u64>,
    #[serde(default)]
    pub resource: Option<Reference>,
    #[serde(default)]
    pub resource_version: Option<u64>,
    #[serde(default)]
    pub resource_user_provided_identifiers: Option<serde_json::Value>,
    /// Message type (`OrderCreated`, `PaymentTransactionStateChanged`, …).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
    #[serde(default)]
    pub created_by: Option<ClientLogging>,
    /// Set instead of the payload when it was too large for the queue.
    #[serde(default)]
    pub payload_not_included: Option<PayloadNotIncluded>,
    /// Change notifications: the resource's new version and the time of the change.
    #[serde(default)]
    pub modified_at: Option<String>,
    #[serde(default)]
    pub old_version: Option<u64>,
    /// Everything else: the message payload (`order`, `payment`, `transactionId`, `state`, …).
    #[serde(flatten)]
    pub payload: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadNotIncluded {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub payload_type: Option<String>,
}

impl Message {
    /// The message type, or for change notifications the notification type.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().or(self.notification_type.as_deref()).unwrap_or("")
    }

    pub fn resource_type(&self) -> Option<&str> {
        self.resource.as_ref()?.type_id.as_deref()
    }

    pub fn resource_id(&self) -> Option<&str> {
        self.resource.as_ref()?.id.as_deref()
    }

    /// The subscription's test message, sent once when a subscription is created.
    pub fn is_subscription_test(&self) -> bool {
        self.notification_type.as_deref() == Some("ResourceCreated") && self.resource_type() == Some("subscription")
    }

    /// Parses one payload field (`order`, `payment`, …) into its model, if present.
    pub fn payload_as<T: serde::de::DeserializeOwned>(&self, field: &str) -> Option<Result<T, serde_json::Error>> {
        self.payload.get(field).map(|v| T::deserialize(v))
    }
}

/// A CloudEvents 1.0 envelope (`specversion`), wrapping a platform message in `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudEvent {
    pub specversion: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    /// A string in CloudEvents, unlike `sequenceNumber`.
    #[serde(default)]
    pub sequence: Option<String>,
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}
