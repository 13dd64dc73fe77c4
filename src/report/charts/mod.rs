//! Charts of a run: SVG and PNG, drawn with plotters and a bundled DejaVu Sans font.
//!
//! Every chart is drawn twice from the same code, once into an SVG string and once into an RGB
//! buffer that is encoded as PNG. Text goes through plotters' `ab_glyph` support with the font
//! compiled into the binary, so no system fontconfig is needed. Output is deterministic: the same
//! run record gives the same SVG bytes.

mod burst;
mod cdf;
mod cost;
mod faults;
mod history;
mod layers;
mod phases;
mod png;
mod size_pull;
mod style;
mod sweep;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub use cost::cost_chart;
pub use history::history_charts;
pub use sweep::sweep_chart;

use crate::analysis::{self, Analysis};
use crate::results::RunRecord;

/// DejaVu Sans (see `assets/fonts/LICENSE`), registered as `sans-serif`.
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// One rendered chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// File stem: `phases`, `cdf-total`, `cdf-pull`, `burst-capacity`, `size-vs-pull`, `layers`,
    /// `faults`.
    pub name: String,
    /// Human title, as drawn on the chart.
    pub title: String,
    /// The chart as an SVG document.
    pub svg: String,
    /// The chart as a PNG image.
    pub png: Vec<u8>,
}

/// Why charts could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The bundled font could not be registered.
    #[error("cannot load the bundled chart font")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing chart {chart}: {message}")]
    Draw {
        /// Chart being drawn.
        chart: String,
        /// plotters' message.
        message: String,
    },
    /// Encoding the PNG failed.
    #[error("encoding PNG of chart {chart}: {source}")]
    Png {
        /// Chart being encoded.
        chart: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A drawing failure inside a chart, before the chart's name is attached.
pub(crate) struct DrawFailure(String);

/// Converts a plotters error into a [`DrawFailure`].
pub(crate) fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> DrawFailure {
    DrawFailure(e.to_string())
}

/// The result of drawing one chart on one backend.
pub(crate) type DrawResult = Result<(), DrawFailure>;

/// A chart that can draw itself on any plotters backend.
pub(crate) trait Plot {
    /// Pixel size (width, height).
    fn size(&self) -> (u32, u32) {
        style::SIZE
    }
    /// Draws the whole chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Renders every chart that `record` has data for, in a fixed order.
///
/// Charts without data (no successful samples, no bursts, no layer timings, no failure, fault
/// or retry) are left out.
pub fn render_all(record: &RunRecord) -> Result<Vec<Chart>, ChartError> {
    render_all_analyzed(record, &analysis::analyze(record))
}

/// [`render_all`] from the record's analysis (medians and percentiles come from it).
pub fn render_all_analyzed(
    record: &RunRecord,
    analysis: &Analysis,
) -> Result<Vec<Chart>, ChartError> {
    register_font()?;
    let mut charts = Vec::new();
    if let Some(p) = phases::Phases::new(record, analysis) {
        charts.push(render("phases", &p.title(), &p)?);
    }
    for which in [cdf::Which::Total, cdf::Which::Pull] {
        if let Some(p) = cdf::Cdf::new(record, analysis, which) {
            charts.push(render(which.chart_name(), &p.title(), &p)?);
        }
    }
    if let Some(p) = burst::BurstCapacity::new(record) {
        charts.push(render("burst-capacity", &p.title(), &p)?);
    }
    if let Some(p) = size_pull::SizeVsPull::new(record) {
        charts.push(render("size-vs-pull", &p.title(), &p)?);
    }
    if let Some(p) = layers::Layers::new(record) {
        charts.push(render("layers", &p.title(), &p)?);
    }
    if let Some(p) = faults::Faults::new(record) {
        charts.push(render("faults", &p.title(), &p)?);
    }
    Ok(charts)
}

/// Registers the bundled font once per process.
fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(style::FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// Draws `plot` as SVG and as PNG.
fn render<P: Plot>(name: &str, title: &str, plot: &P) -> Result<Chart, ChartError> {
    let failed = |DrawFailure(message)| ChartError::Draw {
        chart: name.to_string(),
        message,
    };
    let (w, h) = plot.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        plot.draw(&root).map_err(failed)?;
        root.present().map_err(de).map_err(failed)?;
    }
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        plot.draw(&root).map_err(failed)?;
        root.present().map_err(de).map_err(failed)?;
    }
    let png = png::encode_rgb(w, h, &rgb).map_err(|source| ChartError::Png {
        chart: name.to_string(),
        source,
    })?;
    Ok(Chart {
        name: name.to_string(),
        title: title.to_string(),
        svg,
        png,
    })
}
