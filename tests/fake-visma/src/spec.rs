//! Loading the two OpenAPI documents, finding operations by method + path, and validating
//! JSON bodies against their schemas with the `jsonschema` crate.
//!
//! Each schema is compiled once per process from a small document holding only the schemas
//! it reaches (`{"$ref": "#/components/schemas/X", "components": {"schemas": {...}}}`), so the
//! 4 MB Visma.net spec is never compiled as a whole.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

/// Which of the two Visma APIs a schema or request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// Visma eAccounting API v2 (OpenAPI 3.1, JSON Schema 2020-12, PascalCase).
    EAccounting,
    /// Visma.net ERP API (OpenAPI 3.0, validated with draft 4 semantics).
    VismaNet,
}

/// One schema violation in a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Where: `.NET`-style property path such as `Rows[0].AccountNumber` (empty for the root).
    pub field: String,
    /// JSON Schema keyword that failed (`additionalProperties`, `required`, `type`, ...).
    pub keyword: String,
    /// Human readable message.
    pub message: String,
}

/// Env var naming the folder that holds `eaccounting/` and `vismanet/` (the specs folder).
pub const SPECS_ENV: &str = "CTVISMA_VISMA_SPECS";
const EA_FILE: &str = "eaccounting/eaccounting-v2-openapi-3.1-2026-pascalcase.yaml";
const VN_FILE: &str = "vismanet/vismanet-erp-api-openapi-3.0.4-2025-04-24.json";

pub(crate) struct Operation {
    /// Path template as written in the spec (eAccounting ones get the `/v2` prefix).
    pub template: String,
    /// `requestBody.content["application/json"].schema`, if any.
    pub body_schema: Option<Value>,
}

struct PathEntry {
    template: String,
    segments: Vec<String>,
    literal_count: usize,
    /// lower-case method -> request body schema
    methods: HashMap<String, Option<Value>>,
}

pub(crate) struct SpecDoc {
    api: Api,
    root: Value,
    paths: Vec<PathEntry>,
    validators: Mutex<HashMap<(bool, String), Arc<Validator>>>,
}

static EA: OnceLock<Result<SpecDoc, String>> = OnceLock::new();
static VN: OnceLock<Result<SpecDoc, String>> = OnceLock::new();

/// Finds the specs folder: `$CTVISMA_VISMA_SPECS`, else the first `shared/specs/visma` found
/// walking up from this crate (the workspace's sibling `shared/` folder).
pub fn specs_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var(SPECS_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in start.ancestors() {
        let candidate = dir.join("shared/specs/visma");
        if candidate.join(EA_FILE).is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "Visma specs not found: set {SPECS_ENV} or put shared/specs/visma beside the workspace \
         (searched upwards from {})",
        start.display()
    ))
}

pub(crate) fn spec(api: Api) -> Result<&'static SpecDoc, String> {
    let cell = match api {
        Api::EAccounting => &EA,
        Api::VismaNet => &VN,
    };
    cell.get_or_init(|| load(api)).as_ref().map_err(Clone::clone)
}

fn load(api: Api) -> Result<SpecDoc, String> {
    let dir = specs_dir()?;
    let (file, prefix) = match api {
        Api::EAccounting => (EA_FILE, "/v2"),
        Api::VismaNet => (VN_FILE, ""),
    };
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let root: Value = match api {
        Api::EAccounting => serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?,
        Api::VismaNet => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?,
    };
    let mut paths = Vec::new();
    if let Some(map) = root.get("paths").and_then(Value::as_object) {
        for (template, ops) in map {
            let full = format!("{prefix}{template}");
            let segments: Vec<String> = split_path(&full).map(str::to_string).collect();
            let literal_count = segments.iter().filter(|s| !s.starts_with('{')).count();
            let mut methods = HashMap::new();
            if let Some(ops) = ops.as_object() {
                for (method, op) in ops {
                    let schema = op.pointer("/requestBody/content/application~1json/schema").cloned();
                    methods.insert(method.to_ascii_lowercase(), schema);
                }
            }
            paths.push(PathEntry {
                template: full,
                segments,
                literal_count,
                methods,
            });
        }
    }
    Ok(SpecDoc {
        api,
        root,
        paths,
        validators: Mutex::new(HashMap::new()),
    })
}

