//! A recorded Kubernetes API server for tests: plain HTTP on 127.0.0.1, JSON shaped like a real
//! kube-apiserver's (objects with uids, resourceVersions and creationTimestamps; lists with
//! `metadata.resourceVersion`; newline-delimited watch events; `Status` errors), and scripted:
//! every pod runs a [`Timeline`] (scheduled → Pulling → Pulled → Created → Started → Ready),
//! with kubelet event messages in a chosen Kubernetes version's format.
//!
//! Nodes are real `core/v1` Node objects (list, get, watch; `labelSelector`), the i-th with
//! InternalIP `127.0.0.(10+i)`; the scheduler honors `spec.nodeSelector` (`FailedScheduling`
//! when no node matches). With [`KubeApi::set_registry_hosts`], a node's "kubelet" really pulls
//! images whose registry host is mapped — manifest, config and layers over HTTP from the node's
//! InternalIP, digests checked — and caches them (`already present on machine` next time);
//! without it, pulls are scripted by the timeline.
//!
//! ```ignore
//! let api = KubeApi::start().await;
//! api.set_nodes(&["node-a", "node-b"]);
//! api.set_node_labels("node-b", &[("pool", "pull")]);
//! api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
//! api.set_timeline(Timeline::new(Duration::from_millis(5)).format(KubeletFormat::V1_25).drop("Pulled"));
//! let kubeconfig = write_kubeconfig(dir.path(), api.url());
//! // … run the driver …
//! assert!(api.saw("DELETE", "/api/v1/namespaces/cb-run"));
//! ```
#![allow(dead_code)]

mod deployment;
mod http;
mod images;
mod kubelet;
mod lifecycle;
mod nodes;
mod pull;
mod routes;
mod store;
mod time;
mod watch;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

// Not every test binary that includes `common` uses all of these.
#[allow(unused_imports)]
pub use kubelet::{go_duration, KubeletFormat, Pull};
use lifecycle::{lock, Shared};
use store::{Kind, Store};

/// A pod's scripted life: each step `step` after the previous one.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// The gap between steps (scheduled, Pulling, Pulled, Created, Started, Ready).
    pub step: Duration,
    /// The kubelet's message format.
    pub format: KubeletFormat,
    /// What the `Pulled` message reports (for scripted pulls: a real pull reports itself).
    pub pull: Pull,
    /// Event reasons the kubelet never delivers (rate-limited): `"Pulled"`, `"Scheduled"`…
    pub dropped: Vec<String>,
    /// Containers start but the readiness probe keeps failing (`Unhealthy` event, never Ready).
    pub never_ready: bool,
}

impl Timeline {
    /// Steps `step` apart, 1.30+ messages, a 1.234 s pull, nothing dropped.
    pub fn new(step: Duration) -> Self {
        Timeline {
            step,
            format: KubeletFormat::V1_30,
            pull: Pull::default(),
            dropped: Vec::new(),
            never_ready: false,
        }
    }

    /// Messages in `format`.
    pub fn format(mut self, format: KubeletFormat) -> Self {
        self.format = format;
        self
    }

    /// The `Pulled` message reports `pull`.
    pub fn pull(mut self, pull: Pull) -> Self {
        self.pull = pull;
        self
    }

    /// The event with `reason` is never delivered.
    pub fn drop(mut self, reason: &str) -> Self {
        self.dropped.push(reason.to_string());
        self
    }

    /// The pod never becomes Ready.
    pub fn never_ready(mut self) -> Self {
        self.never_ready = true;
        self
    }
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::new(Duration::from_millis(5))
    }
}

/// One request the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
}

/// The server's state (see `lifecycle` for who changes it).
pub struct Inner {
    store: Store,
    requests: Vec<Recorded>,
    /// The nodes in `set_nodes` order (their objects are in the store).
    nodes: Vec<nodes::NodeState>,
    /// The scheduler's round-robin counter.
    next_node: usize,
    /// Registry host in image references → `IP:PORT` to dial (containerd's hosts.toml).
    registry_hosts: Vec<(String, String)>,
    seq: u64,
    timeline: Timeline,
    timelines: Vec<(String, Timeline)>,
    pod_termination: Duration,
    namespace_termination: Duration,
    proxy_body: String,
}

impl Inner {
    fn new() -> Self {
        let mut inner = Inner {
            store: Store::new(),
            requests: Vec::new(),
            nodes: Vec::new(),
            next_node: 0,
            registry_hosts: Vec::new(),
            seq: 0,
            timeline: Timeline::default(),
            timelines: Vec::new(),
            pod_termination: Duration::from_millis(10),
            namespace_termination: Duration::from_millis(20),
            proxy_body: "hello from coldbench\n".into(),
        };
        for ns in ["default", "kube-system"] {
            let obj = routes::new_namespace(ns);
            inner.store.insert(Kind::Namespace, "", obj);
        }
        nodes::install(&mut inner, &["node-1".to_string()]);
        inner
    }

    /// The timeline of the pod `name`: the first override whose prefix matches, else the default.
    fn timeline_for(&self, name: &str) -> Timeline {
        self.timelines
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map_or_else(|| self.timeline.clone(), |(_, t)| t.clone())
    }

    /// A ReplicaSet-style 10-character hash of `name` (stable per name).
    fn name_hash(&self, name: &str) -> String {
        let h = name.bytes().fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
        encode(h, 10)
    }

