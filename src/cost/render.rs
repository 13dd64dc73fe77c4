//! The result as a terminal table and as Markdown (JSON is serde of [`CostResult`]).

use std::fmt::Write;

use super::calc::{CostResult, Figure, Provenance};

/// A value as shown: money with cents, other figures with up to three significant decimals.
pub fn format_value(value: f64, unit: &str, currency: &str) -> String {
    if !value.is_finite() {
        return "–".into();
    }
    let a = value.abs();
    let decimals = if unit.starts_with(currency) {
        2
    } else if a >= 100.0 || value == value.trunc() {
        0
    } else if a >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        return text.trim_start_matches('-').to_string();
    }
    text
}

/// Header and rows of cells.
fn cells(r: &CostResult) -> (Vec<String>, Vec<Vec<String>>) {
    let two = r.variants.len() >= 2;
    let mut head = vec!["figure".to_string(), "unit".to_string()];
    head.extend(r.variants.iter().cloned());
    if two {
        head.push(format!("{} − {}", r.variants[0], r.variants[1]));
    }
    head.push("provenance".into());
    let rows = r
        .figures
        .iter()
        .map(|f: &Figure| {
            let show = |v: f64| format_value(v, &f.unit, &r.currency);
            let mut row = vec![f.label.to_string(), f.unit.clone()];
            row.extend(f.values.iter().map(|&v| show(v)));
            if two {
                row.push(f.difference.map(show).unwrap_or_default());
            }
            row.push(Provenance::labels(&f.provenance));
            row
        })
        .collect();
    (head, rows)
}

/// The terminal table: aligned columns, numbers right-aligned, then the notes.
pub fn render_table(r: &CostResult) -> String {
    let (head, rows) = cells(r);
    let mut out = aligned(&head, &rows, 2, head.len() - 1);
    out.push_str(&notes(r));
    out
}

/// `head` and `rows` as aligned text; columns `first..last` are numbers (right-aligned).
pub(super) fn aligned(head: &[String], rows: &[Vec<String>], first: usize, last: usize) -> String {
    let widths: Vec<usize> = (0..head.len())
        .map(|k| {
            std::iter::once(head)
                .chain(rows.iter().map(Vec::as_slice))
                .map(|row| row.get(k).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let end = head.len().saturating_sub(1);
    let line = |row: &[String]| {
        let mut out = String::new();
        for (k, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[k].saturating_sub(cell.chars().count()));
            if k >= first && k < last {
                out.push_str(&pad);
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&pad);
            }
            if k < end {
                out.push_str("  ");
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(head);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// `head` and `rows` as a Markdown table; columns `first..last` right-aligned.
pub(super) fn markdown_table(
    head: &[String],
    rows: &[Vec<String>],
    first: usize,
    last: usize,
) -> String {
    let esc = |c: &String| c.replace('|', "\\|");
    let join = |row: &[String]| row.iter().map(esc).collect::<Vec<_>>().join(" | ");
    let mut out = format!("| {} |\n", join(head));
    let align: Vec<&str> = (0..head.len())
        .map(|k| {
            if k >= first && k < last {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for row in rows {
        let _ = writeln!(out, "| {} |", join(row));
    }
    out
}

/// The notes under both renderings: what-ifs, the model, the images, the month, the path and
/// the prices' sources.
fn notes(r: &CostResult) -> String {
    let mut out = String::from("\n");
    if !r.what_ifs.is_empty() {
        let _ = writeln!(out, "What-ifs applied: {}.", r.what_ifs.join("; "));
    }
    let _ = writeln!(out, "{}", r.burst_model);
    out.push_str("Images:\n");
    for image in &r.images {
        let _ = writeln!(out, "  {image}");
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "A month is {} days. Network path: {}. Pushes are priced as ingress (free); pulls at the path's egress price.",
        r.days_per_month,
        serde_json::to_string(&r.network_path).unwrap_or_default().trim_matches('"')
    );
    out.push_str("Prices (examples: check and replace them in the pricing file):\n");
    for p in &r.prices {
        let _ = writeln!(
            out,
            "  {} = {} {} — {} (read {})",
            p.what, p.amount, p.unit, p.source, p.read
        );
    }
    out
}

/// The result as a Markdown table with the notes.
pub fn render_markdown(r: &CostResult) -> String {
    let (head, rows) = cells(r);
    let mut out = String::from("# What-if: the cost of an image\n\n");
    out.push_str(&markdown_table(&head, &rows, 2, head.len() - 1));
    out.push_str(&notes(r).replace("\n  ", "\n- "));
    out
}
