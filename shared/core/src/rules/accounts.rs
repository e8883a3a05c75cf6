//! Account rules for invoice lines. Revenue: SKU, then product type, then tax category, then the
//! revenue account of the line's VAT rule, then the entity default. Shipping: by shipping method,
//! then the entity default. Gift cards (multi-purpose vouchers): a liability account, not revenue.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{AccountCode, Entity, VatRule};

/// The entity's fixed accounts. Every one is optional in the file so that a missing one is
/// reported as a validation problem on the first order that needs it, with all others at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityAccounts {
    pub receivable: Option<AccountCode>,
    /// Default revenue account when no more specific rule matches.
    pub revenue: Option<AccountCode>,
    /// Default shipping revenue account.
    pub shipping: Option<AccountCode>,
    pub discount: Option<AccountCode>,
    /// Liability for sold, unredeemed gift cards.
    pub gift_card: Option<AccountCode>,
    pub rounding: Option<AccountCode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevenueRules {
    #[serde(default)]
    pub by_sku: BTreeMap<String, AccountCode>,
    /// Keyed by product type id or key.
    #[serde(default)]
    pub by_product_type: BTreeMap<String, AccountCode>,
    /// Keyed by tax category id or key.
    #[serde(default)]
    pub by_tax_category: BTreeMap<String, AccountCode>,
    /// Custom line items, keyed by slug.
    #[serde(default)]
    pub by_custom_line_item_slug: BTreeMap<String, AccountCode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingRules {
    /// Keyed by shipping method key or id, shipping key (multiple shipping) or method name.
    #[serde(default)]
    pub by_method: BTreeMap<String, AccountCode>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GiftCardRules {
    #[serde(default)]
    pub skus: Vec<String>,
    /// Product type ids or keys.
    #[serde(default)]
    pub product_types: Vec<String>,
    #[serde(default)]
    pub custom_line_item_slugs: Vec<String>,
}

/// What kind of invoice line an order item becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Revenue,
    GiftCard,
    Shipping,
}

/// What the rules can match on for one order item.
#[derive(Debug, Clone, Default)]
pub struct LineRef<'a> {
    pub sku: Option<&'a str>,
    pub product_type: Vec<&'a str>,
    pub tax_category: Vec<&'a str>,
    pub custom_line_item_slug: Option<&'a str>,
    /// For shipping: method key/id, shipping key and method name.
    pub shipping_method: Vec<&'a str>,
    pub is_shipping: bool,
}

/// The account chosen for an item and the rule that chose it (the rule is shown to auditors and
/// in validation errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAccount {
    pub kind: LineKind,
    pub account: Option<AccountCode>,
    pub rule: String,
}

impl Entity {
    pub fn is_gift_card(&self, line: &LineRef<'_>) -> bool {
        let g = &self.gift_cards;
        line.sku.is_some_and(|s| g.skus.iter().any(|x| x == s))
            || line.product_type.iter().any(|p| g.product_types.iter().any(|x| x == p))
            || line
                .custom_line_item_slug
                .is_some_and(|s| g.custom_line_item_slugs.iter().any(|x| x == s))
    }

    /// The account for one item, most specific rule first. `entity_id` only labels the rule.
    pub fn line_account(&self, entity_id: &str, line: &LineRef<'_>, vat: Option<&VatRule>) -> LineAccount {
        let at = |kind, account: Option<&AccountCode>, rule: String| LineAccount {
            kind,
            account: account.cloned(),
            rule,
        };
        if line.is_shipping {
            for m in &line.shipping_method {
                if let Some(a) = self.shipping.by_method.get(*m) {
                    return at(
                        LineKind::Shipping,
                        Some(a),
                        format!("entities.{entity_id}.shipping.by_method.{m}"),
                    );
                }
            }
            return at(
                LineKind::Shipping,
                self.accounts.shipping.as_ref(),
                format!("entities.{entity_id}.accounts.shipping"),
            );
        }
        if self.is_gift_card(line) {
            return at(
                LineKind::GiftCard,
                self.accounts.gift_card.as_ref(),
                format!("entities.{entity_id}.accounts.gift_card"),
            );
        }
        let r = &self.revenue;
        if let Some((s, a)) = line.sku.and_then(|s| r.by_sku.get_key_value(s)) {
            return at(
                LineKind::Revenue,
                Some(a),
                format!("entities.{entity_id}.revenue.by_sku.{s}"),
            );
        }
        if let Some((s, a)) = line
            .custom_line_item_slug
            .and_then(|s| r.by_custom_line_item_slug.get_key_value(s))
        {
            return at(
                LineKind::Revenue,
                Some(a),
                format!("entities.{entity_id}.revenue.by_custom_line_item_slug.{s}"),
            );
        }
        for p in &line.product_type {
            if let Some(a) = r.by_product_type.get(*p) {
                return at(
                    LineKind::Revenue,
                    Some(a),
                    format!("entities.{entity_id}.revenue.by_product_type.{p}"),
                );
            }
        }
        for t in &line.tax_category {
            if let Some(a) = r.by_tax_category.get(*t) {
                return at(
                    LineKind::Revenue,
                    Some(a),
                    format!("entities.{entity_id}.revenue.by_tax_category.{t}"),
                );
            }
        }
        if let Some(v) = vat.filter(|v| v.revenue_account.is_some()) {
            return at(
                LineKind::Revenue,
                v.revenue_account.as_ref(),
                format!(
                    "entities.{entity_id}.vat[country={}, rate={}].revenue_account",
                    v.country, v.rate
                ),
            );
        }
        at(
            LineKind::Revenue,
            self.accounts.revenue.as_ref(),
            format!("entities.{entity_id}.accounts.revenue"),
        )
    }
}
