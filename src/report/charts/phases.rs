//! `phases`: one horizontal stacked bar per variant of the median of each phase.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::{Analysis, FloorKind};
use crate::results::{Phase, RunRecord};

/// Phases stacked in a bar, with their colours: greys, so they never read as a variant.
const PHASES: [(Phase, &str, RGBColor); 4] = [
    (Phase::Pull, "pull", RGBColor(0x3d, 0x4a, 0x5c)),
    (Phase::Create, "create", RGBColor(0x8a, 0x97, 0xa8)),
    (Phase::Start, "start", RGBColor(0xc2, 0xcb, 0xd6)),
    (
        Phase::FirstRequest,
        "first request",
        RGBColor(0xe8, 0xb9, 0x4a),
    ),
];

/// One variant's bar.
struct Bar {
    name: String,
    color: RGBColor,
    /// Median of each phase (µs), in `PHASES` order; 0 when missing.
    phases: [f64; 4],
    /// Median total (µs), when summarized.
    total: Option<f64>,
    /// The floor its pull is compared with (µs).
    floor: Option<f64>,
}

/// The phases chart.
pub(crate) struct Phases {
    /// The run was simulated: the title says so.
    simulated: bool,
    bars: Vec<Bar>,
    unit: TimeUnit,
    axis: Axis,
    /// True when a floor is a burst's rather than one pull's.
    burst_floor: bool,
}

impl Phases {
    /// `None` when no variant has a phase summary.
    pub(crate) fn new(record: &RunRecord, analysis: &Analysis) -> Option<Self> {
        let mut bars = Vec::new();
        let mut burst_floor = false;
        for (i, (v, a)) in record.variants.iter().zip(&analysis.variants).enumerate() {
            let mut phases = [0.0; 4];
            let mut any = false;
            for (k, (phase, _, _)) in PHASES.iter().enumerate() {
                if let Some(s) = a.phase(*phase) {
                    phases[k] = s.p50 as f64;
                    any = true;
                }
            }
            if !any {
                continue;
            }
            burst_floor |= a.pull_floor.is_some_and(|f| f.kind == FloorKind::Burst);
            bars.push(Bar {
                name: v.name.clone(),
                color: style::variant_color(i),
                phases,
                total: a.phase(Phase::Total).map(|s| s.p50 as f64),
                floor: a.pull_floor.map(|f| f.us as f64),
            });
        }
        if bars.is_empty() {
            return None;
        }
        let max = bars
            .iter()
            .map(|b| {
                let sum: f64 = b.phases.iter().sum();
                sum.max(b.floor.unwrap_or(0.0))
            })
            .fold(0.0, f64::max);
        let unit = TimeUnit::for_max_us(max);
        // Room on the right for the total labels.
        let axis = Axis::linear_from_zero(unit.of(max) * 1.22);
        Some(Phases {
            simulated: record.simulation.is_some(),
            bars,
            unit,
            axis,
            burst_floor,
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = "Cold start by phase (median of each phase)".to_string();
        style::marked(title, self.simulated)
    }
}

impl Plot for Phases {
    fn size(&self) -> (u32, u32) {
        style::bar_chart_size(self.bars.len())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut legend: Vec<(Swatch, String)> = PHASES
            .iter()
            .map(|(_, label, c)| (Swatch::Fill(*c), (*label).to_string()))
            .collect();
        if self.bars.iter().any(|b| b.floor.is_some()) {
            let text = if self.burst_floor {
                "burst floor (nodes share the egress)"
            } else {
                "wire floor (compressed bytes ÷ bandwidth)"
            };
            legend.push((Swatch::Line(RED, 3), text.to_string()));
        }
        let body = style::frame(root, &self.title(), &legend)?;

        let n = self.bars.len();
        let lf = style::label_font();
        let label_w = self
            .bars
            .iter()
            .map(|b| style::text_width(&b.name, &lf))
            .max()
            .unwrap_or(40)
            + 34;
        let row_of = |i: usize| (n - 1 - i) as f64;
        let rows: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y = style::TickCoord::new(-0.5, n as f64 - 0.5, rows);
        let names: Vec<String> = self.bars.iter().map(|b| b.name.clone()).collect();
        let mut chart = style::builder(&body, label_w)
            .build_cartesian_2d(self.axis.coord(), y)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        let yf = |v: &f64| {
            let row = v.round();
            if row < 0.0 || row >= n as f64 {
                return String::new();
            }
            names.get(n - 1 - row as usize).cloned().unwrap_or_default()
        };
        style::mesh_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(format!("time ({})", self.unit.suffix))
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;

        let half = 0.28;
        for (i, bar) in self.bars.iter().enumerate() {
            let y = row_of(i);
            let mut x0 = 0.0;
            for (k, (_, _, c)) in PHASES.iter().enumerate() {
                let w = self.unit.of(bar.phases[k]);
                if w <= 0.0 {
                    continue;
                }
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, y - half), (x0 + w, y + half)],
                        c.filled(),
                    )))
                    .map_err(de)?;
                x0 += w;
            }
            if let Some(f) = bar.floor {
                let fx = self.unit.of(f);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(fx, y - half - 0.1), (fx, y + half + 0.1)],
                        RED.stroke_width(3),
                    )))
                    .map_err(de)?;
            }
            let label = match bar.total {
                Some(t) => format!(" {} total (p50)", style::fmt_duration(t)),
                None => format!(" {}", style::fmt_duration(bar.phases.iter().sum())),
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    label,
                    (x0, y),
                    style::label_font().pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(de)?;
        }
        // Variant colour swatches next to the names (root coordinates are backend pixels).
        let (px, _) = chart.backend_coord(&(self.axis.lo, 0.0));
        let left = px - i32::try_from(label_w).unwrap_or(0) + 4;
        for (i, bar) in self.bars.iter().enumerate() {
            let (_, py) = chart.backend_coord(&(self.axis.lo, row_of(i)));
            root.draw(&Rectangle::new(
                [(left, py - 7), (left + 14, py + 7)],
                bar.color.filled(),
            ))
            .map_err(de)?;
        }
        Ok(())
    }
}
