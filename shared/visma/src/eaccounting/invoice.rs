//! Invoices and credit invoices in eAccounting (`documents = "invoices" | "drafts"`).
//!
//! - One article row per revenue, shipping, discount and gift-card line, at quantity 1 and the
//!   line's net as unit price, so every row carries exactly the posting's amount. The row's
//!   article decides the account and VAT rate (through its account coding): the SKU's article
//!   when its coding books the line's account at the line's rate, else an article of our own
//!   per (account, rate), `SHIPPING-3520-25`, created on first use.
//! - Our reference (event, order number, idempotency key) is `OurReference`: lookups search it,
//!   first among invoices, then among drafts.
//! - A draft is compared with the posting before anything is booked: eAccounting computes VAT
//!   per row, and when its total or VAT differs from the order's by even one öre the draft stays
//!   for finance to review and the posting is refused with both figures.
//! - `invoices`: the draft is converted with the expected totals as a server-side check.
//!   `drafts`: it stays a draft for finance to convert.
//! - Credit invoices (`IsCreditInvoice`) name the invoice they credit (number and reference) in
//!   `YourReference` and a text row; the API has no writable link field.

use ctvisma_core::posting::EventKind;
use ctvisma_core::{Posting, Role};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::api::{Api, TARGET};
use super::article::{find_article, upsert_article, ArticleData, NUMBER_MAX};
use super::company::Invoicing;
use crate::error::VismaError;
use crate::http::Deadline;
use crate::reference::{document_text, key_in, key_token, odata_literal};
use crate::{amount, Posted};

/// `CustomerInvoiceDraftApi.OurReference` maxLength.
pub const REFERENCE_MAX: usize = 100;
/// `BuyersOrderReference` maxLength.
const ORDER_REF_MAX: usize = 35;

/// Invoice and credit-note postings go as invoice documents; everything else as vouchers.
pub fn is_invoice_document(posting: &Posting) -> bool {
    matches!(posting.event, EventKind::Invoice | EventKind::CreditNote)
}

/// One invoice row before its article id is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowPlan {
    /// The article to use when it exists with the right coding (the SKU's).
    pub preferred: Option<String>,
    /// Our own article for the row's (account, rate): the fallback, created when missing.
    pub fallback: String,
    pub coding_id: String,
    pub text: String,
    /// Positive for what the customer pays (revenue), negative for discounts, on invoices and
    /// credit invoices alike: eAccounting turns a credit invoice's total negative itself.
    pub unit_price: Decimal,
}

/// The rows of `posting` (in the company's currency), or every line no coding can book.
pub fn plan_rows(posting: &Posting, invoicing: &Invoicing) -> Result<Vec<RowPlan>, VismaError> {
    let credit = posting.event == EventKind::CreditNote;
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for line in posting.lines.iter().filter(|l| !l.amount.is_zero()) {
        let role = match line.role {
            Role::Revenue | Role::Shipping | Role::Discount | Role::GiftCard => line.role,
            _ => continue,
        };
        let percent: Decimal = line
            .vat_rate
            .as_deref()
            .and_then(|r| r.parse().ok())
            .unwrap_or_default();
        let Ok(account) = line.account.0.parse::<i64>() else {
            missing.push(format!("account {:?} is not a number", line.account.0));
            continue;
        };
        let Some(coding) = invoicing.coding_for(account, percent.normalize()) else {
            missing.push(format!(
                "an article account coding that books account {account} at {} % VAT ({:?} lines): add one in eAccounting, or book this entity with documents = \"vouchers\"",
                percent.normalize(),
                role
            ));
            continue;
        };
        let role_name = format!("{role:?}").to_ascii_uppercase();
        let fallback = format!("{role_name}-{account}-{}", percent.normalize());
        let text = line.text.clone().unwrap_or_else(|| role_name.to_lowercase());
        rows.push(RowPlan {
            preferred: line.sku.clone().filter(|s| s.chars().count() <= NUMBER_MAX),
            fallback,
            coding_id: coding.id.clone(),
            text,
            unit_price: if credit { line.amount } else { -line.amount },
        });
    }
    if !missing.is_empty() {
        return Err(VismaError::Setup {
            target: TARGET,
            missing,
        });
    }
    if rows.is_empty() {
        return Err(VismaError::Unsupported {
            target: TARGET,
            message: format!("{}: no line an invoice row can carry", posting.idempotency_key),
        });
    }
    Ok(rows)
}

