//! The cluster's nodes: `core/v1` Node objects in the store (list, get and watch come with it),
//! each with an InternalIP on loopback (`127.0.0.(10+i)` for the i-th node, from 0) that its
//! "kubelet" pulls from, labels the scheduler matches `spec.nodeSelector` against, and an image
//! cache reported in `status.images`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::store::{label, Kind};
use super::Inner;

/// One image in a node's cache (what `crictl images` lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedImage {
    /// The reference the pod named (`localhost:5001/coldbench/app:latest`).
    pub reference: String,
    /// The digest of the manifest (or index) the reference resolved to.
    pub digest: String,
    /// Config plus compressed layers, in bytes.
    pub size: u64,
}

impl CachedImage {
    /// `repo@sha256:…`: the reference pinned to the digest (a container's `imageID`).
    pub fn pinned(&self) -> String {
        format!("{}@{}", repository(&self.reference), self.digest)
    }

    /// True when `reference` names this image, by tag or by digest.
    pub fn answers_to(&self, reference: &str) -> bool {
        self.reference == reference || self.pinned() == reference
    }
}

/// The reference without its tag or digest.
fn repository(reference: &str) -> &str {
    if let Some((repo, _)) = reference.split_once('@') {
        return repo;
    }
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => reference,
    }
}

/// A node the double keeps beside its stored object: where it is and what it has cached.
#[derive(Clone, Debug)]
pub struct NodeState {
    pub name: String,
    pub ip: IpAddr,
    pub images: Vec<CachedImage>,
    /// Held by the pull under way: the kubelet pulls one image at a time.
    pub pulls: Arc<tokio::sync::Mutex<()>>,
}

/// The InternalIP of the `index`-th node (from 0): `127.0.0.(10+index)`.
pub fn node_ip(index: usize) -> IpAddr {
    let last = u8::try_from(10 + index).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Replaces the nodes: the old ones leave the store, the new ones come with default labels and
/// empty caches.
pub fn install(inner: &mut Inner, names: &[String]) {
    for old in std::mem::take(&mut inner.nodes) {
        inner.store.remove(Kind::Node, "", &old.name);
    }
    for (i, name) in names.iter().enumerate() {
        let state = NodeState {
            name: name.clone(),
            ip: node_ip(i),
            images: Vec::new(),
            pulls: Arc::default(),
        };
        inner.store.insert(Kind::Node, "", node_object(&state, i));
        inner.nodes.push(state);
    }
    inner.next_node = 0;
}

/// Adds (or overwrites) labels of `node`; false when there is no such node.
pub fn set_labels(inner: &mut Inner, node: &str, labels: &[(&str, &str)]) -> bool {
    inner
        .store
        .modify(Kind::Node, "", node, |n| {
            for (k, v) in labels {
                n["metadata"]["labels"][*k] = json!(v);
            }
        })
        .is_some()
}

/// The node's state, if it exists.
pub fn state<'a>(inner: &'a Inner, node: &str) -> Option<&'a NodeState> {
    inner.nodes.iter().find(|n| n.name == node)
}

/// Caches `image` on `node` (replacing an entry for the same reference) and republishes the node.
pub fn cache_image(inner: &mut Inner, node: &str, image: CachedImage) {
    if let Some(n) = inner.nodes.iter_mut().find(|n| n.name == node) {
        n.images.retain(|c| c.reference != image.reference);
        n.images.push(image);
    }
    publish_images(inner, node);
}

/// Forgets `reference` on `node` (`crictl rmi`); true when it was cached.
pub fn remove_image(inner: &mut Inner, node: &str, reference: &str) -> bool {
    let Some(n) = inner.nodes.iter_mut().find(|n| n.name == node) else {
        return false;
    };
    let before = n.images.len();
    n.images.retain(|c| !c.answers_to(reference));
    let removed = n.images.len() != before;
    if removed {
        publish_images(inner, node);
    }
    removed
}

/// The cached image `reference` on `node`, if any.
pub fn cached(inner: &Inner, node: &str, reference: &str) -> Option<CachedImage> {
    state(inner, node)?
        .images
        .iter()
        .find(|c| c.answers_to(reference))
        .cloned()
}

/// Rewrites the stored node's `status.images` from its cache.
fn publish_images(inner: &mut Inner, node: &str) {
    let Some(images) = state(inner, node).map(|n| images_json(&n.images)) else {
        return;
    };
    inner.store.modify(Kind::Node, "", node, |n| {
        n["status"]["images"] = images;
    });
}

/// `status.images`: digest-pinned and tagged names with the size, as the kubelet reports them.
fn images_json(images: &[CachedImage]) -> Value {
    Value::Array(
        images
            .iter()
            .map(|c| json!({"names": [c.pinned(), c.reference], "sizeBytes": c.size}))
            .collect(),
    )
}

/// The scheduler's pick for a pod with `selector` (its `spec.nodeSelector`): round-robin among
/// the matching nodes; `Err(total nodes)` when none matches.
pub fn pick(inner: &mut Inner, selector: &Map<String, Value>) -> Result<String, usize> {
    let matching: Vec<String> = inner
        .nodes
        .iter()
        .filter(|n| {
            let obj = inner.store.get(Kind::Node, "", &n.name);
            selector
                .iter()
                .all(|(k, v)| obj.and_then(|o| label(o, k)).as_deref() == v.as_str())
        })
        .map(|n| n.name.clone())
        .collect();
    if matching.is_empty() {
        return Err(inner.nodes.len());
    }
    let node = matching[inner.next_node % matching.len()].clone();
    inner.next_node += 1;
    Ok(node)
}

/// The scheduler's `FailedScheduling` message when no node matches the pod's selector.
pub fn unschedulable_message(total: usize) -> String {
    format!(
        "0/{total} nodes are available: {total} node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
    )
}

/// A Node as a kind cluster's kubelet registers it.
fn node_object(state: &NodeState, index: usize) -> Value {
    let name = &state.name;
    let now = super::time::now_seconds();
    let labels: BTreeMap<&str, &str> = [
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", name.as_str()),
        ("kubernetes.io/os", "linux"),
    ]
    .into_iter()
    .collect();
    let resources = json!({"cpu": "8", "ephemeral-storage": "102625208Ki",
        "hugepages-2Mi": "0", "memory": "16318180Ki", "pods": "110"});
    let condition = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    json!({
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": format!("10.244.{index}.0/24"),
            "podCIDRs": [format!("10.244.{index}.0/24")],
            "providerID": format!("kind://docker/kind/{name}"),
        },
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": state.ip.to_string()},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", index + 1),
                "systemUUID": format!("6f1c2a3e-0000-4000-9000-{:012x}", index + 1),
                "bootID": format!("b0070000-0000-4000-8000-{:012x}", index + 1),
                "kernelVersion": "6.8.0-48-generic",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://2.1.3",
                "kubeletVersion": "v1.35.0",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": images_json(&state.images),
        },
    })
}
