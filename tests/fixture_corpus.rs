//! Every real commercetools message, resource and error body in ../shared/fixtures deserializes
//! into its model. A new fixture whose name matches no model fails this test until it is mapped.

use ctvisma_core::commercetools::{
    customer::Customer, errors::ErrorResponse, inventory::InventoryEntry, message::Message,
    message::PayloadNotIncluded, order::Order, other, payment::Payment, product::Product, product::ProductProjection,
};
use ctvisma_core::input::{documents_from_str, Document};
use ctvisma_core::money::CtMoney;
use ctvisma_integration_tests::{fixture_files, read};
use serde::de::DeserializeOwned;
use serde_json::Value;

fn parse<T: DeserializeOwned>(name: &str, v: Value) -> T {
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// API extension requests wrap the resource in `resource.obj`.
fn unwrap_extension(v: Value) -> Value {
    match v.get("resource").and_then(|r| r.get("obj")) {
        Some(obj) if v.get("action").is_some() => obj.clone(),
        _ => v,
    }
}

/// Parses one payload value into its model, panicking with the file name on failure.
type PayloadCheck = fn(&str, Value);

/// Parses the payload fields a message can carry into their models.
fn check_message_payload(name: &str, m: &Message) {
    let fields: [(&str, PayloadCheck); 5] = [
        ("order", |n, v| drop(parse::<Order>(n, v))),
        ("payment", |n, v| drop(parse::<Payment>(n, v))),
        ("customer", |n, v| drop(parse::<Customer>(n, v))),
        ("productProjection", |n, v| drop(parse::<ProductProjection>(n, v))),
        ("inventoryEntry", |n, v| drop(parse::<InventoryEntry>(n, v))),
    ];
    for (field, check) in fields {
        if let Some(v) = m.payload.get(field) {
            // Event payloads carry references ({typeId, id}), not resources.
            if v.get("typeId").is_none() {
                check(name, v.clone());
            }
        }
    }
}

#[test]
fn every_resource_fixture_parses_into_its_model() {
    let files = fixture_files("resources");
    assert!(files.len() >= 40, "expected the whole corpus, found {}", files.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let v: Value = serde_json::from_str(&read(&path)).unwrap();
        let v = unwrap_extension(v);
        match name.split('-').next().unwrap() {
            "order" => drop(parse::<Order>(&name, v)),
            "payment" => drop(parse::<Payment>(&name, v)),
            "cart" => drop(parse::<other::Cart>(&name, v)),
            "customer" => drop(parse::<Customer>(&name, v)),
            "inventory" => drop(parse::<InventoryEntry>(&name, v)),
            "product" if name.contains("projection") => drop(parse::<ProductProjection>(&name, v)),
            "product" => drop(parse::<Product>(&name, v)),
            "money" => drop(parse::<CtMoney>(&name, v)),
            "store" => drop(parse::<other::Store>(&name, v)),
            "channel" => drop(parse::<other::Channel>(&name, v)),
            "shipping" => drop(parse::<other::ShippingMethod>(&name, v)),
            "tax" => drop(parse::<other::TaxCategory>(&name, v)),
            "subscription" => drop(parse::<other::Subscription>(&name, v)),
            _ => panic!("{name}: no model is mapped for this fixture"),
        }
    }
}

#[test]
fn every_message_fixture_unwraps_into_messages() {
    for path in fixture_files("messages") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = read(&path);
        if name == "payload-not-included-fragment.json" {
            let p: PayloadNotIncluded = serde_json::from_str(&text).unwrap();
            assert_eq!(p.payload_type.as_deref(), Some("ProductPublished"));
            continue;
        }
        let found = documents_from_str(&text);
        assert!(!found.is_empty(), "{name}: nothing found");
        for f in found {
            match f.document {
                Ok(Document::Message(m)) => check_message_payload(&name, &m),
                Ok(other) => panic!("{name} at {:?}: expected a message, got {other:?}", f.path),
                Err(e) => panic!("{name} at {:?}: {e}", f.path),
            }
        }
    }
}

#[test]
fn every_error_fixture_parses() {
    for path in fixture_files("errors") {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let r: ErrorResponse = serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.starts_with("concurrent-modification") {
            assert!(
                r.api_errors().iter().any(|e| e.code == "ConcurrentModification"),
                "{name}"
            );
        }
    }
    let wrapped: ErrorResponse = serde_json::from_str(&read(
        &ctvisma_integration_tests::shared_dir()
            .join("fixtures/commercetools/errors/concurrent-modification-409-current-version.json"),
    ))
    .unwrap();
    assert_eq!(wrapped.current_version(), Some(250));
}

#[test]
fn envelopes_and_wrappers_are_recognised() {
    let kinds = |file: &str| -> Vec<String> {
        let path = ctvisma_integration_tests::shared_dir()
            .join("fixtures/commercetools/messages")
            .join(file);
        documents_from_str(&read(&path))
            .into_iter()
            .map(|f| match f.document.unwrap() {
                Document::Message(m) => m.kind().to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(kinds("cloudevents-product-published.json"), ["ProductPublished"]);
    assert_eq!(
        kinds("messages-query-payment-created-charge-pending.json"),
        ["PaymentCreated"]
    );
    assert_eq!(kinds("change-resource-updated-product.json"), ["ResourceUpdated"]);
    assert_eq!(
        kinds("message-customer-created-payload-not-included.json"),
        ["CustomerCreated"]
    );
    // The legacy too-large shape has neither type nor payload: still a message, kind from the envelope.
    assert_eq!(kinds("message-incomplete-no-type-no-payload.json"), ["Message"]);
}
