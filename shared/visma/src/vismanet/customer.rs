//! Visma.net customers for invoice documents: found by the shop's customer number, else by
//! e-mail, else (business customers) by VAT registration id; created when missing. Existing
//! customers are not updated (a PUT could overwrite what finance corrected in Visma.net).
//! Customer data is personal data: only customer numbers are ever logged.

use ctvisma_core::customer::CustomerData;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::auth::TARGET;
use super::Vismanet;
use crate::error::VismaError;
use crate::http::Deadline;

/// Visma.net customer numbers (CustomerCD) are short codes; a longer shop number is not used
/// as the Visma.net number, Visma.net's number series picks one instead.
const NUMBER_MAX: usize = 10;

fn fits(number: &str) -> bool {
    !number.is_empty()
        && number.chars().count() <= NUMBER_MAX
        && number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn wrap(v: impl Into<Value>) -> Value {
    json!({ "value": v.into() })
}

/// The `CustomerUpdateDto` for a new customer: name, contact, address, VAT and corporate ids.
pub fn customer_body(c: &CustomerData) -> Value {
    let mut body = Map::new();
    let name = c
        .company
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| Some(c.name.clone()).filter(|n| !n.trim().is_empty()))
        .or_else(|| c.email.clone())
        .unwrap_or_else(|| "Webshop customer".into());
    body.insert("name".into(), wrap(name.chars().take(60).collect::<String>()));
    if let Some(n) = c.customer_number.as_deref().filter(|n| fits(n)) {
        body.insert("number".into(), wrap(n));
        body.insert("overrideNumberSeries".into(), wrap(true));
    }
    let mut put = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            body.insert(key.into(), wrap(v.as_str()));
        }
    };
    put("currencyId", &c.currency);
    put("vatRegistrationId", &c.vat_number);
    put("corporateId", &c.corporate_id);
    let mut contact = Map::new();
    for (k, v) in [("email", &c.email), ("phone1", &c.phone)] {
        if let Some(v) = v {
            contact.insert(k.into(), wrap(v.as_str()));
        }
    }
    if !c.name.trim().is_empty() {
        contact.insert("name".into(), wrap(c.name.as_str()));
    }
    body.insert("mainContact".into(), wrap(Value::Object(contact)));
    let mut address = Map::new();
    for (k, v) in [
        ("addressLine1", &c.address1),
        ("postalCode", &c.postal_code),
        ("city", &c.city),
        ("countryId", &c.country_code),
    ] {
        if let Some(v) = v {
            address.insert(k.into(), wrap(v.as_str()));
        }
    }
    body.insert("mainAddress".into(), wrap(Value::Object(address)));
    Value::Object(body)
}

impl Vismanet {
    /// The Visma.net customer number of `c`, creating the customer when none matches.
    pub async fn customer_number(&self, c: &CustomerData, deadline: Deadline) -> Result<String, VismaError> {
        if let Some(found) = self.find_customer(c, deadline).await? {
            return Ok(found);
        }
        let body = customer_body(c).to_string();
        let response = self
            .call(Method::POST, "/v1/customer", &[], Some(&body), deadline)
            .await?;
        let number = super::location_number(&response, "customer")?;
        tracing::info!(target_system = TARGET, customer = %number, "customer created");
        Ok(number)
    }

    async fn find_customer(&self, c: &CustomerData, deadline: Deadline) -> Result<Option<String>, VismaError> {
        if let Some(n) = c.customer_number.as_deref().filter(|n| fits(n)) {
            match self
                .call(Method::GET, &format!("/v1/customer/{n}"), &[], None, deadline)
                .await
            {
                Ok(_) => return Ok(Some(n.to_string())),
                Err(VismaError::Refused { code, .. }) if code == "404" => {}
                Err(e) => return Err(e),
            }
        }
        let mut filters = Vec::new();
        if let Some(e) = &c.email {
            filters.push(("email", e.clone()));
        }
        if c.company.is_some() {
            if let Some(v) = &c.vat_number {
                filters.push(("vatRegistrationId", v.clone()));
            }
        }
        for (key, value) in filters {
            let query = [(key, value), ("pageSize", "2".to_string())];
            let response = self.call(Method::GET, "/v1/customer", &query, None, deadline).await?;
            let list: Vec<Value> = response.json().await.map_err(|e| VismaError::Protocol {
                target: TARGET,
                what: format!("customer list: {e}"),
            })?;
            // Several matches (a shared mailbox): the first one, as Visma.net lists them.
            if let Some(n) = list.iter().find_map(|c| c.get("number").and_then(Value::as_str)) {
                return Ok(Some(n.to_string()));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_shop_numbers_are_not_used_as_visma_numbers() {
        assert!(fits("K-1001"));
        assert!(!fits("a-very-long-customer-number"));
        let c = CustomerData {
            customer_number: Some("K-1001".into()),
            name: "Bo Ek".into(),
            ..CustomerData::default()
        };
        let body = customer_body(&c);
        assert_eq!(body["number"]["value"], "K-1001");
        assert_eq!(body["name"]["value"], "Bo Ek");
    }
}
