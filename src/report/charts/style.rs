//! Shared look and data helpers: sizes, fonts, the variant palette, axes and sample selection.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{de, DrawFailure};

/// Default chart size in pixels.
pub(crate) const SIZE: (u32, u32) = (900, 500);

/// The size of a horizontal bar chart with `rows` bars: 180 px plus 70 px a bar, at least
/// [`SIZE`].
pub(crate) fn bar_chart_size(rows: usize) -> (u32, u32) {
    let rows = u32::try_from(rows).unwrap_or(u32::MAX);
    (SIZE.0, SIZE.1.max(180 + rows.saturating_mul(70)))
}

/// Font family the bundled font is registered under.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// A chart's title, with ` (simulated)` when the run was simulated.
pub(crate) fn marked(title: String, simulated: bool) -> String {
    if simulated {
        format!("{title} (simulated)")
    } else {
        title
    }
}

/// Title font.
pub(crate) fn title_font() -> TextStyle<'static> {
    (FONT_FAMILY, 25).into_font().color(&BLACK)
}
/// Axis description font.
pub(crate) fn axis_font() -> TextStyle<'static> {
    (FONT_FAMILY, 18).into_font().color(&BLACK)
}
/// Tick label and legend font.
pub(crate) fn label_font() -> TextStyle<'static> {
    (FONT_FAMILY, 16).into_font().color(&BLACK)
}
/// Tableau 10: distinct on white and for most colour-vision deficiencies.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x79, 0x70, 0x6e),
];

/// The colour of the variant at `index` in `record.variants`, the same in every chart.
pub(crate) fn variant_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// `c` mixed with white: `amount` 0 keeps it, 1 gives white.
pub(crate) fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// Seconds or milliseconds, whichever reads better for a maximum of `max_us`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeUnit {
    /// Microseconds per unit.
    pub per_us: f64,
    /// `s` or `ms`.
    pub suffix: &'static str,
}

impl TimeUnit {
    /// Seconds from 2 s up, milliseconds below.
    pub(crate) fn for_max_us(max_us: f64) -> Self {
        if max_us >= 2_000_000.0 {
            TimeUnit {
                per_us: 1_000_000.0,
                suffix: "s",
            }
        } else {
            TimeUnit {
                per_us: 1_000.0,
                suffix: "ms",
            }
        }
    }
    /// `us` in this unit.
    pub(crate) fn of(self, us: f64) -> f64 {
        us / self.per_us
    }
}

/// A duration for a label: `5.74 s`, `439 ms`, `607 µs`.
pub(crate) fn fmt_duration(us: f64) -> String {
    if us >= 1_000_000.0 {
        format!("{:.2} s", us / 1_000_000.0)
    } else if us >= 1_000.0 {
        format!("{:.0} ms", us / 1_000.0)
    } else {
        format!("{us:.0} µs")
    }
}

/// A byte count for a label, in decimal units.
pub(crate) fn fmt_bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{b:.0} B")
    }
}

/// The colour of failures, in every chart.
pub(crate) const FAILED: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// A linear or logarithmic value axis with ticks on 1-2-5 values.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// Values are drawn as log10(value).
    pub log: bool,
    /// Drawn range, in drawn (possibly log) space.
    pub lo: f64,
    /// Drawn range, in drawn (possibly log) space.
    pub hi: f64,
    /// Tick positions, in drawn space.
    pub ticks: Vec<f64>,
    /// Decimals of tick labels.
    pub decimals: usize,
}

