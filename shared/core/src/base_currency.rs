//! A posting restated in its entity's base currency, for ledgers that keep one currency per
//! company (SIE files, eAccounting vouchers). Each line is converted at the posting's exchange
//! rate and rounded half-even to the base currency's digits; what the roundings leave unbalanced
//! goes on an explicit `rounding` line, so the difference is shown, never hidden.

use rust_decimal::Decimal;

use crate::money::{default_fraction_digits, round_half_even};
use crate::posting::{Posting, PostingLine, Role};
use crate::rules::AccountCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseCurrencyError {
    #[error("posting {key} is in {currency} but carries no exchange rate to {base}")]
    NoRate {
        key: String,
        currency: String,
        base: String,
    },
    #[error("posting {key} carries a rate to {rate_base}, the ledger keeps {base}")]
    OtherBase {
        key: String,
        rate_base: String,
        base: String,
    },
}

/// `posting` with every amount in `base`; unchanged (but for a copy) when already in `base`.
pub fn in_base_currency(posting: &Posting, base: &str, rounding: &AccountCode) -> Result<Posting, BaseCurrencyError> {
    if posting.currency == base {
        return Ok(posting.clone());
    }
    let key = posting.idempotency_key.to_string();
    let rate = posting
        .exchange_rate
        .as_ref()
        .ok_or_else(|| BaseCurrencyError::NoRate {
            key: key.clone(),
            currency: posting.currency.clone(),
            base: base.to_string(),
        })?;
    if rate.base_currency != base {
        return Err(BaseCurrencyError::OtherBase {
            key,
            rate_base: rate.base_currency.clone(),
            base: base.to_string(),
        });
    }
    let digits = default_fraction_digits(base);
    let mut out = posting.clone();
    out.currency = base.to_string();
    for line in &mut out.lines {
        line.amount = round_half_even(line.amount * rate.rate, digits);
    }
    let left: Decimal = out.lines.iter().map(|l| l.amount).sum();
    if !left.is_zero() {
        out.lines.push(PostingLine {
            role: Role::Rounding,
            account: rounding.clone(),
            amount: -left,
            vat_code: None,
            vat_rate: None,
            sku: None,
            text: Some(format!("Currency rounding {} → {base}", posting.currency)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IdempotencyKey;
    use crate::posting::{EventKind, ExchangeRate};
    use proptest::prelude::*;

    fn posting(amounts: &[i64], rate: &str) -> Posting {
        let mut p = Posting::new(
            EventKind::Invoice,
            IdempotencyKey::invoice("o1"),
            "SE",
            "USD",
            "2026-11-23".into(),
        );
        let mut lines: Vec<i64> = amounts.to_vec();
        lines.push(-amounts.iter().sum::<i64>());
        p.lines = lines
            .into_iter()
            .map(|c| PostingLine {
                role: Role::Revenue,
                account: AccountCode("3001".into()),
                amount: Decimal::new(c, 2),
                vat_code: None,
                vat_rate: None,
                sku: None,
                text: None,
            })
            .collect();
        p.exchange_rate = Some(ExchangeRate {
            base_currency: "SEK".into(),
            rate: rate.parse().unwrap(),
            rate_date: "2026-11-23".into(),
        });
        p
    }

    #[test]
    fn without_a_rate_or_with_another_base_it_is_refused() {
        let mut p = posting(&[100], "10.5");
        let rounding = AccountCode("3740".into());
        assert!(matches!(
            in_base_currency(&p, "NOK", &rounding),
            Err(BaseCurrencyError::OtherBase { .. })
        ));
        p.exchange_rate = None;
        assert!(matches!(
            in_base_currency(&p, "SEK", &rounding),
            Err(BaseCurrencyError::NoRate { .. })
        ));
    }

    proptest! {
        #[test]
        fn converted_postings_balance_with_a_visible_rounding(amounts in proptest::collection::vec(-10_000_000i64..10_000_000, 1..20), rate in 1u64..100_000_000) {
            let p = posting(&amounts, &Decimal::new(rate as i64, 6).to_string());
            let sek = in_base_currency(&p, "SEK", &AccountCode("3740".into())).unwrap();
            prop_assert_eq!(sek.balance(), Decimal::ZERO);
            prop_assert_eq!(sek.currency.as_str(), "SEK");
            let extra = sek.lines.len() - p.lines.len();
            prop_assert!(extra <= 1);
            // Each line is off by at most half an öre, so the rounding line is small.
            let bound = Decimal::new(p.lines.len() as i64, 2) / Decimal::TWO;
            prop_assert!(sek.total(Role::Rounding).abs() <= bound);
        }
    }
}
