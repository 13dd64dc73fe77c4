//! Markdown export: summary.md, hyperfine-style tables short enough for a pull-request comment
//! or a CI step summary.
//!
//! The tables are built once as plain text ([`summary`]) and rendered here as Markdown and in
//! [`crate::report::html`] as HTML, so both show the same numbers.

use std::fmt::Write as _;
use std::time::Duration;

use super::{ExportError, Exporter};
use crate::results::BurstRecord;
use crate::results::RunRecord;
use crate::results::{Phase, Summary};
use crate::units::{format_bytes, format_duration};

/// Writes summary.md.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn extension(&self) -> &'static str {
        "md"
    }

    fn render(&self, record: &RunRecord) -> Result<Vec<u8>, ExportError> {
        Ok(render(record).into_bytes())
    }
}

/// One summary table; cells are plain, unescaped text.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    /// Heading above the table (empty for the main table).
    pub title: &'static str,
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// Per column: true when right-aligned (numbers).
    pub right: Vec<bool>,
    /// Rows, one per variant.
    pub rows: Vec<Vec<String>>,
    /// A sentence under the table saying how to read it.
    pub note: Option<String>,
}

/// The summary of a run: a title, one context line, the tables and warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// `Cold start · <scenario>`.
    pub title: String,
    /// Bandwidth, latency, engine, samples per variant.
    pub context: String,
    /// Totals, phases, images and (for burst runs) capacity over time.
    pub tables: Vec<SummaryTable>,
    /// Failed and not-cold samples, interrupted run.
    pub warnings: Vec<String>,
}

/// `812 µs`, `12.3 ms`, `1.52 s`.
fn us(v: u64) -> String {
    format_duration(Duration::from_micros(v))
}

/// `12.3 ms`, `—` when absent.
fn opt_us(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_string(), us)
}

/// Median of µs values (lower median), `None` when empty.
fn median(mut v: Vec<u64>) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}

/// `s` samples / `1 sample`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn phase(record: &RunRecord, variant: &str, phase: Phase) -> Option<Summary> {
    record.summaries.get(variant)?.get(phase.name()).copied()
}

/// The bandwidth and latency line, e.g. `100.0 MB/s · 2.0 ms latency`.
pub fn link_line(record: &RunRecord) -> String {
    let bandwidth = record
        .network
        .bandwidth
        .clone()
        .unwrap_or_else(|| "unlimited bandwidth".to_string());
    format!("{bandwidth} · {} latency", us(record.network.latency_us))
}

/// The engine line, e.g. `docker 20.10.24 (overlay2, fresh node)`.
pub fn engine_line(record: &RunRecord) -> String {
    let e = &record.engine;
    let mut out = e.driver.clone();
    if let Some(v) = &e.version {
        let _ = write!(out, " {v}");
    }
    let mut detail = Vec::new();
    if let Some(s) = &e.storage_driver {
        detail.push(s.clone());
    }
    if !e.node.is_empty() {
        detail.push(format!("{} node", e.node));
    }
    if !detail.is_empty() {
        let _ = write!(out, " ({})", detail.join(", "));
    }
    out
}

/// `13.07 ± 0.92`: total p50 over the fastest's, with the standard deviations propagated.
fn relative(total: &Summary, fastest: &Summary) -> String {
    if fastest.p50 == 0 {
        return "—".to_string();
    }
    let (a, f) = (total.p50 as f64, fastest.p50 as f64);
    let ratio = a / f;
    if total.p50 == fastest.p50 {
        return format!("{ratio:.2}");
    }
    if total.count < 2 || fastest.count < 2 || a == 0.0 {
        return format!("{ratio:.2}");
    }
    let spread = ratio * ((total.stddev / a).powi(2) + (fastest.stddev / f).powi(2)).sqrt();
    format!("{ratio:.2} ± {spread:.2}")
}

/// `5.74 s ± 210.3 ms` (no ± with fewer than two samples).
fn with_spread(s: &Summary) -> String {
    if s.count < 2 {
        return us(s.p50);
    }
    format!("{} ± {}", us(s.p50), us(s.stddev.round() as u64))
}

