//! Reading SIE 4 files: decoding, tokenizing a line, and assembling records into a [`SieFile`].

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::cp437;
use crate::error::SieError;
use crate::model::{Program, Row, RowKind, SieFile, Voucher};

/// Amounts with more integer digits are refused, which keeps any sum of rows far from
/// `Decimal`'s limit (the spec sets no upper bound and asks importers to check their own).
const MAX_INTEGER_DIGITS: usize = 18;

/// Decodes the bytes of a SIE file to text.
///
/// Files declare `#FORMAT PC8` (CP437) but some writers emit UTF-8 anyway. Bytes that are valid
/// UTF-8 *and* contain a multi-byte sequence are read as UTF-8: CP437 text with Swedish letters is
/// practically never valid UTF-8, and pure ASCII is the same in both. Everything else is read as
/// CP437, including ISO-8859-x files, whose non-ASCII letters then come out wrong (`ö` reads as
/// `÷`) but never fail.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_ascii() => text.strip_prefix('\u{FEFF}').unwrap_or(text).to_string(),
        _ => cp437::decode(bytes),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Field(String),
    Open,
    Close,
}

/// Splits a line into fields: whitespace separates, `"…"` quotes (with `\"` and `\\` escapes;
/// any other backslash is literal, as in Windows paths), `{` and `}` outside quotes stand alone.
fn tokenize(line: &str, no: usize) -> Result<Vec<Tok>, SieError> {
    let mut toks = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if is_space(c) => {
                chars.next();
            }
            '{' => {
                chars.next();
                toks.push(Tok::Open);
            }
            '}' => {
                chars.next();
                toks.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SieError::syntax(no, "unterminated quoted string")),
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\')) => {
                            s.extend(chars.next());
                        }
                        Some(ch) => s.push(ch),
                    }
                }
                toks.push(Tok::Field(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if is_space(ch) || ch == '{' || ch == '}' {
                        break;
                    }
                    s.push(ch);
                    chars.next();
                }
                toks.push(Tok::Field(s));
            }
        }
    }
    Ok(toks)
}

fn is_space(c: char) -> bool {
    // A stray CR (old Mac line ends) and the DOS end-of-file mark Ctrl-Z count as spaces.
    matches!(c, ' ' | '\t' | '\r' | '\u{1A}')
}

/// A voucher between its #VER line and its closing brace.
struct Open {
    voucher: Voucher,
    line: usize,
    braced: bool,
}

/// Reads a SIE 4 file (any of types 1–4; only the records in [`SieFile`] are kept).
///
/// Decoding follows [`decode`]. Lines may end in LF or CRLF; unknown records are ignored.
/// A malformed record gives [`SieError::Syntax`] with its line number; no input panics.
pub fn read(bytes: &[u8]) -> Result<SieFile, SieError> {
    let text = decode(bytes);
    let mut file = SieFile::default();
    let mut open: Option<Open> = None;

    for (i, raw) in text.split('\n').enumerate() {
        let no = i + 1;
        let toks = tokenize(raw, no)?;
        let Some(first) = toks.first() else { continue };
        match first {
            Tok::Open => {
                if toks.len() > 1 {
                    return Err(SieError::syntax(no, "unexpected text after {"));
                }
                match open.as_mut() {
                    Some(o) if !o.braced => o.braced = true,
                    Some(_) => return Err(SieError::syntax(no, "second { inside a voucher")),
                    None => return Err(SieError::syntax(no, "{ without a #VER before it")),
                }
            }
            Tok::Close => {
                if toks.len() > 1 {
                    return Err(SieError::syntax(no, "unexpected text after }"));
                }
                match open.take() {
                    Some(o) if o.braced => file.vouchers.push(o.voucher),
                    _ => return Err(SieError::syntax(no, "} without an open voucher")),
                }
            }
            Tok::Field(label) => {
                let Some(label) = label.strip_prefix('#') else {
                    return Err(SieError::syntax(no, "expected a #record, { or }"));
                };
                let label = label.to_ascii_uppercase();
                let args = &toks[1..];
                if let Some(o) = open.as_mut() {
                    if !o.braced {
                        return Err(SieError::syntax(
                            no,
                            format!("#VER on line {} is not followed by {{", o.line),
                        ));
                    }
                    match label.as_str() {
                        "TRANS" | "RTRANS" | "BTRANS" => o.voucher.rows.push(row(&label, args, no)?),
                        "VER" => return Err(SieError::syntax(no, "#VER inside a voucher")),
                        _ => {}
                    }
                    continue;
                }
                match label.as_str() {
                    "VER" => open = Some(voucher(args, no)?),
                    "TRANS" | "RTRANS" | "BTRANS" => {
                        return Err(SieError::syntax(no, format!("#{label} outside a voucher")))
                    }
                    _ => header_record(&mut file, &label, args, no)?,
                }
            }
        }
    }
    if let Some(o) = open {
        return Err(SieError::syntax(o.line, "voucher is never closed with }"));
    }
    Ok(file)
}

