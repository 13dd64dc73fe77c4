//! Chart tests on the real fixtures; SVG snapshots live in `snapshots/`.

use super::*;

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn names(charts: &[Chart]) -> Vec<&str> {
    charts.iter().map(|c| c.name.as_str()).collect()
}

fn assert_pngs(charts: &[Chart]) {
    for c in charts {
        assert!(c.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", c.name);
        assert!(c.png.len() > 5_000, "{}: {} bytes", c.name, c.png.len());
        assert!(c.svg.starts_with("<svg"), "{}", c.name);
        assert!(!c.title.is_empty());
    }
}

fn chart<'a>(charts: &'a [Chart], name: &str) -> &'a Chart {
    charts.iter().find(|c| c.name == name).unwrap()
}

#[test]
fn quickstart_snapshots() {
    let charts = render_all(&fixture("run-quickstart.json")).unwrap();
    assert_eq!(
        names(&charts),
        ["phases", "cdf-total", "cdf-pull", "size-vs-pull", "layers"]
    );
    assert_pngs(&charts);
    insta::assert_snapshot!("phases_svg", chart(&charts, "phases").svg);
    insta::assert_snapshot!("cdf_total_svg", chart(&charts, "cdf-total").svg);
    insta::assert_snapshot!("layers_svg", chart(&charts, "layers").svg);
}

#[test]
fn deterministic() {
    let record = fixture("run-quickstart.json");
    let a = render_all(&record).unwrap();
    let b = render_all(&record).unwrap();
    assert_eq!(a, b);
}

#[test]
fn burst_fixture_has_burst_chart_and_no_layers() {
    let charts = render_all(&fixture("run-burst.json")).unwrap();
    assert_eq!(
        names(&charts),
        [
            "phases",
            "cdf-total",
            "cdf-pull",
            "burst-capacity",
            "size-vs-pull"
        ]
    );
    assert_pngs(&charts);
}

#[test]
fn node_bases_fixture() {
    let charts = render_all(&fixture("run-node-bases.json")).unwrap();
    assert_eq!(
        names(&charts),
        ["phases", "cdf-total", "cdf-pull", "size-vs-pull", "layers"]
    );
    assert_pngs(&charts);
}

#[test]
fn one_variant() {
    for file in [
        "run-quickstart.json",
        "run-burst.json",
        "run-node-bases.json",
    ] {
        let mut record = fixture(file);
        let keep = record.variants[0].name.clone();
        record.variants.retain(|v| v.name == keep);
        record.samples.retain(|s| s.variant == keep);
        record.bursts.retain(|b| b.variant == keep);
        record.summaries.retain(|k, _| *k == keep);
        record.histograms.retain(|k, _| *k == keep);
        let charts = render_all(&record).unwrap();
        assert!(names(&charts).contains(&"phases"), "{file}");
        assert_eq!(
            names(&charts).contains(&"burst-capacity"),
            !record.bursts.is_empty(),
            "{file}"
        );
        assert_pngs(&charts);
    }
}

#[test]
fn degenerate_runs_do_not_panic() {
    // Only warm-ups, no summaries.
    let mut record = fixture("run-burst.json");
    for s in &mut record.samples {
        s.warmup = true;
    }
    for b in &mut record.bursts {
        b.warmup = true;
    }
    record.summaries.clear();
    let charts = render_all(&record).unwrap();
    // Warm-up bursts are still drawn when they are all there is.
    assert_eq!(names(&charts), ["burst-capacity"]);

    // Every sample failed, no bandwidth, no wire floor: nothing is summarized (the stored
    // histograms no longer match the samples), so there is nothing to chart.
    let mut record = fixture("run-quickstart.json");
    for s in &mut record.samples {
        s.outcome = crate::results::Outcome::Failed {
            phase: crate::results::Phase::Start,
            message: "boom".into(),
        };
    }
    record.network.bandwidth_bytes_per_sec = None;
    for v in &mut record.variants {
        v.wire_floor_us = None;
    }
    let charts = render_all(&record).unwrap();
    assert!(charts.is_empty(), "{:?}", names(&charts));

    // Garbled histograms, no summaries: recomputed from the samples.
    let mut record = fixture("run-quickstart.json");
    for phases in record.histograms.values_mut() {
        for text in phases.values_mut() {
            *text = "garbage".into();
        }
    }
    record.summaries.clear();
    let charts = render_all(&record).unwrap();
    assert_eq!(
        names(&charts),
        ["phases", "cdf-total", "cdf-pull", "size-vs-pull", "layers"]
    );

    // Nothing at all.
    record.variants.clear();
    record.samples.clear();
    record.summaries.clear();
    assert!(render_all(&record).unwrap().is_empty());
}

#[test]
fn write_report_writes_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let paths =
        crate::report::files::write_report(&fixture("run-quickstart.json"), dir.path()).unwrap();
    // summary.md, SVG and PNG of 5 charts, report.html.
    assert_eq!(paths.len(), 12);
    let out = dir.path().join("charts");
    assert!(out.join("phases.svg").is_file());
    assert!(out.join("layers.png").is_file());
}

/// Writes every fixture's charts to `$COLDBENCH_CHARTS_OUT/<fixture>/` for looking at them:
/// `COLDBENCH_CHARTS_OUT=/tmp/charts cargo test dump_fixture_charts -- --ignored`.
#[test]
#[ignore]
fn dump_fixture_charts() {
    let Ok(out) = std::env::var("COLDBENCH_CHARTS_OUT") else {
        return;
    };
    for file in ["run-quickstart", "run-burst", "run-node-bases"] {
        let dir = std::path::Path::new(&out).join(file);
        std::fs::create_dir_all(&dir).unwrap();
        crate::report::files::write_report(&fixture(&format!("{file}.json")), &dir).unwrap();
    }
}
