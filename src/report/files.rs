//! A run's report on disk: `summary.md`, `charts/*.svg|png` and `report.html`, written from
//! run.json alone; and the `--export-*` files.

use std::path::{Path, PathBuf};

use super::charts;
use super::export::{self, ExportTargets, TargetError};
use super::html;
use crate::analysis;
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
    /// An export target cannot be written.
    #[error(transparent)]
    Target(#[from] TargetError),
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
    let analysis = analysis::analyze(record);
    let mut written = Vec::new();
    let summary = export::markdown::render_analyzed(record, &analysis);
    written.push(write(out.join("summary.md"), summary.as_bytes())?);
    let charts = charts::render_all_analyzed(record, &analysis)?;
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
    let page = html::report_html_analyzed(record, &analysis, &inline);
    written.push(write(out.join("report.html"), page.as_bytes())?);
    Ok(written)
}

/// Writes the `--export-*` files that were asked for (`-` = stdout).
pub fn write_exports(record: &RunRecord, targets: &ExportTargets) -> Result<(), ReportError> {
    for (format, target) in targets.asked() {
        export::write(format.exporter(), record, target)?;
    }
    Ok(())
}