fn header_record(file: &mut SieFile, label: &str, args: &[Tok], no: usize) -> Result<(), SieError> {
    let f = Fields { toks: args, no };
    match label {
        "FLAGGA" => {
            let v = f.required(0, "flag")?;
            file.flagga = Some(
                v.parse()
                    .map_err(|_| SieError::syntax(no, format!("flag {v:?} is not a number")))?,
            );
        }
        "PROGRAM" => {
            file.program = Some(Program {
                name: f.required(0, "program name")?.to_string(),
                version: f.get(1)?.unwrap_or_default().to_string(),
            })
        }
        "FORMAT" => file.format = Some(f.required(0, "format")?.to_string()),
        "GEN" => file.gen = f.date(0)?,
        "SIETYP" => file.sietyp = Some(f.required(0, "file type")?.to_string()),
        // Some writers leave a name with spaces unquoted: keep all of it.
        "FNAMN" => file.fnamn = Some(f.rest(0)?),
        "ORGNR" => file.orgnr = Some(f.required(0, "organisation number")?.to_string()),
        "VALUTA" => file.valuta = Some(f.required(0, "currency")?.to_string()),
        "RAR" => {
            let year = f.required(0, "year index")?;
            let year: i32 = year
                .parse()
                .map_err(|_| SieError::syntax(no, format!("year index {year:?} is not a number")))?;
            // `#RAR 0` without dates occurs in real 4I files: nothing to record.
            if let (Some(start), Some(end)) = (f.date(1)?, f.date(2)?) {
                file.fiscal_years.push((year, start, end));
            }
        }
        "KONTO" => {
            let account = f.required(0, "account number")?.to_string();
            file.accounts.insert(account, f.rest(1)?);
        }
        _ => {}
    }
    Ok(())
}

fn voucher(args: &[Tok], no: usize) -> Result<Open, SieError> {
    // `#VER series number date [text [regdate [sign]]]`, possibly with `{` on the same line.
    let (args, braced) = match args.split_last() {
        Some((Tok::Open, rest)) => (rest, true),
        _ => (args, false),
    };
    let f = Fields { toks: args, no };
    let date = f.date(2)?.ok_or_else(|| SieError::syntax(no, "#VER without a date"))?;
    Ok(Open {
        voucher: Voucher {
            series: f.get(0)?.unwrap_or_default().to_string(),
            number: f.get(1)?.unwrap_or_default().to_string(),
            date,
            text: f.get(3)?.unwrap_or_default().to_string(),
            rows: Vec::new(),
        },
        line: no,
        braced,
    })
}

fn row(label: &str, args: &[Tok], no: usize) -> Result<Row, SieError> {
    // `#TRANS account {objects} amount [date [text [quantity [sign]]]]`
    let kind = match label {
        "RTRANS" => RowKind::RTrans,
        "BTRANS" => RowKind::BTrans,
        _ => RowKind::Trans,
    };
    let account = match args.first() {
        Some(Tok::Field(a)) if !a.is_empty() => a.clone(),
        _ => return Err(SieError::syntax(no, format!("#{label} without an account"))),
    };
    let mut objects = Vec::new();
    let mut rest = &args[1..];
    // The object list is mandatory in the spec, but tolerate writers that leave it out.
    if let Some((Tok::Open, after)) = rest.split_first() {
        let close = after
            .iter()
            .position(|t| *t == Tok::Close)
            .ok_or_else(|| SieError::syntax(no, "object list is not closed with }"))?;
        let items: Vec<&String> = after[..close]
            .iter()
            .map(|t| match t {
                Tok::Field(s) => Ok(s),
                _ => Err(SieError::syntax(no, "{ inside an object list")),
            })
            .collect::<Result<_, _>>()?;
        let pairs = items.chunks_exact(2);
        if !pairs.remainder().is_empty() {
            return Err(SieError::syntax(no, "object list needs dimension–object pairs"));
        }
        objects = pairs.map(|p| (p[0].clone(), p[1].clone())).collect();
        rest = &after[close + 1..];
    }
    let f = Fields { toks: rest, no };
    let amount = amount(f.required(0, "amount")?, no)?;
    let quantity = match f.get(3)? {
        Some(q) if !q.is_empty() => Some(self::amount(q, no)?),
        _ => None,
    };
    Ok(Row {
        kind,
        account,
        objects,
        amount,
        date: f.date(1)?,
        text: f.get(2)?.filter(|t| !t.is_empty()).map(str::to_string),
        quantity,
    })
}