/// Builds the summary of `record` (deterministic: only the record is read).
pub fn summary(record: &RunRecord) -> RunSummary {
    let totals: Vec<Option<Summary>> = record
        .variants
        .iter()
        .map(|v| phase(record, &v.name, Phase::Total))
        .collect();
    let fastest = totals.iter().flatten().min_by_key(|s| s.p50).copied();

    let mut main = SummaryTable {
        title: "",
        headers: vec![
            "Variant",
            "Size",
            "Total p50 ± σ",
            "p95",
            "max",
            "Pull p50",
            "Wire floor",
            "Relative",
        ],
        right: vec![false, true, true, true, true, true, true, true],
        rows: Vec::new(),
        note: Some(
            "Size is what a cold pull moves (config + compressed layers). ± is the standard \
             deviation of total. Wire floor is size / bandwidth: no pull can be faster. \
             Relative is total p50 / the fastest variant's total p50."
                .to_string(),
        ),
    };
    for (v, total) in record.variants.iter().zip(&totals) {
        let pull = phase(record, &v.name, Phase::Pull);
        let mut row = vec![v.name.clone(), format_bytes(v.image.compressed_size)];
        match total {
            Some(t) => row.extend([with_spread(t), us(t.p95), us(t.max)]),
            None => row.extend(["no successful sample".to_string(), "—".into(), "—".into()]),
        }
        row.push(pull.map_or_else(|| "—".to_string(), |p| us(p.p50)));
        row.push(opt_us(v.wire_floor_us));
        row.push(match (total, &fastest) {
            (Some(t), Some(f)) => relative(t, f),
            _ => "—".to_string(),
        });
        main.rows.push(row);
    }

    let mut phases = SummaryTable {
        title: "Phases (p50)",
        headers: vec![
            "Variant",
            "Pull",
            "× floor",
            "Create",
            "Start",
            "First request",
            "Samples",
        ],
        right: vec![false, true, true, true, true, true, true],
        rows: Vec::new(),
        note: Some(
            "× floor is pull p50 / wire floor: the rest of the pull is the engine \
             (round trips, decompression, extraction)."
                .to_string(),
        ),
    };
    for v in &record.variants {
        let p50 =
            |p: Phase| phase(record, &v.name, p).map_or_else(|| "—".to_string(), |s| us(s.p50));
        let pull = phase(record, &v.name, Phase::Pull);
        let times_floor = match (pull, v.wire_floor_us) {
            (Some(p), Some(f)) if f > 0 => format!("{:.2}×", p.p50 as f64 / f as f64),
            _ => "—".to_string(),
        };
        let measured = record
            .samples
            .iter()
            .filter(|s| s.variant == v.name && !s.warmup)
            .count();
        phases.rows.push(vec![
            v.name.clone(),
            p50(Phase::Pull),
            times_floor,
            p50(Phase::Create),
            p50(Phase::Start),
            p50(Phase::FirstRequest),
            measured.to_string(),
        ]);
    }

    let mut images = SummaryTable {
        title: "Images",
        headers: vec!["Variant", "Compressed", "Uncompressed", "Layers", "Anatomy"],
        right: vec![false, true, true, true, false],
        rows: Vec::new(),
        note: None,
    };
    for v in &record.variants {
        let anatomy = v
            .anatomy
            .as_ref()
            .map_or_else(|| "not analyzed".to_string(), crate::image::anatomy::flags);
        images.rows.push(vec![
            v.name.clone(),
            format_bytes(v.image.compressed_size),
            format_bytes(v.image.uncompressed_size),
            v.image.layers.len().to_string(),
            anatomy,
        ]);
    }

    let mut tables = vec![main, phases, images];
    if let Some(bursts) = burst_table(record) {
        tables.push(bursts);
    }

    RunSummary {
        title: format!("Cold start · {}", record.scenario.name),
        context: context_line(record),
        tables,
        warnings: warnings(record),
    }
}

