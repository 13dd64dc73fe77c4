//! The model against a measured run: each variant's cold start replayed through the model with
//! the run's own images, network and burst schedule, beside what the run measured.
//!
//! Single cold starts compare `pull p50` and `total p50`; bursts compare `pull p50` (one pull
//! per node) and `full capacity` (p50 over the measured bursts).

use std::str::FromStr;

use super::calibration::FitRow;
use super::{simulate_single, simulate_slots, ImageModel, Links, ModelParams};
use crate::analysis::burst::burst_stats;
use crate::analysis::percentile::percentile;
use crate::plan::Slot;
use crate::results::{Phase, RunRecord, Sample};
use crate::units::Rate;

/// What is compared.
pub const PULL_P50: &str = "pull p50";
/// See [`PULL_P50`].
pub const TOTAL_P50: &str = "total p50";
/// See [`PULL_P50`].
pub const FULL_CAPACITY: &str = "full capacity";

/// The network a run measured through: its egress, latency and the scenario's node downlink.
pub fn links_of(record: &RunRecord) -> Links {
    let node_bandwidth = record.scenario.parsed["registry"]["node_bandwidth"]
        .as_str()
        .and_then(|s| Rate::from_str(s).ok())
        .map(|r| r.bytes_per_sec());
    Links {
        egress_bytes_per_sec: record.network.bandwidth_bytes_per_sec,
        node_bytes_per_sec: node_bandwidth,
        latency_us: record.network.latency_us,
    }
}

/// Every figure the model can predict for `record`, measured beside modelled.
pub fn predict_run(record: &RunRecord, params: &ModelParams) -> Vec<FitRow> {
    let links = links_of(record);
    let mut rows = Vec::new();
    for variant in &record.variants {
        let image = ImageModel::from_variant(variant);
        let row = |metric: &str, measured_us: Option<u64>, modelled_us: Option<u64>| {
            Some(fit_row(
                &record.run_id,
                &variant.name,
                metric,
                measured_us?,
                modelled_us?,
            ))
        };
        if record.bursts.is_empty() {
            let modelled = simulate_single(&image, params, &links).phases;
            let measured = |phase: Phase| {
                let summary = record.summaries.get(&variant.name)?.get(phase.name())?;
                Some(summary.p50)
            };
            rows.extend(row(PULL_P50, measured(Phase::Pull), modelled.pull_us));
            rows.extend(row(TOTAL_P50, measured(Phase::Total), modelled.total_us));
        } else if let Some(slots) = first_burst_slots(record, &variant.name) {
            let modelled = simulate_slots(&image, &slots, &on_host(record, params), &links);
            let pulls: Vec<u64> = modelled.pulls.iter().flatten().map(|p| p.pull_us).collect();
            let measured_full =
                burst_stats(record, &variant.name).and_then(|s| s.full_ready_p50_us);
            rows.extend(row(
                PULL_P50,
                measured_burst_pull_p50(record, &variant.name),
                percentile(&pulls, 0.5),
            ));
            rows.extend(row(
                FULL_CAPACITY,
                measured_full,
                modelled.milestones.full_ready_us,
            ));
        }
    }
    rows
}

/// `params` for a measured burst: its nodes were emulated on the run's host and shared its
/// cores (unless the parameters already say how many).
pub fn on_host(record: &RunRecord, params: &ModelParams) -> ModelParams {
    ModelParams {
        shared_cores: params
            .shared_cores
            .or(Some(record.host.cores.max(1) as f64)),
        ..*params
    }
}

/// A row from µs figures.
pub fn fit_row(
    run: &str,
    variant: &str,
    metric: &str,
    measured_us: u64,
    modelled_us: u64,
) -> FitRow {
    let measured_s = measured_us as f64 / 1e6;
    let modelled_s = modelled_us as f64 / 1e6;
    let error_pct = if measured_us == 0 {
        0.0
    } else {
        (modelled_s - measured_s) / measured_s * 100.0
    };
    FitRow {
        run: run.to_string(),
        variant: variant.to_string(),
        metric: metric.to_string(),
        measured_s,
        modelled_s,
        error_pct,
    }
}

/// The replica slots of `variant`'s first measured burst, as the run requested them.
fn first_burst_slots(record: &RunRecord, variant: &str) -> Option<Vec<Slot>> {
    let burst = record
        .bursts
        .iter()
        .find(|b| b.variant == variant && !b.warmup)?;
    let slots: Vec<Slot> = burst_samples(record, burst.index)
        .filter_map(|s| {
            Some(Slot {
                replica: s.replica?,
                node: s.node,
                offset: std::time::Duration::from_micros(s.requested_at_us?),
            })
        })
        .collect();
    (!slots.is_empty()).then_some(slots)
}

/// p50 over `variant`'s measured bursts of each node's pull, from its first request.
fn measured_burst_pull_p50(record: &RunRecord, variant: &str) -> Option<u64> {
    let mut pulls = Vec::new();
    for burst in record
        .bursts
        .iter()
        .filter(|b| b.variant == variant && !b.warmup)
    {
        let mut nodes: Vec<(usize, u64)> = burst_samples(record, burst.index)
            .filter(|s| s.is_ok())
            .filter_map(|s| Some((s.node, s.phases.pull_us?)))
            .collect();
        // A node's pull started at its first request: its longest replica pull.
        nodes.sort_unstable_by_key(|&(node, pull)| (node, std::cmp::Reverse(pull)));
        nodes.dedup_by_key(|(node, _)| *node);
        pulls.extend(nodes.into_iter().map(|(_, pull)| pull));
    }
    percentile(&pulls, 0.5)
}

fn burst_samples(record: &RunRecord, index: usize) -> impl Iterator<Item = &Sample> {
    record
        .samples
        .iter()
        .filter(move |s| s.burst == Some(index))
}
