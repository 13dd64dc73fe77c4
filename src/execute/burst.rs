//! The burst strategy, HPA-like: every node made cold, replicas requested on the plan's
//! schedule; each node pulls once when its first replica is requested, then starts its
//! replicas. Measures each replica and the burst's capacity over time.

use futures_util::future::join_all;
use tokio::sync::watch;
use tokio::time::Instant;

use super::replica::{no_port, start_replica, Replica};
use super::{ExecuteError, Execution, Strategy, VariantJob};
use crate::analysis::{burst_floor_us, burst_milestones};
use crate::driver::{ContainerSpec, PullSpec};
use crate::measure::micros;
use crate::plan::{Slot, Step};
use crate::results::{now_utc, BurstRecord, Outcome, Phase, PhaseTimes, ProbeRecord, Sample};

/// When a node's pull finished, or why it failed.
type Pulled = Option<Result<Instant, String>>;

/// What one replica's measurement gives before it becomes a [`Sample`].
struct Measured {
    slot: Slot,
    phases: PhaseTimes,
    outcome: Outcome,
    ready_at: Option<Instant>,
    probe: Option<ProbeRecord>,
    finished_at: Instant,
}

/// One step's burst: returns one sample per replica (indexed from `first_sample`) and the
/// burst's record.
pub async fn burst(
    ex: &Execution<'_>,
    variant: &VariantJob,
    step: &Step,
    index: usize,
    first_sample: usize,
) -> Result<(Vec<Sample>, BurstRecord), ExecuteError> {
    let nodes = ex.driver.nodes();
    for node in 0..nodes {
        ex.driver.evict(node, ex.registry(node)).await?;
    }
    let before: Vec<(u64, u64)> = (0..nodes).map(|n| ex.bytes.served(n)).collect();
    let ports = crate::measure::ports::reserve(ex.plan.slots.len());
    let started_at = now_utc();
    let t0 = Instant::now();
    let node_bursts: Vec<NodeBurst> = (0..nodes)
        .map(|node| NodeBurst {
            ex,
            variant,
            index,
            node,
            t0,
            pull: variant.pull_spec(ex.registry(node)),
        })
        .collect();
    let per_node = node_bursts.iter().map(|n| n.run(&ports));
    let mut measured: Vec<Measured> = join_all(per_node).await.into_iter().flatten().collect();
    measured.sort_by_key(|m| m.slot.replica);
    for node in 0..nodes {
        let _ = ex.driver.remove_run(node, ex.run_id).await;
    }
    let node_counts: Vec<_> = (0..nodes)
        .map(|n| ex.bytes.registry_counts(n, t0))
        .collect();
    let node_blob_bytes: Vec<u64> = (0..nodes)
        .map(|n| ex.bytes.served(n).0.saturating_sub(before[n].0))
        .collect();
    let expected = variant.image.compressed_size;
    let samples: Vec<Sample> = measured
        .iter()
        .map(|m| {
            let bytes = node_blob_bytes.get(m.slot.node).copied().unwrap_or(0);
            Sample {
                index: first_sample + m.slot.replica,
                repetition: step.repetition,
                variant: variant.name.clone(),
                warmup: step.warmup,
                node: m.slot.node,
                started_at: started_at.clone(),
                phases: m.phases,
                blob_bytes: bytes,
                manifest_bytes: 0,
                expected_bytes: expected,
                cold: super::single::is_cold(
                    bytes,
                    expected,
                    node_counts.get(m.slot.node).and_then(Option::as_ref),
                ),
                layers: Vec::new(),
                outcome: m.outcome.clone(),
                burst: Some(index),
                replica: Some(m.slot.replica),
                requested_at_us: Some(micros(m.slot.offset)),
                ready_at_us: m.ready_at.map(|at| micros(at - t0)),
                finished_at_us: Some(micros(m.finished_at - t0)),
                pod: None,
                registry: node_counts.get(m.slot.node).cloned().flatten(),
                probe: m.probe,
            }
        })
        .collect();
    let pulling_nodes = (0..nodes)
        .filter(|n| ex.plan.slots.iter().any(|s| s.node == *n))
        .count();
    let record = summarize(
        ex,
        variant,
        step,
        index,
        &samples,
        node_blob_bytes,
        pulling_nodes,
    );
    Ok((samples, record))
}

/// One node's share of a burst.
struct NodeBurst<'a> {
    ex: &'a Execution<'a>,
    variant: &'a VariantJob,
    /// The burst's index in the run (names containers).
    index: usize,
    node: usize,
    /// Burst start.
    t0: Instant,
    /// The image from this node's registry port.
    pull: PullSpec,
}

