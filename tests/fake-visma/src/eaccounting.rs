//! eAccounting API v2 (`/v2/...`): routing, error shapes, lists, and the read-only endpoints.
//! Writes (vouchers, customers, articles, invoices) live in `ea_docs.rs`.

use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::company;
use crate::ea_docs;
use crate::identity::{self, AuthError};
use crate::odata;
use crate::server::{self, BodyProblem, Query};
use crate::spec::{self, Api};
use crate::store::{get_ci, json, new_uuid, set_header, DocKind, Inner, Shared};

pub(crate) type Reply = Result<Response, Response>;

/// `{ErrorCode, DeveloperErrorMessage, ErrorId}` with `status`.
pub(crate) fn error(status: StatusCode, code: i64, message: &str) -> Response {
    json(
        status,
        &json!({ "ErrorCode": code, "DeveloperErrorMessage": message, "ErrorId": new_uuid() }),
    )
}

/// One entry of `CommonExtendedBadRequest.Errors`.
pub(crate) struct Issue {
    pub field: String,
    pub code: i64,
    pub message: String,
    pub key: Option<String>,
}

impl Issue {
    pub fn new(field: impl Into<String>, code: i64, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
            key: None,
        }
    }
}

/// 400 in the `CommonExtendedBadRequest` shape; the top-level code is the first issue's.
pub(crate) fn bad_request(message: &str, issues: &[Issue]) -> Response {
    let code = issues.first().map_or(2000, |i| i.code);
    let errors: Vec<Value> = issues
        .iter()
        .map(|i| {
            json!({
                "Field": i.field,
                "ErrorCode": i.code.to_string(),
                "Message": i.message,
                "Key": i.key,
            })
        })
        .collect();
    json(
        StatusCode::BAD_REQUEST,
        &json!({
            "ErrorCode": code,
            "DeveloperErrorMessage": message,
            "ErrorId": new_uuid(),
            "Errors": errors,
        }),
    )
}

/// A 400 with a single issue.
pub(crate) fn bad(code: i64, field: &str, message: &str) -> Response {
    bad_request(message, &[Issue::new(field, code, message)])
}

pub(crate) fn not_found(what: &str) -> Response {
    error(StatusCode::NOT_FOUND, 3000, &format!("{what} was not found."))
}

pub(crate) fn locked_period(message: &str) -> Response {
    bad(4026, "VoucherDate", message)
}

pub(crate) fn rate_limited(retry_after_secs: u64) -> Response {
    error(
        StatusCode::TOO_MANY_REQUESTS,
        4010,
        &format!("API calls quota exceeded! maximum admitted 600 per Minute. Try again in {retry_after_secs} seconds."),
    )
}

pub(crate) fn unauthorized(why: AuthError) -> Response {
    let (desc, msg) = match why {
        AuthError::Missing => ("", "Authorization has been denied for this request: no bearer token."),
        AuthError::Invalid => (
            "The access token is invalid",
            "Authorization has been denied for this request: the access token is invalid.",
        ),
        AuthError::Expired => (
            "The access token expired",
            "Authorization has been denied for this request: the access token expired.",
        ),
    };
    let mut resp = error(StatusCode::UNAUTHORIZED, 4005, msg);
    let challenge = if desc.is_empty() {
        "Bearer".to_string()
    } else {
        format!("Bearer error=\"invalid_token\", error_description=\"{desc}\"")
    };
    set_header(&mut resp, "www-authenticate", &challenge);
    resp
}

/// Optional per-URL per-minute limit (off unless configured). `Some` = answer 429.
pub(crate) fn consume_budget(shared: &Shared, inner: &mut Inner, path: &str) -> Option<Response> {
    let limit = shared.config.eaccounting_per_minute_limit?;
    let now = inner.now(shared);
    let window = inner.ea_windows.entry(path.to_ascii_lowercase()).or_insert((now, 0));
    if now >= window.0 + Duration::from_secs(60) {
        *window = (now, 0);
    }
    if window.1 >= limit {
        let left = (window.0 + Duration::from_secs(60)).saturating_sub(now);
        return Some(rate_limited(server::secs(left).max(1)));
    }
    window.1 += 1;
    None
}

pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub inner: &'a mut Inner,
    pub q: &'a Query,
}

pub(crate) fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    route_inner(shared, method, path, query, headers, body).unwrap_or_else(|r| r)
}

fn route_inner(shared: &Shared, method: &Method, path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Reply {
    identity::check_bearer(shared, &shared.lock(), headers, Api::EAccounting).map_err(unauthorized)?;
    let doc = spec::spec(Api::EAccounting).map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, 0, &e))?;
    let op = doc.operation(method.as_str(), path).map_err(|path_exists| {
        if path_exists {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                0,
                &format!("The requested resource does not support http method '{method}'."),
            )
        } else {
            error(
                StatusCode::NOT_FOUND,
                3000,
                &format!("No HTTP resource was found that matches the request URI '{path}'."),
            )
        }
    })?;
    let body = server::checked_body(shared, Api::EAccounting, method, path, &op, body).map_err(body_problem)?;
    let q = Query::parse(query);
    let segs = server::segments(path, 1);
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let mut inner = shared.lock();
    let mut ctx = Ctx {
        shared,
        inner: &mut inner,
        q: &q,
    };
    let body = move || body.ok_or_else(|| bad(2000, "", "A request body is required."));
    let cfg = &shared.config;
    match (method.as_str(), l.as_slice()) {
        ("GET", ["companysettings"]) => {
            let next_customer = ctx.inner.counters.get("customer").map_or(1, |c| c + 1);
            let next_invoice = ctx
                .inner
                .counters
                .get("invoice")
                .map_or(cfg.first_invoice_number, |c| c + 1);
            ok(company::company_settings_json(cfg, next_customer, next_invoice))
        }
        ("GET", ["vatcodes"]) => list(&ctx, company::vat_codes_json(cfg), "VatCodeApi"),
        ("GET", ["vatcodes", _]) => by_id(company::vat_codes_json(cfg), &segs[1], "VAT code"),
        ("GET", ["units"]) => list(&ctx, company::units_json(), "UnitApi"),
        ("GET", ["units", _]) => by_id(company::units_json(), &segs[1], "Unit"),
        ("GET", ["termsofpayments"]) => list(&ctx, company::terms_json(), "TermsOfPaymentApi"),
        ("GET", ["termsofpayments", _]) => by_id(company::terms_json(), &segs[1], "Terms of payment"),
        ("GET", ["articleaccountcodings"]) => list(&ctx, company::codings_json(), "ArticleAccountCodingApi"),
        ("GET", ["articleaccountcodings", _]) => by_id(company::codings_json(), &segs[1], "Article account coding"),
        ("GET", ["fiscalyears"]) => {
            let items = company::fiscal_years(cfg)
                .iter()
                .map(|fy| company::fiscal_year_json(cfg, fy))
                .collect();
            list(&ctx, items, "FiscalYearApi")
        }
        ("GET", ["fiscalyears", _]) => {
            let items = company::fiscal_years(cfg)
                .iter()
                .map(|fy| company::fiscal_year_json(cfg, fy))
                .collect();
            by_id(items, &segs[1], "Fiscal year")
        }
        ("GET", ["accounts"]) => {
            let today = ctx.inner.today(shared);
            let fy = company::fiscal_year_for(cfg, today)
                .or_else(|| company::fiscal_years(cfg).pop())
                .ok_or_else(|| bad(3001, "", "The company has no fiscal year."))?;
            list(&ctx, accounts(cfg, &fy), "AccountApi")
        }
        ("GET", ["accounts", _]) => {
            let fy = fiscal_year(cfg, &segs[1])?;
            list(&ctx, accounts(cfg, &fy), "AccountApi")
        }
        ("GET", ["accounts", _, _]) => {
            let fy = fiscal_year(cfg, &segs[1])?;
            let number: u32 = segs[2].parse().map_err(|_| not_found("Account"))?;
            company::account_json(cfg, &fy, number)
                .map(ok)
                .unwrap_or_else(|| Err(not_found(&format!("Account {number}"))))
        }
        ("GET", ["customers"]) => docs_list(&ctx, DocKind::Customer, "CustomerApi"),
        ("GET", ["customers", _]) => doc_by_id(&ctx, DocKind::Customer, &segs[1], "Customer"),
        ("POST", ["customers"]) => ea_docs::post_customer(&mut ctx, body()?),
        ("PUT", ["customers", _]) => ea_docs::put_customer(&mut ctx, &segs[1], body()?),
        ("GET", ["articles"]) => docs_list(&ctx, DocKind::Article, "ArticleApi"),
        ("GET", ["articles", _]) => doc_by_id(&ctx, DocKind::Article, &segs[1], "Article"),
        ("POST", ["articles"]) => ea_docs::post_article(&mut ctx, body()?),
        ("PUT", ["articles", _]) => ea_docs::put_article(&mut ctx, &segs[1], body()?),
        ("GET", ["customerinvoicedrafts"]) => docs_list(&ctx, DocKind::CustomerInvoiceDraft, "CustomerInvoiceDraftApi"),
        ("GET", ["customerinvoicedrafts", _]) => {
            doc_by_id(&ctx, DocKind::CustomerInvoiceDraft, &segs[1], "Customer invoice draft")
        }
        ("POST", ["customerinvoicedrafts"]) => ea_docs::post_draft(&mut ctx, body()?),
        ("PUT", ["customerinvoicedrafts", _]) => ea_docs::put_draft(&mut ctx, &segs[1], body()?),
        ("POST", ["customerinvoicedrafts", _, "convert"]) => ea_docs::convert_draft(&mut ctx, &segs[1], body().ok()),
        ("GET", ["customerinvoices"]) => docs_list(&ctx, DocKind::CustomerInvoice, "CustomerInvoiceApi"),
        ("GET", ["customerinvoices", _]) => doc_by_id(&ctx, DocKind::CustomerInvoice, &segs[1], "Customer invoice"),
        ("POST", ["customerinvoices"]) => ea_docs::post_invoice(&mut ctx, body()?),
        ("GET", ["vouchers"]) => docs_list(&ctx, DocKind::Voucher, "VoucherApi"),
        ("GET", ["vouchers", _]) => {
            let fy = fiscal_year(cfg, &segs[1])?;
            let items = vouchers_in(ctx.inner, &fy);
            list(&ctx, items, "VoucherApi")
        }
        ("GET", ["vouchers", _, _]) => {
            let fy = fiscal_year(cfg, &segs[1])?;
            by_id(vouchers_in(ctx.inner, &fy), &segs[2], "Voucher")
        }
        ("POST", ["vouchers"]) => ea_docs::post_voucher(&mut ctx, body()?),
        _ => Err(error(
            StatusCode::NOT_IMPLEMENTED,
            0,
            &format!("{method} {path} is in the spec but not implemented by ctvisma-fake-visma."),
        )),
    }
}

