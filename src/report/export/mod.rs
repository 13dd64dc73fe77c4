//! Exporters of a run, like hyperfine's `--export-*`: one small unit per format behind
//! [`Exporter`], one file each. `json` is run.json, `csv` is samples.csv, `markdown` is
//! summary.md. [`ExportTargets`] says where each goes and checks that before a run.

pub mod csv;
pub mod json;
pub mod markdown;
pub mod targets;

use std::io::{self, Write};

use crate::results::RunRecord;

pub use self::csv::CsvExporter;
pub use self::json::JsonExporter;
pub use self::markdown::MarkdownExporter;
pub use self::targets::{check_target, ExportFormat, ExportTargets, TargetError};

/// Renders a run into one file format.
pub trait Exporter {
    /// File extension without the dot (`json`, `csv`, `md`).
    fn extension(&self) -> &'static str;
    /// The file's content.
    fn render(&self, record: &RunRecord) -> Result<Vec<u8>, ExportError>;
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Serializing to JSON failed.
    #[error("serializing the run to JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing CSV rows failed.
    #[error("writing CSV rows: {0}")]
    Csv(#[source] io::Error),
    /// Writing the target failed.
    #[error("writing {target}: {source}")]
    Write {
        /// The file written, or `-` for stdout.
        target: String,
        /// The cause.
        source: io::Error,
    },
}

/// Renders `record` with `exporter` and writes it to `target`: a file path, or `-` for stdout.
pub fn write(exporter: &dyn Exporter, record: &RunRecord, target: &str) -> Result<(), ExportError> {
    write_bytes(&exporter.render(record)?, target)
}

/// Writes `bytes` to `target`: a file path, or `-` for stdout.
pub fn write_bytes(bytes: &[u8], target: &str) -> Result<(), ExportError> {
    let at = |source: io::Error| ExportError::Write {
        target: target.to_string(),
        source,
    };
    if target == "-" {
        let mut out = io::stdout().lock();
        out.write_all(bytes).map_err(at)?;
        out.flush().map_err(at)
    } else {
        std::fs::write(target, bytes).map_err(at)
    }
}
