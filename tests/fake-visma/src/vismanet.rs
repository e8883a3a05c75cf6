//! Visma.net ERP API (served under `/vismanet`): routing, errors, rate limit, reads.
//! Writes and releases live in `vn_docs.rs`.

use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::identity;
use crate::server::{self, BodyProblem, Query, VISMANET_PREFIX};
use crate::spec::{self, Api};
use crate::store::{json, new_uuid, set_header, DocKind, Inner, Shared};
use crate::vn_docs;

pub(crate) type Reply = Result<Response, Response>;

const WINDOW: Duration = Duration::from_secs(3600);

/// Visma.net's error shape (the spec has no error DTO; this is what the live API sends).
pub(crate) fn error(status: StatusCode, fault_code: &str, message: &str) -> Response {
    let kind = match status.as_u16() {
        401 => "UnauthorizedAccessException",
        404 => "NotFoundException",
        429 => "RateLimitExceededException",
        500..=599 => "ServiceException",
        _ => "IPPException",
    };
    json(
        status,
        &json!({
            "ExceptionType": kind,
            "ExceptionMessage": message,
            "ExceptionFaultCode": fault_code,
            "ExceptionMessageID": format!("{fault_code}_{}", new_uuid()),
            "ExceptionDetails": message,
        }),
    )
}

pub(crate) fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "12022", message)
}

pub(crate) fn not_found(message: &str) -> Response {
    error(StatusCode::NOT_FOUND, "12011", message)
}

pub(crate) fn unauthorized() -> Response {
    let mut r = error(
        StatusCode::UNAUTHORIZED,
        "401",
        "Authorization has been denied for this request.",
    );
    set_header(&mut r, "www-authenticate", "Bearer");
    r
}

fn window(shared: &Shared, inner: &mut Inner) -> (Duration, u32) {
    let now = inner.now(shared);
    let w = inner.vn_window.get_or_insert((now, 0));
    if now >= w.0 + WINDOW {
        *w = (now, 0);
    }
    *w
}

/// Counts the request against the hourly budget; `Some` = answer 429 instead.
pub(crate) fn consume_budget(shared: &Shared, inner: &mut Inner) -> Option<Response> {
    let (start, used) = window(shared, inner);
    if used >= shared.config.vismanet_hourly_limit {
        let left = (start + WINDOW).saturating_sub(inner.now(shared));
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "429",
            "API rate limit exceeded for this company and client.",
        );
        set_header(&mut r, "retry-after", &server::secs(left).max(1).to_string());
        return Some(r);
    }
    if let Some(w) = inner.vn_window.as_mut() {
        w.1 += 1;
    }
    None
}

/// `X-RateLimit-Limit/-Remaining/-Reset/-Policy` on every Visma.net API response.
pub(crate) fn rate_headers(shared: &Shared, inner: &Inner, resp: &mut Response) {
    let limit = shared.config.vismanet_hourly_limit;
    let now = inner.now(shared);
    let (start, used) = inner.vn_window.unwrap_or((now, 0));
    let reset = server::secs((start + WINDOW).saturating_sub(now));
    set_header(resp, "x-ratelimit-limit", &limit.to_string());
    set_header(resp, "x-ratelimit-remaining", &limit.saturating_sub(used).to_string());
    set_header(resp, "x-ratelimit-reset", &reset.to_string());
    set_header(resp, "x-ratelimit-policy", "4-fixed-window");
}

pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub inner: &'a mut Inner,
    pub q: &'a Query,
}

