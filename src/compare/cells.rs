//! The cells of a comparison: per variant × metric, medians, the ratio with its bootstrap
//! interval and the Mann–Whitney p-value; then Holm's correction across the cells and the
//! verdicts.
//!
//! # The noise band is a share of the cold start
//!
//! A change is practical when it is larger than `noise` (5 %) of what the user waits for: the
//! variant's total cold start (its baseline median), or the metric itself for `total` and the
//! burst milestones. For a phase that band, as a ratio of the phase's own median, is
//! `noise × total / phase`: a +60 % create that adds 15 ms to a 650 ms cold start is inside it
//! (measured between two unchanged nights on a 2-core VM), a +40 % pull of a 2.5 s cold start
//! is far outside.

use super::metric::Metric;
use super::stats::{bootstrap_ratio_ci, holm, mann_whitney, median};
use super::values::values;
use super::{Cell, CompareOptions, Verdict, CONFIDENCE, MIN_SAMPLES};
use crate::results::{Phase, RunRecord};

/// Most values one cell's bootstrap draws (resamples × both sides' sizes): 10,000 resamples up
/// to 1,000 values in all, fewer beyond (never below the bootstrap's own minimum of 100).
pub const MAX_BOOTSTRAP_DRAWS: usize = 10_000_000;

/// Every cell of `variants` (present in both runs), tested and judged.
pub fn cells(
    base: &RunRecord,
    new: &RunRecord,
    variants: &[String],
    options: &CompareOptions,
) -> Vec<Cell> {
    let mut cells: Vec<Cell> = variants
        .iter()
        .flat_map(|v| Metric::ALL.into_iter().map(move |m| (v, m)))
        .filter_map(|(v, m)| cell(base, new, v, m, options))
        .collect();
    let totals: Vec<(String, Option<u64>)> = variants
        .iter()
        .map(|v| {
            (
                v.clone(),
                median(&values(base, v, Metric::Phase(Phase::Total))),
            )
        })
        .collect();
    for c in cells.iter_mut() {
        let total = totals
            .iter()
            .find(|(v, _)| *v == c.variant)
            .and_then(|(_, t)| *t);
        c.noise_band = noise_band(c, total, options.noise);
    }
    judge(&mut cells, options);
    cells
}

/// One cell before correction, `None` when neither run has values for it, or when a burst
/// milestone is missing on one side (only runs that both have bursts compare milestones).
fn cell(
    base: &RunRecord,
    new: &RunRecord,
    variant: &str,
    metric: Metric,
    options: &CompareOptions,
) -> Option<Cell> {
    let (b, n) = (values(base, variant, metric), values(new, variant, metric));
    let one_side_only = b.is_empty() || n.is_empty();
    if (b.is_empty() && n.is_empty()) || (matches!(metric, Metric::Burst(_)) && one_side_only) {
        return None;
    }
    let (base_median_us, new_median_us) = (median(&b), median(&n));
    let ratio = match (base_median_us, new_median_us) {
        (Some(bm), Some(nm)) if bm > 0 => Some(nm as f64 / bm as f64),
        _ => None,
    };
    let have = b.len().min(n.len());
    let decidable = have >= MIN_SAMPLES;
    let seed = options.seed ^ cell_seed(variant, metric);
    Some(Cell {
        variant: variant.to_string(),
        metric,
        base_n: b.len(),
        new_n: n.len(),
        base_median_us,
        new_median_us,
        ratio,
        ci: decidable
            .then(|| {
                bootstrap_ratio_ci(
                    &b,
                    &n,
                    resamples(options, b.len() + n.len()),
                    CONFIDENCE,
                    seed,
                )
            })
            .flatten(),
        p_value: decidable
            .then(|| mann_whitney(&b, &n).map(|t| t.p_value))
            .flatten(),
        p_adjusted: None,
        noise_band: None,
        verdict: if decidable {
            Verdict::NoChange
        } else {
            Verdict::TooFewSamples {
                have,
                need: MIN_SAMPLES,
            }
        },
    })
}

/// Resamples for a cell of `values` values in all: the option, lowered so that one cell draws at
/// most [`MAX_BOOTSTRAP_DRAWS`] values (large burst cells stay well under a second).
fn resamples(options: &CompareOptions, values: usize) -> usize {
    options.resamples.min(MAX_BOOTSTRAP_DRAWS / values.max(1))
}

/// A stable per-cell seed (FNV-1a of the variant and metric names), so one cell's interval does
/// not depend on which other cells exist.
fn cell_seed(variant: &str, metric: Metric) -> u64 {
    let bytes = variant.bytes().chain([0]).chain(metric.name().bytes());
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The cell's noise band as a ratio of its own median: `noise` for `total` and the burst
/// milestones, `noise × total / phase` for a phase (see the module documentation); `None`
/// without a baseline median.
fn noise_band(cell: &Cell, base_total_us: Option<u64>, noise: f64) -> Option<f64> {
    let own = cell.base_median_us.filter(|&m| m > 0)? as f64;
    let reference = match cell.metric {
        Metric::Phase(Phase::Total) | Metric::Burst(_) => own,
        Metric::Phase(_) => base_total_us.map_or(own, |t| (t as f64).max(own)),
    };
    Some(noise * reference / own)
}

/// Holm's correction across the cells that have a p-value, then each verdict: regressed or
/// improved only when significant **and** the interval lies wholly beyond the noise band.
fn judge(cells: &mut [Cell], options: &CompareOptions) {
    let tested: Vec<usize> = (0..cells.len())
        .filter(|&i| cells[i].p_value.is_some())
        .collect();
    let p: Vec<f64> = tested.iter().filter_map(|&i| cells[i].p_value).collect();
    for (&i, adjusted) in tested.iter().zip(holm(&p)) {
        let cell = &mut cells[i];
        cell.p_adjusted = Some(adjusted);
        let band = cell.noise_band.unwrap_or(options.noise);
        cell.verdict = verdict(adjusted, cell.ci, band, options.alpha);
    }
}

/// The verdict of a tested cell whose noise band is `1 ± band`.
fn verdict(p_adjusted: f64, ci: Option<(f64, f64)>, band: f64, alpha: f64) -> Verdict {
    let significant = p_adjusted < alpha;
    match ci {
        Some((low, _)) if significant && low > 1.0 + band => Verdict::Regressed,
        Some((_, high)) if significant && high < 1.0 - band => Verdict::Improved,
        _ => Verdict::NoChange,
    }
}
