//! The history model: plain data, one point per run, read by the Markdown table and the charts.

use std::path::PathBuf;

use crate::compare::Metric;
use crate::units::clip_to;

/// Runs in time order, and what was skipped on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// One per run, oldest first (by `started_at`, then run id).
    pub points: Vec<RunPoint>,
    /// Runs skipped or dropped, and why (unreadable run.json, duplicates, over the bound).
    pub warnings: Vec<String>,
}

impl History {
    /// Every variant seen, in order of first appearance (oldest run first, then each run's
    /// variant order).
    pub fn variants(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for cell in self.points.iter().flat_map(|p| &p.cells) {
            if !names.contains(&cell.variant.as_str()) {
                names.push(&cell.variant);
            }
        }
        names
    }

    /// True when at least one run was compared with a baseline (has a usable compare.json).
    pub fn compared(&self) -> bool {
        self.points.iter().any(|p| p.baseline.is_some())
    }
}

/// One run's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPoint {
    /// Its run id.
    pub run_id: String,
    /// The directory it was read from.
    pub dir: PathBuf,
    /// UTC start, RFC 3339 (as stored; may be malformed in hand-edited files).
    pub started_at: String,
    /// The commit of coldbench that measured it, shortened to [`SHORT_COMMIT`] characters.
    pub git_commit: Option<String>,
    /// Run id of the baseline its compare.json compared it with, when it has one.
    pub baseline: Option<String>,
    /// The run was simulated (`driver = "sim"`), not measured.
    pub simulated: bool,
    /// Variant × metric with at least one value: variants in the run's order, metrics in
    /// [`Metric::ALL`] order.
    pub cells: Vec<MetricPoint>,
}

/// Characters of a commit hash kept for labels.
pub const SHORT_COMMIT: usize = 7;

impl RunPoint {
    /// The statistics of `variant` × `metric`, when the run has values for them.
    pub fn cell(&self, variant: &str, metric: Metric) -> Option<&MetricPoint> {
        self.cells
            .iter()
            .find(|c| c.variant == variant && c.metric == metric)
    }

    /// The metrics of `variant` that compare.json found regressed.
    pub fn regressions<'a>(&'a self, variant: &'a str) -> impl Iterator<Item = Metric> + 'a {
        self.cells
            .iter()
            .filter(move |c| c.variant == variant && c.regressed)
            .map(|c| c.metric)
    }

    /// `MM-DD` of `started_at` (`11-28`), or `?` when it is not a date.
    pub fn short_date(&self) -> &str {
        match self.started_at.get(4..10) {
            Some(d) if d.starts_with('-') => &d[1..],
            _ => "?",
        }
    }

    /// `YYYY-MM-DD HH:MM` of `started_at`, or the text as stored (clipped) when it is not
    /// RFC 3339.
    pub fn date_time(&self) -> String {
        match (self.started_at.get(..10), self.started_at.get(11..16)) {
            (Some(day), Some(time)) if self.started_at.as_bytes().get(10) == Some(&b'T') => {
                format!("{day} {time}")
            }
            _ => clip_to(&self.started_at, 40),
        }
    }
}

/// One variant × metric of one run: nearest-rank percentiles (µs) of the values a comparison
/// looks at ([`crate::compare::values`](fn@crate::compare::values)).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// Variant name.
    pub variant: String,
    /// The metric.
    pub metric: Metric,
    /// Values it was computed from (at least 1).
    pub n: usize,
    /// 5th percentile.
    pub p5: u64,
    /// Median.
    pub p50: u64,
    /// 95th percentile.
    pub p95: u64,
    /// The run's compare.json says this cell regressed against its baseline.
    pub regressed: bool,
}
