//! JSON export: the run.json content, pretty-printed.

use super::{ExportError, Exporter};
use crate::results::RunRecord;

/// Writes the whole [`RunRecord`] as pretty JSON, exactly as run.json.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn render(&self, record: &RunRecord) -> Result<Vec<u8>, ExportError> {
        let mut bytes = serde_json::to_vec_pretty(record)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
