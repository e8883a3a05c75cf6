//! eAccounting articles: one per SKU (and one per shipping / discount account and VAT rate).
//! An invoice row books the sales account and VAT rate of its article's account coding, so the
//! coding is what makes an invoice row land where the posting rules say.
//!
//! Found by article number, created when missing, and updated only when a field we own
//! (name, coding, unit, active) differs: a second sync of an unchanged catalogue sends nothing.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::api::{Api, TARGET};
use crate::error::VismaError;
use crate::http::Deadline;
use crate::reference::odata_literal;

/// `ArticleApi.Number` / `Name` maxLength.
pub const NUMBER_MAX: usize = 40;
pub const NAME_MAX: usize = 50;

/// An article as we want it in eAccounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleData {
    /// The SKU (or our own number for shipping and discount articles).
    pub number: String,
    pub name: String,
    /// `ArticleAccountCodingApi.Id`: the sales account and VAT rate of the article.
    pub coding_id: String,
    pub unit_id: String,
}

/// What [`upsert_article`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArticleAction {
    Created,
    /// The eAccounting fields that changed.
    Updated(Vec<String>),
    Unchanged,
}

/// The article with `number`, if any.
pub async fn find_article(api: &Api, number: &str, deadline: Deadline) -> Result<Option<Value>, VismaError> {
    let query = [("$filter", format!("Number eq {}", odata_literal(number)))];
    let body = api.call(Method::GET, "/v2/articles", &query, None, deadline).await?;
    Ok(body
        .get("Data")
        .and_then(Value::as_array)
        .and_then(|d| {
            d.iter()
                .find(|a| a.get("Number").and_then(Value::as_str) == Some(number))
        })
        .cloned())
}

/// Finds the article by number and creates it or brings it up to date. Returns its id.
pub async fn upsert_article(
    api: &Api,
    want: &ArticleData,
    deadline: Deadline,
) -> Result<(String, ArticleAction), VismaError> {
    check(want)?;
    let Some(existing) = find_article(api, &want.number, deadline).await? else {
        let body = json!({
            "Number": want.number,
            "Name": want.name.chars().take(NAME_MAX).collect::<String>(),
            "CodingId": want.coding_id,
            "UnitId": want.unit_id,
            "IsActive": true,
        });
        let created = send(api, Method::POST, "/v2/articles", &body, deadline).await;
        let created = match created {
            Ok(c) => c,
            // Created concurrently by another invocation since we looked: use that one.
            Err(VismaError::Refused { ref code, .. }) if code == "4000" => {
                return match find_article(api, &want.number, deadline).await? {
                    Some(a) => Ok((id_of(&a)?, ArticleAction::Unchanged)),
                    None => Err(VismaError::Refused {
                        target: TARGET,
                        code: "4000".into(),
                        message: format!("article number {} is taken but cannot be found", want.number),
                        transient: true,
                    }),
                };
            }
            Err(e) => return Err(e),
        };
        tracing::info!(target_system = TARGET, article = %want.number, action = "created", "article upserted");
        return Ok((id_of(&created)?, ArticleAction::Created));
    };
    let id = id_of(&existing)?;
    let name: String = want.name.chars().take(NAME_MAX).collect();
    let wanted = [
        ("Name", Value::String(name)),
        ("CodingId", Value::String(want.coding_id.clone())),
        ("UnitId", Value::String(want.unit_id.clone())),
        ("IsActive", Value::Bool(true)),
    ];
    let changed: Vec<&(&str, Value)> = wanted
        .iter()
        .filter(|(field, value)| !same(field, existing.get(*field), value))
        .collect();
    if changed.is_empty() {
        return Ok((id, ArticleAction::Unchanged));
    }
    let mut body = writable_fields(&existing, &[]);
    for (field, value) in &changed {
        body.insert((*field).to_string(), value.clone());
    }
    send(
        api,
        Method::PUT,
        &format!("/v2/articles/{id}"),
        &Value::Object(body),
        deadline,
    )
    .await?;
    let fields: Vec<String> = changed.iter().map(|(f, _)| (*f).to_string()).collect();
    tracing::info!(target_system = TARGET, article = %want.number, action = "updated", changed = ?fields, "article upserted");
    Ok((id, ArticleAction::Updated(fields)))
}

/// The fields of `article` (as read) that a PUT may carry back: [`WRITABLE`] and `extra`. A PUT
/// replaces the article, so everything writable is sent again; `StockBalance` only by the stock
/// sync, so an article update never writes back a balance read a moment earlier.
pub(super) fn writable_fields(article: &Value, extra: &[&str]) -> Map<String, Value> {
    article
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !v.is_null() && (WRITABLE.contains(&k.as_str()) || extra.contains(&k.as_str())))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The `ArticleApi` fields a PUT may carry back (the rest is read-only or derived).
const WRITABLE: &[&str] = &[
    "IsActive",
    "Number",
    "Name",
    "NameEnglish",
    "NetPrice",
    "GrossPrice",
    "CodingId",
    "UnitId",
    "PurchasePrice",
    "SendToWebshop",
    "UsesMoss",
    "Note",
    "IsStock",
    "StockLocationReference",
    "FreightCosts",
    "Barcodes",
];

fn check(want: &ArticleData) -> Result<(), VismaError> {
    if want.number.is_empty() || want.number.chars().count() > NUMBER_MAX {
        return Err(VismaError::Refused {
            target: TARGET,
            code: "2000".into(),
            message: format!(
                "article number {:?} must be 1 to {NUMBER_MAX} characters for eAccounting",
                want.number
            ),
            transient: false,
        });
    }
    Ok(())
}

/// Ids are uuids, compared without regard to case; names exactly.
fn same(field: &str, stored: Option<&Value>, want: &Value) -> bool {
    match (stored, want) {
        (Some(Value::String(s)), Value::String(w)) if field.ends_with("Id") => s.eq_ignore_ascii_case(w),
        (Some(Value::String(s)), Value::String(w)) => s.trim() == w,
        (Some(s), w) => s == w,
        (None, _) => false,
    }
}

async fn send(api: &Api, method: Method, path: &str, body: &Value, deadline: Deadline) -> Result<Value, VismaError> {
    let text = serde_json::to_string(body).map_err(|e| VismaError::Protocol {
        target: TARGET,
        what: e.to_string(),
    })?;
    api.call(method, path, &[], Some(&text), deadline).await
}

fn id_of(article: &Value) -> Result<String, VismaError> {
    article
        .get("Id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| VismaError::Protocol {
            target: TARGET,
            what: "an article without Id".into(),
        })
}
