//! The single HTTP entry point: request log, rate limits, faults, then the per-API routers.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::faults::{self, Fault};
use crate::spec::{self, Api, FieldError, Operation};
use crate::store::{json, set_header, RecordedRequest, Shared, ValidationFailure};
use crate::{eaccounting, identity, vismanet};

/// Prefix under which the Visma.net API and its token endpoint are served.
pub const VISMANET_PREFIX: &str = "/vismanet";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Surface {
    EaToken,
    VnToken,
    EaApi,
    VnApi,
    Unknown,
}

fn classify(path: &str) -> Surface {
    let lower = path.to_ascii_lowercase();
    if lower == "/connect/token" {
        Surface::EaToken
    } else if lower == "/vismanet/connect/token" {
        Surface::VnToken
    } else if lower.starts_with("/vismanet/v1/") || lower.starts_with("/vismanet/v2/") {
        Surface::VnApi
    } else if lower.starts_with("/v2/") {
        Surface::EaApi
    } else {
        Surface::Unknown
    }
}

pub(crate) async fn entry(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 32 << 20).await {
        Ok(b) => b,
        Err(e) => return json(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
    };
    // Handle in a task of its own: a client that gives up must not cancel a write halfway.
    let task = tokio::spawn(process(shared, parts.method, parts.uri, parts.headers, bytes));
    match task.await {
        Ok(resp) => resp,
        Err(e) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": format!("fake crashed: {e}")}),
        ),
    }
}

async fn process(
    shared: Arc<Shared>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let surface = classify(&path);
    let is_identity = matches!(surface, Surface::EaToken | Surface::VnToken);

    let (fault, limited) = {
        let mut inner = shared.lock();
        let fault = faults::take(&mut inner.faults, method.as_str(), &path, is_identity).or_else(|| {
            inner
                .random_faults
                .iter_mut()
                .find_map(|r| r.draw(method.as_str(), &path))
        });
        let limited = match surface {
            Surface::VnApi => vismanet::consume_budget(&shared, &mut inner),
            Surface::EaApi => eaccounting::consume_budget(&shared, &mut inner, &path),
            _ => None,
        };
        (fault, limited)
    };

    let mut resp = if let Some(resp) = limited {
        resp
    } else if let Some(resp) = fault.as_ref().and_then(|f| early_fault(&shared, f, surface, &headers)) {
        resp
    } else {
        if let Some(Fault::Slow(d) | Fault::SlowWrite(d)) = &fault {
            tokio::time::sleep(*d).await;
        }
        let api_path = path.strip_prefix(VISMANET_PREFIX).unwrap_or(&path);
        match surface {
            Surface::EaToken => identity::eaccounting_token(&shared, &headers, &body),
            Surface::VnToken => identity::vismanet_token(&shared, &headers, &body),
            Surface::EaApi => eaccounting::route(&shared, &method, &path, &query, &headers, &body),
            Surface::VnApi => vismanet::route(&shared, &method, api_path, &query, &headers, &body),
            Surface::Unknown => json(
                StatusCode::NOT_FOUND,
                &json!({"error": format!(
                    "not served by the fake: {method} {path} (eAccounting: /v2/..., /connect/token; \
                     Visma.net: /vismanet/v1/..., /vismanet/v2/..., /vismanet/connect/token)")}),
            ),
        }
    };

    match &fault {
        Some(Fault::PostThenFail) if resp.status().is_success() => {
            resp = server_error(surface);
        }
        Some(Fault::SlowAfterWrite(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    if surface == Surface::VnApi {
        let inner = shared.lock();
        vismanet::rate_headers(&shared, &inner, &mut resp);
    }

    let record = RecordedRequest {
        method: method.to_string(),
        path,
        query,
        status: resp.status().as_u16(),
        body: serde_json::from_slice(&body).ok(),
    };
    shared.lock().requests.push(record);
    resp
}

fn server_error(surface: Surface) -> Response {
    let msg = "An unexpected error occurred (fault injected by ctvisma-fake-visma).";
    match surface {
        Surface::VnApi => vismanet::error(StatusCode::INTERNAL_SERVER_ERROR, "500", msg),
        Surface::EaApi => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"DeveloperErrorMessage": msg, "ErrorId": crate::store::new_uuid()}),
        ),
        _ => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"error": "server_error", "error_description": msg}),
        ),
    }
}

/// Faults that answer instead of the normal handler.
fn early_fault(shared: &Shared, fault: &Fault, surface: Surface, headers: &HeaderMap) -> Option<Response> {
    let ea = surface == Surface::EaApi;
    let vn = surface == Surface::VnApi;
    match fault {
        Fault::RateLimited { retry_after_secs } => Some(if vn {
            let mut r = vismanet::error(
                StatusCode::TOO_MANY_REQUESTS,
                "429",
                &format!("Rate limit exceeded. Try again in {retry_after_secs} seconds."),
            );
            set_header(&mut r, "retry-after", &retry_after_secs.to_string());
            r
        } else if ea {
            eaccounting::rate_limited(*retry_after_secs)
        } else {
            json(StatusCode::TOO_MANY_REQUESTS, &json!({"error": "too_many_requests"}))
        }),
        Fault::ServerError => Some(server_error(surface)),
        Fault::ExpireToken if ea || vn => {
            let mut inner = shared.lock();
            identity::expire(shared, &mut inner, headers);
            Some(if ea {
                eaccounting::unauthorized(identity::AuthError::Expired)
            } else {
                vismanet::unauthorized()
            })
        }
        Fault::LockedPeriod if ea => Some(eaccounting::locked_period(
            "The bookkeeping period is locked (fault injected by ctvisma-fake-visma).",
        )),
        Fault::LockedPeriod if vn => Some(vismanet::error(
            StatusCode::BAD_REQUEST,
            "12022",
            "Error: The financial period is closed in General Ledger (fault injected).",
        )),
        _ => None,
    }
}

/// Why a request body was refused.
pub(crate) enum BodyProblem {
    NotJson(String),
    Invalid(Vec<FieldError>),
    Internal(String),
}

/// Parses and validates the JSON body of `op`. `Ok(None)`: no body (or none expected).
pub(crate) fn checked_body(
    shared: &Shared,
    api: Api,
    method: &Method,
    path: &str,
    op: &Operation,
    body: &[u8],
) -> Result<Option<Value>, BodyProblem> {
    let Some(schema) = &op.body_schema else {
        return Ok(None);
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| BodyProblem::NotJson(e.to_string()))?;
    let strict = api == Api::EAccounting || shared.config.vismanet_reject_unknown_fields;
    let errors = spec::validate_schema(api, schema, &value, strict).map_err(BodyProblem::Internal)?;
    if errors.is_empty() {
        return Ok(Some(value));
    }
    shared.lock().failures.push(ValidationFailure {
        api,
        method: method.to_string(),
        path: path.to_string(),
        template: op.template.clone(),
        errors: errors.clone(),
    });
    Err(BodyProblem::Invalid(errors))
}

/// Query string pairs with case-insensitive lookup.
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(query: &str) -> Self {
        Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Percent-decoded path segments after skipping `skip` leading ones.
pub(crate) fn segments(path: &str, skip: usize) -> Vec<String> {
    spec::split_path(path)
        .skip(skip)
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// Seconds as a `Duration`, saturating.
pub(crate) fn secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}
