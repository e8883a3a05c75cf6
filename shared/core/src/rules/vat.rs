//! VAT codes by (entity, tax country, rate). Never guessed: a rate without a rule is a
//! validation error. A rule's `country` is a country code, or a scope for cross-border sales:
//! `EU` (another EU member state), `non-EU` (outside the EU), `foreign` (any other country).
//! The most specific rule wins: country, then EU / non-EU, then foreign.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{AccountCode, Entity};
use crate::money::parse_percent;

/// EU member states (ISO 3166-1 alpha-2; Greece as GR, as commercetools sends it).
pub const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub fn is_eu(country: &str) -> bool {
    EU_MEMBERS.contains(&country) || country == "EL"
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VatRule {
    /// Country code, or `EU`, `non-EU`, `foreign`.
    pub country: String,
    /// Percent, as in "25" or "5.5".
    pub rate: String,
    /// The VAT code in the target ledger.
    pub code: String,
    /// Output VAT account; needed whenever this rule produces a non-zero VAT line.
    #[serde(default)]
    pub account: Option<AccountCode>,
    /// Revenue account for lines taxed by this rule when no SKU/product type/tax category rule
    /// matches (e.g. 3001/3002/3003 per Swedish rate, 3105 for exports).
    #[serde(default)]
    pub revenue_account: Option<AccountCode>,
}

/// How specifically a VAT rule matched (lower is more specific).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VatScope {
    Country,
    EuOrNonEu,
    Foreign,
}

impl VatRule {
    pub fn rate(&self) -> Option<Decimal> {
        parse_percent(&self.rate)
    }

    fn scope_for(&self, home: &str, tax_country: &str) -> Option<VatScope> {
        let foreign = tax_country != home;
        match self.country.as_str() {
            c if c == tax_country => Some(VatScope::Country),
            "EU" if foreign && is_eu(tax_country) => Some(VatScope::EuOrNonEu),
            "non-EU" if foreign && !is_eu(tax_country) => Some(VatScope::EuOrNonEu),
            "foreign" if foreign => Some(VatScope::Foreign),
            _ => None,
        }
    }
}

impl Entity {
    /// The VAT rule for a tax country and a rate in percent (e.g. 25 for 25 %).
    pub fn vat_rule(&self, tax_country: &str, rate_percent: Decimal) -> Option<&VatRule> {
        let rate = rate_percent.normalize();
        self.vat
            .iter()
            .filter(|v| v.rate() == Some(rate))
            .filter_map(|v| v.scope_for(&self.country, tax_country).map(|s| (s, v)))
            .min_by_key(|(s, _)| *s)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    const RULES: &str = r#"
        [entities.SE]
        name = "AB"
        country = "SE"
        base_currency = "SEK"
        time_zone = "Europe/Stockholm"
        accounts = {}
        vat = [
          { country = "SE", rate = "25", code = "MP1", account = "2611" },
          { country = "EU", rate = "0", code = "EU0" },
          { country = "non-EU", rate = "0", code = "EXP" },
          { country = "foreign", rate = "0", code = "ANY0" },
          { country = "NO", rate = "0", code = "NO0" },
        ]
    "#;

    #[test]
    fn most_specific_vat_rule_wins_and_rates_never_guess() {
        let rules = Rules::from_toml(RULES).unwrap();
        let se = &rules.entities["SE"];
        let code = |c: &str, r: i64| se.vat_rule(c, Decimal::new(r, 0)).map(|v| v.code.as_str());
        assert_eq!(code("SE", 25), Some("MP1"));
        assert_eq!(code("SE", 12), None, "no rule for 12 %: never guessed");
        assert_eq!(code("DE", 0), Some("EU0"));
        assert_eq!(code("US", 0), Some("EXP"));
        assert_eq!(code("NO", 0), Some("NO0"), "an exact country beats non-EU");
        assert_eq!(code("SE", 0), None, "domestic 0 % is not an export");
        assert_eq!(
            se.vat_rule("SE", "25.0".parse().unwrap()).map(|v| v.code.as_str()),
            Some("MP1")
        );
    }
}
