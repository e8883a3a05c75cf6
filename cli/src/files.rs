//! Reading inputs: files and folders of JSON (and CSV settlement reports), in a stable order.

use std::path::{Path, PathBuf};

/// Expands folders (recursively) to their `.json` and `.csv` files; files are kept as given. Sorted within
/// each folder so output never depends on the file system's listing order.
pub fn input_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, (PathBuf, std::io::Error)>> {
    let mut out = Vec::new();
    for p in paths {
        collect(p, &mut out);
    }
    out
}

fn collect(path: &Path, out: &mut Vec<Result<PathBuf, (PathBuf, std::io::Error)>>) {
    if !path.is_dir() {
        out.push(Ok(path.to_path_buf()));
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd.filter_map(Result::ok).map(|e| e.path()).collect::<Vec<_>>(),
        Err(e) => return out.push(Err((path.to_path_buf(), e))),
    };
    let mut entries = entries;
    entries.sort();
    for e in entries {
        if e.is_dir() || e.extension().is_some_and(|x| x == "json" || x == "csv") {
            collect(&e, out);
        }
    }
}
