//! A history of runs ([`crate::history::History`]) on disk: `history.md` (a table per variant)
//! and `charts/history-<variant>.svg|png` (trend charts).

pub mod markdown;

use std::path::{Path, PathBuf};

pub use markdown::render_markdown;

use super::charts::history_charts;
use super::ReportError;
use crate::history::History;

/// Writes `history.md` and one chart per variant (SVG and PNG, file names from the variant
/// name with anything but letters, digits, `.`, `-` and `_` replaced) into `out`, creating it;
/// returns the files written.
pub fn write_history(history: &History, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let chart_dir = out.join("charts");
    std::fs::create_dir_all(&chart_dir).map_err(|source| ReportError::Write {
        path: chart_dir.clone(),
        source,
    })?;
    let mut written = vec![write(
        out.join("history.md"),
        render_markdown(history).as_bytes(),
    )?];
    for chart in history_charts(history)? {
        written.push(write(
            chart_dir.join(format!("{}.svg", chart.name)),
            chart.svg.as_bytes(),
        )?);
        written.push(write(
            chart_dir.join(format!("{}.png", chart.name)),
            &chart.png,
        )?);
    }
    Ok(written)
}

/// Writes one file.
fn write(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    std::fs::write(&path, bytes).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
