//! HPA-like bursts: N nodes, each reaching the registry on its own port (own downlink, shared
//! egress); replicas are requested on a schedule, each node pulls once when its first replica
//! is requested, then starts its replicas. Measures capacity over time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::watch;

use crate::driver::docker::DockerDriver;
use crate::driver::node::{self, NodeDaemon};
use crate::driver::{ColdStart, Driver, DriverError};
use crate::measure::micros;
use crate::progress::Progress;
use crate::registry::{Registry, RegistryError};
use crate::results::{BurstRecord, Outcome, Phase, PhaseTimes, Sample};
use crate::scenario::{BurstSpec, Placement, Scenario};

/// The nodes of a burst and the registry port each reaches.
pub struct BurstNodes {
    drivers: Vec<DockerDriver>,
    registry_addrs: Vec<String>,
    daemons: Vec<NodeDaemon>,
    /// `fresh` or `sockets` or `engine`.
    pub kind: String,
}

impl BurstNodes {
    /// Connects the scenario's node sockets, or starts fresh nodes, or falls back to one node on
    /// `engine`; opens one registry port per node.
    pub async fn setup(
        scenario: &Scenario,
        spec: &BurstSpec,
        registry: &mut Registry,
        engine: Option<&DockerDriver>,
        progress: &Progress,
    ) -> Result<BurstNodes, BurstError> {
        let wanted = *spec.nodes.get_ref() as usize;
        let sockets = &scenario.file.docker.node_sockets;
        let (drivers, daemons, kind) = if !sockets.is_empty() {
            let mut drivers = Vec::new();
            for s in sockets {
                drivers.push(DockerDriver::connect(Some(s)).await?);
            }
            (drivers, Vec::new(), "sockets")
        } else if node::available().is_ok() {
            let spinner = progress.spinner(format!("starting {wanted} fresh node(s)"));
            let started = join_all((0..wanted).map(NodeDaemon::start)).await;
            spinner.finish_and_clear();
            let mut daemons = Vec::new();
            let mut first_error = None;
            for s in started {
                match s {
                    Ok(d) => daemons.push(d),
                    Err(e) => first_error = first_error.or(Some(e)),
                }
            }
            if let Some(e) = first_error {
                // Dropping the started ones stops them.
                drop(daemons);
                return Err(BurstError::Node(e));
            }
            let mut drivers = Vec::new();
            for d in &daemons {
                drivers.push(DockerDriver::connect(Some(&d.host())).await?);
            }
            (drivers, daemons, "fresh")
        } else {
            let why = node::available().err().unwrap_or_default();
            progress.println(format!(
                "warning: {why}, so the burst runs nodes = 1 on your engine instead of {wanted} fresh nodes (or list engines in [docker] node_sockets)"
            ));
            let engine = match engine {
                Some(e) => e.clone(),
                None => DockerDriver::connect(scenario.file.docker.host.as_deref()).await?,
            };
            (vec![engine], Vec::new(), "engine")
        };
        let node_bandwidth = scenario.file.registry.node_bandwidth;
        let mut registry_addrs = Vec::new();
        for _ in &drivers {
            let (_, addr) = registry.add_node(node_bandwidth).await?;
            registry_addrs.push(addr.to_string());
        }
        Ok(BurstNodes {
            drivers,
            registry_addrs,
            daemons,
            kind: kind.to_string(),
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.drivers.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.drivers.is_empty()
    }

    /// The first node's driver (for the engine context).
    pub fn first(&self) -> &DockerDriver {
        &self.drivers[0]
    }

    /// Removes the run's containers and images from every node, then stops fresh nodes.
    pub async fn teardown(self, run_id: Option<&str>) {
        for (driver, addr) in self.drivers.iter().zip(&self.registry_addrs) {
            if let Some(run_id) = run_id {
                let _ = driver.remove_containers(run_id).await;
            }
            let _ = driver.evict(addr).await;
        }
        join_all(self.daemons.into_iter().map(NodeDaemon::stop)).await;
    }
}

/// Errors setting up a burst's nodes.
#[derive(Debug, thiserror::Error)]
pub enum BurstError {
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Node(#[from] node::NodeError),
    #[error("embedded registry: {0}")]
    Registry(#[from] RegistryError),
}

/// For each replica: its node and when it is requested (offset from burst start).
pub fn schedule(spec: &BurstSpec, nodes: usize) -> Vec<(usize, Duration)> {
    let replicas = *spec.replicas.get_ref() as usize;
    let nodes = nodes.max(1);
    let per_node = replicas.div_ceil(nodes);
    (0..replicas)
        .map(|r| {
            let node = match spec.placement {
                Placement::Spread => r % nodes,
                Placement::Packed => (r / per_node).min(nodes - 1),
            };
            let offset = spec.step.as_ref().map_or(Duration::ZERO, |step| {
                step.every.0 * (r / *step.add.get_ref() as usize) as u32
            });
            (node, offset)
        })
        .collect()
}

/// What one burst needs to know.
pub struct BurstJob<'a> {
    /// Template of the cold start (image, ready spec, env, run id).
    pub job: &'a ColdStart,
    /// The burst's place in the run.
    pub index: usize,
    /// Repetition.
    pub repetition: u32,
    /// Warm-up burst.
    pub warmup: bool,
    /// First sample index for its replicas.
    pub first_sample: usize,
    /// Compressed-size floor inputs: egress and node downlink in bytes/s.
    pub egress: Option<f64>,
    /// Node downlink in bytes/s.
    pub node_bandwidth: Option<f64>,
}

/// Runs one burst: evicts every node, requests replicas on schedule, measures each.
pub async fn run_burst(
    nodes: &BurstNodes,
    registry: &Registry,
    spec: &BurstSpec,
    b: &BurstJob<'_>,
) -> Result<(Vec<Sample>, BurstRecord), DriverError> {
    for (driver, addr) in nodes.drivers.iter().zip(&nodes.registry_addrs) {
        driver.evict(addr).await?;
    }
    let plan = schedule(spec, nodes.len());
    let before: Vec<u64> = (0..nodes.len())
        .map(|n| registry.served_by_node(n).blobs)
        .collect();
    // Distinct ports for every replica: hold them all, then release together.
    let ports: Vec<std::io::Result<u16>> = {
        let listeners: Vec<_> = plan
            .iter()
            .map(|_| std::net::TcpListener::bind(("127.0.0.1", 0)))
            .collect();
        listeners
            .into_iter()
            .map(|l| l.and_then(|l| l.local_addr()).map(|a| a.port()))
            .collect()
    };
    let started_at = crate::results::now_utc();
    let t0 = Instant::now();
    let node_futures = (0..nodes.len()).map(|n| {
        let replicas: Vec<(usize, Duration)> = plan
            .iter()
            .enumerate()
            .filter(|(_, (node, _))| *node == n)
            .map(|(r, (_, offset))| (r, *offset))
            .collect();
        let ports = &ports;
        async move {
            if replicas.is_empty() {
                return Vec::new();
            }
            let driver = &nodes.drivers[n];
            let mut job = b.job.clone();
            job.registry = nodes.registry_addrs[n].clone();
            job.image_ref = format!(
                "{}/{}:{}",
                nodes.registry_addrs[n], job.image.repository, job.image.tag
            );
            let job = Arc::new(job);
            let (pulled_tx, pulled_rx) = watch::channel(None::<Result<Instant, String>>);
            let first_offset = replicas.iter().map(|(_, o)| *o).min().unwrap_or_default();
            let pull = {
                let job = job.clone();
                async move {
                    tokio::time::sleep_until((t0 + first_offset).into()).await;
                    let result = driver.pull(&job).await.map(|_| Instant::now());
                    let _ = pulled_tx.send(Some(result));
                }
            };
            let starts = replicas.iter().map(|&(r, offset)| {
                let job = job.clone();
                let mut pulled_rx = pulled_rx.clone();
                let port = match &ports[r] {
                    Ok(p) => Ok(job.ready.port.unwrap_or(*p)),
                    Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                };
                async move {
                    let requested = t0 + offset;
                    tokio::time::sleep_until(requested.into()).await;
                    let pulled = loop {
                        if let Some(result) = pulled_rx.borrow_and_update().clone() {
                            break result;
                        }
                        if pulled_rx.changed().await.is_err() {
                            break Err("pull task ended".to_string());
                        }
                    };
                    let mut phases = PhaseTimes::default();
                    let (outcome, ready_at) = match pulled {
                        Err(message) => (
                            Outcome::Failed {
                                phase: Phase::Pull,
                                message: format!("pull {}: {message}", job.image_ref),
                            },
                            None,
                        ),
                        Ok(pulled_at) => {
                            phases.pull_us =
                                Some(micros(pulled_at.saturating_duration_since(requested)));
                            let name = format!("coldbench-{}-{}-{r}", job.run_id, b.index);
                            let replica = driver.start_replica(&job, &name, port).await;
                            phases.create_us = replica.phases.create_us;
                            phases.start_us = replica.phases.start_us;
                            phases.first_request_us = replica.phases.first_request_us;
                            phases.total_us = replica.ready_at.map(|at| micros(at - requested));
                            (replica.outcome, replica.ready_at)
                        }
                    };
                    (r, n, offset, phases, outcome, ready_at)
                }
            });
            let (_, replicas) = tokio::join!(pull, join_all(starts));
            replicas
        }
    });
    let mut results: Vec<_> = join_all(node_futures).await.into_iter().flatten().collect();
    results.sort_by_key(|r| r.0);
    for (driver, _) in nodes.drivers.iter().zip(&nodes.registry_addrs) {
        let _ = driver.remove_containers(&b.job.run_id).await;
    }

    let node_blob_bytes: Vec<u64> = (0..nodes.len())
        .map(|n| registry.served_by_node(n).blobs - before[n])
        .collect();
    let expected = b.job.image.compressed_size;
    let samples: Vec<Sample> = results
        .iter()
        .map(|(r, n, offset, phases, outcome, ready_at)| Sample {
            index: b.first_sample + r,
            repetition: b.repetition,
            variant: b.job.variant.clone(),
            warmup: b.warmup,
            node: *n,
            started_at: started_at.clone(),
            phases: *phases,
            blob_bytes: node_blob_bytes[*n],
            manifest_bytes: 0,
            expected_bytes: expected,
            cold: node_blob_bytes[*n] == expected,
            layers: Vec::new(),
            outcome: outcome.clone(),
            burst: Some(b.index),
            replica: Some(*r),
            requested_at_us: Some(micros(*offset)),
            ready_at_us: ready_at.map(|at| micros(at - t0)),
            finished_at_us: None,
        })
        .collect();

    let pulling_nodes = node_blob_bytes.len().min(plan.len());
    let record = summarize(b, &samples, node_blob_bytes, pulling_nodes, expected);
    Ok((samples, record))
}

fn summarize(
    b: &BurstJob<'_>,
    samples: &[Sample],
    node_blob_bytes: Vec<u64>,
    nodes: usize,
    size: u64,
) -> BurstRecord {
    let mut ready: Vec<u64> = samples.iter().filter_map(|s| s.ready_at_us).collect();
    ready.sort_unstable();
    let n = samples.len();
    let at = |k: usize| (k >= 1 && ready.len() >= k).then(|| ready[k - 1]);
    let lost: f64 = samples
        .iter()
        .map(|s| {
            let requested = s.requested_at_us.unwrap_or(0);
            let ready = s.ready_at_us.or(ready.last().copied()).unwrap_or(requested);
            ready.saturating_sub(requested) as f64 / 1e6
        })
        .sum();
    let floor_s = [
        b.egress.map(|e| nodes as f64 * size as f64 / e),
        b.node_bandwidth.map(|nb| size as f64 / nb),
    ]
    .into_iter()
    .flatten()
    .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    BurstRecord {
        index: b.index,
        repetition: b.repetition,
        variant: b.job.variant.clone(),
        warmup: b.warmup,
        nodes,
        replicas: n,
        first_ready_us: at(1),
        half_ready_us: at(n.div_ceil(2)),
        full_ready_us: (ready.len() == n).then(|| at(n)).flatten(),
        capacity_seconds_lost: lost,
        node_blob_bytes,
        floor_us: floor_s.map(|s| micros(Duration::from_secs_f64(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::StepSpec;
    use crate::units::HumanDuration;
    use toml::Spanned;

    fn spec(
        nodes: u32,
        replicas: u32,
        placement: Placement,
        step: Option<(u32, u64)>,
    ) -> BurstSpec {
        BurstSpec {
            nodes: Spanned::new(0..0, nodes),
            replicas: Spanned::new(0..0, replicas),
            placement,
            step: step.map(|(add, secs)| StepSpec {
                add: Spanned::new(0..0, add),
                every: HumanDuration(Duration::from_secs(secs)),
            }),
        }
    }

    #[test]
    fn spread_is_round_robin_and_packed_fills_nodes() {
        let s = schedule(&spec(3, 7, Placement::Spread, None), 3);
        let nodes: Vec<usize> = s.iter().map(|x| x.0).collect();
        assert_eq!(nodes, vec![0, 1, 2, 0, 1, 2, 0]);
        let p = schedule(&spec(3, 7, Placement::Packed, None), 3);
        let nodes: Vec<usize> = p.iter().map(|x| x.0).collect();
        assert_eq!(nodes, vec![0, 0, 0, 1, 1, 1, 2]);
        assert!(s.iter().all(|x| x.1 == Duration::ZERO));
    }

    #[test]
    fn steps_add_replicas_like_an_hpa() {
        let s = schedule(&spec(2, 5, Placement::Spread, Some((2, 15))), 2);
        let offsets: Vec<u64> = s.iter().map(|x| x.1.as_secs()).collect();
        assert_eq!(offsets, vec![0, 0, 15, 15, 30]);
    }
}
