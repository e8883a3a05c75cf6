//! The file `write` produces: exact bytes, header order, CP437, CRLF, and its refusals.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ctvisma_core::keys::IdempotencyKey;
use ctvisma_core::posting::{EventKind, ExchangeRate, Posting, PostingLine, Role};
use ctvisma_core::rules::AccountCode;
use ctvisma_sie::{read, vouchers_match, write, SieError, SieHeader};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn line(role: Role, account: &str, amount: &str, sku: Option<&str>, text: Option<&str>) -> PostingLine {
    PostingLine {
        role,
        account: AccountCode(account.to_string()),
        amount: dec(amount),
        vat_code: None,
        vat_rate: None,
        sku: sku.map(str::to_string),
        text: text.map(str::to_string),
    }
}

fn posting(
    event: EventKind,
    key: &str,
    currency: &str,
    date: &str,
    reference: &str,
    lines: Vec<PostingLine>,
) -> Posting {
    let mut p = Posting::new(event, IdempotencyKey(key.to_string()), "SE", currency, date.to_string());
    p.external_ref = reference.to_string();
    p.lines = lines;
    p
}

fn usd_rate(base: &str) -> Option<ExchangeRate> {
    Some(ExchangeRate {
        base_currency: base.to_string(),
        rate: dec("10.686368"),
        rate_date: "2026-11-18".to_string(),
    })
}

fn postings() -> Vec<Posting> {
    let invoice = posting(
        EventKind::Invoice,
        "invoice:abc-123",
        "SEK",
        "2026-11-19",
        "10001",
        vec![
            line(Role::Receivable, "1510", "1250.00", None, Some("Order 10001")),
            line(Role::Revenue, "3001", "-1000", Some("KÖK-1"), Some("Kökskniv")),
            line(Role::Vat, "2611", "-250.00", None, Some("VAT 25 %")),
        ],
    );
    let credit = posting(
        EventKind::CreditNote,
        "credit:abc-123:r1",
        "SEK",
        "2026-11-20",
        "10001 \"R\" €",
        vec![
            line(Role::Receivable, "1510", "-125.00", None, None),
            line(Role::Revenue, "3001", "100.00", Some("KÖK-1"), None),
            line(Role::Vat, "2611", "25.00", None, None),
        ],
    );
    // 1.00 → 10.69, -0.50 → -5.34 twice: 0.01 left over for the rounding account.
    let mut usd = posting(
        EventKind::Capture,
        "capture:pay-1:tx-1",
        "USD",
        "2026-11-21",
        "10002",
        vec![
            line(Role::Payment, "1581", "1.00", None, None),
            line(Role::Receivable, "1510", "-0.50", None, None),
            line(Role::Receivable, "1510", "-0.50", None, None),
        ],
    );
    usd.exchange_rate = usd_rate("SEK");
    vec![invoice, credit, usd]
}

fn header() -> SieHeader {
    let mut h = SieHeader::new(
        "Åkesson & Öberg Handel AB",
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        "SEK",
        "3740",
    );
    h.org_number = Some("556677-8899".to_string());
    h.fiscal_year = Some((
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    ));
    h.account_names = BTreeMap::from([
        ("1510".to_string(), "Kundfordringar".to_string()),
        ("2611".to_string(), "Utgående moms på försäljning 25%".to_string()),
        ("3740".to_string(), "Öres- och kronutjämning".to_string()),
    ]);
    h
}

