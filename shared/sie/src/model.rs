//! What a SIE 4 file holds, as far as ctvisma cares: identification, chart of accounts, vouchers.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A parsed SIE file. Records ctvisma does not use (#ADRESS, #IB, #SRU, …) are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SieFile {
    /// `#FLAGGA`: 0 = not yet imported, 1 = imported.
    pub flagga: Option<i32>,
    /// `#PROGRAM name version`.
    pub program: Option<Program>,
    /// `#FORMAT`, normally `PC8` (even when the bytes are not CP437, see [`crate::read`]).
    pub format: Option<String>,
    /// `#GEN`: the date the file was generated.
    pub gen: Option<NaiveDate>,
    /// `#SIETYP`: `4` for transaction files.
    pub sietyp: Option<String>,
    /// `#FNAMN`: the company name.
    pub fnamn: Option<String>,
    /// `#ORGNR`: the organisation number.
    pub orgnr: Option<String>,
    /// `#VALUTA`: the reporting currency (SEK when absent).
    pub valuta: Option<String>,
    /// `#RAR index start end`: 0 is the current fiscal year, -1 the previous one.
    pub fiscal_years: Vec<(i32, NaiveDate, NaiveDate)>,
    /// `#KONTO number name`.
    pub accounts: BTreeMap<String, String>,
    /// `#VER` with their rows, in file order.
    pub vouchers: Vec<Voucher>,
}

/// `#PROGRAM "name" version`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Program {
    pub name: String,
    pub version: String,
}

/// A `#VER` record and the rows between its braces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    /// Series; empty when the importing ledger is to choose.
    pub series: String,
    /// Voucher number; empty when the importing ledger is to number it.
    pub number: String,
    pub date: NaiveDate,
    pub text: String,
    pub rows: Vec<Row>,
}

/// Which kind of row: `#TRANS`, `#RTRANS` (added later) or `#BTRANS` (removed later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowKind {
    Trans,
    RTrans,
    BTrans,
}

/// One transaction row of a voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub account: String,
    /// The object list as (dimension, object) pairs; empty for `{}`.
    pub objects: Vec<(String, String)>,
    /// Signed: debit positive, credit negative, in the file's currency.
    pub amount: Decimal,
    /// The transaction date; `None` means the voucher date.
    pub date: Option<NaiveDate>,
    /// The transaction text; `None` when absent or empty.
    pub text: Option<String>,
    pub quantity: Option<Decimal>,
}

impl Voucher {
    /// Sum of the rows in force: #TRANS and #RTRANS count, #BTRANS (removed rows) do not.
    ///
    /// SIE 4B requires every #RTRANS to be followed by an identical #TRANS so that older readers
    /// still see the row; such a copy is counted once, not twice.
    pub fn balance(&self) -> Decimal {
        let mut sum = Decimal::ZERO;
        let mut last_added: Option<&Row> = None;
        for row in &self.rows {
            let counts = match row.kind {
                RowKind::BTrans => false,
                RowKind::RTrans => true,
                RowKind::Trans => !last_added.is_some_and(|r| is_copy(r, row)),
            };
            if counts {
                // The reader caps amounts far below Decimal's range, so this cannot overflow for a
                // parsed file; saturate rather than panic for hand-built ones.
                sum = sum.checked_add(row.amount).unwrap_or(if row.amount.is_sign_negative() {
                    Decimal::MIN
                } else {
                    Decimal::MAX
                });
            }
            last_added = (row.kind == RowKind::RTrans).then_some(row);
        }
        sum
    }
}

fn is_copy(added: &Row, row: &Row) -> bool {
    added.account == row.account && added.objects == row.objects && added.amount == row.amount
}

/// Identification for a file [`crate::write`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieHeader {
    /// `#FNAMN`.
    pub company_name: String,
    /// `#ORGNR`, written when present.
    pub org_number: Option<String>,
    /// `#GEN`: passed in rather than read from the clock so that output is deterministic.
    pub generated: NaiveDate,
    /// `#RAR 0`, written when present.
    pub fiscal_year: Option<(NaiveDate, NaiveDate)>,
    /// `#VALUTA`: every amount in the file is in this currency.
    pub base_currency: String,
    /// The voucher series of every #VER (default `A`); numbers are left to the importing ledger.
    pub series: String,
    /// Where the difference from rounding converted foreign-currency lines is booked.
    pub rounding_account: String,
    /// Names for #KONTO; an account without one is named by its number.
    pub account_names: BTreeMap<String, String>,
}

impl SieHeader {
    /// A header with series `A`, no org number, no fiscal year and no account names.
    pub fn new(company_name: &str, generated: NaiveDate, base_currency: &str, rounding_account: &str) -> Self {
        Self {
            company_name: company_name.to_string(),
            org_number: None,
            generated,
            fiscal_year: None,
            base_currency: base_currency.to_string(),
            series: "A".to_string(),
            rounding_account: rounding_account.to_string(),
            account_names: BTreeMap::new(),
        }
    }

    /// The header both SIE exports (`ctvisma export-sie` and the `export-sie` function) write for
    /// entity `id` of the rules: its name and base currency, rounding booked on its
    /// `accounts.rounding` (an error when missing), series `A`.
    pub fn for_entity(
        id: &str,
        entity: &ctvisma_core::rules::Entity,
        generated: NaiveDate,
    ) -> Result<Self, crate::SieError> {
        let rounding = entity.accounts.rounding.as_ref().ok_or_else(|| {
            crate::SieError::Header(format!(
                "entities.{id}.accounts.rounding is missing: a SIE export books currency rounding there"
            ))
        })?;
        Ok(Self::new(&entity.name, generated, &entity.base_currency, &rounding.0))
    }

    /// `#RAR 0`: the calendar year of the newest posting date (of `fallback` when no date parses).
    pub fn set_fiscal_year_of(&mut self, postings: &[ctvisma_core::Posting], fallback: NaiveDate) {
        use chrono::Datelike;
        let newest = postings
            .iter()
            .filter_map(|p| NaiveDate::parse_from_str(&p.date, "%Y-%m-%d").ok())
            .max()
            .unwrap_or(fallback);
        self.fiscal_year =
            NaiveDate::from_ymd_opt(newest.year(), 1, 1).zip(NaiveDate::from_ymd_opt(newest.year(), 12, 31));
    }
}
