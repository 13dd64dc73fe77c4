//! CSV export: the samples.csv content, one row per sample, times in microseconds.

use super::{ExportError, Exporter};
use crate::results::{writers, RunRecord};

/// Writes every sample as one CSV row (the same rows as samples.csv).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter;

impl Exporter for CsvExporter {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn render(&self, record: &RunRecord) -> Result<Vec<u8>, ExportError> {
        let mut bytes = Vec::new();
        writers::write_csv_to(&mut bytes, record).map_err(ExportError::Csv)?;
        Ok(bytes)
    }
}
