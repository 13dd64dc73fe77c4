//! `layers`: per-layer download and extraction waterfall of each variant's median sample.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::style::{self, Axis, Swatch, TimeUnit};
use super::{de, DrawResult, Plot};
use crate::analysis::{percentile::rank, summarized};
use crate::results::RunRecord;

/// One layer's bar.
struct Row {
    label: String,
    variant: usize,
    download: Option<u64>,
    /// Extraction starts once the layer is in and the layer below is extracted (engines
    /// extract in layer order, one at a time).
    extract_start: Option<u64>,
    extract: Option<u64>,
}

/// The layers chart.
pub(crate) struct Layers {
    /// The run was simulated: the title says so.
    simulated: bool,
    rows: Vec<Row>,
    colors: Vec<RGBColor>,
    /// Per variant with rows: (variant, first row, last row, pull µs of the sample).
    groups: Vec<(usize, usize, usize, Option<u64>)>,
    unit: TimeUnit,
    axis: Axis,
}

impl Layers {
    /// `None` when no variant's samples have layer timings.
    pub(crate) fn new(record: &RunRecord) -> Option<Self> {
        let mut rows = Vec::new();
        let mut groups = Vec::new();
        for (vi, v) in record.variants.iter().enumerate() {
            let mut candidates: Vec<_> = summarized(record, &v.name)
                .into_iter()
                .filter(|s| {
                    s.layers
                        .iter()
                        .any(|l| l.downloaded_us().is_some() || l.extract_complete_us.is_some())
                })
                .collect();
            if candidates.is_empty() {
                continue;
            }
            candidates.sort_by_key(|s| (s.phases.total_us.unwrap_or(u64::MAX), s.index));
            let Some(sample) = rank(candidates.len(), 0.5).and_then(|r| candidates.get(r)) else {
                continue;
            };
            let first = rows.len();
            let mut below_extracted: Option<u64> = None;
            for (k, l) in sample.layers.iter().enumerate() {
                if l.downloaded_us().is_none() && l.extract_complete_us.is_none() {
                    continue;
                }
                let size = v
                    .image
                    .layers
                    .iter()
                    .find(|info| info.digest.to_string() == l.digest)
                    .map(|info| format!(", {}", style::fmt_bytes(info.size as f64)))
                    .unwrap_or_default();
                let cached = if l.already_present {
                    ", cached"
                } else if l.extract_complete_us.is_none() {
                    ", download only"
                } else {
                    ""
                };
                let extract_start = l.extract_complete_us.map(|_| {
                    l.downloaded_us()
                        .unwrap_or(0)
                        .max(below_extracted.unwrap_or(0))
                });
                below_extracted = l.extract_complete_us.or(below_extracted);
                rows.push(Row {
                    label: format!("{} · layer {}{size}{cached}", v.name, k + 1),
                    variant: vi,
                    download: l.downloaded_us(),
                    extract_start,
                    extract: l.extract_complete_us,
                });
            }
            if rows.len() > first {
                groups.push((vi, first, rows.len() - 1, sample.phases.pull_us));
            }
        }
        let max = rows
            .iter()
            .flat_map(|r| [r.download, r.extract])
            .chain(groups.iter().map(|g| g.3))
            .flatten()
            .max()? as f64;
        let unit = TimeUnit::for_max_us(max);
        let axis = Axis::linear_from_zero(unit.of(max));
        let colors = (0..record.variants.len())
            .map(style::variant_color)
            .collect();
        Some(Layers {
            simulated: record.simulation.is_some(),
            rows,
            colors,
            groups,
            unit,
            axis,
        })
    }

    /// Chart title.
    pub(crate) fn title(&self) -> String {
        let title = "Layer waterfall of the median sample (by total)".to_string();
        style::marked(title, self.simulated)
    }
}

impl Plot for Layers {
    fn size(&self) -> (u32, u32) {
        let rows = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        (
            style::SIZE.0,
            style::SIZE.1.max(190 + rows.saturating_mul(26)),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let grey = RGBColor(0x70, 0x70, 0x70);
        let legend = vec![
            (
                Swatch::Fill(style::lighten(grey, 0.55)),
                "downloading (light shade)".to_string(),
            ),
            (
                Swatch::Fill(grey),
                "extracting (full shade, once the layer below is done)".to_string(),
            ),
            (Swatch::Dashed(grey), "pull complete".to_string()),
        ];
        let body = style::frame(root, &self.title(), &legend)?;

        let n = self.rows.len();
        let lf = style::label_font();
        let label_w = self
            .rows
            .iter()
            .map(|r| style::text_width(&r.label, &lf))
            .max()
            .unwrap_or(60)
            + 16;
        let row_of = |i: usize| (n - 1 - i) as f64;
        let y = style::TickCoord::new(-0.5, n as f64 - 0.5, (0..n).map(|i| i as f64).collect());
        let mut chart = style::builder(&body, label_w)
            .build_cartesian_2d(self.axis.coord(), y)
            .map_err(de)?;
        let xf = style::tick_formatter(&self.axis);
        let yf = |v: &f64| {
            let r = v.round();
            if r < 0.0 || r >= n as f64 {
                return String::new();
            }
            self.rows
                .get(n - 1 - r as usize)
                .map(|row| row.label.clone())
                .unwrap_or_default()
        };
        style::mesh_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(format!("time since pull request ({})", self.unit.suffix))
                .x_label_formatter(&xf)
                .y_label_formatter(&yf),
        )
        .draw()
        .map_err(de)?;

        let half = 0.34;
        let t = |us: u64| self.unit.of(us as f64);
        for (i, row) in self.rows.iter().enumerate() {
            let y = row_of(i);
            let color = self.colors[row.variant];
            let download_end = row.download.map(t).unwrap_or(0.0);
            if download_end > 0.0 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(0.0, y - half), (download_end, y + half)],
                        style::lighten(color, 0.55).filled(),
                    )))
                    .map_err(de)?;
            }
            if let (Some(s), Some(e)) = (row.extract_start.map(t), row.extract.map(t)) {
                let s = s.min(e);
                if e > s {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(s, y - half), (e, y + half)],
                            color.filled(),
                        )))
                        .map_err(de)?;
                }
            }
        }
        for (k, &(vi, first, last, pull)) in self.groups.iter().enumerate() {
            if let Some(p) = pull {
                let x = t(p);
                chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        vec![(x, row_of(first) + 0.5), (x, row_of(last) - 0.5)],
                        6,
                        4,
                        self.colors[vi].stroke_width(2),
                    )))
                    .map_err(de)?;
            }
            if k + 1 < self.groups.len() {
                let y = row_of(last) - 0.5;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(self.axis.lo, y), (self.axis.hi, y)],
                        RGBColor(160, 160, 160).stroke_width(1),
                    )))
                    .map_err(de)?;
            }
        }
        Ok(())
    }
}
