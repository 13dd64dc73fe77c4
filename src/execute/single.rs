//! The single strategy: one cold start on node 0 — evict, pull, create, start, first answer —
//! with the registry's byte count telling whether it was cold.

use tokio::time::Instant;

use super::layers::with_registry_times;
use super::replica::{no_port, start_replica};
use super::{ExecuteError, Execution, VariantJob};
use crate::driver::ContainerSpec;
use crate::measure::micros;
use crate::measure::probe::free_port;
use crate::plan::Step;
use crate::results::{now_utc, Outcome, Phase, PhaseTimes, Sample};

const NODE: usize = 0;

/// Makes node 0 cold, performs one cold start and checks the bytes it moved.
pub async fn cold_start(
    ex: &Execution<'_>,
    variant: &VariantJob,
    step: &Step,
    index: usize,
) -> Result<Sample, ExecuteError> {
    let registry = ex.registry(NODE);
    ex.driver.evict(NODE, registry).await?;
    let started_at = now_utc();
    let before = ex.bytes.served(NODE);
    let pull = variant.pull_spec(registry);
    let mut phases = PhaseTimes::default();
    let t0 = Instant::now();
    let (layers, outcome, ended, probe) = match ex.driver.pull(NODE, &pull).await {
        Err(message) => {
            let outcome = Outcome::Failed {
                phase: Phase::Pull,
                message: format!("pull {}: {message}", pull.reference),
            };
            (Vec::new(), outcome, Instant::now(), None)
        }
        Ok(engine_layers) => {
            phases.pull_us = Some(micros(t0.elapsed()));
            let sent = ex.bytes.blobs_sent(NODE, t0);
            let layers = with_registry_times(engine_layers, &variant.image, &sent, t0);
            let container = ContainerSpec {
                name: format!("coldbench-{}-{index}", ex.run_id),
                run_id: ex.run_id.to_string(),
                variant: variant.name.clone(),
                image: pull.reference.clone(),
                port: 0,
                env: variant.env.clone(),
                ready: variant.ready.clone(),
            };
            let replica = match variant
                .ready
                .port
                .as_ref()
                .map_or_else(free_port, |p| Ok(*p.get_ref()))
            {
                Ok(port) => {
                    let container = ContainerSpec { port, ..container };
                    let replica = start_replica(ex.driver, NODE, &container).await;
                    let ended = Instant::now();
                    ex.driver.remove(NODE, &container.name).await;
                    (replica, ended)
                }
                Err(e) => (no_port(&e), Instant::now()),
            };
            let (replica, ended) = replica;
            phases.create_us = replica.phases.create_us;
            phases.start_us = replica.phases.start_us;
            phases.first_request_us = replica.phases.first_request_us;
            phases.total_us = replica.ready_at.map(|at| micros(at - t0));
            (layers, replica.outcome, ended, replica.probe)
        }
    };
    let after = ex.bytes.served(NODE);
    let counts = ex.bytes.registry_counts(NODE, t0);
    let blob_bytes = after.0.saturating_sub(before.0);
    Ok(Sample {
        index,
        repetition: step.repetition,
        variant: variant.name.clone(),
        warmup: step.warmup,
        node: NODE,
        started_at,
        phases,
        blob_bytes,
        manifest_bytes: after.1.saturating_sub(before.1),
        expected_bytes: variant.image.compressed_size,
        cold: is_cold(blob_bytes, variant.image.compressed_size, counts.as_ref()),
        layers,
        outcome,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: Some(micros(ended.saturating_duration_since(t0))),
        pod: None,
        registry: counts,
        probe,
    })
}

/// A sample is cold when the registry served exactly the image's bytes, or more when its node
/// retried a request (a response cut by a fault was partly served, then fetched again).
pub(crate) fn is_cold(
    served: u64,
    expected: u64,
    counts: Option<&crate::registry::RegistryCounts>,
) -> bool {
    served == expected || (served > expected && counts.is_some_and(|c| c.retries > 0))
}
