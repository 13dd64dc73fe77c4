//! `coldbench history`: how cold starts moved across many runs (a nightly series, say).
//!
//! [`collect`] reads run directories into a [`History`]: per run and per variant × metric the
//! p5, p50 and p95 of the values a comparison looks at ([`crate::compare::values`](fn@crate::compare::values), under the
//! one percentile definition), and whether that run's `compare.json` found the cell regressed.
//! The report module renders it: `report::history` writes `history.md` and
//! `report::charts::history_charts` draws a trend chart per variant.
//!
//! Data flows one way: this module reads `results` and `compare` (run.json, compare.json); the
//! history model ([`History`], [`RunPoint`], [`MetricPoint`]) is plain data that `report`
//! renders, and nothing here imports `report`.

mod discover;
mod model;
mod pattern;
mod point;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;

pub use model::{History, MetricPoint, RunPoint, SHORT_COMMIT};

use crate::units::clip;

/// Most runs a history keeps: beyond it, the newest are kept and a warning says how many were
/// dropped (a chart of a thousand points is already dense).
pub const MAX_RUNS: usize = 1_000;

/// Why a history could not be collected or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// An argument is neither a directory nor a pattern.
    #[error("{0}: not a directory")]
    NotADirectory(PathBuf),
    /// A directory holds no run.json, and none of its child directories do.
    #[error("{0}: neither a run directory (no run.json) nor a directory of runs")]
    NoRunsIn(PathBuf),
    /// A pattern matches no run directory.
    #[error("{0}: the pattern matches no run directory")]
    NoMatch(PathBuf),
    /// Run directories were found but no run.json could be read.
    #[error("no readable run: {}", list_skipped(.0))]
    NoReadableRun(Vec<String>),
    /// No arguments.
    #[error("no run directories given")]
    NoArguments,
}

/// The first few of `skipped`, and how many more.
fn list_skipped(skipped: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = skipped
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    if skipped.len() > SHOWN {
        text.push_str(&format!("; and {} more", skipped.len() - SHOWN));
    }
    text
}

/// Reads the runs `dirs` name, oldest first.
///
/// Each argument is a run directory (it has a run.json), a directory of run directories (every
/// child directory with a run.json, one level down), or a glob pattern with `*` and `?` (see
/// `pattern`) whose matches are either. A run whose run.json cannot be read is skipped with
/// a warning naming the file; so is an unusable compare.json (the run is kept, unmarked). A
/// run id seen twice keeps its first directory. Beyond [`MAX_RUNS`] the newest are kept.
pub fn collect(dirs: &[PathBuf]) -> Result<History, HistoryError> {
    if dirs.is_empty() {
        return Err(HistoryError::NoArguments);
    }
    let mut warnings = Vec::new();
    let run_dirs = discover::run_dirs(dirs, &mut warnings)?;
    let mut points: Vec<RunPoint> = Vec::new();
    let mut first_dir: HashMap<String, PathBuf> = HashMap::new();
    let mut skipped = Vec::new();
    for dir in &run_dirs {
        let point = match point::load_point(dir, &mut warnings) {
            Ok(p) => p,
            Err(cause) => {
                skipped.push(format!("skipped {cause}"));
                continue;
            }
        };
        if let Some(kept) = first_dir.get(&point.run_id) {
            warnings.push(format!(
                "skipped {}: run {} is already read from {}",
                dir.display(),
                clip(&point.run_id),
                kept.display()
            ));
            continue;
        }
        first_dir.insert(point.run_id.clone(), dir.clone());
        points.push(point);
    }
    if points.is_empty() {
        return Err(HistoryError::NoReadableRun(skipped));
    }
    warnings.extend(skipped);
    points.sort_by(|a, b| (&a.started_at, &a.run_id).cmp(&(&b.started_at, &b.run_id)));
    if points.len() > MAX_RUNS {
        let dropped = points.len() - MAX_RUNS;
        points.drain(..dropped);
        warnings.push(format!(
            "{} runs found: the oldest {dropped} are left out (at most {MAX_RUNS} are drawn)",
            dropped + MAX_RUNS
        ));
    }
    Ok(History { points, warnings })
}
