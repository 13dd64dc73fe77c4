//! `faults`: what a flaky registry cost. One band per variant; every measured sample is a mark
//! at its pull time, in a lane by class: clean (no fault, no retry), faulted or retried but ok
//! (their shift to the right is the faults' cost), and failed (a cross when it gave up, or in a
//! gutter at the right edge when that time is unknown), with the failure reasons in the legend.
//! Drawn only for runs with a measured sample that failed, saw a fault or retried.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::percentile::percentile;
use crate::report::table::failure_reason;
use crate::results::{Outcome, RunRecord, Sample};

/// Colour of clean samples: a neutral slate, so faulted and failed ones stand out.
const CLEAN: RGBColor = RGBColor(0x4a, 0x55, 0x66);
/// Colour of faulted-but-ok samples.
const FAULTED: RGBColor = RGBColor(0xe0, 0x8a, 0x00);
/// Longest variant name drawn, in characters.
const MAX_NAME_CHARS: usize = 28;
/// Longest failure reason in the legend, in characters (count and phase included).
const MAX_REASON_CHARS: usize = 72;
/// Failure reasons listed one by one; the rest are summed up in one entry.
const MAX_REASONS: usize = 3;
/// Height of one variant's band, in pixels.
const BAND_PX: u32 = 110;
/// Half the height of a lane's jitter, in bands.
const JITTER: f64 = 0.08;

/// How a sample ended, as this chart sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Ok, no fault and no retry (or no registry counts at all).
    Clean,
    /// Ok, after at least one fault or retry.
    Faulted,
    /// Failed.
    Failed,
}

impl Class {
    /// Every class, top lane first.
    const ALL: [Class; 3] = [Class::Clean, Class::Faulted, Class::Failed];

    /// The class of `s`.
    fn of(s: &Sample) -> Class {
        if !s.is_ok() {
            return Class::Failed;
        }
        match &s.registry {
            Some(c) if c.retries > 0 || c.fault_total() > 0 => Class::Faulted,
            _ => Class::Clean,
        }
    }

    /// The lane's offset from its band's centre, in bands.
    fn lane(self) -> f64 {
        match self {
            Class::Clean => 0.25,
            Class::Faulted => 0.0,
            Class::Failed => -0.25,
        }
    }

    /// Index into per-class arrays.
    fn index(self) -> usize {
        match self {
            Class::Clean => 0,
            Class::Faulted => 1,
            Class::Failed => 2,
        }
    }
}

/// One sample's mark.
#[derive(Debug, Clone, Copy)]
struct Mark {
    class: Class,
    /// Pull time (ok samples) or time it gave up (failed samples), µs; `None`: failed at an
    /// unknown time, drawn in the right-hand gutter.
    at_us: Option<u64>,
}

impl Mark {
    /// `None` for an ok sample without a pull time (nothing to place).
    fn of(s: &Sample) -> Option<Mark> {
        let class = Class::of(s);
        let at_us = match class {
            Class::Failed => gave_up_us(s),
            Class::Clean | Class::Faulted => Some(s.phases.pull_us?),
        };
        Some(Mark { class, at_us })
    }
}

/// When a failed sample gave up, µs after its pull request (burst replicas: after their
/// request; single cold starts: after the sample's start). Unknown in records before this
/// release and in simulated ones.
fn gave_up_us(s: &Sample) -> Option<u64> {
    match s.requested_at_us {
        Some(requested) => s.finished_at_us?.checked_sub(requested),
        None if s.burst.is_none() => s.finished_at_us,
        None => None,
    }
}

/// One variant's band.
struct Band {
    name: String,
    color: RGBColor,
    marks: Vec<Mark>,
    /// Median pull time of the clean and of the faulted samples, µs.
    p50: [Option<u64>; 2],
}

impl Band {
    /// The band of variant `index` called `name`, from the measured samples; `None` when it
    /// has no mark.
    fn new(index: usize, name: &str, measured: &[&Sample]) -> Option<Band> {
        let marks: Vec<Mark> = measured
            .iter()
            .filter(|s| s.variant == name)
            .filter_map(|s| Mark::of(s))
            .collect();
        if marks.is_empty() {
            return None;
        }
        let p50_of = |class: Class| {
            let values: Vec<u64> = marks
                .iter()
                .filter(|m| m.class == class)
                .filter_map(|m| m.at_us)
                .collect();
            percentile(&values, 0.5)
        };
        Some(Band {
            name: crate::report::ellipsize(name, MAX_NAME_CHARS),
            color: style::variant_color(index),
            p50: [p50_of(Class::Clean), p50_of(Class::Faulted)],
            marks,
        })
    }

    /// What the faults cost at the median: `faults +4.87 s at p50`, when both lanes have one.
    fn cost(&self) -> Option<String> {
        let [Some(clean), Some(faulted)] = self.p50 else {
            return None;
        };
        let delta = faulted as f64 - clean as f64;
        let sign = if delta < 0.0 { "−" } else { "+" };
        Some(format!(
            "faults {sign}{} at p50",
            style::fmt_duration(delta.abs())
        ))
    }
}

