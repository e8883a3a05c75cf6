//! The order generator shared by the property tests: orders computed the way commercetools does.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ctvisma_core::mapper::split::split_proportionally;
use ctvisma_core::money::round_half_even;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub const RULES: &str = include_str!("../../../../config/rules.toml");

/// (currency, digits, store, country, rates in percent)
pub const MARKETS: [(&str, u32, &str, &str, &[i64]); 5] = [
    ("SEK", 2, "se-webshop", "SE", &[25, 12, 6, 0]),
    ("NOK", 2, "no-webshop", "NO", &[25, 15, 12]),
    ("DKK", 2, "dk-webshop", "DK", &[25]),
    ("EUR", 2, "de-webshop", "DE", &[19, 7]),
    ("JPY", 0, "jp-webshop", "JP", &[10, 8]),
];

#[derive(Debug, Clone)]
pub struct LineSpec {
    pub unit: i64,
    pub qty: i64,
    pub rate: usize,
    pub discounted_qty: i64,
    pub discount: i64,
}

#[derive(Debug, Clone)]
pub struct OrderSpec {
    pub market: usize,
    pub gross: bool,
    pub order_level_tax: bool,
    pub lines: Vec<LineSpec>,
    pub shipping: Option<(i64, usize)>,
    pub total_discount_percent: Option<i64>,
}

pub fn line() -> impl Strategy<Value = LineSpec> {
    (1i64..2_000_000, 1i64..25, 0usize..4, 0i64..25, 0i64..100).prop_map(|(unit, qty, rate, dq, pct)| LineSpec {
        unit,
        qty,
        rate,
        discounted_qty: dq.min(qty),
        discount: unit * pct / 100,
    })
}

