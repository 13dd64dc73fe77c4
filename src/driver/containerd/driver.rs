//! [`ContainerdDriver`]: containerd nodes behind the [`Driver`] trait — fresh ones the harness
//! starts, or running ones at the CRI sockets of `[containerd] node_sockets`
//! ([`super::existing`], which says what those need).
//!
//! Fresh nodes start before the run knows their registry ports, so routing is written when a
//! port is first seen (containerd reads `hosts.toml` on every pull): `evict(node, registry)`,
//! which the executors call before every sample and before reading the byte counters, routes
//! the registry and the pause image's host to the node's port and pins the pause image once.
//! Existing nodes are not reconfigured: they pull loopback registries over plain HTTP
//! unconfigured and run pods with their own sandbox image.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use tokio::time::Instant;

use super::config::{RUNTIME_HANDLER, SNAPSHOTTER};
use super::events::NodeEvents;
use super::existing::ExistingNode;
use super::node::{self, ContainerdNode};
use super::sequence::{self, PodSpec, StartedPod};
use super::Cri;
use crate::driver::docker::is_harness_ref;
use crate::driver::{
    Answered, ContainerSpec, Driver, DriverError, NodeKind, NodeRequest, PullSpec, RUN_LABEL,
};
use crate::image::synth::PAUSE_REPOSITORY;
use crate::measure::probe::{wait_ready_async, ProbeSpec};
use crate::progress::Progress;
use crate::results::{EngineContext, LayerTiming};
use crate::scenario::sockets::socket_path;
use crate::scenario::ContainerdSettings;

/// Registry host of the pause image in every node's config; `hosts.toml` sends it to the
/// node's own registry port.
pub const PAUSE_HOST: &str = "coldbench.pause";

/// The sandbox image every node is configured with.
pub fn pause_reference() -> String {
    format!("{PAUSE_HOST}/{PAUSE_REPOSITORY}:latest")
}

/// One node: started by the harness, or running at a socket.
enum Node {
    Fresh(ContainerdNode),
    Existing(ExistingNode),
}

impl Node {
    fn cri(&self) -> &Cri {
        match self {
            Node::Fresh(n) => n.cri(),
            Node::Existing(n) => n.cri(),
        }
    }

    fn events(&self) -> &NodeEvents {
        match self {
            Node::Fresh(n) => n.events(),
            Node::Existing(n) => n.events(),
        }
    }

    fn socket(&self) -> std::path::PathBuf {
        match self {
            Node::Fresh(n) => n.socket(),
            Node::Existing(n) => n.socket().to_path_buf(),
        }
    }

    /// Where the output of pod `name` goes.
    fn log_dir(&self, name: &str) -> std::path::PathBuf {
        match self {
            Node::Fresh(n) => n.dir().join("logs").join(name),
            Node::Existing(n) => n.log_dir().join(name),
        }
    }

    /// (snapshotter, runtime handler).
    fn storage(&self) -> (Option<String>, Option<String>) {
        match self {
            Node::Fresh(_) => (Some(SNAPSHOTTER.into()), Some(RUNTIME_HANDLER.into())),
            Node::Existing(n) => (
                n.config().snapshotter.clone(),
                n.config().runtime_handler.clone(),
            ),
        }
    }

    /// Stops a fresh node; an existing one is only let go (its pods' logs removed).
    async fn stop(self) {
        if let Node::Fresh(n) = self {
            n.stop().await;
        }
    }
}

/// containerd nodes, cold-starting over CRI.
pub struct ContainerdDriver {
    nodes: Vec<Node>,
    kind: NodeKind,
    /// Pods created and not yet removed, by (node, container name).
    pods: Mutex<HashMap<(usize, String), StartedPod>>,
    /// Nodes whose pause image is pinned.
    pinned: Mutex<HashSet<usize>>,
}

impl ContainerdDriver {
    /// Sets up `request.count` nodes: the first ones of `settings.node_sockets` when it lists
    /// any, else fresh nodes.
    pub async fn setup(
        settings: &ContainerdSettings,
        request: NodeRequest,
        progress: &Progress,
    ) -> Result<ContainerdDriver, DriverError> {
        let wanted = request.count.max(1);
        if settings.node_sockets.is_empty() {
            return Self::fresh(wanted, progress).await;
        }
        let sockets: Vec<&str> = settings
            .node_sockets
            .iter()
            .map(|s| s.get_ref().as_str())
            .collect();
        Self::on_sockets(&sockets, wanted, progress).await
    }

    /// Connects the containerds at the first `wanted` of `sockets` (all when there are fewer);
    /// each must answer CRI and have its sandbox image.
    pub async fn on_sockets(
        sockets: &[&str],
        wanted: usize,
        progress: &Progress,
    ) -> Result<ContainerdDriver, DriverError> {
        if sockets.len() < wanted {
            progress.println(format!(
                "warning: {wanted} nodes wanted but [containerd] node_sockets lists {}: using those",
                sockets.len()
            ));
        }
        let mut nodes = Vec::new();
        for (index, entry) in sockets.iter().take(wanted).enumerate() {
            let path = socket_path(entry)
                .map_err(|why| DriverError::Nodes(format!("containerd node {index}: {why}")))?;
            let node = ExistingNode::connect(index, &path)
                .await
                .map_err(|e| DriverError::Nodes(e.to_string()))?;
            nodes.push(Node::Existing(node));
        }
        Ok(ContainerdDriver::with(nodes, NodeKind::Sockets))
    }

