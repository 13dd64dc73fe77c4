//! Threshold tests: the grammar (valid and invalid expressions, both forms) and evaluation on
//! a small hand-made run.

use std::time::Duration;

use super::*;
use crate::compare::metric::{Metric, Milestone};
use crate::results::{BurstRecord, Outcome, Phase, PhaseTimes, RunRecord, Sample};

mod eval_tests;
mod proptests;

fn ok(expr: &str) -> Threshold {
    parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// The column and message of `expr`'s error.
fn bad(expr: &str) -> (usize, String) {
    let e = parse(expr).expect_err(expr);
    assert_eq!(e.part, Part::Expression, "{expr}");
    (e.column, e.message)
}

fn ms(n: u64) -> Limit {
    Limit::Duration {
        duration: Duration::from_millis(n),
        number: String::new(),
        unit: String::new(),
    }
}

/// `t`'s limit as a duration.
fn duration_of(t: &Threshold) -> Duration {
    match t.limit {
        Limit::Duration { duration, .. } => duration,
        Limit::Relative(_) => panic!("{t} is relative"),
    }
}

const TOTAL: Metric = Metric::Phase(Phase::Total);

#[test]
fn the_command_line_form_parses() {
    let t = ok("p95(total)<2s");
    assert_eq!(t.metric, TOTAL);
    assert_eq!(t.aggregation, Aggregation::Percentile(95.0));
    assert_eq!(t.op, Op::Lt);
    assert_eq!(duration_of(&t), Duration::from_secs(2));
    assert_eq!(t.variant, None);
    assert!(!t.is_relative());
    assert_eq!(t.to_string(), "p95(total)<2s");
    assert_eq!(t.condition(), "< 2 s");

    let t = ok("  p50 ( pull ) <= 800 ms ");
    assert_eq!(t.metric, Metric::Phase(Phase::Pull));
    assert_eq!(
        (t.aggregation, t.op),
        (Aggregation::Percentile(50.0), Op::Le)
    );
    assert_eq!(duration_of(&t), Duration::from_millis(800));
    assert_eq!(
        t.to_string(),
        "  p50 ( pull ) <= 800 ms ",
        "kept as written"
    );
    assert_eq!(t.canonical(), "p50(pull)<=800ms");
}

#[test]
fn every_aggregation_and_operator_parses() {
    let cases = [
        ("max(first_request)<50ms", Aggregation::Max, Op::Lt),
        ("avg(start)>1s", Aggregation::Avg, Op::Gt),
        ("med(total)>=3s", Aggregation::Med, Op::Ge),
        ("min(create)==1ms", Aggregation::Min, Op::Eq),
        ("p99.9(total)!=1ms", Aggregation::Percentile(99.9), Op::Ne),
        ("p0(total)<1ms", Aggregation::Percentile(0.0), Op::Lt),
        ("p100(total)<1ms", Aggregation::Percentile(100.0), Op::Lt),
    ];
    for (expr, aggregation, op) in cases {
        let t = ok(expr);
        assert_eq!((t.aggregation, t.op), (aggregation, op), "{expr}");
    }
}

#[test]
fn durations_take_every_unit_and_decimals() {
    let cases = [
        ("1.5s", Duration::from_millis(1500)),
        ("100ns", Duration::from_nanos(100)),
        ("500us", Duration::from_micros(500)),
        ("500µs", Duration::from_micros(500)),
        ("500μs", Duration::from_micros(500)),
        ("0.25ms", Duration::from_micros(250)),
        ("2m", Duration::from_secs(120)),
        ("1h", Duration::from_secs(3600)),
        ("1.5 s", Duration::from_millis(1500)),
    ];
    for (limit, duration) in cases {
        assert_eq!(
            duration_of(&ok(&format!("p95(total)<{limit}"))),
            duration,
            "{limit}"
        );
    }
    assert_eq!(ok("p95(total)<1.5s").condition(), "< 1.5 s", "not rounded");
    assert_eq!(ms(2).value(), 2000.0, "limits compare in µs");
}

#[test]
fn milestones_need_no_aggregation() {
    let t = ok("full_capacity<8s");
    assert_eq!(t.metric, Metric::Burst(Milestone::FullCapacity));
    assert_eq!(t.aggregation, Aggregation::Med);
    assert_eq!(t.canonical(), "med(full_capacity)<8s");
    let t = ok("p95(full_capacity)<10s");
    assert_eq!(t.aggregation, Aggregation::Percentile(95.0));
    let t = ok("first_ready { variant : big } < 1s");
    assert_eq!(t.metric, Metric::Burst(Milestone::FirstReady));
    assert_eq!(t.variant.as_deref(), Some("big"));
}

#[test]
fn a_tag_filter_names_one_variant() {
    let t = ok("p95(total{variant:slim})<2s");
    assert_eq!(t.variant.as_deref(), Some("slim"));
    assert_eq!(t.canonical(), "p95(total{variant:slim})<2s");
    let t = ok("p95( total { variant: static-like.v_2 } )<2s");
    assert_eq!(t.variant.as_deref(), Some("static-like.v_2"));
}

#[test]
fn relative_limits_have_a_sign_and_percent() {
    let t = ok("p50(pull)<+10%");
    assert!(t.is_relative());
    assert_eq!(t.limit, Limit::Relative(10.0));
    assert_eq!(t.condition(), "< +10 %");
    let t = ok("p95(total)<=-5%");
    assert_eq!(t.limit, Limit::Relative(-5.0));
    assert_eq!(ok("p95(total)< +12.5 %").limit, Limit::Relative(12.5));
    assert_eq!(ok("p95(total)<+12.5%").canonical(), "p95(total)<+12.5%");
}

#[test]
fn invalid_expressions_say_where_and_what() {
    let ops = "expected one of <, <=, >, >=, ==, !=";
    let units = "ns, us, µs, ms, s, m, h";
    let metrics =
        "pull, create, start, first_request, total, first_ready, half_capacity, full_capacity";
    let cases: &[(&str, usize, &str)] = &[
        ("p95(total)=2s", 11, &format!("{ops}, found \"=\"")),
        ("p95(total) 2s", 12, &format!("{ops}, found \"2\"")),
        ("p95(pul)<2s", 5, &format!("unknown metric \"pul\"; expected one of {metrics}")),
        ("p95(total)<2000", 16, &format!("2000 has no unit: add one of {units} (k6 reads a bare number as milliseconds; coldbench asks you to say it)")),
        ("p95(total)<2parsecs", 13, &format!("unknown unit \"parsecs\"; expected one of {units}")),
        ("p(95)(total)<2s", 1, "k6's p(95) belongs to the keyed form; here write p95(total)<2s"),
        ("q95(total)<2s", 1, "unknown aggregation \"q95\"; expected one of min, max, avg, med, pNN (e.g. p95, p99.9)"),
        ("(total)<2s", 1, "expected an aggregation (min, max, avg, med, pNN) before \"(\""),
        ("p101(total)<2s", 2, "percentile 101 is out of range: expected 0 to 100"),
        ("p9.9.9(total)<2s", 2, "expected a percentile from 0 to 100 (e.g. 95, 99.9), found \"9.9.9\""),
        ("total<2s", 1, "total has one value per sample: aggregate it, e.g. p95(total)<2s"),
        ("p95<2s", 4, "expected \"(\" after p95, found \"<\""),
        ("p95(total<2s", 10, "expected \")\" after the metric, found \"<\""),
        ("p95()<2s", 5, &format!("expected a metric ({metrics}), found \")\"")),
        ("p95(total{name:x})<2s", 11, "expected the tag variant, as in {variant:slim}, found \"name\""),
        ("p95(total{variant slim})<2s", 19, "expected \":\" after variant, as in {variant:slim}, found \"s\""),
        ("p95(total{variant:})<2s", 19, "expected a variant name (letters, digits, '.', '_', '-'), found \"}\""),
        ("p95(total{variant:a b})<2s", 21, "expected \"}\" after the variant name, found \"b\""),
        ("p50(pull)<10%", 11, "a change from the baseline needs a sign: +10% (at most that much slower) or -10%"),
        ("p50(pull)<+10ms", 11, "a signed limit is a change from the baseline and ends with %, e.g. +10%; write a duration without a sign"),
        ("p50(pull)<-2s", 11, "a signed limit is a change from the baseline and ends with %, e.g. -2%; write a duration without a sign"),
        ("p50(pull)<1.2.3s", 11, "malformed number \"1.2.3\": write digits with at most one '.', e.g. 1.5"),
        ("p50(pull)<.5s", 11, "malformed number \".5\": write digits with at most one '.', e.g. 1.5"),
        ("p50(pull)<", 11, "expected a limit: a duration such as 2s or 800ms, or a change from the baseline such as +10%; found the end"),
        ("p50(pull)<2s and more", 14, "unexpected \"and more\" after the limit; expected the end of the expression"),
        ("p50(pull)<99999999999999999999999h", 11, "99999999999999999999999h is too long a duration"),
        ("", 1, "expected an aggregation with a metric, e.g. p95(total), or a burst milestone (first_ready, half_capacity, full_capacity), found the end"),
        ("P95(total)<2s", 1, "unknown aggregation \"P95\"; expected one of min, max, avg, med, pNN (e.g. p95, p99.9)"),
    ];
    for &(expr, column, message) in cases {
        assert_eq!(bad(expr), (column, message.to_string()), "{expr}");
    }
}

#[test]
fn long_input_is_refused_at_the_bound() {
    let long = format!("p95(total)<2s{}", " ".repeat(300));
    let (column, message) = bad(&long);
    assert_eq!(column, MAX_EXPRESSION_CHARS + 1);
    assert!(message.contains("longer than 256 characters"), "{message}");
    ok(&format!("p95(total)<2s{}", " ".repeat(256 - 13)));
}

#[test]
fn errors_display_their_column() {
    let e = parse("p95(pul)<2s").unwrap_err().to_string();
    assert!(e.starts_with("column 5: unknown metric \"pul\";"), "{e}");
    let e = parse_keyed("totl", "p95<2s").unwrap_err().to_string();
    assert!(
        e.starts_with("key, column 1: unknown metric \"totl\";"),
        "{e}"
    );
}

#[test]
fn the_keyed_form_parses() {
    let t = parse_keyed("total", "p(95)<2s").unwrap();
    let cli = ok("p95(total)<2s");
    assert_eq!(
        (t.metric, t.aggregation, t.op, &t.limit, &t.variant),
        (
            cli.metric,
            cli.aggregation,
            cli.op,
            &cli.limit,
            &cli.variant
        )
    );
    assert_eq!(t.to_string(), "total: p(95)<2s");
    assert_eq!(t.canonical(), "p95(total)<2s");

    let t = parse_keyed(" total{variant:slim} ", " p95 < +10% ").unwrap();
    assert_eq!(t.variant.as_deref(), Some("slim"));
    assert_eq!(t.limit, Limit::Relative(10.0));
    assert_eq!(t.to_string(), "total{variant:slim}: p95 < +10%");

    let t = parse_keyed("full_capacity", "<8s").unwrap();
    assert_eq!(
        (t.metric, t.aggregation),
        (Metric::Burst(Milestone::FullCapacity), Aggregation::Med)
    );
    let t = parse_keyed("pull", "med<=800ms").unwrap();
    assert_eq!((t.aggregation, t.op), (Aggregation::Med, Op::Le));
    let t = parse_keyed("first_ready", "p( 99.9 )>1s").unwrap();
    assert_eq!(t.aggregation, Aggregation::Percentile(99.9));
}

#[test]
fn invalid_keyed_forms_say_where_and_what() {
    let cases: &[(&str, &str, Part, usize, &str)] = &[
        ("total", "<2s", Part::Expression, 1, "total has one value per sample: start with an aggregation (min, max, avg, med, pNN), e.g. p95<2s"),
        ("total", "p95(total)<2s", Part::Expression, 4, "the key names the metric: write only the aggregation and the condition, e.g. p95<2s"),
        ("total", "p(95<2s", Part::Expression, 5, "expected \")\" after the percentile, as in p(95), found \"<\""),
        ("total", "p(>2s", Part::Expression, 3, "expected a percentile from 0 to 100 (e.g. 95, 99.9), found \"\""),
        ("total", "p95<2", Part::Expression, 6, "2 has no unit: add one of ns, us, µs, ms, s, m, h (k6 reads a bare number as milliseconds; coldbench asks you to say it)"),
        ("total x", "p95<2s", Part::Key, 7, "unexpected \"x\" after the metric; expected the end of the key"),
        ("total{variant:x", "p95<2s", Part::Key, 16, "expected \"}\" after the variant name, found the end"),
        ("", "p95<2s", Part::Key, 1, "expected a metric (pull, create, start, first_request, total, first_ready, half_capacity, full_capacity), found the end"),
    ];
    for &(key, expr, part, column, message) in cases {
        let e = parse_keyed(key, expr).expect_err(expr);
        assert_eq!(
            (e.part, e.column, e.message.as_str()),
            (part, column, message),
            "{key} {expr}"
        );
    }
}

/// A successful, cold, measured sample of `variant` whose total is `total_us` (pull half).
pub(super) fn sample(variant: &str, total_us: u64) -> Sample {
    Sample {
        index: 0,
        repetition: 0,
        variant: variant.into(),
        warmup: false,
        node: 0,
        started_at: String::new(),
        phases: PhaseTimes {
            pull_us: Some(total_us / 2),
            create_us: Some(10),
            start_us: Some(20),
            first_request_us: Some(30),
            total_us: Some(total_us),
        },
        blob_bytes: 0,
        manifest_bytes: 0,
        expected_bytes: 0,
        cold: true,
        layers: vec![],
        outcome: Outcome::Ok,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: None,
        pod: None,
        registry: None,
        probe: None,
    }
}

/// A measured burst of `variant` reaching full capacity after `full_us`.
pub(super) fn burst(variant: &str, full_us: Option<u64>) -> BurstRecord {
    BurstRecord {
        index: 0,
        repetition: 0,
        variant: variant.into(),
        warmup: false,
        nodes: 1,
        replicas: 2,
        first_ready_us: full_us.map(|us| us / 2),
        half_ready_us: full_us.map(|us| us / 2),
        full_ready_us: full_us,
        capacity_seconds_lost: 0.0,
        node_blob_bytes: vec![],
        floor_us: None,
    }
}

/// A run `id` with `variants` (in that order), `samples` and no bursts, on the quickstart
/// fixture's context.
pub(super) fn run(id: &str, variants: &[&str], samples: Vec<Sample>) -> RunRecord {
    let path = format!(
        "{}/tests/fixtures/run-quickstart.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut record: RunRecord = serde_json::from_str(&text).unwrap();
    let template = record.variants[0].clone();
    record.run_id = id.into();
    record.variants = variants
        .iter()
        .map(|name| {
            let mut v = template.clone();
            v.name = name.to_string();
            v
        })
        .collect();
    record.samples = samples;
    record.bursts = vec![];
    record
}
