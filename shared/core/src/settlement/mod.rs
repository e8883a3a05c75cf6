//! PSP settlement reports: the lines of a payout batch, read from the Adyen "Settlement details"
//! CSV layout (the most widely used one). Columns are matched by name, case-insensitively and in
//! any order; unknown columns are ignored. Every bad line of a file is reported at once.
//!
//! Columns read (others are ignored):
//! `Merchant Account`, `Batch Number`, `Type`, `Creation Date` (`YYYY-MM-DD HH:MM:SS`),
//! `TimeZone` (IANA name, or CET/CEST/EET/EEST/BST/UTC/GMT), `Psp Reference`,
//! `Modification Reference`, `Merchant Reference`, `Payment Method`, `Gross Currency`,
//! `Gross Debit (GC)`, `Gross Credit (GC)`, `Net Currency`, `Net Debit (NC)`, `Net Credit (NC)`,
//! and the fee columns `Commission (NC)`, `Markup (NC)`, `Scheme Fees (NC)`, `Interchange (NC)`.

pub mod csv;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;
use serde::Serialize;

/// A settlement file's lines, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub lines: Vec<SettlementLine>,
}

/// One line of a settlement report. Amounts are signed from the merchant's view: credit minus
/// debit, so money in is positive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementLine {
    /// The file line it was read from (the header is line 1).
    pub file_line: usize,
    pub merchant_account: String,
    pub batch: String,
    pub kind: LineKind,
    /// The `Type` column as written ("Settled", "Fee").
    pub type_name: String,
    /// When the PSP booked it, with the report's offset.
    pub created: DateTime<FixedOffset>,
    pub psp_reference: Option<String>,
    pub modification_reference: Option<String>,
    /// Our order number, as sent to the PSP.
    pub merchant_reference: Option<String>,
    pub payment_method: Option<String>,
    /// Gross amount in the gross currency, for lines that settle a payment.
    pub gross: Option<(String, Decimal)>,
    pub net_currency: String,
    pub net: Decimal,
    /// Sum of the fee columns, when any is filled in.
    pub fees: Option<Decimal>,
}

/// What a settlement line does to the books.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// A payment movement (Settled, Refunded, Chargeback, their reversals): empties or refills the
    /// clearing account by the gross amount; the fees are the difference to net.
    Payment,
    /// A charge or correction without a payment (Fee, InvoiceDeduction, DepositCorrection …).
    Fee,
    /// The transfer of the batch's balance to the bank (MerchantPayout).
    Payout,
}

impl LineKind {
    fn of(type_name: &str, has_gross: bool) -> Option<Self> {
        let t: String = type_name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        match t.as_str() {
            "merchantpayout" | "payout" => Some(Self::Payout),
            _ if has_gross => Some(Self::Payment),
            "fee"
            | "invoicededuction"
            | "depositcorrection"
            | "misccosts"
            | "paymentcost"
            | "chargebackfee"
            | "advancementcommission"
            | "reservecorrection" => Some(Self::Fee),
            _ => None,
        }
    }
}

/// A problem in a settlement file: the line and column, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineProblem {
    pub line: usize,
    pub column: Option<String>,
    pub message: String,
}

/// Everything wrong with a settlement file. Permanent: the file must be fixed or the rules extended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("settlement report: {} problem(s): {}", problems.len(), summary(problems))]
pub struct SettlementError {
    pub problems: Vec<LineProblem>,
}

fn summary(problems: &[LineProblem]) -> String {
    let shown: Vec<String> = problems
        .iter()
        .take(5)
        .map(|p| match &p.column {
            Some(c) => format!("line {} {c}: {}", p.line, p.message),
            None => format!("line {}: {}", p.line, p.message),
        })
        .collect();
    let more = problems.len().saturating_sub(shown.len());
    if more == 0 {
        shown.join("; ")
    } else {
        format!("{}; and {more} more", shown.join("; "))
    }
}

const REQUIRED: [&str; 6] = [
    "merchant account",
    "batch number",
    "type",
    "creation date",
    "net currency",
    "timezone",
];
const FEE_COLUMNS: [&str; 4] = ["commission (nc)", "markup (nc)", "scheme fees (nc)", "interchange (nc)"];

/// True when the text's first record names the columns of a settlement-details report.
pub fn looks_like_settlement(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("")
        .to_lowercase();
    first.contains("merchant account") && first.contains("batch number") && first.contains("net currency")
}

