//! The comparison on records built from a real quickstart run: samples copied and scaled, so
//! the expected verdicts are known.

use super::*;
use crate::results::{Phase, Sample};

fn quickstart() -> RunRecord {
    let path = format!(
        "{}/tests/fixtures/run-quickstart.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `record` with every sample repeated to `per_variant` samples per variant, each phase
/// multiplied by `scale(variant)` and jittered by ±`jitter` (deterministic).
fn grown(
    record: &RunRecord,
    per_variant: usize,
    scale: impl Fn(&str) -> f64,
    jitter: f64,
) -> RunRecord {
    let mut out = record.clone();
    let originals = record.samples.clone();
    out.samples = (0..per_variant * record.variants.len())
        .map(|i| {
            let mut s: Sample = originals[i % originals.len()].clone();
            let wobble = 1.0 + jitter * (((i * 7919) % 13) as f64 / 6.0 - 1.0);
            let factor = scale(&s.variant) * wobble;
            let p = &mut s.phases;
            for v in [
                &mut p.pull_us,
                &mut p.create_us,
                &mut p.start_us,
                &mut p.first_request_us,
                &mut p.total_us,
            ] {
                *v = v.map(|us| (us as f64 * factor) as u64);
            }
            s.index = i;
            s
        })
        .collect();
    out
}

fn cell<'a>(report: &'a CompareReport, variant: &str, metric: Metric) -> &'a Cell {
    report
        .cells
        .iter()
        .find(|c| c.variant == variant && c.metric == metric)
        .unwrap()
}

#[test]
fn the_same_samples_are_no_change_in_every_cell() {
    let base = grown(&quickstart(), 10, |_| 1.0, 0.02);
    let new = grown(&quickstart(), 10, |_| 1.0, 0.02);
    let report = compare(&base, &new, &CompareOptions::default());
    assert_eq!(report.cells.len(), 2 * 5, "five phases of two variants");
    for c in &report.cells {
        assert_eq!(c.verdict, Verdict::NoChange, "{c:?}");
        let (low, high) = c.ci.unwrap();
        assert!(low <= 1.0 && 1.0 <= high, "{c:?}");
    }
    assert!(report.differences.is_empty());
}

#[test]
fn a_variant_half_again_as_slow_regressed_and_the_other_did_not() {
    let base = grown(&quickstart(), 10, |_| 1.0, 0.02);
    let new = grown(
        &quickstart(),
        10,
        |v| if v == "full-like" { 1.5 } else { 1.0 },
        0.02,
    );
    let report = compare(&base, &new, &CompareOptions::default());
    let pull = cell(&report, "full-like", Metric::Phase(Phase::Pull));
    assert_eq!(pull.verdict, Verdict::Regressed, "{pull:?}");
    assert!((1.4..1.6).contains(&pull.ratio.unwrap()));
    assert!(pull.p_adjusted.unwrap() < 0.05);
    assert!(pull.p_adjusted.unwrap() >= pull.p_value.unwrap());
    let other = cell(&report, "static-like", Metric::Phase(Phase::Pull));
    assert_eq!(other.verdict, Verdict::NoChange);
    // Half again as slow everywhere, but create (0.23 s of a 5.7 s cold start) grows by less
    // than 5 % of the cold start: inside the noise band. Pull and total are far beyond it.
    let regressed: Vec<&str> = report.regressions().map(|c| c.metric.name()).collect();
    assert_eq!(regressed, ["pull", "total"]);
    let create = cell(&report, "full-like", Metric::Phase(Phase::Create));
    assert!(
        create.p_adjusted.unwrap() < 0.05 && create.ci.unwrap().0 > 1.2,
        "{create:?}"
    );
    assert_eq!(create.verdict, Verdict::NoChange);
    let total = cell(&report, "full-like", Metric::Phase(Phase::Total))
        .base_median_us
        .unwrap();
    let expected = 0.05 * total as f64 / create.base_median_us.unwrap() as f64;
    assert!(
        (create.noise_band.unwrap() - expected).abs() < 1e-9,
        "{create:?}"
    );
    let faster = compare(&new, &base, &CompareOptions::default());
    assert_eq!(
        cell(&faster, "full-like", Metric::Phase(Phase::Total)).verdict,
        Verdict::Improved
    );
}

/// `record`'s first variant with 20 distinct totals spread over 2 %, each times `factor`.
fn spread_totals(record: &RunRecord, factor: f64) -> RunRecord {
    let mut out = grown(record, 20, |_| 1.0, 0.0);
    let first = out.variants[0].name.clone();
    for (i, s) in out
        .samples
        .iter_mut()
        .filter(|s| s.variant == first)
        .enumerate()
    {
        s.phases.total_us = Some(((1_000_000 + 1_000 * i as u64) as f64 * factor) as u64);
    }
    out
}

