//! eAccounting customers: find one by customer number, then by e-mail address, and create it
//! or bring its mapped fields up to date — with a PUT only when something actually changed.
//!
//! Customer data is personal data: nothing here logs a name, e-mail address, phone number or
//! address, and [`CustomerData`]'s `Debug` shows only the customer number. Error messages name
//! fields, never their values.

use reqwest::Method;
use serde_json::{Map, Value};

use super::api::{Api, TARGET};
use super::company::pages;
use super::Eaccounting;
use crate::error::VismaError;
use crate::http::Deadline;
use crate::reference::odata_literal;

pub use ctvisma_core::customer::CustomerData;

/// What [`upsert_customer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerAction {
    Created,
    /// The eAccounting field names that changed (e.g. `"InvoiceCity"`).
    Updated(Vec<String>),
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerOutcome {
    /// eAccounting's customer id (use it as `CustomerId` on invoices).
    pub id: String,
    pub action: CustomerAction,
}

/// Fields eAccounting fills itself (`readOnly` in `CustomerApi`) or that are only echoed
/// (`TermsOfPayment`): left out of a PUT body.
const READ_ONLY: &[&str] = &[
    "Id",
    "PayToAccountId",
    "LastInvoiceDate",
    "ChangedUtc",
    "MessageThreads",
    "Notes",
    "IsFutureInvoiceDateAllowed",
    "UnpaidInvoicesAmount",
    "TermsOfPayment",
];

/// Compared without regard to case: a different spelling is not a change.
const CASE_INSENSITIVE: &[&str] = &["EmailAddress", "InvoiceCountryCode", "CurrencyCode"];

/// Finds the customer (by number, then e-mail) and creates or updates it.
pub async fn upsert_customer(
    ea: &Eaccounting,
    c: &CustomerData,
    deadline: Deadline,
) -> Result<CustomerOutcome, VismaError> {
    let want = mapped(c)?;
    let api = ea.api();
    if let Some(existing) = find(api, c, deadline).await? {
        return update(api, c, &want, &existing, deadline).await;
    }
    let terms = default_terms(api, deadline).await?;
    let mut body = Map::new();
    if let Some(n) = clean(&c.customer_number) {
        body.insert("CustomerNumber".into(), Value::String(n));
    }
    body.insert("IsActive".into(), Value::Bool(true));
    body.insert("TermsOfPaymentId".into(), Value::String(terms));
    for (field, value) in &want {
        body.insert((*field).into(), value.clone());
    }
    match send(api, Method::POST, "/v2/customers", &Value::Object(body), deadline).await {
        Ok(created) => {
            let id = id_of(&created)?;
            tracing::info!(
                target_system = TARGET,
                customer_number = ?c.customer_number,
                visma_customer_id = %id,
                action = "created",
                "customer upserted"
            );
            Ok(CustomerOutcome {
                id,
                action: CustomerAction::Created,
            })
        }
        // Created by someone else since we looked (4000: the number is taken): update that one.
        Err(VismaError::Refused { ref code, .. }) if code == "4000" && c.customer_number.is_some() => {
            let number = clean(&c.customer_number).unwrap_or_default();
            match find_by(api, "CustomerNumber", &number, deadline).await? {
                Some(existing) => update(api, c, &want, &existing, deadline).await,
                None => Err(VismaError::Refused {
                    target: TARGET,
                    code: "4000".into(),
                    message: "customer number is taken but no customer with it can be found".into(),
                    transient: true,
                }),
            }
        }
        Err(e) => Err(e),
    }
}

