//! Postings for part of an order: the invoice of one delivery, the credit note of one return.
//!
//! A slice of `now` units of a line that already had `before` units covered by earlier documents
//! gets f(before + now) − f(before) of each amount X of the line (net, undiscounted net, gross,
//! order-discount share), with f(k) = round(X × k / quantity) half-even. Net and gross already
//! carry the line's share of an order-total discount ([`super::order_discount`]). So slices never add up to more than the line,
//! and the last one takes the remainder: all slices of a line sum to exactly its amounts.
//! VAT = gross − net of each slice, so a partial posting balances without a rounding line.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::invoice::Builder;
use super::items::Item;
use crate::money::round_half_even;
use crate::posting::{PostingLine, Role};
use crate::validation::Problem;

/// Units of one line in one document, after `before` units in earlier ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub line_id: String,
    pub before: i64,
    pub now: i64,
}

/// Counts units per line across documents in order, so each slice knows what came before it.
#[derive(Debug, Default)]
pub struct Tally(BTreeMap<String, i64>);

impl Tally {
    pub fn slice(&mut self, line_id: &str, now: i64) -> Slice {
        let before = self.0.entry(line_id.to_string()).or_default();
        let s = Slice {
            line_id: line_id.to_string(),
            before: *before,
            now,
        };
        *before += now;
        s
    }

    pub fn covered(&self, line_id: &str) -> i64 {
        self.0.get(line_id).copied().unwrap_or_default()
    }
}

/// The items of the slices; `with_shipping` adds every shipping item whole. A slice of an unknown
/// line or beyond the line's quantity is a problem (nothing is credited twice).
pub(super) fn slice_items<'a>(
    items: &[Item<'a>],
    slices: &[Slice],
    with_shipping: bool,
    digits: u32,
    problems: &mut Vec<Problem>,
) -> Vec<Item<'a>> {
    let mut out = Vec::new();
    for s in slices {
        let Some(item) = items.iter().find(|i| i.line_id == Some(s.line_id.as_str())) else {
            problems.push(Problem::new("lineItemId", format!("no line {} in the order", s.line_id)).at("order", None));
            continue;
        };
        if s.now <= 0 || s.before + s.now > item.quantity {
            problems.push(
                Problem::new(
                    "quantity",
                    format!(
                        "{} more after {} already covered exceeds the line's {} units",
                        s.now, s.before, item.quantity
                    ),
                )
                .at(&item.label, item.sku),
            );
            continue;
        }
        let q = Decimal::from(item.quantity);
        let part = |x: Decimal| {
            let f = |k: i64| round_half_even(x * Decimal::from(k) / q, digits);
            f(s.before + s.now) - f(s.before)
        };
        let mut sliced = item.clone();
        sliced.net = part(item.net);
        sliced.undiscounted_net = part(item.undiscounted_net);
        sliced.gross = part(item.gross);
        sliced.order_discount = part(item.order_discount);
        sliced.quantity = s.now;
        out.push(sliced);
    }
    if with_shipping {
        out.extend(items.iter().filter(|i| i.line_ref.is_shipping).cloned());
    }
    out
}

/// Receivable, item lines and VAT from items: an invoice-shaped posting for the given items.
pub(super) fn slice_lines(b: &mut Builder<'_, '_>, items: &[Item<'_>], text: String) {
    let receivable: Decimal = items.iter().map(|i| i.gross).sum();
    let account = b.account(
        b.entity.accounts.receivable.as_ref(),
        "receivable",
        "accounts.receivable",
    );
    b.push(Role::Receivable, account, receivable, None, None, Some(text));
    for item in items {
        b.item_lines(item);
    }
    b.vat_from_items(items);
}

/// The same lines with opposite signs: a credit note mirrors what it reverses.
pub fn reversed(lines: &[PostingLine]) -> Vec<PostingLine> {
    lines
        .iter()
        .map(|l| PostingLine {
            amount: if l.amount.is_zero() { l.amount } else { -l.amount },
            ..l.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_what_came_before() {
        let mut t = Tally::default();
        assert_eq!(t.slice("a", 1).before, 0);
        assert_eq!(t.slice("a", 2).before, 1);
        assert_eq!(t.slice("b", 1).before, 0);
        assert_eq!(t.covered("a"), 3);
    }
}
