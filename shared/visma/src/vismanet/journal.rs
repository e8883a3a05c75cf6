//! A posting as a Visma.net journal transaction (`JournalTransactionUpdateDto`): every scalar
//! wrapped as `{"value": …}`, lines inserted with `"operation": "Insert"`, amounts in the
//! posting's currency with its exchange rate, our reference in the description and on each line.

use ctvisma_core::Posting;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::amount;
use crate::reference::document_text;

/// Visma.net descriptions are short; the key must stay whole for lookups.
pub const DESCRIPTION_MAX: usize = 255;

#[derive(Debug, Serialize)]
pub struct Wrapped<T: Serialize> {
    pub value: T,
}

fn wrap<T: Serialize>(value: T) -> Wrapped<T> {
    Wrapped { value }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub transaction_date: Wrapped<String>,
    pub description: Wrapped<String>,
    pub currency_id: Wrapped<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_rate: Option<Wrapped<Box<RawValue>>>,
    pub journal_transaction_lines: Vec<JournalLine>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalLine {
    pub operation: &'static str,
    pub account_number: Wrapped<String>,
    pub reference_number: Wrapped<String>,
    pub transaction_description: Wrapped<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debit_amount_in_currency: Option<Wrapped<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_amount_in_currency: Option<Wrapped<Box<RawValue>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_code_id: Option<Wrapped<String>>,
}

pub fn journal(posting: &Posting) -> Journal {
    let digits = ctvisma_core::money::default_fraction_digits(&posting.currency);
    let lines = posting
        .lines
        .iter()
        .filter(|l| !l.amount.is_zero())
        .map(|l| {
            let magnitude = Some(wrap(amount::number(l.amount.abs(), digits)));
            let (debit, credit) = if l.amount.is_sign_positive() {
                (magnitude, None)
            } else {
                (None, magnitude)
            };
            JournalLine {
                operation: "Insert",
                account_number: wrap(l.account.0.clone()),
                reference_number: wrap(posting.external_ref.chars().take(40).collect()),
                transaction_description: wrap(
                    l.text
                        .clone()
                        .unwrap_or_else(|| format!("{:?}", l.role))
                        .chars()
                        .take(255)
                        .collect(),
                ),
                debit_amount_in_currency: debit,
                credit_amount_in_currency: credit,
                vat_code_id: l.vat_code.clone().map(wrap),
            }
        })
        .collect();
    Journal {
        transaction_date: wrap(format!("{}T00:00:00", posting.date)),
        description: wrap(document_text(posting, DESCRIPTION_MAX)),
        currency_id: wrap(posting.currency.clone()),
        exchange_rate: posting.exchange_rate.as_ref().map(|r| wrap(amount::number(r.rate, 6))),
        journal_transaction_lines: lines,
    }
}