    /// A 5-character generated-name suffix.
    fn suffix(&mut self) -> String {
        self.seq += 1;
        encode(self.seq.wrapping_mul(0x9e3779b97f4a7c15), 5)
    }
}

/// Kubernetes' safe alphabet for generated names (no vowels, no look-alikes).
fn encode(mut x: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize] as char;
            x /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// A running recorded API server; stops accepting connections when dropped.
pub struct KubeApi {
    url: String,
    shared: Shared,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl KubeApi {
    /// Starts a server on 127.0.0.1:0 with namespaces `default` and `kube-system` and one node.
    pub async fn start() -> KubeApi {
        let shared: Shared = Arc::new(Mutex::new(Inner::new()));
        let (url, accept) = routes::serve(shared.clone()).await;
        KubeApi {
            url,
            shared,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Replaces the nodes the scheduler assigns pods to (round-robin among those matching a
    /// pod's `nodeSelector`): the i-th (from 0) has InternalIP `127.0.0.(10+i)`, the default
    /// labels and an empty image cache.
    pub fn set_nodes(&self, nodes: &[&str]) {
        assert!(!nodes.is_empty(), "at least one node");
        let names: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
        nodes::install(&mut lock(&self.shared), &names);
    }

    /// Adds (or overwrites) labels of `node`; panics when there is no such node.
    pub fn set_node_labels(&self, node: &str, labels: &[(&str, &str)]) {
        let found = nodes::set_labels(&mut lock(&self.shared), node, labels);
        assert!(found, "no node {node:?}");
    }

    /// The InternalIP of `node` (the source address of its pulls).
    pub fn node_ip(&self, node: &str) -> Option<IpAddr> {
        nodes::state(&lock(&self.shared), node).map(|n| n.ip)
    }

    /// Maps registry hosts of image references (`localhost:5001`) to the `IP:PORT` the nodes
    /// dial, like containerd's hosts.toml. Pods whose image host is mapped really pull (config
    /// and layers, digests checked) from that address; others keep the scripted pull.
    pub fn set_registry_hosts(&self, hosts: &[(&str, &str)]) {
        lock(&self.shared).registry_hosts = hosts
            .iter()
            .map(|(h, d)| (h.to_string(), d.to_string()))
            .collect();
    }

    /// The image references cached on `node` (what `crictl images` lists), oldest first.
    pub fn node_images(&self, node: &str) -> Vec<String> {
        nodes::state(&lock(&self.shared), node)
            .map(|n| n.images.iter().map(|c| c.reference.clone()).collect())
            .unwrap_or_default()
    }

    /// Removes `reference` (by tag or `repo@digest`) from `node`'s cache, as `crictl rmi` does;
    /// true when it was there. The next pod on the node pulls it again.
    pub fn remove_node_image(&self, node: &str, reference: &str) -> bool {
        nodes::remove_image(&mut lock(&self.shared), node, reference)
    }

    /// The timeline of every pod created from now on (unless an override matches).
    pub fn set_timeline(&self, timeline: Timeline) {
        lock(&self.shared).timeline = timeline;
    }

    /// The timeline of pods whose name starts with `prefix` (a deployment's name, say).
    pub fn set_timeline_for(&self, prefix: &str, timeline: Timeline) {
        lock(&self.shared)
            .timelines
            .push((prefix.to_string(), timeline));
    }

    /// How long a deleted namespace stays `Terminating` before it and its contents are gone.
    pub fn set_namespace_termination(&self, after: Duration) {
        lock(&self.shared).namespace_termination = after;
    }

    /// The body the pod proxy answers with.
    pub fn set_proxy_body(&self, body: &str) {
        lock(&self.shared).proxy_body = body.to_string();
    }

    /// etcd compaction: watches from a resourceVersion older than now get `410 Expired`.
    pub fn compact(&self) {
        lock(&self.shared).store.compact();
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// True when a request with `method` and exactly `path` was made.
    pub fn saw(&self, method: &str, path: &str) -> bool {
        self.requests()
            .iter()
            .any(|r| r.method == method && r.path == path)
    }

    /// True while the namespace exists (including while `Terminating`).
    pub fn namespace_exists(&self, name: &str) -> bool {
        lock(&self.shared)
            .store
            .get(Kind::Namespace, "", name)
            .is_some()
    }

    /// The pods in `ns`, as stored.
    pub fn pods(&self, ns: &str) -> Vec<Value> {
        lock(&self.shared).store.list(Kind::Pod, Some(ns))
    }
}

/// Writes `DIR/kubeconfig` whose current context `recorded` points at `server_url` with a dummy
/// bearer token and namespace `default`; returns its path.
pub fn write_kubeconfig(dir: &Path, server_url: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    let yaml = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: recorded\nclusters:\n- name: recorded\n  cluster:\n    server: {server_url}\ncontexts:\n- name: recorded\n  context:\n    cluster: recorded\n    user: tester\n    namespace: default\nusers:\n- name: tester\n  user:\n    token: dummy-token\npreferences: {{}}\n"
    );
    std::fs::write(&path, yaml).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
    path
}

/// The JSON a test may want to compare against: a `Status` failure as the server sends it.
pub fn status_failure(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code})
}