fn body_problem(p: BodyProblem) -> Response {
    match p {
        BodyProblem::NotJson(e) => bad(2000, "", &format!("The request body is not valid JSON: {e}")),
        BodyProblem::Invalid(errors) => {
            let issues: Vec<Issue> = errors
                .iter()
                .map(|e| Issue {
                    field: e.field.clone(),
                    code: 2000,
                    message: e.message.clone(),
                    key: Some(e.keyword.clone()),
                })
                .collect();
            let summary: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            bad_request(&format!("The request is invalid. {}", summary.join("; ")), &issues)
        }
        BodyProblem::Internal(e) => error(StatusCode::INTERNAL_SERVER_ERROR, 0, &e),
    }
}

fn ok(v: Value) -> Reply {
    Ok(json(StatusCode::OK, &v))
}

fn fiscal_year(cfg: &crate::FakeConfig, id: &str) -> Result<company::FiscalYear, Response> {
    company::fiscal_years(cfg)
        .into_iter()
        .find(|fy| fy.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| bad(3001, "fiscalyearId", &format!("Fiscal year {id} does not exist.")))
}

fn accounts(cfg: &crate::FakeConfig, fy: &company::FiscalYear) -> Vec<Value> {
    cfg.accounts
        .iter()
        .filter_map(|a| company::account_json(cfg, fy, a.number))
        .collect()
}

