//! Money: commercetools money values as `rust_decimal`, currency fraction digits, rounding.
//!
//! commercetools sends `{type, currencyCode, centAmount, fractionDigits}`; `highPrecision` adds
//! `preciseAmount` with more digits than the currency has. Older payloads omit `type` and
//! `fractionDigits`, so the digits then come from the currency (ISO 4217 minor units).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Minor-unit digits of a currency when a payload does not say (`fractionDigits` absent).
///
/// HUF is 0 here: legacy commercetools payloads without `fractionDigits` and the posting contract
/// treat it as a zero-decimal ledger currency; explicit `fractionDigits` always wins.
pub fn default_fraction_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "HUF" | "PYG" | "UGX" | "XAF" | "XOF" | "RWF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// A money value exactly as commercetools sends it (centPrecision or highPrecision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CtMoney {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub currency_code: String,
    pub cent_amount: i64,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_fraction_digits"
    )]
    pub fraction_digits: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precise_amount: Option<i64>,
}

/// The most digits commercetools allows (highPrecision); beyond them no money value is real, and
/// past 28 no decimal can hold them.
pub const MAX_FRACTION_DIGITS: u32 = 20;

fn de_fraction_digits<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<u32>::deserialize(d)? {
        Some(n) if n > MAX_FRACTION_DIGITS => Err(serde::de::Error::custom(format!(
            "fractionDigits {n} is out of range (at most {MAX_FRACTION_DIGITS})"
        ))),
        n => Ok(n),
    }
}

impl CtMoney {
    /// Digits of `centAmount`: the currency's digits. For highPrecision values `fractionDigits`
    /// describes `preciseAmount`, while `centAmount` stays in the currency's own digits.
    pub fn cent_digits(&self) -> u32 {
        match (self.is_high_precision(), self.fraction_digits) {
            (false, Some(d)) => d,
            _ => default_fraction_digits(&self.currency_code),
        }
    }

    pub fn is_high_precision(&self) -> bool {
        self.kind.as_deref() == Some("highPrecision") || self.precise_amount.is_some()
    }

    /// The amount rounded to the currency (what commercetools calls `centAmount`).
    pub fn amount(&self) -> Decimal {
        Decimal::new(self.cent_amount, self.cent_digits())
    }

    /// The most precise amount known: `preciseAmount` for highPrecision, else `centAmount`.
    pub fn precise(&self) -> Decimal {
        match (self.precise_amount, self.fraction_digits) {
            (Some(p), Some(d)) => Decimal::new(p, d),
            _ => self.amount(),
        }
    }
}

/// Rounds to `digits` decimals half-to-even (banker's rounding), the commercetools default.
pub fn round_half_even(value: Decimal, digits: u32) -> Decimal {
    let mut v = value.round_dp_with_strategy(digits, RoundingStrategy::MidpointNearestEven);
    v.rescale(digits);
    v
}

/// Rounds with a commercetools `taxRoundingMode` (`HalfEven` default, `HalfUp`, `HalfDown`).
pub fn round_with_mode(value: Decimal, digits: u32, mode: Option<&str>) -> Decimal {
    let strategy = match mode {
        Some("HalfUp") => RoundingStrategy::MidpointAwayFromZero,
        Some("HalfDown") => RoundingStrategy::MidpointTowardZero,
        _ => RoundingStrategy::MidpointNearestEven,
    };
    let mut v = value.round_dp_with_strategy(digits, strategy);
    v.rescale(digits);
    v
}

/// Brings an amount to exactly `digits` decimals for output ("12.50", "1200", "0.00").
pub fn fixed(value: Decimal, digits: u32) -> Decimal {
    round_half_even(value, digits)
}

/// One minor unit of a currency with `digits` decimals (0.01, 1, 0.001).
pub fn minor_unit(digits: u32) -> Decimal {
    Decimal::new(1, digits)
}

/// A tax rate (commercetools sends a float fraction such as 0.25 or 0.14923475685028115) as a
/// percent without trailing zeros: "25", "12", "5.5", "0".
pub fn percent_string(rate: Decimal) -> String {
    let p = (rate * Decimal::ONE_HUNDRED).normalize();
    if p.is_zero() {
        "0".to_string()
    } else {
        p.to_string()
    }
}

/// Parses a percent such as "25" or "5.5" from the rules file into a normalised decimal percent.
pub fn parse_percent(s: &str) -> Option<Decimal> {
    s.trim()
        .trim_end_matches('%')
        .parse::<Decimal>()
        .ok()
        .map(|d| d.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(json: &str) -> CtMoney {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cent_precision_uses_fraction_digits_or_currency_default() {
        assert_eq!(
            m(r#"{"currencyCode":"EUR","centAmount":2800}"#).amount().to_string(),
            "28.00"
        );
        assert_eq!(
            m(r#"{"currencyCode":"JPY","centAmount":1200}"#).amount().to_string(),
            "1200"
        );
        assert_eq!(
            m(r#"{"type":"centPrecision","currencyCode":"KWD","centAmount":1234,"fractionDigits":3}"#)
                .amount()
                .to_string(),
            "1.234"
        );
    }

    #[test]
    fn high_precision_keeps_both_amounts() {
        let hp = m(
            r#"{"type":"highPrecision","currencyCode":"EUR","centAmount":1,"preciseAmount":123456,"fractionDigits":7}"#,
        );
        assert_eq!(hp.amount().to_string(), "0.01");
        assert_eq!(hp.precise().to_string(), "0.0123456");
        assert!(hp.is_high_precision());
    }

    #[test]
    fn rounding_is_half_even_and_rescaled() {
        assert_eq!(round_half_even(Decimal::new(125, 3), 2).to_string(), "0.12");
        assert_eq!(round_half_even(Decimal::new(135, 3), 2).to_string(), "0.14");
        assert_eq!(round_half_even(Decimal::new(5, 0), 2).to_string(), "5.00");
        assert_eq!(
            round_with_mode(Decimal::new(125, 3), 2, Some("HalfUp")).to_string(),
            "0.13"
        );
        assert_eq!(
            round_with_mode(Decimal::new(125, 3), 2, Some("HalfDown")).to_string(),
            "0.12"
        );
    }

    #[test]
    fn percent_strings_have_no_trailing_zeros() {
        assert_eq!(percent_string("0.25".parse().unwrap()), "25");
        assert_eq!(percent_string("0.055".parse().unwrap()), "5.5");
        assert_eq!(percent_string("0".parse().unwrap()), "0");
        assert_eq!(
            percent_string("0.14923475685028115".parse().unwrap()),
            "14.923475685028115"
        );
        assert_eq!(parse_percent("12.0"), Some(Decimal::new(12, 0)));
    }
}