/// Reads a settlement-details CSV.
pub fn parse(text: &str) -> Result<Settlement, SettlementError> {
    let fail = |line, message: String| SettlementError {
        problems: vec![LineProblem {
            line,
            column: None,
            message,
        }],
    };
    let records = csv::records(text).map_err(|(line, m)| fail(line, m))?;
    let Some((header, rows)) = records.split_first() else {
        return Err(fail(1, "the file is empty: expected a header row".into()));
    };
    let names: Vec<String> = header.fields.iter().map(|h| canonical(h)).collect();
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            header.line,
            format!(
                "missing column(s) {}: is this a settlement-details report?",
                missing.join(", ")
            ),
        ));
    }
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for record in rows {
        let row = Row {
            names: &names,
            header: &header.fields,
            record,
            problems: Vec::new(),
        };
        match row.line() {
            Ok(l) => lines.push(l),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(Settlement { lines })
    } else {
        Err(SettlementError { problems })
    }
}

/// Lower case, single spaces: "Gross  Debit (GC)" and "gross debit (gc)" name one column.
fn canonical(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

struct Row<'a> {
    names: &'a [String],
    /// The column names as the file writes them, for messages.
    header: &'a [String],
    record: &'a csv::Record,
    problems: Vec<LineProblem>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        let i = self.names.iter().position(|n| n == column)?;
        self.record.fields.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn problem(&mut self, column: &str, message: impl Into<String>) {
        let named = self.names.iter().position(|n| *n == canonical(column));
        let column = named.and_then(|i| self.header.get(i)).map_or(column, |h| h.trim());
        self.problems.push(LineProblem {
            line: self.record.line,
            column: Some(column.into()),
            message: message.into(),
        });
    }

    fn text(&mut self, column: &str) -> String {
        match self.get(column) {
            Some(v) => v.to_string(),
            None => {
                self.problem(column, "is empty");
                String::new()
            }
        }
    }

    fn amount(&mut self, column: &str) -> Option<Decimal> {
        let raw = self.get(column)?.to_string();
        match raw.replace(' ', "").parse::<Decimal>() {
            Ok(d) if d.is_sign_negative() => {
                self.problem(
                    column,
                    format!("{raw:?} is negative: debit and credit columns hold magnitudes"),
                );
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.problem(column, format!("{raw:?} is not an amount"));
                None
            }
        }
    }

    /// Credit minus debit of a pair of columns; None when both are empty.
    fn signed(&mut self, debit: &str, credit: &str) -> Option<Decimal> {
        let (d, c) = (self.amount(debit), self.amount(credit));
        if d.is_none() && c.is_none() {
            return None;
        }
        Some(c.unwrap_or_default() - d.unwrap_or_default())
    }

    fn created(&mut self) -> Option<DateTime<FixedOffset>> {
        let raw = self.get("creation date")?.to_string();
        let zone = self.get("timezone").unwrap_or("").to_string();
        let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(&raw, f).ok());
        let Some(naive) = naive else {
            self.problem("Creation Date", format!("{raw:?} is not YYYY-MM-DD HH:MM:SS"));
            return None;
        };
        match localize(naive, &zone) {
            Some(t) => Some(t),
            None => {
                self.problem("TimeZone", format!("{zone:?} is not a time zone this reader knows"));
                None
            }
        }
    }

    fn line(mut self) -> Result<SettlementLine, Vec<LineProblem>> {
        let merchant_account = self.text("merchant account");
        let batch = self.text("batch number");
        let type_name = self.text("type");
        let net_currency = self.text("net currency");
        let created = self.created();
        if created.is_none() && self.get("creation date").is_none() {
            self.problem("Creation Date", "is empty");
        }
        let gross_amount = self.signed("gross debit (gc)", "gross credit (gc)");
        let gross_currency = self.get("gross currency").map(str::to_string);
        let gross = match (gross_amount, gross_currency) {
            (Some(a), Some(c)) => Some((c, a)),
            (Some(_), None) => {
                self.problem("Gross Currency", "is empty but a gross amount is given");
                None
            }
            (None, _) => None,
        };
        let net = self.signed("net debit (nc)", "net credit (nc)");
        if self.get("net debit (nc)").is_none() && self.get("net credit (nc)").is_none() {
            self.problem("Net Debit (NC) / Net Credit (NC)", "both are empty");
        }
        let fee_parts: Vec<Decimal> = FEE_COLUMNS.iter().filter_map(|c| self.amount(c)).collect();
        let fees = (!fee_parts.is_empty()).then(|| fee_parts.iter().sum());
        // Judge the type by whether a gross is written, even one that did not parse.
        let has_gross = self.get("gross debit (gc)").is_some() || self.get("gross credit (gc)").is_some();
        let kind = LineKind::of(&type_name, has_gross);
        if kind.is_none() && !type_name.is_empty() {
            self.problem(
                "Type",
                format!("{type_name:?} without a gross amount is not a known fee, correction or payout type"),
            );
        }
        match (kind, created, net, self.problems.is_empty()) {
            (Some(kind), Some(created), Some(net), true) => Ok(SettlementLine {
                file_line: self.record.line,
                psp_reference: self.get("psp reference").map(str::to_string),
                modification_reference: self.get("modification reference").map(str::to_string),
                merchant_reference: self.get("merchant reference").map(str::to_string),
                payment_method: self.get("payment method").map(str::to_string),
                merchant_account,
                batch,
                kind,
                type_name,
                created,
                gross,
                net_currency,
                net,
                fees,
            }),
            _ => Err(self.problems),
        }
    }
}

