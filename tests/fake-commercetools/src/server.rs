//! The single HTTP entry point: faults, the token endpoint, then the project API.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::predicate::{self, Predicate};
use crate::{Fault, Inner, RecordedRequest, Shared};

const MAX_LIMIT: usize = 500;
const MAX_OFFSET: usize = 10_000;

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A commercetools error body: `{statusCode, message, errors: [{code, message, …extra}]}`.
pub(crate) fn ct_error(status: StatusCode, code: &str, message: &str, extra: Option<(&str, Value)>) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let (Some((k, v)), Value::Object(obj)) = (extra, &mut error) {
        obj.insert(k.to_string(), v);
    }
    json_response(
        status,
        &json!({"statusCode": status.as_u16(), "message": message, "errors": [error]}),
    )
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({
            "statusCode": status.as_u16(),
            "message": description,
            "errors": [{"code": code, "message": description}],
            "error": code,
            "error_description": description,
        }),
    )
}

pub(crate) async fn entry(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 32 << 20).await {
        Ok(b) => b,
        Err(e) => return ct_error(StatusCode::BAD_REQUEST, "InvalidInput", &e.to_string(), None),
    };
    // Handle in a task of its own: a client that gives up must not cancel a write halfway.
    let task = tokio::spawn(process(shared, parts.method, parts.uri, parts.headers, bytes));
    match task.await {
        Ok(resp) => resp,
        Err(e) => ct_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "General",
            &format!("fake crashed: {e}"),
            None,
        ),
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::TooManyRequests => ct_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests. Please slow down.",
            None,
        ),
        Fault::InternalError => ct_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "General",
            "Write operations are temporarily unavailable",
            None,
        ),
        Fault::ServiceUnavailable => ct_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "Service Unavailable",
            None,
        ),
        Fault::Status(code, body) => {
            json_response(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST), &body)
        }
        Fault::Slow(_) => unreachable!("slow faults answer normally"),
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
    let is_token = path == "/oauth/token";
    let fault = {
        let mut inner = shared.lock();
        if is_token {
            inner.token_faults.pop_front()
        } else {
            inner.api_faults.pop_front()
        }
    };
    let faulted = match fault {
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(f) => Some(fault_response(f)),
        None => None,
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let resp = match faulted {
        Some(r) => r,
        None if is_token => token(&shared, &method, &headers, &body),
        None => api(&shared, &method, &path, &query, bearer.as_deref(), &body),
    };
    shared.lock().log.push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        status: resp.status().as_u16(),
        bearer: bearer.is_some(),
    });
    resp
}

fn token(shared: &Shared, method: &Method, headers: &HeaderMap, body: &[u8]) -> Response {
    if method != Method::POST {
        return oauth_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "Use POST.");
    }
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let config = &shared.config;
    if credentials.as_deref() != Some(&format!("{}:{}", config.client_id, config.client_secret)) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Please provide valid client credentials using HTTP Basic Authentication.",
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        );
    }
    let scope = field("scope").unwrap_or_else(|| format!("manage_project:{}", config.project_key));
    let suffix = format!(":{}", config.project_key);
    if scope.split_whitespace().any(|s| !s.ends_with(&suffix)) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "Invalid scope.");
    }
    let access_token = uuid::Uuid::new_v4().simple().to_string();
    let mut inner = shared.lock();
    let lifetime = inner.token_lifetime;
    let expires = inner.now() + lifetime;
    inner.tokens.insert(access_token.clone(), expires);
    inner.grants += 1;
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
            "scope": scope,
        }),
    )
}

