//! Payouts from a PSP settlement report: the sample batch in tests/data/settlements, the rules'
//! variants (straight to bank, or through a PSP balance account), refusals, and a property test
//! that any batch balances line by line and empties into the bank exactly its net.

use ctvisma_core::mapper::payouts::{map_settlement, PayoutOutcome};
use ctvisma_core::posting::{EventKind, Posting};
use ctvisma_core::rates::RateTable;
use ctvisma_core::settlement::{parse, Settlement};
use ctvisma_core::{Role, Rules};
use proptest::prelude::*;
use rust_decimal::Decimal;

const RULES: &str = include_str!("../../../config/rules.toml");
const RATES: &str = include_str!("../../../config/ecb-rates-sample.csv");
const BATCH: &str = include_str!("../../../tests/data/settlements/adyen-settlement-batch-1042.csv");
const HEADER: &str = "Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,Modification Merchant Reference,Batch Number";

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn rules_with(extra_se_payouts: &str) -> Rules {
    let text = RULES.replace(
        "[entities.SE.payouts]\n",
        &format!("[entities.SE.payouts]\n{extra_se_payouts}\n"),
    );
    Rules::from_toml(&text).unwrap()
}

fn outcomes(settlement: &Settlement, rules: &Rules) -> Vec<PayoutOutcome> {
    map_settlement(settlement, rules, Some(&RateTable::from_ecb_csv(RATES).unwrap()))
}

fn posted(outcomes: &[PayoutOutcome]) -> Vec<&Posting> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            PayoutOutcome::Posted(p) => Some(p.as_ref()),
            PayoutOutcome::Refused(e) => panic!("{e}"),
            PayoutOutcome::Skipped { .. } => None,
        })
        .collect()
}

fn total(postings: &[&Posting], role: Role) -> Decimal {
    postings.iter().map(|p| p.total(role)).sum()
}

fn on_account(postings: &[&Posting], account: &str) -> Decimal {
    postings
        .iter()
        .flat_map(|p| &p.lines)
        .filter(|l| l.account.0 == account)
        .map(|l| l.amount)
        .sum()
}

#[test]
fn the_sample_batch_pays_out_its_net_into_the_bank() {
    let settlement = parse(BATCH).unwrap();
    assert_eq!(settlement.lines.len(), 10);
    let out = outcomes(&settlement, &Rules::from_toml(RULES).unwrap());
    let postings = posted(&out);
    assert_eq!(postings.len(), 9, "every line but the MerchantPayout");
    assert!(matches!(out[9], PayoutOutcome::Skipped { line: 11, .. }));
    for p in &postings {
        assert_eq!(p.event, EventKind::Payout);
        assert_eq!(p.balance(), Decimal::ZERO, "{}", p.idempotency_key);
        assert_eq!(
            (p.entity.as_str(), p.currency.as_str(), p.date.as_str()),
            ("SE", "SEK", "2026-11-25")
        );
        assert!(p.lines.iter().all(|l| l.amount.scale() == 2));
    }
    // The bank receives exactly what the MerchantPayout line says the PSP paid.
    assert_eq!(total(&postings, Role::Bank), d("1529.59"));
    assert_eq!(settlement.lines[9].net, d("-1529.59"));
    // Clearing accounts are emptied by the gross: card 1581, Klarna 1582, Swish 1583.
    assert_eq!(
        on_account(&postings, "1581"),
        d("-500.00") - d("493.00") + d("100.00") + d("546.99")
    );
    assert_eq!(on_account(&postings, "1582"), d("-698.00"));
    assert_eq!(on_account(&postings, "1583"), d("-1242.00") + d("331.33"));
    // Fees: the fee columns of the payment lines, the chargeback fee and the invoice deduction.
    let fee_columns = d("3.25") + d("3.19") + d("17.45") + d("2.00") + d("0.20");
    assert_eq!(total(&postings, Role::Fee), fee_columns + d("150.00") + d("249.00"));
    // Keys come from the batch and the PSP's references; a refund keeps its own.
    let keys: Vec<&str> = postings.iter().map(|p| p.idempotency_key.as_str()).collect();
    assert_eq!(keys[0], "payout:NordicGoodsSE:1042:settled:PSP-CARD-TWO-CAP-1");
    assert_eq!(
        keys[4],
        "payout:NordicGoodsSE:1042:refunded:PSP-CARD-TWO-CAP-1:PSP-CARD-TWO-CAP-3"
    );
    assert_eq!(
        keys[7],
        "payout:NordicGoodsSE:1042:fee:Chargeback fee PSP-CARD-SPLIT-9-CB"
    );
    let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(unique.len(), keys.len());
    assert_eq!(postings[0].external_ref, "CV-SE-SEK-MIXED-RATES");
}

