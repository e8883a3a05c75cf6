//! Invoice postings as Visma.net customer invoices (`POST /v2/customerinvoice`) and credit-note
//! postings as customer credit notes (`POST /v2/customerCreditNote`), made out to the order's
//! customer. One document line per revenue, shipping, discount and gift-card line (account, VAT
//! code, quantity 1, net unit price); Visma.net computes the VAT and the receivable itself, so
//! after creating a document we compare its VAT total and amount with our posting and refuse to
//! release a document that differs.
//!
//! Our reference is `externalReference` (the spec gives no length; we assume Visma.net's 40
//! characters): `document_text` with the idempotency key, or, when the key does not fit, with
//! `#` and a 16-hex-digit FNV-1a digest of the key: stable across processes and releases.

use ctvisma_core::keys::IdempotencyKey;
use ctvisma_core::posting::{EventKind, Role};
use ctvisma_core::Posting;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::amount;
use crate::reference::document_text;

/// Assumed length of `externalReference` (ExtRefNbr); the spec states none.
pub const EXTERNAL_REFERENCE_MAX: usize = 40;
/// `customerRefNumber` (the order number) is used only when it fits.
pub const CUSTOMER_REF_MAX: usize = 40;

/// Which Visma.net document a posting becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArKind {
    Invoice,
    CreditNote,
}

impl ArKind {
    pub fn of(posting: &Posting) -> Option<Self> {
        match posting.event {
            EventKind::Invoice => Some(Self::Invoice),
            EventKind::CreditNote => Some(Self::CreditNote),
            _ => None,
        }
    }

    /// Create path (v2) and the v1 path for lists and release.
    pub fn paths(self) -> (&'static str, &'static str) {
        match self {
            Self::Invoice => ("/v2/customerinvoice", "/v1/customerinvoice"),
            Self::CreditNote => ("/v2/customerCreditNote", "/v1/customerCreditNote"),
        }
    }
}

/// 64-bit FNV-1a as 16 hex digits: short, dependency-free and the same everywhere.
pub fn key_digest(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The `externalReference` a posting's document carries and is looked up by.
pub fn external_reference(posting: &Posting) -> String {
    let key = posting.idempotency_key.as_str();
    if key.chars().count() + 3 <= EXTERNAL_REFERENCE_MAX {
        return document_text(posting, EXTERNAL_REFERENCE_MAX);
    }
    let mut short = posting.clone();
    short.idempotency_key = IdempotencyKey(format!("#{}", key_digest(key)));
    document_text(&short, EXTERNAL_REFERENCE_MAX)
}

/// The `externalReference` of the invoice a credit note reverses (by its idempotency key).
pub fn invoice_reference(credit_note: &Posting, invoice_key: &IdempotencyKey) -> String {
    let mut invoice = credit_note.clone();
    invoice.event = EventKind::Invoice;
    invoice.idempotency_key = invoice_key.clone();
    // The invoice was written with the order number alone; a return's ref has "/RET-n".
    invoice.external_ref = credit_note
        .external_ref
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    external_reference(&invoice)
}

fn wrap(v: impl Into<Value>) -> Value {
    json!({ "value": v.into() })
}

fn is_document_line(role: Role) -> bool {
    matches!(role, Role::Revenue | Role::Shipping | Role::Discount | Role::GiftCard)
}

/// What the document's receivable must be: the receivable line's absolute amount.
pub fn gross(posting: &Posting) -> Decimal {
    posting.total(Role::Receivable).abs()
}

/// The VAT our posting computed: the absolute sum of its VAT lines.
pub fn vat(posting: &Posting) -> Decimal {
    posting.total(Role::Vat).abs()
}

/// The value-wrapped `CustomerInvoiceUpdateDto` / `CustomerCreditNoteUpdateDto`. `hold` leaves
/// the document for finance to review; `original` is the credit note's invoice number.
pub fn document(posting: &Posting, kind: ArKind, customer: &str, hold: bool, original: Option<&str>) -> Value {
    let digits = ctvisma_core::money::default_fraction_digits(&posting.currency);
    let lines: Vec<Value> = posting
        .lines
        .iter()
        .filter(|l| is_document_line(l.role) && !l.amount.is_zero())
        .enumerate()
        .map(|(i, l)| {
            // Invoice revenue is a credit (negative) in the posting, a positive line on the
            // invoice; a credit note's lines are debits, positive amounts credited.
            let net = match kind {
                ArKind::Invoice => -l.amount,
                ArKind::CreditNote => l.amount,
            };
            let mut line = json!({
                "operation": "Insert",
                "lineNumber": wrap(i as i64 + 1),
                "description": wrap(l.text.clone().unwrap_or_else(|| format!("{:?}", l.role)).chars().take(255).collect::<String>()),
                "quantity": wrap(1),
                "unitPriceInCurrency": { "value": amount::number(net, digits) },
                "accountNumber": wrap(l.account.0.as_str()),
            });
            if let Some(code) = &l.vat_code {
                line["vatCodeId"] = wrap(code.as_str());
            }
            line
        })
        .collect();
    let mut doc = json!({
        "customerNumber": wrap(customer),
        "documentDate": wrap(format!("{}T00:00:00", posting.date)),
        "currencyId": wrap(posting.currency.as_str()),
        "externalReference": wrap(external_reference(posting)),
        "hold": wrap(hold),
    });
    if let Some(rate) = &posting.exchange_rate {
        doc["exchangeRate"] = json!({ "value": amount::number(rate.rate, 6) });
    }
    if !posting.external_ref.is_empty() && posting.external_ref.chars().count() <= CUSTOMER_REF_MAX {
        doc["customerRefNumber"] = wrap(posting.external_ref.as_str());
    }
    let lines_key = match kind {
        ArKind::Invoice => "invoiceLines",
        ArKind::CreditNote => "lines",
    };
    doc[lines_key] = Value::Array(lines);
    if let Some(number) = original {
        // The DTOs have no "original invoice" field; the invoice text tells finance which one.
        doc["invoiceText"] = wrap(format!("Credit of invoice {number}"));
    }
    doc
}

/// A listed document's figures: (amount, VAT total), in the document currency.
pub fn figures(doc: &Value) -> (Option<Decimal>, Option<Decimal>) {
    let get = |keys: &[&str]| keys.iter().find_map(|k| doc.get(*k).and_then(amount::parse));
    (get(&["amountInCurrency", "amount"]), get(&["vatTotal"]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctvisma_core::keys::IdempotencyKey;

    #[test]
    fn long_keys_become_a_stable_digest() {
        let mut p = Posting::new(
            EventKind::CreditNote,
            IdempotencyKey::credit_note("82427afd-722b-54b9-8f2d-c1148c23a836", &["r1"]),
            "SE",
            "SEK",
            "2026-11-24".into(),
        );
        p.external_ref = "CV-1001/RET-1".into();
        let r = external_reference(&p);
        assert!(r.chars().count() <= EXTERNAL_REFERENCE_MAX, "{r}");
        assert_eq!(r, external_reference(&p.clone()));
        assert_eq!(key_digest("abc"), "e71fa2190541574b");
        p.idempotency_key = IdempotencyKey("invoice:o-1".into());
        assert!(external_reference(&p).ends_with("[invoice:o-1]"));
    }
}
