//! Embedded OCI registry (distribution spec subset that docker, containerd and skopeo use),
//! serving blobs through a throttled [`crate::throttle::Path`].
//!
//! Files: `store` (content-addressed disk store), `routes` (paths to endpoints), `handlers`,
//! `manifests`, `blobs`, `upload_routes` and `uploads` (endpoints), `intake` (request bodies
//! under the limits), `body` (paced response bodies), `sent` (when each blob's last byte left
//! each port), `serve` (listeners and connections),
//! `errors` and `reply` (responses).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::throttle::{Link, Path};
use crate::units::Rate;

mod blobs;
mod body;
mod errors;
pub mod faults;
mod handlers;
mod intake;
mod manifests;
mod names;
mod reply;
mod routes;
mod sent;
mod serve;
mod store;
mod upload_routes;
mod uploads;

pub use faults::{FaultConfig, FaultKind, FaultSet, RegistryCounts};
pub use names::{valid_repository, valid_tag};
pub use sent::{BlobSent, MAX_SENT_RECORDS};
pub use store::{BlobWriter, Digest, ManifestInfo, Reference, Store, StoreError};

use faults::{FaultLog, LaneFaults, Scope};
use sent::SentLog;
use serve::{Counters, Lane, Shared};

/// Repository namespace of every image the harness puts in its registry; eviction only ever
/// touches refs under it.
pub const REPO_PREFIX: &str = "coldbench";

/// How to start a registry.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Directory of the content-addressed store (created if missing).
    pub store_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Egress bandwidth shared by every connection; `None` is unlimited.
    pub bandwidth: Option<Rate>,
    /// Delay before each response head (time to first byte).
    pub latency: Duration,
    /// Bounds on connections and blob uploads; `RegistryLimits::default()` for the documented defaults.
    pub limits: RegistryLimits,
}

impl RegistryConfig {
    /// A registry on `listen` over `store_dir`: unlimited bandwidth, no latency, default limits.
    pub fn new(store_dir: PathBuf, listen: SocketAddr) -> RegistryConfig {
        RegistryConfig {
            store_dir,
            listen,
            bandwidth: None,
            latency: Duration::ZERO,
            limits: RegistryLimits::default(),
        }
    }
}

/// Upload sessions open at once by default; one more `POST` answers 429 `TOOMANYREQUESTS`.
pub const MAX_UPLOAD_SESSIONS: usize = 256;
/// By default, an upload session with no request for this long is dropped with its partial blob.
pub const UPLOAD_IDLE_EXPIRY: Duration = Duration::from_secs(60);
/// By default, a request body (blob or manifest) must bring [`UPLOAD_BODY_MIN_BYTES`] (or end)
/// within this time, again and again, or the request fails with 408.
pub const UPLOAD_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes a request body must bring within each body timeout (a trickle slower than this fails).
pub const UPLOAD_BODY_MIN_BYTES: u64 = 4096;
/// Longest `Retry-After` of a 429 beyond the session cap: a finished or cancelled upload frees a
/// slot at once, an idle one within its expiry; the header says the smaller of the two.
pub const UPLOAD_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Connections served at once by default, over all of a registry's ports; more wait in the
/// kernel's accept backlog until one closes.
pub const MAX_CONNECTIONS: usize = 1024;
/// Largest blob one upload may bring by default (as large as the largest synthetic image,
/// [`crate::scenario::limits::MAX_SYNTH_SIZE`]); more answers 413 `SIZE_INVALID`.
pub const MAX_BLOB_SIZE: u64 = 100_000_000_000;
/// Bytes an upload must leave free on the store's filesystem by default; a request that would
/// leave less answers 507 without writing.
pub const FREE_SPACE_RESERVE: u64 = 512 * 1024 * 1024;

/// Bounds on what clients can hold, so hostile or broken ones cannot exhaust descriptors, memory
/// or disk, nor hold a request forever: connections, upload sessions, request bodies and their
/// size on disk. (Connections are here too, so that every `RegistryConfig` keeps its fields.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryLimits {
    /// Upload sessions open at once (default [`MAX_UPLOAD_SESSIONS`]).
    pub max_sessions: usize,
    /// Idle time after which a session expires (default [`UPLOAD_IDLE_EXPIRY`]).
    pub idle_expiry: Duration,
    /// Request body timeout, for blobs and manifests (default [`UPLOAD_BODY_TIMEOUT`]).
    pub body_timeout: Duration,
    /// Connections served at once, at least 1 (default [`MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// Largest blob one upload may bring (default [`MAX_BLOB_SIZE`]).
    pub max_blob_size: u64,
    /// Free bytes an upload must leave on the store's filesystem (default
    /// [`FREE_SPACE_RESERVE`]).
    pub free_space_reserve: u64,
}