/// PUTs `existing` with the fields of `want` that differ; nothing when none does.
async fn update(
    api: &Api,
    c: &CustomerData,
    want: &[(&'static str, Value)],
    existing: &Value,
    deadline: Deadline,
) -> Result<CustomerOutcome, VismaError> {
    let id = id_of(existing)?;
    let changed: Vec<&(&'static str, Value)> = want
        .iter()
        .filter(|(field, value)| !same(field, existing.get(*field), value))
        .collect();
    if changed.is_empty() {
        tracing::info!(
            target_system = TARGET,
            customer_number = ?c.customer_number,
            visma_customer_id = %id,
            action = "unchanged",
            "customer upserted"
        );
        return Ok(CustomerOutcome {
            id,
            action: CustomerAction::Unchanged,
        });
    }
    let mut body: Map<String, Value> = existing
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        // Absent means "keep the stored value" on a PUT; null would not validate everywhere.
        .filter(|(k, v)| !v.is_null() && !READ_ONLY.contains(&k.as_str()))
        .collect();
    for (field, value) in &changed {
        body.insert((*field).into(), value.clone());
    }
    let fields: Vec<String> = changed.iter().map(|(f, _)| (*f).to_string()).collect();
    send(
        api,
        Method::PUT,
        &format!("/v2/customers/{id}"),
        &Value::Object(body),
        deadline,
    )
    .await?;
    tracing::info!(
        target_system = TARGET,
        customer_number = ?c.customer_number,
        visma_customer_id = %id,
        action = "updated",
        changed = ?fields,
        "customer upserted"
    );
    Ok(CustomerOutcome {
        id,
        action: CustomerAction::Updated(fields),
    })
}

async fn send(api: &Api, method: Method, path: &str, body: &Value, deadline: Deadline) -> Result<Value, VismaError> {
    let text = serde_json::to_string(body).map_err(|e| VismaError::Protocol {
        target: TARGET,
        what: e.to_string(),
    })?;
    api.call(method, path, &[], Some(&text), deadline).await
}

/// By customer number first, then by e-mail address.
async fn find(api: &Api, c: &CustomerData, deadline: Deadline) -> Result<Option<Value>, VismaError> {
    if let Some(number) = clean(&c.customer_number) {
        if let Some(found) = find_by(api, "CustomerNumber", &number, deadline).await? {
            return Ok(Some(found));
        }
    }
    match clean(&c.email) {
        Some(email) => find_by(api, "EmailAddress", &email, deadline).await,
        None => Ok(None),
    }
}

/// The customer whose `field` equals `value`, preferring an active one.
async fn find_by(api: &Api, field: &str, value: &str, deadline: Deadline) -> Result<Option<Value>, VismaError> {
    let query = [
        ("$filter", format!("{field} eq {}", odata_literal(value))),
        ("$pagesize", "50".to_string()),
    ];
    let body = api.call(Method::GET, "/v2/customers", &query, None, deadline).await?;
    let data = body.get("Data").and_then(Value::as_array).cloned().unwrap_or_default();
    let active = data
        .iter()
        .find(|d| d.get("IsActive").and_then(Value::as_bool).unwrap_or(true))
        .cloned();
    Ok(active.or_else(|| data.into_iter().next()))
}

/// The first terms of payment available for sales: new customers need one.
async fn default_terms(api: &Api, deadline: Deadline) -> Result<String, VismaError> {
    pages(api, "/v2/termsofpayments", deadline)
        .await?
        .iter()
        .filter(|t| t.get("AvailableForSales").and_then(Value::as_bool).unwrap_or(true))
        .find_map(|t| t.get("Id").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| VismaError::Setup {
            target: TARGET,
            missing: vec!["a terms of payment available for sales (/v2/termsofpayments is empty)".into()],
        })
}

fn id_of(customer: &Value) -> Result<String, VismaError> {
    customer
        .get("Id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| VismaError::Protocol {
            target: TARGET,
            what: "a customer without Id".into(),
        })
}

/// Trimmed, and `None` when blank.
fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A permanent validation refusal that names the field, never its value.
fn invalid(message: String) -> VismaError {
    VismaError::Refused {
        target: TARGET,
        code: "2000".into(),
        message,
        transient: false,
    }
}

/// The `CustomerApi` fields we own, validated against the spec's limits. Free text too long
/// for Visma is cut; identifiers that do not fit are refused (cutting would make them wrong).
fn mapped(c: &CustomerData) -> Result<Vec<(&'static str, Value)>, VismaError> {
    let name = c.name.trim();
    let company = clean(&c.company);
    let display = company.as_deref().unwrap_or(name);
    if display.is_empty() {
        return Err(invalid(
            "Name is required: the customer has neither a name nor a company name".into(),
        ));
    }
    let postal = clean(&c.postal_code)
        .ok_or_else(|| invalid("InvoicePostalCode is required: the customer has no postal code".into()))?;
    let city = clean(&c.city).ok_or_else(|| invalid("InvoiceCity is required: the customer has no city".into()))?;
    let mut out: Vec<(&'static str, Value)> = vec![
        ("Name", Value::String(truncate(display, 50))),
        ("IsPrivatePerson", Value::Bool(company.is_none())),
    ];
    let mut text = |field: &'static str, v: Option<String>, max: usize, cut: bool| -> Result<(), VismaError> {
        if let Some(v) = v {
            if v.chars().count() > max && !cut {
                return Err(invalid(format!(
                    "{field} is longer than the {max} characters eAccounting takes"
                )));
            }
            out.push((field, Value::String(truncate(&v, max))));
        }
        Ok(())
    };
    if company.is_some() && !name.is_empty() {
        text("ContactPersonName", Some(name.to_string()), 100, true)?;
    }
    text("EmailAddress", clean(&c.email), 255, false)?;
    text("Telephone", clean(&c.phone), 50, false)?;
    text("InvoiceAddress1", clean(&c.address1), 50, true)?;
    text("InvoicePostalCode", Some(postal), 10, false)?;
    text("InvoiceCity", Some(city), 50, true)?;
    let country = clean(&c.country_code).map(|s| s.to_ascii_uppercase());
    if country
        .as_ref()
        .is_some_and(|s| s.len() != 2 || !s.chars().all(|ch| ch.is_ascii_alphabetic()))
    {
        return Err(invalid(
            "InvoiceCountryCode must be a two-letter ISO country code".into(),
        ));
    }
    text("InvoiceCountryCode", country, 2, false)?;
    text("VatNumber", clean(&c.vat_number), 20, false)?;
    text("CorporateIdentityNumber", clean(&c.corporate_id), 20, false)?;
    let currency = clean(&c.currency).map(|s| s.to_ascii_uppercase());
    if currency
        .as_ref()
        .is_some_and(|s| s.len() != 3 || !s.chars().all(|ch| ch.is_ascii_alphabetic()))
    {
        return Err(invalid("CurrencyCode must be a three-letter ISO currency code".into()));
    }
    text("CurrencyCode", currency, 3, false)?;
    if let Some(n) = clean(&c.customer_number) {
        if n.chars().count() > 16 {
            return Err(invalid(
                "CustomerNumber is longer than the 16 characters eAccounting takes".into(),
            ));
        }
    }
    Ok(out)
}

/// Whether Visma's stored value already is the one we want.
fn same(field: &str, stored: Option<&Value>, want: &Value) -> bool {
    match (stored, want) {
        (Some(Value::String(s)), Value::String(w)) => {
            let s = s.trim();
            if CASE_INSENSITIVE.contains(&field) {
                s.eq_ignore_ascii_case(w)
            } else {
                s == w
            }
        }
        (Some(s), w) => s == w,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest() -> CustomerData {
        CustomerData {
            email: Some("anna@example.com".into()),
            name: "Anna Svensson".into(),
            postal_code: Some("111 22".into()),
            city: Some("Stockholm".into()),
            ..CustomerData::default()
        }
    }

    #[test]
    fn mapping_and_limits() {
        let m = mapped(&guest()).unwrap();
        assert!(m.contains(&("IsPrivatePerson", Value::Bool(true))));
        assert!(m.contains(&("Name", Value::String("Anna Svensson".into()))));
        let long = CustomerData {
            company: Some("x".repeat(80)),
            country_code: Some("se".into()),
            ..guest()
        };
        let m = mapped(&long).unwrap();
        assert!(m.contains(&("Name", Value::String("x".repeat(50)))));
        assert!(m.contains(&("ContactPersonName", Value::String("Anna Svensson".into()))));
        assert!(m.contains(&("InvoiceCountryCode", Value::String("SE".into()))));
        let bad = CustomerData {
            customer_number: Some("1".repeat(17)),
            ..guest()
        };
        assert_eq!(mapped(&bad).unwrap_err().code(), "refused:2000");
        let bad = CustomerData {
            city: Some("  ".into()),
            ..guest()
        };
        assert!(mapped(&bad).unwrap_err().to_string().contains("InvoiceCity"));
    }

    #[test]
    fn comparison() {
        assert!(same(
            "EmailAddress",
            Some(&Value::String("A@x.se".into())),
            &Value::String("a@x.se".into())
        ));
        assert!(!same(
            "Name",
            Some(&Value::String("A".into())),
            &Value::String("a".into())
        ));
        assert!(!same("Telephone", None, &Value::String("1".into())));
        assert!(same("IsPrivatePerson", Some(&Value::Bool(true)), &Value::Bool(true)));
    }
}