/// What the document must add up to: (total incl. VAT, VAT), negative on credit invoices.
pub fn expected_totals(posting: &Posting) -> (Decimal, Decimal) {
    (posting.total(Role::Receivable), -posting.total(Role::Vat))
}

/// The article id for a row: the SKU's article when its coding fits, else our own per coding.
pub async fn article_for(api: &Api, row: &RowPlan, unit_id: &str, deadline: Deadline) -> Result<String, VismaError> {
    if let Some(sku) = &row.preferred {
        match find_article(api, sku, deadline).await? {
            Some(a) if same_id(a.get("CodingId"), &row.coding_id) => {
                if let Some(id) = a.get("Id").and_then(Value::as_str) {
                    return Ok(id.to_string());
                }
            }
            Some(_) => {} // the SKU's article books another account or rate: use ours
            None => {
                let data = ArticleData {
                    number: sku.clone(),
                    name: row.text.clone(),
                    coding_id: row.coding_id.clone(),
                    unit_id: unit_id.to_string(),
                };
                return upsert_article(api, &data, deadline).await.map(|(id, _)| id);
            }
        }
    }
    let data = ArticleData {
        number: row.fallback.clone(),
        name: row.fallback.clone(),
        coding_id: row.coding_id.clone(),
        unit_id: unit_id.to_string(),
    };
    upsert_article(api, &data, deadline).await.map(|(id, _)| id)
}

fn same_id(stored: Option<&Value>, want: &str) -> bool {
    stored
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case(want))
}

/// The original invoice a credit invoice names: number and reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credited {
    pub number: String,
    pub reference: String,
}

/// The `CustomerInvoiceDraftApi` body.
pub fn draft_body(
    posting: &Posting,
    customer_id: &str,
    rows: &[(RowPlan, String)],
    credited: Option<&Credited>,
) -> Value {
    let credit = posting.event == EventKind::CreditNote;
    let mut out_rows: Vec<Value> = Vec::new();
    if let Some(c) = credited {
        out_rows.push(json!({
            "IsTextRow": true,
            "ReversedConstructionServicesVatFree": false,
            "Text": format!("Kreditering av faktura {} / credits invoice {}", c.number, c.reference),
        }));
    }
    for (row, article_id) in rows {
        out_rows.push(json!({
            "ArticleId": article_id,
            "IsTextRow": false,
            "ReversedConstructionServicesVatFree": false,
            "Text": row.text.chars().take(2000).collect::<String>(),
            "UnitPrice": amount::number(row.unit_price, 2),
            "Quantity": 1,
        }));
    }
    let mut body = json!({
        "CustomerId": customer_id,
        "IsCreditInvoice": credit,
        "EuThirdParty": false,
        "RotReducedInvoicingType": 0,
        "InvoiceDate": format!("{}T00:00:00", posting.date),
        "OurReference": document_text(posting, REFERENCE_MAX),
        "BuyersOrderReference": posting.external_ref.chars().take(ORDER_REF_MAX).collect::<String>(),
        "Rows": out_rows,
    });
    if let Some(c) = credited {
        body["YourReference"] = json!(format!("Credit of invoice {}", c.number));
    }
    body
}

/// A document found or created: the id, its number (invoices) and its totals.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: String,
    pub number: Option<String>,
    pub total: Decimal,
    pub vat: Decimal,
    pub is_draft: bool,
}

impl Found {
    fn read(v: &Value, is_draft: bool) -> Self {
        let num = |k: &str| v.get(k).and_then(amount::parse).unwrap_or_default();
        Self {
            id: v.get("Id").and_then(Value::as_str).unwrap_or_default().to_string(),
            number: v.get("InvoiceNumber").and_then(|n| match n {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            }),
            total: num("TotalAmount"),
            vat: num("TotalVatAmount"),
            is_draft,
        }
    }

    pub fn posted(&self) -> Posted {
        Posted {
            id: self.id.clone(),
            number: self.number.clone().or_else(|| Some(format!("draft {}", self.id))),
            total: self.total.abs(),
        }
    }
}

