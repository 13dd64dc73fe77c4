//! Drivers: the nodes a run cold-starts images on, behind one [`Driver`] trait.
//!
//! A driver owns a set of nodes (a fresh dockerd each, engines at given sockets, or the user's
//! engine) from [`setup`] to [`Driver::teardown`]. The executors (`crate::execute`) call it in
//! the kubelet's order — evict, pull, create, start, wait until ready, remove — and time every
//! call themselves on tokio's clock; a driver only reports what the engine alone can tell
//! (per-layer progress). Docker and containerd (fresh nodes over CRI) work that way; a cluster
//! (`kube`), whose kubelets pull and start on their own, plugs in through [`Driver::cluster`]
//! and starts pods whole ([`cluster::Cluster`]). [`sim`] is not a
//! `Driver`: it bypasses the trait, because the model computes whole steps (a burst's nodes
//! share the egress), and [`crate::run::run_scenario`] dispatches a simulated scenario to it.

pub mod cluster;
pub mod containerd;
pub mod docker;
pub mod host;
pub mod kube;
pub mod sim;

use std::collections::BTreeMap;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::progress::Progress;
use crate::results::{EngineContext, LayerTiming, ProbeRecord, StoredImage};
use crate::scenario::{DriverKind, ReadySpec, Scenario};

/// Label put on every container the harness creates, valued with the run id.
pub const RUN_LABEL: &str = "coldbench.run";

/// An image to pull on a node.
#[derive(Debug, Clone)]
pub struct PullSpec {
    /// Reference the node pulls, e.g. `127.0.0.1:41234/coldbench/app:latest`.
    pub reference: String,
    /// The image as stored in the registry: its layers (digests, sizes) and the bytes a cold
    /// pull moves.
    pub image: StoredImage,
}

/// A container to create from a pulled image.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Container name, unique in the run.
    pub name: String,
    /// The run it belongs to (labels it for clean-up).
    pub run_id: String,
    /// Variant name (a label).
    pub variant: String,
    /// The pulled reference.
    pub image: String,
    /// Host port the app listens on (given to it as `PORT`).
    pub port: u16,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// How to tell it is ready.
    pub ready: ReadySpec,
}

/// How the nodes of a run were provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Dedicated daemons started for the run and removed after it.
    Fresh,
    /// Engines at sockets the scenario names.
    Sockets,
    /// A Kubernetes cluster's nodes.
    Cluster,
    /// The user's own engine.
    Engine,
    /// A test double.
    Test,
}

impl NodeKind {
    /// `fresh`, `sockets`, `cluster`, `engine` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Fresh => "fresh",
            NodeKind::Sockets => "sockets",
            NodeKind::Cluster => "cluster",
            NodeKind::Engine => "engine",
            NodeKind::Test => "test",
        }
    }
}

/// How many nodes a run wants.
#[derive(Debug, Clone, Copy)]
pub struct NodeRequest {
    /// Nodes wanted (1 for single cold starts, `[burst] nodes` for bursts).
    pub count: usize,
}

/// A container's first expected answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answered {
    /// When it arrived.
    pub at: Instant,
    /// The probe's attempts and resolution, for drivers that probe the container themselves.
    pub probe: Option<ProbeRecord>,
}

impl Answered {
    /// An answer from a probe on this process's monotonic clock.
    pub fn probed(ready: &crate::measure::probe::Ready) -> Answered {
        Answered {
            at: Instant::from_std(ready.at),
            probe: Some(ready.record()),
        }
    }
}

/// Errors a driver reports outside a sample (a failing sample keeps its own message).
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The engine does not answer.
    #[error("cannot reach the Docker engine at {endpoint}: {cause}\n  start one with `sudo scripts/setup-docker`, or point DOCKER_HOST (or [docker].host in the scenario) at a running engine")]
    Unreachable { endpoint: String, cause: String },
    /// An engine call failed.
    #[error("{what}: {cause}")]
    Engine { what: String, cause: String },
    /// Nodes of this kind cannot be set up here.
    #[error("cannot set up the nodes: {0}")]
    Nodes(String),
    /// The scenario asks for a driver that does not exist yet.
    #[error("{0}")]
    NotImplemented(String),
}

