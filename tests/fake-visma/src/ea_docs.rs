//! eAccounting writes: vouchers, customers, articles, invoice drafts, invoices.
//! Bodies arrive already schema-validated; this adds the business rules and read-only fields.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::company::{self, date_time};
use crate::config::{seed_uuid, TAG_TERMS};
use crate::eaccounting::{bad, bad_request, conform, flag, locked_period, not_found, str_of, Ctx, Issue, Reply};
use crate::spec::parse_date_prefix;
use crate::store::{json, new_uuid, round2, DocKind};

fn created(v: &Value) -> Reply {
    Ok(json(StatusCode::CREATED, v))
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap_or(0.0) * 100.0).round() as i64
}

fn date_of(ctx: &Ctx, v: &Value, key: &str) -> Result<NaiveDate, axum::response::Response> {
    match str_of(v, key) {
        None => Ok(ctx.inner.today(ctx.shared)),
        Some(s) => parse_date_prefix(s).ok_or_else(|| bad(2000, key, &format!("'{s}' is not a valid date"))),
    }
}

fn check_lock(ctx: &Ctx, date: NaiveDate, what: &str) -> Result<(), axum::response::Response> {
    let cfg = &ctx.shared.config;
    let fy_locked = company::fiscal_year_for(cfg, date).is_some_and(|fy| cfg.lock_date.is_some_and(|l| l >= fy.end));
    match cfg.lock_date {
        Some(lock) if date <= lock || fy_locked => Err(locked_period(&format!(
            "The {what} date {date} is in a locked bookkeeping period (accounting is locked to {lock})."
        ))),
        _ => Ok(()),
    }
}