    fn with(nodes: Vec<Node>, kind: NodeKind) -> ContainerdDriver {
        ContainerdDriver {
            nodes,
            kind,
            pods: Mutex::new(HashMap::new()),
            pinned: Mutex::new(HashSet::new()),
        }
    }

    /// Starts `wanted` fresh containerd nodes at once; on any failure stops the started ones
    /// and says why.
    async fn fresh(wanted: usize, progress: &Progress) -> Result<ContainerdDriver, DriverError> {
        node::available().map_err(|why| {
            DriverError::Nodes(format!(
                "{why}; containerd nodes are started by the harness as root (driver = \"containerd\")"
            ))
        })?;
        let spinner = progress.spinner(format!("starting {wanted} fresh containerd node(s)"));
        let pause = pause_reference();
        let started = join_all((0..wanted).map(|i| ContainerdNode::start(i, &pause, &[]))).await;
        spinner.finish_and_clear();
        let mut nodes = Vec::new();
        let mut first_error = None;
        for s in started {
            match s {
                Ok(n) => nodes.push(n),
                Err(e) => first_error = first_error.or(Some(e)),
            }
        }
        if let Some(e) = first_error {
            join_all(nodes.into_iter().map(ContainerdNode::stop)).await;
            return Err(DriverError::Nodes(e.to_string()));
        }
        let nodes = nodes.into_iter().map(Node::Fresh).collect();
        Ok(ContainerdDriver::with(nodes, NodeKind::Fresh))
    }

    fn node(&self, node: usize) -> Result<&Node, String> {
        self.nodes
            .get(node)
            .ok_or_else(|| format!("no node {node} (the driver has {})", self.nodes.len()))
    }

    fn node_or_error(&self, node: usize) -> Result<&Node, DriverError> {
        self.node(node).map_err(DriverError::Nodes)
    }

    fn pod(&self, node: usize, name: &str) -> Result<StartedPod, String> {
        self.pods
            .lock()
            .ok()
            .and_then(|p| p.get(&(node, name.to_string())).cloned())
            .ok_or_else(|| format!("no pod {name} on node {node} (not created?)"))
    }

    /// Routes `registry` and the pause host to a fresh node's port and pins the pause image
    /// once; an existing node needs neither.
    async fn prepare(&self, index: usize, registry: &str) -> Result<(), DriverError> {
        let Node::Fresh(node) = self.node_or_error(index)? else {
            return Ok(());
        };
        let route = |name: &str| {
            node.route_registry(name, registry)
                .map_err(|e| DriverError::Engine {
                    what: format!(
                        "containerd node {index}: writing the registry hosts for {name} under {}",
                        node.dir().display()
                    ),
                    cause: e.to_string(),
                })
        };
        route(registry)?;
        let pinned = self
            .pinned
            .lock()
            .map(|p| p.contains(&index))
            .unwrap_or(false);
        if !pinned {
            route(PAUSE_HOST)?;
            node.cri()
                .pull_image(&pause_reference(), None)
                .await
                .map_err(|e| engine_error(index, "pinning the pause image", e))?;
            if let Ok(mut p) = self.pinned.lock() {
                p.insert(index);
            }
        }
        Ok(())
    }
}

fn engine_error(node: usize, what: &str, e: impl ToString) -> DriverError {
    DriverError::Engine {
        what: format!("containerd node {node}: {what}"),
        cause: e.to_string(),
    }
}

/// Harness refs (`127.0.0.1:PORT/coldbench/…`) among an image's tags.
fn harness_tags(image: &super::cri::api::Image) -> impl Iterator<Item = &String> {
    image.repo_tags.iter().filter(|r| is_harness_ref(r))
}

/// Resolves only if the container stops running: says how it ended.
async fn exited(cri: &Cri, container_id: &str) -> String {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(Some(status)) = cri.container_status(container_id).await {
            if status.state == super::cri::api::ContainerState::ContainerExited as i32 {
                return format!(
                    "the container exited (code {}, {}) before answering; its output is in {}",
                    status.exit_code, status.reason, status.log_path
                );
            }
        }
    }
}

#[async_trait]
impl Driver for ContainerdDriver {
    fn nodes(&self) -> usize {
        self.nodes.len()
    }

    fn kind(&self) -> NodeKind {
        self.kind
    }