fn api(shared: &Shared, method: &Method, path: &str, query: &str, bearer: Option<&str>, body: &[u8]) -> Response {
    let mut inner = shared.lock();
    let now = inner.now();
    let valid = bearer.and_then(|t| inner.tokens.get(t)).is_some_and(|exp| *exp > now);
    if !valid {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "invalid_token");
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (project, resource, id) = match segments.as_slice() {
        [p, r] => (*p, *r, None),
        [p, r, id] => (*p, *r, Some(*id)),
        _ => return not_found(path),
    };
    if project != shared.config.project_key {
        return ct_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("The project '{project}' does not exist."),
            None,
        );
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    match (method.as_str(), id) {
        ("GET", None) => list(&inner, resource, &params),
        ("GET", Some(id)) => match find(&inner, resource, id) {
            Some(i) => json_response(StatusCode::OK, &inner.resources[resource][i]),
            None => not_found_id(id),
        },
        ("POST", None) => create(&mut inner, resource, body),
        ("POST", Some(id)) => update(&mut inner, resource, id, body),
        ("DELETE", Some(id)) => delete(&mut inner, resource, id, &params),
        _ => ct_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed",
            None,
        ),
    }
}

fn not_found(path: &str) -> Response {
    ct_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("No endpoint at {path}."),
        None,
    )
}

fn not_found_id(id: &str) -> Response {
    let message = match id.strip_prefix("key=") {
        Some(key) => format!("The Resource with key '{key}' was not found."),
        None => format!("The Resource with ID '{id}' was not found."),
    };
    ct_error(StatusCode::NOT_FOUND, "ResourceNotFound", &message, None)
}

fn invalid_input(message: &str) -> Response {
    ct_error(StatusCode::BAD_REQUEST, "InvalidInput", message, None)
}

/// Index of the resource with this id (or `key=…`).
fn find(inner: &Inner, resource: &str, id: &str) -> Option<usize> {
    let list = inner.resources.get(resource)?;
    let (field, wanted) = match id.strip_prefix("key=") {
        Some(key) => ("key", key),
        None => ("id", id),
    };
    list.iter()
        .position(|v| v.get(field).and_then(Value::as_str) == Some(wanted))
}

fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn list(inner: &Inner, resource: &str, params: &[(String, String)]) -> Response {
    let mut wheres: Vec<Predicate> = Vec::new();
    let mut sorts: Vec<(String, bool)> = Vec::new();
    let (mut limit, mut offset, mut with_total) = (20usize, 0usize, true);
    for (k, v) in params {
        match k.as_str() {
            "where" => match predicate::parse(v) {
                Ok(p) => wheres.push(p),
                Err(e) => return invalid_input(&format!("Malformed parameter: where: {e}")),
            },
            "sort" => {
                let mut parts = v.split_whitespace();
                let field = parts.next().unwrap_or_default().to_string();
                let ascending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
                    None | Some("asc") => true,
                    Some("desc") => false,
                    Some(other) => return invalid_input(&format!("Malformed parameter: sort: direction {other}")),
                };
                sorts.push((field, ascending));
            }
            "limit" => match v.parse::<usize>() {
                Ok(n) if n <= MAX_LIMIT => limit = n,
                _ => return invalid_input(&format!("Malformed parameter: limit: must be 0..={MAX_LIMIT}")),
            },
            "offset" => match v.parse::<usize>() {
                Ok(n) if n <= MAX_OFFSET => offset = n,
                _ => return invalid_input(&format!("Malformed parameter: offset: must be 0..={MAX_OFFSET}")),
            },
            "withTotal" => with_total = v != "false",
            _ => {}
        }
    }
    let empty = Vec::new();
    let mut items: Vec<&Value> = inner
        .resources
        .get(resource)
        .unwrap_or(&empty)
        .iter()
        .filter(|v| wheres.iter().all(|p| p.matches(v)))
        .collect();
    if !sorts.is_empty() {
        items.sort_by(|a, b| {
            for (field, ascending) in &sorts {
                let ord = match (get_path(a, field), get_path(b, field)) {
                    (Some(x), Some(y)) => predicate::compare(x, y).unwrap_or(Ordering::Equal),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                };
                let ord = if *ascending { ord } else { ord.reverse() };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        });
    }
    let total = items.len();
    let results: Vec<Value> = items.into_iter().skip(offset).take(limit).cloned().collect();
    let mut body = json!({"limit": limit, "offset": offset, "count": results.len(), "results": results});
    if with_total {
        body["total"] = json!(total);
    }
    json_response(StatusCode::OK, &body)
}

