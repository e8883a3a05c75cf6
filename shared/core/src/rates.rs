//! Exchange rates from a table in the ECB euro reference format (`eurofxref-hist.csv`): a header
//! `Date,USD,JPY,…` and one row per business day of units per 1 EUR; `N/A` or empty for no rate.
//! A document in another currency than its entity's base currency carries the rate of its posting
//! date, or of the newest business day up to a week before it (weekends, holidays); anything older
//! is a validation error, never a guess.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::posting::{ExchangeRate, Posting};
use crate::validation::Problem;

/// How far back a missing day may borrow a rate.
pub const MAX_LOOKBACK_DAYS: i64 = 7;
/// Decimals of a cross rate.
pub const RATE_DECIMALS: u32 = 6;

#[derive(Debug, Clone, Default)]
pub struct RateTable(BTreeMap<NaiveDate, BTreeMap<String, Decimal>>);

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("rate table line {line}: {message}")]
pub struct RateTableError {
    pub line: usize,
    pub message: String,
}

impl RateTable {
    pub fn from_ecb_csv(text: &str) -> Result<Self, RateTableError> {
        let mut header: Option<Vec<String>> = None;
        let mut table = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let (line, row) = (i + 1, raw.trim());
            if row.is_empty() || row.starts_with('#') {
                continue;
            }
            let cells: Vec<&str> = row.split(',').map(str::trim).collect();
            let err = |message: String| RateTableError { line, message };
            let Some(columns) = &header else {
                if !cells[0].eq_ignore_ascii_case("date") {
                    return Err(err("the first row must be the header Date,USD,…".into()));
                }
                header = Some(cells.iter().map(|c| c.to_ascii_uppercase()).collect());
                continue;
            };
            let date = NaiveDate::parse_from_str(cells[0], "%Y-%m-%d")
                .map_err(|e| err(format!("date {:?}: {e}", cells[0])))?;
            if cells.len() > columns.len() {
                return Err(err(format!("{} cells, the header has {}", cells.len(), columns.len())));
            }
            let mut rates = BTreeMap::new();
            for (column, cell) in columns.iter().zip(&cells).skip(1) {
                if cell.is_empty() || cell.eq_ignore_ascii_case("N/A") || column.is_empty() {
                    continue;
                }
                let rate: Decimal = cell.parse().map_err(|e| err(format!("{column} {cell:?}: {e}")))?;
                if rate <= Decimal::ZERO {
                    return Err(err(format!("{column} rate {rate} is not positive")));
                }
                rates.insert(column.clone(), rate);
            }
            if table.insert(date, rates).is_some() {
                return Err(err(format!("{date} appears twice")));
            }
        }
        Ok(Self(table))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Units of `to` for one unit of `from` on `date`, through EUR, and the table date used.
    pub fn rate(&self, from: &str, to: &str, date: NaiveDate) -> Option<(Decimal, NaiveDate)> {
        if from == to {
            return Some((Decimal::ONE, date));
        }
        let per_eur = |rates: &BTreeMap<String, Decimal>, c: &str| {
            if c == "EUR" {
                Some(Decimal::ONE)
            } else {
                rates.get(c).copied()
            }
        };
        let oldest = date - chrono::Duration::days(MAX_LOOKBACK_DAYS);
        self.0.range(oldest..=date).rev().find_map(|(day, rates)| {
            let (f, t) = (per_eur(rates, from)?, per_eur(rates, to)?);
            Some((
                (t / f).round_dp_with_strategy(RATE_DECIMALS, RoundingStrategy::MidpointNearestEven),
                *day,
            ))
        })
    }
}

