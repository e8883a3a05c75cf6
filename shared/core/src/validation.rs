//! Validation errors: everything wrong with one order, reported at once, each problem naming the
//! order, the line (SKU), the field and the rule that is missing.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is missing or wrong: `entity`, `vat_code`, `account`, `tax_rate`, `totals`, …
    pub field: String,
    /// Which line: "line item 2", "custom line item 1", "shipping", "order".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The rule (path in the rules file) that would have answered, when one would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            line: None,
            sku: None,
            rule: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, line: &str, sku: Option<&str>) -> Self {
        self.line = Some(line.into());
        self.sku = sku.map(Into::into);
        self
    }

    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }
}

/// An order that cannot be posted as it is. Permanent: it waits in the parking queue until the
/// rules or the order are fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("order {order}: {} problem(s): {}", problems.len(), summary(problems))]
pub struct ValidationError {
    /// Order number, else id.
    pub order: String,
    pub order_id: String,
    pub problems: Vec<Problem>,
}

impl ValidationError {
    pub fn of(order: &crate::commercetools::order::Order, problems: Vec<Problem>) -> Self {
        Self {
            order: order.display_ref().to_string(),
            order_id: order.id.clone(),
            problems,
        }
    }

    /// `value` when nothing was found wrong, else every problem of the order at once.
    pub fn unless_empty<T>(
        order: &crate::commercetools::order::Order,
        problems: Vec<Problem>,
        value: T,
    ) -> Result<T, Self> {
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(Self::of(order, problems))
        }
    }
}

fn summary(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let mut s = p.field.clone();
            if let Some(l) = &p.line {
                s += &format!(" ({l}");
                if let Some(k) = &p.sku {
                    s += &format!(", SKU {k}");
                }
                s.push(')');
            }
            s + ": " + &p.message
        })
        .collect::<Vec<_>>()
        .join("; ")
}