/// `path` is API-relative (`/v1/...`, the `/vismanet` prefix removed).
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
    identity::check_bearer(shared, &shared.lock(), headers, Api::VismaNet).map_err(|_| unauthorized())?;
    let doc = spec::spec(Api::VismaNet).map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, "500", &e))?;
    let op = doc.operation(method.as_str(), path).map_err(|exists| {
        if exists {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "405",
                &format!("The requested resource does not support http method '{method}'."),
            )
        } else {
            not_found(&format!(
                "No HTTP resource was found that matches the request URI '{path}'."
            ))
        }
    })?;
    let full_path = format!("{VISMANET_PREFIX}{path}");
    let body = server::checked_body(shared, Api::VismaNet, method, &full_path, &op, body).map_err(|p| match p {
        BodyProblem::NotJson(e) => bad(&format!("The request body is not valid JSON: {e}")),
        BodyProblem::Invalid(errors) => {
            let details: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            bad(&format!("Error: The request is invalid. {}", details.join("; ")))
        }
        BodyProblem::Internal(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "500", &e),
    })?;
    let body = move || body.ok_or_else(|| bad("Error: A request body is required."));
    let q = Query::parse(query);
    let segs = server::segments(path, 0);
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let mut inner = shared.lock();
    let mut ctx = Ctx {
        shared,
        inner: &mut inner,
        q: &q,
    };
    use vn_docs::ArKind::{CreditNote, Invoice};
    match (method.as_str(), l.as_slice()) {
        ("POST", ["v1" | "v2", "customerinvoice"]) => vn_docs::create_ar(&mut ctx, body()?, Invoice),
        ("POST", ["v1" | "v2", "customercreditnote"]) => vn_docs::create_ar(&mut ctx, body()?, CreditNote),
        ("POST", ["v2", "journaltransaction"]) => vn_docs::create_jt(&mut ctx, body()?),
        ("POST", ["v1", "customer"]) => vn_docs::create_customer(&mut ctx, body()?),
        ("GET", ["v1", "customerinvoice"]) => list_ar(&ctx, DocKind::VismaNetCustomerInvoice),
        ("GET", ["v1", "customercreditnote"]) => list_ar(&ctx, DocKind::VismaNetCreditNote),
        ("GET", ["v1", "customerinvoice", _]) => {
            get_one(&ctx, DocKind::VismaNetCustomerInvoice, "referenceNumber", &segs[2])
        }
        ("GET", ["v1", "customercreditnote", _]) => {
            get_one(&ctx, DocKind::VismaNetCreditNote, "referenceNumber", &segs[2])
        }
        ("GET", ["v2", "journaltransaction"]) => list_jt(&ctx),
        ("GET", ["v2", "journaltransaction", _]) => {
            get_one(&ctx, DocKind::VismaNetJournalTransaction, "batchNumber", &segs[2])
        }
        ("GET", ["v1", "customer"]) => list_customers(&ctx),
        ("GET", ["v1", "customer", _]) => get_one(&ctx, DocKind::VismaNetCustomer, "number", &segs[2]),
        ("POST", ["v1", "customerinvoice", _, "action", "release"]) => {
            vn_docs::release_ar(&mut ctx, DocKind::VismaNetCustomerInvoice, &segs[2])
        }
        ("POST", ["v1", "customercreditnote", _, "action", "release"]) => {
            vn_docs::release_ar(&mut ctx, DocKind::VismaNetCreditNote, &segs[2])
        }
        ("POST", ["v2", "journaltransaction", _, "action", "release"]) => vn_docs::release_jt(&mut ctx, &segs[2]),
        _ => Err(error(
            StatusCode::NOT_IMPLEMENTED,
            "501",
            &format!("{method} {path} is in the spec but not implemented by ctvisma-fake-visma."),
        )),
    }
}

fn get_one(ctx: &Ctx, kind: DocKind, key: &str, number: &str) -> Reply {
    ctx.inner
        .docs(kind)
        .iter()
        .find(|d| d[key].as_str() == Some(number))
        .map(|d| json(StatusCode::OK, d))
        .ok_or_else(|| not_found(&format!("Error: No document with {key} '{number}' was found.")))
}

/// Equality filter on a top-level string field (`field` of the document) from query `param`.
fn eq_filter(q: &Query, param: &str, doc: &Value, field: &[&str]) -> bool {
    match q.get(param) {
        None => true,
        Some(want) => {
            let mut v = doc;
            for f in field {
                v = &v[*f];
            }
            match v {
                Value::String(s) => s == want,
                Value::Bool(b) => want.eq_ignore_ascii_case(&b.to_string()),
                Value::Number(n) => n.to_string() == want,
                _ => false,
            }
        }
    }
}

