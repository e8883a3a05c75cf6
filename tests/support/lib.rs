//! Support for the cross-crate integration tests: where the shared fixtures live.

use std::path::{Path, PathBuf};

/// `../shared` beside the repository (as CI and every developer machine lay it out).
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `.json` files of a fixture folder, sorted.
pub fn fixture_files(sub: &str) -> Vec<PathBuf> {
    let dir = shared_dir().join("fixtures/commercetools").join(sub);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