/// `-1234.56`: optional minus, digits, optional point and decimals. No plus, no exponent, no
/// thousands separators (`Decimal::from_str` would accept some of those).
fn amount(s: &str, no: usize) -> Result<Decimal, SieError> {
    let bad = || SieError::syntax(no, format!("{s:?} is not an amount"));
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
        return Err(bad());
    }
    if int.trim_start_matches('0').len() > MAX_INTEGER_DIGITS || frac.len() > 20 {
        return Err(SieError::syntax(
            no,
            format!("amount {s:?} is too large or too precise"),
        ));
    }
    Decimal::from_str(s).map_err(|_| bad())
}

/// Positional fields of one record.
struct Fields<'a> {
    toks: &'a [Tok],
    no: usize,
}

impl<'a> Fields<'a> {
    fn get(&self, i: usize) -> Result<Option<&'a str>, SieError> {
        match self.toks.get(i) {
            None => Ok(None),
            Some(Tok::Field(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(SieError::syntax(
                self.no,
                format!("unexpected brace in field {}", i + 1),
            )),
        }
    }

    fn required(&self, i: usize, what: &str) -> Result<&'a str, SieError> {
        self.get(i)?
            .ok_or_else(|| SieError::syntax(self.no, format!("missing {what}")))
    }

    /// Field `i` and all after it, joined by single spaces.
    fn rest(&self, i: usize) -> Result<String, SieError> {
        let mut parts = Vec::new();
        for j in i..self.toks.len() {
            parts.extend(self.get(j)?);
        }
        Ok(parts.join(" "))
    }

    /// A `YYYYMMDD` date; absent or empty is `None`.
    fn date(&self, i: usize) -> Result<Option<NaiveDate>, SieError> {
        match self.get(i)? {
            None | Some("") => Ok(None),
            Some(s) => parse_date(s)
                .map(Some)
                .ok_or_else(|| SieError::syntax(self.no, format!("{s:?} is not a YYYYMMDD date"))),
        }
    }
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<Tok> {
        tokenize(line, 1).unwrap()
    }

    #[test]
    fn quotes_escapes_and_braces() {
        let f = |s: &str| Tok::Field(s.to_string());
        assert_eq!(
            fields(r#"#TRANS 3010 { "1" "1"}	-500 "" "say \"hi\"" C:\dir\x"#),
            vec![
                f("#TRANS"),
                f("3010"),
                Tok::Open,
                f("1"),
                f("1"),
                Tok::Close,
                f("-500"),
                f(""),
                f("say \"hi\""),
                f(r"C:\dir\x"),
            ]
        );
        assert_eq!(fields(r#""{}" "a\\""#), vec![f("{}"), f("a\\")]);
        assert!(tokenize(r#"#FNAMN "open"#, 7).is_err());
    }

    #[test]
    fn amounts_are_strict() {
        assert_eq!(amount("-1250.50", 1).unwrap(), Decimal::new(-125050, 2));
        assert_eq!(amount("0", 1).unwrap(), Decimal::ZERO);
        for bad in [
            "",
            "-",
            ".",
            "+1",
            "1,5",
            "1e3",
            "1_000",
            "--1",
            "1.2.3",
            "12345678901234567890",
        ] {
            assert!(amount(bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn rtrans_copy_is_counted_once_and_btrans_not_at_all() {
        let text = "#VER A 1 20240101\n{\n#TRANS 1930 {} 100\n#TRANS 3010 {} -100\n\
            #BTRANS 1930 {} 100\n#RTRANS 1930 {} 40\n#TRANS 1930 {} 40\n#RTRANS 3010 {} -40\n#TRANS 3010 {} -40\n}\n";
        let file = read(text.as_bytes()).unwrap();
        assert_eq!(file.vouchers[0].rows.len(), 7);
        assert_eq!(file.vouchers[0].balance(), Decimal::ZERO);
        let dos = read(b"#FNAMN \"\x99\"\r\n#VER A 1 20240101\r\n{\r\n}\r\n\x1a").unwrap();
        assert_eq!(dos.fnamn.as_deref(), Some("Ö"));
        let unbalanced = "#VER A 1 20240101\n{\n#RTRANS 1930 {} 40\n#TRANS 1930 {} 40\n}\n";
        assert_eq!(
            read(unbalanced.as_bytes()).unwrap().vouchers[0].balance(),
            Decimal::new(40, 0)
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("#FLAGGA 0\n#VER A 1 2024\n{\n}\n", 2),
            ("#VER A 1 20240101\n#TRANS 1930 {} 1\n", 2),
            ("#VER A 1 20240101\n{\n#TRANS 1930 {} x\n}\n", 3),
            ("#VER A 1 20240101\n{\n#TRANS 1930 {} 1\n", 1),
            ("}\n", 1),
            ("#TRANS 1930 {} 1\n", 1),
            ("#FLAGGA 0\r\n\r\nhello\r\n", 3),
            ("#VER A 1 20240101\n{\n#TRANS 1930 {1} 1\n}\n", 3),
        ];
        for (text, line) in cases {
            match read(text.as_bytes()) {
                Err(SieError::Syntax { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
