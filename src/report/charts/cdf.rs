//! `cdf-total` and `cdf-pull`: empirical CDF per variant, p50 and p95 marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::{percentile::rank, summarized, Analysis};
use crate::results::Phase;
use crate::results::RunRecord;

/// Which phase a CDF chart shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which {
    /// Pull request → first answer.
    Total,
    /// The pull alone.
    Pull,
}

impl Which {
    /// File stem of the chart.
    pub(crate) fn chart_name(self) -> &'static str {
        match self {
            Which::Total => "cdf-total",
            Which::Pull => "cdf-pull",
        }
    }
    fn phase(self) -> Phase {
        match self {
            Which::Total => Phase::Total,
            Which::Pull => Phase::Pull,
        }
    }
    fn label(self) -> &'static str {
        match self {
            Which::Total => "total cold start",
            Which::Pull => "pull",
        }
    }
}

/// One variant's curve.
struct Curve {
    name: String,
    color: RGBColor,
    /// Sorted durations, µs.
    values: Vec<u64>,
    p50: u64,
    p95: u64,
}

/// A CDF chart.
pub(crate) struct Cdf {
    /// The run was simulated: the title says so.
    simulated: bool,
    which: Which,
    curves: Vec<Curve>,
    unit: TimeUnit,
    axis: Axis,
}

impl Cdf {
    /// `None` when no variant has a summarized sample with this phase.
    pub(crate) fn new(record: &RunRecord, analysis: &Analysis, which: Which) -> Option<Self> {
        let mut curves = Vec::new();
        for (i, (v, a)) in record.variants.iter().zip(&analysis.variants).enumerate() {
            let mut values: Vec<u64> = summarized(record, &v.name)
                .iter()
                .filter_map(|s| s.phases.get(which.phase()))
                .collect();
            values.sort_unstable();
            let Some(summary) = a.phase(which.phase()).filter(|_| !values.is_empty()) else {
                continue;
            };
            let (p50, p95) = (summary.p50, summary.p95);
            curves.push(Curve {
                name: v.name.clone(),
                color: style::variant_color(i),
                values,
                p50,
                p95,
            });
        }
        let all = curves.iter().flat_map(|c| c.values.iter().copied());
        let min = all.clone().min()? as f64;
        let max = all.max()? as f64;
        let unit = TimeUnit::for_max_us(max);
        let axis = Axis::auto(unit.of(min), unit.of(max), 20.0);
        Some(Cdf {
            simulated: record.simulation.is_some(),
            which,
            curves,
            unit,
            axis,
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = format!(
            "Distribution of {} time (empirical CDF)",
            self.which.label()
        );
        style::marked(title, self.simulated)
    }
}

impl Plot for Cdf {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut legend: Vec<(Swatch, String)> = self
            .curves
            .iter()
            .map(|c| {
                (
                    Swatch::Line(c.color, 3),
                    format!(
                        "{}: p50 {}, p95 {} (n={})",
                        c.name,
                        style::fmt_duration(c.p50 as f64),
                        style::fmt_duration(c.p95 as f64),
                        c.values.len()
                    ),
                )
            })
            .collect();
        legend.push((Swatch::Dot(RGBColor(90, 90, 90)), "p50".to_string()));
        legend.push((Swatch::Triangle(RGBColor(90, 90, 90)), "p95".to_string()));
        let body = style::frame(root, &self.title(), &legend)?;

        let y_axis = style::TickCoord::new(0.0, 1.04, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let mut chart = style::builder(&body, 70)
            .build_cartesian_2d(self.axis.coord(), y_axis)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        let scale = if self.axis.log { ", log scale" } else { "" };
        style::mesh_style(
            chart
                .configure_mesh()
                .x_desc(format!(
                    "{} ({}{scale}); successful cold samples, warm-ups excluded",
                    self.which.label(),
                    self.unit.suffix
                ))
                .y_desc("samples at or below (%)")
                .x_label_formatter(&xf)
                .y_label_formatter(&|v: &f64| format!("{:.0}", v * 100.0)),
        )
        .draw()
        .map_err(de)?;

        let x = |us: u64| self.axis.map(self.unit.of(us as f64));
        for c in &self.curves {
            let n = c.values.len() as f64;
            let mut pts = Vec::with_capacity(c.values.len() * 2);
            for (k, &v) in c.values.iter().enumerate() {
                pts.push((x(v), k as f64 / n));
                pts.push((x(v), (k + 1) as f64 / n));
            }
            chart
                .draw_series(LineSeries::new(pts, c.color.stroke_width(3)))
                .map_err(de)?;
            for (q, value, triangle) in [(0.5, c.p50, false), (0.95, c.p95, true)] {
                let at_rank = rank(c.values.len(), q).map_or(0.0, |r| (r + 1) as f64);
                let at = (x(value), at_rank / n);
                if triangle {
                    chart
                        .draw_series(std::iter::once(TriangleMarker::new(
                            at,
                            7,
                            c.color.filled(),
                        )))
                        .map_err(de)?;
                } else {
                    chart
                        .draw_series(std::iter::once(Circle::new(at, 6, c.color.filled())))
                        .map_err(de)?;
                }
            }
        }
        Ok(())
    }
}
