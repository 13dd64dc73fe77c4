//! Markdown export: summary.md, hyperfine-style tables short enough for a pull-request comment
//! or a CI step summary.
//!
//! The tables are built once as plain text ([`summary`]) from [`crate::analysis::Analysis`] and
//! rendered here as Markdown and in [`crate::report::html`] as HTML, so both show the same
//! numbers.

use std::fmt::Write as _;
use std::time::Duration;

use super::{ExportError, Exporter};
use crate::analysis::{self, Analysis, Context, FloorKind, Ratio, VariantAnalysis};
use crate::results::{Phase, RunRecord, Summary, VariantRecord};
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

/// `s` samples / `1 sample`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `13.07 ± 0.92`, `1.00`, `—`.
fn relative(r: Option<Ratio>) -> String {
    match r {
        Some(Ratio {
            ratio,
            spread: Some(spread),
        }) => format!("{ratio:.2} ± {spread:.2}"),
        Some(Ratio { ratio, .. }) => format!("{ratio:.2}"),
        None => "—".to_string(),
    }
}

/// `5.74 s ± 210.3 ms` (no ± with fewer than two samples).
fn with_spread(s: &Summary) -> String {
    if s.count < 2 {
        return us(s.p50);
    }
    format!("{} ± {}", us(s.p50), us(s.stddev.round() as u64))
}

/// `3.61×`, `—`.
fn times(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |x| format!("{x:.2}×"))
}

/// Builds the summary of `record` (deterministic: only the record is read).
pub fn summary(record: &RunRecord) -> RunSummary {
    summary_analyzed(record, &analysis::analyze(record))
}

/// Builds the summary of `record` from its analysis.
pub fn summary_analyzed(record: &RunRecord, analysis: &Analysis) -> RunSummary {
    let pairs: Vec<(&VariantRecord, &VariantAnalysis)> =
        record.variants.iter().zip(&analysis.variants).collect();
    let mut tables = vec![
        main_table(&pairs),
        phases_table(&pairs),
        images_table(&pairs),
    ];
    if let Some(bursts) = burst_table(&pairs) {
        tables.push(bursts);
    }
    RunSummary {
        title: match &analysis.context.simulated {
            None => format!("Cold start · {}", record.scenario.name),
            Some(_) => format!("Cold start · {} · simulated", record.scenario.name),
        },
        context: context_line(&analysis.context),
        tables,
        warnings: analysis.warnings.iter().map(|w| w.to_string()).collect(),
    }
}

/// Totals: p50 ± σ, p95, max, pull p50, wire floor, relative speed.
fn main_table(pairs: &[(&VariantRecord, &VariantAnalysis)]) -> SummaryTable {
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
    for (v, a) in pairs {
        let mut row = vec![v.name.clone(), format_bytes(v.image.compressed_size)];
        match a.phase(Phase::Total) {
            Some(t) => row.extend([with_spread(t), us(t.p95), us(t.max)]),
            None => row.extend(["no successful sample".to_string(), "—".into(), "—".into()]),
        }
        row.push(opt_us(a.phase(Phase::Pull).map(|p| p.p50)));
        row.push(opt_us(a.wire_floor_us));
        row.push(relative(a.relative));
        main.rows.push(row);
    }
    main
}

/// p50 of each phase, pull against its floor, sample counts.
fn phases_table(pairs: &[(&VariantRecord, &VariantAnalysis)]) -> SummaryTable {
    let mut note = "× floor is pull p50 / wire floor: the rest of the pull is the engine \
                    (round trips, decompression, extraction)."
        .to_string();
    let burst_floor =
        |a: &VariantAnalysis| a.pull_floor.is_some_and(|f| f.kind == FloorKind::Burst);
    if pairs.iter().any(|(_, a)| burst_floor(a)) {
        note.push_str(
            " In a burst it is pull p50 / the burst's floor (see Bursts): the nodes share the \
             egress.",
        );
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
        note: Some(note),
    };
    for (v, a) in pairs {
        let p50 = |p: Phase| opt_us(a.phase(p).map(|s| s.p50));
        phases.rows.push(vec![
            v.name.clone(),
            p50(Phase::Pull),
            times(a.pull_x_floor),
            p50(Phase::Create),
            p50(Phase::Start),
            p50(Phase::FirstRequest),
            a.counts.measured.to_string(),
        ]);
    }
    phases
}

/// Sizes, layers and anatomy flags.
fn images_table(pairs: &[(&VariantRecord, &VariantAnalysis)]) -> SummaryTable {
    let mut images = SummaryTable {
        title: "Images",
        headers: vec!["Variant", "Compressed", "Uncompressed", "Layers", "Anatomy"],
        right: vec![false, true, true, true, false],
        rows: Vec::new(),
        note: None,
    };
    for (v, _) in pairs {
        let anatomy = v
            .anatomy
            .as_ref()
            .map_or_else(|| "not analyzed".to_string(), crate::report::anatomy::flags);
        images.rows.push(vec![
            v.name.clone(),
            format_bytes(v.image.compressed_size),
            format_bytes(v.image.uncompressed_size),
            v.image.layers.len().to_string(),
            anatomy,
        ]);
    }
    images
}

/// Bandwidth, latency, engine and samples per variant.
fn context_line(c: &Context) -> String {
    let mut line = match &c.simulated {
        Some(mark) => format!("{mark}: modelled, not measured · {}", c.link),
        None => format!("{} · {}", c.link, c.engine),
    };
    match c.samples_per_variant {
        Some((lo, hi)) if lo == hi => {
            let _ = write!(
                line,
                " · {} per variant",
                plural(lo as usize, "sample", "samples")
            );
        }
        Some((lo, hi)) => {
            let _ = write!(line, " · {lo}–{hi} samples per variant");
        }
        None => {}
    }
    line
}

/// Capacity over time per variant, p50 over its measured bursts.
fn burst_table(pairs: &[(&VariantRecord, &VariantAnalysis)]) -> Option<SummaryTable> {
    if pairs.iter().all(|(_, a)| a.burst.is_none()) {
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
            "× floor",
            "Capacity lost",
        ],
        right: vec![false, true, true, true, true, true, true, true, true],
        rows: Vec::new(),
        note: Some(
            "Times from burst start. Floor is the burst's physics limit for full capacity \
             (max of nodes × size / egress and size / node downlink: the nodes share the \
             egress); × floor is full capacity / floor. Capacity lost is the mean \
             replica-seconds missing against an instant scale-out; a failed replica is never \
             ready and counts as lost until the burst ends."
                .to_string(),
        ),
    };
    for (v, a) in pairs {
        let Some(b) = &a.burst else {
            continue;
        };
        table.rows.push(vec![
            v.name.clone(),
            format!("{} on {}", b.replicas, plural(b.nodes, "node", "nodes")),
            b.bursts.to_string(),
            opt_us(b.first_ready_p50_us),
            opt_us(b.half_ready_p50_us),
            opt_us(b.full_ready_p50_us),
            opt_us(b.floor_us),
            times(b.full_x_floor),
            format!("{:.1} replica-s", b.capacity_lost_mean),
        ]);
    }
    Some(table)
}

/// Escapes text for a Markdown table cell, heading or quote (every Markdown file coldbench
/// writes uses it).
pub(crate) fn escape(s: &str) -> String {
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
    render_analyzed(record, &analysis::analyze(record))
}

/// Renders the summary of `record` as Markdown from its analysis.
pub fn render_analyzed(record: &RunRecord, analysis: &Analysis) -> String {
    let summary = summary_analyzed(record, analysis);
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
