//! The pure part of a Visma → commercetools sync: which inventory entries to create and which to
//! set, given the Visma levels and the channel's entries. No I/O.
//!
//! [`Planner`] takes the channel's entries page by page (so a caller never holds more than one
//! page of them) and, at the end, the SKUs no entry was seen for. [`plan`] is the same over whole
//! lists.

use std::collections::HashMap;

/// One commercetools inventory entry of the channel, reduced to what a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtEntry {
    pub id: String,
    pub version: u64,
    pub sku: String,
    pub quantity_on_stock: i64,
}

/// A write the sync makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new inventory entry of the channel with this quantity.
    Create { sku: String, quantity: i64 },
    /// `changeQuantity` to this absolute quantity on an existing entry.
    Set {
        id: String,
        version: u64,
        sku: String,
        from: i64,
        to: i64,
    },
}

impl Change {
    pub fn sku(&self) -> &str {
        match self {
            Change::Create { sku, .. } | Change::Set { sku, .. } => sku,
        }
    }
}

/// commercetools' whole-unit `quantityOnStock` for a Visma level: whole units only, rounded down
/// (never promise a part that is not there), and never below zero (an oversold article has
/// nothing to sell).
pub fn quantity_of(level: f64) -> i64 {
    if !level.is_finite() || level <= 0.0 {
        return 0;
    }
    // Visma's balances hold two decimals: 2.999999 is 3 units that floating point lost.
    let rounded = (level * 100.0).round() / 100.0;
    rounded.floor().min(i64::MAX as f64) as i64
}

/// Tallies of a plan (the writes are returned, not counted here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Entries already at the Visma level.
    pub unchanged: usize,
    /// Entries of the channel whose SKU Visma has no level for: left alone.
    pub untouched: usize,
}

/// Plans page by page. Holds one `(SKU, quantity, seen)` per Visma level and nothing per entry.
#[derive(Debug, Default)]
pub struct Planner {
    levels: HashMap<String, (i64, bool)>,
    tally: Tally,
}

impl Planner {
    /// Visma's level per SKU (a later duplicate SKU wins).
    pub fn new(levels: impl IntoIterator<Item = (String, i64)>) -> Self {
        Self {
            levels: levels.into_iter().map(|(sku, q)| (sku, (q, false))).collect(),
            tally: Tally::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The `Set`s one page of entries calls for, in page order.
    pub fn page<'a>(&mut self, entries: impl IntoIterator<Item = &'a CtEntry>) -> Vec<Change> {
        let mut out = Vec::new();
        for e in entries {
            let Some((want, seen)) = self.levels.get_mut(&e.sku) else {
                self.tally.untouched += 1;
                continue;
            };
            *seen = true;
            if e.quantity_on_stock == *want {
                self.tally.unchanged += 1;
            } else {
                out.push(Change::Set {
                    id: e.id.clone(),
                    version: e.version,
                    sku: e.sku.clone(),
                    from: e.quantity_on_stock,
                    to: *want,
                });
            }
        }
        out
    }

    /// The `Create`s for every SKU no page had an entry for, sorted by SKU, and the tally.
    pub fn finish(self) -> (Vec<Change>, Tally) {
        let mut creates: Vec<Change> = self
            .levels
            .into_iter()
            .filter(|(_, (_, seen))| !seen)
            .map(|(sku, (quantity, _))| Change::Create { sku, quantity })
            .collect();
        creates.sort_by(|a, b| a.sku().cmp(b.sku()));
        (creates, self.tally)
    }
}

/// A whole plan: sets in entry order, then creates by SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub tally: Tally,
}

