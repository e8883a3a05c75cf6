//! The fake company: credentials, chart of accounts, VAT codes, fiscal years, lock date.

use std::time::Duration;

use chrono::NaiveDate;

/// One account of the company's chart (`GET /v2/accounts`).
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Account number (BAS number in Sweden).
    pub number: u32,
    /// Account name.
    pub name: String,
    /// `Code` of the VAT code bound to the account (`MP1`, ...), if any.
    pub vat_code: Option<String>,
}

impl Account {
    /// Convenience constructor.
    pub fn new(number: u32, name: &str, vat_code: Option<&str>) -> Self {
        Self {
            number,
            name: name.to_string(),
            vat_code: vat_code.map(str::to_string),
        }
    }
}

/// One VAT code (`GET /v2/vatcodes`, schema `VatCodeApi`).
#[derive(Clone, Debug, PartialEq)]
pub struct VatCode {
    /// `Id` (uuid).
    pub id: String,
    /// `Code`, e.g. `MP1`.
    pub code: String,
    /// `Description`.
    pub description: String,
    /// `VatRate` as a fraction (0.25 = 25 %).
    pub rate: f64,
    /// `RelatedAccounts.AccountNumber1..3`.
    pub related_accounts: Vec<u32>,
}

/// Everything about the fake that a test may want to change. `FakeConfig::default()` is a
/// Swedish aktiebolag with BAS accounts, Swedish VAT codes, calendar fiscal years 2020–2030
/// and no accounting lock.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// eAccounting OAuth client id (checked on `/connect/token`).
    pub client_id: String,
    /// eAccounting OAuth client secret.
    pub client_secret: String,
    /// The refresh token that is valid when the fake starts.
    pub initial_refresh_token: String,
    /// Lifetime of eAccounting access tokens (real: 1 hour).
    pub access_token_lifetime: Duration,
    /// Visma.net (Visma Connect) client id.
    pub vismanet_client_id: String,
    /// Visma.net client secret.
    pub vismanet_client_secret: String,
    /// Visma.net tenant id (the company).
    pub vismanet_tenant_id: String,
    /// Lifetime of Visma.net access tokens (real: 1 hour).
    pub vismanet_token_lifetime: Duration,
    /// Visma.net requests allowed per fixed one-hour window (`X-RateLimit-Limit`).
    pub vismanet_hourly_limit: u32,
    /// eAccounting per-endpoint-URL limit per minute (real: 600); `None` disables it.
    pub eaccounting_per_minute_limit: Option<u32>,
    /// Reject properties a Visma.net DTO does not list (the live API silently ignores them;
    /// rejecting catches typos such as `acountNumber`). Default true.
    pub vismanet_reject_unknown_fields: bool,
    /// Company name (`CompanySettingsApi.Name`).
    pub company_name: String,
    /// Chart of accounts, shared by both APIs.
    pub accounts: Vec<Account>,
    /// eAccounting VAT codes.
    pub vat_codes: Vec<VatCode>,
    /// Bookkeeping is locked up to and including this date (`AccountingLockedTo`).
    pub lock_date: Option<NaiveDate>,
    /// Fiscal years as (start, end), inclusive.
    pub fiscal_years: Vec<(NaiveDate, NaiveDate)>,
    /// Visma.net customers that exist from the start: (number, name).
    pub vismanet_customers: Vec<(String, String)>,
    /// First eAccounting customer invoice number.
    pub first_invoice_number: i64,
}

/// Deterministic uuid for seeded entities: `tag` picks the kind, `n` the item.
pub(crate) fn seed_uuid(tag: u32, n: u32) -> String {
    format!("{tag:08x}-0000-4000-8000-{n:012x}")
}

pub(crate) const TAG_VAT: u32 = 0x0000_7a70;
pub(crate) const TAG_FISCAL: u32 = 0x0000_f15c;
pub(crate) const TAG_UNIT: u32 = 0x0000_0417;
pub(crate) const TAG_TERMS: u32 = 0x0000_7e53;
pub(crate) const TAG_CODING: u32 = 0x0000_c0d1;

