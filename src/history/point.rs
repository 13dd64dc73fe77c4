//! One run directory → one [`RunPoint`]: percentiles from run.json, regressions from
//! compare.json.

use std::collections::BTreeSet;
use std::path::Path;

use super::model::{MetricPoint, RunPoint, SHORT_COMMIT};
use crate::analysis::percentile::percentile;
use crate::compare::BaselineError;
use crate::compare::{load, values, CompareReport, Metric};
use crate::results::RunRecord;
use crate::units::clip;

/// Reads `dir`'s run.json (and compare.json when present); `Err` says why the run is skipped.
/// Problems with compare.json only are pushed on `warnings` and the run is kept.
pub(super) fn load_point(dir: &Path, warnings: &mut Vec<String>) -> Result<RunPoint, String> {
    let record = load(dir).map_err(|e| match e {
        BaselineError::Read { path, cause } => format!("{}: {cause}", path.display()),
        other => other.to_string(),
    })?;
    let compare = load_compare(dir, &record.run_id, warnings);
    Ok(point_of(&record, dir, compare.as_ref()))
}

/// The point of `record` read from `dir`, with the regressions of `compare`.
pub(super) fn point_of(
    record: &RunRecord,
    dir: &Path,
    compare: Option<&CompareReport>,
) -> RunPoint {
    let regressed: BTreeSet<(&str, Metric)> = compare
        .map(|c| {
            c.regressions()
                .map(|cell| (cell.variant.as_str(), cell.metric))
                .collect()
        })
        .unwrap_or_default();
    let mut cells = Vec::new();
    for variant in &record.variants {
        for metric in Metric::ALL {
            let vals = values(record, &variant.name, metric);
            if let Some(mut cell) = metric_point(&variant.name, metric, &vals) {
                cell.regressed = regressed.contains(&(variant.name.as_str(), metric));
                cells.push(cell);
            }
        }
    }
    RunPoint {
        run_id: record.run_id.clone(),
        dir: dir.to_path_buf(),
        started_at: record.started_at.clone(),
        git_commit: short_commit(record.coldbench.git_commit.as_deref()),
        baseline: compare.map(|c| c.base.run_id.clone()),
        simulated: record.simulation.is_some(),
        cells,
    }
}

/// p5, p50 and p95 of `vals` under the one percentile definition; `None` when empty.
fn metric_point(variant: &str, metric: Metric, vals: &[u64]) -> Option<MetricPoint> {
    Some(MetricPoint {
        variant: variant.to_string(),
        metric,
        n: vals.len(),
        p5: percentile(vals, 0.05)?,
        p50: percentile(vals, 0.50)?,
        p95: percentile(vals, 0.95)?,
        regressed: false,
    })
}

/// The first [`SHORT_COMMIT`] characters of a commit hash; `None` when absent or blank.
fn short_commit(commit: Option<&str>) -> Option<String> {
    let c = commit?.trim();
    (!c.is_empty()).then(|| c.chars().take(SHORT_COMMIT).collect())
}

/// `dir/compare.json` when it exists, parses and is about the run `run_id`; a warning otherwise
/// (except when it does not exist: most runs have no baseline).
fn load_compare(dir: &Path, run_id: &str, warnings: &mut Vec<String>) -> Option<CompareReport> {
    let path = dir.join("compare.json");
    if !path.exists() {
        return None;
    }
    let parsed = std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            serde_json::from_slice::<CompareReport>(&bytes).map_err(|e| e.to_string())
        });
    match parsed {
        Ok(report) if report.new.run_id == run_id => Some(report),
        Ok(report) => {
            warnings.push(format!(
                "ignored {}: it compares run {}, not {}",
                path.display(),
                clip(&report.new.run_id),
                clip(run_id)
            ));
            None
        }
        Err(cause) => {
            warnings.push(format!(
                "ignored {}: {cause} (regressions of this run are not marked)",
                path.display()
            ));
            None
        }
    }
}