impl NodeBurst<'_> {
    /// One pull at the node's first replica's request, then its replicas.
    async fn run(&self, ports: &[std::io::Result<u16>]) -> Vec<Measured> {
        let slots: Vec<Slot> = self
            .ex
            .plan
            .slots
            .iter()
            .filter(|s| s.node == self.node)
            .copied()
            .collect();
        let Some(first_offset) = slots.iter().map(|s| s.offset).min() else {
            return Vec::new();
        };
        let (pulled_tx, pulled_rx) = watch::channel::<Pulled>(None);
        let pulling = async move {
            tokio::time::sleep_until(self.t0 + first_offset).await;
            let result = self.ex.driver.pull(self.node, &self.pull).await;
            let _ = pulled_tx.send(Some(result.map(|_| Instant::now())));
        };
        let replicas = slots.iter().map(|&slot| {
            let port = match ports.get(slot.replica) {
                Some(Ok(p)) => Ok(*p),
                Some(Err(e)) => Err(std::io::Error::new(e.kind(), e.to_string())),
                None => Err(std::io::Error::other("no port reserved")),
            };
            self.replica(slot, port, pulled_rx.clone())
        });
        let (_, measured) = tokio::join!(pulling, join_all(replicas));
        measured
    }

    /// One replica: waits for its request time and its node's pull, then starts.
    async fn replica(
        &self,
        slot: Slot,
        port: std::io::Result<u16>,
        mut pulled_rx: watch::Receiver<Pulled>,
    ) -> Measured {
        let requested = self.t0 + slot.offset;
        tokio::time::sleep_until(requested).await;
        let pulled = loop {
            if let Some(result) = pulled_rx.borrow_and_update().clone() {
                break result;
            }
            if pulled_rx.changed().await.is_err() {
                break Err("pull task ended".to_string());
            }
        };
        let mut phases = PhaseTimes::default();
        let (outcome, ready_at, probe) = match pulled {
            Err(message) => {
                let phase = Phase::Pull;
                let message = format!("pull {}: {message}", self.pull.reference);
                (Outcome::Failed { phase, message }, None, None)
            }
            Ok(pulled_at) => {
                phases.pull_us = Some(micros(pulled_at.saturating_duration_since(requested)));
                let r: Replica = match port {
                    Ok(port) => {
                        let container = self.container(slot, port);
                        start_replica(self.ex.driver, self.node, &container).await
                    }
                    Err(e) => no_port(&e),
                };
                phases.create_us = r.phases.create_us;
                phases.start_us = r.phases.start_us;
                phases.first_request_us = r.phases.first_request_us;
                phases.total_us = r.ready_at.map(|at| micros(at - requested));
                (r.outcome, r.ready_at, r.probe)
            }
        };
        Measured {
            slot,
            phases,
            outcome,
            ready_at,
            probe,
            finished_at: Instant::now(),
        }
    }

    fn container(&self, slot: Slot, port: u16) -> ContainerSpec {
        ContainerSpec {
            name: format!(
                "coldbench-{}-{}-{}",
                self.ex.run_id, self.index, slot.replica
            ),
            run_id: self.ex.run_id.to_string(),
            variant: self.variant.name.clone(),
            image: self.pull.reference.clone(),
            port,
            env: self.variant.env.clone(),
            ready: self.variant.ready.clone(),
        }
    }
}

/// The burst's record: capacity milestones over its replicas, bytes per node, physics floor.
fn summarize(
    ex: &Execution<'_>,
    variant: &VariantJob,
    step: &Step,
    index: usize,
    samples: &[Sample],
    node_blob_bytes: Vec<u64>,
    nodes: usize,
) -> BurstRecord {
    let (egress, node_bandwidth) = match ex.strategy {
        Strategy::Burst {
            egress,
            node_bandwidth,
        } => (egress, node_bandwidth),
        Strategy::Single => (None, None),
    };
    let milestones = burst_milestones(samples);
    BurstRecord {
        index,
        repetition: step.repetition,
        variant: variant.name.clone(),
        warmup: step.warmup,
        nodes,
        replicas: samples.len(),
        first_ready_us: milestones.first_ready_us,
        half_ready_us: milestones.half_ready_us,
        full_ready_us: milestones.full_ready_us,
        capacity_seconds_lost: milestones.capacity_seconds_lost,
        node_blob_bytes,
        floor_us: burst_floor_us(nodes, variant.image.compressed_size, egress, node_bandwidth),
    }
}
