//! Two runs side by side: per variant × metric, the ratio of medians with a bootstrap
//! confidence interval, a Mann–Whitney U test with Holm's correction across the cells, and a
//! verdict that needs both significance and a change beyond the noise band (criterion's rule);
//! plus k6-style thresholds ([`threshold`]) and named baselines ([`baseline`]).
//!
//! Data flows one way: two [`RunRecord`]s (and their [`crate::analysis::Analysis`]) in, a
//! [`CompareReport`] out; the report module renders it and commands choose the exit code.

pub mod baseline;
pub mod cells;
pub mod differences;
pub mod metric;
pub mod stats;
pub mod threshold;
pub mod values;

pub use baseline::{load, load_baseline, save_baseline, BaselineError};
pub use metric::{Metric, Milestone};
pub use values::values;

use serde::{Deserialize, Serialize};

use crate::results::RunRecord;

/// Defaults of the verdict rule.
pub const DEFAULT_NOISE: f64 = 0.05;
/// Significance level after Holm's correction.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Bootstrap resamples per cell.
pub const DEFAULT_RESAMPLES: usize = 10_000;
/// Confidence level of the interval.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest samples per side for a verdict: below it, no attainable p-value can be significant
/// (the exact two-sided Mann–Whitney minimum with 3 against 3 is 0.1).
pub const MIN_SAMPLES: usize = 5;

/// How to compare.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Practical noise band, a share of the variant's total cold start: a change smaller than
    /// `noise` × the baseline's total median is never a regression (0.05 = 5 %).
    pub noise: f64,
    /// Significance level, after Holm's correction across the cells.
    pub alpha: f64,
    /// Bootstrap resamples per cell.
    pub resamples: usize,
    /// Seed of the bootstrap (results are deterministic under it).
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            noise: DEFAULT_NOISE,
            alpha: DEFAULT_ALPHA,
            resamples: DEFAULT_RESAMPLES,
            seed: 0x00c0_1dbe_0c4d,
        }
    }
}

/// What one cell says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly slower, and the whole interval lies above `1 + noise_band`.
    Regressed,
    /// Significantly faster, and the whole interval lies below `1 − noise_band`.
    Improved,
    /// Not significant, or the interval reaches into the noise band.
    NoChange,
    /// A side has fewer than `need` samples: no verdict is given.
    TooFewSamples {
        /// Samples on the smaller side.
        have: usize,
        /// [`MIN_SAMPLES`].
        need: usize,
    },
}

/// One variant × metric, compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Variant name (present in both runs).
    pub variant: String,
    /// What is compared.
    pub metric: Metric,
    /// Samples in the baseline.
    pub base_n: usize,
    /// Samples in the new run.
    pub new_n: usize,
    /// Baseline median (µs), `None` without samples.
    pub base_median_us: Option<u64>,
    /// New median (µs), `None` without samples.
    pub new_median_us: Option<u64>,
    /// New median / baseline median.
    pub ratio: Option<f64>,
    /// Bootstrap 95 % interval of the ratio.
    pub ci: Option<(f64, f64)>,
    /// Two-sided Mann–Whitney p-value, before correction.
    pub p_value: Option<f64>,
    /// The same after Holm's correction across every cell with a p-value.
    pub p_adjusted: Option<f64>,
    /// The practical noise band as a ratio of this cell's median (`1 ± noise_band`): the
    /// option's share of the variant's total cold start (see [`cells`]).
    #[serde(default)]
    pub noise_band: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Which run a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// Its run id.
    pub run_id: String,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// The commit of coldbench that measured it, when known.
    pub git_commit: Option<String>,
}

impl RunRef {
    /// The reference of `record`.
    pub fn of(record: &RunRecord) -> Self {
        RunRef {
            run_id: record.run_id.clone(),
            started_at: record.started_at.clone(),
            git_commit: record.coldbench.git_commit.clone(),
        }
    }
}

/// A comparison of two runs: `compare.json` in the new run's directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    /// The baseline.
    pub base: RunRef,
    /// The run compared with it.
    pub new: RunRef,
    /// The rule in force.
    pub options: CompareOptions,
    /// Context that differs between the runs (CPU, cores, engine, storage driver, bandwidth,
    /// latency, node kind, coldbench version), as warnings printed above the verdicts.
    pub differences: Vec<String>,
    /// Variants in the baseline only.
    pub only_in_base: Vec<String>,
    /// Variants in the new run only.
    pub only_in_new: Vec<String>,
    /// Every compared cell: variants in the new run's order, metrics in [`Metric`] order.
    pub cells: Vec<Cell>,
}

impl CompareReport {
    /// The cells that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(|c| c.verdict == Verdict::Regressed)
    }
}

/// Compares `new` with `base`: variants matched by name (one side only is listed, not an
/// error), every cell tested and judged, context differences listed.
pub fn compare(base: &RunRecord, new: &RunRecord, options: &CompareOptions) -> CompareReport {
    let names = |r: &RunRecord| {
        r.variants
            .iter()
            .map(|v| v.name.clone())
            .collect::<Vec<_>>()
    };
    let (in_base, in_new) = (names(base), names(new));
    let shared: Vec<String> = in_new
        .iter()
        .filter(|v| in_base.contains(v))
        .cloned()
        .collect();
    let mut report = CompareReport {
        base: RunRef::of(base),
        new: RunRef::of(new),
        options: *options,
        differences: differences::differences(base, new),
        only_in_base: in_base
            .iter()
            .filter(|v| !in_new.contains(v))
            .cloned()
            .collect(),
        only_in_new: in_new
            .iter()
            .filter(|v| !in_base.contains(v))
            .cloned()
            .collect(),
        cells: cells::cells(base, new, &shared, options),
    };
    if let Some(warning) = moved_together(&report.cells) {
        report.differences.push(warning);
    }
    report
}

/// A warning when every compared variant's total regressed (or every one improved), two or more
/// of them: a slower machine or engine moves all variants alike, so the host is the first
/// suspect, not the images. Seen here: an unchanged night on a shared VM, every total +17…+25 %.
fn moved_together(cells: &[Cell]) -> Option<String> {
    let totals: Vec<&Cell> = cells
        .iter()
        .filter(|c| c.metric == Metric::Phase(crate::results::Phase::Total))
        .collect();
    let first = totals.first()?.verdict;
    let alike = totals.len() >= 2
        && matches!(first, Verdict::Regressed | Verdict::Improved)
        && totals.iter().all(|c| c.verdict == first);
    if !alike {
        return None;
    }
    let changes: Vec<f64> = totals
        .iter()
        .filter_map(|c| c.ratio)
        .map(|r| (r - 1.0) * 100.0)
        .collect();
    let low = changes.iter().copied().fold(f64::INFINITY, f64::min);
    let high = changes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let word = if first == Verdict::Regressed {
        "regressed"
    } else {
        "improved"
    };
    Some(format!(
        "every variant's total {word} ({low:+.0} % to {high:+.0} %): a change of machine load, disk or engine moves all variants alike; rule the host out before blaming the images"
    ))
}
#[cfg(test)]
mod tests;
