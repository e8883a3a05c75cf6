//! Reading endpoint and credential variables (names per `../shared/CONTRACT.md`): an empty
//! variable counts as unset, and a missing required one is a setup error naming it.

use crate::error::VismaError;

pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub(crate) fn need(target: &'static str, name: &str) -> Result<String, VismaError> {
    var(name).ok_or_else(|| VismaError::Setup {
        target,
        missing: vec![format!("environment variable {name}")],
    })
}
