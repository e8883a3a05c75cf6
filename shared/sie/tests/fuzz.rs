//! `read` never panics: random bytes, SIE-flavoured token soup, and random edits of real files.

use std::path::Path;

use ctvisma_sie::read;
use proptest::prelude::*;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/specs/visma/sie")
            .join(name),
    )
    .unwrap()
}

/// Reads and touches everything a caller might: errors must render, balances must compute.
fn exercise(bytes: &[u8]) {
    match read(bytes) {
        Ok(file) => {
            for v in &file.vouchers {
                let _ = v.balance();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "#VER",
        "#TRANS",
        "#RTRANS",
        "#BTRANS",
        "#KONTO",
        "#RAR",
        "#FNAMN",
        "#GEN",
        "#FLAGGA",
        "#PROGRAM",
        "{",
        "}",
        "\"",
        "\\",
        "\\\"",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "1510",
        "-1.5",
        "0",
        "99999999999999999999999999999",
        "20240101",
        "20241331",
        "",
        "ö",
        "\u{FEFF}",
        "A",
        "\"\"",
        "{}",
        "-",
        ".",
    ])
}

/// One edit: overwrite, insert or delete a byte at a position (taken modulo the length).
fn edit() -> impl Strategy<Value = (u8, usize, u8)> {
    (0u8..3, any::<usize>(), any::<u8>())
}

fn apply(mut bytes: Vec<u8>, edits: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(kind, at, byte) in edits {
        let at = at % (bytes.len() + 1);
        match kind {
            0 if at < bytes.len() => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

proptest! {
    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        exercise(&bytes);
    }

    #[test]
    fn token_soup(tokens in prop::collection::vec(token(), 0..200)) {
        exercise(tokens.concat().as_bytes());
    }

    #[test]
    fn edited_samples(
        name in prop::sample::select(vec![
            "jokedst-siefile__FAKT.SI",
            "icalcreator-sie4ito5__Sie4I1.SI",
            "blinfo-sie4j__Transaktioner_per_Z-rapport.se",
            "blinfo-sie4j__Quotes_test.si",
        ]),
        edits in prop::collection::vec(edit(), 1..12),
    ) {
        exercise(&apply(sample(name), &edits));
    }
}
