//! report.html: one self-contained page (inline CSS, inline SVG charts, no script, no external
//! asset) with the run's context, the summary tables, the charts, each variant's anatomy and
//! every sample.

use std::fmt::Write as _;
use std::time::Duration;

use crate::analysis::Analysis;
use crate::report::export::markdown::{self, SummaryTable};
use crate::results::Anatomy;
use crate::results::{Outcome, Sample};
use crate::results::{RunRecord, VariantRecord};
use crate::units::{format_bytes, format_duration};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn us(v: u64) -> String {
    format_duration(Duration::from_micros(v))
}

fn opt_us(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_string(), us)
}

const STYLE: &str = r#"
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --band: #f4f6f9; --accent: #2456c7; --warn: #a5520b; --bad: #b3261e; --ok: #1f7a3a; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.lead { margin: 0 0 18px; color: var(--muted); font-size: 16px; }
p.note { margin: 6px 0 0; color: var(--muted); font-size: 13px; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
dl.context { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 18px; margin: 0; padding: 14px 18px; background: var(--band); border-radius: 8px; }
dl.context dt { color: var(--muted); }
dl.context dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody tr:hover { background: #fafbfd; }
td.variant { font-weight: 600; white-space: nowrap; }
.warn { color: var(--warn); }
.bad { color: var(--bad); font-weight: 600; }
.good { color: var(--ok); }
ul.warnings { padding-left: 20px; color: var(--warn); }
figure { margin: 16px 0 24px; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
section.variant { border: 1px solid var(--line); border-radius: 8px; padding: 4px 18px 14px; margin: 16px 0; }
section.variant h3 { margin-top: 14px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 12px; }
.facts div:nth-child(odd) { color: var(--muted); }
table.samples td, table.samples th { padding: 3px 8px; font-size: 13px; }
details { margin: 12px 0; }
summary { cursor: pointer; color: var(--accent); }
pre { background: var(--band); padding: 12px; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
"#;

/// Renders report.html: one self-contained page for `record`, with `charts` as
/// `(title, svg)` pairs inlined as they are (titles are escaped, SVG is not).
pub fn report_html(record: &RunRecord, charts: &[(String, String)]) -> String {
    report_html_analyzed(record, &crate::analysis::analyze(record), charts)
}

/// [`report_html`] from the record's analysis.
pub fn report_html_analyzed(
    record: &RunRecord,
    analysis: &Analysis,
    charts: &[(String, String)],
) -> String {
    let summary = markdown::summary_analyzed(record, analysis);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>coldbench · {} · {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&record.scenario.name),
        escape(&record.run_id)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&summary.title));
    let _ = writeln!(out, "<p class=\"lead\">{}</p>", escape(&summary.context));
    if let Some(mark) = record.simulated_mark() {
        let _ = writeln!(
            out,
            "<ul class=\"warnings\"><li>⚠ {}: every figure on this page comes from the cold-start model, not a measurement.</li></ul>",
            escape(&mark)
        );
    }
    if !summary.warnings.is_empty() {
        out.push_str("<ul class=\"warnings\">\n");
        for w in &summary.warnings {
            let _ = writeln!(out, "<li>⚠ {}</li>", escape(w));
        }
        out.push_str("</ul>\n");
    }

    context(&mut out, record);

    out.push_str("<h2 id=\"summary\">Summary</h2>\n");
    for table in &summary.tables {
        summary_table(&mut out, table);
    }

    if !charts.is_empty() {
        out.push_str("<h2 id=\"charts\">Charts</h2>\n");
        for (title, svg) in charts {
            let _ = writeln!(
                out,
                "<figure>\n<figcaption>{}</figcaption>\n{svg}\n</figure>",
                escape(title)
            );
        }
    }

    out.push_str("<h2 id=\"anatomy\">Image anatomy</h2>\n");
    for v in &record.variants {
        variant_section(&mut out, v);
    }

    samples(&mut out, record);

    let _ = writeln!(
        out,
        "<h2 id=\"scenario\">Scenario</h2>\n<p><code>{}</code> as given:</p>\n<details><summary>scenario file</summary>\n<pre>{}</pre>\n</details>",
        escape(&record.scenario.path),
        escape(&record.scenario.source)
    );
    let _ = writeln!(
        out,
        "<footer>Generated by coldbench {} from run <code>{}</code> (schema version {}). \
         This page is self-contained: no script, no external asset.</footer>",
        escape(&record.coldbench.version),
        escape(&record.run_id),
        record.schema_version
    );
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// How the engine stores images and runs pods: Docker's storage driver, or containerd's
/// snapshotter and CRI runtime handler (an older containerd run has its snapshotter in
/// `storage_driver`).
fn storage_facts(e: &crate::results::EngineContext) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    if e.snapshotter.is_none() || e.storage_driver.is_some() {
        let driver = e.storage_driver.clone().unwrap_or_else(|| "unknown".into());
        facts.push(("Storage driver", driver));
    }
    if let Some(s) = &e.snapshotter {
        facts.push(("Snapshotter", s.clone()));
    }
    if let Some(h) = &e.runtime_handler {
        facts.push(("Runtime handler", h.clone()));
    }
    facts
}

/// Context: scenario, run, dates, link, host, engine, tool.
fn context(out: &mut String, r: &RunRecord) {
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_string());
    let host = &r.host;
    let e = &r.engine;
    let cpu = format!(
        "{} · {} core{}",
        or_unknown(&host.cpu_model),
        host.cores,
        if host.cores == 1 { "" } else { "s" }
    );
    let engine = format!(
        "{} {}{}",
        e.driver,
        or_unknown(&e.version),
        e.api_version
            .as_ref()
            .map_or(String::new(), |a| format!(" (API {a})"))
    );
    let tool = format!(
        "{}{}",
        r.coldbench.version,
        r.coldbench
            .git_commit
            .as_ref()
            .map_or(" (commit unknown)".to_string(), |c| format!(
                " · commit {c}"
            ))
    );
    let bandwidth = match (&r.network.bandwidth, r.network.bandwidth_bytes_per_sec) {
        (Some(b), _) => b.clone(),
        (None, _) => "unlimited".to_string(),
    };
    let mut facts: Vec<(&str, String)> = vec![
        ("Scenario", r.scenario.name.clone()),
        ("Run", r.run_id.clone()),
        ("Started", r.started_at.clone()),
        ("Finished", r.finished_at.clone()),
        ("Bandwidth", bandwidth),
        ("Latency", us(r.network.latency_us)),
        ("Registry", r.network.registry.clone()),
        ("Seed", r.seed.to_string()),
        ("CPU", cpu),
        ("Host OS", or_unknown(&host.os)),
        ("Kernel", or_unknown(&host.kernel)),
        ("Hostname", or_unknown(&host.hostname)),
        ("Engine", engine),
        (
            "Engine node",
            match e.node.as_str() {
                "" => "unknown".to_string(),
                "fresh" if e.driver == "containerd" => {
                    "fresh (a containerd started for this run)".to_string()
                }
                "fresh" => "fresh (a dockerd started for this run)".to_string(),
                "sockets" => "engines at the scenario's node_sockets".to_string(),
                "engine" => "your engine".to_string(),
                other => other.to_string(),
            },
        ),
        ("Endpoint", e.endpoint.clone()),
        ("coldbench", tool),
        (
            "Completed",
            if r.interrupted {
                "no: interrupted".to_string()
            } else {
                "yes".to_string()
            },
        ),
    ];
    if let Some(at) = facts.iter().position(|(k, _)| *k == "Engine") {
        facts.splice(at + 1..at + 1, storage_facts(e));
    }
    if let Some(s) = &r.simulation {
        let calibration = s.calibration.as_deref().unwrap_or("none");
        facts.insert(
            0,
            (
                "Simulated",
                format!("{} · calibration {calibration}", s.model),
            ),
        );
    }
    out.push_str("<h2 id=\"context\">Context</h2>\n<dl class=\"context\">\n");
    for (k, v) in facts {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n");
}

/// One summary table as HTML.
fn summary_table(out: &mut String, t: &SummaryTable) {
    if !t.title.is_empty() {
        let _ = writeln!(out, "<h3>{}</h3>", escape(t.title));
    }
    out.push_str("<table>\n<thead><tr>");
    for (h, &right) in t.headers.iter().zip(&t.right) {
        let class = if right { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i == 0 {
                " class=\"variant\""
            } else if t.right.get(i).copied().unwrap_or(false) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    if let Some(note) = &t.note {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
}

/// A `name value` pair in a variant's facts grid; `value` is already HTML.
fn fact(out: &mut String, name: &str, value_html: &str) {
    let _ = writeln!(out, "<div>{name}</div><div>{value_html}</div>");
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        escape(&items.join(", "))
    }
}

fn command(c: &Option<Vec<String>>) -> Option<String> {
    c.as_ref()
        .map(|parts| format!("<code>{}</code>", escape(&parts.join(" "))))
}

/// A variant's image: sizes, layers, user, shells, package managers, largest files.
fn variant_section(out: &mut String, v: &VariantRecord) {
    let _ = writeln!(
        out,
        "<section class=\"variant\">\n<h3>{}</h3>",
        escape(&v.name)
    );
    out.push_str("<div class=\"facts\">\n");
    fact(out, "source", &escape(&v.source));
    fact(
        out,
        "image",
        &format!(
            "<code>{}:{}</code> <span class=\"mono\">{}</span>",
            escape(&v.image.repository),
            escape(&v.image.tag),
            escape(v.image.digest.as_str())
        ),
    );
    fact(
        out,
        "size",
        &format!(
            "{} compressed, {} uncompressed, {} layer{}",
            format_bytes(v.image.compressed_size),
            format_bytes(v.image.uncompressed_size),
            v.image.layers.len(),
            if v.image.layers.len() == 1 { "" } else { "s" }
        ),
    );
    if let Some(level) = v.compression_level {
        fact(out, "gzip level", &level.to_string());
    }
    fact(out, "wire floor", &opt_us(v.wire_floor_us));
    match &v.anatomy {
        Some(a) => anatomy(out, a),
        None => {
            fact(out, "anatomy", "not analyzed");
            out.push_str("</div>\n");
        }
    }
    out.push_str("</section>\n");
}

/// The anatomy facts (closes the facts grid) and its layer and file tables.
fn anatomy(out: &mut String, a: &Anatomy) {
    let user = match a.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => format!("<code>{}</code>", escape(u)),
        None => "(not set)".to_string(),
    };
    let root = if a.runs_as_root {
        " <span class=\"bad\">⚠ runs as root</span>"
    } else {
        " <span class=\"good\">non-root</span>"
    };
    fact(out, "user", &format!("{user}{root}"));
    if let Some(e) = command(&a.entrypoint) {
        fact(out, "entrypoint", &e);
    }
    if let Some(c) = command(&a.cmd) {
        fact(out, "cmd", &c);
    }
    let shells = if a.shells.is_empty() {
        "none".to_string()
    } else {
        format!("<span class=\"warn\">{}</span>", list_or_none(&a.shells))
    };
    fact(out, "shells", &shells);
    let pkg = if a.package_managers.is_empty() {
        "none".to_string()
    } else {
        format!(
            "<span class=\"warn\">{}</span>",
            list_or_none(&a.package_managers)
        )
    };
    fact(out, "package managers", &pkg);
    fact(out, "regular files", &a.file_count.to_string());
    out.push_str("</div>\n");

    out.push_str(
        "<table>\n<thead><tr><th class=\"num\">#</th><th class=\"num\">Compressed</th>\
         <th class=\"num\">Uncompressed</th><th class=\"num\">Files</th><th>Created by</th>\
         </tr></thead>\n<tbody>\n",
    );
    for (i, l) in a.layers.iter().enumerate() {
        let created = l.created_by.as_deref().map_or_else(
            || "<span class=\"warn\">(no history)</span>".to_string(),
            |c| format!("<code>{}</code>", escape(c)),
        );
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{created}</td></tr>",
            i + 1,
            format_bytes(l.size),
            format_bytes(l.uncompressed_size),
            l.files
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if !a.largest_files.is_empty() {
        out.push_str(
            "<details open><summary>largest files</summary>\n<table>\n<thead><tr>\
             <th class=\"num\">Size</th><th>Path</th></tr></thead>\n<tbody>\n",
        );
        for f in &a.largest_files {
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td><code>{}</code></td></tr>",
                format_bytes(f.size),
                escape(&f.path)
            );
        }
        out.push_str("</tbody>\n</table>\n</details>\n");
    }
}

/// Every sample, in execution order.
fn samples(out: &mut String, r: &RunRecord) {
    let bursts = r.samples.iter().any(|s| s.burst.is_some());
    let _ = writeln!(
        out,
        "<h2 id=\"samples\">Samples</h2>\n<p class=\"note\">{} in execution order; \
         warm-up and not-cold samples are recorded but never summarized. Bytes are the blob \
         bytes the registry served; a cold sample moved exactly the image's bytes.</p>",
        if r.samples.len() == 1 {
            "1 sample".to_string()
        } else {
            format!("{} samples", r.samples.len())
        }
    );
    out.push_str("<table class=\"samples\">\n<thead><tr><th class=\"num\">#</th><th>Variant</th><th class=\"num\">Rep.</th>");
    if bursts {
        out.push_str("<th class=\"num\">Burst</th><th class=\"num\">Node</th><th class=\"num\">Replica</th><th class=\"num\">Ready at</th>");
    }
    out.push_str(
        "<th class=\"num\">Pull</th><th class=\"num\">Create</th><th class=\"num\">Start</th>\
         <th class=\"num\">First request</th><th class=\"num\">Total</th><th class=\"num\">Bytes</th>\
         <th>Cold</th><th>Outcome</th></tr></thead>\n<tbody>\n",
    );
    for s in r.samples.iter().take(MAX_SAMPLE_ROWS) {
        sample_row(out, s, bursts);
    }
    out.push_str("</tbody>\n</table>\n");
    if r.samples.len() > MAX_SAMPLE_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">The first {MAX_SAMPLE_ROWS} samples are shown; every one of the {} is in samples.csv and run.json.</p>",
            r.samples.len()
        );
    }
}

/// Most rows of the samples table: a page stays readable (a simulated burst has thousands).
const MAX_SAMPLE_ROWS: usize = 1000;

fn sample_row(out: &mut String, s: &Sample, bursts: bool) {
    let num = |v: String| format!("<td class=\"num\">{v}</td>");
    let opt_num = |v: Option<usize>| num(v.map_or_else(|| "—".to_string(), |n| n.to_string()));
    let mut row = String::from("<tr>");
    row.push_str(&num(s.index.to_string()));
    let warm = if s.warmup {
        " <span class=\"warn\">(warm-up)</span>"
    } else {
        ""
    };
    let _ = write!(row, "<td>{}{warm}</td>", escape(&s.variant));
    row.push_str(&num(s.repetition.to_string()));
    if bursts {
        row.push_str(&opt_num(s.burst));
        row.push_str(&num(s.node.to_string()));
        row.push_str(&opt_num(s.replica));
        row.push_str(&num(opt_us(s.ready_at_us)));
    }
    for v in [
        s.phases.pull_us,
        s.phases.create_us,
        s.phases.start_us,
        s.phases.first_request_us,
        s.phases.total_us,
    ] {
        row.push_str(&num(opt_us(v)));
    }
    row.push_str(&num(format_bytes(s.blob_bytes)));
    let cold = if s.cold {
        "yes".to_string()
    } else {
        "<span class=\"warn\">no</span>".to_string()
    };
    let _ = write!(row, "<td>{cold}</td>");
    let outcome = match &s.outcome {
        Outcome::Ok => "<span class=\"good\">ok</span>".to_string(),
        Outcome::Failed { phase, message } => format!(
            "<span class=\"bad\">failed in {}</span>: {}",
            phase.name(),
            escape(message)
        ),
    };
    let _ = write!(row, "<td>{outcome}</td></tr>");
    out.push_str(&row);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::EngineContext;

    #[test]
    fn storage_rows_follow_the_engine() {
        let docker = EngineContext {
            storage_driver: Some("overlay2".into()),
            ..Default::default()
        };
        assert_eq!(
            storage_facts(&docker),
            vec![("Storage driver", "overlay2".to_string())]
        );
        let containerd = EngineContext {
            snapshotter: Some("overlayfs".into()),
            runtime_handler: Some("runc".into()),
            ..Default::default()
        };
        assert_eq!(
            storage_facts(&containerd),
            vec![
                ("Snapshotter", "overlayfs".to_string()),
                ("Runtime handler", "runc".to_string())
            ]
        );
        let unknown = storage_facts(&EngineContext::default());
        assert_eq!(unknown, vec![("Storage driver", "unknown".to_string())]);
    }
}
