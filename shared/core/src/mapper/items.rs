//! The amounts of each chargeable item of an order: line items, custom line items and shippings.
//!
//! A line's net and gross come from its own `taxedPrice` when commercetools sent one. Otherwise
//! (old orders) they are derived from its total and tax rate the way commercetools computes them:
//! gross prices are divided by 1 + rate, net prices multiplied, rounded with `taxRoundingMode`.

use rust_decimal::Decimal;

use crate::commercetools::common::{localized, TaxRate, TaxedPrice};
use crate::commercetools::order::{DiscountedLineItemPriceForQuantity, Order};
use crate::money::{round_half_even, round_with_mode, CtMoney};
use crate::rules::LineRef;
use crate::validation::Problem;

/// The largest line quantity taken; more is a data error (and would overflow amounts).
pub const MAX_QUANTITY: i64 = 1_000_000_000;

/// One chargeable item with the amounts the posting needs.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// "line item 1", "custom line item 1", "shipping", "shipping home".
    pub label: String,
    pub sku: Option<&'a str>,
    pub text: Option<String>,
    pub line_ref: LineRef<'a>,
    /// The line item or custom line item id (return items and deliveries refer to it); none for shipping.
    pub line_id: Option<&'a str>,
    /// Units on the line (1 for shipping): partial invoices and credit notes scale by it.
    pub quantity: i64,
    /// Net after line discounts: what the item contributes to the order's net. Partial documents
    /// lower it by the item's share of an order-total discount ([`super::order_discount`]).
    pub net: Decimal,
    /// Net before line (cart and shipping) discounts.
    pub undiscounted_net: Decimal,
    pub gross: Decimal,
    /// The item's share of an order-total discount already taken off `net` (zero on the invoice,
    /// which posts that discount per VAT group instead).
    pub order_discount: Decimal,
    /// Tax rate as a fraction (0.25).
    pub rate: Decimal,
    pub tax_country: String,
    /// Sum of the item's own `taxedPrice.taxPortions`, when it has any.
    pub own_portions: Option<Decimal>,
}

impl Item<'_> {
    pub fn tax(&self) -> Decimal {
        self.gross - self.net
    }
}

/// How to round the amounts of one order.
struct Ctx<'o> {
    order: &'o Order,
    digits: u32,
    mode: Option<&'o str>,
    tax_disabled: bool,
}

/// Extracts every item; what cannot be read is added to `problems` and the item left out.
pub fn items<'a>(order: &'a Order, digits: u32, problems: &mut Vec<Problem>) -> Vec<Item<'a>> {
    let ctx = Ctx {
        order,
        digits,
        mode: order.tax_rounding_mode.as_deref(),
        tax_disabled: order.tax_mode.as_deref() == Some("Disabled"),
    };
    let mut out = Vec::new();
    let locale = order.locale.as_deref();

    for (i, li) in order.line_items.iter().enumerate() {
        let label = format!("line item {}", i + 1);
        let sku = li.sku();
        if li.quantity < 0 {
            problems.push(Problem::new("quantity", format!("quantity {} is negative", li.quantity)).at(&label, sku));
            continue;
        }
        // Beyond any real order, and large enough to overflow amounts: refused, not guessed.
        if li.quantity > MAX_QUANTITY {
            problems.push(
                Problem::new("quantity", format!("quantity {} is above {MAX_QUANTITY}", li.quantity)).at(&label, sku),
            );
            continue;
        }
        if li.quantity == 0 && li.total_price.as_ref().is_some_and(|t| !t.amount().is_zero()) {
            problems.push(Problem::new("quantity", "quantity 0 with a non-zero line total").at(&label, sku));
            continue;
        }
        let Some(unit) = li.price.as_ref().map(|p| p.effective()).or(li.total_price.as_ref()) else {
            problems.push(Problem::new("price", "line item has neither price nor totalPrice").at(&label, sku));
            continue;
        };
        let unit_qty = if li.price.is_some() { li.quantity } else { 1 };
        let line_ref = LineRef {
            sku,
            product_type: li.product_type.iter().flat_map(|r| r.identifiers()).collect(),
            tax_category: li.tax_category.iter().flat_map(|r| r.identifiers()).collect(),
            ..Default::default()
        };
        let text = localized(&li.name, locale).map(str::to_string);
        let amounts = Amounts {
            unit,
            quantity: unit_qty,
            groups: &li.discounted_price_per_quantity,
            total: li.total_price.as_ref(),
            tax_rate: li.tax_rate.as_ref(),
            taxed: li.taxed_price.as_ref(),
        };
        if let Some(mut item) = ctx.item(label, sku, text, line_ref, amounts, problems) {
            item.line_id = Some(li.id.as_str());
            item.quantity = li.quantity;
            if item.net.is_sign_negative() && !item.net.is_zero() {
                problems.push(Problem::new("price", format!("net {} is negative", item.net)).at(&item.label, sku));
                continue;
            }
            out.push(item);
        }
    }

    for (i, cli) in order.custom_line_items.iter().enumerate() {
        let label = format!("custom line item {}", i + 1);
        let line_ref = LineRef {
            custom_line_item_slug: cli.slug.as_deref(),
            tax_category: cli.tax_category.iter().flat_map(|r| r.identifiers()).collect(),
            ..Default::default()
        };
        let text = localized(&cli.name, locale)
            .map(str::to_string)
            .or_else(|| cli.slug.clone());
        let amounts = Amounts {
            unit: &cli.money,
            quantity: cli.quantity,
            groups: &cli.discounted_price_per_quantity,
            total: cli.total_price.as_ref(),
            tax_rate: cli.tax_rate.as_ref(),
            taxed: cli.taxed_price.as_ref(),
        };
        // Custom line items may be negative (a shop's own surcharge or credit): allowed.
        out.extend(
            ctx.item(label, None, text, line_ref, amounts, problems)
                .map(|mut item| {
                    item.line_id = Some(cli.id.as_str());
                    item.quantity = cli.quantity;
                    item
                }),
        );
    }

    for (key, si) in order.shippings() {
        let label = key.map_or_else(|| "shipping".to_string(), |k| format!("shipping {k}"));
        let mut methods: Vec<&str> = si.shipping_method.iter().flat_map(|r| r.identifiers()).collect();
        methods.extend(key);
        methods.extend(si.shipping_method_name.as_deref());
        let line_ref = LineRef {
            shipping_method: methods,
            tax_category: si.tax_category.iter().flat_map(|r| r.identifiers()).collect(),
            is_shipping: true,
            ..Default::default()
        };
        let charged = si.charged();
        // Free shipping without a tax rate posts nothing; a charged one without a rate is an error.
        if si.tax_rate.is_none() && si.taxed_price.is_none() && charged.amount().is_zero() {
            continue;
        }
        let amounts = Amounts {
            unit: &si.price,
            quantity: 1,
            groups: &[],
            total: Some(charged),
            tax_rate: si.tax_rate.as_ref(),
            taxed: si.taxed_price.as_ref(),
        };
        out.extend(ctx.item(
            label,
            None,
            si.shipping_method_name.clone(),
            line_ref,
            amounts,
            problems,
        ));
    }
    out
}

