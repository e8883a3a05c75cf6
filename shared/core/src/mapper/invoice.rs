//! The invoice posting of an order.
//!
//! Lines: `receivable` (debit) = `taxedPrice.totalGross` (or `totalPrice` without a taxedPrice);
//! per item `revenue` / `shipping` / `gift_card` (credit) at the undiscounted net and a
//! `discount` (debit) for its line discount; an order-total discount split across VAT rates by
//! net; `vat` (credit) per rate = the order's `taxPortions`; and `rounding` only for what
//! per-line nets and invoice-level VAT leave over (at most one minor unit per item). Anything
//! larger means the order does not reconcile, and it is refused.

use std::collections::BTreeMap;

use chrono::DateTime;
use rust_decimal::Decimal;

use super::items::{items, Item};
use super::order_discount::{discount_shares, orphan_portion, vat_shares};
use crate::commercetools::order::Order;
use crate::keys::IdempotencyKey;
use crate::money::{fixed, minor_unit, percent_string};
use crate::posting::{EventKind, Posting, PostingLine, Role};
use crate::rules::{AccountCode, DiscountPosting, Entity, LineKind, Rules, VatRule};
use crate::validation::{Problem, ValidationError};

/// Maps an order to its invoice posting, or reports every problem of the order at once.
pub fn map_invoice(order: &Order, rules: &Rules) -> Result<Posting, ValidationError> {
    let mut problems = Vec::new();
    let posting = build(order, rules, &mut problems);
    match posting {
        Some(p) if problems.is_empty() => Ok(p),
        _ => Err(ValidationError::of(order, problems)),
    }
}

fn build(order: &Order, rules: &Rules, problems: &mut Vec<Problem>) -> Option<Posting> {
    let currency = order.total_price.currency_code.as_str();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        problems
            .push(Problem::new("currency", format!("{currency:?} is not an ISO 4217 currency code")).at("order", None));
    }
    let digits = order.total_price.cent_digits();
    let items = items(order, digits, problems);

    let mut b = Builder::for_order(order, rules, digits, problems)?;
    let date = b.local_date(order.created_at.as_deref(), "createdAt");

    // Receivable: exactly what the customer owes.
    let receivable = order
        .taxed_price
        .as_ref()
        .map_or(&order.total_price, |t| &t.total_gross)
        .amount();
    let receivable_account = b.account(
        b.entity.accounts.receivable.as_ref(),
        "receivable",
        "accounts.receivable",
    );
    b.push(
        Role::Receivable,
        receivable_account,
        receivable,
        None,
        None,
        Some(format!("Order {}", order.display_ref())),
    );

    for item in &items {
        b.item_lines(item);
    }
    b.order_discount(order, &items);
    b.vat_lines(order, &items);
    b.consistency(order, &items);
    b.rounding(items.len());

    let lines = std::mem::take(&mut b.lines);
    let mut posting = Posting::new(
        EventKind::Invoice,
        IdempotencyKey::invoice(&order.id),
        b.entity_id,
        currency,
        date?,
    );
    posting.external_ref = order.display_ref().to_string();
    posting.order_id = Some(order.id.clone());
    posting.lines = lines;
    Some(posting)
}

/// Collects the lines of one posting for one entity, recording every problem on the way.
pub(super) struct Builder<'r, 'p> {
    pub(super) entity_id: &'r str,
    pub(super) entity: &'r Entity,
    pub(super) digits: u32,
    pub(super) problems: &'p mut Vec<Problem>,
    pub(super) lines: Vec<PostingLine>,
}

impl<'r, 'p> Builder<'r, 'p> {
    /// A builder for the entity the order routes to (store key → country → currency).
    pub(super) fn for_order(
        order: &Order,
        rules: &'r Rules,
        digits: u32,
        problems: &'p mut Vec<Problem>,
    ) -> Option<Self> {
        let currency = order.total_price.currency_code.as_str();
        let store = order.store.as_ref().and_then(|s| s.key().or(s.id.as_deref()));
        let Some((entity_id, _)) = rules.routing.route(store, order.routing_country(), currency) else {
            problems.push(
                Problem::new(
                    "entity",
                    format!(
                        "no entity for store {:?}, country {:?}, currency {currency}",
                        store.unwrap_or("-"),
                        order.routing_country().unwrap_or("-")
                    ),
                )
                .at("order", None)
                .rule("routing.by_store / routing.by_country / routing.by_currency"),
            );
            return None;
        };
        Self::for_entity(entity_id, rules, digits, problems)
    }

