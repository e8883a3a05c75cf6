//! The part of commercetools' query predicate language the fake understands:
//!
//! ```text
//! expr  := conj ("or" conj)*
//! conj  := unary ("and" unary)*
//! unary := "not" "(" expr ")" | "(" expr ")" | field
//! field := ident "(" expr ")"                      nested object (any element of an array)
//!        | ident op literal                        op: = != <> > >= < <=
//!        | ident ["not"] "in" "(" literal, … ")"
//!        | ident "is" ["not"] "defined"
//! ```
//!
//! Literals are `"strings"` (with `\"` escapes), numbers, `true` and `false`. Keywords are
//! case-insensitive, as in commercetools. Examples: `id > "abc"`,
//! `paymentInfo(payments(id="…"))`, `sku = "A" and supplyChannel(id = "…")`.

use std::cmp::Ordering;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    And(Vec<Predicate>),
    Or(Vec<Predicate>),
    Not(Box<Predicate>),
    Nested(String, Box<Predicate>),
    Compare(String, Op, Value),
    In(String, Vec<Value>, bool),
    Defined(String, bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(Op),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            let Some(n) = chars.get(i + 1) else {
                                return Err("unterminated string".into());
                            };
                            s.push(*n);
                            i += 2;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Str(s));
            }
            '=' => {
                out.push(Token::Op(Op::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('<', _) => (Op::Lt, 1),
                    _ => (Op::Gt, 1),
                };
                out.push(Token::Op(op));
                i += len;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Num(s.parse().map_err(|_| format!("bad number {s}"))?));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            other => Err(format!("expected {what}, found {other:?}")),
        }
    }

    fn expr(&mut self) -> Result<Predicate, String> {
        let mut parts = vec![self.conj()?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.conj()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Predicate::Or(parts)
        })
    }

    fn conj(&mut self) -> Result<Predicate, String> {
        let mut parts = vec![self.unary()?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Predicate::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Predicate, String> {
        if self.keyword("not") && self.tokens.get(self.pos + 1) == Some(&Token::Open) {
            self.pos += 2;
            let inner = self.expr()?;
            self.expect(Token::Close, "')'")?;
            return Ok(Predicate::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.expr()?;
            self.expect(Token::Close, "')'")?;
            return Ok(inner);
        }
        let field = match self.next() {
            Some(Token::Ident(f)) => f,
            other => return Err(format!("expected a field name, found {other:?}")),
        };
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expr()?;
                self.expect(Token::Close, "')'")?;
                Ok(Predicate::Nested(field, Box::new(inner)))
            }
            Some(Token::Op(op)) => Ok(Predicate::Compare(field, op, self.literal()?)),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("in") => Ok(Predicate::In(field, self.list()?, false)),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("not") => {
                if !self.keyword("in") {
                    return Err("expected 'in' after 'not'".into());
                }
                self.pos += 1;
                Ok(Predicate::In(field, self.list()?, true))
            }
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("is") => {
                let negated = self.keyword("not");
                if negated {
                    self.pos += 1;
                }
                if !self.keyword("defined") {
                    return Err("expected 'defined'".into());
                }
                self.pos += 1;
                Ok(Predicate::Defined(field, !negated))
            }
            other => Err(format!("expected an operator after {field}, found {other:?}")),
        }
    }

    fn literal(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Num(n)) => Ok(serde_json::Number::from_f64(n)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Some(Token::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            other => Err(format!("expected a literal, found {other:?}")),
        }
    }

    fn list(&mut self) -> Result<Vec<Value>, String> {
        self.expect(Token::Open, "'('")?;
        let mut values = vec![self.literal()?];
        while self.peek() == Some(&Token::Comma) {
            self.pos += 1;
            values.push(self.literal()?);
        }
        self.expect(Token::Close, "')'")?;
        Ok(values)
    }
}

/// Parses one `where` parameter.
pub fn parse(text: &str) -> Result<Predicate, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
    };
    let p = parser.expr()?;
    if parser.pos < parser.tokens.len() {
        return Err(format!("unexpected {:?}", parser.tokens[parser.pos]));
    }
    Ok(p)
}

/// Orders two JSON values of the same kind (strings, numbers, booleans); others do not compare.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn values(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other],
    }
}

impl Predicate {
    /// Whether the resource (or nested object) matches; array fields match when any element does.
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            Predicate::And(ps) => ps.iter().all(|p| p.matches(v)),
            Predicate::Or(ps) => ps.iter().any(|p| p.matches(v)),
            Predicate::Not(p) => !p.matches(v),
            Predicate::Nested(field, inner) => values(v.get(field)).into_iter().any(|x| inner.matches(x)),
            Predicate::Compare(field, op, lit) => {
                let found = values(v.get(field));
                if *op == Op::Ne {
                    return !found.iter().any(|x| compare(x, lit) == Some(Ordering::Equal));
                }
                found.into_iter().any(|x| {
                    compare(x, lit).is_some_and(|o| match op {
                        Op::Eq => o == Ordering::Equal,
                        Op::Gt => o == Ordering::Greater,
                        Op::Ge => o != Ordering::Less,
                        Op::Lt => o == Ordering::Less,
                        Op::Le => o != Ordering::Greater,
                        Op::Ne => unreachable!(),
                    })
                })
            }
            Predicate::In(field, list, negated) => {
                let hit = values(v.get(field))
                    .into_iter()
                    .any(|x| list.iter().any(|l| compare(x, l) == Some(Ordering::Equal)));
                hit != *negated
            }
            Predicate::Defined(field, defined) => v.get(field).is_some_and(|x| !x.is_null()) == *defined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_what_the_client_sends() {
        let order = json!({"id": "o1", "paymentInfo": {"payments": [{"typeId": "payment", "id": "p1"}, {"id": "p2"}]}});
        assert!(parse(r#"paymentInfo(payments(id="p2"))"#).unwrap().matches(&order));
        assert!(!parse(r#"paymentInfo(payments(id="p3"))"#).unwrap().matches(&order));
        assert!(parse(r#"id > "o0""#).unwrap().matches(&order));
        assert!(!parse(r#"id > "o1""#).unwrap().matches(&order));

        let entry = json!({"id": "i1", "sku": "A\"1", "supplyChannel": {"typeId": "channel", "id": "c1"}, "quantityOnStock": 5});
        let p = parse(r#"sku = "A\"1" and supplyChannel(id = "c1") AND quantityOnStock >= 5"#).unwrap();
        assert!(p.matches(&entry));
        assert!(parse(r#"sku in ("x", "A\"1")"#).unwrap().matches(&entry));
        assert!(parse("supplyChannel is defined and key is not defined")
            .unwrap()
            .matches(&entry));
        assert!(parse(r#"not(sku = "B") or id = "zzz""#).unwrap().matches(&entry));
        assert!(parse("sku = ").is_err());
        assert!(parse(r#"sku = "a" garbage"#).is_err());
    }
}
