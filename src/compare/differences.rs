//! What differs between the conditions of two runs: printed as warnings above the verdicts,
//! because a change of machine, engine or link explains a change of numbers.

use crate::results::RunRecord;
use crate::units::format_duration;

/// One sentence per context fact that differs between `base` and `new`; first, when one run
/// was simulated and the other measured, a sentence saying so.
pub fn differences(base: &RunRecord, new: &RunRecord) -> Vec<String> {
    let mut out: Vec<String> = simulated_or_measured(base, new).into_iter().collect();
    out.extend(facts(base, new));
    out
}

/// A simulated run against a measured one compares the model with reality, not two runs.
fn simulated_or_measured(base: &RunRecord, new: &RunRecord) -> Option<String> {
    let kind = |r: &RunRecord| r.simulated_mark().unwrap_or_else(|| "measured".to_string());
    (base.simulation.is_some() != new.simulation.is_some()).then(|| {
        format!(
            "baseline {}, this run {}: the comparison is of the model against a measurement",
            kind(base),
            kind(new)
        )
    })
}

/// The facts of both runs that differ.
fn facts(base: &RunRecord, new: &RunRecord) -> Vec<String> {
    let facts: [(&str, Option<String>, Option<String>); 11] = [
        (
            "CPU model",
            base.host.cpu_model.clone(),
            new.host.cpu_model.clone(),
        ),
        (
            "cores",
            Some(base.host.cores.to_string()),
            Some(new.host.cores.to_string()),
        ),
        (
            "engine",
            Some(base.engine.driver.clone()),
            Some(new.engine.driver.clone()),
        ),
        (
            "engine version",
            base.engine.version.clone(),
            new.engine.version.clone(),
        ),
        (
            "storage driver",
            base.engine.storage_driver.clone(),
            new.engine.storage_driver.clone(),
        ),
        (
            "snapshotter",
            base.engine.snapshotter.clone(),
            new.engine.snapshotter.clone(),
        ),
        (
            "runtime handler",
            base.engine.runtime_handler.clone(),
            new.engine.runtime_handler.clone(),
        ),
        (
            "node kind",
            Some(base.engine.node.clone()),
            Some(new.engine.node.clone()),
        ),
        ("bandwidth", bandwidth(base), bandwidth(new)),
        ("latency", Some(latency(base)), Some(latency(new))),
        (
            "coldbench version",
            Some(base.coldbench.version.clone()),
            Some(new.coldbench.version.clone()),
        ),
    ];
    facts
        .into_iter()
        .filter(|(_, b, n)| b != n)
        .map(|(what, b, n)| {
            let shown = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_string());
            format!(
                "{what} differs: baseline {}, this run {}",
                shown(b),
                shown(n)
            )
        })
        .collect()
}

/// The registry bandwidth as recorded, `unlimited` when none.
fn bandwidth(r: &RunRecord) -> Option<String> {
    Some(
        r.network
            .bandwidth
            .clone()
            .unwrap_or_else(|| "unlimited".to_string()),
    )
}

/// The registry latency, readable.
fn latency(r: &RunRecord) -> String {
    format_duration(std::time::Duration::from_micros(r.network.latency_us))
}
