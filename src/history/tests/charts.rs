//! The trend charts: one per variant, deterministic, regressions marked, gaps and crowds.

use super::*;
use crate::history::{collect, History};
use crate::report::charts::history_charts;
use crate::report::history::write_history;

/// The red of the regression markers, as the SVG backend writes it.
const RED_FILL: &str = "fill=\"#FF0000\"";

fn nightly_history() -> History {
    let tmp = nightly();
    collect(&[tmp.path().join("nightly")]).unwrap()
}

#[test]
fn one_chart_per_variant_deterministic_with_the_regression_marked() {
    let h = nightly_history();
    let a = history_charts(&h).unwrap();
    let b = history_charts(&h).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["history-full-like", "history-static-like"]);
    for c in &a {
        assert!(c.svg.starts_with("<svg"), "{}", c.name);
        assert!(c.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", c.name);
        assert!(c.svg.contains("regressed (compare)"), "{}", c.name);
        assert!(
            c.svg.contains("11-26") && c.svg.contains("2c3d4e5"),
            "{}",
            c.name
        );
    }
    // Only full-like's chart has red markers (the legend's swatch is one).
    assert!(a[0].svg.matches(RED_FILL).count() >= 2, "{}", a[0].svg);
    assert_eq!(a[1].svg.matches(RED_FILL).count(), 1);
    assert_eq!(a[0].title, "full-like: cold start across 3 runs");
}

#[test]
fn one_run_gaps_and_many_runs() {
    // One run, never compared: no regression legend.
    let one = History {
        points: nightly_history().points.into_iter().take(1).collect(),
        warnings: vec![],
    };
    let charts = history_charts(&one).unwrap();
    assert_eq!(charts.len(), 2);
    assert!(!charts[0].svg.contains("regressed (compare)"));
    assert!(charts[0].title.ends_with("across 1 run"));

    // A variant missing from the middle run: a gap, still one chart.
    let mut gap = nightly_history();
    gap.points[1].cells.retain(|c| c.variant != "static-like");
    let charts = history_charts(&gap).unwrap();
    assert_eq!(charts.len(), 2);

    // 400 runs: labels thinned to what fits, the newest labelled.
    let base = nightly_history().points[0].clone();
    let many = History {
        points: (0..400)
            .map(|i| {
                let mut p = base.clone();
                p.run_id = format!("r{i}");
                p.git_commit = Some(format!("c{i:06}"));
                p
            })
            .collect(),
        warnings: vec![],
    };
    let charts = history_charts(&many).unwrap();
    // SVG text elements hold their text on its own line.
    let labels = charts[0].svg.matches("\nc0").count();
    assert!((3..=15).contains(&labels), "{labels} commit labels");
    assert!(charts[0].svg.contains("\nc000399\n"));

    // Nothing to draw.
    assert!(history_charts(&History::default()).unwrap().is_empty());
}

#[test]
fn awkward_variant_names_make_safe_unique_file_names() {
    let mut h = nightly_history();
    for p in &mut h.points {
        for c in &mut p.cells {
            c.variant = match c.variant.as_str() {
                "full-like" => "../a b<&>".into(),
                _ => "../a_b___".into(),
            };
        }
    }
    let charts = history_charts(&h).unwrap();
    let names: Vec<&str> = charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["history-.._a_b___", "history-.._a_b___-2"]);
    assert!(charts[0].svg.contains("&lt;&amp;&gt;"));
}

#[test]
fn write_history_writes_markdown_svg_and_png() {
    let h = nightly_history();
    let out = tempfile::tempdir().unwrap();
    let written = write_history(&h, out.path()).unwrap();
    assert_eq!(written.len(), 5);
    assert!(out.path().join("history.md").is_file());
    assert!(out.path().join("charts/history-full-like.svg").is_file());
    assert!(out.path().join("charts/history-static-like.png").is_file());
}

/// Writes the nightly history to `$COLDBENCH_CHARTS_OUT/history/` for looking at it:
/// `COLDBENCH_CHARTS_OUT=/tmp/charts cargo test --lib dump_history -- --ignored`.
#[test]
#[ignore]
fn dump_history() {
    let Ok(out) = std::env::var("COLDBENCH_CHARTS_OUT") else {
        return;
    };
    let out = std::path::Path::new(&out);
    write_history(&nightly_history(), &out.join("history")).unwrap();
    write_history(&month(), &out.join("history-month")).unwrap();
}

/// 30 nightly runs of `full-like` drifting upwards, two of them regressed, one with no
/// successful sample (a gap), and `static-like` from the 10th run on.
fn month() -> History {
    let base = nightly_history().points[0].clone();
    let points = (0..30u64)
        .map(|i| {
            let mut p = base.clone();
            p.run_id = format!("nightly-{i:02}");
            p.started_at = format!("2026-11-{:02}T02:00:00Z", i + 1);
            p.git_commit = Some(format!("{:07x}", 0x3a5f00 + i * 0x1d3));
            p.baseline = Some("previous".into());
            let wobble = (i * 7 % 5) * 60_000;
            let step = if i >= 20 { 700_000 } else { 0 };
            for c in &mut p.cells {
                let scale = if c.variant == "full-like" { 1.0 } else { 0.2 };
                let shift = ((i * 15_000 + wobble + step) as f64 * scale) as u64;
                c.p5 += shift;
                c.p50 += shift;
                c.p95 += shift;
                c.regressed = c.variant == "full-like"
                    && (i == 20 || (i == 26 && c.metric.name() == "pull"))
                    && matches!(c.metric.name(), "total" | "pull");
            }
            if i == 14 {
                p.cells.retain(|c| c.variant != "full-like");
            }
            if i < 9 {
                p.cells.retain(|c| c.variant != "static-like");
            }
            p
        })
        .collect();
    History {
        points,
        warnings: vec![],
    }
}

#[test]
fn a_month_of_runs() {
    let charts = history_charts(&month()).unwrap();
    assert_eq!(charts.len(), 2);
    // Two regressed totals/pulls on run 20, one pull on run 26, plus the legend swatch.
    assert_eq!(charts[0].svg.matches(RED_FILL).count(), 4);
}
