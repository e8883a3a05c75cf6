//! Every financial event on the sample orders and payments of tests/data: captures, refunds,
//! goodwill, gift cards, credit notes, cancellations, per-delivery and on-capture invoicing, and
//! the messages that change them, put together by the order book.

use ctvisma_core::input::documents_from_str;
use ctvisma_core::mapper::book::{Added, Book, Outcome, Source};
use ctvisma_core::posting::{EventKind, Posting};
use ctvisma_core::{Classify, CoreError, ErrorClass, Role, Rules};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const RULES: &str = include_str!("../../../config/rules.toml");

fn data(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    std::fs::read_to_string(root.join(path)).unwrap()
}

fn book_of(texts: &[String]) -> Book {
    let mut book = Book::default();
    for text in texts {
        for found in documents_from_str(text) {
            book.add(found.document.unwrap(), Source::default()).unwrap();
        }
    }
    book
}

fn postings(outcomes: Vec<Outcome>) -> Vec<Posting> {
    outcomes
        .into_iter()
        .flat_map(|(_, r)| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn run(rules: &str, files: &[&str]) -> Vec<Posting> {
    let texts: Vec<String> = files.iter().map(|f| data(f)).collect();
    postings(book_of(&texts).postings(&Rules::from_toml(rules).unwrap(), None))
}

fn of(ps: &[Posting], event: EventKind) -> Vec<&Posting> {
    ps.iter().filter(|p| p.event == event).collect()
}

fn amounts(p: &Posting, role: Role) -> Vec<(String, String)> {
    p.lines
        .iter()
        .filter(|l| l.role == role)
        .map(|l| (l.account.0.clone(), l.amount.to_string()))
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn each_successful_charge_is_its_own_capture_and_a_refund_without_return_is_goodwill() {
    let ps = run(
        RULES,
        &[
            "orders/se-sek-mixed-rates.json",
            "payments/card-two-captures-goodwill-refund.json",
        ],
    );
    let captures = of(&ps, EventKind::Capture);
    assert_eq!(captures.len(), 2, "two partial captures, two postings");
    assert_eq!(amounts(captures[0], Role::Payment), [pair("1581", "500.00")]);
    assert_eq!(amounts(captures[0], Role::Receivable), [pair("1510", "-500.00")]);
    assert_eq!(captures[0].date, "2026-11-24");
    assert_ne!(captures[0].idempotency_key, captures[1].idempotency_key);
    assert!(captures[0].idempotency_key.as_str().starts_with("capture:"));
    assert_eq!(
        captures[0].payment_id.as_deref(),
        Some(captures[1].payment_id.as_deref().unwrap())
    );

    let refunds = of(&ps, EventKind::Refund);
    assert_eq!(refunds.len(), 1, "the failed refund posts nothing");
    assert_eq!(amounts(refunds[0], Role::Receivable), [pair("3790", "100.00")]);
    assert_eq!(amounts(refunds[0], Role::Payment), [pair("1581", "-100.00")]);
    assert!(refunds[0].external_ref.starts_with("CV-SE-SEK-MIXED-RATES/"));
}

#[test]
fn refunds_of_credited_returns_clear_the_receivable() {
    let ps = run(
        RULES,
        &["orders/se-sek-returns.json", "payments/swish-paid-and-refunded.json"],
    );
    let notes = of(&ps, EventKind::CreditNote);
    assert_eq!(notes.len(), 2, "RET-3 is still advised: it waits");
    let credited: Decimal = notes.iter().map(|n| -n.total(Role::Receivable)).sum();
    assert_eq!(credited, Decimal::new(99400, 2));
    for n in &notes {
        assert_eq!(n.balance(), Decimal::ZERO);
        assert_eq!(
            n.refers_to.as_ref().unwrap().as_str(),
            format!("invoice:{}", n.order_id.as_ref().unwrap())
        );
        assert!(n.idempotency_key.as_str().starts_with("credit:"));
    }
    let refunds = of(&ps, EventKind::Refund);
    assert_eq!(refunds.len(), 2);
    for r in refunds {
        assert!(r.lines.iter().all(|l| l.account.0 != "3790"), "no goodwill: {r:?}");
        assert_eq!(r.lines[0].account.0, "1510");
    }
}

#[test]
fn the_last_return_of_a_line_takes_the_remainder() {
    let ps = run(RULES, &["orders/se-sek-returns.json"]);
    let invoice = of(&ps, EventKind::Invoice)[0];
    let notes = of(&ps, EventKind::CreditNote);
    // Coffee: 3 units, 247.00 gross; returned 1 then 2: 82.33 + 164.67 = 247.00 exactly.
    let coffee = |p: &Posting| -> Decimal {
        p.lines
            .iter()
            .filter(|l| l.sku.as_deref() == Some("COFFEE-500G"))
            .map(|l| l.amount)
            .sum()
    };
    let credited: Decimal = notes.iter().map(|n| coffee(n)).sum();
    assert_eq!(
        credited,
        -coffee(invoice),
        "revenue less discount of the line, fully reversed"
    );
}

#[test]
fn a_gift_card_payment_debits_the_liability_and_klarna_its_clearing_account() {
    let ps = run(
        RULES,
        &[
            "orders/se-sek-gift-card.json",
            "payments/klarna-invoice.json",
            "payments/paid-with-gift-card.json",
        ],
    );
    let payment_accounts: Vec<String> = of(&ps, EventKind::Capture)
        .iter()
        .flat_map(|p| amounts(p, Role::Payment))
        .map(|(a, _)| a)
        .collect();
    assert_eq!(payment_accounts, ["1582", "2421"]);
}

#[test]
fn authorizations_and_their_cancellation_post_nothing_and_a_cancelled_order_is_reversed() {
    let ps = run(
        RULES,
        &[
            "orders/se-sek-cancelled.json",
            "payments/card-authorization-cancelled.json",
        ],
    );
    assert!(of(&ps, EventKind::Capture).is_empty());
    let invoice = of(&ps, EventKind::Invoice)[0];
    let reversal = of(&ps, EventKind::CreditNote)[0];
    assert_eq!(reversal.date, "2026-11-22");
    assert_eq!(reversal.refers_to.as_ref(), Some(&invoice.idempotency_key));
    assert_eq!(
        reversal.idempotency_key.as_str(),
        format!("cancel:{}", invoice.idempotency_key)
    );
    for (a, b) in invoice.lines.iter().zip(&reversal.lines) {
        assert_eq!(a.amount, -b.amount);
        assert_eq!((&a.account, &a.vat_code), (&b.account, &b.vat_code));
    }
}

fn shipment_rules() -> String {
    RULES.replace("target = \"sie\"\n", "target = \"sie\"\ninvoice_on = \"shipment\"\n")
}

#[test]
fn on_shipment_each_delivery_is_invoiced_for_what_it_holds() {
    let ps = run(&shipment_rules(), &["orders/se-sek-split-shipment.json"]);
    let invoices = of(&ps, EventKind::Invoice);
    assert_eq!(invoices.len(), 2);
    assert_eq!(
        (invoices[0].date.as_str(), invoices[1].date.as_str()),
        ("2026-11-20", "2026-11-21")
    );
    assert!(invoices[0].idempotency_key.as_str().contains(":delivery:"));
    assert_eq!(
        invoices[0].total(Role::Shipping),
        Decimal::new(-3920, 2),
        "shipping with the first"
    );
    assert_eq!(invoices[1].total(Role::Shipping), Decimal::ZERO);
    let whole = run(RULES, &["orders/se-sek-split-shipment.json"]);
    let sum: Decimal = invoices.iter().map(|p| p.total(Role::Receivable)).sum();
    assert_eq!(sum, whole[0].total(Role::Receivable));

    // A cancelled order that never shipped was never invoiced: nothing to reverse.
    let ps = run(&shipment_rules(), &["orders/se-sek-cancelled.json"]);
    assert!(ps.is_empty(), "{ps:?}");
}

#[test]
fn a_return_received_later_is_credited_when_its_shipment_state_message_arrives() {
    let order: Value = serde_json::from_str(&data("orders/se-sek-returns.json")).unwrap();
    let advised = order["returnInfo"][2]["items"][0]["id"].clone();
    let message = json!({"notificationType": "Message", "type": "OrderReturnShipmentStateChanged", "id": "m-r",
        "version": 1, "sequenceNumber": 9, "resource": {"typeId": "order", "id": order["id"]}, "resourceVersion": 5,
        "createdAt": "2026-11-25T10:00:00.000Z", "returnItemId": advised, "returnShipmentState": "Returned"});
    let rules = Rules::from_toml(RULES).unwrap();
    let credit_notes = |texts: &[String]| {
        let ps = postings(book_of(texts).postings(&rules, None));
        ps.into_iter().filter(|p| p.event == EventKind::CreditNote).count()
    };
    let before = credit_notes(&[order.to_string()]);
    assert_eq!(credit_notes(&[order.to_string(), message.to_string()]), before + 1);
    assert_eq!(
        credit_notes(&[message.to_string(), order.to_string()]),
        before + 1,
        "in either order"
    );
}

#[test]
fn a_delivery_message_invoices_the_delivery_it_adds() {
    let mut order: Value = serde_json::from_str(&data("orders/se-sek-split-shipment.json")).unwrap();
    let second = order["shippingInfo"]["deliveries"][1].take();
    order["shippingInfo"]["deliveries"] = json!([order["shippingInfo"]["deliveries"][0].clone()]);
    let message = json!({"notificationType": "Message", "type": "DeliveryAdded", "id": "m-1", "version": 1,
        "sequenceNumber": 5, "resource": {"typeId": "order", "id": order["id"]}, "resourceVersion": 6,
        "createdAt": "2026-11-21T07:00:01.000Z", "delivery": second});
    let rules = Rules::from_toml(&shipment_rules()).unwrap();
    let with = postings(book_of(&[order.to_string(), message.to_string()]).postings(&rules, None));
    let without = postings(book_of(&[order.to_string()]).postings(&rules, None));
    assert_eq!((with.len(), without.len()), (2, 1));
    // Message before the order: same result.
    let reversed = postings(book_of(&[message.to_string(), order.to_string()]).postings(&rules, None));
    assert_eq!(reversed, with);
}

#[test]
fn on_capture_the_invoice_waits_for_the_first_successful_charge() {
    let rules = RULES.replace("target = \"sie\"\n", "target = \"sie\"\ninvoice_on = \"capture\"\n");
    let pending = run(
        &rules,
        &[
            "orders/se-sek-split-shipment.json",
            "payments/card-capture-pending.json",
        ],
    );
    assert!(pending.is_empty(), "a pending charge invoices nothing: {pending:?}");

    let payment: Value = serde_json::from_str(&data("payments/card-capture-pending.json")).unwrap();
    let message = json!({"notificationType": "Message", "type": "PaymentTransactionStateChanged", "id": "m-2",
        "version": 1, "sequenceNumber": 3, "resource": {"typeId": "payment", "id": payment["id"]},
        "resourceVersion": 3, "createdAt": "2026-11-22T06:00:00.000Z",
        "transactionId": payment["transactions"][0]["id"], "state": "Success"});
    let texts = [
        data("orders/se-sek-split-shipment.json"),
        payment.to_string(),
        message.to_string(),
    ];
    let ps = postings(book_of(&texts).postings(&Rules::from_toml(&rules).unwrap(), None));
    let kinds: Vec<EventKind> = ps.iter().map(|p| p.event).collect();
    assert_eq!(kinds, [EventKind::Invoice, EventKind::Capture]);
    assert_eq!(ps[0].date, "2026-11-21", "dated by the capture's timestamp");
}

#[test]
fn a_newer_payment_version_keeps_every_key() {
    let old: Value = serde_json::from_str(&data("payments/card-two-captures-goodwill-refund.json")).unwrap();
    let mut newer = old.clone();
    newer["version"] = json!(42);
    newer["lastModifiedAt"] = json!("2026-12-01T00:00:00.000Z");
    let order = data("orders/se-sek-mixed-rates.json");
    let rules = Rules::from_toml(RULES).unwrap();
    let keys = |texts: &[String]| -> Vec<String> {
        postings(book_of(texts).postings(&rules, None))
            .iter()
            .map(|p| p.idempotency_key.to_string())
            .collect()
    };
    assert_eq!(
        keys(&[order.clone(), old.to_string()]),
        keys(&[order.clone(), newer.to_string()])
    );
    assert_eq!(keys(&[order.clone(), newer.to_string(), old.to_string()]).len(), 4);
}

#[test]
fn a_reused_transaction_id_gets_an_occurrence_index() {
    let mut payment: Value = serde_json::from_str(&data("payments/card-two-captures-goodwill-refund.json")).unwrap();
    let first = payment["transactions"][1]["id"].clone();
    payment["transactions"][2]["id"] = first;
    let ps = postings(
        book_of(&[data("orders/se-sek-mixed-rates.json"), payment.to_string()])
            .postings(&Rules::from_toml(RULES).unwrap(), None),
    );
    let keys: Vec<&str> = of(&ps, EventKind::Capture)
        .iter()
        .map(|p| p.idempotency_key.as_str())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(format!("{}#1", keys[0]), keys[1]);
}

fn refused(order: &str, payment: Value) -> CoreError {
    let outcomes = book_of(&[data(order), payment.to_string()]).postings(&Rules::from_toml(RULES).unwrap(), None);
    outcomes.into_iter().find_map(|(_, r)| r.err()).expect("refused")
}

#[test]
fn over_refunds_currency_mismatches_and_orphans_are_refused_with_the_reason() {
    let base: Value = serde_json::from_str(&data("payments/card-two-captures-goodwill-refund.json")).unwrap();
    let mut over = base.clone();
    over["transactions"][3]["amount"]["centAmount"] = json!(99_400);
    let e = refused("orders/se-sek-mixed-rates.json", over);
    assert!(e.to_string().contains("exceeds what was captured"), "{e}");
    assert_eq!(e.class(), ErrorClass::Permanent);

    let mut euro = base.clone();
    euro["amountPlanned"]["currencyCode"] = json!("EUR");
    let e = refused("orders/se-sek-mixed-rates.json", euro);
    assert!(e.to_string().contains("payment in EUR but its order is in SEK"), "{e}");

    // The payment's order is not among the inputs: kept for a retry, it may arrive later.
    let e = refused("orders/se-sek-zero-total.json", base);
    assert!(matches!(e, CoreError::Unlinked(_)), "{e}");
    assert_eq!(e.class(), ErrorClass::Transient);
}

#[test]
fn a_subscription_test_message_is_skipped() {
    let mut book = Book::default();
    let test = json!({"notificationType": "ResourceCreated", "projectKey": "p",
        "resource": {"typeId": "subscription", "id": "s"}, "version": 1, "modifiedAt": "2026-11-23T00:00:00.000Z"});
    let doc = documents_from_str(&test.to_string()).remove(0).document.unwrap();
    assert_eq!(
        book.add(doc, Source::default()).unwrap(),
        Added::Skipped("ResourceCreated".into())
    );
}

/// The DE sample with a 50.00 discount on its total, `returns` as its return items, and a payment
/// that captured the whole order and refunded `refund` (in cents).
fn discounted_order(returns: &[(&str, i64)], refund: i64) -> (Value, Value) {
    let mut order: Value = serde_json::from_str(&data("orders/de-eur-net-b2b-discount-on-total.json")).unwrap();
    let items: Vec<Value> = returns
        .iter()
        .enumerate()
        .map(|(n, (line, qty))| {
            json!({"type": "LineItemReturnItem", "id": format!("ri-{n}"), "quantity": qty, "lineItemId": line,
                   "shipmentState": "Returned", "paymentState": "Initial", "createdAt": "2026-11-30T10:00:00.000Z"})
        })
        .collect();
    order["returnInfo"] =
        json!([{"returnTrackingId": "RET-1", "returnDate": "2026-11-30T10:00:00.000Z", "items": items}]);
    order["paymentInfo"] = json!({"payments": [{"typeId": "payment", "id": "pay-de"}]});
    let eur =
        |cents: i64| json!({"type": "centPrecision", "currencyCode": "EUR", "centAmount": cents, "fractionDigits": 2});
    let payment = json!({"id": "pay-de", "version": 3, "amountPlanned": eur(70303),
        "paymentMethodInfo": {"paymentInterface": "adyen", "method": "card"},
        "transactions": [
            {"id": "t-charge", "type": "Charge", "state": "Success", "timestamp": "2026-11-23T09:00:00.000Z", "amount": eur(70303)},
            {"id": "t-refund", "type": "Refund", "state": "Success", "timestamp": "2026-12-01T09:00:00.000Z", "amount": eur(refund)}]});
    (order, payment)
}

const DRILL: &str = "120d0645-cbdb-5962-968f-dbe60e5a25ca";
const BOOK: &str = "5e7b25d8-a92e-517a-9c41-f1335ea87b6f";

/// Sum per (role, account, VAT code): what a credit note must mirror of the invoice.
fn by_account(ps: &[&Posting]) -> std::collections::BTreeMap<(String, String, Option<String>), Decimal> {
    let mut m = std::collections::BTreeMap::new();
    for l in ps.iter().flat_map(|p| &p.lines) {
        *m.entry((format!("{:?}", l.role), l.account.0.clone(), l.vat_code.clone()))
            .or_insert(Decimal::ZERO) += l.amount;
    }
    m
}

#[test]
fn a_return_on_an_order_with_a_total_discount_credits_what_the_customer_paid_for_it() {
    // Invoice: drill 3 × 149.99 = 449.97 net / 535.46 gross (19 %), book 5 × 39.90 = 199.50 /
    // 213.46 (7 %), shipping 9.90 / 11.78 (19 %); order net 609.37, so the order discount is
    // 659.37 − 609.37 = 50.00, split by net: 19 % 459.87 → 34.87, 7 % 199.50 → 15.13.
    // 19 % group: net 459.87 − 34.87 = 425.00, VAT 80.75 (taxPortion), gross 505.75, so its gross
    // discount is 547.24 − 505.75 = 41.49. Split by net 449.97 : 9.90, the drill takes 34.12 net
    // (3411.93 → 3412 cents) and 40.60 gross (4059.68 → 4060): 415.85 net, 494.86 gross.
    // One drill of three: net 415.85 / 3 = 138.62, gross 494.86 / 3 = 164.95, VAT 26.33;
    // list net 449.97 / 3 = 149.99, so its discount is 149.99 − 138.62 = 11.37.
    let (order, payment) = discounted_order(&[(DRILL, 1)], 16495);
    let ps =
        postings(book_of(&[order.to_string(), payment.to_string()]).postings(&Rules::from_toml(RULES).unwrap(), None));
    let notes = of(&ps, EventKind::CreditNote);
    assert_eq!(notes.len(), 1);
    let note = notes[0];
    assert_eq!(amounts(note, Role::Receivable), [pair("1510", "-164.95")]);
    assert_eq!(amounts(note, Role::Revenue), [pair("3001", "149.99")]);
    assert_eq!(amounts(note, Role::Discount), [pair("3730", "-11.37")]);
    assert_eq!(amounts(note, Role::Vat), [pair("2611", "26.33")]);
    assert!(amounts(note, Role::Rounding).is_empty());
    assert_eq!(note.balance(), Decimal::ZERO);
    // The refund of exactly the credited amount clears the receivable: no goodwill.
    let refund = of(&ps, EventKind::Refund)[0];
    assert_eq!(amounts(refund, Role::Receivable), [pair("1510", "164.95")]);
}

#[test]
fn returning_all_of_an_order_with_a_total_discount_mirrors_its_invoice() {
    let rules = RULES.replace(
        "[entities.DE.accounts]",
        "[entities.DE.returns]\ncredit_shipping = true\n\n[entities.DE.accounts]",
    );
    let (order, payment) = discounted_order(&[(DRILL, 3), (BOOK, 5)], 70303);
    let ps =
        postings(book_of(&[order.to_string(), payment.to_string()]).postings(&Rules::from_toml(&rules).unwrap(), None));
    let invoice = of(&ps, EventKind::Invoice);
    let notes = of(&ps, EventKind::CreditNote);
    assert_eq!((invoice.len(), notes.len()), (1, 1));
    let mirrored: std::collections::BTreeMap<_, _> = by_account(&invoice).into_iter().map(|(k, v)| (k, -v)).collect();
    assert_eq!(by_account(&notes), mirrored);
    assert_eq!(notes[0].total(Role::Receivable), Decimal::new(-70303, 2));
    let refund = of(&ps, EventKind::Refund)[0];
    assert_eq!(
        amounts(refund, Role::Receivable),
        [pair("1510", "703.03")],
        "no goodwill"
    );

    // Cancelled instead of returned: the reversal is the invoice mirrored line by line.
    let (mut order, _) = discounted_order(&[], 0);
    order["orderState"] = json!("Cancelled");
    order["lastModifiedAt"] = json!("2026-11-24T08:00:00.000Z");
    let ps = postings(book_of(&[order.to_string()]).postings(&Rules::from_toml(RULES).unwrap(), None));
    let (invoice, reversal) = (of(&ps, EventKind::Invoice)[0], of(&ps, EventKind::CreditNote)[0]);
    assert_eq!(reversal.lines, ctvisma_core::mapper::partial::reversed(&invoice.lines));
}