/// Sets the posting's exchange rate when its currency is not `base`; the problem names the
/// missing rate (or the missing table) otherwise.
pub fn attach_rate(posting: &mut Posting, base: &str, table: Option<&RateTable>) -> Result<(), Problem> {
    if posting.currency == base {
        return Ok(());
    }
    let rule = "fx.rates (an ECB-format rate table)";
    let Some(table) = table else {
        return Err(Problem::new(
            "exchange_rate",
            format!(
                "{} document in a {base} entity needs an exchange-rate table",
                posting.currency
            ),
        )
        .rule(rule));
    };
    let date = NaiveDate::parse_from_str(&posting.date, "%Y-%m-%d")
        .map_err(|e| Problem::new("date", format!("{:?}: {e}", posting.date)))?;
    let (rate, day) = table.rate(&posting.currency, base, date).ok_or_else(|| {
        Problem::new(
            "exchange_rate",
            format!(
                "no exchange rate {}→{base} on or up to {MAX_LOOKBACK_DAYS} days before {date} in the rate table",
                posting.currency
            ),
        )
        .rule(rule)
    })?;
    posting.exchange_rate = Some(ExchangeRate {
        base_currency: base.to_string(),
        rate,
        rate_date: day.format("%Y-%m-%d").to_string(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ECB: &str = "Date,USD,JPY,SEK,NOK,\n\
        2026-11-20,1.0500,160.00,11.2000,11.7000,\n\
        2026-11-19,1.0400,N/A,11.1000,11.6000,\n\
        # a comment\n\
        2026-11-10,1.0300,158.00,11.0000,,\n";

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn cross_rates_go_through_the_euro() {
        let t = RateTable::from_ecb_csv(ECB).unwrap();
        // 11.2 / 1.05 = 10.6666666… → 10.666667
        assert_eq!(
            t.rate("USD", "SEK", day("2026-11-20")),
            Some((d("10.666667"), day("2026-11-20")))
        );
        assert_eq!(t.rate("EUR", "SEK", day("2026-11-20")).unwrap().0, d("11.2000"));
        assert_eq!(t.rate("SEK", "EUR", day("2026-11-20")).unwrap().0, d("0.089286"));
        assert_eq!(t.rate("SEK", "SEK", day("2000-01-01")).unwrap().0, Decimal::ONE);
    }

    #[test]
    fn a_day_without_a_row_borrows_the_newest_business_day_within_a_week() {
        let t = RateTable::from_ecb_csv(ECB).unwrap();
        // Saturday 2026-11-21 → Friday's row.
        assert_eq!(t.rate("USD", "SEK", day("2026-11-21")).unwrap().1, day("2026-11-20"));
        // JPY is N/A on the 19th: the 10th is within a week of the 17th, not of the 19th.
        assert_eq!(t.rate("JPY", "SEK", day("2026-11-19")), None);
        assert_eq!(t.rate("JPY", "SEK", day("2026-11-17")).unwrap().1, day("2026-11-10"));
        assert_eq!(t.rate("USD", "SEK", day("2026-11-30")), None, "more than a week old");
        assert_eq!(t.rate("GBP", "SEK", day("2026-11-20")), None, "unknown currency");
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = RateTable::from_ecb_csv("Date,USD\n2026-11-20,abc\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("USD"), "{e}");
        assert_eq!(RateTable::from_ecb_csv("USD,SEK\n").unwrap_err().line, 1);
        let dup = RateTable::from_ecb_csv("Date,USD\n2026-11-20,1\n2026-11-20,1\n").unwrap_err();
        assert_eq!(dup.line, 3);
        assert!(RateTable::from_ecb_csv("Date,USD\n2026-11-20,-1\n").is_err());
    }

    proptest! {
        #[test]
        fn there_and_back_is_one(a in 1u32..10_000_000, b in 1u32..10_000_000) {
            let text = format!("Date,AAA,BBB\n2026-11-20,{},{}\n", Decimal::new(a.into(), 4), Decimal::new(b.into(), 4));
            let t = RateTable::from_ecb_csv(&text).unwrap();
            let x = t.rate("AAA", "BBB", day("2026-11-20")).unwrap().0;
            let y = t.rate("BBB", "AAA", day("2026-11-20")).unwrap().0;
            prop_assume!(x >= d("0.01") && y >= d("0.01"));
            let product = x * y;
            prop_assert!((product - Decimal::ONE).abs() < d("0.0005"), "{} × {} = {}", x, y, product);
        }
    }
}
