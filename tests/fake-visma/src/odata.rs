//! A small subset of OData `$filter`: `Field op literal` joined by `and`, with
//! `op` in `eq ne gt ge lt le` (case-insensitive), field names case-insensitive, top-level only.
//! Literals: `'text'` (`''` escapes a quote), numbers, `true`, `false`, `null`, bare GUIDs.
//! A date literal `'2024-01-31'` compares with the date part of date-time fields.

use std::cmp::Ordering;

use serde_json::Value;

use crate::spec::parse_date_prefix;
use crate::store::get_ci;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Bare(String),
}

/// One parsed condition.
#[derive(Debug)]
pub(crate) struct Cond {
    pub field: String,
    op: Op,
    lit: Lit,
}

fn tokens(s: &str) -> Result<Vec<(String, bool)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        text.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => text.push(ch),
                    None => return Err("unterminated string literal".into()),
                }
            }
            out.push((text, true));
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '\'' {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            out.push((word, false));
        }
    }
    Ok(out)
}

/// Parses a `$filter` expression.
pub(crate) fn parse(filter: &str) -> Result<Vec<Cond>, String> {
    let toks = tokens(filter)?;
    let mut conds = Vec::new();
    let mut i = 0;
    loop {
        let (field, quoted) = toks.get(i).ok_or("expected a property name")?;
        if *quoted {
            return Err(format!("expected a property name, found '{field}'"));
        }
        let (op, _) = toks.get(i + 1).ok_or("expected an operator")?;
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(format!("unsupported operator '{other}'")),
        };
        let (lit, quoted) = toks.get(i + 2).ok_or("expected a literal")?;
        let lit = if *quoted {
            Lit::Str(lit.clone())
        } else {
            match lit.to_ascii_lowercase().as_str() {
                "true" => Lit::Bool(true),
                "false" => Lit::Bool(false),
                "null" => Lit::Null,
                _ => match lit.parse::<f64>() {
                    Ok(n) => Lit::Num(n),
                    Err(_) => Lit::Bare(lit.clone()),
                },
            }
        };
        conds.push(Cond {
            field: field.clone(),
            op,
            lit,
        });
        i += 3;
        match toks.get(i) {
            None => break,
            Some((w, false)) if w.eq_ignore_ascii_case("and") => i += 1,
            Some((w, _)) => return Err(format!("expected 'and', found '{w}'")),
        }
    }
    Ok(conds)
}

fn compare(v: &Value, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::String(s), Lit::Str(l)) => {
            let date_only = l.len() == 10;
            match (parse_date_prefix(s), parse_date_prefix(l)) {
                (Some(a), Some(b)) if date_only => Some(a.cmp(&b)),
                _ => Some(s.as_str().cmp(l.as_str())),
            }
        }
        (Value::String(s), Lit::Bare(l)) => Some(s.to_lowercase().cmp(&l.to_lowercase())),
        (Value::String(s), Lit::Num(n)) => s.parse::<f64>().ok()?.partial_cmp(n),
        (Value::Number(a), Lit::Num(n)) => a.as_f64()?.partial_cmp(n),
        (Value::Number(a), Lit::Str(s) | Lit::Bare(s)) => a.as_f64()?.partial_cmp(&s.parse().ok()?),
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Lit::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Whether `item` satisfies all conditions.
pub(crate) fn matches(item: &Value, conds: &[Cond]) -> bool {
    conds.iter().all(|c| {
        let v = get_ci(item, &c.field).unwrap_or(&Value::Null);
        let ord = compare(v, &c.lit);
        match c.op {
            Op::Eq => ord == Some(Ordering::Equal),
            Op::Ne => ord != Some(Ordering::Equal),
            Op::Gt => ord == Some(Ordering::Greater),
            Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            Op::Lt => ord == Some(Ordering::Less),
            Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters() {
        let item = json!({"YourReference": "order-1", "InvoiceNumber": 1001,
            "InvoiceDate": "2024-01-31T00:00:00", "IsCreditInvoice": false,
            "CustomerId": "5B6E0000-0000-4000-8000-000000000001"});
        let ok = |f: &str| matches(&item, &parse(f).unwrap());
        assert!(ok("YourReference eq 'order-1'"));
        assert!(ok("yourreference EQ 'order-1' and InvoiceNumber eq 1001"));
        assert!(!ok("YourReference eq 'order-2'"));
        assert!(ok("YourReference ne 'order-2'"));
        assert!(ok("InvoiceDate eq '2024-01-31'"));
        assert!(ok("InvoiceDate ge '2024-01-01' and InvoiceDate lt '2024-02-01'"));
        assert!(ok("IsCreditInvoice eq false"));
        assert!(ok("CustomerId eq 5b6e0000-0000-4000-8000-000000000001"));
        assert!(ok("Missing eq null"));
        assert!(!ok("YourReference eq 'it''s'"));
        assert!(parse("YourReference like 'x'").is_err());
        assert!(parse("YourReference eq").is_err());
        assert!(parse("A eq 'x' or B eq 'y'").is_err());
        assert!(parse("A eq 'x").is_err());
    }
}
