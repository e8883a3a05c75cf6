//! A posting as an eAccounting voucher (`VoucherApi`): one row per line with the account number,
//! the debit or credit amount (2 decimals, base currency) and the VAT code id for lines that
//! carry a VAT code. VAT rows are our own (automatic VAT calculation off), so the voucher shows
//! exactly the posting's figures.

use ctvisma_core::Posting;
use serde::Serialize;
use serde_json::value::RawValue;

use super::company::Company;
use crate::amount;
use crate::error::VismaError;
use crate::reference::document_text;

const TARGET: &str = "eaccounting";
/// `VoucherRowApi.TransactionText` maxLength.
const ROW_TEXT_MAX: usize = 60;
/// `VoucherApi.VoucherText` maxLength.
pub const VOUCHER_TEXT_MAX: usize = 1000;

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Voucher {
    pub voucher_date: String,
    pub voucher_text: String,
    pub rows: Vec<VoucherRow>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VoucherRow {
    pub account_number: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debit_amount: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_amount: Option<Box<RawValue>>,
    pub transaction_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_code_id: Option<String>,
}

/// The voucher for `posting`, which must already be in the company's currency.
pub fn voucher(posting: &Posting, company: &Company) -> Result<Voucher, VismaError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for line in posting.lines.iter().filter(|l| !l.amount.is_zero()) {
        let Ok(account) = line.account.0.parse::<i64>() else {
            problems.push(format!("account {:?} is not a number", line.account.0));
            continue;
        };
        if !company.accounts.contains(&account) {
            problems.push(format!("account {account} does not exist in the company"));
        }
        let magnitude = Some(amount::number(line.amount.abs(), 2));
        let (debit_amount, credit_amount) = if line.amount.is_sign_positive() {
            (magnitude, None)
        } else {
            (None, magnitude)
        };
        let text = line.text.clone().unwrap_or_else(|| format!("{:?}", line.role));
        let vat_code_id = match &line.vat_code {
            Some(code) => {
                let id = company.vat_codes.get(code).cloned();
                if id.is_none() {
                    problems.push(format!("VAT code {code:?} does not exist in the company"));
                }
                id
            }
            None => None,
        };
        rows.push(VoucherRow {
            account_number: account,
            debit_amount,
            credit_amount,
            transaction_text: text.chars().take(ROW_TEXT_MAX).collect(),
            vat_code_id,
        });
    }
    if !problems.is_empty() {
        return Err(VismaError::Setup {
            target: TARGET,
            missing: problems,
        });
    }
    Ok(Voucher {
        voucher_date: format!("{}T00:00:00", posting.date),
        voucher_text: document_text(posting, VOUCHER_TEXT_MAX),
        rows,
    })
}
