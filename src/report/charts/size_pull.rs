//! `size-vs-pull`: compressed size against pull time, one point per sample, with the wire floor.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::summarized;
use crate::results::Phase;
use crate::results::RunRecord;

/// One variant's points: name, colour, (MB, pull µs) per sample.
type Series = (String, RGBColor, Vec<(f64, u64)>);

/// The size against pull time chart.
pub(crate) struct SizeVsPull {
    /// The run was simulated: the title says so.
    simulated: bool,
    /// (variant name, colour, points as (MB, µs)).
    series: Vec<Series>,
    /// Bytes per second of the registry link, when throttled.
    bandwidth: Option<(f64, Option<String>)>,
    unit: TimeUnit,
    x_axis: Axis,
    y_axis: Axis,
}

impl SizeVsPull {
    /// `None` when no summarized sample has a pull time.
    pub(crate) fn new(record: &RunRecord) -> Option<Self> {
        let mut series = Vec::new();
        for (i, v) in record.variants.iter().enumerate() {
            let points: Vec<(f64, u64)> = summarized(record, &v.name)
                .iter()
                .filter_map(|s| {
                    let bytes = if s.expected_bytes > 0 {
                        s.expected_bytes
                    } else {
                        v.image.compressed_size
                    };
                    Some((bytes as f64 / 1e6, s.phases.get(Phase::Pull)?))
                })
                .collect();
            if !points.is_empty() {
                series.push((v.name.clone(), style::variant_color(i), points));
            }
        }
        let points = series.iter().flat_map(|(_, _, p)| p.iter());
        let max_mb = points.clone().map(|p| p.0).fold(0.0, f64::max);
        let min_mb = points.clone().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let max_us = points.clone().map(|p| p.1).max()? as f64;
        let min_us = points.map(|p| p.1).min()? as f64;
        let bandwidth = record
            .network
            .bandwidth_bytes_per_sec
            .filter(|b| b.is_finite() && *b > 0.0)
            .map(|b| (b, record.network.bandwidth.clone()));
        // Keep the wire floor of the smallest image in view too.
        let min_us = match &bandwidth {
            Some((bps, _)) => min_us.min(min_mb * 1e6 / bps * 1e6).max(1.0),
            None => min_us,
        };
        let unit = TimeUnit::for_max_us(max_us);
        Some(SizeVsPull {
            simulated: record.simulation.is_some(),
            series,
            bandwidth,
            unit,
            // Log axes when sizes or times span more than 20×, so small images stay visible.
            x_axis: Axis::auto(min_mb, max_mb, 20.0),
            y_axis: Axis::auto(unit.of(min_us), unit.of(max_us), 20.0),
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = "Image size against pull time".to_string();
        style::marked(title, self.simulated)
    }
}

impl Plot for SizeVsPull {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut legend: Vec<(Swatch, String)> = self
            .series
            .iter()
            .map(|(name, color, _)| (Swatch::Dot(*color), name.clone()))
            .collect();
        if let Some((bps, text)) = &self.bandwidth {
            let text = text
                .clone()
                .unwrap_or_else(|| format!("{}/s", style::fmt_bytes(*bps)));
            legend.push((
                Swatch::Dashed(RED),
                format!("wire floor: size ÷ bandwidth ({text})"),
            ));
        }
        let body = style::frame(root, &self.title(), &legend)?;

        let mut chart = style::builder(&body, 70)
            .build_cartesian_2d(self.x_axis.coord(), self.y_axis.coord())
            .map_err(de)?;
        let xf = style::tick_formatter(&self.x_axis);
        let yf = style::tick_formatter(&self.y_axis);
        style::mesh_style(
            chart
                .configure_mesh()
                .x_desc(format!(
                    "compressed image size (MB{})",
                    self.x_axis.scale_note()
                ))
                .y_desc(format!(
                    "pull time ({}{})",
                    self.unit.suffix,
                    self.y_axis.scale_note()
                ))
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;

        if let Some((bps, _)) = self.bandwidth {
            // The floor in chart units for `mb` megabytes, sampled across the x axis and kept
            // where it is inside the y range (it is a curve when one axis is log and one not).
            const STEPS: u32 = 200;
            let floor: Vec<(f64, f64)> = (0..=STEPS)
                .map(|k| {
                    let d = self.x_axis.lo
                        + (self.x_axis.hi - self.x_axis.lo) * f64::from(k) / f64::from(STEPS);
                    let mb = self.x_axis.unmap(d);
                    (d, self.y_axis.map(self.unit.of(mb * 1e6 / bps * 1e6)))
                })
                .filter(|&(_, y)| y.is_finite() && y >= self.y_axis.lo && y <= self.y_axis.hi)
                .collect();
            if floor.len() > 1 {
                chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        floor,
                        8,
                        5,
                        RED.stroke_width(2),
                    )))
                    .map_err(de)?;
            }
        }
        for (_, color, points) in &self.series {
            chart
                .draw_series(points.iter().map(|&(mb, us)| {
                    let at = (
                        self.x_axis.map(mb),
                        self.y_axis.map(self.unit.of(us as f64)),
                    );
                    Circle::new(at, 6, color.mix(0.8).filled())
                }))
                .map_err(de)?;
        }
        Ok(())
    }
}