impl Default for RegistryLimits {
    fn default() -> Self {
        RegistryLimits {
            max_sessions: MAX_UPLOAD_SESSIONS,
            idle_expiry: UPLOAD_IDLE_EXPIRY,
            body_timeout: UPLOAD_BODY_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            max_blob_size: MAX_BLOB_SIZE,
            free_space_reserve: FREE_SPACE_RESERVE,
        }
    }
}

/// Permits of the connection semaphore: the configured cap, within what a semaphore can hold.
fn connection_permits(limits: &RegistryLimits) -> usize {
    limits.max_connections.clamp(1, Semaphore::MAX_PERMITS)
}

impl RegistryLimits {
    /// The `Retry-After` of a 429 beyond the session cap: [`UPLOAD_RETRY_AFTER`] or the idle
    /// expiry, whichever is shorter, in whole seconds (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let wait = self.idle_expiry.min(UPLOAD_RETRY_AFTER);
        (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
    }
}

/// Bytes the registry has sent in response bodies since it started (monotonic counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServedBytes {
    /// Bytes of blob bodies (configs and layers).
    pub blobs: u64,
    /// Bytes of manifest bodies.
    pub manifests: u64,
}

/// Errors starting or running the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A running registry; dropping it without [`Registry::shutdown`] aborts its tasks.
pub struct Registry {
    addr: SocketAddr,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    /// Deliveries through the main listener.
    sent: Arc<SentLog>,
    egress: Option<Arc<Link>>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// Drops idle upload sessions until shutdown.
    sweeper: Option<JoinHandle<()>>,
    nodes: Vec<NodeLane>,
    /// Requests through the main listener, with their faults.
    requests: Arc<FaultLog>,
    /// The faults asked for, and the registry-wide scope.
    faults: FaultConfig,
    global_scope: Arc<Scope>,
}

/// One emulated node's own port: its downlink, nested under the shared egress link.
struct NodeLane {
    addr: SocketAddr,
    counters: Arc<Counters>,
    sent: Arc<SentLog>,
    requests: Arc<FaultLog>,
    task: Option<JoinHandle<()>>,
}

impl Registry {
    /// Opens the store and starts serving on `config.listen`.
    pub async fn start(config: RegistryConfig) -> Result<Registry, RegistryError> {
        Registry::start_with_faults(config, FaultConfig::default()).await
    }

