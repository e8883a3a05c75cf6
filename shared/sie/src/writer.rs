//! Writing postings as a SIE 4I import file (vouchers for a ledger to import), CP437 with CRLF.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use ctvisma_core::base_currency::{in_base_currency, BaseCurrencyError};
use ctvisma_core::posting::Posting;
use ctvisma_core::rules::AccountCode;
use rust_decimal::Decimal;

use crate::cp437;
use crate::error::SieError;
use crate::model::SieHeader;

/// One #TRANS row as the writer means it, in the base currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutRow {
    pub account: String,
    pub amount: Decimal,
    pub text: String,
}

/// Writes postings as a SIE 4I file: one #VER per posting, in order, amounts in
/// `header.base_currency`.
///
/// A posting in another currency must carry an exchange rate to the base currency and is
/// converted by [`ctvisma_core::base_currency::in_base_currency`]: each line at the rate, rounded
/// half-even to the base currency's digits (at most 2 here), and any difference left is booked
/// explicitly on `header.rounding_account`. Converted rows keep the original amount in their text. Every voucher is in series `header.series` with an empty number,
/// so the importing ledger numbers it (SIE 4B, #VER note 6). The #VER text is
/// `"<event> <external_ref> [<idempotency key>]"` so that a re-import can be recognised.
///
/// Output is CP437 (`#FORMAT PC8`) with CRLF line ends; characters CP437 lacks become `?`.
/// Same input, same bytes.
pub fn write(postings: &[Posting], header: &SieHeader) -> Result<Vec<u8>, SieError> {
    let vouchers = postings
        .iter()
        .map(|p| Ok((p, posting_date(p)?, voucher_rows(p, header)?)))
        .collect::<Result<Vec<_>, SieError>>()?;

    let mut out = Vec::new();
    let mut line = |s: String| out.push(s);
    line("#FLAGGA 0".into());
    line(format!("#PROGRAM \"ctvisma\" {}", env!("CARGO_PKG_VERSION")));
    line("#FORMAT PC8".into());
    line(format!("#GEN {}", ymd(header.generated)));
    line("#SIETYP 4".into());
    if let Some(orgnr) = &header.org_number {
        line(format!("#ORGNR {}", field(orgnr)));
    }
    line(format!("#FNAMN {}", quoted(&header.company_name)));
    if let Some((start, end)) = header.fiscal_year {
        line(format!("#RAR 0 {} {}", ymd(start), ymd(end)));
    }
    line(format!("#VALUTA {}", field(&header.base_currency)));

    let accounts: BTreeSet<&str> = vouchers
        .iter()
        .flat_map(|(_, _, rows)| rows.iter().map(|r| r.account.as_str()))
        .collect();
    for account in accounts {
        let name = header.account_names.get(account).map_or(account, String::as_str);
        line(format!("#KONTO {account} {}", quoted(name)));
    }

    for (posting, date, rows) in &vouchers {
        line(format!(
            "#VER {} \"\" {} {}",
            field(&header.series),
            ymd(*date),
            quoted(&voucher_text(posting))
        ));
        line("{".into());
        for r in rows {
            line(format!(
                "   #TRANS {} {{}} {} {} {}",
                r.account,
                amount(r.amount),
                ymd(*date),
                quoted(&r.text)
            ));
        }
        line("}".into());
    }

    let mut text = out.join("\r\n");
    text.push_str("\r\n");
    Ok(cp437::encode(&text))
}

/// `"<event> <external_ref> [<key>]"`, event as serde names it (`credit_note`).
///
/// SIE 4B (7.5) sets no length limit on the text and leaves limits to the importing program, so
/// nothing is cut: a truncated key could no longer be matched.
pub(crate) fn voucher_text(p: &Posting) -> String {
    let mut text = snake_case(&format!("{:?}", p.event));
    if !p.external_ref.is_empty() {
        text.push(' ');
        text.push_str(&p.external_ref);
    }
    text.push_str(&format!(" [{}]", p.idempotency_key));
    text
}

