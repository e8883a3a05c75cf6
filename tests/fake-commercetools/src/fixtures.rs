//! The recorded resources a fake can serve: the public fixture corpus
//! (`shared/fixtures/commercetools/resources`: orders, payments, customers, products, inventory
//! entries; API extension wrappers unwrapped) and the workspace's sample `tests/data/orders` and
//! `tests/data/payments`. Both folders are found upwards from this crate, or from
//! `$CTVISMA_CT_FIXTURES` and `$CTVISMA_TEST_DATA`.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub const FIXTURES_ENV: &str = "CTVISMA_CT_FIXTURES";
pub const TEST_DATA_ENV: &str = "CTVISMA_TEST_DATA";

fn find_upwards(env: &str, relative: &str) -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var(env) {
        return Ok(PathBuf::from(dir));
    }
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|d| d.join(relative))
        .find(|d| d.is_dir())
        .ok_or_else(|| {
            format!(
                "{relative} not found: set {env} (searched upwards from {})",
                start.display()
            )
        })
}

/// `shared/fixtures/commercetools/resources`.
pub fn fixtures_dir() -> Result<PathBuf, String> {
    find_upwards(FIXTURES_ENV, "shared/fixtures/commercetools/resources")
}

/// The workspace's `tests/data` (holding `orders/` and `payments/`).
pub fn test_data_dir() -> Result<PathBuf, String> {
    find_upwards(TEST_DATA_ENV, "tests/data/orders").map(|d| d.parent().map(Path::to_path_buf).unwrap_or(d))
}

/// The resource path a fixture file belongs under, from its name.
fn resource_of(file_name: &str) -> Option<&'static str> {
    [
        ("order-", "orders"),
        ("payment-", "payments"),
        ("customer-", "customers"),
        ("product-", "products"),
        ("inventory-entry-", "inventory"),
    ]
    .into_iter()
    .find(|(prefix, _)| file_name.starts_with(prefix))
    .map(|(_, r)| r)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn sorted_json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// The stored resource in a file: itself, or the `resource.obj` of an API extension request.
fn unwrap(value: Value) -> Value {
    if value.get("action").is_some() {
        if let Some(obj) = value.get("resource").and_then(|r| r.get("obj")) {
            return obj.clone();
        }
    }
    value
}

/// Adds `value` unless a resource with its id and a higher version is already there.
fn keep_newest(out: &mut Vec<(&'static str, Value)>, resource: &'static str, value: Value) {
    let Some(id) = value.get("id").and_then(Value::as_str).map(str::to_string) else {
        return;
    };
    let version = |v: &Value| v.get("version").and_then(Value::as_u64).unwrap_or(0);
    match out
        .iter_mut()
        .find(|(r, v)| *r == resource && v.get("id").and_then(Value::as_str) == Some(&id))
    {
        Some((_, old)) if version(old) <= version(&value) => *old = value,
        Some(_) => {}
        None => out.push((resource, value)),
    }
}

/// The fixture corpus' resources as `(resource path, value)`. Files without an `id` (drafts)
/// and product projections are left out; of two files with the same id the higher version (then
/// the later file name) wins.
pub fn corpus() -> Result<Vec<(&'static str, Value)>, String> {
    let mut out = Vec::new();
    for path in sorted_json_files(&fixtures_dir()?)? {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Some(resource) = resource_of(name) else { continue };
        let value = unwrap(read_json(&path)?);
        if resource == "products" && value.get("masterData").is_none() {
            continue;
        }
        keep_newest(&mut out, resource, value);
    }
    Ok(out)
}

/// `tests/data/orders/*.json` and `tests/data/payments/*.json`.
pub fn samples() -> Result<Vec<(&'static str, Value)>, String> {
    let data = test_data_dir()?;
    let mut out = Vec::new();
    for (folder, resource) in [("orders", "orders"), ("payments", "payments")] {
        for path in sorted_json_files(&data.join(folder))? {
            keep_newest(&mut out, resource, unwrap(read_json(&path)?));
        }
    }
    Ok(out)
}

/// [`corpus`] followed by [`samples`].
pub fn all() -> Result<Vec<(&'static str, Value)>, String> {
    let mut out = corpus()?;
    for (resource, value) in samples()? {
        keep_newest(&mut out, resource, value);
    }
    Ok(out)
}
