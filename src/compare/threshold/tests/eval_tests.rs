//! `evaluate` on small hand-made runs (values under 2048 µs, so the histogram is exact).

use super::*;

fn thresholds(exprs: &[&str]) -> Vec<Threshold> {
    exprs.iter().map(|e| ok(e)).collect()
}

/// `slim` with totals 1000, 1500, 2000 µs; `fat` with 1800, 1900 µs.
fn new_run() -> RunRecord {
    let samples = vec![
        sample("slim", 1000),
        sample("fat", 1800),
        sample("slim", 1500),
        sample("fat", 1900),
        sample("slim", 2000),
    ];
    run("new", &["slim", "fat"], samples)
}

/// `slim` with totals of 1000 µs, no `fat`.
fn base_run() -> RunRecord {
    run("base", &["slim"], vec![sample("slim", 1000); 3])
}

#[test]
fn absolute_thresholds_apply_to_every_variant_in_run_order() {
    let out = evaluate(&thresholds(&["p50(total)<1.6ms"]), &new_run(), None);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].variant, "slim");
    assert_eq!(out[0].expression, "p50(total)<1.6ms");
    assert_eq!(out[0].measured.as_deref(), Some("1.5 ms"));
    assert_eq!(out[0].measured_value, Some(1500.0));
    assert_eq!(out[0].limit, "< 1.6 ms");
    assert_eq!(out[0].status, Status::Passed);
    assert!(!out[0].failed());
    assert_eq!(out[1].variant, "fat");
    assert_eq!(out[1].measured_value, Some(1800.0), "lower middle of two");
    assert_eq!(out[1].status, Status::Failed);
}

#[test]
fn aggregations_use_the_summary_definitions() {
    let exprs = [
        "min(total)==1ms",
        "max(total)==2ms",
        "avg(total)==1.5ms",
        "p100(total)==2ms",
        "med(pull)==750us",
    ];
    let out = evaluate(&thresholds(&exprs), &new_run(), None);
    let slim: Vec<_> = out.iter().filter(|o| o.variant == "slim").collect();
    for o in slim {
        assert_eq!(o.status, Status::Passed, "{o:?}");
    }
}

#[test]
fn a_variant_filter_checks_only_that_variant() {
    let out = evaluate(
        &thresholds(&["p95(total{variant:fat})<=1.9ms"]),
        &new_run(),
        None,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].variant.as_str(), &out[0].status),
        ("fat", &Status::Passed)
    );
}

#[test]
fn a_filter_naming_no_variant_is_no_data_listing_the_variants() {
    let out = evaluate(
        &thresholds(&["p95(total{variant:thin})<2s"]),
        &new_run(),
        None,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].variant, "thin");
    assert_eq!(
        out[0].status,
        Status::NoData {
            reason: "run new has no variant \"thin\"; its variants are: slim, fat".into()
        }
    );
    assert!(out[0].failed());
    assert_eq!(out[0].measured, None);
}

#[test]
fn relative_thresholds_compare_with_the_baseline() {
    let t = thresholds(&[
        "p50(total{variant:slim})<+10%",
        "p50(total{variant:slim})<=+50%",
    ]);
    let (new, base) = (new_run(), base_run());
    let out = evaluate(&t, &new, Some(&base));
    assert_eq!(out[0].measured.as_deref(), Some("+50.0 %"));
    assert_eq!(out[0].measured_value, Some(50.0));
    assert_eq!(out[0].limit, "< +10 %");
    assert_eq!(out[0].status, Status::Failed);
    assert_eq!(out[1].status, Status::Passed);
}

#[test]
fn relative_thresholds_without_a_baseline_value_have_no_data() {
    let t = thresholds(&["p50(total)<+10%"]);
    let new = new_run();
    let out = evaluate(&t, &new, None);
    let reason = |o: &ThresholdOutcome| match &o.status {
        Status::NoData { reason } => reason.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(&out[0]),
        "a change from the baseline needs a baseline run; none was given"
    );
    let base = base_run();
    let out = evaluate(&t, &new, Some(&base));
    assert_eq!(out[0].status, Status::Failed, "slim: +50 % is not < +10 %");
    assert_eq!(
        reason(&out[1]),
        "the baseline run base has no variant \"fat\""
    );
    let mut empty = base_run();
    empty.variants = new.variants.clone();
    empty.samples.clear();
    let out = evaluate(&t, &new, Some(&empty));
    assert_eq!(
        reason(&out[0]),
        "baseline: no total time for variant \"slim\" in run base: no successful, cold, measured sample"
    );
}

#[test]
fn burst_milestones_use_the_measured_bursts() {
    let t = thresholds(&["full_capacity<1.1ms", "p95(full_capacity)<1.1ms"]);
    let mut new = new_run();
    let out = evaluate(&t, &new, None);
    assert_eq!(
        out[0].status,
        Status::NoData {
            reason: "run new has no measured burst of variant \"slim\"; full_capacity is a burst milestone".into()
        }
    );
    new.bursts = vec![
        burst("slim", Some(1000)),
        burst("slim", Some(1200)),
        burst("fat", None),
    ];
    let mut warmup = burst("slim", Some(9000));
    warmup.warmup = true;
    new.bursts.push(warmup);
    let out = evaluate(&t, &new, None);
    assert_eq!(
        (out[0].variant.as_str(), out[0].measured_value),
        ("slim", Some(1000.0))
    );
    assert_eq!(out[0].status, Status::Passed);
    assert_eq!(out[1].variant, "fat");
    assert_eq!(
        out[1].status,
        Status::NoData {
            reason: "no measured burst of variant \"fat\" in run new reached full_capacity".into()
        }
    );
    assert_eq!(
        (out[2].measured_value, &out[2].status),
        (Some(1200.0), &Status::Failed)
    );
}

#[test]
fn long_durations_read_in_seconds() {
    let new = run("new", &["slim"], vec![sample("slim", 1_840_000)]);
    let out = evaluate(&thresholds(&["max(total)<2s"]), &new, None);
    assert_eq!(out[0].measured.as_deref(), Some("1.84 s"));
    assert_eq!(out[0].limit, "< 2 s");
    assert_eq!(out[0].status, Status::Passed);
}
