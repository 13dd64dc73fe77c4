//! The words and numbers every verdict renderer shares, so the terminal, Markdown, JUnit and
//! gab outputs say the same thing the same way.

use std::time::Duration;

use super::has_data;
use crate::compare::threshold::{Status, ThresholdOutcome};
use crate::compare::{Cell, CompareOptions, CompareReport, RunRef, Verdict};
use crate::units::format_duration;

/// Shown where a number is missing or not finite.
pub const NONE: &str = "—";

/// Largest change in percent written in fixed notation; beyond it, scientific (`+1.2e6 %`).
const MAX_FIXED_PERCENT: f64 = 99_999.95;

/// `812 µs`, `12.3 ms`, `1.52 s`.
pub fn duration(us: u64) -> String {
    format_duration(Duration::from_micros(us))
}

/// [`duration`], or `—`.
pub fn opt_duration(us: Option<u64>) -> String {
    us.map_or_else(|| NONE.to_string(), duration)
}

/// A ratio as a change in percent, one decimal: `+12.3 %`, `−4.0 %`, `0.0 %`, `—` when absent
/// or not finite.
pub fn change(ratio: Option<f64>) -> String {
    let Some(percent) = ratio.map(|r| (r - 1.0) * 100.0).filter(|p| p.is_finite()) else {
        return NONE.to_string();
    };
    let rounded = (percent * 10.0).round() / 10.0;
    let sign = if rounded > 0.0 {
        "+"
    } else if rounded < 0.0 {
        "−"
    } else {
        ""
    };
    let magnitude = rounded.abs();
    if magnitude > MAX_FIXED_PERCENT {
        format!("{sign}{magnitude:.1e} %")
    } else {
        format!("{sign}{magnitude:.1} %")
    }
}

/// The 95 % interval of a ratio as changes: `[+8.1 %, +16.9 %]`, `—` when absent.
pub fn interval(ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("[{}, {}]", change(Some(lo)), change(Some(hi))),
        None => NONE.to_string(),
    }
}

/// A p-value to 3 significant digits: `0.0123`, `0.500`, `1.00`; `<0.001`; `—` when absent.
pub fn p_value(p: Option<f64>) -> String {
    let Some(p) = p.filter(|p| p.is_finite() && *p >= 0.0) else {
        return NONE.to_string();
    };
    if p < 0.001 {
        return "<0.001".to_string();
    }
    let decimals = (2.0 - p.log10().floor()).clamp(0.0, 5.0) as usize;
    format!("{p:.decimals$}")
}

/// `regressed`, `improved`, `no change`, `too few samples (n=3, need 5)`.
pub fn verdict(v: Verdict) -> String {
    match v {
        Verdict::Regressed => "regressed".to_string(),
        Verdict::Improved => "improved".to_string(),
        Verdict::NoChange => "no change".to_string(),
        Verdict::TooFewSamples { have, need } => format!("too few samples (n={have}, need {need})"),
    }
}

/// [`verdict`] of a cell, saying `no change (within ±N % noise)` when the interval shows a move
/// (it excludes 1) that stays inside the cell's noise band.
pub fn cell_verdict(cell: &Cell) -> String {
    let moved = cell.ci.is_some_and(|(low, high)| low > 1.0 || high < 1.0);
    match (cell.verdict, cell.noise_band) {
        (Verdict::NoChange, Some(band)) if moved && band.is_finite() => {
            format!("no change (within ±{} % noise)", trimmed(band * 100.0, 0))
        }
        (v, _) => verdict(v),
    }
}

/// A cell's numbers in one line: `1.20 s → 1.35 s, +12.3 % [+8.1 %, +16.9 %], p <0.001, n 10/10`.
pub fn cell_numbers(cell: &Cell) -> String {
    format!(
        "{} → {}, {} {}, p {}, n {}/{}",
        opt_duration(cell.base_median_us),
        opt_duration(cell.new_median_us),
        change(cell.ratio),
        interval(cell.ci),
        p_value(cell.p_adjusted),
        cell.base_n,
        cell.new_n,
    )
}

/// The first 7 characters of a commit.
pub fn short_commit(commit: &str) -> String {
    commit.chars().take(7).collect()
}

/// `20250102-ab12 (1a2b3c4)`, or the run id alone without a commit.
pub fn run_label(run: &RunRef) -> String {
    match &run.git_commit {
        Some(c) if !c.is_empty() => format!("{} ({})", run.run_id, short_commit(c)),
        _ => run.run_id.clone(),
    }
}

/// The verdict rule: `a verdict needs p < 0.05 and the whole 95 % interval (10000 bootstrap
/// resamples) outside ±5 %`.
pub fn rule(options: &CompareOptions) -> String {
    format!(
        "a verdict needs p < {} and the whole 95 % interval ({} bootstrap resamples) beyond a change of ±{} % of the variant's total cold start",
        trimmed(options.alpha, 4),
        options.resamples,
        trimmed(options.noise * 100.0, 2),
    )
}

/// How to read the change and p columns.
pub const LEGEND: &str =
    "change = new median / baseline median − 1; p adjusted across cells (Holm)";

/// `x` with at most `decimals` decimals and no trailing zeros; `—` when not finite.
fn trimmed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return NONE.to_string();
    }
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// What a threshold measured: its value, `no data: <reason>`, or `—`.
pub fn measured(outcome: &ThresholdOutcome) -> String {
    match (&outcome.status, &outcome.measured) {
        (Status::NoData { reason }, _) => format!("no data: {reason}"),
        (_, Some(m)) => m.clone(),
        (_, None) => NONE.to_string(),
    }
}

/// Counts of the shown cells' verdicts and of the failed thresholds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cells that regressed.
    pub regressed: usize,
    /// Cells that improved.
    pub improved: usize,
    /// Cells without a change.
    pub unchanged: usize,
    /// Cells without a verdict (too few samples).
    pub too_few: usize,
    /// Thresholds that failed or had no data.
    pub thresholds_failed: usize,
    /// Every threshold outcome.
    pub thresholds: usize,
}

impl Tally {
    /// Counts `report`'s shown cells (none without a report) and `thresholds`.
    pub fn of(report: Option<&CompareReport>, thresholds: &[ThresholdOutcome]) -> Tally {
        let mut t = Tally {
            thresholds: thresholds.len(),
            thresholds_failed: thresholds.iter().filter(|o| o.failed()).count(),
            ..Tally::default()
        };
        let cells = report.into_iter().flat_map(|r| &r.cells);
        for cell in cells.filter(|c| has_data(c)) {
            match cell.verdict {
                Verdict::Regressed => t.regressed += 1,
                Verdict::Improved => t.improved += 1,
                Verdict::NoChange => t.unchanged += 1,
                Verdict::TooFewSamples { .. } => t.too_few += 1,
            }
        }
        t
    }

    /// `1 regressed, 1 improved, 1 unchanged, 1 without a verdict; 2 of 3 thresholds failed`;
    /// the comparison part only `with_cells`.
    pub fn sentence(&self, with_cells: bool) -> String {
        let mut parts = Vec::new();
        if with_cells {
            let mut cells = format!(
                "{} regressed, {} improved, {} unchanged",
                self.regressed, self.improved, self.unchanged
            );
            if self.too_few > 0 {
                cells.push_str(&format!(", {} without a verdict", self.too_few));
            }
            parts.push(cells);
        }
        parts.push(match self.thresholds {
            0 => "no thresholds".to_string(),
            n => format!("{} of {n} thresholds failed", self.thresholds_failed),
        });
        parts.join("; ")
    }
}