impl Axis {
    /// A linear axis from 0 to a little above `max` (positive).
    pub(crate) fn linear_from_zero(max: f64) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let step = nice_step(max / 6.0);
        let hi = (max * 1.05 / step).ceil() * step;
        let n = (hi / step).round() as usize;
        let ticks = (0..=n).map(|i| i as f64 * step).collect();
        Axis {
            log: false,
            lo: 0.0,
            hi,
            ticks,
            decimals: decimals_for(step),
        }
    }

    /// A log axis covering `[min, max]` (both positive), padded a little.
    pub(crate) fn log(min: f64, max: f64) -> Self {
        let (lo, hi) = (min.log10() - 0.08, max.log10() + 0.08);
        let mut ticks = Vec::new();
        let mut smallest = f64::INFINITY;
        let first = lo.floor() as i32;
        let last = hi.ceil() as i32;
        for e in first..=last {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e);
                let l = v.log10();
                if l >= lo && l <= hi {
                    ticks.push(l);
                    smallest = smallest.min(v);
                }
            }
        }
        Axis {
            log: true,
            lo,
            hi,
            ticks,
            decimals: if smallest.is_finite() {
                decimals_for(smallest)
            } else {
                1
            },
        }
    }

    /// Log when the data spans more than `ratio`, else linear from zero.
    pub(crate) fn auto(min: f64, max: f64, ratio: f64) -> Self {
        if min > 0.0 && max / min > ratio {
            Axis::log(min, max)
        } else {
            Axis::linear_from_zero(max)
        }
    }

    /// `v` in drawn space.
    pub(crate) fn map(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-12).log10()
        } else {
            v
        }
    }

    /// The value at drawn position `d`.
    pub(crate) fn unmap(&self, d: f64) -> f64 {
        if self.log {
            10f64.powf(d)
        } else {
            d
        }
    }

    /// `", log scale"` for log axes, for axis descriptions.
    pub(crate) fn scale_note(&self) -> &'static str {
        if self.log {
            ", log scale"
        } else {
            ""
        }
    }

    /// A plotters coordinate with exactly these ticks.
    pub(crate) fn coord(&self) -> TickCoord {
        TickCoord::new(self.lo, self.hi, self.ticks.clone())
    }

    /// Label for a tick at drawn position `v`.
    pub(crate) fn label(&self, v: f64) -> String {
        if self.log {
            let value = 10f64.powf(v);
            // Ticks sit on 1-2-5 values: print each with the decimals it needs.
            let rounded = format!("{value:.6}").parse::<f64>().unwrap_or(value);
            format!("{rounded:.*}", decimals_for(rounded))
        } else {
            format!("{v:.*}", self.decimals)
        }
    }
}

/// A linear f64 coordinate whose ticks (labels and grid lines) are exactly the ones given.
#[derive(Debug, Clone)]
pub(crate) struct TickCoord {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl TickCoord {
    /// `lo..hi` with `ticks`.
    pub(crate) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        TickCoord { lo, hi, ticks }
    }
}

impl Ranged for TickCoord {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if span <= 0.0 || !value.is_finite() {
            return limit.0;
        }
        let r = ((value - self.lo) / span).clamp(-10.0, 10.0);
        limit.0 + (f64::from(limit.1 - limit.0) * r).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// Decimals needed to print multiples of `step`.
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil().max(0.0) as usize).min(6)
    }
}

/// The 1-2-5 step at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 {
        raw
    } else {
        1.0
    };
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Keeps `WithKeyPoints` formatting in one place: plotters calls this for each tick.
pub(crate) fn tick_formatter(axis: &Axis) -> impl Fn(&f64) -> String + '_ {
    move |v| axis.label(*v)
}

/// Pixel width of `text` in `font`, for sizing label areas.
pub(crate) fn text_width(text: &str, font: &TextStyle<'_>) -> u32 {
    font.font
        .box_size(text)
        .map(|(w, _)| w)
        .unwrap_or((text.chars().count() * 8) as u32)
}

/// What a legend entry shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Swatch {
    /// A filled box.
    Fill(RGBColor),
    /// A solid line of this width.
    Line(RGBColor, u32),
    /// A dashed line.
    Dashed(RGBColor),
    /// A round marker.
    Dot(RGBColor),
    /// A triangle marker.
    Triangle(RGBColor),
    /// A cross marker (failures).
    Cross(RGBColor),
}

