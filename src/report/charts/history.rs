//! `history-<variant>`: one variant's cold start across runs: the p50 of total and pull per
//! run as lines with points, their p5–p95 as translucent bands, and red triangles on the
//! values a run's compare.json found regressed. x is the run, labelled by date and commit.

use std::collections::BTreeSet;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, register_font, render, Chart, ChartError, DrawResult, Plot};
use crate::compare::Metric;
use crate::history::{History, RunPoint};
use crate::results::Phase;
use crate::units::clip_to;

/// Pull's colour: the phases chart's pull grey, so it never reads as another variant.
const PULL_COLOR: RGBColor = RGBColor(0x3d, 0x4a, 0x5c);
/// Opacity of the p5–p95 bands.
const BAND_ALPHA: f64 = 0.2;
/// Characters of a variant name kept in the title.
const TITLE_NAME_CHARS: usize = 40;

/// One trend chart per variant with total or pull values, in [`History::variants`] order;
/// file stems `history-<variant>` (sanitized, unique).
pub fn history_charts(history: &History) -> Result<Vec<Chart>, ChartError> {
    register_font()?;
    let mut stems = BTreeSet::new();
    let mut charts = Vec::new();
    for (i, variant) in history.variants().into_iter().enumerate() {
        if let Some(trend) = Trend::new(history, variant, style::variant_color(i)) {
            let name = unique_stem(variant, &mut stems);
            charts.push(render(&name, &trend.title(), &trend)?);
        }
    }
    Ok(charts)
}

/// `history-<variant>` with every character but ASCII letters, digits, `.`, `-`, `_` replaced
/// by `_`, and `-2`, `-3`… appended when an earlier variant took the name.
fn unique_stem(variant: &str, taken: &mut BTreeSet<String>) -> String {
    let clean: String = variant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let base = format!("history-{clean}");
    let mut name = base.clone();
    let mut k = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}-{k}");
        k += 1;
    }
    name
}

/// One run's values of a metric, in the chart's unit.
#[derive(Debug, Clone, Copy)]
struct Value {
    p5: f64,
    p50: f64,
    p95: f64,
    regressed: bool,
}

/// One metric across the runs; `None` where a run has no value (drawn as a gap).
struct Series {
    label: &'static str,
    color: RGBColor,
    /// Line width of the p50 line.
    width: u32,
    values: Vec<Option<Value>>,
}

impl Series {
    /// Runs of consecutive runs with values: `(first index, values)`.
    fn segments(&self) -> Vec<(usize, Vec<Value>)> {
        let mut out: Vec<(usize, Vec<Value>)> = Vec::new();
        let mut open = false;
        for (i, v) in self.values.iter().enumerate() {
            match (v, open) {
                (Some(v), true) => {
                    if let Some((_, seg)) = out.last_mut() {
                        seg.push(*v);
                    }
                }
                (Some(v), false) => out.push((i, vec![*v])),
                (None, _) => {}
            }
            open = v.is_some();
        }
        out
    }
}

/// The trend chart of one variant.
pub(crate) struct Trend {
    variant: String,
    /// Runs that were simulated (labelled `sim`, counted in the title).
    simulated: usize,
    /// Per run: `MM-DD` and short commit.
    labels: Vec<(String, String)>,
    series: Vec<Series>,
    unit: TimeUnit,
    axis: Axis,
    /// Some run of the history was compared with a baseline.
    compared: bool,
}