pub(crate) fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl SpecDoc {
    /// The operation for `method` on a concrete `path` (API-relative: `/v2/...` or `/v1/...`).
    /// Literal segments compare case-insensitively; the template with most literals wins.
    /// `Err(true)` = the path exists with other methods, `Err(false)` = no such path.
    pub fn operation(&self, method: &str, path: &str) -> Result<Operation, bool> {
        let segs: Vec<&str> = split_path(path).collect();
        let mut best: Option<&PathEntry> = None;
        for entry in &self.paths {
            if entry.segments.len() != segs.len() {
                continue;
            }
            let matches = entry
                .segments
                .iter()
                .zip(&segs)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t.eq_ignore_ascii_case(s));
            if matches && best.is_none_or(|b| entry.literal_count > b.literal_count) {
                best = Some(entry);
            }
        }
        let entry = best.ok_or(false)?;
        match entry.methods.get(&method.to_ascii_lowercase()) {
            Some(schema) => Ok(Operation {
                template: entry.template.clone(),
                body_schema: schema.clone(),
            }),
            None => Err(true),
        }
    }

    /// Property names of `components.schemas[name]` (for `$filter` field checks, mapping).
    pub fn properties(&self, name: &str) -> Vec<String> {
        self.root
            .pointer(&format!("/components/schemas/{name}/properties"))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether property `prop` of `components.schemas[name]` admits null (`type: [.., "null"]`).
    pub fn nullable(&self, name: &str, prop: &str) -> bool {
        self.root
            .pointer(&format!("/components/schemas/{name}/properties/{prop}/type"))
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x == "null"))
    }

    fn compile(&self, schema: &Value, strict: bool) -> Result<Arc<Validator>, String> {
        let key = (strict, schema.to_string());
        if let Some(v) = lock(&self.validators).get(&key) {
            return Ok(v.clone());
        }
        let mut names = BTreeSet::new();
        self.collect_refs(schema, &mut names);
        let mut schemas = Map::new();
        for name in names {
            if let Some(s) = self.root.pointer(&format!("/components/schemas/{name}")) {
                let mut s = s.clone();
                if self.api == Api::VismaNet {
                    openapi30_fixups(&name, &mut s, strict);
                }
                schemas.insert(name, s);
            }
        }
        let mut doc = schema.clone();
        if let Value::Object(map) = &mut doc {
            map.insert("components".into(), json!({ "schemas": schemas }));
        }
        let draft = match self.api {
            Api::EAccounting => Draft::Draft202012,
            Api::VismaNet => Draft::Draft4,
        };
        let validator = jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .with_format("date-time", lenient_date_time)
            .build(&doc)
            .map_err(|e| format!("schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        lock(&self.validators).insert(key, validator.clone());
        Ok(validator)
    }

    fn collect_refs(&self, value: &Value, names: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        if let Some(name) = v.as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
                            if names.insert(name.to_string()) {
                                if let Some(s) = self.root.pointer(&format!("/components/schemas/{name}")) {
                                    self.collect_refs(s, names);
                                }
                            }
                        }
                    } else {
                        self.collect_refs(v, names);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.collect_refs(v, names)),
            _ => {}
        }
    }
}

