//! `sweep`: time to full capacity per burst against the swept input, one line per variant.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, Axis, Swatch};
use super::{de, register_font, render, Chart, ChartError, DrawResult, Plot};
use crate::cost::sweep::SweepResult;

/// One variant's line: name, colour, (x, seconds) per step.
type Series = (String, RGBColor, Vec<(f64, f64)>);

/// The sweep chart.
struct SweepLines {
    title: String,
    x_desc: String,
    /// Per variant: name, colour, (x, seconds) per step.
    series: Vec<Series>,
    x_axis: Axis,
    y_axis: Axis,
}

/// The sweep's line chart (`charts/sweep.svg` and `.png`).
pub fn sweep_chart(result: &SweepResult) -> Result<Chart, ChartError> {
    register_font()?;
    let series: Vec<Series> = result
        .variants
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let points = result
                .rows
                .iter()
                .filter_map(|r| Some((r.x, *r.full_seconds.get(k)?)))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            (name.clone(), style::variant_color(k), points)
        })
        .collect();
    let xs = || series.iter().flat_map(|s| s.2.iter().map(|p| p.0));
    let (min_x, max_x) = (xs().fold(f64::INFINITY, f64::min), xs().fold(0.0, f64::max));
    let max_y = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let x_axis = if result.log && min_x > 0.0 && max_x > min_x {
        Axis::log(min_x, max_x)
    } else {
        Axis::linear_from_zero(max_x)
    };
    let unit = if result.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", result.unit)
    };
    let lines = SweepLines {
        title: format!("Time to full capacity per burst against {}", result.key),
        x_desc: format!("{}{unit}{}", result.key, x_axis.scale_note()),
        series,
        x_axis,
        y_axis: Axis::linear_from_zero(max_y),
    };
    render("sweep", &lines.title, &lines)
}

impl Plot for SweepLines {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let legend: Vec<(Swatch, String)> = self
            .series
            .iter()
            .map(|(name, color, _)| (Swatch::Line(*color, 3), name.clone()))
            .collect();
        let body = style::frame(root, &self.title, &legend)?;
        let mut chart = style::builder(&body, 70)
            .build_cartesian_2d(self.x_axis.coord(), self.y_axis.coord())
            .map_err(de)?;
        let xf = style::tick_formatter(&self.x_axis);
        let yf = style::tick_formatter(&self.y_axis);
        style::mesh_style(
            chart
                .configure_mesh()
                .x_desc(self.x_desc.clone())
                .y_desc("time to full capacity (s)")
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;
        for (_, color, points) in &self.series {
            let at: Vec<(f64, f64)> = points
                .iter()
                .map(|&(x, y)| (self.x_axis.map(x), self.y_axis.map(y)))
                .collect();
            chart
                .draw_series(LineSeries::new(at.clone(), color.stroke_width(3)))
                .map_err(de)?;
            chart
                .draw_series(at.into_iter().map(|p| Circle::new(p, 5, color.filled())))
                .map_err(de)?;
        }
        Ok(())
    }
}
