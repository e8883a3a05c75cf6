//! Property tests for the events after the invoice: any sequence of returns, deliveries, captures
//! and refunds balances; credit notes never credit more than was invoiced and, once everything
//! is back, credit exactly the invoice; deliveries add up to the invoice; refunds never exceed
//! captures.

mod common;

use std::collections::BTreeMap;

use common::*;
use ctvisma_core::commercetools::order::Order;
use ctvisma_core::commercetools::payment::Payment;
use ctvisma_core::{map_credit_notes, map_delivery_invoices, map_invoice, map_payment, Posting, Role, Rules};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Orders with per-line VAT (order-level VAT needs invoice rounding lines, which partial documents
/// never have), about half of the net ones with a discount on the order total.
fn plain_order() -> impl Strategy<Value = OrderSpec> {
    order().prop_map(|mut s| {
        s.order_level_tax = false;
        s
    })
}

/// Sum per (role, account, VAT code) over postings: what credit notes must mirror of the invoice.
fn by_account(ps: &[&Posting]) -> BTreeMap<(Role, String, Option<String>), Decimal> {
    let mut m = BTreeMap::new();
    for l in ps.iter().flat_map(|p| &p.lines) {
        *m.entry((l.role, l.account.0.clone(), l.vat_code.clone()))
            .or_insert(Decimal::ZERO) += l.amount;
    }
    m.retain(|_, v| !v.is_zero());
    m
}

/// Sum per SKU of the item lines (revenue and discount): a line's net on the posting.
fn by_sku(ps: &[Posting]) -> BTreeMap<String, Decimal> {
    let mut m = BTreeMap::new();
    for l in ps.iter().flat_map(|p| &p.lines) {
        if let Some(sku) = &l.sku {
            *m.entry(sku.clone()).or_insert(Decimal::ZERO) += l.amount;
        }
    }
    m
}

fn rules(extra: &str) -> Rules {
    Rules::from_toml(&rules_text(extra)).unwrap()
}

fn rules_text(extra: &str) -> String {
    let mut text = RULES.to_string();
    for entity in ["SE", "NO", "DK", "DE", "JP"] {
        text = text.replace(
            &format!("[entities.{entity}.accounts]"),
            &format!("[entities.{entity}.returns]\n{extra}\n\n[entities.{entity}.accounts]"),
        );
    }
    // The example has its own SE returns table; let the replacement above stand in for it.
    text.replacen(
        "[entities.SE.returns]\ncredit_shipping = false  # shipping is kept on returns\n",
        "",
        1,
    )
}

/// Every entity with `discounts = "net"`: revenue at the discounted net.
fn with_net_discounts(text: String) -> Rules {
    let text = text
        .replace("discounts = \"separate\"", "")
        .replace("\ntarget = ", "\ndiscounts = \"net\"\ntarget = ");
    Rules::from_toml(&text).unwrap()
}

/// Splits each line's quantity into chunks: (line index, chunk quantity, which document, accepted?).
fn chunks(lines: usize) -> impl Strategy<Value = Vec<(usize, u8, u8, bool)>> {
    prop::collection::vec((0..lines, 1u8..4, 0u8..3, prop::bool::weighted(0.8)), 0..12)
}

/// Returns `(line, qty, doc, accepted)` chunks clipped so no line gets more than its quantity.
fn clip(spec: &OrderSpec, raw: &[(usize, u8, u8, bool)]) -> Vec<(usize, i64, u8, bool)> {
    let mut left: Vec<i64> = spec.lines.iter().map(|l| l.qty).collect();
    raw.iter()
        .filter_map(|&(i, q, doc, ok)| {
            let i = i % left.len();
            let q = i64::from(q).min(left[i]);
            left[i] -= q;
            (q > 0).then_some((i, q, doc, ok))
        })
        .collect()
}

fn with_returns(mut order: Value, chunks: &[(usize, i64, u8, bool)]) -> Value {
    let infos: Vec<Value> = (0..3u8)
        .map(|doc| {
            let items: Vec<Value> = chunks
                .iter()
                .enumerate()
                .filter(|(_, c)| c.2 == doc)
                .map(|(n, &(i, q, _, ok))| {
                    json!({"id": format!("ri-{n}"), "quantity": q, "lineItemId": format!("li-{i}"),
                           "shipmentState": if ok { "Returned" } else { "Advised" }, "paymentState": "Initial",
                           "createdAt": "2026-11-25T10:00:00.000Z"})
                })
                .collect();
            json!({"items": items, "returnDate": "2026-11-25T10:00:00.000Z"})
        })
        .collect();
    order["returnInfo"] = Value::Array(infos);
    order
}

fn full_return(spec: &OrderSpec) -> Vec<(usize, i64, u8, bool)> {
    spec.lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, l.qty, (i % 3) as u8, true))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn credit_notes_balance_and_never_credit_more_than_the_invoice(spec in plain_order(), raw in chunks(8)) {
        let rules = rules("credit_shipping = false");
        let (json, gross, _) = build(&spec);
        let (_, digits, ..) = MARKETS[spec.market];
        let chunks = clip(&spec, &raw);
        let order: Order = serde_json::from_value(with_returns(json, &chunks)).unwrap();
        let notes = map_credit_notes(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut credited = Decimal::ZERO;
        for n in &notes {
            prop_assert_eq!(n.balance(), Decimal::ZERO);
            prop_assert!(n.lines.iter().all(|l| l.amount.scale() == digits));
            credited -= n.total(Role::Receivable);
        }
        prop_assert!(credited >= Decimal::ZERO && credited <= Decimal::new(gross, digits));
        // Per line, never more than returning all of it credits (which is the invoice's line).
        let all: Order = serde_json::from_value(with_returns(build(&spec).0, &full_return(&spec))).unwrap();
        let full = by_sku(&map_credit_notes(&all, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?);
        for (sku, net) in by_sku(&notes) {
            prop_assert!(net >= Decimal::ZERO && net <= full[&sku], "{} credited {} of {}", sku, net, full[&sku]);
        }
        // A document with a pending item waits; one without accepted items has nothing to credit.
        let posting_docs = (0..3u8)
            .filter(|d| chunks.iter().any(|c| c.2 == *d) && chunks.iter().filter(|c| c.2 == *d).all(|c| c.3))
            .count();
        prop_assert_eq!(notes.len(), posting_docs);
    }

    /// Invoice minus credit notes is exactly what was kept: per role, account and VAT code, the
    /// invoice less the returned units' credit notes equals what returning the kept units (and the
    /// shipping, credited with the last of them) would credit, to the unit.
    #[test]
    fn invoice_minus_credit_notes_is_what_was_kept(spec in plain_order(), raw in chunks(8)) {
        let rules = rules("credit_shipping = true");
        let returned: Vec<_> = clip(&spec, &raw).into_iter().map(|(i, q, doc, _)| (i, q, doc.min(1), true)).collect();
        let mut then_the_rest = returned.clone();
        for (i, l) in spec.lines.iter().enumerate() {
            let gone: i64 = returned.iter().filter(|c| c.0 == i).map(|c| c.1).sum();
            if l.qty > gone {
                then_the_rest.push((i, l.qty - gone, 2, true));
            }
        }
        let notes_of = |chunks: &[(usize, i64, u8, bool)]| -> Result<Vec<Posting>, TestCaseError> {
            let order: Order = serde_json::from_value(with_returns(build(&spec).0, chunks)).unwrap();
            map_credit_notes(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))
        };
        let order: Order = serde_json::from_value(build(&spec).0).unwrap();
        let invoice = map_invoice(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let credited_notes = notes_of(&returned)?;
        let all_notes = notes_of(&then_the_rest)?;
        let credited = by_account(&credited_notes.iter().collect::<Vec<_>>());
        let everything = by_account(&all_notes.iter().collect::<Vec<_>>());
        let mut kept_by_invoice = by_account(&[&invoice]);
        for (k, v) in &credited {
            *kept_by_invoice.entry(k.clone()).or_default() += v;
        }
        kept_by_invoice.retain(|_, v| !v.is_zero());
        let mut kept_by_rest: BTreeMap<_, Decimal> = everything.clone();
        for (k, v) in &credited {
            *kept_by_rest.entry(k.clone()).or_default() -= v;
        }
        let kept_by_rest: BTreeMap<_, _> = kept_by_rest.into_iter().map(|(k, v)| (k, -v)).filter(|(_, v)| !v.is_zero()).collect();
        prop_assert_eq!(kept_by_invoice, kept_by_rest);
    }

    #[test]
    fn returning_everything_credits_exactly_the_invoice(spec in plain_order(), net_discounts in any::<bool>()) {
        let text = rules_text("credit_shipping = true");
        let rules = if net_discounts { with_net_discounts(text) } else { Rules::from_toml(&text).unwrap() };
        let (json, ..) = build(&spec);
        let order: Order = serde_json::from_value(with_returns(json, &full_return(&spec))).unwrap();
        let invoice = map_invoice(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let notes = map_credit_notes(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Per role, account and VAT code (so per rate): the credit notes mirror the invoice.
        let mirrored: BTreeMap<_, _> = by_account(&[&invoice]).into_iter().map(|(k, v)| (k, -v)).collect();
        prop_assert_eq!(by_account(&notes.iter().collect::<Vec<_>>()), mirrored);
        for n in &notes {
            prop_assert_eq!(n.balance(), Decimal::ZERO);
            prop_assert_eq!(n.total(Role::Rounding), Decimal::ZERO);
        }
    }

    #[test]
    fn deliveries_add_up_to_the_invoice(spec in plain_order(), raw in chunks(8)) {
        let rules = Rules::from_toml(&RULES.replace("discounts = \"separate\"", "discounts = \"separate\"\ninvoice_on = \"shipment\"")).unwrap();
        let (mut json, ..) = build(&spec);
        // Every unit ships, in random parcels; what the chunks leave over ships last.
        let mut chunks: Vec<(usize, i64, u8, bool)> = clip(&spec, &raw);
        for (i, l) in spec.lines.iter().enumerate() {
            let shipped: i64 = chunks.iter().filter(|c| c.0 == i).map(|c| c.1).sum();
            if l.qty > shipped {
                chunks.push((i, l.qty - shipped, 3, true));
            }
        }
        let deliveries: Vec<Value> = (0..4u8)
            .filter(|d| chunks.iter().any(|c| c.2 == *d))
            .map(|d| json!({"id": format!("d-{d}"), "createdAt": "2026-11-24T10:00:00.000Z",
                "items": chunks.iter().filter(|c| c.2 == d).map(|c| json!({"id": format!("li-{}", c.0), "quantity": c.1})).collect::<Vec<_>>()}))
            .collect();
        if json.get("shippingInfo").is_none() {
            let pct = MARKETS[spec.market].4[0];
            json["shippingInfo"] = json!({"shippingMethodName": "Post",
                "price": {"currencyCode": json["totalPrice"]["currencyCode"], "centAmount": 0},
                "taxRate": {"name": "std", "amount": pct as f64 / 100.0, "includedInPrice": spec.gross, "country": json["country"]}});
        }
        json["shippingInfo"]["deliveries"] = Value::Array(deliveries);
        let order: Order = serde_json::from_value(json).unwrap();
        let invoices = map_delivery_invoices(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole = map_invoice(&order, &rules).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for p in &invoices {
            prop_assert_eq!(p.balance(), Decimal::ZERO);
        }
        for role in [Role::Receivable, Role::Vat, Role::Revenue, Role::Discount, Role::Shipping] {
            let sum: Decimal = invoices.iter().map(|p| p.total(role)).sum();
            prop_assert_eq!(sum, whole.total(role), "{:?}", role);
        }
    }

    #[test]
    fn refunds_never_exceed_captures_and_every_posting_balances(
        spec in plain_order(),
        txs in prop::collection::vec((0u8..3, 1i64..1_000_000, 0u8..4), 0..10),
    ) {
        let rules = rules("credit_shipping = false");
        let (mut json, ..) = build(&spec);
        let cur = json["totalPrice"]["currencyCode"].clone();
        let digits = json["totalPrice"]["fractionDigits"].clone();
        json["paymentInfo"] = json!({"payments": [{"typeId": "payment", "id": "pay-1"}]});
        let kinds = ["Charge", "Refund", "Authorization"];
        let states = ["Success", "Success", "Pending", "Failure"];
        let transactions: Vec<Value> = txs.iter().enumerate().map(|(i, &(k, amount, s))| json!({
            "id": format!("t-{i}"), "type": kinds[k as usize], "state": states[s as usize],
            "timestamp": "2026-11-24T10:00:00.000Z",
            "amount": {"currencyCode": cur, "centAmount": amount, "fractionDigits": digits}})).collect();
        let payment: Payment = serde_json::from_value(json!({"id": "pay-1", "version": 3,
            "amountPlanned": json["totalPrice"], "paymentMethodInfo": {"paymentInterface": "adyen", "method": "card"},
            "transactions": transactions})).unwrap();
        let order: Order = serde_json::from_value(json).unwrap();
        let ok = |s: u8| states[s as usize] == "Success";
        let sum = |kind: u8| txs.iter().filter(|t| t.0 == kind && ok(t.2)).map(|t| t.1).sum::<i64>();
        let (captured, refunded) = (sum(0), sum(1));
        match map_payment(&payment, &order, &rules, None) {
            Ok(postings) => {
                prop_assert!(refunded <= captured, "an over-refund was posted");
                let movements = txs.iter().filter(|t| t.0 < 2 && ok(t.2)).count();
                prop_assert_eq!(postings.len(), movements);
                for p in &postings {
                    prop_assert_eq!(p.balance(), Decimal::ZERO);
                }
                let paid: Decimal = postings.iter().map(|p| p.total(Role::Payment)).sum();
                let d = u32::try_from(digits.as_u64().unwrap()).unwrap();
                prop_assert_eq!(paid, Decimal::new(captured - refunded, d));
            }
            Err(e) => {
                prop_assert!(refunded > captured, "refused without an over-refund: {}", e);
            }
        }
    }
}
