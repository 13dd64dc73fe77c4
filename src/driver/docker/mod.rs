//! The Docker driver: each node is a Docker engine — a fresh dockerd started for the run (the
//! default as root), an engine at a socket the scenario names, or the user's own engine.

pub mod daemon;
pub mod engine;

use async_trait::async_trait;
use futures_util::future::join_all;

use self::daemon::NodeDaemon;
pub use self::engine::{connect, is_harness_ref, Engine};
use super::{Answered, ContainerSpec, Driver, DriverError, NodeKind, NodeRequest, PullSpec};
use crate::progress::Progress;
use crate::results::{EngineContext, LayerTiming};
use crate::scenario::{DockerSettings, NodeChoice};

/// Docker nodes: one [`Engine`] per node, and the daemons started for them.
pub struct DockerDriver {
    engines: Vec<Engine>,
    daemons: Vec<NodeDaemon>,
    kind: NodeKind,
}

impl DockerDriver {
    /// Sets up `request.count` nodes as `[docker]` says: the sockets in `node_sockets`, else
    /// fresh dockerds (`node = "fresh"`, or `auto` as root), else one node on the user's engine.
    pub async fn setup(
        settings: &DockerSettings,
        request: NodeRequest,
        progress: &Progress,
    ) -> Result<DockerDriver, DriverError> {
        let wanted = request.count.max(1);
        if !settings.node_sockets.is_empty() {
            return Self::on_sockets(&settings.node_sockets, wanted, progress).await;
        }
        let fresh = match settings.node {
            NodeChoice::Engine => Err("[docker] node = \"engine\"".to_string()),
            NodeChoice::Fresh => Ok(daemon::available().map_err(|why| {
                DriverError::Nodes(format!(
                    "{why}; set [docker] node = \"engine\" to measure on your engine instead"
                ))
            })?),
            NodeChoice::Auto => daemon::available(),
        };
        match fresh {
            Ok(_) => Self::fresh(wanted, progress).await,
            Err(why) => {
                if wanted > 1 {
                    progress.println(format!(
                        "warning: {why}, so the burst runs on 1 node (your engine) instead of {wanted} fresh nodes (or list engines in [docker] node_sockets)"
                    ));
                }
                let engine = Engine::connect(settings.host.as_deref()).await?;
                Ok(DockerDriver {
                    engines: vec![engine],
                    daemons: Vec::new(),
                    kind: NodeKind::Engine,
                })
            }
        }
    }

    /// Connects the first `wanted` engines of `sockets` (all of them when there are fewer).
    async fn on_sockets(
        sockets: &[String],
        wanted: usize,
        progress: &Progress,
    ) -> Result<DockerDriver, DriverError> {
        if sockets.len() < wanted {
            progress.println(format!(
                "warning: {wanted} nodes wanted but [docker] node_sockets lists {}: using those",
                sockets.len()
            ));
        }
        let mut engines = Vec::new();
        for socket in sockets.iter().take(wanted) {
            engines.push(Engine::connect(Some(socket)).await?);
        }
        Ok(DockerDriver {
            engines,
            daemons: Vec::new(),
            kind: NodeKind::Sockets,
        })
    }

    /// Starts `wanted` fresh dockerds at once; on any failure stops the started ones.
    async fn fresh(wanted: usize, progress: &Progress) -> Result<DockerDriver, DriverError> {
        let spinner = progress.spinner(format!(
            "starting {wanted} fresh node(s) (dedicated dockerd)"
        ));
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
            join_all(daemons.into_iter().map(NodeDaemon::stop)).await;
            return Err(DriverError::Nodes(e.to_string()));
        }
        let mut driver = DockerDriver {
            engines: Vec::new(),
            daemons,
            kind: NodeKind::Fresh,
        };
        for host in driver
            .daemons
            .iter()
            .map(NodeDaemon::host)
            .collect::<Vec<_>>()
        {
            match Engine::connect(Some(&host)).await {
                Ok(engine) => driver.engines.push(engine),
                Err(e) => {
                    Box::new(driver).teardown().await;
                    return Err(e);
                }
            }
        }
        Ok(driver)
    }

    fn engine(&self, node: usize) -> Result<&Engine, String> {
        self.engines
            .get(node)
            .ok_or_else(|| format!("no node {node} (the driver has {})", self.engines.len()))
    }

    fn engine_or_error(&self, node: usize) -> Result<&Engine, DriverError> {
        self.engine(node).map_err(DriverError::Nodes)
    }
}

#[async_trait]
impl Driver for DockerDriver {
    fn nodes(&self) -> usize {
        self.engines.len()
    }

    fn kind(&self) -> NodeKind {
        self.kind
    }

    async fn describe(&self, node: usize) -> Result<EngineContext, DriverError> {
        self.engine_or_error(node)?.describe().await
    }

    async fn stale_refs(&self, node: usize, registry: &str) -> Result<Vec<String>, DriverError> {
        self.engine_or_error(node)?.stale_refs(registry).await
    }

    async fn evict(&self, node: usize, registry: &str) -> Result<(), DriverError> {
        self.engine_or_error(node)?.evict(registry).await
    }

    async fn pull(&self, node: usize, image: &PullSpec) -> Result<Vec<LayerTiming>, String> {
        self.engine(node)?.pull(image).await
    }

    async fn create(&self, node: usize, container: &ContainerSpec) -> Result<(), String> {
        self.engine(node)?.create(container).await
    }

    async fn start(&self, node: usize, container: &ContainerSpec) -> Result<(), String> {
        self.engine(node)?.start(&container.name).await
    }

    async fn wait_ready(&self, node: usize, container: &ContainerSpec) -> Result<Answered, String> {
        self.engine(node)?.wait_ready(container).await
    }

    async fn remove(&self, node: usize, container: &str) {
        if let Ok(engine) = self.engine(node) {
            engine.remove(container).await;
        }
    }

    async fn remove_run(&self, node: usize, run_id: &str) -> Result<usize, DriverError> {
        self.engine_or_error(node)?.remove_run(run_id).await
    }

    async fn teardown(self: Box<Self>) {
        join_all(self.daemons.into_iter().map(NodeDaemon::stop)).await;
    }
}
