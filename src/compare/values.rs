//! The values a comparison or a threshold looks at: one per summarized sample for a phase, one
//! per measured burst for a milestone (the same samples and bursts the analysis summarizes).

use super::metric::{Metric, Milestone};
use crate::analysis::summarized;
use crate::results::{BurstRecord, RunRecord};

/// The values (µs) of `metric` for `variant` in `record`, in execution order; empty when the
/// variant or the metric has none.
pub fn values(record: &RunRecord, variant: &str, metric: Metric) -> Vec<u64> {
    match metric {
        Metric::Phase(phase) => summarized(record, variant)
            .into_iter()
            .filter_map(|s| s.phases.get(phase))
            .collect(),
        Metric::Burst(milestone) => record
            .bursts
            .iter()
            .filter(|b| b.variant == variant && !b.warmup)
            .filter_map(|b| milestone_of(b, milestone))
            .collect(),
    }
}

/// One burst's `milestone` (µs), `None` when it was not reached.
fn milestone_of(b: &BurstRecord, milestone: Milestone) -> Option<u64> {
    match milestone {
        Milestone::FirstReady => b.first_ready_us,
        Milestone::HalfCapacity => b.half_ready_us,
        Milestone::FullCapacity => b.full_ready_us,
    }
}
