//! `cost`: one horizontal stacked bar per variant of its cost per day, by component.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Axis, Swatch};
use super::{de, register_font, render, Chart, ChartError, DrawResult, Plot};
use crate::cost::calc::COST_COMPONENTS;
use crate::cost::CostResult;

/// Component colours, in [`COST_COMPONENTS`] order.
const COLORS: [RGBColor; 5] = [
    RGBColor(0x3d, 0x4a, 0x5c),
    RGBColor(0x8a, 0x97, 0xa8),
    RGBColor(0xc2, 0xcb, 0xd6),
    RGBColor(0xe8, 0xb9, 0x4a),
    RGBColor(0xc0, 0x39, 0x2b),
];

/// The cost chart.
struct CostBars {
    names: Vec<String>,
    /// Per variant, each component's money per day.
    parts: Vec<[f64; 5]>,
    currency: String,
    axis: Axis,
}

/// The cost-per-day chart of `result` (`charts/cost.svg` and `.png`).
pub fn cost_chart(result: &CostResult) -> Result<Chart, ChartError> {
    register_font()?;
    let parts: Vec<[f64; 5]> = (0..result.variants.len())
        .map(|k| {
            COST_COMPONENTS.map(|(key, _)| {
                result
                    .figure(key)
                    .and_then(|f| f.values.get(k).copied())
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .unwrap_or(0.0)
            })
        })
        .collect();
    let max = parts
        .iter()
        .map(|p| p.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let bars = CostBars {
        names: result.variants.clone(),
        parts,
        currency: result.currency.clone(),
        axis: Axis::linear_from_zero(max * 1.25),
    };
    let title = format!("Cost per day by component ({})", result.currency);
    render("cost", &title, &bars).map(|mut c| {
        c.title = title;
        c
    })
}

impl Plot for CostBars {
    fn size(&self) -> (u32, u32) {
        style::bar_chart_size(self.names.len())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let legend: Vec<(Swatch, String)> = COST_COMPONENTS
            .iter()
            .zip(COLORS)
            .map(|((_, label), c)| (Swatch::Fill(c), (*label).to_string()))
            .collect();
        let title = format!("Cost per day by component ({})", self.currency);
        let body = style::frame(root, &title, &legend)?;
        let n = self.names.len();
        let lf = style::label_font();
        let label_w = self
            .names
            .iter()
            .map(|s| style::text_width(s, &lf))
            .max()
            .unwrap_or(40)
            + 16;
        let rows: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let y = style::TickCoord::new(-0.5, n as f64 - 0.5, rows);
        let mut chart = style::builder(&body, label_w)
            .build_cartesian_2d(self.axis.coord(), y)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        let yf = |v: &f64| {
            let row = v.round();
            if row < 0.0 || row >= n as f64 {
                return String::new();
            }
            self.names
                .get(n - 1 - row as usize)
                .cloned()
                .unwrap_or_default()
        };
        style::mesh_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(format!("{} per day", self.currency))
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;
        let half = 0.28;
        for (i, parts) in self.parts.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let mut x0 = 0.0;
            for (w, c) in parts.iter().zip(COLORS) {
                if *w <= 0.0 {
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
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(" {x0:.2} {}/day", self.currency),
                    (x0, y),
                    style::label_font().pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(de)?;
        }
        Ok(())
    }
}
