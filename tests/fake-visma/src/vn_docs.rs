//! Visma.net writes: customer invoices / credit notes, journal transactions, customers,
//! and the release actions. Documents are stored in their read (GET) shape: the posted
//! `{"value": ...}` wrappers unwrapped, plus numbers, status and totals.

use axum::http::StatusCode;
use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use crate::company::date_time;
use crate::server::VISMANET_PREFIX;
use crate::spec::parse_date_prefix;
use axum::response::IntoResponse;

use crate::store::{json, new_uuid, round2, set_header, DocKind};
use crate::vismanet::{bad, not_found, Ctx, Reply};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArKind {
    Invoice,
    CreditNote,
}

/// `{"value": x}` -> `x`, recursively.
pub(crate) fn unwrap(v: &Value) -> Value {
    match v {
        Value::Object(map) if map.len() == 1 && map.contains_key("value") => unwrap(&map["value"]),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), unwrap(v))).collect::<Map<_, _>>()),
        Value::Array(items) => Value::Array(items.iter().map(unwrap).collect()),
        other => other.clone(),
    }
}

/// Released documents: AR `Open`/`Closed`, GL `Posted`/`Released`.
pub(crate) fn is_released(doc: &Value) -> bool {
    matches!(doc["status"].as_str(), Some("Open" | "Closed" | "Posted" | "Released"))
}

/// 201 with an empty body and a `Location` header, as Visma.net answers a create.
fn created(ctx: &mut Ctx, kind: DocKind, doc: Value, location: String) -> Reply {
    ctx.inner.docs_mut(kind).push(doc);
    let mut resp = StatusCode::CREATED.into_response();
    set_header(
        &mut resp,
        "location",
        &format!("{}{VISMANET_PREFIX}{location}", ctx.shared.base_url),
    );
    Ok(resp)
}

/// The unwrapped body, which must be an object (a lax, non-strict schema lets odd shapes by).
fn object_body(body: &Value) -> Result<Value, axum::response::Response> {
    let dto = unwrap(body);
    if dto.is_object() {
        Ok(dto)
    } else {
        Err(bad("Error: The request body must be a JSON object."))
    }
}

/// The array `key` of `dto`, each element an object.
fn object_lines(dto: &Value, key: &str) -> Result<Vec<Value>, axum::response::Response> {
    let lines = dto[key].as_array().cloned().unwrap_or_default();
    if lines.iter().all(Value::is_object) {
        Ok(lines)
    } else {
        Err(bad(&format!("Error: Every element of '{key}' must be an object.")))
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string).filter(|s| !s.is_empty())
}

fn date_or_today(ctx: &Ctx, v: &Value, key: &str) -> Result<NaiveDate, axum::response::Response> {
    match v[key].as_str() {
        None => Ok(ctx.inner.today(ctx.shared)),
        Some(s) => parse_date_prefix(s).ok_or_else(|| bad(&format!("Error: '{s}' is not a valid {key}."))),
    }
}

fn check_period(ctx: &Ctx, date: NaiveDate) -> Result<(), axum::response::Response> {
    match ctx.shared.config.lock_date {
        Some(lock) if date <= lock => Err(bad(&format!(
            "Error: The financial period {} is closed in General Ledger.",
            date.format("%Y%m")
        ))),
        _ => Ok(()),
    }
}

