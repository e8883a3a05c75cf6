//! The invoice route's calls: look a customer invoice / credit note up by our reference, create
//! it, check Visma.net's VAT and amount against the posting, release it (or leave it on hold).

use ctvisma_core::rules::Documents;
use ctvisma_core::Posting;
use reqwest::Method;
use serde_json::Value;

use super::auth::TARGET;
use super::invoice::{self, ArKind};
use super::Vismanet;
use crate::error::VismaError;
use crate::http::Deadline;
use crate::Posted;

impl Vismanet {
    /// The document listed under `reference` (our `externalReference`), as listed.
    async fn ar_listed(&self, kind: ArKind, reference: &str, deadline: Deadline) -> Result<Option<Value>, VismaError> {
        let query = [
            ("externalReference", reference.to_string()),
            ("pageSize", "2".to_string()),
        ];
        let response = self.call(Method::GET, kind.paths().1, &query, None, deadline).await?;
        let list: Vec<Value> = response.json().await.map_err(|e| VismaError::Protocol {
            target: TARGET,
            what: format!("customer document list: {e}"),
        })?;
        Ok(list.into_iter().next())
    }

    /// Reconcile-before-write for invoice-route postings.
    pub(super) async fn find_ar(
        &self,
        posting: &Posting,
        kind: ArKind,
        deadline: Deadline,
    ) -> Result<Option<Posted>, VismaError> {
        let reference = invoice::external_reference(posting);
        Ok(self.ar_listed(kind, &reference, deadline).await?.map(|doc| {
            let number = doc.get("referenceNumber").and_then(Value::as_str).unwrap_or_default();
            Posted {
                id: number.to_string(),
                number: Some(number.to_string()),
                total: invoice::figures(&doc).0.unwrap_or_else(|| invoice::gross(posting)),
            }
        }))
    }

    /// Creates the document for `customer`, checks its figures and releases it when asked.
    pub(super) async fn post_ar(
        &self,
        posting: &Posting,
        kind: ArKind,
        customer: &str,
        deadline: Deadline,
    ) -> Result<Posted, VismaError> {
        let hold = self.documents == Documents::Drafts;
        // A credit note names the invoice it reverses when that invoice is in Visma.net.
        let original = match (&posting.refers_to, kind) {
            (Some(key), ArKind::CreditNote) => {
                let reference = invoice::invoice_reference(posting, key);
                self.ar_listed(ArKind::Invoice, &reference, deadline)
                    .await?
                    .and_then(|d| d.get("referenceNumber").and_then(Value::as_str).map(str::to_string))
            }
            _ => None,
        };
        let body = invoice::document(posting, kind, customer, hold, original.as_deref()).to_string();
        let (create, v1) = kind.paths();
        let response = self.call(Method::POST, create, &[], Some(&body), deadline).await?;
        let number = super::location_number(&response, "customer document")?;
        let path = format!("{v1}/{number}");
        let doc: Value = self
            .call(Method::GET, &path, &[], None, deadline)
            .await?
            .json()
            .await
            .map_err(|e| VismaError::Protocol {
                target: TARGET,
                what: format!("customer document {number}: {e}"),
            })?;
        check_figures(posting, &number, &doc)?;
        if self.release && !hold {
            self.call(Method::POST, &format!("{path}/action/release"), &[], None, deadline)
                .await?;
        }
        Ok(Posted {
            id: number.clone(),
            number: Some(number),
            total: invoice::gross(posting),
        })
    }
}

/// Visma.net computes the VAT from the VAT codes: a document whose VAT or amount differs from
/// our posting would book other figures than the rules say, so it stays unreleased for finance.
fn check_figures(posting: &Posting, number: &str, doc: &Value) -> Result<(), VismaError> {
    let (amount, vat) = invoice::figures(doc);
    let (our_gross, our_vat) = (invoice::gross(posting), invoice::vat(posting));
    // Öresavrundning: Visma.net rounds the document itself; allow our rounding line's size.
    let slack = posting.total(ctvisma_core::Role::Rounding).abs();
    let vat_ok = vat.is_none_or(|v| v.abs() == our_vat);
    let gross_ok = amount.is_none_or(|a| (a.abs() - our_gross).abs() <= slack);
    if vat_ok && gross_ok {
        return Ok(());
    }
    Err(VismaError::Refused {
        target: TARGET,
        code: "vat_mismatch".into(),
        message: format!(
            "document {number} was created but not released: Visma.net computed VAT {} and amount {}, \
             the posting has VAT {our_vat} and amount {our_gross}; fix the VAT codes or the document in Visma.net",
            vat.map_or("?".into(), |v| v.to_string()),
            amount.map_or("?".into(), |v| v.to_string()),
        ),
        transient: false,
    })
}