/// Fills `root` white, draws the title and a legend above the plot, and returns the plot area.
///
/// The legend is laid out in centred rows, wrapping when wider than the chart, so it never
/// covers data.
pub(crate) fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[(Swatch, String)],
) -> Result<DrawingArea<DB, Shift>, DrawFailure> {
    root.fill(&WHITE).map_err(de)?;
    let (width, _) = root.dim_in_pixel();
    let width = i32::try_from(width).unwrap_or(i32::MAX);
    let tf = title_font();
    let tw = i32::try_from(text_width(title, &tf)).unwrap_or(0);
    root.draw(&Text::new(title.to_string(), ((width - tw) / 2, 10), tf))
        .map_err(de)?;

    // Lay the legend out in rows.
    let lf = label_font();
    const SWATCH: i32 = 22;
    const GAP: i32 = 22;
    let mut rows: Vec<Vec<(Swatch, &str, i32)>> = vec![Vec::new()];
    let mut row_width = 0;
    for (swatch, text) in legend {
        let w = SWATCH + 6 + i32::try_from(text_width(text, &lf)).unwrap_or(0);
        let needed = if row_width == 0 {
            w
        } else {
            row_width + GAP + w
        };
        if needed > width - 40 && row_width > 0 {
            rows.push(Vec::new());
            row_width = w;
        } else {
            row_width = needed;
        }
        if let Some(row) = rows.last_mut() {
            row.push((*swatch, text.as_str(), w));
        }
    }
    let top = 46;
    let row_h = 26;
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|(_, _, w)| w).sum::<i32>()
            + GAP * i32::try_from(row.len().saturating_sub(1)).unwrap_or(0);
        let mut x = (width - total) / 2;
        let y = top + row_h * i32::try_from(r).unwrap_or(0);
        let mid = y + 8;
        for (swatch, text, w) in row {
            match *swatch {
                Swatch::Fill(c) => {
                    root.draw(&Rectangle::new(
                        [(x, mid - 6), (x + SWATCH, mid + 6)],
                        c.filled(),
                    ))
                    .map_err(de)?;
                }
                Swatch::Line(c, lw) => {
                    root.draw(&PathElement::new(
                        vec![(x, mid), (x + SWATCH, mid)],
                        c.stroke_width(lw),
                    ))
                    .map_err(de)?;
                }
                Swatch::Dashed(c) => {
                    for k in 0..3 {
                        let x0 = x + k * 8;
                        root.draw(&PathElement::new(
                            vec![(x0, mid), (x0 + 5, mid)],
                            c.stroke_width(2),
                        ))
                        .map_err(de)?;
                    }
                }
                Swatch::Dot(c) => {
                    root.draw(&Circle::new((x + SWATCH / 2, mid), 6, c.filled()))
                        .map_err(de)?;
                }
                Swatch::Triangle(c) => {
                    root.draw(&TriangleMarker::new((x + SWATCH / 2, mid), 7, c.filled()))
                        .map_err(de)?;
                }
                Swatch::Cross(c) => {
                    root.draw(&Cross::new((x + SWATCH / 2, mid), 6, c.stroke_width(3)))
                        .map_err(de)?;
                }
            }
            root.draw(&Text::new(
                text.to_string(),
                (x + SWATCH + 6, mid),
                lf.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(de)?;
            x += w + GAP;
        }
    }
    let used = if legend.is_empty() {
        top
    } else {
        top + row_h * i32::try_from(rows.len()).unwrap_or(1) + 4
    };
    let (_, body) = root.split_vertically(u32::try_from(used).unwrap_or(40));
    Ok(body)
}

/// The chart builder every plot uses: the same margins and axis-label areas, with room for
/// `y_label_width` pixels of y labels.
pub(crate) fn builder<'a, 'b, DB: DrawingBackend>(
    body: &'a DrawingArea<DB, Shift>,
    y_label_width: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(body);
    b.margin_left(10)
        .margin_right(25)
        .margin_bottom(10)
        .x_label_area_size(50)
        .y_label_area_size(y_label_width);
    b
}

/// The grid and label styling every plot uses; the caller sets descriptions and formatters,
/// then draws.
pub(crate) fn mesh_style<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.axis_desc_style(axis_font())
        .label_style(label_font())
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
}