/// A report's local time with its zone: an IANA name (which covers CET with its summer time),
/// or a fixed abbreviation.
fn localize(naive: NaiveDateTime, zone: &str) -> Option<DateTime<FixedOffset>> {
    let fixed = |hours: i32| FixedOffset::east_opt(hours * 3600);
    let offset = match zone.to_uppercase().as_str() {
        "" | "UTC" | "GMT" | "Z" => fixed(0),
        "CEST" => fixed(2),
        "EEST" => fixed(3),
        "BST" => fixed(1),
        _ => None,
    };
    if let Some(o) = offset {
        return o.from_local_datetime(&naive).single();
    }
    let tz: chrono_tz::Tz = zone.parse().ok()?;
    let local = tz.from_local_datetime(&naive).earliest()?;
    Some(local.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Batch Number";

    #[test]
    fn reads_a_settled_line() {
        let text = format!(
            "{HEADER}\nAcme,ShopSE,8815,ORD-1,visa,2026-11-24 10:00:00,CET,Settled,8815,SEK,,100.00,1,SEK,,97.00,1.00,0.50,0.50,1.00,7\n"
        );
        let s = parse(&text).unwrap();
        let l = &s.lines[0];
        assert_eq!(l.kind, LineKind::Payment);
        assert_eq!(l.gross, Some(("SEK".into(), Decimal::new(10000, 2))));
        assert_eq!(l.net, Decimal::new(9700, 2));
        assert_eq!(l.fees, Some(Decimal::new(300, 2)));
        assert_eq!(l.created.offset().local_minus_utc(), 3600);
        assert_eq!(l.file_line, 2);
    }

    #[test]
    fn columns_in_any_order_and_case() {
        let text = "batch number,TYPE,net currency,NET DEBIT (NC),merchant account,creation date,timezone\n\
                    9,Fee,SEK,25.00,ShopSE,2026-07-01 12:00:00,Europe/Stockholm\n";
        let l = &parse(text).unwrap().lines[0];
        assert_eq!(l.kind, LineKind::Fee);
        assert_eq!(l.net, Decimal::new(-2500, 2));
        assert_eq!(l.created.offset().local_minus_utc(), 7200, "summer time in Stockholm");
    }

    #[test]
    fn every_bad_line_is_reported_at_once() {
        let text = format!(
            "{HEADER}\n\
             Acme,ShopSE,1,O,visa,yesterday,CET,Settled,1,SEK,,1.00,,SEK,,1.00,,,,,7\n\
             Acme,ShopSE,2,O,visa,2026-11-24 10:00:00,Mars/Base,Settled,2,SEK,,abc,,SEK,,1.00,,,,,7\n\
             Acme,ShopSE,3,O,visa,2026-11-24 10:00:00,CET,Mystery,3,,,,,SEK,,1.00,,,,,7\n"
        );
        let e = parse(&text).unwrap_err();
        let lines: Vec<usize> = e.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 3, 4], "{e}");
        assert!(e.to_string().contains("Mystery"), "{e}");
    }

    #[test]
    fn a_file_without_the_columns_is_refused_clearly() {
        let e = parse("Date,USD,SEK\n2026-11-24,1.1,11.5\n").unwrap_err();
        assert!(e.to_string().contains("missing column(s) merchant account"), "{e}");
        assert!(!looks_like_settlement("Date,USD,SEK\n"));
        assert!(looks_like_settlement(HEADER));
    }
}
