//! The customer a Visma document is made out to, as the shop knows it: from a commercetools
//! `Customer` (CustomerCreated/Updated) or from an order (its customer, or a guest checkout with
//! only an e-mail address and a billing address).
//!
//! Customer data is personal data: `Debug` shows only the customer number, so a value that ends
//! up in a log line never carries a name, e-mail address, phone number or address.

use std::fmt;

use crate::commercetools::common::Address;
use crate::commercetools::customer::Customer;
use crate::commercetools::order::Order;

/// Plain data; `None` (or blank) means "no opinion": an existing Visma value is then kept.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CustomerData {
    /// The shop's customer number (the lookup key); `None` for guest checkouts.
    pub customer_number: Option<String>,
    pub email: Option<String>,
    /// The person's name.
    pub name: String,
    /// Company name: `Some` makes a business customer (B2B) named after the company.
    pub company: Option<String>,
    pub vat_number: Option<String>,
    pub corporate_id: Option<String>,
    pub address1: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    pub phone: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
}

impl CustomerData {
    /// The customer of a commercetools `Customer` resource: its billing address (the default
    /// billing address, else the first one).
    pub fn from_customer(c: &Customer) -> Self {
        let billing = c
            .default_billing_address_id
            .as_ref()
            .and_then(|id| c.addresses.iter().find(|a| a.id.as_ref() == Some(id)))
            .or_else(|| c.addresses.first());
        let person = person_name(c.first_name.as_deref(), c.last_name.as_deref());
        let mut data = Self {
            customer_number: blank_to_none(c.customer_number.clone()),
            email: blank_to_none(c.email.clone()),
            name: person,
            company: blank_to_none(c.company_name.clone()),
            vat_number: blank_to_none(c.vat_id.clone()),
            ..Self::default()
        };
        if let Some(a) = billing {
            data.fill_from_address(a);
        }
        data
    }

    /// The customer an order is invoiced to: its billing address (else shipping address) and
    /// `customerEmail`. A guest checkout has no customer number; it is found by e-mail.
    pub fn from_order(o: &Order) -> Self {
        let mut data = Self {
            email: blank_to_none(o.customer_email.clone()),
            currency: Some(o.total_price.currency_code.clone()),
            ..Self::default()
        };
        if let Some(a) = o.billing_address.as_ref().or(o.shipping_address.as_ref()) {
            data.fill_from_address(a);
            if data.email.is_none() {
                data.email = blank_to_none(a.email.clone());
            }
        }
        data
    }

    fn fill_from_address(&mut self, a: &Address) {
        if self.name.trim().is_empty() {
            self.name = person_name(a.first_name.as_deref(), a.last_name.as_deref());
        }
        if self.company.is_none() {
            self.company = blank_to_none(a.company.clone());
        }
        let street = [a.street_name.as_deref(), a.street_number.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        self.address1 = blank_to_none(Some(street));
        self.postal_code = blank_to_none(a.postal_code.clone());
        self.city = blank_to_none(a.city.clone());
        self.country_code = blank_to_none(a.country.clone());
        self.phone = blank_to_none(a.phone.clone().or_else(|| a.mobile.clone()));
    }
}

fn person_name(first: Option<&str>, last: Option<&str>) -> String {
    [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Stands in for a personal value in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for CustomerData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |v: &Option<String>| v.as_ref().map(|_| Redacted);
        f.debug_struct("CustomerData")
            .field("customer_number", &self.customer_number)
            .field("email", &r(&self.email))
            .field("name", &Redacted)
            .field("company", &r(&self.company))
            .field("vat_number", &r(&self.vat_number))
            .field("corporate_id", &r(&self.corporate_id))
            .field("address1", &r(&self.address1))
            .field("postal_code", &r(&self.postal_code))
            .field("city", &r(&self.city))
            .field("country_code", &r(&self.country_code))
            .field("phone", &r(&self.phone))
            .field("currency", &r(&self.currency))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_order_and_registered_customer() {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": "o-1", "customerEmail": "anna@example.com",
            "totalPrice": {"currencyCode": "SEK", "centAmount": 100, "fractionDigits": 2},
            "billingAddress": {"country": "SE", "firstName": "Anna", "lastName": "Svensson",
                "streetName": "Storgatan", "streetNumber": "1", "postalCode": "111 22", "city": "Stockholm"}
        }))
        .unwrap();
        let c = CustomerData::from_order(&order);
        assert_eq!(c.customer_number, None);
        assert_eq!(c.email.as_deref(), Some("anna@example.com"));
        assert_eq!(c.name, "Anna Svensson");
        assert_eq!(c.address1.as_deref(), Some("Storgatan 1"));
        assert_eq!(c.currency.as_deref(), Some("SEK"));
        let debug = format!("{c:?}");
        assert!(!debug.contains("Anna") && !debug.contains("example.com") && !debug.contains("Storgatan"));

        let customer: Customer = serde_json::from_value(serde_json::json!({
            "id": "c-1", "customerNumber": "K-1001", "email": "info@acme.se", "companyName": "Acme AB",
            "vatId": "SE556677889901", "firstName": "Bo", "lastName": "Ek",
            "addresses": [{"id": "a1", "country": "SE", "postalCode": "41101", "city": "Göteborg"},
                          {"id": "a2", "country": "NO", "postalCode": "0150", "city": "Oslo"}],
            "defaultBillingAddressId": "a2"
        }))
        .unwrap();
        let c = CustomerData::from_customer(&customer);
        assert_eq!(c.customer_number.as_deref(), Some("K-1001"));
        assert_eq!(c.company.as_deref(), Some("Acme AB"));
        assert_eq!(c.city.as_deref(), Some("Oslo"));
        assert_eq!(c.name, "Bo Ek");
    }
}
