//! Arguments → run directories: a run directory, a directory of run directories, or a glob.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{pattern, HistoryError};

/// The run directories the arguments name, in argument order (each directory's runs sorted by
/// name), without duplicates; `warnings` gets run directories that have no run.json.
pub(super) fn run_dirs(
    args: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Vec<PathBuf>, HistoryError> {
    let mut seen = HashSet::new();
    let mut dirs = Vec::new();
    for arg in args {
        for dir in expand(arg, warnings)? {
            let key = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            if seen.insert(key) {
                dirs.push(dir);
            }
        }
    }
    Ok(dirs)
}

/// The run directories of one argument.
fn expand(arg: &Path, warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, HistoryError> {
    if pattern::has_wildcard(arg) && !arg.exists() {
        let runs: Vec<PathBuf> = pattern::expand(arg)
            .iter()
            .flat_map(|m| runs_in(m, warnings))
            .collect();
        if runs.is_empty() {
            return Err(HistoryError::NoMatch(arg.to_path_buf()));
        }
        return Ok(runs);
    }
    if !arg.is_dir() {
        return Err(HistoryError::NotADirectory(arg.to_path_buf()));
    }
    let runs = runs_in(arg, warnings);
    if runs.is_empty() {
        return Err(HistoryError::NoRunsIn(arg.to_path_buf()));
    }
    Ok(runs)
}

/// `[dir]` when it holds a run.json; else its children that do, sorted by name.
fn runs_in(dir: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    if is_run(dir) {
        return vec![dir.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut children: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    children.sort();
    let mut runs = Vec::new();
    for child in children {
        if is_run(&child) {
            runs.push(child);
        } else if child.join("samples.jsonl").is_file() {
            warnings.push(format!(
                "skipped {}: samples.jsonl but no run.json (an interrupted run?)",
                child.display()
            ));
        }
    }
    runs
}

/// True when `dir` has a run.json.
fn is_run(dir: &Path) -> bool {
    dir.join("run.json").is_file()
}