/// Bandwidth, latency, engine and samples per variant.
fn context_line(record: &RunRecord) -> String {
    let counts: Vec<u64> = record
        .variants
        .iter()
        .filter_map(|v| phase(record, &v.name, Phase::Total).map(|s| s.count))
        .collect();
    let mut line = format!("{} · {}", link_line(record), engine_line(record));
    match (counts.iter().min(), counts.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => {
            let _ = write!(
                line,
                " · {} per variant",
                plural(*lo as usize, "sample", "samples")
            );
        }
        (Some(lo), Some(hi)) => {
            let _ = write!(line, " · {lo}–{hi} samples per variant");
        }
        _ => {}
    }
    line
}

/// Capacity over time per variant, p50 over its measured bursts.
fn burst_table(record: &RunRecord) -> Option<SummaryTable> {
    if !record.bursts.iter().any(|b| !b.warmup) {
        return None;
    }
    let mut table = SummaryTable {
        title: "Bursts (p50 time to capacity)",
        headers: vec![
            "Variant",
            "Replicas",
            "Bursts",
            "First ready",
            "50 %",
            "Full capacity",
            "Floor",
            "Capacity lost",
        ],
        right: vec![false, true, true, true, true, true, true, true],
        rows: Vec::new(),
        note: Some(
            "Times from burst start. Floor is the physics limit for full capacity \
             (max of nodes × size / egress and size / node downlink). Capacity lost is the \
             mean replica-seconds missing against an instant scale-out."
                .to_string(),
        ),
    };
    for v in &record.variants {
        let bursts: Vec<&BurstRecord> = record
            .bursts
            .iter()
            .filter(|b| b.variant == v.name && !b.warmup)
            .collect();
        let Some(first) = bursts.first() else {
            continue;
        };
        let pick = |f: fn(&BurstRecord) -> Option<u64>| {
            opt_us(median(bursts.iter().filter_map(|b| f(b)).collect()))
        };
        let lost =
            bursts.iter().map(|b| b.capacity_seconds_lost).sum::<f64>() / bursts.len() as f64;
        table.rows.push(vec![
            v.name.clone(),
            format!(
                "{} on {}",
                first.replicas,
                plural(first.nodes, "node", "nodes")
            ),
            bursts.len().to_string(),
            pick(|b| b.first_ready_us),
            pick(|b| b.half_ready_us),
            pick(|b| b.full_ready_us),
            opt_us(first.floor_us),
            format!("{lost:.1} replica-s"),
        ]);
    }
    Some(table)
}

/// Interrupted run, failed samples, samples that were not cold.
fn warnings(record: &RunRecord) -> Vec<String> {
    let mut out = Vec::new();
    if record.interrupted {
        out.push("the run was interrupted: not every sample was taken".to_string());
    }
    for v in &record.variants {
        let of_variant = || record.samples.iter().filter(|s| s.variant == v.name);
        let failed = of_variant().filter(|s| !s.is_ok()).count();
        if failed > 0 {
            out.push(format!(
                "{}: {} failed (see samples.csv)",
                v.name,
                plural(failed, "sample", "samples")
            ));
        }
        let warm = of_variant().filter(|s| s.is_ok() && !s.cold).count();
        if warm > 0 {
            out.push(format!(
                "{}: {} moved fewer or more bytes than the image: not cold",
                v.name,
                plural(warm, "sample", "samples")
            ));
        }
    }
    out
}

/// Escapes text for a Markdown table cell or heading.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders the summary as Markdown (summary.md).
pub fn render(record: &RunRecord) -> String {
    let summary = summary(record);
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", escape(&summary.title));
    let _ = writeln!(out, "{}\n", escape(&summary.context));
    for table in &summary.tables {
        if !table.title.is_empty() {
            let _ = writeln!(out, "### {}\n", table.title);
        }
        let _ = writeln!(out, "| {} |", table.headers.join(" | "));
        let aligns: Vec<&str> = table
            .right
            .iter()
            .map(|&r| if r { "---:" } else { ":---" })
            .collect();
        let _ = writeln!(out, "|{}|", aligns.join("|"));
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out.push('\n');
        if let Some(note) = &table.note {
            let _ = writeln!(out, "{note}\n");
        }
    }
    if !summary.warnings.is_empty() {
        for w in &summary.warnings {
            let _ = writeln!(out, "- ⚠ {}", escape(w));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<sub>coldbench {} · run {}</sub>",
        escape(&record.coldbench.version),
        escape(&record.run_id)
    );
    out
}