pub fn order() -> impl Strategy<Value = OrderSpec> {
    (
        0usize..MARKETS.len(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(line(), 1..8),
        prop::option::of((0i64..50_000, 0usize..4)),
        prop::option::of(1i64..=100),
    )
        .prop_map(|(market, gross, order_level_tax, lines, shipping, tdp)| OrderSpec {
            market,
            gross,
            order_level_tax,
            lines,
            shipping,
            // commercetools applies a total-price discount to net carts in this generator only.
            total_discount_percent: if gross { None } else { tdp },
        })
}

pub fn dec(minor: i64, digits: u32) -> Decimal {
    Decimal::new(minor, digits)
}

pub fn minor(d: Decimal, digits: u32) -> i64 {
    (round_half_even(d, digits) * Decimal::from(10i64.pow(digits)))
        .trunc()
        .try_into()
        .unwrap()
}

pub fn money(cur: &str, digits: u32, minor: i64) -> Value {
    json!({"type": "centPrecision", "currencyCode": cur, "centAmount": minor, "fractionDigits": digits})
}

/// Builds the order JSON and returns it with the expected gross and VAT per rate percent.
pub fn build(spec: &OrderSpec) -> (Value, i64, BTreeMap<i64, i64>) {
    let (cur, digits, store, country, rates) = MARKETS[spec.market];
    let m = |v| money(cur, digits, v);
    let tax_rate = |pct: i64| json!({"name": format!("{pct}%"), "amount": pct as f64 / 100.0, "includedInPrice": spec.gross, "country": country, "subRates": []});
    // (net, gross) of an amount in the cart's price mode, per line.
    let taxed = |total: i64, pct: i64| -> (i64, i64) {
        let r = Decimal::new(pct, 2);
        if spec.gross {
            (minor(dec(total, digits) / (Decimal::ONE + r), digits), total)
        } else {
            (total, total + minor(dec(total, digits) * r, digits))
        }
    };
    let mut items: Vec<(i64, i64, i64)> = Vec::new(); // (pct, net, gross)
    let mut line_items = Vec::new();
    for (i, l) in spec.lines.iter().enumerate() {
        let pct = rates[l.rate % rates.len()];
        let dunit = l.unit - l.discount;
        let total = dunit * l.discounted_qty + l.unit * (l.qty - l.discounted_qty);
        let (net, gross) = taxed(total, pct);
        items.push((pct, net, gross));
        let groups: Vec<Value> = if l.discount > 0 && l.discounted_qty > 0 {
            vec![
                json!({"quantity": l.discounted_qty, "discountedPrice": {"value": m(dunit), "includedDiscounts": [
                {"discount": {"typeId": "cart-discount", "id": "d1"}, "discountedAmount": m(l.discount)}]}}),
            ]
        } else {
            vec![]
        };
        line_items.push(json!({
            "id": format!("li-{i}"), "name": {"en": format!("Product {i}")},
            "variant": {"id": 1, "sku": format!("SKU-{i}")},
            "price": {"value": m(l.unit)}, "quantity": l.qty, "discountedPricePerQuantity": groups,
            "taxRate": tax_rate(pct), "totalPrice": m(total),
            "taxedPrice": {"totalNet": m(net), "totalGross": m(gross)},
        }));
    }
    let shipping_info = spec.shipping.map(|(price, r)| {
        let pct = rates[r % rates.len()];
        let (net, gross) = taxed(price, pct);
        items.push((pct, net, gross));
        json!({"shippingMethodName": "Post", "price": m(price), "taxRate": tax_rate(pct),
               "taxedPrice": {"totalNet": m(net), "totalGross": m(gross)}})
    });

    // Net and line VAT per rate.
    let mut net_by_rate: BTreeMap<i64, i64> = BTreeMap::new();
    let mut gross_by_rate: BTreeMap<i64, i64> = BTreeMap::new();
    let mut vat_by_rate: BTreeMap<i64, i64> = BTreeMap::new();
    for &(pct, net, gross) in &items {
        *net_by_rate.entry(pct).or_default() += net;
        *gross_by_rate.entry(pct).or_default() += gross;
        *vat_by_rate.entry(pct).or_default() += gross - net;
    }
    let total_net: i64 = items.iter().map(|i| i.1).sum();
    let mut discount_total = 0;
    let portions: BTreeMap<i64, i64> = if let Some(p) = spec.total_discount_percent {
        discount_total = total_net * p / 100;
        let weights: Vec<Decimal> = net_by_rate.values().map(|n| Decimal::from(*n)).collect();
        let shares = split_proportionally(dec(discount_total, digits), &weights, digits).unwrap();
        net_by_rate
            .iter()
            .zip(shares)
            .map(|((&pct, &n), s)| {
                (
                    pct,
                    minor(dec(n - minor(s, digits), digits) * Decimal::new(pct, 2), digits),
                )
            })
            .collect()
    } else if spec.order_level_tax {
        net_by_rate
            .keys()
            .map(|&pct| {
                let r = Decimal::new(pct, 2);
                let v = if spec.gross {
                    let g = gross_by_rate[&pct];
                    g - minor(dec(g, digits) / (Decimal::ONE + r), digits)
                } else {
                    minor(dec(net_by_rate[&pct], digits) * r, digits)
                };
                (pct, v)
            })
            .collect()
    } else {
        vat_by_rate.clone()
    };
    let vat: i64 = portions.values().sum();
    let (order_net, order_gross) = if spec.gross {
        let g: i64 = items.iter().map(|i| i.2).sum();
        (g - vat, g)
    } else {
        (total_net - discount_total, total_net - discount_total + vat)
    };
    let tax_portions: Vec<Value> = portions
        .iter()
        .map(|(&pct, &a)| json!({"rate": pct as f64 / 100.0, "amount": m(a), "name": format!("{pct}%")}))
        .collect();
    let mut order = json!({
        "type": "Order", "id": "order-1", "orderNumber": "N-1", "version": 1,
        "createdAt": "2026-11-23T23:30:00.000Z", "store": {"typeId": "store", "key": store},
        "country": country, "taxMode": "Platform", "taxRoundingMode": "HalfEven",
        "totalPrice": m(if spec.gross { order_gross } else { order_net }),
        "taxedPrice": {"totalNet": m(order_net), "totalGross": m(order_gross), "taxPortions": tax_portions},
        "lineItems": line_items, "customLineItems": [],
    });
    if let Some(s) = shipping_info {
        order["shippingInfo"] = s;
    }
    if discount_total > 0 || spec.total_discount_percent.is_some() {
        order["discountOnTotalPrice"] = json!({"discountedAmount": m(discount_total)});
    }
    (order, order_gross, portions)
}