/// Failures by reason, most frequent first (ties by reason), as legend texts.
fn reason_lines(measured: &[&Sample]) -> Vec<String> {
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for s in measured {
        if let Outcome::Failed { phase, message } = &s.outcome {
            *by_reason
                .entry(failure_reason(*phase, message))
                .or_default() += 1;
        }
    }
    let mut reasons: Vec<(String, usize)> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut lines: Vec<String> = reasons
        .iter()
        .take(MAX_REASONS)
        .map(|(reason, n)| {
            crate::report::ellipsize(&format!("failed: {n}× {reason}"), MAX_REASON_CHARS)
        })
        .collect();
    let rest: usize = reasons.iter().skip(MAX_REASONS).map(|(_, n)| n).sum();
    if rest > 0 {
        lines.push(format!("failed: {rest}× for other reasons"));
    }
    lines
}

/// The faults chart.
pub(crate) struct Faults {
    /// The run was simulated: the title says so.
    simulated: bool,
    bands: Vec<Band>,
    /// Failures by reason, as legend texts.
    reasons: Vec<String>,
    /// Marks per class, in [`Class::index`] order.
    counts: [usize; 3],
    unit: TimeUnit,
    axis: Axis,
    /// Width of the right-hand gutter for failures without a time, in axis units (0: none).
    gutter: f64,
}

impl Faults {
    /// `None` unless a measured sample failed, saw a fault or retried.
    pub(crate) fn new(record: &RunRecord) -> Option<Self> {
        let measured: Vec<&Sample> = record.samples.iter().filter(|s| !s.warmup).collect();
        if measured.iter().all(|s| Class::of(s) == Class::Clean) {
            return None;
        }
        let bands: Vec<Band> = record
            .variants
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Band::new(i, &v.name, &measured))
            .collect();
        if bands.is_empty() {
            return None;
        }
        let marks = || bands.iter().flat_map(|b| b.marks.iter());
        let mut counts = [0; 3];
        for m in marks() {
            counts[m.class.index()] += 1;
        }
        let max = marks().filter_map(|m| m.at_us).max().unwrap_or(0) as f64;
        let unit = TimeUnit::for_max_us(max);
        let axis = Axis::linear_from_zero(unit.of(max));
        let gutter = if marks().any(|m| m.at_us.is_none()) {
            (axis.hi - axis.lo) * 0.12
        } else {
            0.0
        };
        Some(Faults {
            simulated: record.simulation.is_some(),
            reasons: reason_lines(&measured),
            bands,
            counts,
            unit,
            axis,
            gutter,
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = "Registry faults: pull time of each sample by outcome".to_string();
        style::marked(title, self.simulated)
    }

    /// The legend: one entry per class present, the failure reasons, the median tick.
    fn legend(&self) -> Vec<(Swatch, String)> {
        let mut legend = Vec::new();
        let [clean, faulted, failed] = self.counts;
        if clean > 0 {
            legend.push((
                Swatch::Dot(CLEAN),
                format!("clean: no fault, no retry ({clean})"),
            ));
        }
        if faulted > 0 {
            legend.push((
                Swatch::Triangle(FAULTED),
                format!("faulted or retried, still ok ({faulted})"),
            ));
        }
        if self.bands.iter().any(|b| b.p50.iter().any(Option::is_some)) {
            legend.push((Swatch::Line(BLACK, 2), "p50 of a lane".to_string()));
        }
        if failed > 0 && self.reasons.is_empty() {
            legend.push((Swatch::Cross(style::FAILED), format!("failed ({failed})")));
        }
        for line in &self.reasons {
            legend.push((Swatch::Cross(style::FAILED), line.clone()));
        }
        legend
    }

    /// Where a mark goes on the x axis, in axis units.
    fn x_of(&self, m: &Mark) -> f64 {
        match m.at_us {
            Some(us) => self.unit.of(us as f64),
            None => self.axis.hi + self.gutter / 2.0,
        }
    }
}

/// A deterministic spread of the `k`-th mark of a lane over `[-JITTER, JITTER]` (golden-ratio
/// sequence: evenly spread for any count).
fn jitter(k: usize) -> f64 {
    let frac = (k as f64 * 0.618_033_988_749_895).fract();
    (frac - 0.5) * 2.0 * JITTER
}

impl Plot for Faults {
    fn size(&self) -> (u32, u32) {
        let bands = u32::try_from(self.bands.len()).unwrap_or(u32::MAX);
        let legend_rows = u32::try_from(self.reasons.len()).unwrap_or(0) + 1;
        let h = 170u32
            .saturating_add(26 * legend_rows)
            .saturating_add(bands.saturating_mul(BAND_PX));
        (style::SIZE.0, style::SIZE.1.max(h))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let body = style::frame(root, &self.title(), &self.legend())?;
        let n = self.bands.len();
        let lf = style::label_font();
        let cf = cost_font();
        let label_w = self
            .bands
            .iter()
            .map(|b| {
                let cost = b.cost().map_or(0, |c| style::text_width(&c, &cf));
                style::text_width(&b.name, &lf).max(cost)
            })
            .max()
            .unwrap_or(40)
            + 34;
        let centre = |i: usize| (n - 1 - i) as f64;
        let y = style::TickCoord::new(-0.5, n as f64 - 0.5, (0..n).map(|i| i as f64).collect());
        let x = style::TickCoord::new(
            self.axis.lo,
            self.axis.hi + self.gutter,
            self.axis.ticks.clone(),
        );
        let mut chart = style::builder(&body, label_w)
            .build_cartesian_2d(x, y)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        let yf = |v: &f64| {
            let row = v.round();
            if row < 0.0 || row >= n as f64 {
                return String::new();
            }
            self.bands
                .get(n - 1 - row as usize)
                .map(|b| b.name.clone())
                .unwrap_or_default()
        };
        style::mesh_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(format!(
                    "pull time ({}); failed: when it gave up; warm-ups excluded",
                    self.unit.suffix
                ))
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;

        let top = n as f64 - 0.5;
        // Band separators.
        for k in 1..n {
            let y = k as f64 - 0.5;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(self.axis.lo, y), (self.axis.hi + self.gutter, y)],
                    RGBColor(200, 200, 200).stroke_width(1),
                )))
                .map_err(de)?;
        }
        if self.gutter > 0.0 {
            let mid = self.axis.hi + self.gutter / 2.0;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(self.axis.hi, -0.5), (self.axis.hi + self.gutter, top)],
                    style::lighten(style::FAILED, 0.88).filled(),
                )))
                .map_err(de)?;
            let font = cost_font().pos(Pos::new(HPos::Center, VPos::Top));
            let (gx, gy) = chart.backend_coord(&(mid, top));
            for (k, text) in ["failed,", "time", "unknown"].iter().enumerate() {
                let dy = 4 + 16 * i32::try_from(k).unwrap_or(0);
                root.draw(&Text::new(text.to_string(), (gx, gy + dy), font.clone()))
                    .map_err(de)?;
            }
        }

        for (i, band) in self.bands.iter().enumerate() {
            self.draw_band(&mut chart, band, centre(i))?;
        }

        // Variant swatches and each band's cost, in the label area (backend pixels).
        let (px, _) = chart.backend_coord(&(self.axis.lo, 0.0));
        let left = px - i32::try_from(label_w).unwrap_or(0) + 4;
        for (i, band) in self.bands.iter().enumerate() {
            let (_, py) = chart.backend_coord(&(self.axis.lo, centre(i)));
            root.draw(&Rectangle::new(
                [(left, py - 7), (left + 14, py + 7)],
                band.color.filled(),
            ))
            .map_err(de)?;
            if let Some(cost) = band.cost() {
                root.draw(&Text::new(
                    cost,
                    (px - 10, py + 14),
                    cost_font().pos(Pos::new(HPos::Right, VPos::Top)),
                ))
                .map_err(de)?;
            }
        }
        Ok(())
    }
}

