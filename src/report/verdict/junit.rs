//! JUnit XML, which every CI renders: `<testsuites>` holding `coldbench.compare` (a testcase per
//! shown cell: a failure when it regressed, skipped with too few samples) and
//! `coldbench.thresholds` (a testcase per outcome: a failure when it failed or had no data).

use std::fmt::Write as _;

use super::has_data;
use super::words;
use crate::compare::threshold::{Status, ThresholdOutcome};
use crate::compare::{Cell, CompareReport, Verdict};

/// One `<testcase>`: where it belongs and how it ended.
struct Case {
    classname: String,
    name: String,
    outcome: Outcome,
}

/// How a testcase ended.
enum Outcome {
    Passed,
    /// `message` attribute and the text inside the element.
    Failure(String, String),
    Skipped(String),
}

/// Renders the JUnit XML; the compare suite only with a report.
pub fn render_junit(report: Option<&CompareReport>, thresholds: &[ThresholdOutcome]) -> String {
    let mut suites = Vec::new();
    if let Some(r) = report {
        let cases = r.cells.iter().filter(|c| has_data(c)).map(cell_case);
        suites.push(("coldbench.compare", cases.collect::<Vec<_>>()));
    }
    suites.push((
        "coldbench.thresholds",
        thresholds.iter().map(threshold_case).collect(),
    ));
    let all = suites.iter().flat_map(|(_, cases)| cases);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"coldbench\"{}>", counts(all));
    for (name, cases) in &suites {
        suite(&mut out, name, cases);
    }
    out.push_str("</testsuites>\n");
    out
}

/// ` tests="…" failures="…" errors="0" skipped="…"`.
fn counts<'a>(cases: impl IntoIterator<Item = &'a Case>) -> String {
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for case in cases {
        tests += 1;
        match case.outcome {
            Outcome::Passed => {}
            Outcome::Failure(..) => failures += 1,
            Outcome::Skipped(_) => skipped += 1,
        }
    }
    format!(" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\"")
}

/// One `<testsuite>` with its counts and cases.
fn suite(out: &mut String, name: &str, cases: &[Case]) {
    let _ = writeln!(out, "  <testsuite name=\"{name}\"{}>", counts(cases));
    for case in cases {
        let open = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&case.classname),
            escape(&case.name)
        );
        match &case.outcome {
            Outcome::Passed => {
                let _ = writeln!(out, "{open}/>");
            }
            Outcome::Failure(message, text) => {
                let _ = writeln!(out, "{open}>");
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    escape(message),
                    escape(text)
                );
                let _ = writeln!(out, "    </testcase>");
            }
            Outcome::Skipped(message) => {
                let _ = writeln!(out, "{open}>");
                let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(message));
                let _ = writeln!(out, "    </testcase>");
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

/// `compare.<variant>` / `<metric>`: regressed fails with the numbers, too few is skipped.
fn cell_case(cell: &Cell) -> Case {
    let numbers = words::cell_numbers(cell);
    let outcome = match cell.verdict {
        Verdict::Regressed => Outcome::Failure(
            format!("{} regressed: {numbers}", cell.metric),
            regression_details(cell),
        ),
        Verdict::TooFewSamples { .. } => Outcome::Skipped(words::verdict(cell.verdict)),
        Verdict::Improved | Verdict::NoChange => Outcome::Passed,
    };
    Case {
        classname: format!("compare.{}", cell.variant),
        name: cell.metric.name().to_string(),
        outcome,
    }
}

/// The numbers of a regressed cell, one per line.
fn regression_details(cell: &Cell) -> String {
    format!(
        "baseline median: {}\nnew median: {}\nchange: {}\n95 % interval: {}\n\
         adjusted p: {}\nsamples: {} baseline, {} new",
        words::opt_duration(cell.base_median_us),
        words::opt_duration(cell.new_median_us),
        words::change(cell.ratio),
        words::interval(cell.ci),
        words::p_value(cell.p_adjusted),
        cell.base_n,
        cell.new_n,
    )
}

/// `thresholds.<variant>` / `<expression>`: failed and no data are failures.
fn threshold_case(o: &ThresholdOutcome) -> Case {
    let outcome = match &o.status {
        Status::Passed => Outcome::Passed,
        Status::Failed => {
            let message = format!(
                "{} failed on {}: measured {}, limit {}",
                o.expression,
                o.variant,
                words::measured(o),
                o.limit
            );
            Outcome::Failure(message.clone(), message)
        }
        Status::NoData { reason } => {
            let message = format!("{} on {}: no data: {reason}", o.expression, o.variant);
            Outcome::Failure(message.clone(), message)
        }
    };
    Case {
        classname: format!("thresholds.{}", o.variant),
        name: o.expression.clone(),
        outcome,
    }
}

/// Escapes `& < > " '` (and tab, CR and LF, so attributes keep them) and drops characters
/// XML 1.0 does not allow (other control characters, U+FFFE, U+FFFF).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| allowed_in_xml(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// XML 1.0's `Char` production (a Rust `char` is never a surrogate).
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}
