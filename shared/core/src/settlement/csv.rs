//! A small RFC 4180 reader: quoted fields with `""` escapes, commas and line breaks inside quotes,
//! CRLF or LF line ends, an optional UTF-8 byte-order mark. Enough for PSP reports; no I/O.

/// One record and the 1-based line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Every record of `text`; blank lines are skipped. An unterminated quote is an error naming the
/// line it opened on.
pub fn records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut start, mut quoted, mut was_quoted) = (1usize, 1usize, false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                push_record(&mut out, start, std::mem::take(&mut fields));
                was_quoted = false;
                line += 1;
                start = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err((start, "a quoted field is never closed".into()));
    }
    if !field.is_empty() || !fields.is_empty() || was_quoted {
        fields.push(field);
        push_record(&mut out, start, fields);
    }
    Ok(out)
}

fn push_record(out: &mut Vec<Record>, line: usize, fields: Vec<String>) {
    let blank = fields.iter().all(|f| f.trim().is_empty());
    if !blank {
        out.push(Record { line, fields });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        records(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn quotes_commas_and_line_breaks() {
        let text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\n1,\"two\nlines\",3\n";
        assert_eq!(
            fields(text),
            vec![vec!["a", "b,c", "say \"hi\""], vec!["1", "two\nlines", "3"]]
        );
        assert_eq!(records(text).unwrap()[1].line, 3);
    }

    #[test]
    fn last_line_without_newline_and_empty_fields() {
        assert_eq!(fields("\u{feff}x,,y"), vec![vec!["x", "", "y"]]);
        assert_eq!(fields("\"\",z"), vec![vec!["", "z"]]);
    }

    #[test]
    fn an_open_quote_is_reported_with_its_line() {
        assert_eq!(records("a,b\nc,\"d\n").unwrap_err().0, 2);
    }

    proptest! {
        // Any table written with full quoting reads back as written.
        #[test]
        fn quoted_tables_round_trip(rows in proptest::collection::vec(
            proptest::collection::vec("[a-z ,\"\n]{0,6}", 1..5), 1..6)) {
            let text: String = rows.iter().map(|r| {
                r.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect::<Vec<_>>().join(",") + "\r\n"
            }).collect();
            let expected: Vec<Vec<String>> = rows.into_iter()
                .filter(|r| !r.iter().all(|f| f.trim().is_empty())).collect();
            prop_assert_eq!(fields(&text), expected);
        }
    }
}
