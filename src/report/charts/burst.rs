//! `burst-capacity`: ready replicas against time since burst start, one colour per variant.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::percentile::rank;
use crate::results::RunRecord;

/// One burst's step curve.
struct Curve {
    variant: usize,
    /// Sorted ready times, µs after burst start.
    ready: Vec<u64>,
    /// Sorted times failed replicas gave up, µs after burst start.
    failed: Vec<u64>,
    /// Drawn bold: the variant's median burst (by full capacity time).
    median: bool,
}

/// The burst capacity chart.
pub(crate) struct BurstCapacity {
    /// The run was simulated: the title says so.
    simulated: bool,
    names: Vec<(String, RGBColor)>,
    curves: Vec<Curve>,
    /// Replicas requested per burst (largest).
    replicas: usize,
    unit: TimeUnit,
    axis: Axis,
}

impl BurstCapacity {
    /// `None` without bursts, or when no burst has a ready replica or a failed one with a time.
    pub(crate) fn new(record: &RunRecord) -> Option<Self> {
        if record.bursts.is_empty() {
            return None;
        }
        // Measured bursts; warm-ups only when nothing else was recorded.
        let measured: Vec<_> = record.bursts.iter().filter(|b| !b.warmup).collect();
        let bursts = if measured.is_empty() {
            record.bursts.iter().collect()
        } else {
            measured
        };
        let mut curves = Vec::new();
        let mut replicas = 0;
        for (vi, v) in record.variants.iter().enumerate() {
            let mut mine: Vec<(u64, Curve)> = Vec::new();
            for b in bursts.iter().filter(|b| b.variant == v.name) {
                // Ready times of the ok replicas, give-up times of the failed ones.
                let replica = |ok: bool| {
                    record
                        .samples
                        .iter()
                        .filter(move |s| s.burst == Some(b.index) && s.is_ok() == ok)
                        .map(move |s| if ok { s.ready_at_us } else { s.finished_at_us })
                };
                let mut ready: Vec<u64> = replica(true).flatten().collect();
                let mut failed: Vec<u64> = replica(false).flatten().collect();
                if ready.is_empty() && failed.is_empty() {
                    continue;
                }
                ready.sort_unstable();
                failed.sort_unstable();
                replicas = replicas.max(b.replicas).max(ready.len());
                // A burst with no ready replica never reached capacity: it sorts last.
                let full = b
                    .full_ready_us
                    .unwrap_or_else(|| ready.last().copied().unwrap_or(u64::MAX));
                mine.push((
                    full,
                    Curve {
                        variant: vi,
                        ready,
                        failed,
                        median: false,
                    },
                ));
            }
            if mine.is_empty() {
                continue;
            }
            // Median by full-capacity time; ties keep burst order (stable sort).
            let mut order: Vec<usize> = (0..mine.len()).collect();
            order.sort_by_key(|&k| mine[k].0);
            let median = rank(order.len(), 0.5).and_then(|r| order.get(r).copied());
            if let Some(curve) = median.and_then(|m| mine.get_mut(m)) {
                curve.1.median = true;
            }
            curves.extend(mine.into_iter().map(|(_, c)| c));
        }
        let max = curves
            .iter()
            .flat_map(|c| c.ready.last().into_iter().chain(c.failed.last()))
            .copied()
            .max()? as f64;
        let unit = TimeUnit::for_max_us(max);
        let axis = Axis::linear_from_zero(unit.of(max));
        let names = record
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), style::variant_color(i)))
            .collect();
        Some(BurstCapacity {
            simulated: record.simulation.is_some(),
            names,
            curves,
            replicas,
            unit,
            axis,
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = "Scale-out burst: replicas ready over time".to_string();
        style::marked(title, self.simulated)
    }
}

impl Plot for BurstCapacity {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut legend: Vec<(Swatch, String)> = Vec::new();
        for (vi, (name, color)) in self.names.iter().enumerate() {
            let n = self.curves.iter().filter(|c| c.variant == vi).count();
            if n == 0 {
                continue;
            }
            let text = if n > 1 {
                let others = if n == 2 { "other" } else { "others" };
                format!("{name} (median burst; {} {others} faint)", n - 1)
            } else {
                name.clone()
            };
            legend.push((Swatch::Line(*color, 3), text));
        }
        legend.push((
            Swatch::Dashed(BLACK),
            format!("full capacity ({} replicas)", self.replicas),
        ));
        let failed: usize = self.curves.iter().map(|c| c.failed.len()).sum();
        if failed > 0 {
            legend.push((
                Swatch::Cross(style::FAILED),
                format!("failed replica, when it gave up ({failed})"),
            ));
        }
        let body = style::frame(root, &self.title(), &legend)?;

        let top = self.replicas as f64 * 1.08 + 0.2;
        let y_step = (self.replicas as f64 / 8.0).ceil().max(1.0);
        let mut y_ticks = Vec::new();
        let mut t = 0.0;
        while t <= self.replicas as f64 {
            y_ticks.push(t);
            t += y_step;
        }
        if y_ticks.last().copied() != Some(self.replicas as f64) {
            y_ticks.push(self.replicas as f64);
        }
        let y_axis = style::TickCoord::new(0.0, top, y_ticks);
        let mut chart = style::builder(&body, 70)
            .build_cartesian_2d(self.axis.coord(), y_axis)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        style::mesh_style(
            chart
                .configure_mesh()
                .x_desc(format!("time since burst start ({})", self.unit.suffix))
                .y_desc("replicas ready")
                .x_label_formatter(&xf)
                .y_label_formatter(&|v: &f64| format!("{v:.0}")),
        )
        .draw()
        .map_err(de)?;

        // Faint curves first, so the median bursts are drawn on top.
        for median in [false, true] {
            for c in self.curves.iter().filter(|c| c.median == median) {
                let color = self.names[c.variant].1;
                let style = if median {
                    color.stroke_width(3)
                } else {
                    style::lighten(color, 0.6).stroke_width(2)
                };
                let mut pts = vec![(0.0, 0.0)];
                for (k, &us) in c.ready.iter().enumerate() {
                    let x = self.unit.of(us as f64);
                    pts.push((x, k as f64));
                    pts.push((x, (k + 1) as f64));
                }
                chart.draw_series(LineSeries::new(pts, style)).map_err(de)?;
            }
        }
        // Failed replicas on their burst's curve, at the moment they gave up.
        for c in &self.curves {
            let color = if c.median {
                style::FAILED
            } else {
                style::lighten(style::FAILED, 0.4)
            };
            let marks = c.failed.iter().map(|&us| {
                let ready = c.ready.partition_point(|&r| r <= us) as f64;
                Cross::new((self.unit.of(us as f64), ready), 6, color.stroke_width(2))
            });
            chart.draw_series(marks).map_err(de)?;
        }
        // On top: curves that reached capacity end on it.
        chart
            .draw_series(std::iter::once(DashedPathElement::new(
                vec![
                    (self.axis.lo, self.replicas as f64),
                    (self.axis.hi, self.replicas as f64),
                ],
                8,
                5,
                BLACK.stroke_width(2),
            )))
            .map_err(de)?;
        Ok(())
    }
}
