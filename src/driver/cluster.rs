//! Clusters: nodes whose kubelet, not the harness, pulls, creates and starts. A [`Cluster`]
//! starts pods whole and reports when the watch showed each step ([`PodTimeline`]); the
//! executors (`crate::execute::cluster`) turn that into samples. A cluster driver is still a
//! [`super::Driver`] for everything around the samples (describe, evict, clean-up, teardown)
//! and hands itself out through [`super::Driver::cluster`].

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::kube::pulled::Pulled;
use crate::results::Phase;
use crate::scenario::ReadySpec;

/// A pod to cold-start (or, in a burst, a Deployment's pod template).
#[derive(Debug, Clone)]
pub struct PodRequest {
    /// Pod name (single) or Deployment name (burst); a DNS-1123 label, unique in the run.
    pub name: String,
    /// The run it belongs to (labels it for clean-up).
    pub run_id: String,
    /// Variant name (a label).
    pub variant: String,
    /// Image reference as the nodes see it (`localhost:5001/coldbench/app:s3`).
    pub image: String,
    /// Port the app listens on inside the pod (given to it as `PORT`).
    pub port: u16,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// The first request: path, expected status, and how long to wait for it.
    pub ready: ReadySpec,
}

/// One scale step of a burst: at `offset` after the burst starts, the Deployment gets `replicas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleStep {
    /// When, after the burst's start.
    pub offset: Duration,
    /// Replicas wanted from then on (never fewer than the step before).
    pub replicas: usize,
}

/// When the watch showed each step of one pod's cold start, on the harness's monotonic clock.
/// A step never seen stays `None`: the executor records its phase as unknown, never guessed.
#[derive(Debug, Clone)]
pub struct PodTimeline {
    /// The pod's name.
    pub name: String,
    /// The node it was bound to.
    pub node: Option<String>,
    /// When it was asked for: the create request (single) or the scale request that added it.
    pub requested: Instant,
    /// Bound to a node (`spec.nodeName` set).
    pub scheduled: Option<Instant>,
    /// `Pulling` event received.
    pub pulling: Option<Instant>,
    /// `Pulled` event received.
    pub pulled: Option<Instant>,
    /// `Created` event received.
    pub created: Option<Instant>,
    /// The container running: `Started` event or container status, whichever came first.
    pub started: Option<Instant>,
    /// `Ready` condition true.
    pub ready: Option<Instant>,
    /// First expected answer through the pod proxy.
    pub answered: Option<Instant>,
    /// kubelet's `Pulled` message, parsed.
    pub kubelet_pull: Option<Pulled>,
    /// `Pulling` → `Pulled` from the events' names (hex UnixNano suffixes), when both have one.
    pub event_pull: Option<Duration>,
    /// Why it did not answer (the phase it was in and the reason), or `None` when it did.
    pub failure: Option<(Phase, String)>,
}

impl PodTimeline {
    /// A pod requested at `requested` of which nothing has been seen yet.
    pub fn new(name: impl Into<String>, requested: Instant) -> PodTimeline {
        PodTimeline {
            name: name.into(),
            node: None,
            requested,
            scheduled: None,
            pulling: None,
            pulled: None,
            created: None,
            started: None,
            ready: None,
            answered: None,
            kubelet_pull: None,
            event_pull: None,
            failure: None,
        }
    }
}

/// A cluster that starts pods whole.
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Names of the nodes pods may land on, sorted; a sample's `node` is an index into it.
    fn node_names(&self) -> Vec<String>;

    /// Each node's address as the registry sees its connections (same order as
    /// [`Cluster::node_names`]), when known: the registry's deliveries are attributed to nodes
    /// by peer address. Empty when the cluster cannot tell.
    fn node_addresses(&self) -> Vec<Option<std::net::IpAddr>> {
        Vec::new()
    }

    /// Creates the pod, follows it until its first expected answer, a failure or
    /// `pod.ready.timeout` after creation, then deletes it.
    async fn cold_start(&self, pod: &PodRequest) -> PodTimeline;

    /// Creates a Deployment of `pod` with 0 replicas, scales it on `steps` (offsets after
    /// `t0`), follows every pod until each answered, failed or timed out (`pod.ready.timeout`
    /// after its request), then deletes it. One timeline per pod, in the order they were created.
    async fn burst(&self, pod: &PodRequest, steps: &[ScaleStep], t0: Instant) -> Vec<PodTimeline>;
}
