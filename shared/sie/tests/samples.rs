//! Every real SIE file of the reference corpus parses, balances where it should, and decodes its
//! Swedish letters.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use ctvisma_sie::{cp437, read, RowKind, SieFile};
use rust_decimal::Decimal;

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/visma/sie")
}

fn sample(name: &str) -> (Vec<u8>, SieFile) {
    let bytes = std::fs::read(sample_dir().join(name)).unwrap();
    let file = read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    (bytes, file)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Lines of the raw file whose first field is `label` (`#VER`, `#TRANS`, …).
fn count_records(bytes: &[u8], labels: &[&str]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| {
            let first = l
                .split(|&b| b == b' ' || b == b'\t' || b == b'\r')
                .find(|f| !f.is_empty());
            first.is_some_and(|f| labels.iter().any(|label| f == label.as_bytes()))
        })
        .count()
}

#[test]
fn every_sample_parses_and_balances_except_the_imbalanced_one() {
    let mut names: Vec<String> = std::fs::read_dir(sample_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.to_ascii_lowercase().ends_with(".pdf"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 19, "{names:?}");

    for name in &names {
        let (bytes, file) = sample(name);
        assert!(
            file.fnamn.as_deref().is_some_and(|n| !n.is_empty()),
            "{name}: no #FNAMN"
        );
        assert_eq!(file.sietyp.as_deref(), Some("4"), "{name}");
        assert_eq!(
            file.vouchers.len(),
            count_records(&bytes, &["#VER"]),
            "{name}: vouchers"
        );
        let rows: usize = file.vouchers.iter().map(|v| v.rows.len()).sum();
        assert_eq!(
            rows,
            count_records(&bytes, &["#TRANS", "#RTRANS", "#BTRANS"]),
            "{name}: rows"
        );
        if count_records(&bytes, &["#KONTO"]) > 0 {
            assert!(!file.accounts.is_empty(), "{name}: accounts");
        }

        let unbalanced: Vec<_> = file.vouchers.iter().filter(|v| !v.balance().is_zero()).collect();
        if name.contains("IMBALANCED") {
            assert!(!unbalanced.is_empty(), "{name}: expected an unbalanced voucher");
        } else {
            assert!(unbalanced.is_empty(), "{name}: {unbalanced:?}");
        }
    }
}

#[test]
fn visma_fakturering_4i_file() {
    let (_, file) = sample("jokedst-siefile__FAKT.SI");
    assert_eq!(file.fnamn.as_deref(), Some("Övningsbolaget AB"));
    assert_eq!(file.program.as_ref().unwrap().name, "Visma Fakturering");
    assert_eq!(file.program.as_ref().unwrap().version, "5.11");
    assert_eq!(file.gen, Some(date(2011, 3, 4)));
    assert_eq!(file.orgnr.as_deref(), Some("555555-5555"));
    assert_eq!(file.accounts["2611"], "Utg moms försäljning/uttag 25%");
    assert_eq!(file.accounts["1510"], "Kundfordringar");

    let [v] = file.vouchers.as_slice() else {
        panic!("{:?}", file.vouchers)
    };
    // A 4I file from a Visma pre-system: series given, number left to the ledger.
    assert_eq!((v.series.as_str(), v.number.as_str()), ("B", ""));
    assert_eq!(v.date, date(2011, 3, 4));
    assert_eq!(v.text, "Fakturajournal nr 109");
    assert_eq!(v.rows.len(), 3);
    assert_eq!((v.rows[0].account.as_str(), v.rows[0].amount), ("1510", dec("8000.00")));
    assert_eq!(v.rows[2].amount, dec("-6400"));
    assert_eq!(v.rows[0].date, None, "an empty date field means the voucher date");
    assert_eq!(v.rows[0].text.as_deref(), Some("Faktnr: 891, Namn: Karl Svensson"));
}

#[test]
fn pos_z_report_with_crlf_and_capital_swedish_letters() {
    let (bytes, file) = sample("blinfo-sie4j__Transaktioner_per_Z-rapport.se");
    assert!(bytes.windows(2).any(|w| w == b"\r\n"));
    assert_eq!(file.fnamn.as_deref(), Some("Övningskund AB"));
    assert_eq!(file.valuta.as_deref(), Some("SEK"));
    assert_eq!(file.accounts["3320"], "LÄSK VATTEN");
    assert_eq!(file.accounts["3340"], "ÖL");
    // The writer's CP437 bytes are the ones this real PC8 file uses: Ä = 0x8E, Ö = 0x99.
    for line in ["#KONTO 3320 \"LÄSK VATTEN\"", "#KONTO 3340 \"ÖL\""] {
        let encoded = cp437::encode(line);
        assert!(bytes.windows(encoded.len()).any(|w| w == encoded), "{line}");
    }
    assert!(cp437::encode("ÄÖ") == [0x8E, 0x99]);

    let v = file.vouchers.iter().find(|v| v.number == "64").unwrap();
    assert_eq!(
        (v.series.as_str(), v.date, v.text.as_str()),
        ("", date(2021, 5, 5), " nr. 64")
    );
    assert_eq!(v.rows.len(), 6);
    assert_eq!(v.rows[0].amount, dec("2040.00"));
    assert_eq!(v.rows[5].amount, dec("-207.20"));
    assert_eq!(v.rows[5].text.as_deref(), Some("ÖL"));
}

#[test]
fn the_same_file_in_cp437_and_in_utf8_reads_the_same() {
    let (_, pc8) = sample("blinfo-sie4j__BLBLOV_SIE4.SI");
    let (_, utf8) = sample("blinfo-sie4j__BLBLOV_SIE4_UTF_8.SI");
    assert_eq!(pc8, utf8);
    // An unquoted name with a space is kept whole.
    assert_eq!(pc8.fnamn.as_deref(), Some("Övningsbolaget AB"));
    assert_eq!(pc8.vouchers[0].text, "Försäljning 25% (DF:157)");
    assert_eq!(
        (pc8.vouchers[0].series.as_str(), pc8.vouchers[0].number.as_str()),
        ("K", "")
    );

    // ISO-8859-15 bytes are read as CP437: readable, with the wrong letters (0xD6 Ö → ╓).
    let (_, latin) = sample("blinfo-sie4j__BLBLOV_SIE4_ISO_8859_15.SI");
    assert_eq!(latin.fnamn.as_deref(), Some("╓vningsbolaget AB"));
    assert_eq!(latin.vouchers.len(), 2);

    let (_, imbalanced) = sample("blinfo-sie4j__BLBLOV_SIE4_UTF_8_IMBALANCED.SI");
    assert_eq!(imbalanced.flagga, Some(1));
    assert_eq!(imbalanced.vouchers[0].balance(), dec("0.55"));
}

#[test]
fn quotes_objects_quantities_and_added_or_removed_rows() {
    let (_, quotes) = sample("blinfo-sie4j__Quotes_test.si");
    assert_eq!(quotes.program.unwrap().version, "1.0 - \"Oblique Ozelot\" - alpha");
    assert_eq!(quotes.vouchers[0].text, "Försäljning 25% \"DF:157\"");

    let (_, sie4i) = sample("icalcreator-sie4ito5__Sie4I1.SI");
    assert_eq!(sie4i.fnamn.as_deref(), Some("Målerifirman Axelsson & Johnsson AB"));
    assert_eq!(sie4i.vouchers[1].text, "Div \"om- och tillkostnader\"");
    let row = &sie4i.vouchers[4].rows[0];
    assert_eq!(row.objects, vec![("1".into(), "456".into()), ("6".into(), "47".into())]);
    assert_eq!(row.amount, dec("56900.00"));
    assert_eq!(row.date, Some(date(2008, 12, 15)));
    assert_eq!(row.text.as_deref(), Some("transtext 1"));
    assert_eq!(row.quantity, Some(dec("10")));

    let (_, bl) = sample("jokedst-siefile__BL0001_typ4.SE");
    let kinds = |k: RowKind| bl.vouchers.iter().flat_map(|v| &v.rows).filter(|r| r.kind == k).count();
    assert_eq!((kinds(RowKind::RTrans), kinds(RowKind::BTrans)), (6, 3));
    assert_eq!(bl.fiscal_years[0], (0, date(2009, 7, 1), date(2010, 6, 30)));
    assert_eq!(bl.fiscal_years[1].0, -1);

    let (_, mamut) = sample("jokedst-siefile__MAMUT_SIE4_EXPORT.SE");
    assert_eq!(mamut.format.as_deref(), Some("PC8"));
    let row = &mamut.vouchers[0].rows[0];
    assert_eq!(row.objects, vec![("1".into(), "2".into()), ("10".into(), "12".into())]);
    assert_eq!(mamut.vouchers[0].text, "30083 Svenska Mässan i Göteborg, 12");
}