fn vouchers_in(inner: &Inner, fy: &company::FiscalYear) -> Vec<Value> {
    inner
        .docs(DocKind::Voucher)
        .iter()
        .filter(|v| {
            v["VoucherDate"]
                .as_str()
                .and_then(spec::parse_date_prefix)
                .is_some_and(|d| fy.start <= d && d <= fy.end)
        })
        .cloned()
        .collect()
}

fn by_id(items: Vec<Value>, id: &str, what: &str) -> Reply {
    items
        .into_iter()
        .find(|v| v["Id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .map(ok)
        .unwrap_or_else(|| Err(not_found(&format!("{what} {id}"))))
}

fn doc_by_id(ctx: &Ctx, kind: DocKind, id: &str, what: &str) -> Reply {
    by_id(ctx.inner.docs(kind).to_vec(), id, what)
}

fn docs_list(ctx: &Ctx, kind: DocKind, schema: &str) -> Reply {
    list(ctx, ctx.inner.docs(kind).to_vec(), schema)
}

/// `$filter`, then `$page` (1-based) / `$pagesize` (default 50), wrapped in `{Meta, Data}`.
fn list(ctx: &Ctx, items: Vec<Value>, schema: &str) -> Reply {
    let mut items = items;
    if let Some(filter) = ctx.q.get("$filter") {
        let conds =
            odata::parse(filter).map_err(|e| bad(2000, "$filter", &format!("Invalid $filter '{filter}': {e}")))?;
        let props = spec::spec(Api::EAccounting)
            .map(|d| d.properties(schema))
            .unwrap_or_default();
        for c in &conds {
            if !props.iter().any(|p| p.eq_ignore_ascii_case(&c.field)) {
                return Err(bad(
                    2000,
                    "$filter",
                    &format!("Could not find a property named '{}' on type '{schema}'.", c.field),
                ));
            }
        }
        items.retain(|item| odata::matches(item, &conds));
    }
    let number = |name: &str, default: u64| -> Result<u64, Response> {
        match ctx.q.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(2000, name, &format!("{name} must be a positive integer"))),
        }
    };
    let page = number("$page", 1)?;
    let size = number("$pagesize", 50)?;
    let total = items.len() as u64;
    let data: Vec<Value> = items
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    ok(json!({
        "Meta": {
            "CurrentPage": page,
            "PageSize": size,
            "TotalNumberOfPages": total.div_ceil(size),
            "TotalNumberOfResults": total,
            "ServerTimeUtc": ctx.inner.timestamp(ctx.shared),
        },
        "Data": data,
    }))
}

/// Keeps only properties of `schema`, and drops nulls where the property is not nullable.
pub(crate) fn conform(value: &mut Value, schema: &str) {
    let Ok(doc) = spec::spec(Api::EAccounting) else {
        return;
    };
    let props = doc.properties(schema);
    let Some(map) = value.as_object_mut() else {
        return;
    };
    map.retain(|k, v| props.iter().any(|p| p == k) && (!v.is_null() || doc.nullable(schema, k)));
}

/// Query flag such as `useDefaultVoucherSeries` (default when absent or unparsable).
pub(crate) fn flag(q: &Query, name: &str, default: bool) -> bool {
    q.get(name).and_then(|v| v.parse::<bool>().ok()).unwrap_or(default)
}

/// Top-level string property, case-insensitively.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get_ci(v, key).and_then(Value::as_str)
}
