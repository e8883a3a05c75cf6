//! `ctvisma check-rules`: is the rules file good enough to post with? Offline: it parses, and
//! every entity has the accounts and VAT rules a posting can need. With `--against visma`: each
//! eAccounting entity's company has every account, VAT code and article coding the rules name
//! (`Eaccounting::connect` refuses with the full list), and, when CTP_* is set, every tax
//! category rate and shipping method of the commercetools project has a rule. Prints a readable
//! list; exit 0 when nothing is missing, 1 otherwise.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ctvisma_commercetools::{CtClient, CtConfig};
use ctvisma_core::rules::{DiscountPosting, Entity, Target};
use ctvisma_core::Rules;
use ctvisma_visma::eaccounting::{Eaccounting, EaccountingConfig};
use ctvisma_visma::http::{Http, HttpSettings};
use ctvisma_visma::token_store::FileTokenStore;
use ctvisma_visma::vismanet::VismanetConfig;
use ctvisma_visma::{Deadline, VismaError};
use rust_decimal::Decimal;

use crate::{exit, CheckRulesArgs};

pub fn run(args: &CheckRulesArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "tokio runtime: {e}");
            return exit::SETUP;
        }
    };
    runtime.block_on(check(args, out))
}

/// One section of the report: a heading and its problems (empty: all good) and notes.
struct Section {
    heading: String,
    problems: Vec<String>,
    notes: Vec<String>,
}

impl Section {
    fn new(heading: impl Into<String>) -> Self {
        Self {
            heading: heading.into(),
            problems: Vec::new(),
            notes: Vec::new(),
        }
    }
}

async fn check(args: &CheckRulesArgs, out: &mut dyn Write) -> i32 {
    let mut sections = Vec::new();
    let rules = match load(&args.rules) {
        Ok(r) => r,
        Err(problems) => {
            let mut s = Section::new(format!("rules file {}: not usable", args.rules.display()));
            s.problems = problems;
            sections.push(s);
            return print(out, &sections);
        }
    };
    let mut head = Section::new(format!(
        "rules file {}: {} entities ({})",
        args.rules.display(),
        rules.entities.len(),
        rules.entities.keys().cloned().collect::<Vec<_>>().join(", ")
    ));
    head.problems = routing_problems(&rules);
    sections.push(head);
    for (id, entity) in &rules.entities {
        let target = target_name(entity.target);
        let mut s = Section::new(format!("entity {id} ({}, target {target})", entity.name));
        s.problems = entity_problems(id, entity);
        if args.against.is_some() {
            visma_check(id, entity, &args.out, &mut s).await;
        }
        sections.push(s);
    }
    if args.against.is_some() {
        sections.push(commercetools_check(&rules, args.ct_url.as_deref()).await);
    }
    print(out, &sections)
}

fn print(out: &mut dyn Write, sections: &[Section]) -> i32 {
    let mut total = 0;
    for s in sections {
        let verdict = if s.problems.is_empty() {
            "ok".to_string()
        } else {
            format!("{} missing", s.problems.len())
        };
        let _ = writeln!(out, "{}: {verdict}", s.heading);
        for p in &s.problems {
            let _ = writeln!(out, "  - {p}");
        }
        for n in &s.notes {
            let _ = writeln!(out, "  · {n}");
        }
        total += s.problems.len();
    }
    if total == 0 {
        let _ = writeln!(out, "nothing missing");
        exit::OK
    } else {
        let _ = writeln!(out, "{total} problem(s): fix them before posting");
        exit::REFUSED
    }
}

fn target_name(target: Target) -> &'static str {
    match target {
        Target::Sie => "sie",
        Target::Eaccounting => "eaccounting",
        Target::Vismanet => "vismanet",
    }
}

/// The rules, or every reason they cannot be used (syntax, inconsistencies, the rate table).
fn load(path: &Path) -> Result<Rules, Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
    let rules = Rules::from_toml(&text).map_err(|e| match e {
        ctvisma_core::rules::RulesError::Inconsistent(problems) => problems,
        other => vec![other.to_string()],
    })?;
    if let Some(name) = &rules.fx.rates {
        let file = path.parent().unwrap_or(Path::new(".")).join(name);
        let table = std::fs::read_to_string(&file).map_err(|e| e.to_string()).and_then(|t| {
            ctvisma_core::rates::RateTable::from_ecb_csv(&t)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        if let Err(e) = table {
            return Err(vec![format!("fx.rates {}: {e}", file.display())]);
        }
    }
    Ok(rules)
}

/// Every currency a route names must belong to an entity that can post it.
fn routing_problems(rules: &Rules) -> Vec<String> {
    let mut problems = Vec::new();
    if rules.entities.is_empty() {
        problems.push("no entities: add at least one [entities.<ID>]".into());
    }
    for (level, key, entity) in rules.routing.routes() {
        if level == "by_currency" && !is_currency(key) {
            problems.push(format!("routing.by_currency.{key}: not an ISO 4217 currency code"));
        }
        if level == "by_country" && !is_country(key) {
            problems.push(format!("routing.by_country.{key}: not an ISO 3166 country code"));
        }
        let _ = entity;
    }
    problems
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase())
}

