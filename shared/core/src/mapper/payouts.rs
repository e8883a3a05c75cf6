//! Payouts: one posting per line of a PSP settlement report, so that captures and refunds (which
//! post to clearing accounts) reconcile against the money that reaches the bank.
//!
//! payment lines (Settled, Refunded, Chargeback …): clearing −gross, fee +(gross − net), bank +net
//! fee lines (Fee, InvoiceDeduction …):              fee −net, bank +net
//! MerchantPayout: nothing, as every line's net already went to the bank; or, with
//!   `payouts.balance` set, lines post their net to that PSP balance account and the payout line
//!   moves the batch total from it to the bank.
//! Signs are the merchant's: a Settled line's gross is money in (clearing credit), a Refunded
//! line's is money out (clearing debit). The entity comes from `routing.by_merchant_account`; the
//! clearing account from the entity's payment rules for `payouts.interface` + the payment method;
//! the date is the line's creation time in the entity's time zone.

use rust_decimal::Decimal;

use crate::keys::IdempotencyKey;
use crate::money::{default_fraction_digits, fixed};
use crate::posting::{EventKind, Posting, PostingLine, Role};
use crate::rates::{attach_rate, RateTable};
use crate::rules::{AccountCode, Entity, Rules};
use crate::settlement::{LineKind, LineProblem, Settlement, SettlementError, SettlementLine};
use crate::validation::Problem;

/// What one settlement line gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutOutcome {
    Posted(Box<Posting>),
    /// Nothing to post, and why (a MerchantPayout when lines post straight to the bank).
    Skipped {
        line: usize,
        reason: String,
    },
    Refused(SettlementError),
}

/// Every line of `settlement`, in file order.
pub fn map_settlement(settlement: &Settlement, rules: &Rules, rates: Option<&RateTable>) -> Vec<PayoutOutcome> {
    settlement.lines.iter().map(|l| map_line(l, rules, rates)).collect()
}

fn map_line(line: &SettlementLine, rules: &Rules, rates: Option<&RateTable>) -> PayoutOutcome {
    let mut problems = Vec::new();
    let outcome = build(line, rules, rates, &mut problems);
    if problems.is_empty() {
        return outcome;
    }
    PayoutOutcome::Refused(SettlementError {
        problems: problems
            .into_iter()
            .map(|p| LineProblem {
                line: line.file_line,
                column: p.rule.clone(),
                message: format!("{} {}: {}", line_label(line), p.field, p.message),
            })
            .collect(),
    })
}

fn line_label(line: &SettlementLine) -> String {
    let reference = line
        .psp_reference
        .as_deref()
        .or(line.modification_reference.as_deref())
        .unwrap_or("-");
    format!(
        "{} batch {} {} {reference}",
        line.merchant_account, line.batch, line.type_name
    )
}

