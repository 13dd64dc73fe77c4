//! Reports of a run: the terminal table; summary.md, charts (SVG and PNG) and a self-contained
//! report.html, written from run.json alone; and the `--export-*` exporters.

pub mod charts;
pub mod export;
pub mod files;
pub mod html;
pub mod table;