    /// [`Registry::start`] with faults on purpose (`[registry.faults]`, see [`faults`]).
    pub async fn start_with_faults(
        config: RegistryConfig,
        faults: FaultConfig,
    ) -> Result<Registry, RegistryError> {
        let store = Store::open(&config.store_dir)?;
        let bind_err = |source| RegistryError::Bind {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let egress = config.bandwidth.map(|rate| Arc::new(Link::new(rate)));
        let shared = Arc::new(Shared {
            store,
            uploads: uploads::Uploads::new(config.limits),
            latency: config.latency,
            connections: Arc::new(Semaphore::new(connection_permits(&config.limits))),
        });
        let counters = Arc::new(Counters::default());
        let sent = Arc::new(SentLog::default());
        let global_scope = Arc::new(Scope::new(0, faults.seed, faults.global.clone()));
        let requests = Arc::new(FaultLog::default());
        let lane = Lane {
            path: Path::new(egress.iter().cloned().collect()),
            counters: counters.clone(),
            sent: sent.clone(),
            peer: None,
            faults: Arc::new(LaneFaults {
                scope: global_scope.clone(),
                log: requests.clone(),
            }),
        };
        let (stop, stopped) = watch::channel(false);
        let sweeper = tokio::spawn(uploads::sweep_until(shared.clone(), stopped.clone()));
        let task = tokio::spawn(serve::serve_listener(
            listener,
            lane,
            shared.clone(),
            stopped,
        ));
        tracing::debug!("registry: listening on {addr}");
        Ok(Registry {
            addr,
            shared,
            counters,
            sent,
            egress,
            stop,
            task: Some(task),
            sweeper: Some(sweeper),
            nodes: Vec::new(),
            requests,
            faults,
            global_scope,
        })
    }

    /// Opens a port for one more emulated node on 127.0.0.1: its responses cross the node's own
    /// downlink (`node_bandwidth`, unlimited when `None`) and then the shared egress link, and its
    /// bytes are counted apart. Returns the node's number and address.
    pub async fn add_node(
        &mut self,
        node_bandwidth: Option<Rate>,
    ) -> Result<(usize, SocketAddr), RegistryError> {
        let listen = SocketAddr::from(([127, 0, 0, 1], 0));
        let bind_err = |source| RegistryError::Bind {
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        let links = node_bandwidth
            .map(|rate| Arc::new(Link::new(rate)))
            .into_iter()
            .chain(self.egress.iter().cloned())
            .collect();
        let counters = Arc::new(Counters::default());
        let sent = Arc::new(SentLog::default());
        let index = self.nodes.len();
        // A node with its own set gets its own scope (counter, window); others share the
        // registry's.
        let scope = match self.faults.nodes.get(&index) {
            Some(set) => Arc::new(Scope::new(index as u64 + 1, self.faults.seed, set.clone())),
            None => self.global_scope.clone(),
        };
        let requests = Arc::new(FaultLog::default());
        let lane = Lane {
            path: Path::new(links),
            counters: counters.clone(),
            sent: sent.clone(),
            peer: None,
            faults: Arc::new(LaneFaults {
                scope,
                log: requests.clone(),
            }),
        };
        let task = tokio::spawn(serve::serve_listener(
            listener,
            lane,
            self.shared.clone(),
            self.stop.subscribe(),
        ));
        self.nodes.push(NodeLane {
            addr,
            counters,
            sent,
            requests,
            task: Some(task),
        });
        Ok((self.nodes.len() - 1, addr))
    }

    /// Address of node `index`'s port.
    pub fn node_addr(&self, index: usize) -> Option<SocketAddr> {
        self.nodes.get(index).map(|n| n.addr)
    }

    /// Bytes served through node `index`'s port so far.
    pub fn served_by_node(&self, index: usize) -> ServedBytes {
        self.nodes
            .get(index)
            .map_or_else(ServedBytes::default, |n| n.counters.snapshot())
    }

    /// Blobs whose last byte left through node `index`'s port at or after `from`, oldest first
    /// (the port keeps the latest [`MAX_SENT_RECORDS`]).
    pub fn blobs_sent_to_node(&self, index: usize, from: tokio::time::Instant) -> Vec<BlobSent> {
        self.nodes
            .get(index)
            .map_or_else(Vec::new, |n| n.sent.since(from))
    }

    /// Requests, retries and faults node `index`'s port saw at or after `from` (the port keeps
    /// the latest [`faults::MAX_FAULT_RECORDS`] requests).
    pub fn requests_of_node(&self, index: usize, from: tokio::time::Instant) -> RegistryCounts {
        self.nodes
            .get(index)
            .map_or_else(RegistryCounts::default, |n| n.requests.counts(from))
    }

    /// Requests, retries and faults the main listener saw at or after `from`.
    pub fn requests_of_listener(&self, from: tokio::time::Instant) -> RegistryCounts {
        self.requests.counts(from)
    }

    /// True when faults were asked for (`[registry.faults]`).
    pub fn has_faults(&self) -> bool {
        !self.faults.global.is_quiet() || self.faults.nodes.values().any(|s| !s.is_quiet())
    }

    /// Bytes served through the main listener (not the nodes' ports).
    pub fn served_by_listener(&self) -> ServedBytes {
        self.counters.snapshot()
    }

    /// Blobs whose last byte left through the main listener at or after `from`, oldest first,
    /// with each client's address (the latest [`MAX_SENT_RECORDS`]).
    pub fn blobs_sent(&self, from: tokio::time::Instant) -> Vec<BlobSent> {
        self.sent.since(from)
    }

    /// The address it listens on (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The store behind it, for putting images in directly.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Counters of bytes served so far, through every port.
    pub fn served(&self) -> ServedBytes {
        self.nodes
            .iter()
            .map(|n| n.counters.snapshot())
            .fold(self.counters.snapshot(), |a, b| ServedBytes {
                blobs: a.blobs + b.blobs,
                manifests: a.manifests + b.manifests,
            })
    }

    /// The registry's egress link (`None` when unlimited).
    pub fn egress(&self) -> Option<&Arc<Link>> {
        self.egress.as_ref()
    }

    /// Stops accepting, ends open connections, and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let tasks = self.take_tasks();
        for task in tasks {
            if let Err(e) = task.await {
                tracing::warn!("registry: server task ended badly: {e}");
            }
        }
    }
}

impl Registry {
    /// The server tasks of every port, taken out so they are awaited or aborted once.
    fn take_tasks(&mut self) -> Vec<JoinHandle<()>> {
        self.task
            .take()
            .into_iter()
            .chain(self.sweeper.take())
            .chain(self.nodes.iter_mut().filter_map(|n| n.task.take()))
            .collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let tasks = self.take_tasks();
        for task in tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;