impl Faults {
    /// Draws one band's lane medians and marks around `y`.
    fn draw_band<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<style::TickCoord, style::TickCoord>>,
        band: &Band,
        y: f64,
    ) -> DrawResult {
        // Medians first, so the marks stay visible on top of them.
        for (class, p50) in [Class::Clean, Class::Faulted].iter().zip(band.p50) {
            let Some(us) = p50 else { continue };
            let (x, lane) = (self.unit.of(us as f64), y + class.lane());
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, lane - 0.12), (x, lane + 0.12)],
                    BLACK.stroke_width(2),
                )))
                .map_err(de)?;
        }
        for class in Class::ALL {
            let lane = y + class.lane();
            let points: Vec<(f64, f64)> = band
                .marks
                .iter()
                .filter(|m| m.class == class)
                .enumerate()
                .map(|(k, m)| (self.x_of(m), lane + jitter(k)))
                .collect();
            match class {
                Class::Clean => chart.draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, 4, CLEAN.mix(0.7).filled())),
                ),
                Class::Faulted => chart.draw_series(
                    points
                        .iter()
                        .map(|&p| TriangleMarker::new(p, 6, FAULTED.mix(0.85).filled())),
                ),
                Class::Failed => chart.draw_series(
                    points
                        .iter()
                        .map(|&p| Cross::new(p, 5, style::FAILED.stroke_width(2))),
                ),
            }
            .map_err(de)?;
        }
        Ok(())
    }
}

/// The font of each band's cost and the gutter's label.
fn cost_font() -> TextStyle<'static> {
    (style::FONT_FAMILY, 14)
        .into_font()
        .color(&RGBColor(80, 80, 80))
}