/// The invoice (else the draft) whose `OurReference` is `reference`.
pub async fn find_document(api: &Api, reference: &str, deadline: Deadline) -> Result<Option<Found>, VismaError> {
    let query = [("$filter", format!("OurReference eq {}", odata_literal(reference)))];
    for (path, is_draft) in [("/v2/customerinvoices", false), ("/v2/customerinvoicedrafts", true)] {
        let body = api.call(Method::GET, path, &query, None, deadline).await?;
        if let Some(first) = body.get("Data").and_then(Value::as_array).and_then(|d| d.first()) {
            return Ok(Some(Found::read(first, is_draft)));
        }
    }
    Ok(None)
}

/// The customer's invoice (else draft) whose reference carries the idempotency key `key`; a
/// draft (not yet converted by finance) is named "draft".
pub async fn find_credited(
    api: &Api,
    customer_id: &str,
    key: &str,
    deadline: Deadline,
) -> Result<Option<Credited>, VismaError> {
    let token = key_token(key, REFERENCE_MAX);
    for (path, is_draft) in [("/v2/customerinvoices", false), ("/v2/customerinvoicedrafts", true)] {
        if let Some(found) = find_in(api, path, customer_id, &token, deadline).await? {
            return Ok(Some(Credited {
                number: if is_draft { "draft".into() } else { found.0 },
                reference: found.1,
            }));
        }
    }
    Ok(None)
}

/// (number, reference) of the customer's non-credit document at `path` carrying `token`.
async fn find_in(
    api: &Api,
    path: &str,
    customer_id: &str,
    token: &str,
    deadline: Deadline,
) -> Result<Option<(String, String)>, VismaError> {
    let mut page = 1;
    loop {
        let query = [
            (
                "$filter",
                format!(
                    "CustomerId eq {} and IsCreditInvoice eq false",
                    odata_literal(customer_id)
                ),
            ),
            ("$page", page.to_string()),
            ("$pagesize", "500".to_string()),
        ];
        let body = api.call(Method::GET, path, &query, None, deadline).await?;
        let data = body.get("Data").and_then(Value::as_array).cloned().unwrap_or_default();
        for inv in &data {
            let reference = inv.get("OurReference").and_then(Value::as_str).unwrap_or_default();
            if key_in(reference) == Some(token) {
                let number = Found::read(inv, false).number.unwrap_or_default();
                return Ok(Some((number, reference.to_string())));
            }
        }
        let pages = body
            .pointer("/Meta/TotalNumberOfPages")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        if page >= pages {
            return Ok(None);
        }
        page += 1;
    }
}

pub async fn create_draft(api: &Api, body: &Value, deadline: Deadline) -> Result<Found, VismaError> {
    let text = to_text(body)?;
    let created = api
        .call(Method::POST, "/v2/customerinvoicedrafts", &[], Some(&text), deadline)
        .await?;
    Ok(Found::read(&created, true))
}

/// Converts a draft into an invoice; eAccounting itself refuses when its totals are not ours.
pub async fn convert(
    api: &Api,
    draft_id: &str,
    expected: (Decimal, Decimal),
    deadline: Deadline,
) -> Result<Found, VismaError> {
    let check = json!({
        "TotalAmountInvoiceCurrency": amount::number(expected.0, 2),
        "TotalVatAmountInvoiceCurrency": amount::number(expected.1, 2),
    });
    let path = format!("/v2/customerinvoicedrafts/{draft_id}/convert");
    let created = api
        .call(Method::POST, &path, &[], Some(&to_text(&check)?), deadline)
        .await?;
    Ok(Found::read(&created, false))
}

/// A permanent refusal when eAccounting's figures are not the order's.
pub fn check_totals(found: &Found, expected: (Decimal, Decimal), posting: &Posting) -> Result<(), VismaError> {
    if found.total == expected.0 && found.vat == expected.1 {
        return Ok(());
    }
    Err(VismaError::Refused {
        target: TARGET,
        code: "totals_differ".into(),
        message: format!(
            "{}: eAccounting computes total {} and VAT {} but the order says total {} and VAT {}; draft {} is left for review (fix and convert it in eAccounting, then redrive)",
            posting.idempotency_key, found.total, found.vat, expected.0, expected.1, found.id
        ),
        transient: false,
    })
}

fn to_text(body: &Value) -> Result<String, VismaError> {
    serde_json::to_string(body).map_err(|e| VismaError::Protocol {
        target: TARGET,
        what: e.to_string(),
    })
}