#[test]
fn exact_output() {
    let expected = format!(
        "#FLAGGA 0\r\n\
         #PROGRAM \"ctvisma\" {version}\r\n\
         #FORMAT PC8\r\n\
         #GEN 20261203\r\n\
         #SIETYP 4\r\n\
         #ORGNR 556677-8899\r\n\
         #FNAMN \"Åkesson & Öberg Handel AB\"\r\n\
         #RAR 0 20260101 20261231\r\n\
         #VALUTA SEK\r\n\
         #KONTO 1510 \"Kundfordringar\"\r\n\
         #KONTO 1581 \"1581\"\r\n\
         #KONTO 2611 \"Utgående moms på försäljning 25%\"\r\n\
         #KONTO 3001 \"3001\"\r\n\
         #KONTO 3740 \"Öres- och kronutjämning\"\r\n\
         #VER A \"\" 20261119 \"invoice 10001 [invoice:abc-123]\"\r\n\
         {{\r\n\
         \x20  #TRANS 1510 {{}} 1250.00 20261119 \"receivable Order 10001\"\r\n\
         \x20  #TRANS 3001 {{}} -1000.00 20261119 \"revenue KÖK-1\"\r\n\
         \x20  #TRANS 2611 {{}} -250.00 20261119 \"vat VAT 25 %\"\r\n\
         }}\r\n\
         #VER A \"\" 20261120 \"credit_note 10001 \\\"R\\\" ? [credit:abc-123:r1]\"\r\n\
         {{\r\n\
         \x20  #TRANS 1510 {{}} -125.00 20261120 \"receivable\"\r\n\
         \x20  #TRANS 3001 {{}} 100.00 20261120 \"revenue KÖK-1\"\r\n\
         \x20  #TRANS 2611 {{}} 25.00 20261120 \"vat\"\r\n\
         }}\r\n\
         #VER A \"\" 20261121 \"capture 10002 [capture:pay-1:tx-1]\"\r\n\
         {{\r\n\
         \x20  #TRANS 1581 {{}} 10.69 20261121 \"payment USD 1.00\"\r\n\
         \x20  #TRANS 1510 {{}} -5.34 20261121 \"receivable USD -0.50\"\r\n\
         \x20  #TRANS 1510 {{}} -5.34 20261121 \"receivable USD -0.50\"\r\n\
         \x20  #TRANS 3740 {{}} -0.01 20261121 \"rounding USD/SEK 10.686368 2026-11-18\"\r\n\
         }}\r\n",
        version = env!("CARGO_PKG_VERSION")
    );
    let bytes = write(&postings(), &header()).unwrap();
    assert_eq!(ctvisma_sie::cp437::decode(&bytes), expected);
    assert_eq!(bytes, ctvisma_sie::cp437::encode(&expected));
    assert_eq!(write(&postings(), &header()).unwrap(), bytes, "deterministic");
}