impl Default for FakeConfig {
    fn default() -> Self {
        let vat = |n: u32, code: &str, desc: &str, rate: f64, accounts: &[u32]| VatCode {
            id: seed_uuid(TAG_VAT, n),
            code: code.to_string(),
            description: desc.to_string(),
            rate,
            related_accounts: accounts.to_vec(),
        };
        let a = Account::new;
        Self {
            client_id: "fake-client".into(),
            client_secret: "fake-secret".into(),
            initial_refresh_token: "initial-refresh-token".into(),
            access_token_lifetime: Duration::from_secs(3600),
            vismanet_client_id: "fake-vismanet-client".into(),
            vismanet_client_secret: "fake-vismanet-secret".into(),
            vismanet_tenant_id: "fake-tenant".into(),
            vismanet_token_lifetime: Duration::from_secs(3600),
            vismanet_hourly_limit: 15_000,
            eaccounting_per_minute_limit: None,
            vismanet_reject_unknown_fields: true,
            company_name: "Fake Webshop AB".into(),
            accounts: vec![
                a(1510, "Kundfordringar", None),
                a(1580, "Fordringar för kontokort och kuponger", None),
                a(1581, "Fordran kortinlösare 1", None),
                a(1582, "Fordran kortinlösare 2", None),
                a(1583, "Fordran kortinlösare 3", None),
                a(1910, "Kassa", None),
                a(1930, "Företagskonto/checkkonto", None),
                a(2421, "Ej inlösta presentkort", None),
                a(2440, "Leverantörsskulder", None),
                a(2611, "Utgående moms på försäljning inom Sverige, 25 %", None),
                a(2621, "Utgående moms på försäljning inom Sverige, 12 %", None),
                a(2631, "Utgående moms på försäljning inom Sverige, 6 %", None),
                a(2640, "Ingående moms", None),
                a(2650, "Redovisningskonto för moms", None),
                a(2890, "Övriga kortfristiga skulder", None),
                a(3001, "Försäljning inom Sverige, 25 % moms", Some("MP1")),
                a(3002, "Försäljning inom Sverige, 12 % moms", Some("MP2")),
                a(3003, "Försäljning inom Sverige, 6 % moms", Some("MP3")),
                a(3004, "Försäljning inom Sverige, momsfri", Some("MF")),
                a(3041, "Försäljning tjänst inom Sverige, 25 % moms", Some("MP1")),
                a(3105, "Försäljning varor till land utanför EU", Some("EXP")),
                a(3106, "Försäljning varor till annat EU-land, momspliktig", Some("MP1")),
                a(3108, "Försäljning varor till annat EU-land, momsfri", Some("VEU")),
                a(3520, "Fakturerade frakter", Some("MP1")),
                a(3521, "Fakturerade frakter, EU-land", Some("VEU")),
                a(3730, "Lämnade rabatter", None),
                a(3740, "Öres- och kronutjämning", None),
                a(3790, "Övriga intäktskorrigeringar", None),
                a(
                    3960,
                    "Valutakursvinster på fordringar och skulder av rörelsekaraktär",
                    None,
                ),
                a(6064, "Factoringavgifter", None),
                a(6570, "Bankkostnader", None),
                a(
                    7960,
                    "Valutakursförluster på fordringar och skulder av rörelsekaraktär",
                    None,
                ),
            ],
            vat_codes: vec![
                vat(1, "MP1", "Utgående moms 25 %", 0.25, &[2611]),
                vat(2, "MP2", "Utgående moms 12 %", 0.12, &[2621]),
                vat(3, "MP3", "Utgående moms 6 %", 0.06, &[2631]),
                vat(4, "MF", "Momsfri försäljning", 0.0, &[]),
                vat(5, "VEU", "Försäljning av varor till annat EU-land", 0.0, &[]),
                vat(6, "EXP", "Export av varor utanför EU", 0.0, &[]),
                vat(7, "I", "Ingående moms 25 %", 0.25, &[2640]),
            ],
            lock_date: None,
            fiscal_years: (2020..=2030)
                .filter_map(|y| Some((NaiveDate::from_ymd_opt(y, 1, 1)?, NaiveDate::from_ymd_opt(y, 12, 31)?)))
                .collect(),
            vismanet_customers: vec![("10000".into(), "Webshop customers".into())],
            first_invoice_number: 1001,
        }
    }
}
