//! The Kubernetes driver (`driver = "kube"`): a cluster's nodes, reached through the API server
//! with kube-rs. Its kubelets pull, create and start; the driver creates pods (single cold
//! starts) or scales a Deployment (bursts) in a namespace made for the run, follows them with
//! `kube::runtime::watcher` on pods and events ([`watch`], [`tracker`]), and makes the first
//! request through the API server's pod proxy ([`probe`]). It plugs into the executors as a
//! [`Cluster`]; as a [`Driver`] it only describes nodes, evicts (kind) and cleans up.
//!
//! Cold without node access: by default each sample's image is a salted copy no node can have
//! ([`crate::image::salt`], done by the executor); with `cold = "evict"` the image is removed
//! from kind's node containers with `crictl rmi` ([`evict`]).
//!
//! Tested against the recorded API in `tests/common/kube_api/` (`tests/kube_driver.rs`,
//! `tests/kube_cli.rs`); the `#[ignore = "needs a cluster"]` tests run on a real one.

pub mod burst;
pub mod connect;
pub mod evict;
pub mod follow;
pub mod namespace;
pub mod objects;
pub mod probe;
pub mod pulled;
pub mod single;
pub mod tracker;
pub mod watch;

use std::net::IpAddr;
use std::path::Path;

use async_trait::async_trait;
use tokio::time::Instant;

use self::connect::{Clients, NodeInfo};
use self::objects::PodSettings;
use super::cluster::{Cluster, PodRequest, PodTimeline, ScaleStep};
use super::{Answered, ContainerSpec, Driver, DriverError, NodeKind, PullSpec};
use crate::progress::Progress;
use crate::results::{EngineContext, LayerTiming};
use crate::scenario::{ColdMode, KubeSettings};

/// A cluster's nodes and the run's namespace on it.
pub struct KubeDriver {
    clients: Clients,
    namespace: String,
    nodes: Vec<NodeInfo>,
    pods: PodSettings,
    cold: ColdMode,
}

impl KubeDriver {
    /// Connects with the kubeconfig (`[kube] context`, default the current one), lists the
    /// nodes matching `[kube] node_selector` and creates the run's namespace.
    pub async fn setup(
        settings: &KubeSettings,
        progress: &Progress,
    ) -> Result<KubeDriver, DriverError> {
        Self::setup_with(None, settings, progress).await
    }

    /// [`KubeDriver::setup`] with the kubeconfig at `kubeconfig` instead of the default one.
    pub async fn setup_with(
        kubeconfig: Option<&Path>,
        settings: &KubeSettings,
        progress: &Progress,
    ) -> Result<KubeDriver, DriverError> {
        let context = settings.context.as_ref().map(|c| c.get_ref().as_str());
        let clients = connect::connect(kubeconfig, context).await?;
        let selector = settings
            .node_selector
            .iter()
            .map(|(k, v)| (k.clone(), v.get_ref().clone()))
            .collect();
        let nodes = connect::list_nodes(&clients.api, &clients.server, &selector).await?;
        let prefix = settings
            .namespace
            .as_ref()
            .map_or(namespace::DEFAULT_PREFIX, |n| n.get_ref().as_str());
        let ns = namespace::fresh_name(prefix);
        namespace::create(&clients.api, &ns).await?;
        progress.println(format!(
            "cluster {}: {} node(s), namespace {ns} (deleted at the end)",
            clients.server,
            nodes.len()
        ));
        Ok(KubeDriver {
            clients,
            namespace: ns,
            nodes,
            pods: PodSettings {
                node_selector: selector,
                cpu: settings.cpu.as_ref().map(|c| c.get_ref().clone()),
                memory: settings.memory.as_ref().map(|m| m.get_ref().clone()),
            },
            cold: settings.cold,
        })
    }

    /// The run's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The nodes pods may land on.
    pub fn node_infos(&self) -> &[NodeInfo] {
        &self.nodes
    }
}

const STARTS_PODS_WHOLE: &str =
    "the kube driver starts pods whole (through Cluster), not step by step";

#[async_trait]
impl Driver for KubeDriver {
    fn nodes(&self) -> usize {
        self.nodes.len()
    }

    fn kind(&self) -> NodeKind {
        NodeKind::Cluster
    }

    async fn describe(&self, node: usize) -> Result<EngineContext, DriverError> {
        let info = self.nodes.get(node);
        let field = |f: fn(&NodeInfo) -> &Option<String>| info.and_then(|i| f(i).clone());
        Ok(EngineContext {
            driver: "kube".into(),
            endpoint: format!("{} (namespace {})", self.clients.server, self.namespace),
            node: String::new(),
            version: field(|i| &i.runtime),
            api_version: field(|i| &i.kubelet),
            storage_driver: None,
            snapshotter: None,
            runtime_handler: None,
            kernel: field(|i| &i.kernel),
            os: field(|i| &i.os),
        })
    }

    async fn stale_refs(&self, _: usize, _: &str) -> Result<Vec<String>, DriverError> {
        Ok(Vec::new())
    }

    async fn evict(&self, node: usize, registry: &str) -> Result<(), DriverError> {
        match (self.cold, self.nodes.get(node)) {
            (ColdMode::Evict, Some(info)) => evict::evict(&info.name, registry).await,
            _ => Ok(()),
        }
    }

    async fn pull(&self, _: usize, _: &PullSpec) -> Result<Vec<LayerTiming>, String> {
        Err(STARTS_PODS_WHOLE.into())
    }

    async fn create(&self, _: usize, _: &ContainerSpec) -> Result<(), String> {
        Err(STARTS_PODS_WHOLE.into())
    }

    async fn start(&self, _: usize, _: &ContainerSpec) -> Result<(), String> {
        Err(STARTS_PODS_WHOLE.into())
    }

    async fn wait_ready(&self, _: usize, _: &ContainerSpec) -> Result<Answered, String> {
        Err(STARTS_PODS_WHOLE.into())
    }

    async fn remove(&self, _: usize, _: &str) {}

    /// Pods are removed with the namespace at teardown.
    async fn remove_run(&self, _: usize, _: &str) -> Result<usize, DriverError> {
        Ok(0)
    }

    async fn teardown(self: Box<Self>) {
        if let Some(warning) = namespace::delete(&self.clients.api, &self.namespace).await {
            eprintln!("warning: {warning}");
        }
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        Some(self)
    }
}

#[async_trait]
impl Cluster for KubeDriver {
    fn node_names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    fn node_addresses(&self) -> Vec<Option<IpAddr>> {
        self.nodes.iter().map(|n| n.address).collect()
    }

    async fn cold_start(&self, pod: &PodRequest) -> PodTimeline {
        single::cold_start(self, pod).await
    }

    async fn burst(&self, pod: &PodRequest, steps: &[ScaleStep], t0: Instant) -> Vec<PodTimeline> {
        burst::burst(self, pod, steps, t0).await
    }
}
