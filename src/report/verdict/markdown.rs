//! The comparison and thresholds as Markdown for `$GITHUB_STEP_SUMMARY` or a pull-request
//! comment: a heading with both runs, warnings as a blockquote, the cells with ▲ (regressed),
//! ▼ (improved), · (no change) or ? (too few samples), the thresholds with ✅/❌, and the
//! verdict in bold.

use std::fmt::Write as _;

use super::has_data;
use super::words::{self, Tally};
use crate::compare::threshold::{Status, ThresholdOutcome};
use crate::compare::{Cell, CompareReport, Verdict};
use crate::report::export::markdown::escape;

/// Renders `report` and `thresholds` as Markdown.
pub fn render_markdown(report: &CompareReport, thresholds: &[ThresholdOutcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Cold-start comparison · {} → {}\n",
        escape(&words::run_label(&report.base)),
        escape(&words::run_label(&report.new))
    );
    warnings(&mut out, report);
    cells_table(&mut out, report);
    thresholds_table(&mut out, thresholds);
    let tally = Tally::of(Some(report), thresholds);
    let _ = writeln!(out, "**verdict: {}**", tally.sentence(true));
    out
}

/// Renders thresholds alone (a run checked without a baseline) as Markdown.
pub fn render_thresholds_markdown(thresholds: &[ThresholdOutcome]) -> String {
    let mut out = String::new();
    thresholds_table(&mut out, thresholds);
    let tally = Tally::of(None, thresholds);
    let _ = writeln!(out, "**verdict: {}**", tally.sentence(false));
    out
}

/// Context differences and one-sided variants as one blockquote; nothing when there are none.
fn warnings(out: &mut String, report: &CompareReport) {
    let mut lines: Vec<String> = report
        .differences
        .iter()
        .map(|d| format!("⚠ {}", escape(d)))
        .collect();
    if !report.only_in_base.is_empty() {
        lines.push(format!(
            "Only in baseline: {}",
            joined(&report.only_in_base)
        ));
    }
    if !report.only_in_new.is_empty() {
        lines.push(format!("Only in new run: {}", joined(&report.only_in_new)));
    }
    if lines.is_empty() {
        return;
    }
    // A blank quoted line between entries keeps them separate paragraphs.
    let _ = writeln!(out, "> {}\n", lines.join("\n>\n> "));
}

/// `a, b` escaped.
fn joined(names: &[String]) -> String {
    let escaped: Vec<String> = names.iter().map(|n| escape(n)).collect();
    escaped.join(", ")
}

/// The shown cells, one row each, and the rule under the table.
fn cells_table(out: &mut String, report: &CompareReport) {
    let shown: Vec<&Cell> = report.cells.iter().filter(|c| has_data(c)).collect();
    if shown.is_empty() {
        let _ = writeln!(out, "No variant × metric has samples in either run.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| | Variant | Metric | Baseline | New | Change | 95 % CI | p | Verdict |"
    );
    let _ = writeln!(out, "|:-:|:---|:---|---:|---:|---:|:---:|---:|:---|");
    for cell in shown {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            marker(cell.verdict),
            escape(&cell.variant),
            escape(cell.metric.name()),
            words::opt_duration(cell.base_median_us),
            words::opt_duration(cell.new_median_us),
            words::change(cell.ratio),
            words::interval(cell.ci),
            escape(&words::p_value(cell.p_adjusted)),
            words::cell_verdict(cell),
        );
    }
    let _ = writeln!(
        out,
        "\n<sub>{}; {}.</sub>\n",
        escape(words::LEGEND),
        escape(&words::rule(&report.options))
    );
}

/// ▲ regressed, ▼ improved, · no change, ? too few samples.
fn marker(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "▲",
        Verdict::Improved => "▼",
        Verdict::NoChange => "·",
        Verdict::TooFewSamples { .. } => "?",
    }
}

/// `### Thresholds` and a row per outcome; nothing without outcomes.
fn thresholds_table(out: &mut String, thresholds: &[ThresholdOutcome]) {
    if thresholds.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Thresholds\n");
    let _ = writeln!(out, "| | Threshold | Variant | Measured | Limit |");
    let _ = writeln!(out, "|:-:|:---|:---|---:|:---|");
    for o in thresholds {
        let mark = match o.status {
            Status::Passed => "✅",
            Status::Failed | Status::NoData { .. } => "❌",
        };
        let _ = writeln!(
            out,
            "| {mark} | {} | {} | {} | {} |",
            escape(&o.expression),
            escape(&o.variant),
            escape(&words::measured(o)),
            escape(&o.limit),
        );
    }
    out.push('\n');
}
