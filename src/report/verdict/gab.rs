//! github-action-benchmark's `customSmallerIsBetter` input, for CI dashboards.
//!
//! Shape matched: the action's README ("Examples" → custom benchmarks) and its `extract.ts`
//! take a JSON array of objects with `name` (string), `unit` (string) and `value` (number)
//! required, and `range` (string, shown as e.g. `"± 329"`) and `extra` (string, shown in the
//! chart's tooltip) optional. With `customSmallerIsBetter` a higher `value` than the previous
//! run's raises its alert.
//!
//! Here: one entry per variant × metric of the new run, `name` `"<variant> <metric>"`, `unit`
//! `"ms"`, `value` the median in ms, and `range` **half the p5–p95 spread** in ms (`"± 120.5"`),
//! not a confidence interval, so the band means the same with or without a baseline. `extra`
//! says so, with n and, when a comparison is given, the baseline → new line and the verdict.

use serde::Serialize;

use super::words;
use super::MetricRow;
use crate::compare::{Cell, CompareReport};

/// One benchmark entry of `customSmallerIsBetter`.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Entry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
    extra: String,
}

/// Renders `rows` (the new run's, see [`metric_rows`](super::metric_rows)) as a `customSmallerIsBetter` array;
/// `compare` adds each matching cell's baseline → new, change and verdict to `extra`.
pub fn render_gab(rows: &[MetricRow], compare: Option<&CompareReport>) -> String {
    // Strings and finite numbers only: serializing cannot fail.
    to_json(rows, compare).unwrap_or_else(|_| "[]\n".to_string())
}

/// The pretty-printed array, with a final newline.
fn to_json(rows: &[MetricRow], compare: Option<&CompareReport>) -> serde_json::Result<String> {
    let entries: Vec<Entry> = rows.iter().map(|r| entry(r, compare)).collect();
    let mut json = serde_json::to_string_pretty(&entries)?;
    json.push('\n');
    Ok(json)
}

/// The entry of one row.
fn entry(row: &MetricRow, compare: Option<&CompareReport>) -> Entry {
    let half_spread_us = row.upper_us.saturating_sub(row.lower_us) / 2;
    let mut extra = format!(
        "n={} · range: half the p5–p95 spread ({} – {})",
        row.n,
        words::duration(row.lower_us),
        words::duration(row.upper_us)
    );
    if let Some(cell) = compare.and_then(|r| cell_of(r, row)) {
        extra.push_str(&format!(
            "\nbaseline {} → new {}, {}, {}",
            words::opt_duration(cell.base_median_us),
            words::opt_duration(cell.new_median_us),
            words::change(cell.ratio),
            words::verdict(cell.verdict)
        ));
    }
    Entry {
        name: format!("{} {}", row.variant, row.metric),
        unit: "ms",
        value: ms(row.median_us),
        range: format!("± {}", ms(half_spread_us)),
        extra,
    }
}

/// The comparison's cell for `row`.
fn cell_of<'a>(report: &'a CompareReport, row: &MetricRow) -> Option<&'a Cell> {
    report
        .cells
        .iter()
        .find(|c| c.variant == row.variant && c.metric == row.metric)
}

/// µs as ms (exact to the µs in the JSON number's shortest form).
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}