#[test]
fn a_significant_change_inside_the_noise_band_is_no_change() {
    let base = spread_totals(&quickstart(), 1.0);
    let new = spread_totals(&quickstart(), 1.03);
    let report = compare(&base, &new, &CompareOptions::default());
    let total = cell(&report, "full-like", Metric::Phase(Phase::Total));
    assert!(total.p_adjusted.unwrap() < 0.05, "{total:?}");
    let (low, high) = total.ci.unwrap();
    assert!(1.01 < low && high < 1.05, "{total:?}");
    assert_eq!(total.verdict, Verdict::NoChange);
    let strict = CompareOptions {
        noise: 0.01,
        ..CompareOptions::default()
    };
    let report = compare(&base, &new, &strict);
    assert_eq!(
        cell(&report, "full-like", Metric::Phase(Phase::Total)).verdict,
        Verdict::Regressed
    );
}

#[test]
fn too_few_samples_get_no_verdict_and_say_the_minimum() {
    let base = quickstart();
    let new = grown(&quickstart(), 3, |_| 2.0, 0.0);
    let report = compare(&base, &new, &CompareOptions::default());
    for c in &report.cells {
        assert_eq!(
            c.verdict,
            Verdict::TooFewSamples {
                have: 3,
                need: MIN_SAMPLES
            }
        );
        assert_eq!((c.p_value, c.ci), (None, None));
        assert!(c.ratio.is_some());
    }
}

#[test]
fn variants_on_one_side_are_listed_and_context_differences_said() {
    let base = quickstart();
    let mut new = quickstart();
    new.variants[1].name = "renamed".into();
    for s in new
        .samples
        .iter_mut()
        .filter(|s| s.variant == "static-like")
    {
        s.variant = "renamed".into();
    }
    new.engine.version = Some("99.0".into());
    new.network.latency_us = 20_000;
    let report = compare(&base, &new, &CompareOptions::default());
    assert_eq!(report.only_in_base, ["static-like"]);
    assert_eq!(report.only_in_new, ["renamed"]);
    assert!(report.cells.iter().all(|c| c.variant == "full-like"));
    assert_eq!(report.differences.len(), 2, "{:?}", report.differences);
    assert!(report.differences[0].starts_with("engine version differs: baseline 20.10"));
    assert!(report.differences[1].contains("latency differs"));
}

#[test]
fn burst_milestones_compare_only_when_both_runs_have_bursts() {
    let path = format!(
        "{}/tests/fixtures/run-burst.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let burst: RunRecord = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let report = compare(&burst, &burst, &CompareOptions::default());
    let full = cell(&report, "big", Metric::Burst(Milestone::FullCapacity));
    assert_eq!(full.base_n, 2);
    assert_eq!(
        full.verdict,
        Verdict::TooFewSamples {
            have: 2,
            need: MIN_SAMPLES
        }
    );
    let mut single = burst.clone();
    single.bursts.clear();
    let report = compare(&single, &burst, &CompareOptions::default());
    assert!(report
        .cells
        .iter()
        .all(|c| matches!(c.metric, Metric::Phase(_))));
}

#[test]
fn the_report_round_trips_through_json() {
    let base = grown(&quickstart(), 6, |_| 1.0, 0.02);
    let report = compare(&base, &base, &CompareOptions::default());
    let text = serde_json::to_string(&report).unwrap();
    assert!(
        text.contains(r#""metric":{"kind":"phase","name":"pull"}"#),
        "{text}"
    );
    let back: CompareReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);
}

#[test]
fn every_variant_slower_alike_warns_about_the_host() {
    let base = grown(&quickstart(), 10, |_| 1.0, 0.02);
    let new = grown(&quickstart(), 10, |_| 1.5, 0.02);
    let report = compare(&base, &new, &CompareOptions::default());
    assert_eq!(
        report
            .regressions()
            .filter(|c| c.metric.name() == "total")
            .count(),
        2
    );
    let warning = report.differences.last().unwrap();
    assert!(
        warning.starts_with("every variant's total regressed (+50 % to +50 %)"),
        "{warning}"
    );
    let one = grown(
        &quickstart(),
        10,
        |v| if v == "full-like" { 1.5 } else { 1.0 },
        0.02,
    );
    assert!(compare(&base, &one, &CompareOptions::default())
        .differences
        .is_empty());
}
