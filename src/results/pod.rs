//! What a cluster sample adds: the pod's life as the watch showed it (`driver = "kube"`).

use serde::{Deserialize, Serialize};

/// One pod's cold start on a cluster. Instants are µs after the pod was requested (created, or
/// the Deployment scaled), read when the watch delivered each change on the harness's monotonic
/// clock; `None` when it was never seen (kubelet rate-limits its events).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRecord {
    /// The pod's name.
    pub name: String,
    /// The node it ran on (`spec.nodeName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Bound to a node (pod watch: `spec.nodeName` set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_us: Option<u64>,
    /// kubelet's `Pulling` event received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulling_us: Option<u64>,
    /// kubelet's `Pulled` event received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulled_us: Option<u64>,
    /// kubelet's `Created` event received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_us: Option<u64>,
    /// The container running (`Started` event or container status, whichever came first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_us: Option<u64>,
    /// The pod's `Ready` condition true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_us: Option<u64>,
    /// The first expected answer through the API server's pod proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_us: Option<u64>,
    /// The pull duration kubelet wrote in its `Pulled` message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_pull_us: Option<u64>,
    /// The same including the wait in kubelet's pull queue (Kubernetes 1.25+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_pull_waiting_us: Option<u64>,
    /// The image size kubelet reported (Kubernetes 1.30+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_image_size: Option<u64>,
    /// `Pulling` to `Pulled` from the hex nanoseconds ending the events' names (both written by
    /// the node's kubelet on its clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pull_us: Option<u64>,
    /// kubelet said the image was already present on the node (the sample was not cold).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already_present: bool,
    /// Phases left unmeasured because an event they start or end at never arrived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}