fn timestamp(inner: &Inner) -> String {
    let now = chrono::Utc::now() + chrono::Duration::from_std(inner.offset).unwrap_or_default();
    now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(ct_error(
            StatusCode::BAD_REQUEST,
            "InvalidJsonInput",
            "Request body does not contain valid JSON.",
            Some(("detailedErrorMessage", json!("expected an object"))),
        )),
        Err(e) => Err(ct_error(
            StatusCode::BAD_REQUEST,
            "InvalidJsonInput",
            "Request body does not contain valid JSON.",
            Some(("detailedErrorMessage", json!(e.to_string()))),
        )),
    }
}

fn channel_id(v: &Value) -> Option<&str> {
    v.get("supplyChannel")
        .and_then(|c| c.get("id").or_else(|| c.get("key")))
        .and_then(Value::as_str)
}

fn create(inner: &mut Inner, resource: &str, body: &[u8]) -> Response {
    let draft = match parse_object(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = timestamp(inner);
    let mut obj = draft.clone();
    if resource == "inventory" {
        let Some(sku) = draft.get("sku").and_then(Value::as_str) else {
            return missing_field("sku");
        };
        let Some(quantity) = draft.get("quantityOnStock").and_then(Value::as_i64) else {
            return missing_field("quantityOnStock");
        };
        let draft_value = Value::Object(draft.clone());
        let channel = channel_id(&draft_value);
        let duplicate = inner.resources.get(resource).is_some_and(|list| {
            list.iter()
                .any(|e| e.get("sku").and_then(Value::as_str) == Some(sku) && channel_id(e) == channel)
        });
        if duplicate {
            return ct_error(
                StatusCode::BAD_REQUEST,
                "DuplicateField",
                &format!("An inventory entry for the SKU '{sku}' and this supply channel already exists."),
                Some(("field", json!("sku"))),
            );
        }
        if let Some(c) = obj.get_mut("supplyChannel").and_then(Value::as_object_mut) {
            c.insert("typeId".into(), json!("channel"));
        }
        obj.insert("availableQuantity".into(), json!(quantity));
    }
    obj.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    obj.insert("version".into(), json!(1));
    obj.insert("createdAt".into(), json!(now));
    obj.insert("lastModifiedAt".into(), json!(now));
    let value = Value::Object(obj);
    inner
        .resources
        .entry(resource.to_string())
        .or_default()
        .push(value.clone());
    json_response(StatusCode::CREATED, &value)
}

fn missing_field(field: &str) -> Response {
    ct_error(
        StatusCode::BAD_REQUEST,
        "InvalidJsonInput",
        "Request body does not contain valid JSON.",
        Some((
            "detailedErrorMessage",
            json!(format!("{field}: Missing required value")),
        )),
    )
}

fn version_conflict(id: &str, expected: u64, actual: u64) -> Response {
    let message =
        format!("Object {id} has a different version than expected. Expected: {expected} - Actual: {actual}.");
    ct_error(
        StatusCode::CONFLICT,
        "ConcurrentModification",
        &message,
        Some(("currentVersion", json!(actual))),
    )
}

fn update(inner: &mut Inner, resource: &str, id: &str, body: &[u8]) -> Response {
    let Some(index) = find(inner, resource, id) else {
        return not_found_id(id);
    };
    let draft = match parse_object(body) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(version) = draft.get("version").and_then(Value::as_u64) else {
        return missing_field("version");
    };
    let Some(actions) = draft.get("actions").and_then(Value::as_array) else {
        return missing_field("actions");
    };
    let now = timestamp(inner);
    let conflict = inner.conflicts > 0;
    if conflict {
        inner.conflicts -= 1;
    }
    let stored = &mut inner.resources.get_mut(resource).expect("found above")[index];
    let current = stored.get("version").and_then(Value::as_u64).unwrap_or(0);
    let real_id = stored.get("id").and_then(Value::as_str).unwrap_or(id).to_string();
    if conflict {
        // Someone else wrote first.
        stored["version"] = json!(current + 1);
        stored["lastModifiedAt"] = json!(now);
        return version_conflict(&real_id, version, current + 1);
    }
    if version != current {
        return version_conflict(&real_id, version, current);
    }
    let mut next = stored.clone();
    for action in actions {
        if let Err(message) = apply(resource, &mut next, action) {
            return ct_error(StatusCode::BAD_REQUEST, "InvalidOperation", &message, None);
        }
    }
    next["version"] = json!(current + 1);
    next["lastModifiedAt"] = json!(now);
    *stored = next.clone();
    json_response(StatusCode::OK, &next)
}

fn delete(inner: &mut Inner, resource: &str, id: &str, params: &[(String, String)]) -> Response {
    let Some(index) = find(inner, resource, id) else {
        return not_found_id(id);
    };
    let list = inner.resources.get_mut(resource).expect("found above");
    let current = list[index].get("version").and_then(Value::as_u64).unwrap_or(0);
    let Some(version) = params
        .iter()
        .find(|(k, _)| k == "version")
        .and_then(|(_, v)| v.parse::<u64>().ok())
    else {
        return invalid_input("Missing parameter: version");
    };
    if version != current {
        let real_id = list[index].get("id").and_then(Value::as_str).unwrap_or(id).to_string();
        return version_conflict(&real_id, version, current);
    }
    let removed = list.remove(index);
    json_response(StatusCode::OK, &removed)
}

fn int_field(action: &Value, field: &str) -> Result<i64, String> {
    action
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{field}: Missing required value (an integer)"))
}

fn add_stock(entry: &mut Value, delta: i64) {
    let on_stock = entry.get("quantityOnStock").and_then(Value::as_i64).unwrap_or(0);
    let available = entry
        .get("availableQuantity")
        .and_then(Value::as_i64)
        .unwrap_or(on_stock);
    entry["quantityOnStock"] = json!(on_stock + delta);
    entry["availableQuantity"] = json!(available + delta);
}

fn set_or_remove(target: &mut Value, field: &str, value: Option<&Value>) {
    if let Value::Object(obj) = target {
        match value {
            Some(v) if !v.is_null() => {
                obj.insert(field.to_string(), v.clone());
            }
            _ => {
                obj.remove(field);
            }
        }
    }
}

/// Applies one update action to `target` (a copy; nothing is stored when an action fails).
fn apply(resource: &str, target: &mut Value, action: &Value) -> Result<(), String> {
    let name = action.get("action").and_then(Value::as_str).unwrap_or_default();
    match (resource, name) {
        ("inventory", "addQuantity") => add_stock(target, int_field(action, "quantity")?),
        ("inventory", "removeQuantity") => add_stock(target, -int_field(action, "quantity")?),
        ("inventory", "changeQuantity") => {
            let on_stock = target.get("quantityOnStock").and_then(Value::as_i64).unwrap_or(0);
            add_stock(target, int_field(action, "quantity")? - on_stock);
        }
        ("inventory", "setRestockableInDays") => {
            set_or_remove(target, "restockableInDays", action.get("restockableInDays"))
        }
        ("inventory", "setExpectedDelivery") => {
            set_or_remove(target, "expectedDelivery", action.get("expectedDelivery"))
        }
        ("inventory", "setSupplyChannel") => {
            let channel = action.get("supplyChannel").map(|c| {
                let mut c = c.clone();
                c["typeId"] = json!("channel");
                c
            });
            set_or_remove(target, "supplyChannel", channel.as_ref())
        }
        (_, "setKey") => set_or_remove(target, "key", action.get("key")),
        (_, "setCustomField") => {
            let field = action
                .get("name")
                .and_then(Value::as_str)
                .ok_or("name: Missing required value")?;
            if target.get("custom").is_none_or(Value::is_null) {
                return Err("The resource has no custom type: setCustomType first.".into());
            }
            let custom = &mut target["custom"];
            if custom.get("fields").is_none_or(|f| !f.is_object()) {
                custom["fields"] = json!({});
            }
            set_or_remove(&mut custom["fields"], field, action.get("value"));
        }
        _ => {
            return Err(format!(
                "The action '{name}' is not supported on {resource} by this fake."
            ))
        }
    }
    Ok(())
}