impl Trend {
    /// `None` when `variant` has neither total nor pull values in any run.
    pub(crate) fn new(history: &History, variant: &str, color: RGBColor) -> Option<Self> {
        let specs = [
            (Phase::Total, "total", color, 3),
            (Phase::Pull, "pull", PULL_COLOR, 2),
        ];
        let max = history
            .points
            .iter()
            .flat_map(|p| &p.cells)
            .filter(|c| c.variant == variant)
            .filter(|c| specs.iter().any(|s| c.metric == Metric::Phase(s.0)))
            .map(|c| c.p95)
            .max()? as f64;
        let unit = TimeUnit::for_max_us(max);
        let series = specs
            .iter()
            .map(|&(phase, label, color, width)| Series {
                label,
                color,
                width,
                values: history
                    .points
                    .iter()
                    .map(|p| value(p, variant, Metric::Phase(phase), unit))
                    .collect(),
            })
            .filter(|s| s.values.iter().any(Option::is_some))
            .collect();
        let labels = history
            .points
            .iter()
            .map(|p| {
                let mut commit = p.git_commit.clone().unwrap_or_else(|| "—".to_string());
                if p.simulated {
                    commit.push_str(" sim");
                }
                (p.short_date().to_string(), commit)
            })
            .collect();
        Some(Trend {
            simulated: history.points.iter().filter(|p| p.simulated).count(),
            variant: variant.to_string(),
            labels,
            series,
            unit,
            axis: Axis::linear_from_zero(unit.of(max)),
            compared: history.compared(),
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let runs = match self.labels.len() {
            1 => "1 run".to_string(),
            n => format!("{n} runs"),
        };
        let simulated = match self.simulated {
            0 => String::new(),
            n => format!(" ({n} simulated)"),
        };
        format!(
            "{}: cold start across {runs}{simulated}",
            clip_to(&self.variant, TITLE_NAME_CHARS)
        )
    }

    /// Indices of the runs whose labels are drawn: the newest, then every `step`-th before it,
    /// so that labels `label_w` wide fit in `plot_w` pixels.
    fn labelled_runs(&self, plot_w: u32, label_w: u32) -> Vec<f64> {
        let n = self.labels.len();
        let fit = (plot_w / label_w.max(1)).max(1) as usize;
        let step = n.div_ceil(fit).max(1);
        let mut ticks: Vec<f64> = (0..n).rev().step_by(step).map(|i| i as f64).collect();
        ticks.reverse();
        ticks
    }

    /// Marker radius: smaller as runs crowd, none beyond 150.
    fn dot_radius(&self) -> u32 {
        match self.labels.len() {
            0..=40 => 4,
            41..=150 => 2,
            _ => 0,
        }
    }
}

/// `point`'s value of `variant` × `metric` in `unit`.
fn value(point: &RunPoint, variant: &str, metric: Metric, unit: TimeUnit) -> Option<Value> {
    point.cell(variant, metric).map(|c| Value {
        p5: unit.of(c.p5 as f64),
        p50: unit.of(c.p50 as f64),
        p95: unit.of(c.p95 as f64),
        regressed: c.regressed,
    })
}

impl Plot for Trend {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut legend: Vec<(Swatch, String)> = Vec::new();
        for s in &self.series {
            legend.push((Swatch::Line(s.color, s.width), format!("{} p50", s.label)));
            legend.push((
                Swatch::Fill(style::lighten(s.color, 1.0 - BAND_ALPHA)),
                format!("{} p5–p95", s.label),
            ));
        }
        if self.compared {
            legend.push((Swatch::Triangle(RED), "regressed (compare)".to_string()));
        }
        let body = style::frame(root, &self.title(), &legend)?;

        let lf = style::label_font();
        let label_w = self
            .labels
            .iter()
            .map(|(d, c)| style::text_width(d, &lf).max(style::text_width(c, &lf)))
            .max()
            .unwrap_or(60)
            + 18;
        let (body_w, _) = body.dim_in_pixel();
        let ticks = self.labelled_runs(body_w.saturating_sub(110), label_w);
        let n = self.labels.len() as f64;
        let x = style::TickCoord::new(-0.5, n - 0.5, ticks.clone());
        let mut builder = style::builder(&body, 70);
        builder.x_label_area_size(66);
        let mut chart = builder
            .build_cartesian_2d(x, self.axis.coord())
            .map_err(de)?;
        let date_of = |v: &f64| {
            let i = v.round();
            if i < 0.0 {
                return String::new();
            }
            self.labels
                .get(i as usize)
                .map(|(d, _)| d.clone())
                .unwrap_or_default()
        };
        let yf = style::tick_formatter(&self.axis);
        style::mesh_style(
            chart
                .configure_mesh()
                .x_desc("run (date, commit)")
                .y_desc(format!("cold start ({})", self.unit.suffix))
                .x_label_formatter(&date_of)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;

        // Commits under the dates (root coordinates are backend pixels).
        let commit_font = (style::FONT_FAMILY, 14)
            .into_font()
            .color(&RGBColor(0x55, 0x55, 0x55))
            .pos(Pos::new(HPos::Center, VPos::Top));
        for &t in &ticks {
            let (px, py) = chart.backend_coord(&(t, self.axis.lo));
            let commit = self
                .labels
                .get(t as usize)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            root.draw(&Text::new(commit, (px, py + 26), commit_font.clone()))
                .map_err(de)?;
        }

        for s in &self.series {
            draw_band(&mut chart, s)?;
        }
        let r = self.dot_radius();
        for s in &self.series {
            draw_line(&mut chart, s, r)?;
        }
        for s in &self.series {
            draw_regressions(&mut chart, s)?;
        }
        Ok(())
    }
}

/// The chart type every series draws on.
type TrendChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<style::TickCoord, style::TickCoord>>;

/// The p5–p95 band: a translucent polygon per segment, a whisker for a lone run.
fn draw_band<DB: DrawingBackend>(chart: &mut TrendChart<'_, DB>, s: &Series) -> DrawResult {
    let fill = s.color.mix(BAND_ALPHA);
    for (first, seg) in s.segments() {
        let x = |k: usize| (first + k) as f64;
        if seg.len() == 1 {
            let v = seg[0];
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x(0), v.p5), (x(0), v.p95)],
                    fill.stroke_width(8),
                )))
                .map_err(de)?;
            continue;
        }
        let upper = seg.iter().enumerate().map(|(k, v)| (x(k), v.p95));
        let lower = seg.iter().enumerate().rev().map(|(k, v)| (x(k), v.p5));
        let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, fill.filled())))
            .map_err(de)?;
    }
    Ok(())
}

/// The p50 line per segment, with a dot per run (radius `r`, none when 0).
fn draw_line<DB: DrawingBackend>(chart: &mut TrendChart<'_, DB>, s: &Series, r: u32) -> DrawResult {
    for (first, seg) in s.segments() {
        let pts: Vec<(f64, f64)> = seg
            .iter()
            .enumerate()
            .map(|(k, v)| ((first + k) as f64, v.p50))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), s.color.stroke_width(s.width)))
            .map_err(de)?;
        // A lone run needs its dot even when runs crowd.
        let r = if seg.len() == 1 { r.max(3) } else { r };
        if r > 0 {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, r, s.color.filled())))
                .map_err(de)?;
        }
    }
    Ok(())
}

/// A red triangle, outlined in white, on each regressed p50.
fn draw_regressions<DB: DrawingBackend>(chart: &mut TrendChart<'_, DB>, s: &Series) -> DrawResult {
    let marked: Vec<(f64, f64)> = s
        .values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| v.regressed).map(|v| (i as f64, v.p50)))
        .collect();
    chart
        .draw_series(
            marked
                .iter()
                .map(|&p| TriangleMarker::new(p, 10, WHITE.filled())),
        )
        .map_err(de)?;
    chart
        .draw_series(
            marked
                .iter()
                .map(|&p| TriangleMarker::new(p, 8, RED.filled())),
        )
        .map_err(de)?;
    Ok(())
}