/// `pageNumber` (1-based) / `pageSize`; every item carries `metadata.totalCount`.
fn page(ctx: &Ctx, items: Vec<Value>) -> Reply {
    let total = items.len();
    let parse = |name: &str| -> Result<Option<usize>, Response> {
        match ctx.q.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .map(Some)
                .ok_or_else(|| bad(&format!("Error: {name} must be a positive integer."))),
        }
    };
    let number = parse("pageNumber")?.unwrap_or(1);
    let size = parse("pageSize")?.unwrap_or(1000).min(1000);
    let data: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .map(|mut d| {
            d["metadata"] = json!({"totalCount": total, "maxPageSize": 1000});
            d
        })
        .collect();
    Ok(json(StatusCode::OK, &Value::Array(data)))
}

fn list_ar(ctx: &Ctx, kind: DocKind) -> Reply {
    let q = ctx.q;
    let released = match q.get("released") {
        None => None,
        Some("1") | Some("true") => Some(true),
        Some("0") | Some("false") => Some(false),
        Some(other) => return Err(bad(&format!("Error: released must be 0 or 1, not '{other}'."))),
    };
    let items = ctx
        .inner
        .docs(kind)
        .iter()
        .filter(|d| {
            eq_filter(q, "externalReference", d, &["externalReference"])
                && eq_filter(q, "customerRefNumber", d, &["customerRefNumber"])
                && eq_filter(q, "paymentReference", d, &["paymentReference"])
                && eq_filter(q, "customer", d, &["customer", "number"])
                && eq_filter(q, "status", d, &["status"])
                && eq_filter(q, "documentType", d, &["documentType"])
                && eq_filter(q, "financialPeriod", d, &["financialPeriod"])
                && eq_filter(q, "project", d, &["project"])
                && released.is_none_or(|r| vn_docs::is_released(d) == r)
        })
        .cloned()
        .collect();
    page(ctx, items)
}

fn list_jt(ctx: &Ctx) -> Reply {
    let q = ctx.q;
    if q.get("periodId").is_none() && q.get("lastModifiedDateTime").is_none() {
        return Err(bad(
            "Error: periodId is mandatory when lastModifiedDateTime is not provided.",
        ));
    }
    let released = q.get("releasedBatch").map(|v| v.eq_ignore_ascii_case("true"));
    let module = q.get("module").map(|m| format!("Module{}", m.to_ascii_uppercase()));
    let items = ctx
        .inner
        .docs(DocKind::VismaNetJournalTransaction)
        .iter()
        .filter(|d| {
            eq_filter(q, "periodId", d, &["financialPeriod"])
                && eq_filter(q, "status", d, &["status"])
                && eq_filter(q, "branch", d, &["branch"])
                && module.as_deref().is_none_or(|m| d["module"] == m)
                && released.is_none_or(|r| vn_docs::is_released(d) == r)
                && q.get("lastModifiedDateTime")
                    .is_none_or(|since| d["lastModifiedDateTime"].as_str().is_some_and(|m| m >= since))
        })
        .cloned()
        .collect();
    page(ctx, items)
}

fn list_customers(ctx: &Ctx) -> Reply {
    let q = ctx.q;
    let items = ctx
        .inner
        .docs(DocKind::VismaNetCustomer)
        .iter()
        .filter(|d| {
            eq_filter(q, "name", d, &["name"])
                && eq_filter(q, "status", d, &["status"])
                && eq_filter(q, "corporateId", d, &["corporateId"])
                && eq_filter(q, "vatRegistrationId", d, &["vatRegistrationId"])
                && eq_filter(q, "email", d, &["mainContact", "email"])
                && eq_filter(q, "phone", d, &["mainContact", "phone1"])
        })
        .cloned()
        .collect();
    page(ctx, items)
}
