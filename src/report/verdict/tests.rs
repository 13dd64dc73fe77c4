//! Verdict renderers on a hand-built comparison: snapshots of the terminal and Markdown output,
//! JUnit parsed as XML, gab and BMF parsed as JSON and checked against the documented shapes.

use super::words;
use super::*;
use crate::compare::threshold::{Status, ThresholdOutcome};
use crate::compare::{Cell, CompareOptions, CompareReport, Milestone, RunRef, Verdict};
use crate::results::Phase;

fn run(id: &str, commit: &str) -> RunRef {
    RunRef {
        run_id: id.to_string(),
        started_at: "2025-01-01T00:00:00Z".to_string(),
        git_commit: Some(commit.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn cell(
    variant: &str,
    metric: Metric,
    (base_n, new_n): (usize, usize),
    (base, new): (u64, u64),
    ci: Option<(f64, f64)>,
    p: Option<(f64, f64)>,
    verdict: Verdict,
) -> Cell {
    Cell {
        variant: variant.to_string(),
        metric,
        base_n,
        new_n,
        base_median_us: (base_n > 0).then_some(base),
        new_median_us: (new_n > 0).then_some(new),
        ratio: (base_n > 0 && new_n > 0).then(|| new as f64 / base as f64),
        ci,
        p_value: p.map(|p| p.0),
        p_adjusted: p.map(|p| p.1),
        noise_band: Some(0.05),
        verdict,
    }
}

const PULL: Metric = Metric::Phase(Phase::Pull);
const TOTAL: Metric = Metric::Phase(Phase::Total);
const FIRST_REQUEST: Metric = Metric::Phase(Phase::FirstRequest);
const FULL_CAPACITY: Metric = Metric::Burst(Milestone::FullCapacity);

/// One regressed, one improved, one no-change, one too-few cell, a burst cell without samples
/// (not shown), a variant only in the baseline and two context warnings.
fn report() -> CompareReport {
    CompareReport {
        base: run("20250101-base", "1a2b3c4d5e6f7a8b"),
        new: run("20250102-new", "5d6e7f8a9b0c1d2e"),
        options: CompareOptions::default(),
        differences: vec![
            "engine differs: docker 27.1.1 (overlay2) → docker 28.0.0 (overlayfs)".to_string(),
            "bandwidth differs: 100 MB/s → 50 MB/s".to_string(),
        ],
        only_in_base: vec!["legacy".to_string()],
        only_in_new: vec![],
        cells: vec![
            cell(
                "full-like",
                PULL,
                (10, 10),
                (1_200_000, 1_347_600),
                Some((1.081, 1.169)),
                Some((0.0002, 0.0008)),
                Verdict::Regressed,
            ),
            cell(
                "full-like",
                TOTAL,
                (10, 10),
                (2_000_000, 1_920_000),
                Some((0.93, 1.01)),
                Some((0.21, 0.63)),
                Verdict::NoChange,
            ),
            cell(
                "app",
                PULL,
                (10, 10),
                (800_000, 640_000),
                Some((0.74, 0.86)),
                Some((0.000_01, 0.000_05)),
                Verdict::Improved,
            ),
            cell(
                "app",
                FIRST_REQUEST,
                (3, 10),
                (12_300, 11_900),
                None,
                None,
                Verdict::TooFewSamples { have: 3, need: 5 },
            ),
            cell(
                "app",
                FULL_CAPACITY,
                (0, 0),
                (0, 0),
                None,
                None,
                Verdict::TooFewSamples { have: 0, need: 5 },
            ),
        ],
    }
}

fn outcome(
    expression: &str,
    variant: &str,
    measured: Option<&str>,
    status: Status,
) -> ThresholdOutcome {
    ThresholdOutcome {
        expression: expression.to_string(),
        variant: variant.to_string(),
        measured: measured.map(str::to_string),
        measured_value: None,
        limit: match expression {
            "p95(total)<2s" => "< 2 s",
            "p50(pull)<+10%" => "< +10 %",
            _ => "< 8 s",
        }
        .to_string(),
        status,
    }
}

/// A passed, a failed and a no-data threshold.
fn thresholds() -> Vec<ThresholdOutcome> {
    vec![
        outcome("p95(total)<2s", "full-like", Some("1.84 s"), Status::Passed),
        outcome(
            "p50(pull)<+10%",
            "full-like",
            Some("+12.3 %"),
            Status::Failed,
        ),
        outcome(
            "full_capacity<8s",
            "app",
            None,
            Status::NoData {
                reason: "no bursts in this run".to_string(),
            },
        ),
    ]
}

#[test]
fn terminal_snapshot() {
    insta::assert_snapshot!(
        "verdict_terminal",
        render_terminal(&report(), &thresholds())
    );
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(
        "verdict_markdown",
        render_markdown(&report(), &thresholds())
    );
}

#[test]
fn thresholds_alone_end_with_the_verdict() {
    let text = table::render_thresholds(&thresholds());
    assert!(text.starts_with("thresholds\n"), "{text}");
    assert!(
        text.ends_with("verdict: 2 of 3 thresholds failed\n"),
        "{text}"
    );
    let md = markdown::render_thresholds_markdown(&thresholds());
    assert!(
        md.contains(
            "| ❌ | full\\_capacity&lt;8s | app | no data: no bursts in this run | &lt; 8 s |"
        ),
        "{md}"
    );
    assert!(
        md.ends_with("**verdict: 2 of 3 thresholds failed**\n"),
        "{md}"
    );
}

// ---- JUnit ----

/// (tests, failures, skipped) of an element.
fn counts(node: roxmltree::Node) -> (usize, usize, usize) {
    let n = |name| node.attribute(name).and_then(|v| v.parse().ok()).unwrap();
    (n("tests"), n("failures"), n("skipped"))
}

fn suite<'a>(doc: &'a roxmltree::Document, name: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no testsuite {name}"))
}

fn case<'a>(suite: roxmltree::Node<'a, 'a>, class: &str, name: &str) -> roxmltree::Node<'a, 'a> {
    suite
        .children()
        .find(|n| n.attribute("classname") == Some(class) && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no testcase {class} {name}"))
}

fn child_attr<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Option<&'a str> {
    node.children()
        .find(|n| n.has_tag_name(tag))
        .and_then(|n| n.attribute("message"))
}

#[test]
fn junit_counts_and_messages() {
    let xml = render_junit(Some(&report()), &thresholds());
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(counts(root), (7, 3, 1));

    let compare = suite(&doc, "coldbench.compare");
    assert_eq!(counts(compare), (4, 1, 1));
    assert_eq!(compare.children().filter(|n| n.is_element()).count(), 4);
    let pull = case(compare, "compare.full-like", "pull");
    let message = child_attr(pull, "failure").expect("regressed is a failure");
    for number in [
        "1.20 s",
        "1.35 s",
        "+12.3 %",
        "[+8.1 %, +16.9 %]",
        "p <0.001",
        "n 10/10",
    ] {
        assert!(message.contains(number), "{number} not in {message:?}");
    }
    let too_few = case(compare, "compare.app", "first_request");
    assert_eq!(
        child_attr(too_few, "skipped"),
        Some("too few samples (n=3, need 5)")
    );
    let improved = case(compare, "compare.app", "pull");
    assert_eq!(improved.children().filter(|n| n.is_element()).count(), 0);

    let limits = suite(&doc, "coldbench.thresholds");
    assert_eq!(counts(limits), (3, 2, 0));
    let failed = case(limits, "thresholds.full-like", "p50(pull)<+10%");
    let message = child_attr(failed, "failure").unwrap();
    assert!(
        message.contains("measured +12.3 %") && message.contains("limit < +10 %"),
        "{message}"
    );
    let no_data = case(limits, "thresholds.app", "full_capacity<8s");
    let message = child_attr(no_data, "failure").unwrap();
    assert!(
        message.contains("no data: no bursts in this run"),
        "{message}"
    );
    assert!(child_attr(
        case(limits, "thresholds.full-like", "p95(total)<2s"),
        "failure"
    )
    .is_none());
}

#[test]
fn junit_without_a_report_has_only_the_thresholds() {
    let xml = render_junit(None, &thresholds());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(counts(doc.root_element()), (3, 2, 0));
    let empty = render_junit(None, &[]);
    let doc = roxmltree::Document::parse(&empty).unwrap();
    assert_eq!(counts(doc.root_element()), (0, 0, 0));
}

#[test]
fn junit_escapes_and_drops_invalid_characters() {
    let nasty = "a<b>&\"c'\u{1}\u{FFFE}\u{1F600}\tz\nend";
    let mut o = outcome(nasty, nasty, Some("1 < 2 & \u{0}"), Status::Failed);
    o.limit = "<\u{7}".to_string();
    let xml = render_junit(None, &[o]);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let tc = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    let kept = "a<b>&\"c'\u{1F600}\tz\nend";
    assert_eq!(tc.attribute("name"), Some(kept));
    assert_eq!(
        tc.attribute("classname"),
        Some(format!("thresholds.{kept}").as_str())
    );
    let message = child_attr(tc, "failure").unwrap();
    assert!(
        message.contains("measured 1 < 2 & , limit <"),
        "{message:?}"
    );
}

// ---- gab and BMF ----

fn rows() -> Vec<MetricRow> {
    let row = |variant: &str, metric, median_us, lower_us, upper_us, n| MetricRow {
        variant: variant.to_string(),
        metric,
        median_us,
        lower_us,
        upper_us,
        n,
    };
    vec![
        row("full-like", PULL, 1_350_000, 1_210_000, 1_451_000, 10),
        row("full-like", TOTAL, 1_920_000, 1_800_000, 2_100_500, 10),
        row("app", PULL, 640_000, 600_000, 700_000, 10),
        row("app", FULL_CAPACITY, 7_500_123, 7_000_000, 9_000_000, 3),
    ]
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn gab_matches_custom_smaller_is_better() {
    let value = json(&render_gab(&rows(), None));
    let entries = value.as_array().expect("a JSON array");
    assert_eq!(entries.len(), 4);
    for e in entries {
        let obj = e.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["extra", "name", "range", "unit", "value"]);
        assert!(obj["name"].is_string() && obj["range"].is_string() && obj["extra"].is_string());
        assert_eq!(obj["unit"], "ms");
        assert!(obj["value"].is_number());
    }
    let first = &entries[0];
    assert_eq!(first["name"], "full-like pull");
    assert_eq!(first["value"].as_f64(), Some(1350.0));
    assert_eq!(first["range"], "± 120.5");
    let extra = first["extra"].as_str().unwrap();
    assert!(
        extra.contains("n=10") && extra.contains("half the p5–p95 spread"),
        "{extra}"
    );
    assert!(!extra.contains("baseline"), "{extra}");
    assert_eq!(entries[3]["name"], "app full_capacity");
    assert_eq!(entries[3]["value"].as_f64(), Some(7500.123));
    assert_eq!(entries[3]["range"], "± 1000");
}

#[test]
fn gab_with_a_comparison_says_base_to_new_and_the_verdict() {
    let report = report();
    let value = json(&render_gab(&rows(), Some(&report)));
    let extra = value[0]["extra"].as_str().unwrap();
    assert!(
        extra.contains("baseline 1.20 s → new 1.35 s, +12.3 %, regressed"),
        "{extra}"
    );
    let improved = value[2]["extra"].as_str().unwrap();
    assert!(improved.contains("−20.0 %, improved"), "{improved}");
    assert_eq!(json(&render_gab(&[], Some(&report))), serde_json::json!([]));
}

#[test]
fn bmf_matches_the_documented_shape() {
    let text = render_bmf(&rows());
    let value = json(&text);
    let benchmarks = value.as_object().expect("an object of benchmarks");
    assert_eq!(benchmarks.len(), 2);
    let pull = &value["full-like"]["pull"];
    assert_eq!(pull["value"].as_f64(), Some(1_350_000_000.0));
    assert_eq!(pull["lower_value"].as_f64(), Some(1_210_000_000.0));
    assert_eq!(pull["upper_value"].as_f64(), Some(1_451_000_000.0));
    assert_eq!(value["full-like"].as_object().unwrap().len(), 2);
    let full = &value["app"]["full_capacity"];
    assert_eq!(full["value"].as_f64(), Some(7_500_123_000.0));
    for measures in benchmarks.values() {
        for metric in measures.as_object().unwrap().values() {
            let m = metric.as_object().unwrap();
            assert!(m
                .keys()
                .all(|k| ["value", "lower_value", "upper_value"].contains(&k.as_str())));
            assert!(m.values().all(serde_json::Value::is_number));
        }
    }
    // Variants keep the run's order.
    assert!(text.find("\"full-like\"") < text.find("\"app\""), "{text}");
    assert_eq!(json(&render_bmf(&[])), serde_json::json!({}));
}

// ---- rows of a real run ----

fn fixture(name: &str) -> crate::results::RunRecord {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    serde_json::from_str(&text).expect("fixture is a RunRecord")
}

#[test]
fn metric_rows_cover_every_metric_with_values() {
    let record = fixture("run-burst");
    let rows = metric_rows(&record);
    for v in &record.variants {
        for m in Metric::ALL {
            let values = crate::compare::values(&record, &v.name, m);
            let row = rows.iter().find(|r| r.variant == v.name && r.metric == m);
            assert_eq!(row.is_some(), !values.is_empty(), "{} {m}", v.name);
            if let Some(r) = row {
                assert_eq!(r.n, values.len());
                assert!(
                    r.lower_us <= r.median_us && r.median_us <= r.upper_us,
                    "{r:?}"
                );
            }
        }
    }
    assert!(rows.iter().any(|r| matches!(r.metric, Metric::Burst(_))));
    let quickstart = metric_rows(&fixture("run-quickstart"));
    assert!(!quickstart.is_empty());
    assert!(quickstart
        .iter()
        .all(|r| matches!(r.metric, Metric::Phase(_))));
}

// ---- no panics, and the shared words ----

#[test]
fn odd_numbers_render_without_panicking() {
    let mut r = report();
    r.differences.clear();
    r.only_in_base.clear();
    for (c, ratio) in r
        .cells
        .iter_mut()
        .zip([f64::NAN, f64::INFINITY, 1e300, -1.0, 0.0])
    {
        c.ratio = Some(ratio);
        c.ci = Some((f64::NEG_INFINITY, f64::NAN));
        c.p_adjusted = Some(f64::NAN);
        c.base_median_us = Some(u64::MAX);
        c.base_n = usize::MAX;
    }
    let rows = vec![MetricRow {
        variant: String::new(),
        metric: PULL,
        median_us: u64::MAX,
        lower_us: u64::MAX,
        upper_us: 0,
        n: 0,
    }];
    let text = render_terminal(&r, &[]);
    assert!(
        text.contains("+1.0e302 %") && text.contains("verdict: "),
        "{text}"
    );
    render_markdown(&r, &[]);
    roxmltree::Document::parse(&render_junit(Some(&r), &[])).unwrap();
    json(&render_gab(&rows, Some(&r)));
    json(&render_bmf(&rows));

    let empty = CompareReport {
        cells: vec![],
        ..report()
    };
    let text = render_terminal(&empty, &[]);
    assert!(text.contains("no variant × metric has samples"), "{text}");
    assert!(text.ends_with("verdict: 0 regressed, 0 improved, 0 unchanged; no thresholds\n"));
    assert!(render_markdown(&empty, &[]).contains("No variant × metric has samples"));
}

#[test]
fn changes_and_p_values_read_as_documented() {
    assert_eq!(words::change(Some(1.123)), "+12.3 %");
    assert_eq!(words::change(Some(0.96)), "−4.0 %");
    assert_eq!(words::change(Some(1.0)), "0.0 %");
    assert_eq!(words::change(Some(0.99999)), "0.0 %");
    assert_eq!(words::change(Some(f64::NAN)), "—");
    assert_eq!(words::change(None), "—");
    assert_eq!(words::interval(Some((1.081, 1.169))), "[+8.1 %, +16.9 %]");
    assert_eq!(words::p_value(Some(0.000_05)), "<0.001");
    assert_eq!(words::p_value(Some(0.001)), "0.00100");
    assert_eq!(words::p_value(Some(0.012_34)), "0.0123");
    assert_eq!(words::p_value(Some(0.5)), "0.500");
    assert_eq!(words::p_value(Some(1.0)), "1.00");
    assert_eq!(words::p_value(Some(-0.1)), "—");
    assert_eq!(
        words::verdict(Verdict::TooFewSamples { have: 3, need: 5 }),
        "too few samples (n=3, need 5)"
    );
    assert_eq!(words::short_commit("1a2b3c4d5e"), "1a2b3c4");
}

#[test]
fn a_move_inside_the_noise_band_says_so() {
    let mut c = cell(
        "app",
        PULL,
        (10, 25_000),
        (10, 40_000),
        Some((1.37, 1.94)),
        Some((0.0001, 0.001)),
        Verdict::NoChange,
    );
    c.noise_band = Some(1.31);
    assert_eq!(words::cell_verdict(&c), "no change (within ±131 % noise)");
    c.ci = Some((0.9, 1.2));
    assert_eq!(words::cell_verdict(&c), "no change");
    c.verdict = Verdict::Regressed;
    assert_eq!(words::cell_verdict(&c), "regressed");
}
