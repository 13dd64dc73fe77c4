//! Reports of a run: the terminal table; summary.md, charts (SVG and PNG) and a self-contained
//! report.html, written from run.json alone; and the `--export-*` exporters. Every number
//! comes from [`crate::analysis`]: nothing here computes a statistic.

pub mod anatomy;
pub mod charts;
pub mod export;
pub mod files;
pub mod history;
pub mod html;
pub mod prediction;
pub mod table;
pub mod verdict;

pub use export::{ExportFormat, ExportTargets};
pub use files::ReportError;

/// `text` cut to at most `max` characters, the cut marked with `…`.
pub(crate) fn ellipsize(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
