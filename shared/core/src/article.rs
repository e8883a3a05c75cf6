//! The article (sales item) each product variant becomes in an entity's Visma company: one per
//! SKU, named in the entity's language, on the sales account the mapper would book the SKU to,
//! at the VAT rate that account carries. The article's [`hash`](ArticleSpec::hash) is what the
//! sync compares with the last one sent, so an unchanged catalogue sends nothing.

use rust_decimal::Decimal;

use crate::commercetools::common::localized;
use crate::commercetools::product::{Product, ProductProjection, ProductVariant};
use crate::rules::{AccountCode, Entity, LineKind, LineRef};

/// `ArticleApi.Name` maxLength: names are cut to it before hashing, so a cut name is no change.
const NAME_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSpec {
    pub sku: String,
    pub name: String,
    /// The sales account by the mapper's rules (SKU, product type, tax category, default).
    pub account: AccountCode,
    /// Percent: the domestic VAT rule whose revenue account this is, else the standard rate.
    pub vat_percent: Decimal,
    /// The rule that chose the account, for reports.
    pub rule: String,
}

impl ArticleSpec {
    /// A stable fingerprint of everything Visma is sent (FNV-1a 64 over the fields).
    pub fn hash(&self) -> String {
        let text = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.sku,
            self.name,
            self.account,
            self.vat_percent.normalize()
        );
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }

    /// The ledger-store name under which the last hash sent for this article is kept.
    pub fn state_name(&self, entity_id: &str) -> String {
        format!("article:{entity_id}:{}", self.sku)
    }
}

/// The current data of a product resource as the projection messages carry.
pub fn current_projection(p: &Product) -> Option<ProductProjection> {
    let data = p.master_data.as_ref()?;
    Some(ProductProjection {
        id: p.id.clone(),
        version: p.version,
        key: p.key.clone(),
        product_type: p.product_type.clone(),
        tax_category: p.tax_category.clone(),
        name: data.current.name.clone(),
        master_variant: data.current.master_variant.clone(),
        variants: data.current.variants.clone(),
        published: Some(data.published),
    })
}

/// The language an entity's articles are named in, by its country.
fn language(country: &str) -> &'static str {
    match country {
        "SE" => "sv",
        "NO" => "nb",
        "DK" => "da",
        "DE" | "AT" => "de",
        "FI" => "fi",
        "NL" => "nl",
        "JP" => "ja",
        _ => "en",
    }
}

/// Every SKU of `product` as an article of entity `entity_id`. Variants without a SKU have no
/// article (nothing can be invoiced by them); an account or rate the rules cannot give is
/// reported per SKU, naming the rule to add.
pub fn articles_for(
    product: &ProductProjection,
    entity_id: &str,
    entity: &Entity,
) -> Result<Vec<ArticleSpec>, Vec<String>> {
    let name = localized(&product.name, Some(language(&entity.country)))
        .unwrap_or_default()
        .trim()
        .to_string();
    let product_type: Vec<&str> = product.product_type.iter().flat_map(|r| r.identifiers()).collect();
    let tax_category: Vec<&str> = product.tax_category.iter().flat_map(|r| r.identifiers()).collect();
    let variants: Vec<&ProductVariant> = product.master_variant.iter().chain(&product.variants).collect();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for sku in variants
        .iter()
        .filter_map(|v| v.sku.as_deref())
        .filter(|s| !s.trim().is_empty())
    {
        let line = LineRef {
            sku: Some(sku),
            product_type: product_type.clone(),
            tax_category: tax_category.clone(),
            ..LineRef::default()
        };
        let chosen = entity.line_account(entity_id, &line, None);
        let Some(account) = chosen.account else {
            problems.push(format!("SKU {sku}: no sales account ({} is not set)", chosen.rule));
            continue;
        };
        let Some(vat_percent) = rate_of(entity, &account, chosen.kind) else {
            problems.push(format!(
                "SKU {sku}: no VAT rate for account {account}: add a [[entities.{entity_id}.vat]] rule for country {:?}",
                entity.country
            ));
            continue;
        };
        out.push(ArticleSpec {
            sku: sku.to_string(),
            name: if name.is_empty() {
                sku.to_string()
            } else {
                name.chars().take(NAME_MAX).collect()
            },
            account,
            vat_percent,
            rule: chosen.rule,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The VAT rate of a sales account: the domestic rule that names it as revenue account, else
/// the highest domestic rate (the standard rate); gift cards carry none.
fn rate_of(entity: &Entity, account: &AccountCode, kind: LineKind) -> Option<Decimal> {
    if kind == LineKind::GiftCard {
        return Some(Decimal::ZERO);
    }
    let domestic = || entity.vat.iter().filter(|v| v.country == entity.country);
    domestic()
        .find(|v| v.revenue_account.as_ref() == Some(account))
        .and_then(|v| v.rate())
        .or_else(|| domestic().filter_map(|v| v.rate()).max())
        .map(|r| r.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rules;

    fn rules() -> Rules {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/rules.toml")).unwrap();
        Rules::from_toml(&text).unwrap()
    }

    fn product() -> ProductProjection {
        serde_json::from_value(serde_json::json!({
            "id": "p-1", "version": 4,
            "name": {"en": "Linen shirt", "sv": "Linneskjorta"},
            "masterVariant": {"id": 1, "sku": "SHIRT-S"},
            "variants": [{"id": 2, "sku": "SHIRT-M"}, {"id": 3}, {"id": 4, "sku": "SERVICE-INSTALL"}]
        }))
        .unwrap()
    }

    #[test]
    fn one_article_per_sku_on_the_mappers_account_in_the_entitys_language() {
        let rules = rules();
        let a = articles_for(&product(), "SE", &rules.entities["SE"]).unwrap();
        let skus: Vec<&str> = a.iter().map(|x| x.sku.as_str()).collect();
        assert_eq!(skus, ["SHIRT-S", "SHIRT-M", "SERVICE-INSTALL"]);
        assert_eq!(a[0].name, "Linneskjorta");
        assert_eq!((a[0].account.0.as_str(), a[0].vat_percent), ("3001", Decimal::from(25)));
        // revenue.by_sku sends the service to 3041, which no VAT rule names: the standard rate.
        assert_eq!((a[2].account.0.as_str(), a[2].vat_percent), ("3041", Decimal::from(25)));
        let no = articles_for(&product(), "NO", &rules.entities["NO"]).unwrap();
        assert_eq!(no[0].name, "Linen shirt", "no Norwegian name: English");
    }

    #[test]
    fn the_hash_changes_with_what_visma_is_sent_and_only_with_that() {
        let rules = rules();
        let a = articles_for(&product(), "SE", &rules.entities["SE"]).unwrap();
        let mut b = a[0].clone();
        assert_eq!(a[0].hash(), b.hash());
        b.rule = "another rule".into();
        assert_eq!(a[0].hash(), b.hash(), "the rule is not sent");
        b.name.push('!');
        assert_ne!(a[0].hash(), b.hash());
        assert_eq!(a[0].state_name("SE"), "article:SE:SHIRT-S");
    }
}