#[test]
fn keys_do_not_depend_on_the_order_of_lines() {
    let mut lines: Vec<&str> = BATCH.lines().collect();
    let header = lines.remove(0);
    lines.reverse();
    let reversed = std::iter::once(header).chain(lines).collect::<Vec<_>>().join("\n");
    let rules = Rules::from_toml(RULES).unwrap();
    let keys = |text: &str| {
        let mut k: Vec<String> = posted(&outcomes(&parse(text).unwrap(), &rules))
            .iter()
            .map(|p| p.idempotency_key.to_string())
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(BATCH), keys(&reversed));
}

#[test]
fn with_a_psp_balance_account_the_payout_is_one_bank_line() {
    let rules = rules_with("balance = \"1588\"");
    let out = outcomes(&parse(BATCH).unwrap(), &rules);
    let postings = posted(&out);
    assert_eq!(postings.len(), 10);
    let payout = postings.last().unwrap();
    assert_eq!(payout.total(Role::Bank), d("1529.59"));
    assert_eq!(payout.lines.len(), 2);
    assert_eq!(
        total(&postings, Role::Bank),
        d("1529.59"),
        "only the payout touches the bank"
    );
    assert_eq!(
        on_account(&postings, "1588"),
        Decimal::ZERO,
        "the batch empties the PSP balance"
    );
}

#[test]
fn foreign_currency_batches_carry_the_rate_of_their_date() {
    let text = format!(
        "{HEADER}\nNG,NordicGoodsSE,P1,CV-1,visa,2026-11-23 12:00:00,CET,Settled,P1,EUR,,100.00,,EUR,,98.00,2.00,,,,,,77\n"
    );
    let p = posted(&outcomes(&parse(&text).unwrap(), &Rules::from_toml(RULES).unwrap()))[0].clone();
    let rate = p.exchange_rate.expect("EUR line in a SEK entity");
    assert_eq!(
        (rate.base_currency.as_str(), rate.rate_date.as_str()),
        ("SEK", "2026-11-23")
    );
}

#[test]
fn bad_lines_are_refused_with_the_rule_or_column_to_fix() {
    let rules = Rules::from_toml(RULES).unwrap();
    let text = format!(
        "{HEADER}\n\
         NG,UnknownShop,P1,CV-1,visa,2026-11-23 12:00:00,CET,Settled,P1,SEK,,100.00,,SEK,,98.00,2.00,,,,,,77\n\
         NG,NordicGoodsSE,P2,CV-2,visa,2026-11-23 12:00:00,CET,Settled,P2,SEK,,100.00,,SEK,,98.00,1.00,,,,,,77\n\
         NG,NordicGoodsSE,P3,CV-3,visa,2026-11-23 12:00:00,CET,Settled,P3,EUR,,100.00,,SEK,,98.00,2.00,,,,,,77\n"
    );
    let out = outcomes(&parse(&text).unwrap(), &rules);
    let messages: Vec<String> = out
        .iter()
        .map(|o| match o {
            PayoutOutcome::Refused(e) => e.to_string(),
            other => panic!("expected a refusal, got {other:?}"),
        })
        .collect();
    assert!(
        messages[0].contains("routing.by_merchant_account.\"UnknownShop\""),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("fee columns add up to 1.00 but gross − net is 2.00"),
        "{}",
        messages[1]
    );
    assert!(messages[2].contains("gross in EUR but net in SEK"), "{}", messages[2]);

    let no_bank = Rules::from_toml(&RULES.replace("bank = \"1930\"", "")).unwrap();
    let out = outcomes(&parse(BATCH).unwrap(), &no_bank);
    let PayoutOutcome::Refused(e) = &out[0] else {
        panic!("{:?}", out[0])
    };
    assert!(
        e.to_string().contains("entities.SE.payouts.bank")
            || e.problems[0].column.as_deref() == Some("entities.SE.payouts.bank"),
        "{e:?}"
    );
}

