//! The statistics of a comparison: nearest-rank median, a two-sided Mann–Whitney U test, a
//! bootstrap interval of the ratio of medians, Holm's step-down correction.

/// A Mann–Whitney U test of two samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample (ties count one half).
    pub u: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// True when the p-value is exact (small samples without ties), false for the normal
    /// approximation (tie and continuity corrected).
    pub exact: bool,
}

/// The median of `values` under the analysis's percentile rank (nearest rank, the lower middle
/// value of an even count), on exact values; `None` when empty.
pub fn median(values: &[u64]) -> Option<u64> {
    let _ = values;
    todo!("helper: stats")
}

/// Two-sided Mann–Whitney U test of `a` against `b`; `None` when either is empty.
pub fn mann_whitney(a: &[u64], b: &[u64]) -> Option<MannWhitney> {
    let _ = (a, b);
    todo!("helper: stats")
}

/// Percentile bootstrap interval at `confidence` (0.95) of `median(new) / median(base)`,
/// resampling each side with replacement `resamples` times; deterministic under `seed`.
/// `None` when either side is empty or a base median is zero.
pub fn bootstrap_ratio_ci(
    base: &[u64],
    new: &[u64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    let _ = (base, new, resamples, confidence, seed);
    todo!("helper: stats")
}

/// Holm's step-down adjusted p-values, in the input's order (each capped at 1 and never below
/// an earlier-ranked one's).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let _ = p_values;
    todo!("helper: stats")
}
