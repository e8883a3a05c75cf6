//! `read(write(postings))` gives back the postings: realistic ones from the sample orders, and
//! random balanced ones in SEK and in foreign currencies.

mod common;

use chrono::NaiveDate;
use ctvisma_core::keys::IdempotencyKey;
use ctvisma_core::posting::{EventKind, ExchangeRate, Posting, PostingLine, Role};
use ctvisma_core::rules::AccountCode;
use ctvisma_sie::{read, vouchers_match, write, RowKind, SieHeader};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

fn header() -> SieHeader {
    let mut h = SieHeader::new(
        "Nordic Goods Åre AB",
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        "SEK",
        "3740",
    );
    h.account_names.insert("1510".into(), "Kundfordringar".into());
    h.account_names.insert("3740".into(), "Öres- och kronutjämning".into());
    h
}

#[test]
fn the_swedish_entitys_postings_round_trip() {
    let postings = common::se_postings();
    assert!(postings.len() >= 20, "{}", postings.len());
    let events: std::collections::BTreeSet<EventKind> = postings.iter().map(|p| p.event).collect();
    assert!(
        events.len() >= 4,
        "invoices, credit notes, captures, refunds: {events:?}"
    );

    let bytes = write(&postings, &header()).unwrap();
    let file = read(&bytes).unwrap();
    vouchers_match(&postings, &file, &header()).unwrap();
    assert_eq!(file.vouchers.len(), postings.len());
    assert!(file.vouchers.iter().all(|v| v.balance().is_zero()));
    for (p, v) in postings.iter().zip(&file.vouchers) {
        assert!(v.text.contains(&p.external_ref) && v.text.contains(p.idempotency_key.as_str()));
        assert_eq!(v.date.format("%Y-%m-%d").to_string(), p.date);
    }

    // The USD order of the public fixtures, converted at 10.686368 SEK per USD, checked by hand.
    let (i, usd) = postings
        .iter()
        .enumerate()
        .find(|(_, p)| p.currency == "USD")
        .expect("a USD posting routed to SE");
    assert_eq!(usd.exchange_rate.as_ref().unwrap().base_currency, "SEK");
    let rows: Vec<(&str, Decimal)> = file.vouchers[i]
        .rows
        .iter()
        .map(|r| (r.account.as_str(), r.amount))
        .collect();
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(
        rows,
        vec![
            ("1510", d("512.95")),  // 48.00 × 10.686368 = 512.945664
            ("3105", d("-213.73")), // -20.00 → -213.72736
            ("3730", d("42.75")),
            ("3105", d("-160.30")),
            ("3730", d("32.06")),
            ("3105", d("-267.16")),
            ("3730", d("53.43")),
        ],
        "these lines happen to round to a zero sum: no rounding row"
    );
}

fn cents() -> impl Strategy<Value = i64> {
    -1_000_000_000i64..1_000_000_000
}

/// A balanced posting: random lines, the last one balancing the others.
fn posting_strategy(foreign: bool) -> impl Strategy<Value = Posting> {
    let fx = if foreign {
        (
            prop::sample::select(vec!["USD", "EUR", "GBP", "NOK"]),
            1i64..100_000_000,
        )
            .prop_map(|(c, micro)| Some((c, Decimal::new(micro, 6))))
            .boxed()
    } else {
        Just(None).boxed()
    };
    (
        prop::collection::vec((1000u32..=8999, cents(), prop::option::of("[A-Z0-9-]{1,12}")), 1..=20),
        fx,
        0u32..36_500,
        ".{0,16}",
        ".{0,24}",
        prop::sample::select(vec![
            EventKind::Invoice,
            EventKind::CreditNote,
            EventKind::Capture,
            EventKind::Refund,
        ]),
    )
        .prop_map(|(raw, fx, day, reference, key, event)| {
            let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(i64::from(day));
            let currency = fx.map_or("SEK", |(c, _)| c);
            let mut p = Posting::new(
                event,
                IdempotencyKey(format!("{event:?}:{key}")),
                "SE",
                currency,
                date.format("%Y-%m-%d").to_string(),
            );
            p.external_ref = reference;
            let n = raw.len();
            let mut total = 0i64;
            for (i, (account, c, sku)) in raw.into_iter().enumerate() {
                let c = if i + 1 == n { -total } else { c };
                total += c;
                p.lines.push(PostingLine {
                    role: if c >= 0 { Role::Receivable } else { Role::Revenue },
                    account: AccountCode(account.to_string()),
                    amount: Decimal::new(c, 2),
                    vat_code: None,
                    vat_rate: None,
                    sku,
                    text: None,
                });
            }
            p.exchange_rate = fx.map(|(_, rate)| ExchangeRate {
                base_currency: "SEK".into(),
                rate,
                rate_date: p.date.clone(),
            });
            p
        })
}

proptest! {
    #[test]
    fn random_balanced_postings_round_trip(
        sek in prop::collection::vec(posting_strategy(false), 0..4),
        foreign in prop::collection::vec(posting_strategy(true), 0..4),
    ) {
        let postings: Vec<Posting> = sek.into_iter().chain(foreign).collect();
        let h = header();
        let bytes = write(&postings, &h).unwrap();
        let file = read(&bytes).unwrap();
        prop_assert_eq!(vouchers_match(&postings, &file, &h), Ok(()));
        for (p, v) in postings.iter().zip(&file.vouchers) {
            prop_assert!(v.balance().is_zero());
            prop_assert!(v.rows.iter().all(|r| r.kind == RowKind::Trans));
            let Some(fx) = &p.exchange_rate else {
                let want: Vec<_> = p.lines.iter().map(|l| (l.account.0.clone(), l.amount)).collect();
                let got: Vec<_> = v.rows.iter().map(|r| (r.account.clone(), r.amount)).collect();
                prop_assert_eq!(got, want);
                continue;
            };
            // Independent of the writer: each line is amount × rate, half-even to cents, and the
            // remainder (at most half a cent per line) is one explicit row on the rounding account.
            for (l, r) in p.lines.iter().zip(&v.rows) {
                let want = (l.amount * fx.rate).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven);
                prop_assert_eq!(r.amount, want);
            }
            let extra = &v.rows[p.lines.len()..];
            prop_assert!(extra.len() <= 1);
            if let Some(r) = extra.first() {
                prop_assert_eq!(r.account.as_str(), "3740");
                prop_assert!(!r.amount.is_zero());
                prop_assert!(r.amount.abs() <= Decimal::new(5, 3) * Decimal::from(p.lines.len()));
            }
        }
    }
}
