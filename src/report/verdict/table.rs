//! The comparison and thresholds as plain text for a terminal: warnings, one block per variant
//! with a row per metric, the thresholds, and a last `verdict:` line. Columns are aligned by
//! character count, like the run table ([`crate::report::table`]); no colour.

use std::fmt::Write as _;

use super::has_data;
use super::words::{self, Tally};
use crate::compare::threshold::{Status, ThresholdOutcome};
use crate::compare::{Cell, CompareReport};

/// Header of the comparison columns.
const CELL_HEADER: [&str; 7] = [
    "metric", "baseline", "new", "change", "95 % CI", "p", "verdict",
];
/// Which comparison columns are right-aligned (numbers).
const CELL_RIGHT: [bool; 7] = [false, true, true, true, true, true, false];
/// Which threshold columns are right-aligned: mark, expression, variant, measured, limit, note.
const THRESHOLD_RIGHT: [bool; 6] = [false, false, false, true, false, false];

/// Renders `report` and `thresholds` for a terminal.
pub fn render_terminal(report: &CompareReport, thresholds: &[ThresholdOutcome]) -> String {
    let mut out = String::new();
    context_lines(&mut out, report);
    let _ = writeln!(
        out,
        "baseline {} → new {}",
        words::run_label(&report.base),
        words::run_label(&report.new)
    );
    out.push('\n');
    cells_block(&mut out, report);
    if !thresholds.is_empty() {
        out.push('\n');
        out.push_str(&thresholds_block(thresholds));
    }
    out.push('\n');
    let tally = Tally::of(Some(report), thresholds);
    let _ = writeln!(out, "verdict: {}", tally.sentence(true));
    out
}

/// Renders thresholds alone (a run checked without a baseline), with the `verdict:` line.
pub fn render_thresholds(thresholds: &[ThresholdOutcome]) -> String {
    let mut out = thresholds_block(thresholds);
    if !out.is_empty() {
        out.push('\n');
    }
    let tally = Tally::of(None, thresholds);
    let _ = writeln!(out, "verdict: {}", tally.sentence(false));
    out
}

/// `warning: …` per context difference, then the variants on one side only.
fn context_lines(out: &mut String, report: &CompareReport) {
    for d in &report.differences {
        let _ = writeln!(out, "warning: {d}");
    }
    for v in &report.only_in_base {
        let _ = writeln!(out, "only in baseline: {v}");
    }
    for v in &report.only_in_new {
        let _ = writeln!(out, "only in new run: {v}");
    }
    let any = !report.differences.is_empty()
        || !report.only_in_base.is_empty()
        || !report.only_in_new.is_empty();
    if any {
        out.push('\n');
    }
}

/// One block per variant (in the report's order), columns aligned across all blocks.
fn cells_block(out: &mut String, report: &CompareReport) {
    let shown: Vec<&Cell> = report.cells.iter().filter(|c| has_data(c)).collect();
    if shown.is_empty() {
        let _ = writeln!(out, "no variant × metric has samples in either run");
        return;
    }
    let rows: Vec<Vec<String>> = shown.iter().map(|c| cell_row(c)).collect();
    let header: Vec<String> = CELL_HEADER.iter().map(|h| h.to_string()).collect();
    let widths = widths(std::iter::once(&header).chain(&rows));
    let mut variant: Option<&str> = None;
    for (cell, row) in shown.iter().zip(&rows) {
        if variant != Some(cell.variant.as_str()) {
            variant = Some(&cell.variant);
            let _ = writeln!(out, "{}", cell.variant);
            let _ = writeln!(out, "{}", line(&header, &widths, &CELL_RIGHT));
        }
        let _ = writeln!(out, "{}", line(row, &widths, &CELL_RIGHT));
    }
    out.push('\n');
    let _ = writeln!(out, "{}", words::LEGEND);
    let _ = writeln!(out, "{}", words::rule(&report.options));
}

/// metric, baseline, new, change, interval, p, verdict.
fn cell_row(cell: &Cell) -> Vec<String> {
    vec![
        cell.metric.name().to_string(),
        words::opt_duration(cell.base_median_us),
        words::opt_duration(cell.new_median_us),
        words::change(cell.ratio),
        words::interval(cell.ci),
        words::p_value(cell.p_adjusted),
        words::cell_verdict(cell),
    ]
}

/// `thresholds` heading and one aligned row per outcome; empty without outcomes.
fn thresholds_block(thresholds: &[ThresholdOutcome]) -> String {
    if thresholds.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = thresholds.iter().map(threshold_row).collect();
    let widths = widths(&rows);
    let mut out = String::from("thresholds\n");
    for row in &rows {
        let _ = writeln!(out, "{}", line(row, &widths, &THRESHOLD_RIGHT));
    }
    out
}

/// ✓/✗, expression, variant, measured, limit, and `no data: reason` after it.
fn threshold_row(o: &ThresholdOutcome) -> Vec<String> {
    let (mark, note) = match &o.status {
        Status::Passed => ("✓", String::new()),
        Status::Failed => ("✗", String::new()),
        Status::NoData { reason } => ("✗", format!("no data: {reason}")),
    };
    let measured = o.measured.as_deref().unwrap_or(words::NONE);
    vec![
        mark.to_string(),
        o.expression.clone(),
        o.variant.clone(),
        measured.to_string(),
        o.limit.clone(),
        note,
    ]
}

/// The widest cell of each column, in characters.
fn widths<'a>(rows: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<usize> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(max) => *max = (*max).max(w),
                None => widths.push(w),
            }
        }
    }
    widths
}

/// One row, indented by two spaces, two spaces between columns, no trailing spaces.
fn line(row: &[String], widths: &[usize], right: &[bool]) -> String {
    let mut text = String::from(" ");
    for (i, cell) in row.iter().enumerate() {
        let width = widths.get(i).copied().unwrap_or(0);
        if right.get(i).copied().unwrap_or(false) {
            let _ = write!(text, " {cell:>width$}");
        } else {
            let _ = write!(text, " {cell:<width$}");
        }
        text.push(' ');
    }
    text.trim_end().to_string()
}
