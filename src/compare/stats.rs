//! The statistics of a comparison: nearest-rank median, a two-sided Mann–Whitney U test, a
//! bootstrap interval of the ratio of medians, Holm's step-down correction.
//!
//! Every function is total: empty input gives `None` (or an empty list), never a panic or NaN.

mod rank_sum;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use rand::distr::{Distribution, Uniform};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::analysis::percentile::rank;

/// Largest sample, on either side, with an exact Mann–Whitney p-value (without ties): the null
/// distribution's counts reach C(100, 50) ≈ 1.0e29 and stay exact in i128; computing them takes
/// at most n·n·m integer steps (125,000 at 50 against 50: tens of microseconds).
pub const EXACT_MAX_SIDE: usize = 50;

/// Fewest bootstrap resamples: smaller requests are raised to it.
pub const MIN_RESAMPLES: usize = 100;

/// Most bootstrap resamples: larger requests are lowered to it.
pub const MAX_RESAMPLES: usize = 100_000;

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
    let mut buffer = values.to_vec();
    median_in_place(&mut buffer)
}

/// [`median`] of `buffer`, reordering it (a selection, not a sort).
fn median_in_place(buffer: &mut [u64]) -> Option<u64> {
    let middle = rank(buffer.len(), 0.5)?;
    Some(*buffer.select_nth_unstable(middle).1)
}

/// Two-sided Mann–Whitney U test of `a` against `b`; `None` when either is empty.
///
/// U counts the pairs (x in `a`, y in `b`) with x > y, plus one half per pair with x = y, so
/// U(a, b) + U(b, a) = n·m. Without ties and with both sides at most [`EXACT_MAX_SIDE`], the
/// p-value is exact: `min(1, 2·min(P(U ≤ u), P(U ≥ u)))` under the null distribution of U.
/// Otherwise it is the normal approximation with tie-corrected variance and a continuity
/// correction of 0.5 (as scipy's `mannwhitneyu(method="asymptotic", use_continuity=True)`);
/// when every value is equal (zero variance) the p-value is 1.
pub fn mann_whitney(a: &[u64], b: &[u64]) -> Option<MannWhitney> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let sum = rank_sum::rank_sum(a, b);
    let u = sum.twice_u as f64 / 2.0;
    let exact = !sum.has_ties && n <= EXACT_MAX_SIDE && m <= EXACT_MAX_SIDE;
    let p_value = if exact {
        rank_sum::exact_p(n, m, sum.twice_u / 2)
    } else {
        rank_sum::asymptotic_p(n, m, u, sum.tie_term)
    };
    Some(MannWhitney { u, p_value, exact })
}

/// Percentile bootstrap interval at `confidence` (0.95) of `median(new) / median(base)`,
/// resampling each side with replacement `resamples` times; deterministic under `seed`.
/// `None` when either side is empty or a base median is zero.
///
/// - `resamples` is clamped to [`MIN_RESAMPLES`]..=[`MAX_RESAMPLES`]; `confidence` must lie in
///   [0, 1] (otherwise, or NaN, `None`).
/// - Each resample draws `base.len()` uniform indices for the base, then `new.len()` for the new
///   run, from one `ChaCha8Rng` seeded with `seed`; medians are [`median`]'s.
/// - `None` when the observed base median is 0. A resample whose base median is 0 (possible when
///   the base holds zeros) has no ratio and is left out; `None` if none is left.
/// - The bounds are nearest-rank quantiles of the sorted ratios, the same rank from each end:
///   with k ratios and j = ⌈k·(1 − confidence)/2⌉ (at least 1), the j-th smallest and the j-th
///   largest (10,000 resamples at 0.95: the 250th of each end).
pub fn bootstrap_ratio_ci(
    base: &[u64],
    new: &[u64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    if !(0.0..=1.0).contains(&confidence) || new.is_empty() || median(base)? == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut base_buffer, mut new_buffer) = (Vec::new(), Vec::new());
    let resamples = resamples.clamp(MIN_RESAMPLES, MAX_RESAMPLES);
    let mut ratios = Vec::with_capacity(resamples);
    let (base_index, new_index) = (index_draw(base)?, index_draw(new)?);
    for _ in 0..resamples {
        let base_median = resampled_median(base, &base_index, &mut base_buffer, &mut rng)?;
        let new_median = resampled_median(new, &new_index, &mut new_buffer, &mut rng)?;
        if base_median > 0 {
            ratios.push(new_median as f64 / base_median as f64);
        }
    }
    ratios.sort_unstable_by(f64::total_cmp);
    let low = tail_index(ratios.len(), (1.0 - confidence) / 2.0)?;
    let high = ratios.len() - 1 - low;
    Some((*ratios.get(low)?, *ratios.get(high)?))
}

/// Uniform draws of an index into `values`, `None` when it is empty.
fn index_draw(values: &[u64]) -> Option<Uniform<usize>> {
    Uniform::new(0, values.len()).ok()
}

/// The median of `values.len()` draws with replacement from `values`, drawn into `buffer`.
fn resampled_median(
    values: &[u64],
    index: &Uniform<usize>,
    buffer: &mut Vec<u64>,
    rng: &mut ChaCha8Rng,
) -> Option<u64> {
    buffer.clear();
    for _ in 0..values.len() {
        buffer.push(*values.get(index.sample(rng))?);
    }
    median_in_place(buffer)
}

/// 0-based index of the nearest-rank `q`-quantile (q ≤ 0.5) of `k` sorted items: the
/// ⌈q·k⌉-th, at least the first, like [`rank`] but forgiving the rounding of `q` itself
/// ((1 − 0.95)/2 · 10,000 is 250.00000000000023 in f64, which would give the 251st).
fn tail_index(k: usize, q: f64) -> Option<usize> {
    if k == 0 {
        return None;
    }
    let target = q.clamp(0.0, 0.5) * k as f64;
    let whole = if (target - target.round()).abs() <= 1e-9 * target.max(1.0) {
        target.round()
    } else {
        target.ceil()
    };
    Some((whole as usize).clamp(1, k) - 1)
}

/// Holm's step-down adjusted p-values, in the input's order (each capped at 1 and never below
/// an earlier-ranked one's).
///
/// In ascending order p₍₀₎ ≤ … ≤ p₍ₘ₋₁₎ (0-based rank j, ties in input order), the adjusted
/// value of rank i is `max over j ≤ i of min(1, (m − j)·p₍ⱼ₎)`. Inputs are clamped to [0, 1];
/// NaN counts as 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let clean: Vec<f64> = p_values.iter().map(|&p| rank_sum::probability(p)).collect();
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.sort_by(|&x, &y| clean[x].total_cmp(&clean[y]));
    let mut adjusted = vec![1.0; clean.len()];
    let mut running = 0.0_f64;
    for (j, &i) in order.iter().enumerate() {
        let scaled = ((clean.len() - j) as f64 * clean[i]).min(1.0);
        running = running.max(scaled);
        adjusted[i] = running;
    }
    adjusted
}