fn build(
    line: &SettlementLine,
    rules: &Rules,
    rates: Option<&RateTable>,
    problems: &mut Vec<Problem>,
) -> PayoutOutcome {
    let Some((entity_id, entity)) = rules
        .routing
        .by_merchant_account
        .get(&line.merchant_account)
        .and_then(|id| rules.entities.get_key_value(id))
    else {
        problems.push(
            Problem::new(
                "entity",
                format!("merchant account {:?} has no entity", line.merchant_account),
            )
            .rule(format!("routing.by_merchant_account.{:?}", line.merchant_account)),
        );
        return PayoutOutcome::Skipped {
            line: line.file_line,
            reason: String::new(),
        };
    };
    let payouts = &entity.payouts;
    if line.kind == LineKind::Payout && payouts.balance.is_none() {
        return PayoutOutcome::Skipped {
            line: line.file_line,
            reason: "the payout of the batch: every line's net already posted to the bank".into(),
        };
    }
    let mut need = |account: Option<&AccountCode>, rule: &str| {
        account.cloned().unwrap_or_else(|| {
            problems.push(
                Problem::new("account", format!("no {rule} account"))
                    .rule(format!("entities.{entity_id}.payouts.{rule}")),
            );
            AccountCode(String::new())
        })
    };
    let bank = need(payouts.bank.as_ref(), "bank");
    let fees = need(payouts.fees.as_ref(), "fees");
    let digits = default_fraction_digits(&line.net_currency);
    check_digits(line, digits, problems);

    let mut lines = Vec::new();
    let text = line_text(line);
    let held = match payouts.balance.clone() {
        Some(balance) => (Role::PspBalance, balance),
        None => (Role::Bank, bank.clone()),
    };
    match line.kind {
        LineKind::Payment => {
            let (gross_currency, gross) = line.gross.clone().unwrap_or_default();
            if gross_currency != line.net_currency {
                problems.push(Problem::new(
                    "currency",
                    format!(
                        "gross in {gross_currency} but net in {}: settlements with currency conversion are not supported",
                        line.net_currency
                    ),
                ));
            }
            let fee = gross - line.net;
            if let Some(listed) = line.fees {
                if listed != fee.abs() {
                    problems.push(Problem::new(
                        "fees",
                        format!("the fee columns add up to {listed} but gross − net is {}", fee.abs()),
                    ));
                }
            }
            let clearing = clearing_account(entity_id, entity, line, problems);
            lines.push(posting_line(Role::Payment, clearing, -gross, &text));
            lines.push(posting_line(Role::Fee, fees, fee, &text));
            lines.push(posting_line(held.0, held.1, line.net, &text));
        }
        LineKind::Fee => {
            lines.push(posting_line(Role::Fee, fees, -line.net, &text));
            lines.push(posting_line(held.0, held.1, line.net, &text));
        }
        LineKind::Payout => {
            // A payout is money out of the PSP balance (net negative) into the bank.
            lines.push(posting_line(Role::Bank, bank, -line.net, &text));
            lines.push(posting_line(held.0, held.1, line.net, &text));
        }
    }
    lines.retain(|l| !l.amount.is_zero());
    for l in &mut lines {
        l.amount = fixed(l.amount, digits);
    }
    let date = line
        .created
        .with_timezone(&entity.time_zone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC))
        .format("%Y-%m-%d")
        .to_string();
    let key = IdempotencyKey::payout(&line.merchant_account, &line.batch, &line_id(line));
    let mut posting = Posting::new(EventKind::Payout, key, entity_id, &line.net_currency, date);
    posting.external_ref = line
        .merchant_reference
        .clone()
        .unwrap_or_else(|| format!("{} batch {}", line.merchant_account, line.batch));
    posting.transaction_id = line.psp_reference.clone();
    posting.lines = lines;
    if let Err(p) = attach_rate(&mut posting, &entity.base_currency, rates) {
        problems.push(p);
    }
    PayoutOutcome::Posted(Box::new(posting))
}

/// Stable within a batch whatever the file order: the line type and the PSP's own references;
/// the file line only when a line has neither reference.
fn line_id(line: &SettlementLine) -> String {
    let kind: String = line
        .type_name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let refs: Vec<&str> = [&line.psp_reference, &line.modification_reference]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if refs.is_empty() {
        format!("{kind}:line{}", line.file_line)
    } else {
        let mut refs = refs;
        refs.dedup();
        format!("{kind}:{}", refs.join(":"))
    }
}

fn clearing_account(
    entity_id: &str,
    entity: &Entity,
    line: &SettlementLine,
    problems: &mut Vec<Problem>,
) -> AccountCode {
    let clearing = entity.payments.clearing(
        entity_id,
        entity.payouts.interface.as_deref(),
        line.payment_method.as_deref(),
    );
    let account = if clearing.gift_card {
        entity.accounts.gift_card.clone()
    } else {
        clearing.account
    };
    account.unwrap_or_else(|| {
        problems.push(Problem::new("account", "no clearing account for the payment method").rule(clearing.rule));
        AccountCode(String::new())
    })
}

fn check_digits(line: &SettlementLine, digits: u32, problems: &mut Vec<Problem>) {
    let amounts = [Some(line.net), line.gross.as_ref().map(|g| g.1), line.fees];
    if let Some(bad) = amounts.into_iter().flatten().find(|a| a.normalize().scale() > digits) {
        problems.push(Problem::new(
            "amount",
            format!(
                "{bad} has more than the {digits} fraction digits of {}",
                line.net_currency
            ),
        ));
    }
}

fn posting_line(role: Role, account: AccountCode, amount: Decimal, text: &str) -> PostingLine {
    PostingLine {
        role,
        account,
        amount,
        vat_code: None,
        vat_rate: None,
        sku: None,
        text: Some(text.to_string()),
    }
}

fn line_text(line: &SettlementLine) -> String {
    let mut parts = vec![line.type_name.clone()];
    parts.extend(line.psp_reference.clone().or(line.modification_reference.clone()));
    parts.extend(line.payment_method.clone());
    parts.join(" ")
}