/// The rows of a posting's voucher, converted to the base currency, with the explicit rounding
/// row a conversion may need last.
pub(crate) fn voucher_rows(p: &Posting, header: &SieHeader) -> Result<Vec<OutRow>, SieError> {
    let key = p.idempotency_key.as_str();
    let err = |reason: String| SieError::posting(key, reason);
    for l in &p.lines {
        check_account(&l.account.0).map_err(err)?;
    }
    let own_balance = sum(p.lines.iter().map(|l| l.amount)).ok_or_else(|| err("amounts overflow".into()))?;
    if !own_balance.is_zero() {
        // Converting would hide this in the rounding row.
        return Err(err(format!("lines sum to {own_balance} {}, not zero", p.currency)));
    }
    let transtext = |l: &ctvisma_core::PostingLine| {
        // The SKU identifies the article; lines without one (shipping, VAT) say what they are.
        let mut t = snake_case(&format!("{:?}", l.role));
        if let Some(what) = l.sku.as_ref().or(l.text.as_ref()) {
            t.push(' ');
            t.push_str(what);
        }
        t
    };

    // Checked here because the conversion multiplies and sums unchecked; a missing rate or one to
    // another currency is refused by the conversion itself.
    let fx = p.exchange_rate.as_ref().filter(|_| p.currency != header.base_currency);
    if let Some(fx) = fx {
        if fx.rate <= Decimal::ZERO {
            return Err(err(format!("exchange rate {} is not positive", fx.rate)));
        }
        let magnitude = p.lines.iter().try_fold(Decimal::ZERO, |m, l| {
            m.checked_add(l.amount.abs().checked_mul(fx.rate)?)?
                .checked_add(Decimal::ONE)
        });
        if magnitude.is_none() {
            return Err(err(format!("amounts × {} overflow", fx.rate)));
        }
    }
    let rounding = AccountCode(header.rounding_account.clone());
    let converted = in_base_currency(p, &header.base_currency, &rounding).map_err(|e| match e {
        BaseCurrencyError::NoRate { currency, base, .. } => err(format!(
            "{currency} posting has no exchange rate to the base currency {base}"
        )),
        BaseCurrencyError::OtherBase { rate_base, base, .. } => err(format!(
            "exchange rate is to {rate_base}, but the file's base currency is {base}"
        )),
    })?;

    let mut rows = Vec::with_capacity(converted.lines.len());
    for (i, l) in converted.lines.iter().enumerate() {
        let text = match (p.lines.get(i), fx) {
            (Some(original), None) => transtext(original),
            // The original amount beside the converted one, so the voucher shows both.
            (Some(original), Some(_)) => format!("{} {} {}", transtext(original), p.currency, original.amount),
            // The rounding line the conversion added, with the rate it comes from (plain ASCII:
            // the core's "→" has no CP437 byte).
            (None, _) => {
                check_account(&l.account.0).map_err(|e| SieError::Header(format!("rounding account: {e}")))?;
                let rate = fx
                    .map(|fx| format!(" {} {}", fx.rate, fx.rate_date))
                    .unwrap_or_default();
                format!("rounding {}/{}{rate}", p.currency, converted.currency)
            }
        };
        if l.amount.round_dp(2) != l.amount {
            return Err(err(format!(
                "amount {} on account {} has more than 2 decimals",
                l.amount, l.account.0
            )));
        }
        rows.push(OutRow {
            account: l.account.0.clone(),
            amount: l.amount,
            text,
        });
    }
    Ok(rows)
}

pub(crate) fn posting_date(p: &Posting) -> Result<NaiveDate, SieError> {
    NaiveDate::parse_from_str(&p.date, "%Y-%m-%d")
        .ok()
        .filter(|_| p.date.len() == 10)
        .ok_or_else(|| {
            SieError::posting(
                p.idempotency_key.as_str(),
                format!("date {:?} is not YYYY-MM-DD", p.date),
            )
        })
}

/// SIE account numbers are numeric.
fn check_account(account: &str) -> Result<(), String> {
    if account.is_empty() || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account {account:?} is not a SIE account number (digits only)"));
    }
    Ok(())
}

fn sum(mut amounts: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    amounts.try_fold(Decimal::ZERO, |acc, a| acc.checked_add(a))
}

/// Always 2 decimals; never `-0.00`.
fn amount(a: Decimal) -> String {
    if a.is_zero() {
        "0.00".to_string()
    } else {
        format!("{a:.2}")
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// What a text becomes in the file: characters CP437 lacks turn into `?`, and control
/// characters (which the spec forbids in texts) into spaces.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control() => ' ',
            c if cp437::byte_of(c).is_some() => c,
            _ => '?',
        })
        .collect()
}

/// A text field, always quoted; `"` and `\` are escaped with a backslash.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in sanitize(s).chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A code field: bare when it needs no quotes, else quoted.
fn field(s: &str) -> String {
    let s = sanitize(s);
    if !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\\' | '{' | '}'))
    {
        s
    } else {
        quoted(&s)
    }
}

/// `CreditNote` → `credit_note`, as `#[serde(rename_all = "snake_case")]` spells the variants.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fields() {
        assert_eq!(snake_case("CreditNote"), "credit_note");
        assert_eq!(snake_case("PspBalance"), "psp_balance");
        assert_eq!(quoted("a \"b\" c:\\d\n€"), r#""a \"b\" c:\\d ?""#);
        assert_eq!(field("556677-8899"), "556677-8899");
        assert_eq!(field(""), "\"\"");
        assert_eq!(amount(Decimal::new(-0, 2)), "0.00");
        assert_eq!(amount(Decimal::new(125, 1)), "12.50");
        assert_eq!(amount(Decimal::new(-3, 0)), "-3.00");
    }
}
