//! Property tests: any order commercetools could produce maps to a posting that balances to
//! zero, whose receivable is the order's gross and whose VAT per rate equals its taxPortions.
//!
//! The generator computes orders the way commercetools does: line totals from unit prices and
//! discounted quantities, per-line tax rounded half-even (or, in the "order-level tax" variant,
//! VAT rounded once per rate, which is what makes rounding lines necessary), and an order-total
//! discount split across rates by net.

mod common;

use std::collections::BTreeMap;

use common::*;
use ctvisma_core::{map_invoice, Role, Rules};
use proptest::prelude::*;
use rust_decimal::Decimal;

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn any_order_maps_to_a_balanced_posting_with_the_orders_vat(spec in order()) {
        let rules = Rules::from_toml(RULES).unwrap();
        let (json, gross, portions) = build(&spec);
        let (_, digits, ..) = MARKETS[spec.market];
        let order = serde_json::from_value(json).unwrap();
        let posting = map_invoice(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;

        prop_assert_eq!(posting.balance(), Decimal::ZERO);
        prop_assert_eq!(posting.total(Role::Receivable), dec(gross, digits));
        let mut vat: BTreeMap<String, Decimal> = BTreeMap::new();
        for l in posting.lines.iter().filter(|l| l.role == Role::Vat) {
            *vat.entry(l.vat_rate.clone().unwrap()).or_default() -= l.amount;
        }
        let want: BTreeMap<String, Decimal> = portions
            .iter()
            .filter(|(_, a)| **a != 0)
            .map(|(p, a)| (p.to_string(), dec(*a, digits)))
            .collect();
        prop_assert_eq!(vat, want);
        for l in &posting.lines {
            prop_assert_eq!(l.amount.scale(), digits, "amount {} not in {} digits", l.amount, digits);
            prop_assert!(!l.account.0.is_empty());
            if l.role != Role::Rounding && l.role != Role::Receivable {
                prop_assert!(l.vat_code.is_some() && l.vat_rate.is_some());
            }
        }
        let items = spec.lines.len() + usize::from(spec.shipping.is_some());
        let rounding = posting.total(Role::Rounding).abs();
        prop_assert!(rounding <= dec(items as i64, digits), "rounding {} for {} items", rounding, items);
        if !spec.order_level_tax && spec.total_discount_percent.is_none() {
            prop_assert_eq!(rounding, Decimal::ZERO, "per-line VAT needs no rounding");
        }
    }

    #[test]
    fn mapping_is_deterministic(spec in order()) {
        let rules = Rules::from_toml(RULES).unwrap();
        let (json, ..) = build(&spec);
        let order = serde_json::from_value(json).unwrap();
        let a = serde_json::to_string(&map_invoice(&order, &rules).unwrap()).unwrap();
        let b = serde_json::to_string(&map_invoice(&order, &rules).unwrap()).unwrap();
        prop_assert_eq!(a, b);
    }
}
