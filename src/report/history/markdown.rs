//! `history.md`: per variant, one row per run with the p50 (p5–p95) of total and pull, and ▲
//! on the cells its compare.json found regressed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::compare::Metric;
use crate::history::{History, MetricPoint, RunPoint};
use crate::report::export::markdown::escape;
use crate::results::Phase;
use crate::units::format_duration;

/// The metrics tabled, with their column headers.
const COLUMNS: [(Metric, &str); 2] = [
    (Metric::Phase(Phase::Total), "total p50 (p5–p95)"),
    (Metric::Phase(Phase::Pull), "pull p50 (p5–p95)"),
];

/// Marks a cell that regressed against its baseline.
pub const REGRESSED_MARK: &str = "▲";

/// Renders `history` as Markdown (history.md).
pub fn render_markdown(history: &History) -> String {
    let mut out = String::from("# Cold-start history\n\n");
    let _ = writeln!(out, "{}\n", intro(history));
    for variant in history.variants() {
        let _ = writeln!(out, "## {}\n", escape(variant));
        out.push_str(&table(history, variant));
        out.push('\n');
    }
    if !history.warnings.is_empty() {
        out.push_str("## Warnings\n\n");
        for w in &history.warnings {
            let _ = writeln!(out, "- ⚠ {}", escape(w));
        }
    }
    out
}

/// How many runs over which dates, and how to read the tables.
fn intro(history: &History) -> String {
    let (first, last) = match (history.points.first(), history.points.last()) {
        (Some(f), Some(l)) => (f.date_time(), l.date_time()),
        _ => return "No runs.".to_string(),
    };
    let runs = match history.points.len() {
        1 => format!("1 run, {}", escape(&first)),
        n => format!("{n} runs, {} → {}", escape(&first), escape(&last)),
    };
    let mut text = format!(
        "{runs}. Each cell is the p50 (p5–p95) of the run's successful, cold samples; \
         n counts them."
    );
    if history.compared() {
        text.push_str(&format!(
            " {REGRESSED_MARK} marks a metric that regressed against the run's baseline \
             (its compare.json)."
        ));
    }
    text
}

/// One variant's table.
fn table(history: &History, variant: &str) -> String {
    let compared = history.compared();
    let mut headers = vec!["run (UTC)", "commit", "n"];
    headers.extend(COLUMNS.iter().map(|(_, h)| *h));
    let mut align = vec!["---", "---", "--:"];
    align.extend(COLUMNS.iter().map(|_| "--:"));
    if compared {
        headers.push("regressed (compare)");
        align.push("---");
    }
    let mut out = format!("| {} |\n| {} |\n", headers.join(" | "), align.join(" | "));
    for point in &history.points {
        let _ = writeln!(out, "| {} |", row(point, variant, compared).join(" | "));
    }
    out
}

/// One run's cells for `variant`.
fn row(point: &RunPoint, variant: &str, compared: bool) -> Vec<String> {
    let n = COLUMNS
        .iter()
        .find_map(|(m, _)| point.cell(variant, *m))
        .map_or_else(|| "—".to_string(), |c| c.n.to_string());
    let when = if point.simulated {
        format!("{} (simulated)", point.date_time())
    } else {
        point.date_time()
    };
    let mut cells = vec![
        escape(&when),
        point.git_commit.as_deref().map_or("—".to_string(), escape),
        n,
    ];
    cells.extend(
        COLUMNS
            .iter()
            .map(|(m, _)| point.cell(variant, *m).map_or("—".to_string(), spread)),
    );
    if compared {
        cells.push(regressions(point, variant));
    }
    cells
}

/// `5.74 s (5.60 s – 6.02 s)`, with ▲ when regressed.
fn spread(c: &MetricPoint) -> String {
    let mark = if c.regressed {
        format!(" {REGRESSED_MARK}")
    } else {
        String::new()
    };
    format!("{} ({} – {}){mark}", us(c.p50), us(c.p5), us(c.p95))
}

/// `▲ total, create`; `none`; `—` without a compare.json.
fn regressions(point: &RunPoint, variant: &str) -> String {
    if point.baseline.is_none() {
        return "—".to_string();
    }
    let names: Vec<&str> = point.regressions(variant).map(Metric::name).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        escape(&format!("{REGRESSED_MARK} {}", names.join(", ")))
    }
}

/// `812 µs`, `12.3 ms`, `1.52 s`.
fn us(v: u64) -> String {
    format_duration(Duration::from_micros(v))
}
