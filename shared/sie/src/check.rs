//! Comparing a read SIE file with the postings it was written from.

use ctvisma_core::posting::Posting;

use crate::model::{RowKind, SieFile, SieHeader};
use crate::writer::{posting_date, sanitize, voucher_rows, voucher_text};

/// Checks that `file` holds one voucher per posting, in order, each with the posting's date, its
/// external reference and idempotency key in the text, the posting's (account, amount) rows in
/// the base currency (converted, plus the rounding row, for foreign ones) and a zero balance.
/// The error names the first posting that differs and how.
pub fn vouchers_match(postings: &[Posting], file: &SieFile, header: &SieHeader) -> Result<(), String> {
    if postings.len() != file.vouchers.len() {
        return Err(format!(
            "{} postings but {} vouchers",
            postings.len(),
            file.vouchers.len()
        ));
    }
    for (p, v) in postings.iter().zip(&file.vouchers) {
        let key = p.idempotency_key.as_str();
        let fail = |what: String| Err(format!("posting {key}: {what}"));
        let date = posting_date(p).map_err(|e| e.to_string())?;
        if v.date != date {
            return fail(format!("voucher date {} is not {date}", v.date));
        }
        if v.series != sanitize(&header.series) || !v.number.is_empty() {
            return fail(format!(
                "voucher {:?} {:?} is not in series {:?} unnumbered",
                v.series, v.number, header.series
            ));
        }
        let text = sanitize(&voucher_text(p));
        let has_ref_and_key = v.text.contains(&sanitize(&p.external_ref)) && v.text.contains(&sanitize(key));
        if v.text != text || !has_ref_and_key {
            return fail(format!("voucher text {:?} is not {text:?}", v.text));
        }
        let want: Vec<(String, _)> = voucher_rows(p, header)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|r| (r.account, r.amount))
            .collect();
        let got: Vec<(String, _)> = v.rows.iter().map(|r| (r.account.clone(), r.amount)).collect();
        if got != want {
            return fail(format!("rows {got:?} are not {want:?}"));
        }
        if let Some(r) = v.rows.iter().find(|r| r.kind != RowKind::Trans || r.date != Some(date)) {
            return fail(format!("row {r:?} is not a #TRANS dated {date}"));
        }
        if !v.balance().is_zero() {
            return fail(format!("voucher balances to {}", v.balance()));
        }
    }
    Ok(())
}
