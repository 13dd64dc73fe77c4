//! Verdicts for terminals and CI: a [`CompareReport`] and the [`ThresholdOutcome`]s rendered as
//! a terminal table ([`table`]), a Markdown step summary or PR comment ([`markdown`]), JUnit XML
//! ([`junit`]); and the new run's medians as github-action-benchmark ([`gab`]) and Bencher
//! ([`bmf`]) JSON, which need no baseline. Nothing here computes a comparison: numbers come from
//! [`crate::compare`] and [`crate::analysis`].
//!
//! Every renderer shows the same cells: those with samples on at least one side
//! ([`has_data`]), so a run without bursts lists no burst milestones.
//!
//! [`CompareReport`]: crate::compare::CompareReport
//! [`ThresholdOutcome`]: crate::compare::threshold::ThresholdOutcome

pub mod bmf;
pub mod gab;
pub mod junit;
pub mod markdown;
pub mod table;

mod words;

#[cfg(test)]
mod tests;

pub use bmf::render_bmf;
pub use gab::render_gab;
pub use junit::render_junit;
pub use markdown::render_markdown;
pub use table::render_terminal;

use crate::analysis::percentile::percentile;
use crate::compare::{self, Cell, Metric};
use crate::results::RunRecord;

/// One variant × metric of a single run: its median and p5–p95 spread (µs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRow {
    /// Variant name.
    pub variant: String,
    /// What was measured.
    pub metric: Metric,
    /// p50 (µs).
    pub median_us: u64,
    /// p5 (µs).
    pub lower_us: u64,
    /// p95 (µs).
    pub upper_us: u64,
    /// How many values (samples, or bursts for a milestone).
    pub n: usize,
}

/// The rows of `record`: every variant (in run order) × [`Metric::ALL`] that has values,
/// under the analysis's one percentile definition.
pub fn metric_rows(record: &RunRecord) -> Vec<MetricRow> {
    let mut rows = Vec::new();
    for variant in &record.variants {
        for metric in Metric::ALL {
            let values = compare::values(record, &variant.name, metric);
            if let Some(row) = metric_row(&variant.name, metric, &values) {
                rows.push(row);
            }
        }
    }
    rows
}

/// The row of `values` (µs), `None` when there are none.
fn metric_row(variant: &str, metric: Metric, values: &[u64]) -> Option<MetricRow> {
    Some(MetricRow {
        variant: variant.to_string(),
        metric,
        median_us: percentile(values, 0.50)?,
        lower_us: percentile(values, 0.05)?,
        upper_us: percentile(values, 0.95)?,
        n: values.len(),
    })
}

/// True when the cell has samples on at least one side: the cells every renderer shows.
pub fn has_data(cell: &Cell) -> bool {
    cell.base_n > 0 || cell.new_n > 0
}