    async fn describe(&self, node: usize) -> Result<EngineContext, DriverError> {
        let n = self.node_or_error(node)?;
        let version = n
            .cri()
            .version()
            .await
            .map_err(|e| engine_error(node, "asking its version", e))?;
        let (snapshotter, runtime_handler) = n.storage();
        Ok(EngineContext {
            driver: "containerd".into(),
            endpoint: format!("unix://{}", n.socket().display()),
            node: self.kind.name().into(),
            version: Some(format!(
                "{} {}",
                version.runtime_name, version.runtime_version
            )),
            api_version: Some(version.runtime_api_version),
            storage_driver: None,
            snapshotter,
            runtime_handler,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|k| k.trim().to_string()),
            os: Some(std::env::consts::OS.into()),
        })
    }

    async fn stale_refs(&self, node: usize, registry: &str) -> Result<Vec<String>, DriverError> {
        let images = self
            .node_or_error(node)?
            .cri()
            .list_images()
            .await
            .map_err(|e| engine_error(node, "listing images", e))?;
        let own = format!("{registry}/");
        Ok(images
            .iter()
            .flat_map(harness_tags)
            .filter(|r| !r.starts_with(&own))
            .cloned()
            .collect())
    }

    async fn evict(&self, node: usize, registry: &str) -> Result<(), DriverError> {
        self.prepare(node, registry).await?;
        let cri = self.node_or_error(node)?.cri();
        let images = cri
            .list_images()
            .await
            .map_err(|e| engine_error(node, "listing images", e))?;
        let own = format!("{registry}/");
        for image in images {
            if harness_tags(&image).any(|r| r.starts_with(&own)) {
                // The last reference goes with a synchronous garbage collection of its content.
                cri.remove_image(&image.id)
                    .await
                    .map_err(|e| engine_error(node, "removing a harness image", e))?;
            }
        }
        Ok(())
    }

    /// CRI reports no per-layer progress: extraction times come from the node's snapshot events
    /// (downloads are the registry's to time).
    async fn pull(&self, node: usize, image: &PullSpec) -> Result<Vec<LayerTiming>, String> {
        let n = self.node(node)?;
        let start = Instant::now();
        n.cri()
            .pull_image(&image.reference, None)
            .await
            .map_err(|e| e.to_string())?;
        Ok(n.events().layer_timings(&image.image.layers, start).await)
    }

    async fn create(&self, node: usize, container: &ContainerSpec) -> Result<(), String> {
        let n = self.node(node)?;
        let pod = PodSpec {
            name: container.name.clone(),
            run_id: container.run_id.clone(),
            image: container.image.clone(),
            port: container.port,
            env: container.env.clone(),
            log_dir: Some(n.log_dir(&container.name)),
        };
        let (started, _) = sequence::create(n.cri(), &pod).await?;
        if let Ok(mut pods) = self.pods.lock() {
            pods.insert((node, container.name.clone()), started);
        }
        Ok(())
    }

    async fn start(&self, node: usize, container: &ContainerSpec) -> Result<(), String> {
        let pod = self.pod(node, &container.name)?;
        self.node(node)?
            .cri()
            .start_container(&pod.container_id)
            .await
            .map_err(|e| e.to_string())
    }

    async fn wait_ready(&self, node: usize, container: &ContainerSpec) -> Result<Answered, String> {
        let pod = self.pod(node, &container.name)?;
        let cri = self.node(node)?.cri();
        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spec = ProbeSpec {
            port: container.port,
            path: container.ready.http.get_ref().clone(),
            status: container.ready.status,
            timeout: container.ready.timeout.0,
            cancel: Some(cancel.clone()),
        };
        let result = tokio::select! {
            probed = wait_ready_async(spec) => probed
                .map(|ready| Answered::probed(&ready))
                .map_err(|e| e.to_string()),
            exit = exited(cri, &pod.container_id) => Err(exit),
        };
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    }

    async fn remove(&self, node: usize, container: &str) {
        let pod = self
            .pods
            .lock()
            .ok()
            .and_then(|mut p| p.remove(&(node, container.to_string())));
        if let (Some(pod), Ok(n)) = (pod, self.node(node)) {
            if let Err(e) = n.cri().stop_and_remove_sandbox(&pod.sandbox_id).await {
                tracing::warn!("containerd node {node}: removing pod {container}: {e}");
            }
        }
    }

    async fn remove_run(&self, node: usize, run_id: &str) -> Result<usize, DriverError> {
        let cri = self.node_or_error(node)?.cri();
        let labels = HashMap::from([(RUN_LABEL.to_string(), run_id.to_string())]);
        let sandboxes = cri
            .list_sandboxes(labels)
            .await
            .map_err(|e| engine_error(node, "listing the run's pods", e))?;
        for s in &sandboxes {
            cri.stop_and_remove_sandbox(&s.id)
                .await
                .map_err(|e| engine_error(node, "removing a pod of the run", e))?;
        }
        if let Ok(mut pods) = self.pods.lock() {
            pods.retain(|(n, _), _| *n != node);
        }
        Ok(sandboxes.len())
    }

    async fn teardown(self: Box<Self>) {
        join_all(self.nodes.into_iter().map(Node::stop)).await;
    }
}