#[test]
fn header_order_encoding_and_line_ends() {
    let bytes = write(&postings(), &header()).unwrap();

    // CP437, not UTF-8: Å = 0x8F, Ö = 0x99, å = 0x86, ä = 0x84, ö = 0x94.
    let fnamn: Vec<u8> = [
        b"#FNAMN \"".as_slice(),
        &[0x8F],
        b"kesson & ",
        &[0x99],
        b"berg Handel AB\"",
    ]
    .concat();
    assert!(bytes.windows(fnamn.len()).any(|w| w == fnamn));
    let konto: Vec<u8> = [
        b"\"Utg".as_slice(),
        &[0x86],
        b"ende moms p",
        &[0x86],
        b" f",
        &[0x94],
        b"rs",
        &[0x84],
        b"ljning 25%\"",
    ]
    .concat();
    assert!(bytes.windows(konto.len()).any(|w| w == konto));
    assert!(std::str::from_utf8(&bytes).is_err(), "must not be UTF-8");

    // CRLF everywhere, nothing else.
    assert!(bytes.ends_with(b"\r\n"));
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(bytes[i - 1], b'\r', "bare LF at byte {i}");
        }
        if b == b'\r' {
            assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at byte {i}");
        }
    }

    // The mandatory identification records come first, in this order.
    let labels: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| l.split(|&b| b == b' ' || b == b'\r').next())
        .filter(|f| !f.is_empty())
        .collect();
    let want: [&[u8]; 9] = [
        b"#FLAGGA",
        b"#PROGRAM",
        b"#FORMAT",
        b"#GEN",
        b"#SIETYP",
        b"#ORGNR",
        b"#FNAMN",
        b"#RAR",
        b"#VALUTA",
    ];
    assert_eq!(&labels[..9], want.as_slice());

    let file = read(&bytes).unwrap();
    assert_eq!(file.flagga, Some(0));
    let program = file.program.as_ref().unwrap();
    assert_eq!(
        (program.name.as_str(), program.version.as_str()),
        ("ctvisma", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(file.format.as_deref(), Some("PC8"));
    assert_eq!(file.gen, NaiveDate::from_ymd_opt(2026, 12, 3));
    assert_eq!(file.sietyp.as_deref(), Some("4"));
    assert_eq!(file.orgnr.as_deref(), Some("556677-8899"));
    assert_eq!(file.fnamn.as_deref(), Some("Åkesson & Öberg Handel AB"));
    assert_eq!(file.valuta.as_deref(), Some("SEK"));
    assert_eq!(file.fiscal_years.len(), 1);
    assert_eq!(file.accounts["3740"], "Öres- och kronutjämning");
    assert_eq!(file.vouchers[1].text, "credit_note 10001 \"R\" ? [credit:abc-123:r1]");
    vouchers_match(&postings(), &file, &header()).unwrap();
}

#[test]
fn optional_header_records_are_left_out() {
    let mut h = header();
    h.org_number = None;
    h.fiscal_year = None;
    h.series = "WEB 1".to_string();
    let bytes = write(&postings()[..1], &h).unwrap();
    let text = ctvisma_sie::cp437::decode(&bytes);
    assert!(!text.contains("#ORGNR") && !text.contains("#RAR"), "{text}");
    assert!(text.contains("#VER \"WEB 1\" \"\" 20261119"), "{text}");
    assert!(
        !text.contains("#KONTO 3740"),
        "the rounding account is declared only when used"
    );
    let file = read(&bytes).unwrap();
    assert_eq!(file.vouchers[0].series, "WEB 1");
    vouchers_match(&postings()[..1], &file, &h).unwrap();
}

fn posting_error(ps: Vec<Posting>, h: &SieHeader) -> (String, String) {
    match write(&ps, h) {
        Err(SieError::Posting { key, reason }) => (key, reason),
        other => panic!("{other:?}"),
    }
}

#[test]
fn refusals_name_the_posting() {
    let h = header();

    let mut no_rate = postings().remove(2);
    no_rate.exchange_rate = None;
    let (key, reason) = posting_error(vec![no_rate], &h);
    assert_eq!(key, "capture:pay-1:tx-1");
    assert!(
        reason.contains("USD posting has no exchange rate") && reason.contains("SEK"),
        "{reason}"
    );

    let mut other_base = postings().remove(2);
    other_base.exchange_rate = usd_rate("EUR");
    let (key, reason) = posting_error(vec![other_base], &h);
    assert_eq!(key, "capture:pay-1:tx-1");
    assert!(
        reason.contains("rate is to EUR") && reason.contains("base currency is SEK"),
        "{reason}"
    );
    let e = write(
        &postings()[2..],
        &SieHeader {
            base_currency: "EUR".into(),
            ..h.clone()
        },
    );
    assert!(e.unwrap_err().to_string().contains("capture:pay-1:tx-1"));

    let mut three_decimals = postings().remove(0);
    three_decimals.lines[0].amount = dec("1250.001");
    three_decimals.lines[1].amount = dec("-1000.001");
    assert!(posting_error(vec![three_decimals], &h)
        .1
        .contains("more than 2 decimals"));

    let mut unbalanced = postings().remove(0);
    unbalanced.lines[0].amount = dec("1250.01");
    assert!(posting_error(vec![unbalanced], &h).1.contains("not zero"));

    let mut foreign_unbalanced = postings().remove(2);
    foreign_unbalanced.lines[0].amount = dec("1.50");
    let (_, reason) = posting_error(vec![foreign_unbalanced], &h);
    assert!(
        reason.contains("sum to 0.50 USD"),
        "a conversion never hides an imbalance: {reason}"
    );

    let mut bad_date = postings().remove(0);
    bad_date.date = "19.11.2026".to_string();
    assert!(posting_error(vec![bad_date], &h).1.contains("not YYYY-MM-DD"));

    let mut bad_account = postings().remove(0);
    bad_account.lines[0].account = AccountCode("15 10".to_string());
    assert!(posting_error(vec![bad_account], &h).1.contains("digits only"));

    let no_rounding_account = SieHeader {
        rounding_account: String::new(),
        ..h.clone()
    };
    assert!(matches!(
        write(&postings(), &no_rounding_account),
        Err(SieError::Header(_))
    ));
    // Not needed, not checked: base-currency postings need no rounding account.
    assert!(write(&postings()[..2], &no_rounding_account).is_ok());
}