/// A set of nodes that can be made cold and cold-start images, addressed by index `0..nodes()`.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Number of nodes.
    fn nodes(&self) -> usize;
    /// How the nodes were provided.
    fn kind(&self) -> NodeKind;
    /// Facts about node `node`'s engine for the results.
    async fn describe(&self, node: usize) -> Result<EngineContext, DriverError>;
    /// Harness images on the node pulled from another registry address than `registry` (left
    /// by an earlier run that was killed); they may share layers with this run's images.
    async fn stale_refs(&self, node: usize, registry: &str) -> Result<Vec<String>, DriverError>;
    /// Removes the harness's images pulled from `registry` (`host:port`) so the next pull is
    /// cold; no other image is touched.
    async fn evict(&self, node: usize, registry: &str) -> Result<(), DriverError>;
    /// Pulls an image; returns per-layer progress (µs since the call), or the engine's error.
    async fn pull(&self, node: usize, image: &PullSpec) -> Result<Vec<LayerTiming>, String>;
    /// Creates a container from a pulled image.
    async fn create(&self, node: usize, container: &ContainerSpec) -> Result<(), String>;
    /// Starts a created container; returns when the engine says it started.
    async fn start(&self, node: usize, container: &ContainerSpec) -> Result<(), String>;
    /// Waits until the started container gives its first expected answer; returns that instant
    /// (with the probe's resolution when the driver probed), or why it never did (timeout, the
    /// container exited).
    async fn wait_ready(&self, node: usize, container: &ContainerSpec) -> Result<Answered, String>;
    /// Removes a container (forced); failures are logged, not returned.
    async fn remove(&self, node: usize, container: &str);
    /// Removes every container of `run_id` on the node (after an interrupt or an error).
    async fn remove_run(&self, node: usize, run_id: &str) -> Result<usize, DriverError>;
    /// Stops and removes whatever the driver started (fresh daemons and their directories).
    async fn teardown(self: Box<Self>);
    /// The cluster behind this driver when its nodes start pods whole (`kube`): the executors
    /// then start pods through it instead of calling pull, create and start.
    fn cluster(&self) -> Option<&dyn cluster::Cluster> {
        None
    }
}

/// Sets up the nodes the scenario's driver provides.
pub async fn setup(
    scenario: &Scenario,
    request: NodeRequest,
    progress: &Progress,
) -> Result<Box<dyn Driver>, DriverError> {
    match *scenario.file.driver.get_ref() {
        DriverKind::Docker => {
            let driver =
                docker::DockerDriver::setup(&scenario.file.docker, request, progress).await?;
            Ok(Box::new(driver))
        }
        DriverKind::Containerd => {
            let driver =
                containerd::ContainerdDriver::setup(&scenario.file.containerd, request, progress)
                    .await?;
            Ok(Box::new(driver))
        }
        DriverKind::Kube => {
            let driver = kube::KubeDriver::setup(&scenario.file.kube, progress).await?;
            let found = driver.nodes();
            if scenario.file.burst.is_some() && found != request.count {
                // The scheduler places the pods; `[burst] nodes` is what the scenario expected.
                progress.println(format!(
                    "warning: [burst] nodes = {} but the cluster has {found} schedulable node(s) matching [kube] node_selector; the scheduler spreads the replicas over those",
                    request.count
                ));
            }
            Ok(Box::new(driver))
        }
        other => Err(DriverError::NotImplemented(format!(
            "driver = {:?} is not available yet; use driver = \"docker\"",
            format!("{other:?}").to_lowercase()
        ))),
    }
}