/// [`Planner`] over whole lists.
pub fn plan(levels: impl IntoIterator<Item = (String, i64)>, entries: &[CtEntry]) -> Plan {
    let mut planner = Planner::new(levels);
    let mut changes = planner.page(entries);
    let (creates, tally) = planner.finish();
    changes.extend(creates);
    Plan { changes, tally }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn entry(id: &str, sku: &str, q: i64) -> CtEntry {
        CtEntry {
            id: id.into(),
            version: 3,
            sku: sku.into(),
            quantity_on_stock: q,
        }
    }

    #[test]
    fn creates_sets_and_leaves_the_rest() {
        let levels = [("A".to_string(), 5), ("B".to_string(), 0), ("C".to_string(), 7)];
        let entries = [entry("e1", "A", 5), entry("e2", "B", 2), entry("e9", "Z", 1)];
        let p = plan(levels, &entries);
        assert_eq!(
            p.changes,
            vec![
                Change::Set {
                    id: "e2".into(),
                    version: 3,
                    sku: "B".into(),
                    from: 2,
                    to: 0
                },
                Change::Create {
                    sku: "C".into(),
                    quantity: 7
                },
            ]
        );
        assert_eq!(
            p.tally,
            Tally {
                unchanged: 1,
                untouched: 1
            }
        );
    }

    #[test]
    fn quantities_are_whole_and_never_negative() {
        assert_eq!(quantity_of(3.0), 3);
        assert_eq!(quantity_of(2.999_999_9), 3);
        assert_eq!(quantity_of(2.5), 2);
        assert_eq!(quantity_of(-4.0), 0);
        assert_eq!(quantity_of(f64::NAN), 0);
    }

    fn entries_strategy() -> impl Strategy<Value = (BTreeMap<String, i64>, Vec<CtEntry>)> {
        let skus = prop::collection::btree_map("[A-F][0-9]", 0i64..5, 0..20);
        let ct = prop::collection::btree_map("[A-F][0-9]", (0i64..5, 1u64..9), 0..20);
        (skus, ct).prop_map(|(levels, ct)| {
            let entries = ct
                .into_iter()
                .enumerate()
                .map(|(i, (sku, (q, v)))| CtEntry {
                    id: format!("id{i:03}"),
                    version: v,
                    sku,
                    quantity_on_stock: q,
                })
                .collect();
            (levels, entries)
        })
    }

    proptest! {
        /// After applying the plan, every Visma SKU's entry holds the Visma level; entries of
        /// other SKUs are as they were; nothing already right is written; paging does not matter.
        #[test]
        fn applying_the_plan_converges((levels, entries) in entries_strategy(), split in 0usize..20) {
            let p = plan(levels.clone(), &entries);
            let mut state: BTreeMap<String, i64> =
                entries.iter().map(|e| (e.sku.clone(), e.quantity_on_stock)).collect();
            for c in &p.changes {
                match c {
                    Change::Create { sku, quantity } => {
                        prop_assert!(state.insert(sku.clone(), *quantity).is_none(), "create of an existing SKU");
                    }
                    Change::Set { sku, from, to, .. } => {
                        prop_assert_ne!(from, to);
                        prop_assert_eq!(state.insert(sku.clone(), *to), Some(*from));
                    }
                }
            }
            for (sku, q) in &levels {
                prop_assert_eq!(state.get(sku), Some(q));
            }
            for e in entries.iter().filter(|e| !levels.contains_key(&e.sku)) {
                prop_assert_eq!(state.get(&e.sku), Some(&e.quantity_on_stock));
            }
            let writes = levels
                .iter()
                .filter(|(sku, q)| entries.iter().find(|e| &e.sku == *sku).map(|e| e.quantity_on_stock) != Some(**q))
                .count();
            prop_assert_eq!(p.changes.len(), writes);
            prop_assert_eq!(p.changes.len() + p.tally.unchanged + p.tally.untouched, levels.len() + entries.iter().filter(|e| !levels.contains_key(&e.sku)).count());

            // The same plan, fed in two pages.
            let cut = split.min(entries.len());
            let mut planner = Planner::new(levels.clone());
            let mut paged = planner.page(&entries[..cut]);
            paged.extend(planner.page(&entries[cut..]));
            let (creates, tally) = planner.finish();
            paged.extend(creates);
            prop_assert_eq!(paged, p.changes.clone());
            prop_assert_eq!(tally, p.tally);

            // A second plan over the result writes nothing.
            let after: Vec<CtEntry> = state
                .iter()
                .enumerate()
                .map(|(i, (sku, q))| entry(&format!("n{i}"), sku, *q))
                .collect();
            prop_assert!(plan(levels, &after).changes.is_empty());
        }
    }
}