    pub(super) fn for_entity(
        entity_id: &'r str,
        rules: &'r Rules,
        digits: u32,
        problems: &'p mut Vec<Problem>,
    ) -> Option<Self> {
        let Some(entity) = rules.entities.get(entity_id) else {
            problems.push(
                Problem::new("entity", format!("entity {entity_id:?} is not defined"))
                    .rule(format!("entities.{entity_id}")),
            );
            return None;
        };
        Some(Builder {
            entity_id,
            entity,
            digits,
            problems,
            lines: Vec::new(),
        })
    }
}

impl<'r> Builder<'r, '_> {
    fn unit(&self) -> Decimal {
        minor_unit(self.digits)
    }

    pub(super) fn rule_path(&self, rest: &str) -> String {
        format!("entities.{}.{rest}", self.entity_id)
    }

    /// An account that must exist; records the problem and yields a placeholder when it does not.
    pub(super) fn account(&mut self, account: Option<&AccountCode>, field: &str, rule: &str) -> AccountCode {
        account.cloned().unwrap_or_else(|| {
            let rule = self.rule_path(rule);
            self.problems.push(
                Problem::new("account", format!("no {field} account"))
                    .at("order", None)
                    .rule(rule),
            );
            AccountCode(String::new())
        })
    }

    /// The local date (entity time zone) of an RFC 3339 time; `field` names it in the problem.
    pub(super) fn local_date(&mut self, time: Option<&str>, field: &str) -> Option<String> {
        let tz: chrono_tz::Tz = self.entity.time_zone.parse().ok()?;
        match time.map(DateTime::parse_from_rfc3339) {
            Some(Ok(t)) => Some(t.with_timezone(&tz).date_naive().format("%Y-%m-%d").to_string()),
            Some(Err(e)) => {
                self.problems
                    .push(Problem::new(field, format!("not an RFC 3339 time: {e}")).at("order", None));
                None
            }
            None => {
                self.problems
                    .push(Problem::new(field, "missing: the posting date comes from it").at("order", None));
                None
            }
        }
    }

    pub(super) fn push(
        &mut self,
        role: Role,
        account: AccountCode,
        amount: Decimal,
        vat: Option<(&VatRule, Decimal)>,
        sku: Option<&str>,
        text: Option<String>,
    ) {
        // Zero lines carry no information for the ledger; the receivable always stays.
        if amount.is_zero() && role != Role::Receivable {
            return;
        }
        let amount = if amount.is_zero() { Decimal::ZERO } else { amount };
        self.lines.push(PostingLine {
            role,
            account,
            amount: fixed(amount, self.digits),
            vat_code: vat.map(|(v, _)| v.code.clone()),
            vat_rate: vat.map(|(_, r)| percent_string(r)),
            sku: sku.map(str::to_string),
            text,
        });
    }

    /// The VAT rule of (tax country, rate); records the problem when there is none.
    pub(super) fn vat_rule(
        &mut self,
        country: &str,
        rate: Decimal,
        line: &str,
        sku: Option<&str>,
    ) -> Option<&'r VatRule> {
        let percent = (rate * Decimal::ONE_HUNDRED).normalize();
        let entity: &'r Entity = self.entity;
        let found = entity.vat_rule(country, percent);
        if found.is_none() {
            let rule = self.rule_path(&format!(
                "vat (country = {country:?}, rate = \"{}\")",
                percent_string(rate)
            ));
            // Per SKU every time (finance fixes products by SKU); otherwise once per missing rule.
            if sku.is_none() && self.problems.iter().any(|p| p.rule.as_deref() == Some(rule.as_str())) {
                return None;
            }
            self.problems.push(
                Problem::new(
                    "vat_code",
                    format!("no VAT code for tax country {country} at {} %", percent_string(rate)),
                )
                .at(line, sku)
                .rule(rule),
            );
        }
        found
    }

    pub(super) fn item_lines(&mut self, item: &Item<'_>) {
        let entity = self.entity;
        let vat = self.vat_rule(&item.tax_country, item.rate, &item.label, item.sku);
        let chosen = entity.line_account(self.entity_id, &item.line_ref, vat);
        let account = chosen.account.clone().unwrap_or_else(|| {
            self.problems.push(
                Problem::new("account", format!("no {} account", kind_name(chosen.kind)))
                    .at(&item.label, item.sku)
                    .rule(chosen.rule.clone()),
            );
            AccountCode(String::new())
        });
        let role = match chosen.kind {
            LineKind::Revenue => Role::Revenue,
            LineKind::GiftCard => Role::GiftCard,
            LineKind::Shipping => Role::Shipping,
        };
        let separate = entity.discounts == DiscountPosting::Separate;
        // With `net`, an item's share of the order-total discount still posts as a discount,
        // as the invoice's order-discount lines do.
        let (revenue, discount) = if separate {
            (item.undiscounted_net, item.undiscounted_net - item.net)
        } else {
            (item.net + item.order_discount, item.order_discount)
        };
        let vat = vat.map(|v| (v, item.rate));
        let text = item.text.clone();
        self.push(role, account, -revenue, vat, item.sku, text.clone());
        if !discount.is_zero() {
            let acc = self.account(entity.accounts.discount.as_ref(), "discount", "accounts.discount");
            self.push(
                Role::Discount,
                acc,
                discount,
                vat,
                item.sku,
                text.map(|t| format!("Discount: {t}")),
            );
        }
    }

    /// A discount on the order total: one `discount` line per (tax country, rate) group.
    fn order_discount(&mut self, order: &Order, items: &[Item<'_>]) {
        let shares = match discount_shares(order, items, self.digits) {
            Ok(s) if s.is_empty() => return,
            Ok(s) => s,
            Err(p) => return self.problems.push(p),
        };
        let account = self.account(self.entity.accounts.discount.as_ref(), "discount", "accounts.discount");
        for ((country, rate), share) in shares {
            let vat = self.vat_rule(&country, rate.0, "order discount", None);
            let vat = vat.map(|v| (v, rate.0));
            let text = Some(format!("Order discount {} %", percent_string(rate.0)));
            self.push(Role::Discount, account.clone(), share, vat, None, text);
        }
    }

    /// VAT per rate from the order's tax portions (see [`vat_shares`]).
    fn vat_lines(&mut self, order: &Order, items: &[Item<'_>]) {
        for share in vat_shares(order, items, self.digits) {
            match share.country {
                Some(country) => {
                    let label = format!("VAT {} %", percent_string(share.rate.0));
                    self.vat_line(country, share.rate.0, share.amount, &label);
                }
                None => self.problems.push(orphan_portion(&share)),
            }
        }
    }

    /// VAT per (tax country, rate) from the items themselves: for partial invoices and credit
    /// notes, whose items are slices of the order's and have no taxPortions of their own.
    pub(super) fn vat_from_items(&mut self, items: &[Item<'_>]) {
        for ((country, rate), amount) in group_by_rate(items, |i| i.tax()).into_iter().rev() {
            if amount.is_zero() {
                continue; // a 0 % rate has no VAT line, as on the invoice
            }
            let label = format!("VAT {} %", percent_string(rate.0));
            self.vat_line(country, rate.0, amount, &label);
        }
    }

    /// One output VAT line (credit) of `amount` at (country, rate).
    fn vat_line(&mut self, country: &str, rate: Decimal, amount: Decimal, label: &str) {
        // Without a rule the problem is recorded and the line still counts, so that the
        // balance check reports only real differences.
        let vat = self.vat_rule(country, rate, label, None);
        let account = match vat {
            Some(VatRule { account: Some(a), .. }) => a.clone(),
            Some(v) => {
                let rule = self.rule_path(&format!("vat (country = {:?}, rate = {:?}).account", v.country, v.rate));
                self.problems.push(
                    Problem::new("account", "no output VAT account")
                        .at(label, None)
                        .rule(rule),
                );
                AccountCode(String::new())
            }
            None => AccountCode(String::new()),
        };
        self.push(
            Role::Vat,
            account,
            -amount,
            vat.map(|v| (v, rate)),
            None,
            Some(label.to_string()),
        );
    }

    /// Refuses orders whose own totals disagree beyond rounding.
    fn consistency(&mut self, order: &Order, items: &[Item<'_>]) {
        let unit = self.unit();
        for item in items {
            if let Some(own) = item.own_portions {
                if (own - item.tax()).abs() > unit {
                    self.problems.push(
                        Problem::new(
                            "totals",
                            format!("the line's taxPortions sum to {own} but gross − net is {}", item.tax()),
                        )
                        .at(&item.label, item.sku),
                    );
                }
            }
        }
        let Some(taxed) = &order.taxed_price else {
            for item in items.iter().filter(|i| !i.tax().is_zero()) {
                self.problems.push(
                    Problem::new(
                        "taxedPrice",
                        format!("the order has no taxedPrice but this line carries {} tax", item.tax()),
                    )
                    .at(&item.label, item.sku),
                );
            }
            return;
        };
        if order.discount_on_total_price.is_some() {
            return; // portions are computed after the total discount: no per-rate comparison
        }
        let mut by_rate: BTreeMap<RateKey, (Decimal, usize)> = BTreeMap::new();
        for i in items {
            let e = by_rate.entry(RateKey(i.rate)).or_default();
            e.0 += i.tax();
            e.1 += 1;
        }
        for p in &taxed.tax_portions {
            let rate = RateKey(p.rate.normalize());
            let (lines_vat, n) = by_rate.get(&rate).copied().unwrap_or_default();
            let portion: Decimal = taxed
                .tax_portions
                .iter()
                .filter(|q| RateKey(q.rate.normalize()) == rate)
                .map(|q| q.amount.amount())
                .sum();
            if (portion - lines_vat).abs() > unit * Decimal::from(n.max(1)) {
                self.problems.push(
                    Problem::new(
                        "totals",
                        format!(
                            "taxPortions at {} % sum to {portion}, the lines' VAT to {lines_vat}",
                            percent_string(rate.0)
                        ),
                    )
                    .at("order", None),
                );
            }
        }
    }

    /// What is left after all lines goes to the rounding account, if it is within one minor
    /// unit per item; beyond that the order does not reconcile.
    fn rounding(&mut self, item_count: usize) {
        let rest: Decimal = -self.lines.iter().map(|l| l.amount).sum::<Decimal>();
        if rest.is_zero() {
            return;
        }
        let limit = self.unit() * Decimal::from(item_count.max(1));
        if rest.abs() > limit {
            self.problems.push(
                Problem::new(
                    "totals",
                    format!("receivable, lines and VAT differ by {rest}, more than rounding ({limit}): the order does not reconcile"),
                )
                .at("order", None),
            );
            return;
        }
        let acc = self.account(self.entity.accounts.rounding.as_ref(), "rounding", "accounts.rounding");
        self.push(Role::Rounding, acc, rest, None, None, Some("Rounding".to_string()));
    }
}

/// A normalised tax rate, ordered, usable as a map key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RateKey(pub Decimal);

pub(super) fn group_by_rate<'i>(
    items: &'i [Item<'_>],
    amount: impl Fn(&Item<'_>) -> Decimal,
) -> BTreeMap<(&'i String, RateKey), Decimal> {
    let mut groups = BTreeMap::new();
    for i in items {
        *groups.entry((&i.tax_country, RateKey(i.rate))).or_insert(Decimal::ZERO) += amount(i);
    }
    groups
}

fn kind_name(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Revenue => "revenue",
        LineKind::GiftCard => "gift_card",
        LineKind::Shipping => "shipping",
    }
}
