//! Rules for money movements: when an order is invoiced, which clearing account a payment method
//! posts to, where goodwill refunds go, how returns are credited, and where payouts land.
//!
//! Clearing account of a payment: `by_method."<interface>/<method>"`, then `by_interface."<interface>"`,
//! then `clearing`. Interface and method are compared case-insensitively with `_`, `-`, `.` and
//! spaces ignored, and common aliases folded (card = creditcard = scheme = visa = mastercard …), so
//! `"Adyen/credit_card"` in the rules matches a payment with interface `ADYEN` and method `scheme`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::AccountCode;

/// When an order's invoice is posted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceTrigger {
    /// On OrderCreated / OrderImported (default).
    #[default]
    Order,
    /// Per delivery (DeliveryAdded), for what that delivery holds; or the whole order when it is
    /// marked Shipped without deliveries.
    Shipment,
    /// On the first successful capture, dated by it.
    Capture,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRules {
    /// Keyed by `"<paymentInterface>/<method>"`.
    #[serde(default)]
    pub by_method: BTreeMap<String, AccountCode>,
    /// Keyed by paymentInterface: the fallback for its methods.
    #[serde(default)]
    pub by_interface: BTreeMap<String, AccountCode>,
    /// The entity's default clearing account.
    pub clearing: Option<AccountCode>,
    /// Refunds beyond what credit notes credited (goodwill) are charged here instead of the receivable.
    pub goodwill: Option<AccountCode>,
    /// Methods that are gift cards: paying with one debits the gift-card liability.
    #[serde(default = "default_gift_card_methods")]
    pub gift_card_methods: Vec<String>,
}

fn default_gift_card_methods() -> Vec<String> {
    vec!["giftcard".into()]
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRules {
    /// Credit the shipping too, on the credit note that completes the return of every line.
    #[serde(default)]
    pub credit_shipping: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutRules {
    /// The payment interface whose clearing accounts the settlement lines empty ("adyen").
    pub interface: Option<String>,
    /// Where the PSP pays out to.
    pub bank: Option<AccountCode>,
    /// PSP fees (commission, markup, scheme fees, interchange).
    pub fees: Option<AccountCode>,
    /// The PSP balance account, when the books follow it: settlement lines post their net there
    /// and the batch's MerchantPayout line moves it to `bank` in the one amount the bank statement
    /// shows. Without it, each line's net posts straight to `bank` and MerchantPayout posts nothing.
    pub balance: Option<AccountCode>,
}

/// Where a payment's money sits until the PSP pays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearing {
    pub account: Option<AccountCode>,
    /// The rule that chose it, or the one to add when none did.
    pub rule: String,
    pub gift_card: bool,
}

impl PaymentRules {
    pub fn clearing(&self, entity_id: &str, interface: Option<&str>, method: Option<&str>) -> Clearing {
        let (iface, meth) = (interface.map(normalize), method.map(normalize));
        let path = |rest: String| format!("entities.{entity_id}.payments.{rest}");
        if let Some(m) = &meth {
            if self.gift_card_methods.iter().any(|g| normalize(g) == *m) {
                return Clearing {
                    account: None,
                    rule: format!("entities.{entity_id}.accounts.gift_card"),
                    gift_card: true,
                };
            }
        }
        let by_method = self.by_method.iter().find(|(k, _)| {
            let (ki, km) = k.split_once('/').unwrap_or((k.as_str(), ""));
            Some(normalize(ki)) == iface && Some(normalize(km)) == meth
        });
        if let Some((k, a)) = by_method {
            return found(a, path(format!("by_method.{k:?}")));
        }
        let by_interface = self.by_interface.iter().find(|(k, _)| Some(normalize(k)) == iface);
        if let Some((k, a)) = by_interface {
            return found(a, path(format!("by_interface.{k:?}")));
        }
        Clearing {
            account: self.clearing.clone(),
            rule: path(format!(
                "by_method.\"{}/{}\" / by_interface / clearing",
                interface.unwrap_or("-"),
                method.unwrap_or("-")
            )),
            gift_card: false,
        }
    }
}

fn found(account: &AccountCode, rule: String) -> Clearing {
    Clearing {
        account: Some(account.clone()),
        rule,
        gift_card: false,
    }
}

/// Lower case, without separators, aliases folded to one name.
pub fn normalize(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    let alias = match n.as_str() {
        "card" | "creditcard" | "debitcard" | "scheme" | "cards" | "visa" | "mastercard" | "mc" | "amex"
        | "americanexpress" | "maestro" | "cartebancaire" => "card",
        "giftcard" | "gift" | "voucher" | "giftvoucher" | "storecredit" => "giftcard",
        "banktransfer" | "bank" | "wiretransfer" | "sepatransfer" => "banktransfer",
        "invoice" | "paylater" | "bnpl" | "klarnapaylater" | "klarnainvoice" => "invoice",
        "mobilepay" | "vipps" | "vippsmobilepay" => {
            if n == "vipps" {
                "vipps"
            } else {
                "mobilepay"
            }
        }
        _ => return n,
    };
    alias.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PaymentRules {
        toml::from_str(
            r#"
            clearing = "1580"
            goodwill = "3731"
            by_interface = { adyen = "1581" }
            by_method = { "Adyen/credit_card" = "1582", "swish/swish" = "1583", "klarna/pay-later" = "1584" }
            "#,
        )
        .unwrap()
    }

    #[test]
    fn method_then_interface_then_default() {
        let r = rules();
        assert_eq!(
            r.clearing("SE", Some("ADYEN"), Some("scheme")).account.unwrap().0,
            "1582"
        );
        assert_eq!(r.clearing("SE", Some("adyen"), Some("Visa")).account.unwrap().0, "1582");
        assert_eq!(
            r.clearing("SE", Some("adyen"), Some("ideal")).account.unwrap().0,
            "1581"
        );
        assert_eq!(
            r.clearing("SE", Some("Swish"), Some("SWISH")).account.unwrap().0,
            "1583"
        );
        assert_eq!(
            r.clearing("SE", Some("klarna"), Some("invoice")).account.unwrap().0,
            "1584"
        );
        let d = r.clearing("SE", Some("stripe"), Some("card"));
        assert_eq!(d.account.unwrap().0, "1580");
        assert!(d.rule.contains("stripe/card"), "{}", d.rule);
    }

    #[test]
    fn gift_card_methods_use_the_liability() {
        let c = rules().clearing("SE", Some("adyen"), Some("Gift_Card"));
        assert!(c.gift_card);
        assert_eq!(c.rule, "entities.SE.accounts.gift_card");
    }

    #[test]
    fn normalize_folds_separators_case_and_aliases() {
        assert_eq!(normalize("Credit-Card"), "card");
        assert_eq!(normalize("MobilePay"), "mobilepay");
        assert_eq!(normalize("Vipps"), "vipps");
        assert_eq!(normalize("Bank Transfer"), "banktransfer");
        assert_eq!(normalize("PayPal"), "paypal");
    }
}
