//! Checking thresholds on a run, and relative ones against a baseline run.

use std::time::Duration;

use super::expr::{Aggregation, Limit, Threshold};
use super::{Status, ThresholdOutcome};
use crate::analysis::percentile::{histogram_of, percentile, summary_of};
use crate::compare::metric::Metric;
use crate::compare::values::values;
use crate::results::RunRecord;
use crate::units::format_duration;

/// Checks every threshold on every variant of `new` it applies to (in threshold order, then
/// the run's variant order). Relative thresholds compare with the same aggregation of the same
/// variant in `base`. Anything that cannot be checked is [`Status::NoData`] with the reason.
pub fn evaluate(
    thresholds: &[Threshold],
    new: &RunRecord,
    base: Option<&RunRecord>,
) -> Vec<ThresholdOutcome> {
    thresholds
        .iter()
        .flat_map(|t| evaluate_one(t, new, base))
        .collect()
}

/// One threshold on the variants it applies to.
fn evaluate_one(t: &Threshold, new: &RunRecord, base: Option<&RunRecord>) -> Vec<ThresholdOutcome> {
    let names: Vec<&str> = new.variants.iter().map(|v| v.name.as_str()).collect();
    match &t.variant {
        Some(v) if names.contains(&v.as_str()) => vec![check(t, v, new, base)],
        Some(v) => {
            let reason = format!(
                "run {} has no variant {v:?}; its variants are: {}",
                new.run_id,
                names.join(", ")
            );
            vec![outcome(t, v, Err(reason))]
        }
        None if names.is_empty() => {
            vec![outcome(
                t,
                "",
                Err(format!("run {} has no variants", new.run_id)),
            )]
        }
        None => names.iter().map(|v| check(t, v, new, base)).collect(),
    }
}

/// One threshold on one variant.
fn check(
    t: &Threshold,
    variant: &str,
    new: &RunRecord,
    base: Option<&RunRecord>,
) -> ThresholdOutcome {
    outcome(t, variant, measure(t, variant, new, base))
}

/// The outcome of `t` on `variant` given its measurement (shown text and value) or why there
/// is none.
fn outcome(
    t: &Threshold,
    variant: &str,
    measured: Result<(String, f64), String>,
) -> ThresholdOutcome {
    let (measured, measured_value, status) = match measured {
        Ok((text, value)) => {
            let status = if t.op.holds(value, t.limit.value()) {
                Status::Passed
            } else {
                Status::Failed
            };
            (Some(text), Some(value), status)
        }
        Err(reason) => (None, None, Status::NoData { reason }),
    };
    ThresholdOutcome {
        expression: t.to_string(),
        variant: variant.to_string(),
        measured,
        measured_value,
        limit: t.condition(),
        status,
    }
}

/// The value `t` compares with its limit, as shown and as a number (µs or percent).
fn measure(
    t: &Threshold,
    variant: &str,
    new: &RunRecord,
    base: Option<&RunRecord>,
) -> Result<(String, f64), String> {
    let now = aggregate(t, new, variant)?;
    if let Limit::Duration { .. } = t.limit {
        return Ok((show_us(now), now));
    }
    let base = base.ok_or("a change from the baseline needs a baseline run; none was given")?;
    if !base.variants.iter().any(|v| v.name == variant) {
        return Err(format!(
            "the baseline run {} has no variant {variant:?}",
            base.run_id
        ));
    }
    let before = aggregate(t, base, variant).map_err(|reason| format!("baseline: {reason}"))?;
    if before <= 0.0 {
        return Err(format!(
            "the baseline's {} of {} is 0: no relative change",
            t.aggregation, t.metric
        ));
    }
    let change = (now / before - 1.0) * 100.0;
    Ok((format!("{change:+.1} %").replacen('-', "−", 1), change))
}

/// `t`'s aggregation of `variant`'s values in `record` (µs), or why there are none.
fn aggregate(t: &Threshold, record: &RunRecord, variant: &str) -> Result<f64, String> {
    let values = values(record, variant, t.metric);
    aggregated(t.aggregation, &values).ok_or_else(|| no_values(record, variant, t.metric))
}

/// `aggregation` of `values` (µs), `None` when there are none: percentiles by the one
/// definition, min, max and mean as the summary table shows them.
pub fn aggregated(aggregation: Aggregation, values: &[u64]) -> Option<f64> {
    let summary = || summary_of(&histogram_of(values));
    match aggregation {
        Aggregation::Min => summary().map(|s| s.min as f64),
        Aggregation::Max => summary().map(|s| s.max as f64),
        Aggregation::Avg => summary().map(|s| s.mean),
        Aggregation::Med => percentile(values, 0.5).map(|v| v as f64),
        Aggregation::Percentile(q) => percentile(values, q / 100.0).map(|v| v as f64),
    }
}

/// Why `record` has no values of `metric` for `variant`.
fn no_values(record: &RunRecord, variant: &str, metric: Metric) -> String {
    let run = &record.run_id;
    match metric {
        Metric::Phase(_) => format!(
            "no {metric} time for variant {variant:?} in run {run}: no successful, cold, measured sample"
        ),
        Metric::Burst(_) if !record.bursts.iter().any(|b| b.variant == variant && !b.warmup) => {
            format!("run {run} has no measured burst of variant {variant:?}; {metric} is a burst milestone")
        }
        Metric::Burst(_) => {
            format!("no measured burst of variant {variant:?} in run {run} reached {metric}")
        }
    }
}

/// `us` as the tables show durations: `1.84 s`.
fn show_us(us: f64) -> String {
    format_duration(Duration::from_nanos((us * 1000.0).round() as u64))
}
