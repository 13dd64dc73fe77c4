//! Relative speed between variants: ratios of total p50.

use super::variant::VariantAnalysis;
use crate::results::{Phase, Summary};

/// A ratio of medians with the standard deviations propagated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// `a / b` of the p50s.
    pub ratio: f64,
    /// ± of the ratio (first-order propagation of both σ); `None` when the ratio is exactly
    /// 1 against itself or either side has fewer than two samples.
    pub spread: Option<f64>,
}

impl Ratio {
    /// `a.p50 / b.p50`, `None` when `b.p50` is zero.
    pub fn of(a: &Summary, b: &Summary) -> Option<Ratio> {
        if b.p50 == 0 {
            return None;
        }
        let (x, y) = (a.p50 as f64, b.p50 as f64);
        let ratio = x / y;
        let spread = (a.p50 != b.p50 && a.count >= 2 && b.count >= 2 && a.p50 != 0)
            .then(|| ratio * ((a.stddev / x).powi(2) + (b.stddev / y).powi(2)).sqrt());
        Some(Ratio { ratio, spread })
    }
}

/// "`fastest` is N× faster than `slowest`": total p50s of the extremes.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The variant with the lowest total p50 (first of equals).
    pub fastest: String,
    /// The variant with the highest total p50 (last of equals).
    pub slowest: String,
    /// Slowest p50 / fastest p50.
    pub times: f64,
    /// Fastest total p50 (µs).
    pub fastest_p50_us: u64,
    /// Slowest total p50 (µs).
    pub slowest_p50_us: u64,
}

/// The variant with the lowest total p50 (first of equals).
fn fastest(variants: &[VariantAnalysis]) -> Option<(&str, Summary)> {
    totals(variants).min_by_key(|(_, s)| s.p50)
}

fn totals(variants: &[VariantAnalysis]) -> impl Iterator<Item = (&str, Summary)> + Clone {
    variants
        .iter()
        .filter_map(|v| Some((v.name.as_str(), *v.phase(Phase::Total)?)))
}

/// Sets each variant's total p50 relative to the fastest's.
pub fn fill_relative(variants: &mut [VariantAnalysis]) {
    let Some((_, reference)) = fastest(variants) else {
        return;
    };
    for v in variants.iter_mut() {
        v.relative = v.phase(Phase::Total).and_then(|t| Ratio::of(t, &reference));
    }
}

/// The fastest against the slowest, with two or more summarized variants.
pub fn comparison(variants: &[VariantAnalysis]) -> Option<Comparison> {
    if totals(variants).count() < 2 {
        return None;
    }
    let (fast, f) = fastest(variants)?;
    let (slow, s) = totals(variants).max_by_key(|(_, s)| s.p50)?;
    if f.p50 == 0 {
        return None;
    }
    Some(Comparison {
        fastest: fast.to_string(),
        slowest: slow.to_string(),
        times: s.p50 as f64 / f.p50 as f64,
        fastest_p50_us: f.p50,
        slowest_p50_us: s.p50,
    })
}
