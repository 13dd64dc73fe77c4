//! The model's figures beside measured ones (`coldbench calibrate` and `coldbench predict`):
//! a terminal table and Markdown.

use std::fmt::Write;

use crate::model::calibration::FitRow;
use crate::report::export::markdown::escape;

/// A figure's error is within the target (±15 %).
pub const TARGET_PCT: f64 = 15.0;

/// Rows as an aligned table, one per run × variant × metric, and a count of those within
/// ±[`TARGET_PCT`].
pub fn render_table(rows: &[FitRow]) -> String {
    let headers = ["run", "variant", "metric", "measured", "modelled", "error"];
    let cells: Vec<[String; 6]> = rows.iter().map(cells).collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: [&str; 6]| {
        let mut text = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            let pad = width.saturating_sub(cell.chars().count());
            if i >= 3 {
                let _ = write!(text, "{}{cell}  ", " ".repeat(pad));
            } else {
                let _ = write!(text, "{cell}{}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&mut out, headers);
    for row in &cells {
        line(&mut out, row.each_ref().map(String::as_str));
    }
    let _ = writeln!(out, "{}", verdict(rows));
    out
}

/// Rows as a Markdown table with the same verdict line.
pub fn render_markdown(rows: &[FitRow]) -> String {
    let mut out = String::from(
        "| run | variant | metric | measured | modelled | error |\n|---|---|---|---:|---:|---:|\n",
    );
    for row in rows {
        let c = cells(row);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            escape(&c[0]),
            escape(&c[1]),
            c[2],
            c[3],
            c[4],
            c[5]
        );
    }
    let _ = writeln!(out, "\n{}", verdict(rows));
    out
}

fn cells(row: &FitRow) -> [String; 6] {
    [
        row.run.clone(),
        row.variant.clone(),
        row.metric.clone(),
        seconds(row.measured_s),
        seconds(row.modelled_s),
        format!("{:+.1} %", row.error_pct),
    ]
}

/// `5.20 s`, `407.0 ms`.
fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// `5 of 6 figures within ±15 %; worst: full-like pull p50 −18.2 %`.
fn verdict(rows: &[FitRow]) -> String {
    let within = rows
        .iter()
        .filter(|r| r.error_pct.abs() <= TARGET_PCT)
        .count();
    let worst = rows
        .iter()
        .max_by(|a, b| a.error_pct.abs().total_cmp(&b.error_pct.abs()));
    let mut text = format!(
        "{within} of {} figures within ±{TARGET_PCT:.0} %",
        rows.len()
    );
    if let Some(w) = worst {
        let _ = write!(
            text,
            "; worst: {} {} {} {:+.1} %",
            w.run, w.variant, w.metric, w.error_pct
        );
    }
    text
}
