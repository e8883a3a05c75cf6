//! Money on the wire: Visma's JSON takes amounts as numbers. We write the decimal's digits as a raw
//! JSON number, so no amount ever passes through a float on its way out.

use rust_decimal::Decimal;
use serde_json::value::RawValue;

/// `12.30` → the JSON number `12.30`, exactly these digits.
pub fn number(amount: Decimal, digits: u32) -> Box<RawValue> {
    let text = amount.round_dp(digits).to_string();
    // A Decimal's Display is always a valid JSON number ("-0.5", "12.30").
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::from_string("0".into()).unwrap_or_default())
}

/// Reads a JSON number (or numeric string) back as a decimal, exactly as written.
pub fn parse(value: &serde_json::Value) -> Option<Decimal> {
    match value {
        serde_json::Value::Number(n) => n.to_string().parse().ok().or_else(|| {
            // Exponent forms ("1e3") are rare but valid JSON.
            Decimal::from_scientific(&n.to_string()).ok()
        }),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_survive_the_wire() {
        let d: Decimal = "1234567.89".parse().unwrap();
        let raw = number(d, 2);
        assert_eq!(raw.get(), "1234567.89");
        let v: serde_json::Value = serde_json::from_str(raw.get()).unwrap();
        assert_eq!(parse(&v), Some(d));
        assert_eq!(number("0.1".parse().unwrap(), 2).get(), "0.1");
    }
}