fn find_idx(ctx: &Ctx, kind: DocKind, id: &str) -> Option<usize> {
    ctx.inner
        .docs(kind)
        .iter()
        .position(|d| d["Id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
}

fn find(ctx: &Ctx, kind: DocKind, id: &str) -> Option<Value> {
    find_idx(ctx, kind, id).map(|i| ctx.inner.docs(kind)[i].clone())
}

// ---------------------------------------------------------------- vouchers

pub(crate) fn post_voucher(ctx: &mut Ctx, mut v: Value) -> Reply {
    let cfg = &ctx.shared.config;
    let date = date_of(ctx, &v, "VoucherDate")?;
    let fy = company::fiscal_year_for(cfg, date).ok_or_else(|| {
        bad(
            3001,
            "VoucherDate",
            &format!("There is no fiscal year for the date {date}."),
        )
    })?;
    check_lock(ctx, date, "voucher")?;
    let mut issues = Vec::new();
    let (mut debit, mut credit) = (0i64, 0i64);
    let mut rows = v["Rows"].as_array().cloned().unwrap_or_default();
    for (i, row) in rows.iter_mut().enumerate() {
        let number = row["AccountNumber"].as_u64().unwrap_or(0);
        match cfg.accounts.iter().find(|a| u64::from(a.number) == number) {
            Some(a) => row["AccountDescription"] = json!(a.name),
            None => issues.push(Issue::new(
                format!("Rows[{i}].AccountNumber"),
                3002,
                format!("Account {number} does not exist in the chart of accounts."),
            )),
        }
        if let Some(id) = row["VatCodeId"].as_str() {
            match cfg.vat_codes.iter().find(|c| c.id.eq_ignore_ascii_case(id)) {
                Some(c) => row["VatCodeAndPercent"] = json!(format!("{} ({}%)", c.code, round2(c.rate * 100.0))),
                None => issues.push(Issue::new(
                    format!("Rows[{i}].VatCodeId"),
                    3000,
                    format!("VAT code {id} does not exist."),
                )),
            }
        }
        debit += cents(&row["DebitAmount"]);
        credit += cents(&row["CreditAmount"]);
    }
    if !issues.is_empty() {
        return Err(bad_request(&issues[0].message.clone(), &issues));
    }
    if rows.is_empty() {
        return Err(bad(2000, "Rows", "A voucher needs at least one row."));
    }
    if debit != credit {
        let msg = format!(
            "The voucher is not balanced: debit {:.2} and credit {:.2} must be equal.",
            debit as f64 / 100.0,
            credit as f64 / 100.0
        );
        return Err(bad(4032, "Rows", &msg));
    }
    let series = match (flag(ctx.q, "useDefaultVoucherSeries", true), str_of(&v, "NumberSeries")) {
        (false, Some(s)) if !s.is_empty() => s.to_string(),
        _ => "A".to_string(),
    };
    let n = ctx.inner.next(&format!("voucher:{series}:{}", fy.id), 1);
    let now = ctx.inner.timestamp(ctx.shared);
    v["Id"] = json!(new_uuid());
    v["VoucherDate"] = json!(date_time(date));
    v["Rows"] = json!(rows);
    v["NumberAndNumberSeries"] = json!(format!("{series}{n}"));
    v["NumberSeries"] = json!(series);
    if v.get("VoucherType").is_none() {
        v["VoucherType"] = json!(2);
    }
    v["CreatedUtc"] = json!(now);
    v["ModifiedUtc"] = json!(now);
    ctx.inner.docs_mut(DocKind::Voucher).push(v.clone());
    created(&v)
}

// ---------------------------------------------------------------- customers

fn check_customer(ctx: &Ctx, v: &mut Value, own_id: Option<&str>) -> Result<(), axum::response::Response> {
    if let Some(t) = str_of(v, "TermsOfPaymentId") {
        if company::terms_days(&t.to_ascii_lowercase()).is_none() {
            return Err(bad(
                3000,
                "TermsOfPaymentId",
                &format!("Terms of payment {t} does not exist."),
            ));
        }
    }
    let taken = |n: &str| {
        ctx.inner
            .docs(DocKind::Customer)
            .iter()
            .any(|c| c["CustomerNumber"].as_str() == Some(n) && c["Id"].as_str() != own_id)
    };
    match str_of(v, "CustomerNumber") {
        Some(n) if !n.is_empty() => {
            if taken(n) {
                return Err(bad(
                    4000,
                    "CustomerNumber",
                    &format!("A customer with customer number {n} already exists."),
                ));
            }
        }
        _ => {
            if let Some(id) = own_id {
                if let Some(old) = find(ctx, DocKind::Customer, id) {
                    v["CustomerNumber"] = old["CustomerNumber"].clone();
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn post_customer(ctx: &mut Ctx, mut v: Value) -> Reply {
    check_customer(ctx, &mut v, None)?;
    if str_of(&v, "CustomerNumber").is_none_or(str::is_empty) {
        let number = loop {
            let n = ctx.inner.next("customer", 1).to_string();
            if !ctx
                .inner
                .docs(DocKind::Customer)
                .iter()
                .any(|c| c["CustomerNumber"].as_str() == Some(&n))
            {
                break n;
            }
        };
        v["CustomerNumber"] = json!(number);
    }
    v["Id"] = json!(new_uuid());
    v["ChangedUtc"] = json!(ctx.inner.timestamp(ctx.shared));
    ctx.inner.docs_mut(DocKind::Customer).push(v.clone());
    created(&v)
}

pub(crate) fn put_customer(ctx: &mut Ctx, id: &str, mut v: Value) -> Reply {
    let idx = find_idx(ctx, DocKind::Customer, id).ok_or_else(|| not_found(&format!("Customer {id}")))?;
    let own = ctx.inner.docs(DocKind::Customer)[idx]["Id"].clone();
    check_customer(ctx, &mut v, own.as_str())?;
    v["Id"] = own;
    v["ChangedUtc"] = json!(ctx.inner.timestamp(ctx.shared));
    ctx.inner.docs_mut(DocKind::Customer)[idx] = v.clone();
    Ok(json(StatusCode::OK, &v))
}

// ---------------------------------------------------------------- articles

fn check_article(ctx: &Ctx, v: &mut Value, own_id: Option<&str>) -> Result<(), axum::response::Response> {
    let number = str_of(v, "Number").unwrap_or_default().to_string();
    if ctx
        .inner
        .docs(DocKind::Article)
        .iter()
        .any(|a| a["Number"].as_str() == Some(&number) && a["Id"].as_str() != own_id)
    {
        return Err(bad(
            4000,
            "Number",
            &format!("An article with number {number} already exists."),
        ));
    }
    let coding_id = str_of(v, "CodingId").unwrap_or_default().to_ascii_lowercase();
    let coding = company::codings_json()
        .into_iter()
        .find(|c| c["Id"] == coding_id.as_str())
        .ok_or_else(|| {
            bad(
                3000,
                "CodingId",
                &format!("Article account coding {coding_id} does not exist."),
            )
        })?;
    let unit_id = str_of(v, "UnitId").unwrap_or_default().to_ascii_lowercase();
    let unit = company::units_json()
        .into_iter()
        .find(|u| u["Id"] == unit_id.as_str())
        .ok_or_else(|| bad(3000, "UnitId", &format!("Unit {unit_id} does not exist.")))?;
    v["CodingName"] = coding["Name"].clone();
    v["IsServiceArticle"] = json!(coding["Type"] == "Service");
    v["UnitName"] = unit["Name"].clone();
    v["UnitAbbreviation"] = unit["Abbreviation"].clone();
    Ok(())
}

/// The stock figures eAccounting derives: `StockBalance` as a number (default 0), nothing
/// reserved (the fake has no sales orders), `StockBalanceAvailable` = balance − reserved.
fn stock_figures(v: &mut Value) {
    let balance = v["StockBalance"].as_f64().unwrap_or(0.0);
    v["StockBalance"] = json!(balance);
    v["StockBalanceReserved"] = json!(0.0);
    v["StockBalanceAvailable"] = json!(balance);
}

pub(crate) fn post_article(ctx: &mut Ctx, mut v: Value) -> Reply {
    check_article(ctx, &mut v, None)?;
    stock_figures(&mut v);
    let now = ctx.inner.timestamp(ctx.shared);
    v["Id"] = json!(new_uuid());
    v["CreatedUtc"] = json!(now);
    v["ChangedUtc"] = json!(now);
    ctx.inner.docs_mut(DocKind::Article).push(v.clone());
    created(&v)
}

pub(crate) fn put_article(ctx: &mut Ctx, id: &str, mut v: Value) -> Reply {
    let idx = find_idx(ctx, DocKind::Article, id).ok_or_else(|| not_found(&format!("Article {id}")))?;
    let old = ctx.inner.docs(DocKind::Article)[idx].clone();
    check_article(ctx, &mut v, old["Id"].as_str())?;
    stock_figures(&mut v);
    v["Id"] = old["Id"].clone();
    v["CreatedUtc"] = old["CreatedUtc"].clone();
    v["ChangedUtc"] = json!(ctx.inner.timestamp(ctx.shared));
    ctx.inner.docs_mut(DocKind::Article)[idx] = v.clone();
    Ok(json(StatusCode::OK, &v))
}

// ---------------------------------------------------------------- invoices

/// Prices the rows of a draft (`draft`) or invoice, fills customer fields and totals.
/// Amounts exclude VAT per row; `TotalAmount` includes VAT. Credit invoices get negative
/// amounts whatever the sign of the rows.
fn price(ctx: &Ctx, doc: &mut Value, draft: bool) -> Result<(), axum::response::Response> {
    let (row_schema, doc_schema) = if draft {
        ("CustomerInvoiceDraftRowApi", "CustomerInvoiceDraftApi")
    } else {
        ("CustomerInvoiceRowApi", "CustomerInvoiceApi")
    };
    let customer_id = str_of(doc, "CustomerId").unwrap_or_default().to_string();
    let customer = find(ctx, DocKind::Customer, &customer_id)
        .ok_or_else(|| bad(3000, "CustomerId", &format!("Customer {customer_id} does not exist.")))?;
    let credit = doc["IsCreditInvoice"].as_bool().unwrap_or(false);
    // A credit invoice has the rows of an invoice (discounts negative); its totals turn negative.
    let sign = |x: f64| if credit { -x } else { x };
    let replace_zero = doc["ReplaceUnitPriceWhenZero"].as_bool().unwrap_or(false);
    let mut issues = Vec::new();
    let (mut total_ex, mut total_vat) = (0.0, 0.0);
    let mut rows = doc["Rows"].as_array().cloned().unwrap_or_default();
    for (i, row) in rows.iter_mut().enumerate() {
        row["Id"] = json!(new_uuid());
        row["LineNumber"] = json!(i);
        let article_id = row["ArticleId"].as_str().map(str::to_string);
        let is_text = if draft {
            row["IsTextRow"].as_bool().unwrap_or(false)
        } else {
            article_id.is_none()
        };
        row["IsTextRow"] = json!(is_text);
        if is_text {
            row["VatRate"] = Value::Null;
            conform(row, row_schema);
            continue;
        }
        let Some(article_id) = article_id else {
            issues.push(Issue::new(
                format!("Rows[{i}].ArticleId"),
                2000,
                "ArticleId is required when IsTextRow is false.",
            ));
            continue;
        };
        let Some(article) = find(ctx, DocKind::Article, &article_id) else {
            issues.push(Issue::new(
                format!("Rows[{i}].ArticleId"),
                3000,
                format!("Article {article_id} does not exist."),
            ));
            continue;
        };
        let coding = company::codings_json()
            .into_iter()
            .find(|c| Some(c["Id"].as_str().unwrap_or_default()) == article["CodingId"].as_str());
        let rate = coding
            .as_ref()
            .and_then(|c| c["VatRatePercent"].as_f64())
            .unwrap_or(0.25);
        let qty = row["Quantity"].as_f64().unwrap_or(0.0);
        let mut unit_price = row["UnitPrice"].as_f64().unwrap_or(0.0);
        if unit_price == 0.0 && replace_zero {
            unit_price = article["NetPrice"].as_f64().unwrap_or(0.0);
        }
        let discount = row["DiscountPercentage"].as_f64().unwrap_or(0.0);
        let amount = sign(round2(qty * unit_price * (1.0 - discount)));
        let vat = sign(round2(amount.abs() * rate));
        total_ex += amount;
        total_vat += vat;
        row["UnitPrice"] = json!(unit_price);
        row["Amount"] = json!(amount);
        row["AmountNoVat"] = json!(amount);
        row["VatRate"] = json!(rate);
        row["PercentVat"] = json!(rate);
        row["VatRateId"] = coding.map_or(Value::Null, |c| c["VatRate"].clone());
        row["ArticleNumber"] = article["Number"].clone();
        row["IsServiceArticle"] = json!(article["IsServiceArticle"].as_bool().unwrap_or(false));
        row["UnitId"] = article["UnitId"].clone();
        row["UnitAbbreviation"] = article["UnitAbbreviation"].clone();
        row["IsDiscountInFixedAmount"] = json!(false);
        conform(row, row_schema);
    }
    if !issues.is_empty() {
        return Err(bad_request(&issues[0].message.clone(), &issues));
    }
    let (ex, vat) = (round2(total_ex), round2(total_vat));
    let total = round2(ex + vat);
    doc["Rows"] = json!(rows);
    for (key, value) in [
        ("TotalAmount", total),
        ("TotalVatAmount", vat),
        ("TotalRoundings", 0.0),
        ("TotalAmountBaseCurrency", total),
        ("TotalVatAmountBaseCurrency", vat),
        ("TotalAmountInvoiceCurrency", total),
        ("TotalVatAmountInvoiceCurrency", vat),
        ("SetOffAmountInvoiceCurrency", 0.0),
        ("RemainingAmount", total),
        ("RemainingAmountInvoiceCurrency", total),
    ] {
        doc[key] = json!(value);
    }
    doc["CustomerNumber"] = customer["CustomerNumber"].clone();
    doc["CustomerName"] = customer["Name"].clone();
    doc["InvoiceCustomerName"] = customer["Name"].clone();
    for key in [
        "InvoiceCity",
        "InvoicePostalCode",
        "InvoiceCountryCode",
        "InvoiceAddress1",
    ] {
        if doc[key].is_null() {
            doc[key] = customer[key].clone();
        }
    }
    doc["InvoiceCurrencyCode"] = json!("SEK");
    doc["CurrencyCode"] = json!("SEK");
    doc["CustomerIsPrivatePerson"] = json!(customer["IsPrivatePerson"].as_bool().unwrap_or(false));
    doc["IncludesVat"] = json!(false);
    doc["ReverseChargeOnConstructionServices"] = json!(false);
    if doc["TermsOfPaymentId"].is_null() {
        doc["TermsOfPaymentId"] = customer["TermsOfPaymentId"].clone();
    }
    conform(doc, doc_schema);
    Ok(())
}

pub(crate) fn post_draft(ctx: &mut Ctx, mut v: Value) -> Reply {
    price(ctx, &mut v, true)?;
    v["Id"] = json!(new_uuid());
    v["CreatedUtc"] = json!(ctx.inner.timestamp(ctx.shared));
    ctx.inner.docs_mut(DocKind::CustomerInvoiceDraft).push(v.clone());
    created(&v)
}

pub(crate) fn put_draft(ctx: &mut Ctx, id: &str, mut v: Value) -> Reply {
    let idx = find_idx(ctx, DocKind::CustomerInvoiceDraft, id)
        .ok_or_else(|| not_found(&format!("Customer invoice draft {id}")))?;
    price(ctx, &mut v, true)?;
    let old = ctx.inner.docs(DocKind::CustomerInvoiceDraft)[idx].clone();
    v["Id"] = old["Id"].clone();
    v["CreatedUtc"] = old["CreatedUtc"].clone();
    ctx.inner.docs_mut(DocKind::CustomerInvoiceDraft)[idx] = v.clone();
    Ok(json(StatusCode::OK, &v))
}

/// Numbers, dates and read-only fields of a new invoice; checks the lock date.
fn finish_invoice(ctx: &mut Ctx, inv: &mut Value) -> Result<(), axum::response::Response> {
    let date = date_of(ctx, inv, "InvoiceDate")?;
    check_lock(ctx, date, "invoice")?;
    price(ctx, inv, false)?;
    let days = inv["TermsOfPaymentId"]
        .as_str()
        .and_then(|t| company::terms_days(&t.to_ascii_lowercase()))
        .or_else(|| company::terms_days(&seed_uuid(TAG_TERMS, 1)))
        .unwrap_or(30);
    if inv["DueDate"].is_null() {
        inv["DueDate"] = json!(date_time(date + chrono::Duration::days(days)));
    }
    let first = ctx.shared.config.first_invoice_number;
    let now = ctx.inner.timestamp(ctx.shared);
    inv["Id"] = json!(new_uuid());
    inv["InvoiceNumber"] = json!(ctx.inner.next("invoice", first));
    inv["InvoiceDate"] = json!(date_time(date));
    inv["CreatedUtc"] = json!(now);
    inv["ModifiedUtc"] = json!(now);
    inv["PaymentStatus"] = json!(1);
    inv["IsCreditInvoice"] = json!(inv["IsCreditInvoice"].as_bool().unwrap_or(false));
    Ok(())
}

pub(crate) fn post_invoice(ctx: &mut Ctx, mut v: Value) -> Reply {
    finish_invoice(ctx, &mut v)?;
    ctx.inner.docs_mut(DocKind::CustomerInvoice).push(v.clone());
    created(&v)
}

pub(crate) fn convert_draft(ctx: &mut Ctx, id: &str, check: Option<Value>) -> Reply {
    let idx = find_idx(ctx, DocKind::CustomerInvoiceDraft, id)
        .ok_or_else(|| not_found(&format!("Customer invoice draft {id}")))?;
    let draft = ctx.inner.docs(DocKind::CustomerInvoiceDraft)[idx].clone();
    let mut inv = draft.clone();
    inv["CreatedFromDraftId"] = draft["Id"].clone();
    finish_invoice(ctx, &mut inv)?;
    if let Some(check) = check {
        for (key, ours) in [
            ("TotalAmountInvoiceCurrency", "TotalAmountInvoiceCurrency"),
            ("TotalVatAmountInvoiceCurrency", "TotalVatAmountInvoiceCurrency"),
        ] {
            if let Some(expected) = check[key].as_f64() {
                let actual = inv[ours].as_f64().unwrap_or(0.0);
                if (expected - actual).abs() > 0.005 {
                    return Err(bad(
                        2000,
                        key,
                        &format!("{key} is {actual:.2} on the draft, not {expected:.2}."),
                    ));
                }
            }
        }
    }
    ctx.inner.docs_mut(DocKind::CustomerInvoiceDraft).remove(idx);
    ctx.inner.docs_mut(DocKind::CustomerInvoice).push(inv.clone());
    created(&inv)
}
