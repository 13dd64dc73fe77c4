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
    // Only the failures are left to show.
    assert_eq!(names(&charts), ["faults"]);
    assert!(chart(&charts, "faults")
        .svg
        .contains("failed: 6× start: boom"));

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

/// Registry counts with `faults` resets and `retries` retries.
fn counts(faults: u64, retries: u64) -> crate::registry::RegistryCounts {
    let mut c = crate::registry::RegistryCounts {
        requests: 12,
        retries,
        ..Default::default()
    };
    if faults > 0 {
        c.faults.insert(crate::registry::FaultKind::Reset, faults);
    }
    c
}

/// A failed pull as Docker reports a 429, with the image reference in front.
fn failed_pull(why: &str) -> crate::results::Outcome {
    crate::results::Outcome::Failed {
        phase: crate::results::Phase::Pull,
        message: format!("pull 127.0.0.1:40719/coldbench/full-like:latest: {why}"),
    }
}

const RATE_LIMITED: &str = "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit";

fn faults_svg(record: &RunRecord) -> Option<String> {
    let charts = render_all(record).unwrap();
    charts
        .iter()
        .find(|c| c.name == "faults")
        .map(|c| c.svg.clone())
}

#[test]
fn faults_chart_only_with_failures_faults_or_retries() {
    let clean = fixture("run-quickstart.json");
    assert!(faults_svg(&clean).is_none());
    // Registry counts without a fault or retry are clean.
    let mut record = clean.clone();
    record.samples[0].registry = Some(counts(0, 0));
    assert!(faults_svg(&record).is_none());
    // A fault, a retry alone, a failure: each draws it, after the other charts.
    for change in 0..3 {
        let mut record = clean.clone();
        match change {
            0 => record.samples[0].registry = Some(counts(1, 1)),
            1 => record.samples[0].registry = Some(counts(0, 1)),
            _ => record.samples[0].outcome = failed_pull("EOF"),
        }
        let charts = render_all(&record).unwrap();
        assert_eq!(names(&charts).last(), Some(&"faults"), "change {change}");
        assert_pngs(&charts);
    }
    // A faulted warm-up is not measured.
    let mut record = clean.clone();
    record.samples[0].warmup = true;
    record.samples[0].registry = Some(counts(2, 2));
    assert!(faults_svg(&record).is_none());
}

/// The quickstart with a flaky registry: faulted samples 5 s slower, two rate-limited failures.
fn flaky_quickstart() -> RunRecord {
    let mut record = fixture("run-quickstart.json");
    for (k, s) in record.samples.iter_mut().enumerate() {
        match k {
            0 | 3 => {
                s.registry = Some(counts(1, 1));
                s.phases.pull_us = s.phases.pull_us.map(|p| p + 5_000_000);
            }
            1 | 4 => {
                s.outcome = failed_pull(RATE_LIMITED);
                s.phases = Default::default();
            }
            _ => s.registry = Some(counts(0, 0)),
        }
    }
    record
}

#[test]
fn faults_chart_shows_classes_reasons_and_cost() {
    let svg = faults_svg(&flaky_quickstart()).unwrap();
    assert!(svg.contains("Registry faults"), "title");
    assert!(svg.contains("faulted or retried, still ok (2)"));
    assert!(svg.contains("clean: no fault, no retry (2)"));
    // The reason without the image reference, clipped.
    assert!(svg.contains("failed: 2× pull: toomanyrequests: You have reached"));
    assert!(!svg.contains("127.0.0.1:40719"));
    assert!(!svg.contains("increase-rate-limit"));
    assert!(svg.contains('…'));
    // Single-engine failures have no give-up time: they sit in the gutter.
    assert!(svg.contains("unknown"));
    assert!(svg.contains("at p50"), "cost of the faults");
}

#[test]
fn faults_chart_is_deterministic() {
    let record = flaky_quickstart();
    let a = render_all(&record).unwrap();
    let b = render_all(&record).unwrap();
    assert_eq!(chart(&a, "faults"), chart(&b, "faults"));
}

#[test]
fn faults_chart_many_samples_long_names_many_reasons() {
    let mut record = flaky_quickstart();
    let long = "a-variant-with-a-very-long-name-that-would-eat-the-chart".to_string();
    let old = record.variants[0].name.clone();
    record.variants[0].name = long.clone();
    let template = record.samples.clone();
    record.samples.clear();
    for k in 0..200 {
        let mut s = template[k % template.len()].clone();
        s.index = k;
        if s.variant == old {
            s.variant = long.clone();
        }
        if k % 7 == 0 {
            s.outcome = failed_pull(&format!("reason number {}", k % 5));
        }
        record.samples.push(s);
    }
    let charts = render_all(&record).unwrap();
    assert_pngs(&charts);
    let svg = &chart(&charts, "faults").svg;
    assert!(!svg.contains(&long), "long names are clipped");
    assert!(svg.contains("for other reasons"));
}

/// The burst fixture with two replicas of its first burst rate-limited half-way to ready.
fn flaky_burst() -> RunRecord {
    let mut record = fixture("run-burst.json");
    let first = record.bursts[0].index;
    for s in record
        .samples
        .iter_mut()
        .filter(|s| s.burst == Some(first))
        .take(2)
    {
        s.outcome = failed_pull(RATE_LIMITED);
        s.finished_at_us = s.ready_at_us.map(|r| r / 2);
        s.ready_at_us = None;
    }
    record
}

#[test]
fn burst_chart_marks_failed_replicas() {
    let record = fixture("run-burst.json");
    let svg = chart(&render_all(&record).unwrap(), "burst-capacity")
        .svg
        .clone();
    assert!(!svg.contains("failed replica"));
    assert!(faults_svg(&record).is_none());

    let charts = render_all(&flaky_burst()).unwrap();
    let svg = &chart(&charts, "burst-capacity").svg;
    assert!(
        svg.contains("failed replica, when it gave up (2)"),
        "legend"
    );
    // Burst replicas know when they gave up: no gutter in the faults chart.
    let faults = &chart(&charts, "faults").svg;
    assert!(faults.contains("failed: 2× pull: toomanyrequests"));
    assert!(!faults.contains("unknown"));
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
    for (name, record) in [
        ("flaky-quickstart", flaky_quickstart()),
        ("flaky-burst", flaky_burst()),
    ] {
        let dir = std::path::Path::new(&out).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        crate::report::files::write_report(&record, &dir).unwrap();
    }
}