fn check_account(ctx: &Ctx, line: &Value, i: usize) -> Result<(), axum::response::Response> {
    if let Some(acc) = line["accountNumber"].as_str() {
        let known = ctx.shared.config.accounts.iter().any(|a| a.number.to_string() == acc);
        if !known {
            return Err(bad(&format!(
                "Error: Line {}: Account '{acc}' cannot be found in the system.",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The rate of VAT code `code` (matched by code, e.g. `MP1`, or id); unknown codes are refused.
fn vat_rate(ctx: &Ctx, code: &str, i: usize) -> Result<f64, axum::response::Response> {
    ctx.shared
        .config
        .vat_codes
        .iter()
        .find(|v| v.code == code || v.id == code)
        .map(|v| v.rate)
        .ok_or_else(|| {
            bad(&format!(
                "Error: Line {}: VAT code '{code}' cannot be found in the system.",
                i + 1
            ))
        })
}

/// The document number: the posted one when `overrideNumberSeries` is true, else the next
/// of `counter`. Duplicates are refused.
fn number(
    ctx: &mut Ctx,
    dto: &Value,
    key: &str,
    kinds: &[DocKind],
    counter: &str,
) -> Result<String, axum::response::Response> {
    let taken = |ctx: &Ctx, n: &str| {
        kinds
            .iter()
            .any(|k| ctx.inner.docs(*k).iter().any(|d| d[key].as_str() == Some(n)))
    };
    if dto["overrideNumberSeries"].as_bool() == Some(true) {
        if let Some(n) = text(dto, key) {
            if taken(ctx, &n) {
                return Err(bad(&format!("Error: A document with {key} '{n}' already exists.")));
            }
            return Ok(n);
        }
    }
    loop {
        let n = format!("{:06}", ctx.inner.next(counter, 1));
        if !taken(ctx, &n) {
            return Ok(n);
        }
    }
}

pub(crate) fn create_ar(ctx: &mut Ctx, body: Value, kind: ArKind) -> Reply {
    let dto = object_body(&body)?;
    let customer_number =
        text(&dto, "customerNumber").ok_or_else(|| bad("Error: 'customerNumber' cannot be empty."))?;
    let customer = ctx
        .inner
        .docs(DocKind::VismaNetCustomer)
        .iter()
        .find(|c| c["number"].as_str() == Some(customer_number.as_str()))
        .cloned()
        .ok_or_else(|| {
            bad(&format!(
                "Error: Customer '{customer_number}' cannot be found in the system."
            ))
        })?;
    let date = date_or_today(ctx, &dto, "documentDate")?;
    check_period(ctx, date)?;
    let lines_key = match kind {
        ArKind::Invoice => "invoiceLines",
        ArKind::CreditNote => "lines",
    };
    let mut lines = object_lines(&dto, lines_key)?;
    let mut total = 0.0;
    // Net per VAT code: Visma.net computes VAT per code on the document (its VAT details tab).
    let mut by_code: Vec<(f64, f64)> = Vec::new();
    for (i, line) in lines.iter_mut().enumerate() {
        check_account(ctx, line, i)?;
        let amount = match line["manualAmountInCurrency"].as_f64() {
            Some(a) => a,
            None => {
                let qty = line["quantity"].as_f64().unwrap_or(0.0);
                let price = line["unitPriceInCurrency"].as_f64().unwrap_or(0.0);
                let disc = line["discountPercent"].as_f64().unwrap_or(0.0);
                round2(qty * price * (1.0 - disc / 100.0))
            }
        };
        total += amount;
        if line["lineNumber"].is_null() {
            line["lineNumber"] = json!(i + 1);
        }
        line["amount"] = json!(amount);
        line["amountInCurrency"] = json!(amount);
        if let Some(acc) = line["accountNumber"].as_str() {
            line["account"] = json!({ "number": acc });
        }
        if let Some(vat) = line["vatCodeId"].as_str() {
            let rate = vat_rate(ctx, vat, i)?;
            match by_code.iter_mut().find(|(r, _)| *r == rate) {
                Some(entry) => entry.1 += amount,
                None => by_code.push((rate, amount)),
            }
            line["vatCode"] = json!({ "id": vat });
        }
    }
    let vat_total = round2(by_code.iter().map(|(rate, net)| round2(net * rate)).sum());
    let (doc_kind, doc_type, path) = match kind {
        ArKind::Invoice => (DocKind::VismaNetCustomerInvoice, "Invoice", "/v1/customerinvoice"),
        ArKind::CreditNote => (DocKind::VismaNetCreditNote, "CreditNote", "/v1/customerCreditNote"),
    };
    let ar = [DocKind::VismaNetCustomerInvoice, DocKind::VismaNetCreditNote];
    let number = number(ctx, &dto, "referenceNumber", &ar, "vn-ar")?;
    let hold = dto["hold"].as_bool().unwrap_or(false);
    let now = ctx.inner.timestamp(ctx.shared);
    let detail_total = round2(total);
    let total = round2(detail_total + vat_total);
    let mut doc = dto.clone();
    if let Some(map) = doc.as_object_mut() {
        for k in ["customerNumber", "overrideNumberSeries", "invoiceLines", "lines"] {
            map.remove(k);
        }
    }
    doc[lines_key] = json!(lines);
    doc["referenceNumber"] = json!(number);
    doc["documentType"] = json!(doc_type);
    doc["status"] = json!(if hold { "Hold" } else { "Balanced" });
    doc["hold"] = json!(hold);
    doc["customer"] = json!({"number": customer["number"], "name": customer["name"]});
    doc["documentDate"] = json!(date_time(date));
    let period = date.format("%Y%m").to_string();
    if doc["financialPeriod"].is_null() {
        doc["financialPeriod"] = json!(period);
    }
    if doc["postPeriod"].is_null() {
        doc["postPeriod"] = json!(period);
    }
    doc["currencyId"] = json!(text(&dto, "currencyId").unwrap_or_else(|| "SEK".into()));
    for key in ["amount", "amountInCurrency", "balance", "balanceInCurrency"] {
        doc[key] = json!(total);
    }
    doc["detailTotal"] = json!(detail_total);
    doc["detailTotalInCurrency"] = json!(detail_total);
    doc["vatTotal"] = json!(vat_total);
    doc["vatTotalInCurrency"] = json!(vat_total);
    doc["createdDateTime"] = json!(now);
    doc["lastModifiedDateTime"] = json!(now);
    created(ctx, doc_kind, doc, format!("{path}/{number}"))
}

pub(crate) fn create_jt(ctx: &mut Ctx, body: Value) -> Reply {
    let dto = object_body(&body)?;
    let date = date_or_today(ctx, &dto, "transactionDate")?;
    check_period(ctx, date)?;
    let mut lines = object_lines(&dto, "journalTransactionLines")?;
    let (mut debit, mut credit) = (0.0, 0.0);
    for (i, line) in lines.iter_mut().enumerate() {
        if text(line, "accountNumber").is_none() {
            return Err(bad(&format!("Error: Line {}: 'accountNumber' cannot be empty.", i + 1)));
        }
        check_account(ctx, line, i)?;
        let d = round2(line["debitAmountInCurrency"].as_f64().unwrap_or(0.0));
        let c = round2(line["creditAmountInCurrency"].as_f64().unwrap_or(0.0));
        debit += d;
        credit += c;
        if line["lineNumber"].is_null() {
            line["lineNumber"] = json!(i + 1);
        }
        line["debitAmount"] = json!(d);
        line["debitAmountInCurrency"] = json!(d);
        line["creditAmount"] = json!(c);
        line["creditAmountInCurrency"] = json!(c);
        if let Some(vat) = line["vatCodeId"].as_str() {
            line["vatCode"] = json!({ "id": vat });
        }
        line["module"] = json!("ModuleGL");
    }
    let kinds = [DocKind::VismaNetJournalTransaction];
    let number = number(ctx, &dto, "batchNumber", &kinds, "vn-gl")?;
    let hold = dto["hold"].as_bool().unwrap_or(false);
    let mut doc = dto.clone();
    if let Some(map) = doc.as_object_mut() {
        map.remove("overrideNumberSeries");
    }
    let period = date.format("%Y%m").to_string();
    doc["journalTransactionLines"] = json!(lines);
    doc["module"] = json!("ModuleGL");
    doc["batchNumber"] = json!(number);
    doc["status"] = json!(if hold { "Hold" } else { "Balanced" });
    doc["hold"] = json!(hold);
    doc["transactionDate"] = json!(date_time(date));
    if doc["financialPeriod"].is_null() {
        doc["financialPeriod"] = json!(period);
    }
    if doc["postPeriod"].is_null() {
        doc["postPeriod"] = json!(period);
    }
    if doc["ledger"].is_null() {
        doc["ledger"] = json!("ACTUAL");
    }
    doc["currencyId"] = json!(text(&dto, "currencyId").unwrap_or_else(|| "SEK".into()));
    doc["debitTotal"] = json!(round2(debit));
    doc["debitTotalInCurrency"] = json!(round2(debit));
    doc["creditTotal"] = json!(round2(credit));
    doc["creditTotalInCurrency"] = json!(round2(credit));
    doc["lastModifiedDateTime"] = json!(ctx.inner.timestamp(ctx.shared));
    let location = format!("/v2/journaltransaction/{number}");
    created(ctx, DocKind::VismaNetJournalTransaction, doc, location)
}

/// Renders a seeded or posted customer in the `CustomerDto` shape.
pub(crate) fn customer_doc(internal_id: i64, number: &str, name: &str, now: &str) -> Value {
    json!({
        "internalId": internal_id,
        "number": number,
        "name": name,
        "status": "Active",
        "currencyId": "SEK",
        "createdDateTime": now,
        "lastModifiedDateTime": now,
    })
}

pub(crate) fn create_customer(ctx: &mut Ctx, body: Value) -> Reply {
    let dto = object_body(&body)?;
    let name = text(&dto, "name").ok_or_else(|| bad("Error: 'name' cannot be empty."))?;
    let taken = |ctx: &Ctx, n: &str| {
        ctx.inner
            .docs(DocKind::VismaNetCustomer)
            .iter()
            .any(|d| d["number"].as_str() == Some(n))
    };
    let number = match text(&dto, "number") {
        Some(n) if taken(ctx, &n) => return Err(bad(&format!("Error: Customer '{n}' already exists."))),
        Some(n) => n,
        None => loop {
            let n = ctx.inner.next("vn-customer", 10001).to_string();
            if !taken(ctx, &n) {
                break n;
            }
        },
    };
    let internal_id = ctx.inner.next("vn-customer-internal", 1000);
    let now = ctx.inner.timestamp(ctx.shared);
    let mut doc = customer_doc(internal_id, &number, &name, &now);
    if let (Some(out), Some(inp)) = (doc.as_object_mut(), dto.as_object()) {
        for (k, v) in inp {
            if !out.contains_key(k) || k == "status" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    created(ctx, DocKind::VismaNetCustomer, doc, format!("/v1/customer/{number}"))
}

fn action_done() -> Reply {
    Ok(json(
        StatusCode::OK,
        &json!({"actionId": new_uuid(), "actionResult": "Done"}),
    ))
}

fn find_mut<'a>(
    ctx: &'a mut Ctx,
    kind: DocKind,
    key: &str,
    n: &str,
) -> Result<&'a mut Value, axum::response::Response> {
    ctx.inner
        .docs_mut(kind)
        .iter_mut()
        .find(|d| d[key].as_str() == Some(n))
        .ok_or_else(|| not_found(&format!("Error: No document with {key} '{n}' was found.")))
}

pub(crate) fn release_ar(ctx: &mut Ctx, kind: DocKind, n: &str) -> Reply {
    let now = ctx.inner.timestamp(ctx.shared);
    let doc = find_mut(ctx, kind, "referenceNumber", n)?;
    if is_released(doc) {
        return Err(bad(&format!("Error: Document {n} is already released.")));
    }
    if doc["hold"].as_bool() == Some(true) {
        return Err(bad(&format!("Error: Document {n} is on hold and cannot be released.")));
    }
    doc["status"] = json!("Open");
    doc["lastModifiedDateTime"] = json!(now);
    action_done()
}

pub(crate) fn release_jt(ctx: &mut Ctx, n: &str) -> Reply {
    let now = ctx.inner.timestamp(ctx.shared);
    let doc = find_mut(ctx, DocKind::VismaNetJournalTransaction, "batchNumber", n)?;
    if is_released(doc) {
        return Err(bad(&format!("Error: Batch {n} is already released.")));
    }
    if doc["hold"].as_bool() == Some(true) {
        return Err(bad(&format!("Error: Batch {n} is on hold and cannot be released.")));
    }
    let debit = doc["debitTotal"].as_f64().unwrap_or(0.0);
    let credit = doc["creditTotal"].as_f64().unwrap_or(0.0);
    if (debit - credit).abs() > 0.005 {
        return Err(bad(&format!(
            "Error: Batch {n} is out of balance (debit {debit:.2}, credit {credit:.2}), please review."
        )));
    }
    doc["status"] = json!("Posted");
    doc["lastModifiedDateTime"] = json!(now);
    action_done()
}
