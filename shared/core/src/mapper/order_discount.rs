//! The discount on an order's total price, allocated per (tax country, rate) group and per item.
//!
//! The invoice posts it per group; partial documents (deliveries, returns) need it per item, so
//! that each item carries what the customer actually paid for it. Both use the same group
//! figures, so the items of a group add up to exactly the invoice's lines for that group.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::invoice::{group_by_rate, RateKey};
use super::items::Item;
use super::split::split_proportionally;
use crate::commercetools::order::Order;
use crate::money::{minor_unit, percent_string};
use crate::validation::Problem;

/// A (tax country, rate) group of items.
pub(super) type Group = (String, RateKey);

/// The net of the order-total discount per group: what the items' nets exceed the order's net
/// by, split across groups in proportion to their net. Empty without such a discount.
pub(super) fn discount_shares(
    order: &Order,
    items: &[Item<'_>],
    digits: u32,
) -> Result<BTreeMap<Group, Decimal>, Problem> {
    let Some(dot) = &order.discount_on_total_price else {
        return Ok(BTreeMap::new());
    };
    let problem = |text: String| Problem::new("discountOnTotalPrice", text).at("order", None);
    let order_net = order
        .taxed_price
        .as_ref()
        .map_or(&order.total_price, |t| &t.total_net)
        .amount();
    let items_net: Decimal = items.iter().map(|i| i.net).sum();
    let discount = items_net - order_net;
    let stated = dot.discounted_amount.amount();
    let slack = minor_unit(digits) * Decimal::from(items.len().max(1));
    if discount.is_sign_negative() && !discount.is_zero() || discount > stated + slack {
        return Err(problem(format!(
            "lines' net {items_net} less order net {order_net} = {discount} does not fit the discount of {stated}"
        )));
    }
    let groups = owned(group_by_rate(items, |i| i.net));
    let weights: Vec<Decimal> = groups.values().copied().collect();
    let shares = split_proportionally(discount, &weights, digits)
        .ok_or_else(|| problem("discount on an order without net to split it over".to_string()))?;
    Ok(groups.into_keys().zip(shares).collect())
}

/// One rate's VAT for one tax country; `country` is `None` when no item has the rate.
pub(super) struct VatShare<'i> {
    pub rate: RateKey,
    pub country: Option<&'i String>,
    pub amount: Decimal,
}

/// The order's VAT per group, highest rate first: its taxPortions per rate, a rate shared by
/// several tax countries split between them by their items' VAT. Zero portions are left out.
pub(super) fn vat_shares<'i>(order: &Order, items: &'i [Item<'_>], digits: u32) -> Vec<VatShare<'i>> {
    let Some(taxed) = &order.taxed_price else {
        return Vec::new();
    };
    let mut portions: BTreeMap<RateKey, Decimal> = BTreeMap::new();
    for p in &taxed.tax_portions {
        *portions.entry(RateKey(p.rate.normalize())).or_default() += p.amount.amount();
    }
    let item_vat = group_by_rate(items, |i| i.tax());
    let mut out = Vec::new();
    for (rate, amount) in portions.into_iter().rev().filter(|(_, a)| !a.is_zero()) {
        let countries: Vec<(&String, Decimal)> = item_vat
            .iter()
            .filter(|((_, r), _)| *r == rate)
            .map(|((c, _), v)| (*c, *v))
            .collect();
        if countries.is_empty() {
            out.push(VatShare {
                rate,
                country: None,
                amount,
            });
            continue;
        }
        let weights: Vec<Decimal> = countries.iter().map(|(_, v)| *v).collect();
        // Items without VAT at a taxed rate: the first country takes the portion.
        let shares = split_proportionally(amount, &weights, digits).unwrap_or_else(|| {
            std::iter::once(amount)
                .chain(std::iter::repeat(Decimal::ZERO))
                .take(weights.len())
                .collect()
        });
        for ((country, _), amount) in countries.into_iter().zip(shares) {
            out.push(VatShare {
                rate,
                country: Some(country),
                amount,
            });
        }
    }
    out
}

/// The problem of a tax portion at a rate no item has.
pub(super) fn orphan_portion(share: &VatShare<'_>) -> Problem {
    Problem::new(
        "taxPortions",
        format!(
            "VAT {} % of {} has no line taxed at that rate",
            percent_string(share.rate.0),
            share.amount
        ),
    )
    .at("order", None)
}

/// Lowers each item's net and gross by its share of the order-total discount, so they are what
/// the customer paid for it. Per group the net share is the invoice's, and the effective gross is
/// the effective net plus the invoice's VAT; within a group both discounts split by item net.
pub(super) fn apply_to_items(order: &Order, items: &mut [Item<'_>], digits: u32, problems: &mut Vec<Problem>) {
    if order.discount_on_total_price.is_none() {
        return;
    }
    let net_shares = match discount_shares(order, items, digits) {
        Ok(s) => s,
        Err(p) => return problems.push(p),
    };
    let mut vat: BTreeMap<Group, Decimal> = BTreeMap::new();
    for share in vat_shares(order, items, digits) {
        match share.country {
            Some(c) => *vat.entry((c.clone(), share.rate)).or_default() += share.amount,
            None => problems.push(orphan_portion(&share)),
        }
    }
    for (group, net_discount) in net_shares {
        let members: Vec<usize> = (0..items.len())
            .filter(|&n| items[n].tax_country == group.0 && RateKey(items[n].rate) == group.1)
            .collect();
        let net: Decimal = members.iter().map(|&n| items[n].net).sum();
        let gross: Decimal = members.iter().map(|&n| items[n].gross).sum();
        let effective_gross = net - net_discount + vat.get(&group).copied().unwrap_or_default();
        let weights: Vec<Decimal> = members.iter().map(|&n| items[n].net).collect();
        let split = |total: Decimal| split_proportionally(total, &weights, digits);
        let (Some(nets), Some(grosses)) = (split(net_discount), split(gross - effective_gross)) else {
            problems.push(
                Problem::new(
                    "discountOnTotalPrice",
                    format!(
                        "no net at {} % to split the order discount over its lines",
                        percent_string(group.1 .0)
                    ),
                )
                .at("order", None),
            );
            continue;
        };
        for ((n, d_net), d_gross) in members.into_iter().zip(nets).zip(grosses) {
            let item = &mut items[n];
            item.net -= d_net;
            item.gross -= d_gross;
            item.order_discount += d_net;
        }
    }
}

fn owned(groups: BTreeMap<(&String, RateKey), Decimal>) -> BTreeMap<Group, Decimal> {
    groups.into_iter().map(|((c, r), v)| ((c.clone(), r), v)).collect()
}
