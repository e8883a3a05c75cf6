//! Stock sync of an entity (`[entities.<ID>.stock]`): which side is the source of truth and which
//! commercetools supply channel holds the entity's inventory entries.
//!
//! ```toml
//! [entities.SE.stock]
//! source = "visma"                      # or "commercetools"; default "visma"
//! supply_channel = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
//! supply_channel_key = "distribution-channel-us"   # optional, informative
//! quantity = "available"                # or "balance"; default "available"
//! ```

use serde::Deserialize;

/// Which side's stock levels win.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StockSource {
    /// Visma's levels are set on commercetools inventory entries (the usual case).
    #[default]
    Visma,
    /// commercetools inventory entries set the Visma articles' stock balance.
    Commercetools,
}

/// Which Visma figure becomes commercetools' `quantityOnStock` (source `visma`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StockQuantity {
    /// `StockBalanceAvailable`: the balance less what Visma has reserved (default), so the shop
    /// never sells what is promised elsewhere.
    #[default]
    Available,
    /// `StockBalance`: the physical stock.
    Balance,
}

/// `[entities.<ID>.stock]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockRules {
    #[serde(default)]
    pub source: StockSource,
    /// The id of the commercetools channel (role `InventorySupply`) of the entity's stock.
    pub supply_channel: String,
    /// The channel's key, for people reading the rules and logs; the id is what is queried.
    #[serde(default)]
    pub supply_channel_key: Option<String>,
    #[serde(default)]
    pub quantity: StockQuantity,
}

impl StockRules {
    /// Problems of this section, prefixed with its place in the file.
    pub fn problems(&self, entity: &str) -> Vec<String> {
        let mut out = Vec::new();
        if self.supply_channel.trim().is_empty() {
            out.push(format!("entities.{entity}.stock.supply_channel is empty"));
        }
        if self.supply_channel.contains('"') {
            out.push(format!("entities.{entity}.stock.supply_channel must be a channel id"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_modes() {
        let r: StockRules = toml::from_str(r#"supply_channel = "c1""#).unwrap();
        assert_eq!(r.source, StockSource::Visma);
        assert_eq!(r.quantity, StockQuantity::Available);
        assert!(r.problems("SE").is_empty());
        let r: StockRules =
            toml::from_str("source = \"commercetools\"\nsupply_channel = \"\"\nquantity = \"balance\"").unwrap();
        assert_eq!(r.source, StockSource::Commercetools);
        assert_eq!(r.quantity, StockQuantity::Balance);
        assert_eq!(r.problems("SE"), vec!["entities.SE.stock.supply_channel is empty"]);
        assert!(toml::from_str::<StockRules>("supply_channel = \"c\"\nsorce = \"visma\"").is_err());
    }
}
