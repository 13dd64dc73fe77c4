//! Every statistic of a run, computed once from its [`RunRecord`]; the terminal table, the
//! Markdown and HTML summaries and the charts render from [`Analysis`] and compute nothing.
//!
//! # The percentile definition
//!
//! Durations go into HdrHistograms with 3 significant figures (1 µs is the smallest value).
//! The `q`-quantile is HdrHistogram's `value_at_quantile(q)`: the smallest recorded value `v`
//! such that at least `ceil(q·n)` of the `n` values are ≤ `v` (nearest rank, so p50 of an even
//! count is the lower middle value), reported as the highest value equivalent to `v` at 3
//! significant figures (at most 0.1 % above it). Every percentile uses it: the phase summaries,
//! the download p50, burst milestones across repetitions and the CDF markers; short lists go
//! through [`percentile::histogram_of`] so they get the same definition, and [`percentile::rank`]
//! picks the sample a quantile lands on (the median sample of a chart).
//!
//! # Which samples are summarized
//!
//! Not warm-ups, successful, and cold (the registry served exactly the image's bytes). Failed
//! and not-cold samples are counted ([`Counts`]) and warned about ([`Warning`]). Summaries come
//! from run.json's stored histograms when those hold exactly the summarized samples; otherwise
//! (older runs whose histograms included not-cold samples, missing or garbled histograms) they
//! are recomputed from the samples.

pub mod burst;
pub mod compare;
pub mod context;
pub mod histograms;
pub mod percentile;
pub mod samples;
#[cfg(test)]
mod tests;
pub mod variant;
pub mod warnings;

pub use burst::{burst_floor_us, burst_milestones, BurstStats, Milestones};
pub use compare::{Comparison, Ratio};
pub use context::Context;
pub use histograms::Recorder;
pub use samples::{is_summarized, summarized, Counts};
pub use variant::{Floor, FloorKind, ProbeGaps, VariantAnalysis};
pub use warnings::Warning;

use crate::results::RunRecord;

/// Every statistic of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// One per variant, in the record's order.
    pub variants: Vec<VariantAnalysis>,
    /// The fastest against the slowest variant, with two or more summarized variants.
    pub comparison: Option<Comparison>,
    /// Link, engine, samples per variant.
    pub context: Context,
    /// Interrupted run, failed samples, not-cold samples.
    pub warnings: Vec<Warning>,
}

impl Analysis {
    /// The analysis of the variant called `name`.
    pub fn variant(&self, name: &str) -> Option<&VariantAnalysis> {
        self.variants.iter().find(|v| v.name == name)
    }
}

/// Computes every statistic of `record` (deterministic; never panics on hand-edited input).
pub fn analyze(record: &RunRecord) -> Analysis {
    let mut variants: Vec<VariantAnalysis> = record
        .variants
        .iter()
        .map(|v| VariantAnalysis::of(record, v))
        .collect();
    compare::fill_relative(&mut variants);
    Analysis {
        comparison: compare::comparison(&variants),
        context: Context::of(record, &variants),
        warnings: warnings::warnings(record, &variants),
        variants,
    }
}
