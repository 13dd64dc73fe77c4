//! The formulas, one small function each, so the seed article's figures can be checked
//! against them directly.

use super::input::Traffic;
use super::pricing::Rounding;
use crate::units::Rate;

/// Bytes in a priced GB (prices are per 10⁹ bytes).
pub const GB: f64 = 1e9;
/// Days in a month for every monthly figure.
pub const DAYS_PER_MONTH: f64 = 30.0;

/// Seconds to move `bytes` at `rate` (the wire floor: no latency, no extraction).
pub fn transfer_seconds(bytes: u64, rate: Rate) -> f64 {
    bytes as f64 / rate.bytes_per_sec()
}

/// The slower of the registry's egress and a puller's downlink.
pub fn effective_rate(registry: Rate, node: Option<Rate>) -> Rate {
    match node {
        Some(n) if n.bytes_per_sec() < registry.bytes_per_sec() => n,
        _ => registry,
    }
}

/// Dependency install seconds per day: cold for builds changing the manifest, cached for the rest.
pub fn dependency_seconds(builds: f64, change_share: f64, cold: f64, cached: f64) -> f64 {
    builds * (change_share * cold + (1.0 - change_share) * cached)
}

/// Seconds per day the dependency cache saves compared with installing cold on every build:
/// builds hitting the cache × (cold − cached).
pub fn dependency_seconds_recovered(builds: f64, change_share: f64, cold: f64, cached: f64) -> f64 {
    builds * (1.0 - change_share) * (cold - cached).max(0.0)
}

/// Billed minutes of one job of `seconds`.
pub fn billed_minutes(seconds: f64, rounding: Rounding) -> f64 {
    let minutes = seconds.max(0.0) / 60.0;
    match rounding {
        Rounding::PerJobWholeMinutes => minutes.ceil(),
        Rounding::None => minutes,
    }
}

/// Image moves per day: (CI pushes, CI pulls, node pulls after the node cache).
pub fn moves_per_day(t: &Traffic) -> (f64, f64, f64) {
    let node_pulls = (t.deploys_per_day * f64::from(t.deploy_nodes)
        + t.bursts_per_day * f64::from(t.burst_nodes))
        * (1.0 - t.node_cache_hit_rate);
    (
        t.builds_per_day * t.pushes_per_build,
        t.builds_per_day * t.pulls_per_build,
        node_pulls,
    )
}

/// Nodes of one burst that miss the cache and pull: burst nodes × (1 − hit rate), rounded up.
pub fn burst_nodes_pulling(t: &Traffic) -> usize {
    (f64::from(t.burst_nodes) * (1.0 - t.node_cache_hit_rate)).ceil() as usize
}

/// Billed CI minutes of one build: the first job installs dependencies (`deps` seconds) and
/// pushes; the other jobs share the pulls (the first job does them when it is alone); each job
/// is rounded on its own.
pub fn build_minutes(
    jobs: u32,
    job_time: f64,
    deps: f64,
    push_seconds: f64,
    pull_seconds: f64,
    rounding: Rounding,
) -> f64 {
    let others = f64::from(jobs.saturating_sub(1));
    if others == 0.0 {
        return billed_minutes(job_time + deps + push_seconds + pull_seconds, rounding);
    }
    billed_minutes(job_time + deps + push_seconds, rounding)
        + others * billed_minutes(job_time + pull_seconds / others, rounding)
}
