//! Recognises what a JSON document is: an SQS event, an SNS or CloudEvents wrapper, a
//! subscription message, a `/messages` page, an API extension request, or a bare resource;
//! and unwraps it down to the commercetools messages and resources inside.

use serde_json::Value;

use crate::commercetools::customer::Customer;
use crate::commercetools::inventory::InventoryEntry;
use crate::commercetools::message::{CloudEvent, Message};
use crate::commercetools::order::Order;
use crate::commercetools::payment::Payment;
use crate::error::CoreError;

/// One commercetools thing found in an input.
#[derive(Debug, Clone)]
pub enum Document {
    Order(Box<Order>),
    Payment(Box<Payment>),
    Customer(Box<Customer>),
    InventoryEntry(Box<InventoryEntry>),
    Message(Box<Message>),
    /// Recognised, but nothing ctvisma posts (carts, categories, …): the kind, for the report.
    Other(String),
}

/// A document with where it was found inside its input (`Records[2].body`), for error reports.
#[derive(Debug)]
pub struct Found {
    pub path: String,
    pub document: Result<Document, CoreError>,
}

/// Parses text and unwraps every document in it. Never panics; a part that cannot be read is
/// returned as an error at its path while the rest is still read.
pub fn documents_from_str(text: &str) -> Vec<Found> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => documents(v),
        Err(e) => vec![Found {
            path: String::new(),
            document: Err(CoreError::Parse(e.to_string())),
        }],
    }
}

/// Unwraps every document in a JSON value.
pub fn documents(value: Value) -> Vec<Found> {
    let mut out = Vec::new();
    walk(value, String::new(), &mut out, 0);
    out
}

/// Wrappers nest at most a few levels (SQS → SNS → CloudEvents → message); deeper is refused.
const MAX_DEPTH: usize = 8;

fn walk(value: Value, path: String, out: &mut Vec<Found>, depth: usize) {
    let fail = |out: &mut Vec<Found>, path: String, msg: String| {
        out.push(Found {
            path,
            document: Err(CoreError::Parse(msg)),
        });
    };
    if depth > MAX_DEPTH {
        return fail(out, path, "wrappers nested too deeply".into());
    }
    let Value::Object(obj) = value else {
        return fail(out, path, "expected a JSON object".into());
    };
    let join = |p: &str| {
        if path.is_empty() {
            p.to_string()
        } else {
            format!("{path}.{p}")
        }
    };

    // SQS Lambda event: each record's body is a JSON string.
    if let Some(Value::Array(records)) = obj.get("Records") {
        for (i, r) in records.iter().enumerate() {
            let p = join(&format!("Records[{i}].body"));
            match r.get("body").and_then(Value::as_str).map(serde_json::from_str::<Value>) {
                Some(Ok(v)) => walk(v, p, out, depth + 1),
                Some(Err(e)) => fail(out, p, format!("body is not JSON: {e}")),
                None => fail(out, p, "SQS record without a string body".into()),
            }
        }
        return;
    }
    // SNS notification delivered through SQS: the message is a JSON string.
    if obj.get("Type").and_then(Value::as_str) == Some("Notification") {
        let p = join("Message");
        match obj
            .get("Message")
            .and_then(Value::as_str)
            .map(serde_json::from_str::<Value>)
        {
            Some(Ok(v)) => walk(v, p, out, depth + 1),
            Some(Err(e)) => fail(out, p, format!("SNS Message is not JSON: {e}")),
            None => fail(out, p, "SNS notification without a Message".into()),
        }
        return;
    }
    let value = Value::Object(obj);
    if value.get("specversion").is_some() {
        return match serde_json::from_value::<CloudEvent>(value) {
            Ok(CloudEvent { data: Some(data), .. }) => walk(data, join("data"), out, depth + 1),
            Ok(_) => fail(out, path, "CloudEvent without data".into()),
            Err(e) => fail(out, path, format!("CloudEvent: {e}")),
        };
    }
    if let Some(Value::Array(results)) = value.get("results") {
        for (i, r) in results.iter().enumerate() {
            walk(r.clone(), join(&format!("results[{i}]")), out, depth + 1);
        }
        return;
    }
    // API extension request: {"action": "Create", "resource": {"typeId", "id", "obj": {…}}}.
    if value.get("action").is_some() {
        if let Some(obj) = value.get("resource").and_then(|r| r.get("obj")) {
            return walk(obj.clone(), join("resource.obj"), out, depth + 1);
        }
    }
    out.push(Found {
        document: classify(value),
        path,
    });
}

fn parse<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, CoreError> {
    from_value_at(v, what)
}

/// Deserializes `v`; a failure names `what` and the field's path in it (`order:
/// lineItems[0].quantity: invalid type: …`), so a refused message says where it is wrong.
pub(crate) fn from_value_at<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, CoreError> {
    // Fast path without path tracking (most inputs are fine); the slow one only names the field.
    if let Ok(t) = T::deserialize(&v) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        CoreError::Parse(if path == "." {
            format!("{what}: {inner}")
        } else {
            format!("{what}: {path}: {inner}")
        })
    })
}

/// A bare message or resource.
fn classify(v: Value) -> Result<Document, CoreError> {
    let has = |k: &str| v.get(k).is_some();
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    let is_message = has("notificationType")
        || (v.get("resource").and_then(|r| r.get("typeId")).is_some()
            && (has("sequenceNumber") || has("resourceVersion") || has("payloadNotIncluded")));
    if is_message {
        return parse(v, "message").map(|m| Document::Message(Box::new(m)));
    }
    match kind.as_str() {
        "Order" => return parse(v, "order").map(|o| Document::Order(Box::new(o))),
        "Customer" => return parse(v, "customer").map(|c| Document::Customer(Box::new(c))),
        "Cart" | "Product" | "ProductProjection" | "Category" | "Store" | "Channel" => {
            return Ok(Document::Other(kind));
        }
        _ => {}
    }
    if has("orderState") || (has("lineItems") && has("totalPrice") && has("id") && has("createdAt")) {
        return parse(v, "order").map(|o| Document::Order(Box::new(o)));
    }
    if has("amountPlanned") && has("transactions") {
        return parse(v, "payment").map(|p| Document::Payment(Box::new(p)));
    }
    if has("quantityOnStock") {
        return parse(v, "inventory entry").map(|i| Document::InventoryEntry(Box::new(i)));
    }
    if has("email") && has("addresses") && has("id") {
        return parse(v, "customer").map(|c| Document::Customer(Box::new(c)));
    }
    Ok(Document::Other(if kind.is_empty() {
        "unknown".to_string()
    } else {
        kind
    }))
}

/// The order inside a document: a bare Order, or an OrderCreated / OrderImported message.
pub fn order_of(doc: &Document) -> Option<Result<Order, CoreError>> {
    match doc {
        Document::Order(o) => Some(Ok((**o).clone())),
        Document::Message(m) if matches!(m.kind(), "OrderCreated" | "OrderImported") => m
            .payload_as::<Order>("order")
            .map(|r| r.map_err(|e| CoreError::Parse(format!("{} message: order: {e}", m.kind())))),
        _ => None,
    }
}