fn is_country(s: &str) -> bool {
    s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())
}

/// What a posting of this entity can need and the rules do not give.
pub(crate) fn entity_problems(id: &str, e: &Entity) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |path: &str, value: Option<&ctvisma_core::rules::AccountCode>, why: &str| match value {
        None => problems.push(format!("entities.{id}.{path} is missing ({why})")),
        Some(a) if a.0.trim().is_empty() => problems.push(format!("entities.{id}.{path} is empty ({why})")),
        Some(_) => {}
    };
    let a = &e.accounts;
    need(
        "accounts.receivable",
        a.receivable.as_ref(),
        "every invoice and payment",
    );
    need(
        "accounts.revenue",
        a.revenue.as_ref(),
        "lines no other revenue rule matches",
    );
    need(
        "accounts.shipping",
        a.shipping.as_ref(),
        "shipping without a by_method rule",
    );
    need("accounts.rounding", a.rounding.as_ref(), "rounding differences");
    if e.discounts == DiscountPosting::Separate {
        need("accounts.discount", a.discount.as_ref(), "discounts = \"separate\"");
    }
    let g = &e.gift_cards;
    if !g.skus.is_empty()
        || !g.product_types.is_empty()
        || !g.custom_line_item_slugs.is_empty()
        || !e.payments.gift_card_methods.is_empty()
    {
        need(
            "accounts.gift_card",
            a.gift_card.as_ref(),
            "gift cards sold or paid with",
        );
    }
    need("payments.clearing", e.payments.clearing.as_ref(), "payments of any PSP");
    need(
        "payments.goodwill",
        e.payments.goodwill.as_ref(),
        "refunds without a return",
    );
    if e.payouts.interface.is_some() {
        need("payouts.bank", e.payouts.bank.as_ref(), "payouts.interface is set");
        need("payouts.fees", e.payouts.fees.as_ref(), "payouts.interface is set");
    }
    if !is_currency(&e.base_currency) {
        problems.push(format!(
            "entities.{id}.base_currency {:?} is not an ISO 4217 currency code",
            e.base_currency
        ));
    }
    if !is_country(&e.country) {
        problems.push(format!(
            "entities.{id}.country {:?} is not an ISO 3166 country code",
            e.country
        ));
    }
    if e.vat.is_empty() {
        problems.push(format!("entities.{id}.vat: no VAT rules at all"));
    } else if !e.vat.iter().any(|v| v.country == e.country) {
        problems.push(format!("entities.{id}.vat: no rule for the home country {}", e.country));
    }
    let mut seen = BTreeSet::new();
    for (i, v) in e.vat.iter().enumerate() {
        let at = format!("entities.{id}.vat[{i}] (country {}, rate {})", v.country, v.rate);
        if v.code.trim().is_empty() {
            problems.push(format!("{at}: code is empty"));
        }
        let rate = v.rate();
        if rate.is_some_and(|r| !r.is_zero()) && v.account.as_ref().is_none_or(|a| a.0.trim().is_empty()) {
            problems.push(format!("{at}: account is missing (needed for a non-zero VAT line)"));
        }
        if !seen.insert((v.country.clone(), rate)) {
            problems.push(format!("{at}: a second rule for the same country and rate"));
        }
    }
    problems
}

