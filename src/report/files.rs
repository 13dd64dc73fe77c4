//! A run's report on disk: `summary.md`, `charts/*.svg|png` and `report.html`, written from
//! run.json alone; and the `--export-*` files.

use std::path::{Path, PathBuf};

use super::charts;
use super::export::{self, Exporter};
use super::html;
use crate::cli::ExportArgs;
use crate::results::RunRecord;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// run.json missing or unreadable.
    #[error("reading {path}: {cause}")]
    Read { path: PathBuf, cause: String },
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A chart failed.
    #[error("charts: {0}")]
    Charts(#[from] charts::ChartError),
    /// An export failed.
    #[error("export: {0}")]
    Export(#[from] export::ExportError),
}

/// Reads `dir/run.json`.
pub fn load_run(dir: &Path) -> Result<RunRecord, ReportError> {
    let path = dir.join("run.json");
    let bytes = std::fs::read(&path).map_err(|e| ReportError::Read {
        path: path.clone(),
        cause: format!("{e} (is {} a coldbench run directory?)", dir.display()),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::Read {
        path,
        cause: e.to_string(),
    })
}

/// Writes summary.md, charts/ and report.html into `out`; returns the files written.
pub fn write_report(record: &RunRecord, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let write = |path: PathBuf, bytes: &[u8]| -> Result<PathBuf, ReportError> {
        std::fs::write(&path, bytes).map_err(|source| ReportError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    };
    let chart_dir = out.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|source| ReportError::Write {
        path: chart_dir.clone(),
        source,
    })?;
    let mut written = Vec::new();
    let summary = export::MarkdownExporter.render(record)?;
    written.push(write(out.join("summary.md"), &summary)?);
    let charts = charts::render_all(record)?;
    for c in &charts {
        written.push(write(
            chart_dir.join(format!("{}.svg", c.name)),
            c.svg.as_bytes(),
        )?);
        written.push(write(chart_dir.join(format!("{}.png", c.name)), &c.png)?);
    }
    let inline: Vec<(String, String)> = charts
        .iter()
        .map(|c| (c.title.clone(), c.svg.clone()))
        .collect();
    let page = html::report_html(record, &inline);
    written.push(write(out.join("report.html"), page.as_bytes())?);
    Ok(written)
}

/// Writes the `--export-*` files that were asked for (`-` = stdout).
pub fn write_exports(record: &RunRecord, exports: &ExportArgs) -> Result<(), ReportError> {
    let asked: [(&Option<String>, &dyn Exporter); 3] = [
        (&exports.export_json, &export::JsonExporter),
        (&exports.export_csv, &export::CsvExporter),
        (&exports.export_markdown, &export::MarkdownExporter),
    ];
    for (target, exporter) in asked {
        if let Some(target) = target {
            export::write(exporter, record, target)?;
        }
    }
    Ok(())
}
