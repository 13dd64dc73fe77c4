//! Bursts: the milestones of one burst (for the executor), its physics floor, and each
//! variant's burst statistics over repetitions.

use super::percentile::percentile;
use crate::results::{BurstRecord, RunRecord, Sample};

/// When a burst reached capacity, and what the wait cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Milestones {
    /// Burst start → first replica ready (µs).
    pub first_ready_us: Option<u64>,
    /// Burst start → half the replicas (rounded up) ready (µs).
    pub half_ready_us: Option<u64>,
    /// Burst start → every replica ready (µs); `None` when any replica failed.
    pub full_ready_us: Option<u64>,
    /// Replica-seconds missing compared with an instant scale-out.
    pub capacity_seconds_lost: f64,
}

/// The milestones of one burst from its replicas' samples.
///
/// Only a successful replica with a `ready_at_us` counts as ready. A replica that never became
/// ready (failed) is capacity lost from its request until the end of the burst window: the
/// latest `ready_at_us` or `finished_at_us` of any replica.
pub fn burst_milestones(replicas: &[Sample]) -> Milestones {
    let mut ready: Vec<u64> = replicas
        .iter()
        .filter(|s| s.is_ok())
        .filter_map(|s| s.ready_at_us)
        .collect();
    ready.sort_unstable();
    let n = replicas.len();
    let at = |k: usize| k.checked_sub(1).and_then(|i| ready.get(i).copied());
    let window_end = replicas
        .iter()
        .flat_map(|s| [s.ready_at_us, s.finished_at_us])
        .flatten()
        .max();
    let capacity_seconds_lost = replicas
        .iter()
        .map(|s| {
            let requested = s.requested_at_us.unwrap_or(0);
            let end = match (s.is_ok(), s.ready_at_us) {
                (true, Some(ready)) => ready,
                _ => window_end.unwrap_or(requested),
            };
            end.saturating_sub(requested) as f64 / 1e6
        })
        .sum();
    Milestones {
        first_ready_us: at(1),
        half_ready_us: at(n.div_ceil(2)),
        full_ready_us: (ready.len() == n).then(|| at(n)).flatten(),
        capacity_seconds_lost,
    }
}

/// The physics floor for a burst's full capacity (µs): the larger of `nodes × size / egress`
/// (the nodes share the registry's egress) and `size / node downlink`; `None` when neither
/// rate is limited (rates in bytes per second; zero, negative or not finite means unlimited).
pub fn burst_floor_us(
    nodes: usize,
    size: u64,
    egress_bytes_per_sec: Option<f64>,
    node_bytes_per_sec: Option<f64>,
) -> Option<u64> {
    let limited = |r: Option<f64>| r.filter(|r| r.is_finite() && *r > 0.0);
    let seconds = [
        limited(egress_bytes_per_sec).map(|e| nodes as f64 * size as f64 / e),
        limited(node_bytes_per_sec).map(|nb| size as f64 / nb),
    ]
    .into_iter()
    .flatten()
    .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))?;
    // `as` saturates; the value is finite and non-negative here.
    Some((seconds * 1e6).floor() as u64)
}

/// A variant's bursts: p50 over its measured (non-warm-up) bursts.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstStats {
    /// Replicas per burst (of the first measured burst).
    pub replicas: usize,
    /// Nodes that pulled (of the first measured burst).
    pub nodes: usize,
    /// Measured bursts.
    pub bursts: usize,
    /// p50 time to the first ready replica (µs).
    pub first_ready_p50_us: Option<u64>,
    /// p50 time to half the replicas ready (µs).
    pub half_ready_p50_us: Option<u64>,
    /// p50 time to full capacity over the bursts that reached it (µs).
    pub full_ready_p50_us: Option<u64>,
    /// The burst's own floor for full capacity (µs): nodes share the egress.
    pub floor_us: Option<u64>,
    /// Full capacity p50 / the burst's floor.
    pub full_x_floor: Option<f64>,
    /// Mean replica-seconds lost against an instant scale-out.
    pub capacity_lost_mean: f64,
    /// Replicas of the measured bursts that failed.
    pub failed_replicas: usize,
}

/// The statistics of `variant`'s measured bursts, `None` without any.
pub fn burst_stats(record: &RunRecord, variant: &str) -> Option<BurstStats> {
    let bursts: Vec<&BurstRecord> = record
        .bursts
        .iter()
        .filter(|b| b.variant == variant && !b.warmup)
        .collect();
    let first = bursts.first()?;
    let p50 = |f: fn(&BurstRecord) -> Option<u64>| {
        let values: Vec<u64> = bursts.iter().filter_map(|b| f(b)).collect();
        percentile(&values, 0.5)
    };
    let full = p50(|b| b.full_ready_us);
    let floor_us = first.floor_us;
    let failed_replicas = record
        .samples
        .iter()
        .filter(|s| s.variant == variant && !s.is_ok())
        .filter(|s| s.burst.is_some_and(|i| bursts.iter().any(|b| b.index == i)))
        .count();
    Some(BurstStats {
        replicas: first.replicas,
        nodes: first.nodes,
        bursts: bursts.len(),
        first_ready_p50_us: p50(|b| b.first_ready_us),
        half_ready_p50_us: p50(|b| b.half_ready_us),
        full_ready_p50_us: full,
        floor_us,
        full_x_floor: times(full, floor_us),
        capacity_lost_mean: bursts.iter().map(|b| b.capacity_seconds_lost).sum::<f64>()
            / bursts.len() as f64,
        failed_replicas,
    })
}

/// `value / floor`, when both are known and the floor is not zero.
pub(crate) fn times(value: Option<u64>, floor: Option<u64>) -> Option<f64> {
    match (value, floor) {
        (Some(v), Some(f)) if f > 0 => Some(v as f64 / f as f64),
        _ => None,
    }
}
