//! Proportional split of an amount in minor units (largest remainder method).

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::money::minor_unit;

/// Splits `total` (in `digits` decimals) across `weights` in proportion. Each share is the
/// floor of its exact share; the units left over go one each to the largest fractional
/// remainders, ties to the largest weight, then the earlier position. The shares sum to `total`
/// exactly. Returns `None` when the weights sum to zero but `total` does not.
pub fn split_proportionally(total: Decimal, weights: &[Decimal], digits: u32) -> Option<Vec<Decimal>> {
    let unit = minor_unit(digits);
    let sum: Decimal = weights.iter().sum();
    if weights.is_empty() || sum.is_zero() {
        return if total.is_zero() {
            Some(vec![Decimal::ZERO; weights.len()])
        } else {
            None
        };
    }
    let units = (total / unit).round();
    let exact: Vec<Decimal> = weights.iter().map(|w| units * *w / sum).collect();
    let mut shares: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let left = (units - shares.iter().sum::<Decimal>()).to_i64().unwrap_or(0);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - shares[a], exact[b] - shares[b]);
        rb.cmp(&ra).then(weights[b].cmp(&weights[a])).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(left.unsigned_abs() as usize) {
        shares[i] += Decimal::from(left.signum());
    }
    Some(
        shares
            .into_iter()
            .map(|s| crate::money::fixed(s * unit, digits))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn shares_sum_exactly_and_remainder_goes_to_largest_fraction() {
        let s = split_proportionally(d("10.00"), &[d("1"), d("1"), d("1")], 2).unwrap();
        assert_eq!(s, vec![d("3.34"), d("3.33"), d("3.33")]);
        let s = split_proportionally(d("25.00"), &[d("49.00")], 2).unwrap();
        assert_eq!(s, vec![d("25.00")]);
        let s = split_proportionally(d("7"), &[d("300"), d("100")], 0).unwrap();
        assert_eq!(s, vec![d("5"), d("2")]);
    }

    #[test]
    fn zero_weights_only_split_zero() {
        assert_eq!(split_proportionally(d("0.00"), &[d("0")], 2), Some(vec![d("0.00")]));
        assert_eq!(split_proportionally(d("1.00"), &[d("0")], 2), None);
    }
}
