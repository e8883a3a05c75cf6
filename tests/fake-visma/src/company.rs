//! Read-only company data of the eAccounting side, rendered in the spec's shapes.

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::config::{seed_uuid, FakeConfig, TAG_CODING, TAG_FISCAL, TAG_TERMS, TAG_UNIT};

pub(crate) fn date_time(d: NaiveDate) -> String {
    format!("{}T00:00:00", d.format("%Y-%m-%d"))
}

pub(crate) struct FiscalYear {
    pub id: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

pub(crate) fn fiscal_years(cfg: &FakeConfig) -> Vec<FiscalYear> {
    cfg.fiscal_years
        .iter()
        .enumerate()
        .map(|(i, (start, end))| FiscalYear {
            id: seed_uuid(TAG_FISCAL, i as u32 + 1),
            start: *start,
            end: *end,
        })
        .collect()
}

pub(crate) fn fiscal_year_for(cfg: &FakeConfig, date: NaiveDate) -> Option<FiscalYear> {
    fiscal_years(cfg)
        .into_iter()
        .find(|fy| fy.start <= date && date <= fy.end)
}

pub(crate) fn fiscal_year_json(cfg: &FakeConfig, fy: &FiscalYear) -> Value {
    json!({
        "Id": fy.id,
        "StartDate": date_time(fy.start),
        "EndDate": date_time(fy.end),
        "IsLockedForAccounting": cfg.lock_date.is_some_and(|l| l >= fy.end),
        "BookkeepingMethod": 0,
    })
}

pub(crate) fn account_json(cfg: &FakeConfig, fy: &FiscalYear, number: u32) -> Option<Value> {
    let a = cfg.accounts.iter().find(|a| a.number == number)?;
    let vat = a
        .vat_code
        .as_deref()
        .and_then(|c| cfg.vat_codes.iter().find(|v| v.code == c));
    Some(json!({
        "Name": a.name,
        "Number": a.number.to_string(),
        "VatCodeId": vat.map(|v| v.id.clone()),
        "VatCodeDescription": vat.map(|v| format!("{} ({})", v.code, v.description)),
        "FiscalYearId": fy.id,
        "IsActive": true,
        "AllowTransactionText": true,
        "IsFirstCostCenterMandatory": false,
        "IsProjectAllowed": true,
        "IsCostCenterAllowed": true,
        "IsBlockedForManualBooking": false,
    }))
}

pub(crate) fn vat_codes_json(cfg: &FakeConfig) -> Vec<Value> {
    cfg.vat_codes
        .iter()
        .map(|v| {
            let acc = |i: usize| v.related_accounts.get(i).copied();
            json!({
                "Id": v.id,
                "Code": v.code,
                "Description": v.description,
                "VatRate": v.rate,
                "OssCodeType": 0,
                "RelatedAccounts": {
                    "AccountNumber1": acc(0),
                    "AccountNumber2": acc(1),
                    "AccountNumber3": acc(2),
                },
            })
        })
        .collect()
}

pub(crate) fn units_json() -> Vec<Value> {
    [
        (1, "Styck", "st", "pcs"),
        (2, "Timme", "h", "h"),
        (3, "Kilogram", "kg", "kg"),
    ]
    .iter()
    .map(|(n, name, abbr, en)| {
        json!({
            "Id": seed_uuid(TAG_UNIT, *n),
            "Name": name,
            "Code": abbr,
            "Abbreviation": abbr,
            "AbbreviationEnglish": en,
        })
    })
    .collect()
}

pub(crate) fn terms_json() -> Vec<Value> {
    [
        (1, "30 dagar netto", "30 days net", 30),
        (2, "10 dagar netto", "10 days net", 10),
        (3, "Kontant", "Cash", 0),
    ]
    .iter()
    .map(|(n, name, en, days)| {
        json!({
            "Id": seed_uuid(TAG_TERMS, *n),
            "Name": name,
            "NameEnglish": en,
            "NumberOfDays": days,
            "TermsOfPaymentTypeId": 0,
            "TermsOfPaymentTypeText": "Normal",
            "AvailableForSales": true,
            "AvailableForPurchase": true,
        })
    })
    .collect()
}

pub(crate) fn terms_days(id: &str) -> Option<i64> {
    terms_json()
        .into_iter()
        .find(|t| t["Id"] == id)
        .and_then(|t| t["NumberOfDays"].as_i64())
}

/// (n, name, english, type, vat code, rate, domestic, eu vat, eu exempt, outside eu)
type CodingRow = (
    u32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    u32,
    u32,
    u32,
    u32,
);

/// Article account codings: which sales accounts and VAT rate an article uses.
pub(crate) fn codings_json() -> Vec<Value> {
    let rows: [CodingRow; 6] = [
        (
            1,
            "Varor 25 %",
            "Goods 25 %",
            "Goods",
            "MP1",
            0.25,
            3001,
            3106,
            3108,
            3105,
        ),
        (
            2,
            "Varor 12 %",
            "Goods 12 %",
            "Goods",
            "MP2",
            0.12,
            3002,
            3106,
            3108,
            3105,
        ),
        (
            3,
            "Varor 6 %",
            "Goods 6 %",
            "Goods",
            "MP3",
            0.06,
            3003,
            3106,
            3108,
            3105,
        ),
        (
            4,
            "Tjänster 25 %",
            "Services 25 %",
            "Service",
            "MP1",
            0.25,
            3041,
            3106,
            3108,
            3105,
        ),
        (
            5,
            "Momsfri försäljning",
            "VAT exempt sales",
            "Goods",
            "MF",
            0.0,
            3004,
            3108,
            3108,
            3105,
        ),
        (
            6,
            "Frakt 25 %",
            "Freight 25 %",
            "Service",
            "MP1",
            0.25,
            3520,
            3521,
            3521,
            3105,
        ),
    ];
    rows.iter()
        .map(|(n, name, en, kind, code, rate, dom, eu_vat, eu_free, non_eu)| {
            json!({
                "Id": seed_uuid(TAG_CODING, *n),
                "Name": name,
                "NameEnglish": en,
                "Type": kind,
                "VatRate": code,
                "IsActive": true,
                "VatRatePercent": rate,
                "DomesticSalesSubjectToReversedConstructionVatAccountNumber": null,
                "DomesticSalesSubjectToVatAccountNumber": dom,
                "DomesticSalesVatExemptAccountNumber": 3004,
                "ForeignSalesSubjectToMossAccountNumber": null,
                "ForeignSalesSubjectToThirdPartySalesAccountNumber": non_eu,
                "ForeignSalesSubjectToVatWithinEuAccountNumber": eu_vat,
                "ForeignSalesVatExemptOutsideEuAccountNumber": non_eu,
                "ForeignSalesVatExemptWithinEuAccountNumber": eu_free,
                "DomesticSalesVatCodeExemptAccountNumber": 3004,
                "ChangedUtc": "2020-01-01T00:00:00Z",
            })
        })
        .collect()
}

pub(crate) fn company_settings_json(cfg: &FakeConfig, next_customer: i64, next_invoice: i64) -> Value {
    let mut v = json!({
        "Name": cfg.company_name,
        "Email": "ekonomi@example.se",
        "Address1": "Storgatan 1",
        "CountryCode": "SE",
        "PostalCode": "11122",
        "City": "Stockholm",
        "CurrencyCode": "SEK",
        "TermsOfPaymentId": seed_uuid(TAG_TERMS, 1),
        "CorporateIdentityNumber": "556677-8899",
        "VatCode": "SE556677889901",
        "AccountNumberDigits": 4,
        "AccountingLockInterval": 0,
        "TypeOfBusiness": 1,
        "VatPeriod": 3,
        "NextCustomerNumber": next_customer,
        "NextCustomerInvoiceNumber": next_invoice,
    });
    if let Some(lock) = cfg.lock_date {
        v["AccountingLockedTo"] = json!(date_time(lock));
    }
    v
}