/// The raw amounts of one item as commercetools sent them.
struct Amounts<'a> {
    /// Unit price before line discounts.
    unit: &'a CtMoney,
    quantity: i64,
    groups: &'a [DiscountedLineItemPriceForQuantity],
    total: Option<&'a CtMoney>,
    tax_rate: Option<&'a TaxRate>,
    taxed: Option<&'a TaxedPrice>,
}

impl Ctx<'_> {
    fn item<'a>(
        &self,
        label: String,
        sku: Option<&'a str>,
        text: Option<String>,
        line_ref: LineRef<'a>,
        a: Amounts<'_>,
        problems: &mut Vec<Problem>,
    ) -> Option<Item<'a>> {
        let digits = self.digits;
        let qty = Decimal::from(a.quantity);
        // Undiscounted total in the price mode (gross or net), rounded as commercetools rounds
        // line totals of high-precision prices: half even.
        let undiscounted = round_half_even(a.unit.precise() * qty, digits);
        let total = match a.total {
            Some(t) => t.amount(),
            None => {
                let grouped: i64 = a.groups.iter().map(|g| g.quantity).sum();
                let discounted: Decimal = a
                    .groups
                    .iter()
                    .map(|g| g.discounted_price.value.precise() * Decimal::from(g.quantity))
                    .sum();
                round_half_even(
                    discounted + a.unit.precise() * Decimal::from(a.quantity - grouped),
                    digits,
                )
            }
        };

        let (rate, included, tax_country) = match a.tax_rate {
            Some(t) => (
                t.amount,
                t.included_in_price,
                t.country
                    .clone()
                    .or_else(|| self.order.routing_country().map(str::to_string)),
            ),
            None if self.tax_disabled || a.taxed.is_some_and(|t| t.total_net == t.total_gross) => {
                (Decimal::ZERO, false, self.order.routing_country().map(str::to_string))
            }
            None => {
                problems.push(
                    Problem::new("tax_rate", "no taxRate: the order's tax calculation is incomplete").at(&label, sku),
                );
                return None;
            }
        };
        let Some(tax_country) = tax_country else {
            problems.push(Problem::new("tax_country", "no country on the tax rate or the order").at(&label, sku));
            return None;
        };

        let to_net = |amount: Decimal| -> Decimal {
            if included {
                round_with_mode(amount / (Decimal::ONE + rate), digits, self.mode)
            } else {
                amount
            }
        };
        let (net, gross) = match a.taxed {
            Some(t) => {
                let (net, gross) = (t.total_net.amount(), t.total_gross.amount());
                // commercetools' own line total is the gross (net for net prices) of its taxed
                // price, exactly; an order-total discount is the one thing allowed between them.
                let own = if included { gross } else { net };
                if let Some(total) = a.total.map(CtMoney::amount) {
                    if total != own && self.order.discount_on_total_price.is_none() {
                        let which = if included { "totalGross" } else { "totalNet" };
                        problems.push(
                            Problem::new(
                                "totals",
                                format!("the line's total {total} differs from its taxedPrice.{which} {own}"),
                            )
                            .at(&label, sku),
                        );
                        return None;
                    }
                }
                (net, gross)
            }
            None if included => (to_net(total), total),
            None => (total, total + round_with_mode(total * rate, digits, self.mode)),
        };
        let undiscounted_net = if undiscounted == total {
            net
        } else {
            to_net(undiscounted).max(net)
        };
        let own_portions = a
            .taxed
            .filter(|t| !t.tax_portions.is_empty())
            .map(|t| t.tax_portions.iter().map(|p| p.amount.amount()).sum());

        Some(Item {
            label,
            sku,
            text,
            line_ref,
            line_id: None,
            quantity: 1,
            net,
            undiscounted_net,
            gross,
            order_discount: Decimal::ZERO,
            rate: rate.normalize(),
            tax_country,
            own_portions,
        })
    }
}