prop_compose! {
    /// A settlement line: (type, gross in öre or none, fees in öre).
    fn line()(kind in 0..4u8, gross in 1i64..500_000, fees in proptest::collection::vec(0i64..2_000, 4)) -> (u8, i64, Vec<i64>) {
        (kind, gross, fees)
    }
}

fn csv_of(lines: &[(u8, i64, Vec<i64>)]) -> String {
    let cents = |c: i64| format!("{}.{:02}", c / 100, c % 100);
    let mut text = String::from(HEADER);
    for (i, (kind, gross, fees)) in lines.iter().enumerate() {
        let fee: i64 = fees.iter().sum();
        let row = match kind {
            // Settled: gross in, net = gross − fees (may go negative on tiny payments).
            0 | 1 => {
                let net = gross - fee;
                let (nd, nc) = if net >= 0 {
                    (String::new(), cents(net))
                } else {
                    (cents(-net), String::new())
                };
                let f: Vec<String> = fees.iter().map(|c| cents(*c)).collect();
                format!(
                    "NG,NordicGoodsSE,P{i},CV-{i},visa,2026-11-24 10:00:00,CET,Settled,P{i},SEK,,{},,SEK,{nd},{nc},{}",
                    cents(*gross),
                    f.join(",")
                )
            }
            // Refunded: gross out, net out = gross + fees.
            2 => {
                let f: Vec<String> = fees.iter().map(|c| cents(*c)).collect();
                format!(
                    "NG,NordicGoodsSE,P{i},CV-{i},swish,2026-11-24 10:00:00,CET,Refunded,R{i},SEK,{},,,SEK,{},,{}",
                    cents(*gross),
                    cents(gross + fee),
                    f.join(",")
                )
            }
            _ => format!(
                "NG,NordicGoodsSE,,,,2026-11-24 10:00:00,CET,Fee,Fee {i},,,,,SEK,{},,,,,",
                cents(*gross % 10_000 + 1)
            ),
        };
        text.push('\n');
        text.push_str(&row);
        text.push_str(",,,99");
    }
    text
}

proptest! {
    #[test]
    fn any_batch_balances_and_the_bank_gets_its_net(lines in proptest::collection::vec(line(), 1..25), via_balance in any::<bool>()) {
        let text = csv_of(&lines);
        let settlement = parse(&text).unwrap();
        let rules = if via_balance { rules_with("balance = \"1588\"") } else { Rules::from_toml(RULES).unwrap() };
        let out = outcomes(&settlement, &rules);
        let postings = posted(&out);
        prop_assert_eq!(postings.len(), settlement.lines.len());
        for p in &postings {
            prop_assert_eq!(p.balance(), Decimal::ZERO);
        }
        let net: Decimal = settlement.lines.iter().map(|l| l.net).sum();
        let gross: Decimal = settlement.lines.iter().filter_map(|l| l.gross.as_ref()).map(|g| g.1).sum();
        let held = if via_balance { total(&postings, Role::PspBalance) } else { total(&postings, Role::Bank) };
        prop_assert_eq!(held, net);
        prop_assert_eq!(total(&postings, Role::Payment), -gross);
        prop_assert_eq!(total(&postings, Role::Fee), gross - net);
    }
}
