//! A sweep as a terminal table and as Markdown (JSON is serde of [`SweepResult`]).

use std::fmt::Write;

use super::render::{aligned, format_value, markdown_table};
use super::sweep::SweepResult;

/// Header and rows: the value, then per metric each variant and the difference of the first
/// two.
fn cells(r: &SweepResult) -> (Vec<String>, Vec<Vec<String>>) {
    let two = r.variants.len() >= 2;
    let money = format!("{}/day", r.currency);
    let metrics: [(&str, &str); 3] = [
        ("full capacity", "s"),
        ("traffic", "GB/day"),
        ("cost", &money),
    ];
    let mut head = vec![r.key.clone()];
    for (what, unit) in metrics {
        head.extend(r.variants.iter().map(|v| format!("{what} {v} {unit}")));
        if two {
            head.push(format!("{} − {}", r.variants[0], r.variants[1]));
        }
    }
    let rows = r
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.value.clone()];
            for (values, (_, unit)) in [
                &row.full_seconds,
                &row.traffic_gb_per_day,
                &row.cost_per_day,
            ]
            .into_iter()
            .zip(metrics)
            {
                let show = |v: f64| format_value(v, unit, &r.currency);
                cells.extend(values.iter().map(|&v| show(v)));
                if two {
                    let d = values.first().zip(values.get(1)).map(|(a, b)| a - b);
                    cells.push(d.map(show).unwrap_or_default());
                }
            }
            cells
        })
        .collect();
    (head, rows)
}

/// The notes: what was stepped, how, and where the timing comes from.
fn notes(r: &SweepResult) -> String {
    let mut out = format!(
        "\n{} steps of {}, {}. Time to full capacity per burst: {}.\n",
        r.rows.len(),
        r.key,
        if r.log { "log-spaced" } else { "evenly spaced" },
        r.timing
    );
    if !r.what_ifs.is_empty() {
        let _ = writeln!(
            out,
            "What-ifs applied under the sweep: {}.",
            r.what_ifs.join("; ")
        );
    }
    out
}

/// The sweep as an aligned table with its notes.
pub fn render_sweep_table(r: &SweepResult) -> String {
    let (head, rows) = cells(r);
    let mut out = aligned(&head, &rows, 1, head.len());
    out.push_str(&notes(r));
    out
}

/// The sweep as Markdown with its notes.
pub fn render_sweep_markdown(r: &SweepResult) -> String {
    let (head, rows) = cells(r);
    let mut out = format!("# What-if sweep: {}\n\n", r.key);
    out.push_str(&markdown_table(&head, &rows, 1, head.len()));
    out.push_str(&notes(r));
    out
}