/// OpenAPI 3.0 -> JSON Schema: `nullable: true` admits null; `DtoValueOfNullableOf*.value`
/// admits null (Visma.net accepts `{"value": null}` there); in strict mode every object schema
/// that lists properties rejects others (the spec leaves that open; the live API ignores them).
fn openapi30_fixups(name: &str, schema: &mut Value, strict: bool) {
    fn walk(v: &mut Value, strict: bool) {
        match v {
            Value::Object(map) => {
                if map.get("nullable") == Some(&Value::Bool(true)) {
                    add_null(map);
                }
                if strict && map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                for (_, child) in map.iter_mut() {
                    walk(child, strict);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|c| walk(c, strict)),
            _ => {}
        }
    }
    walk(schema, strict);
    if name.starts_with("DtoValueOfNullableOf") {
        if let Some(Value::Object(value)) = schema.pointer_mut("/properties/value") {
            add_null(value);
        }
    }
}

fn add_null(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            map.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push(json!("null"));
            }
        }
        _ => {
            // `$ref` or untyped: wrap so null is admitted too.
            let inner = Value::Object(std::mem::take(map));
            map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
        }
    }
}

/// Both APIs are .NET and accept `2024-01-31`, `2024-01-31T00:00:00` (no offset) and RFC 3339.
pub(crate) fn lenient_date_time(s: &str) -> bool {
    parse_date_prefix(s).is_some()
}

/// The calendar date of a date or date-time string in any form the APIs accept.
pub(crate) fn parse_date_prefix(s: &str) -> Option<chrono::NaiveDate> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.date_naive());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.date());
        }
    }
    None
}

/// Validates `body` against `schema` (`{"$ref": "#/components/schemas/X"}` or inline).
/// `strict` only matters for Visma.net (reject properties the DTO does not list).
pub(crate) fn validate_schema(api: Api, schema: &Value, body: &Value, strict: bool) -> Result<Vec<FieldError>, String> {
    let doc = spec(api)?;
    let validator = doc.compile(schema, strict)?;
    let mut out = Vec::new();
    for err in validator.iter_errors(body) {
        let base: Vec<String> = err.instance_path().segments().map(|s| s.to_string()).collect();
        let keyword = err.kind().keyword().to_string();
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for prop in unexpected {
                    let mut path = base.clone();
                    path.push(prop.clone());
                    out.push(FieldError {
                        field: dotted(&path),
                        keyword: keyword.clone(),
                        message: format!("Unknown property '{prop}' is not allowed here"),
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().map_or(property.to_string(), str::to_string);
                let mut path = base.clone();
                path.push(prop.clone());
                out.push(FieldError {
                    field: dotted(&path),
                    keyword,
                    message: format!("The {prop} field is required."),
                });
            }
            _ => out.push(FieldError {
                field: dotted(&base),
                keyword,
                message: err.to_string(),
            }),
        }
    }
    Ok(out)
}

/// Public entry: validate `value` against `components.schemas[schema_name]` of `api`'s spec.
/// Handy for checking a client's payload (or the fake's own responses) in tests.
pub fn validate(api: Api, schema_name: &str, value: &Value) -> Result<Vec<FieldError>, String> {
    let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
    let doc = spec(api)?;
    if doc
        .root
        .pointer(&format!("/components/schemas/{schema_name}"))
        .is_none()
    {
        return Err(format!("no schema named {schema_name}"));
    }
    validate_schema(api, &schema, value, true)
}

/// `["Rows", "0", "Foo"]` -> `Rows[0].Foo`.
fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(seg);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths() {
        let p = |v: &[&str]| dotted(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["Rows", "0", "Foo"]), "Rows[0].Foo");
        assert_eq!(p(&["VoucherText"]), "VoucherText");
        assert_eq!(p(&[]), "");
    }

    #[test]
    fn lenient_dates() {
        assert!(lenient_date_time("2024-01-31"));
        assert!(lenient_date_time("2024-01-31T00:00:00"));
        assert!(lenient_date_time("2024-01-31T10:00:00Z"));
        assert!(lenient_date_time("2024-01-31T10:00:00.123+01:00"));
        assert!(!lenient_date_time("31/01/2024"));
        assert!(!lenient_date_time("2024-13-01"));
    }
}