/// Checks the entity's Visma company (eAccounting), or says why it is not checked.
async fn visma_check(id: &str, entity: &Entity, out: &Path, s: &mut Section) {
    match entity.target {
        Target::Sie => s
            .notes
            .push("SIE file: nothing to connect to (the importing ledger checks accounts)".into()),
        Target::Vismanet => match VismanetConfig::from_env() {
            Ok(_) => s.notes.push(
                "Visma.net: accounts and VAT codes not checked (the connector has no lookup); credentials are set"
                    .into(),
            ),
            Err(e) => s.problems.push(format!("Visma.net credentials: {e}")),
        },
        Target::Eaccounting => {
            let config = match EaccountingConfig::from_env() {
                Ok(c) => c,
                Err(e) => return s.problems.push(format!("eAccounting credentials: {e}")),
            };
            let http = match Http::new(HttpSettings::default()) {
                Ok(h) => h,
                Err(e) => return s.problems.push(format!("HTTP client: {e}")),
            };
            let store = FileTokenStore {
                path: out.join(format!(".eaccounting-{id}.token")),
            };
            let connected = Eaccounting::connect(
                http,
                &config,
                Arc::new(store),
                id,
                entity,
                Deadline::in_(Duration::from_secs(60)),
            )
            .await;
            match connected {
                Ok(ea) => s.notes.push(format!(
                    "eAccounting company: every account, VAT code and coding the rules name exists{}",
                    ea.company
                        .locked_to
                        .map(|d| format!(" (bookkeeping locked to {d})"))
                        .unwrap_or_default()
                )),
                Err(VismaError::Setup { missing, .. }) => s
                    .problems
                    .extend(missing.into_iter().map(|m| format!("eAccounting: {m}"))),
                Err(e) => s
                    .problems
                    .push(format!("eAccounting: could not check the company: {e}")),
            }
        }
    }
}

/// Tax category rates without a VAT rule and shipping methods without a shipping rule.
async fn commercetools_check(rules: &Rules, ct_url: Option<&str>) -> Section {
    let config = match CtConfig::from_env() {
        Ok(Some(mut c)) => {
            if let Some(url) = ct_url {
                c.api_url = url.trim_end_matches('/').to_string();
                c.auth_url = c.api_url.clone();
            }
            c
        }
        Ok(None) => {
            let mut s = Section::new("commercetools: not checked");
            s.notes.push("set CTP_PROJECT_KEY, CTP_CLIENT_ID, CTP_CLIENT_SECRET (and CTP_API_URL, CTP_AUTH_URL) to check tax categories and shipping methods".into());
            return s;
        }
        Err(e) => {
            let mut s = Section::new("commercetools");
            s.problems.push(format!("CTP_* variables: {e}"));
            return s;
        }
    };
    let mut s = Section::new(format!("commercetools project {}", config.project_key));
    let http = match Http::new(HttpSettings::default()) {
        Ok(h) => h,
        Err(e) => {
            s.problems.push(format!("HTTP client: {e}"));
            return s;
        }
    };
    let client = CtClient::new(config, http);
    let (categories, methods) = match (client.tax_categories().await, client.shipping_methods().await) {
        (Ok(c), Ok(m)) => (c, m),
        (Err(e), _) | (_, Err(e)) => {
            s.problems.push(format!("could not read the project: {e}"));
            return s;
        }
    };
    s.heading = format!(
        "{}: {} tax categories, {} shipping methods",
        s.heading,
        categories.len(),
        methods.len()
    );
    for c in &categories {
        let name = label(&c.name, c.key.as_deref(), &c.id);
        for r in &c.rates {
            let Some(rate) = Decimal::from_str(&r.amount.to_string())
                .ok()
                .map(|a| (a * Decimal::ONE_HUNDRED).normalize())
            else {
                s.problems.push(format!(
                    "tax category {name}: rate {:?} amount {} is not a number",
                    r.name, r.amount
                ));
                continue;
            };
            let candidates: Vec<(&String, &Entity)> = match rules.routing.by_country.get(&r.country) {
                Some(e) => rules.entities.get_key_value(e).into_iter().collect(),
                None => rules.entities.iter().collect(),
            };
            if !candidates.iter().any(|(_, e)| e.vat_rule(&r.country, rate).is_some()) {
                let who = candidates
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                s.problems.push(format!(
                    "tax category {name}: {} {rate} % has no VAT rule (entities.{who}.vat: country {} or EU/non-EU/foreign, rate \"{rate}\")",
                    r.country, r.country
                ));
            }
        }
    }
    for m in &methods {
        let names: Vec<&str> = [Some(m.id.as_str()), m.key.as_deref(), Some(m.name.as_str())]
            .into_iter()
            .flatten()
            .filter(|n| !n.is_empty())
            .collect();
        let mapped = rules
            .entities
            .values()
            .any(|e| names.iter().any(|n| e.shipping.by_method.contains_key(*n)));
        if !mapped {
            s.problems.push(format!(
                "shipping method {}: no shipping.by_method rule for its key, id or name in any entity (it would post to accounts.shipping)",
                label(&m.name, m.key.as_deref(), &m.id)
            ));
        }
    }
    s
}

fn label(name: &str, key: Option<&str>, id: &str) -> String {
    match key {
        Some(k) => format!("{name:?} (key {k}, id {id})"),
        None => format!("{name:?} (id {id})"),
    }
}
