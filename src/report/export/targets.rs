//! Where `--export-*` files go, and the check that they can be written before a run starts.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;

use super::{CsvExporter, Exporter, JsonExporter, MarkdownExporter};
use crate::report::files::ReportError;

/// One export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The whole run (run.json content).
    Json,
    /// One row per sample (samples.csv content).
    Csv,
    /// The Markdown summary (summary.md content).
    Markdown,
}

impl ExportFormat {
    /// Every format, in the order they are written.
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::Json,
        ExportFormat::Csv,
        ExportFormat::Markdown,
    ];

    /// The command-line flag that asks for it.
    pub fn flag(self) -> &'static str {
        match self {
            ExportFormat::Json => "--export-json",
            ExportFormat::Csv => "--export-csv",
            ExportFormat::Markdown => "--export-markdown",
        }
    }

    /// Its exporter.
    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            ExportFormat::Json => &JsonExporter,
            ExportFormat::Csv => &CsvExporter,
            ExportFormat::Markdown => &MarkdownExporter,
        }
    }
}

/// Where each export goes: a file path, `-` for stdout, `None` when not asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportTargets {
    /// Whole run as JSON.
    pub json: Option<String>,
    /// Samples as CSV.
    pub csv: Option<String>,
    /// Summary as Markdown.
    pub markdown: Option<String>,
}

/// An export target that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {path}: {problem}")]
pub struct TargetError {
    /// The flag that named it.
    pub flag: &'static str,
    /// The path as given.
    pub path: String,
    /// What is wrong and what to do.
    pub problem: String,
}

impl ExportTargets {
    /// The targets asked for, in [`ExportFormat::ALL`] order.
    pub fn asked(&self) -> impl Iterator<Item = (ExportFormat, &str)> {
        ExportFormat::ALL.into_iter().filter_map(|f| {
            let target = match f {
                ExportFormat::Json => &self.json,
                ExportFormat::Csv => &self.csv,
                ExportFormat::Markdown => &self.markdown,
            };
            target.as_deref().map(|t| (f, t))
        })
    }

    /// Checks that every file target can be created or overwritten, so a typo fails before
    /// a run rather than after it. A file that did not exist is created and removed again.
    pub fn check(&self) -> Result<(), ReportError> {
        for (format, target) in self.asked().filter(|(_, t)| *t != "-") {
            check_target(target).map_err(|problem| TargetError {
                flag: format.flag(),
                path: target.to_string(),
                problem,
            })?;
        }
        Ok(())
    }
}

/// `Err(what is wrong and what to do)` when `target` (a file path, not `-`) cannot be
/// written; a file that did not exist is created and removed again.
pub fn check_target(target: &str) -> Result<(), String> {
    let path = Path::new(target);
    if target.is_empty() {
        return Err("empty path; give a file path or - for stdout".into());
    }
    if path.is_dir() {
        return Err("is a directory; give a file path inside it".into());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        let what = if parent.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        return Err(format!(
            "{} {what}; create it first or choose another path",
            parent.display()
        ));
    }
    let cannot = |e: io::Error| format!("cannot be written ({e}); choose another path");
    if path.exists() {
        // Opening for append checks permission without touching the content.
        OpenOptions::new().append(true).open(path).map_err(cannot)?;
        return Ok(());
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(cannot)?;
    std::fs::remove_file(path).map_err(cannot)
}
