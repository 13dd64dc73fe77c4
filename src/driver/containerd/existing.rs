//! Existing containerd nodes: running containerds the scenario names by their CRI sockets
//! (`[containerd] node_sockets`). The harness starts, configures and stops nothing there; it
//! pulls, runs and removes its own pods and images over CRI, as on fresh nodes.
//!
//! What such a node needs (containerd 1.6.20 checked; see the README's containerd section):
//! - **This host's network**: the harness's registry and the pods' first request are on
//!   127.0.0.1, so containerd must run on this host, not inside a container (kind's nodes have
//!   their own loopback), and host-network pods must be allowed.
//! - **Plain HTTP to `127.0.0.1:PORT`**: containerd's CRI pulls from loopback registry hosts
//!   over plain HTTP with no configuration, with or without `config_path`; only configuration
//!   naming other endpoints for them first (a `hosts.toml` for that host or `_default`, legacy
//!   `mirrors` for `"*"`) could get in the way. The harness writes nothing into the node's
//!   registry configuration.
//! - **Its sandbox image present**: the harness cannot pin its own pause image on a node it did
//!   not configure, so pods use the node's `sandbox_image` (the CRI `Status` config). Set-up
//!   fails when the node does not have it, because pulling it during the first `RunPodSandbox`
//!   would be timed as part of `create` (or fail offline).
//! - On nested or unprivileged hosts, `restrict_oom_score_adj = true` in its CRI config (runc
//!   cannot set the sandbox's `oom_score_adj` there).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cri::{Cri, CriError};
use super::events::NodeEvents;
use crate::scenario::sockets::check_is_socket;

/// How long a node may take to answer `Version` and `Status` at set-up.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an existing node cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExistingError {
    /// The path is not a socket (any more).
    #[error("containerd node {index}: {why}")]
    NotSocket { index: usize, why: String },
    /// Nothing answers CRI there.
    #[error("containerd node {index}: no CRI answer on {socket}: {cause}\n  is containerd running there with its CRI plugin (not in disabled_plugins, as Docker's own containerd has it), and may this user use the socket?")]
    NoAnswer {
        index: usize,
        socket: String,
        cause: String,
    },
    /// The node lacks its sandbox image.
    #[error("containerd node {index} ({socket}) does not have its sandbox image {image} (sandbox_image in its CRI config): pulling it during the first pod would be timed as create, or fail offline\n  pull it once before the run: crictl --runtime-endpoint unix://{socket} pull {image} (offline: ctr --address {socket} -n k8s.io images import pause.tar), or set sandbox_image to an image the node has and restart containerd")]
    NoSandboxImage {
        index: usize,
        socket: String,
        image: String,
    },
    /// Listing its images failed.
    #[error("containerd node {index}: {source}")]
    Call { index: usize, source: CriError },
}

/// What a node's CRI config says, from `Status` (verbose).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CriConfig {
    /// `sandbox_image` (`sandboxImage`).
    pub sandbox_image: Option<String>,
    /// `containerd.snapshotter`.
    pub snapshotter: Option<String>,
    /// `containerd.default_runtime_name`: the handler of pods that name none, as coldbench's.
    pub runtime_handler: Option<String>,
}

impl CriConfig {
    /// Reads the JSON `config` of a verbose `Status` answer's `info`; what is absent (another
    /// CRI runtime, another layout) stays `None`.
    pub fn from_status_info(info: &HashMap<String, String>) -> CriConfig {
        let Some(config) = info
            .get("config")
            .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        else {
            return CriConfig::default();
        };
        let text = |pointer: &str| {
            config
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        CriConfig {
            sandbox_image: text("/sandboxImage"),
            snapshotter: text("/containerd/snapshotter"),
            runtime_handler: text("/containerd/defaultRuntimeName"),
        }
    }
}

/// A running containerd at a CRI socket, used as a node.
pub struct ExistingNode {
    socket: PathBuf,
    cri: Cri,
    config: CriConfig,
    /// Where its pods' output goes (removed at teardown).
    logs: tempfile::TempDir,
    /// Its snapshot events (extraction times of its pulls).
    events: NodeEvents,
}

impl ExistingNode {
    /// Connects node `index` at `socket`: it must answer CRI and have its sandbox image.
    pub async fn connect(index: usize, socket: &Path) -> Result<ExistingNode, ExistingError> {
        check_is_socket(socket).map_err(|why| ExistingError::NotSocket { index, why })?;
        let shown = socket.display().to_string();
        let no_answer = |cause: String| ExistingError::NoAnswer {
            index,
            socket: shown.clone(),
            cause,
        };
        let cri = Cri::connect(socket)
            .await
            .map_err(|e| no_answer(cause(e)))?;
        let status = tokio::time::timeout(ANSWER_TIMEOUT, async {
            cri.version().await?;
            cri.status().await
        })
        .await
        .map_err(|_| no_answer(format!("no answer within {ANSWER_TIMEOUT:?}")))?
        .map_err(|e| no_answer(cause(e)))?;
        let config = CriConfig::from_status_info(&status.info);
        match &config.sandbox_image {
            Some(image) => check_sandbox_image(index, &cri, image).await?,
            None => tracing::warn!(
                "containerd node {index} ({}): its CRI Status names no sandbox image, so it cannot \
                 be checked; if the first pod has to pull it, that sample's create time includes the pull",
                socket.display()
            ),
        }
        let logs = tempfile::Builder::new()
            .prefix("coldbench-cri-logs-")
            .tempdir()
            .map_err(|e| no_answer(format!("creating a log directory for its pods: {e}")))?;
        // Subscribed before any pull, so no pull waits for it.
        let events = NodeEvents::open(socket, index).await;
        Ok(ExistingNode {
            socket: socket.to_path_buf(),
            cri,
            config,
            logs,
            events,
        })
    }

    /// The node's snapshot events (extraction times of its pulls).
    pub fn events(&self) -> &NodeEvents {
        &self.events
    }

    /// The node's CRI client.
    pub fn cri(&self) -> &Cri {
        &self.cri
    }

    /// The node's CRI socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// What its CRI config says.
    pub fn config(&self) -> &CriConfig {
        &self.config
    }

    /// Where its pods' output goes.
    pub fn log_dir(&self) -> &Path {
        self.logs.path()
    }
}

/// What went wrong, without the socket and advice [`ExistingError::NoAnswer`] gives itself.
fn cause(e: CriError) -> String {
    match e {
        CriError::Connect { cause, .. } => cause,
        CriError::Call { call, status, .. } => format!("CRI {call}: {status}"),
    }
}

/// Fails unless the node has `image`.
async fn check_sandbox_image(index: usize, cri: &Cri, image: &str) -> Result<(), ExistingError> {
    let images = cri
        .list_images()
        .await
        .map_err(|source| ExistingError::Call { index, source })?;
    let wanted = normalized(image);
    let present = images.iter().any(|i| {
        i.id == image
            || i.repo_tags
                .iter()
                .chain(&i.repo_digests)
                .any(|r| normalized(r) == wanted)
    });
    if present {
        return Ok(());
    }
    Err(ExistingError::NoSandboxImage {
        index,
        socket: cri.socket().display().to_string(),
        image: image.to_string(),
    })
}

/// A reference as containerd names it: `pause:3.6` is `docker.io/library/pause:3.6`, an
/// untagged name is `:latest`.
fn normalized(reference: &str) -> String {
    let (name, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let first = name.split('/').next().unwrap_or_default();
    let has_host =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = match (has_host, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    };
    let last = full.rsplit('/').next().unwrap_or_default();
    match digest {
        Some(d) => format!("{full}@{d}"),
        None => {
            if !last.contains(':') {
                full.push_str(":latest");
            }
            full
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_comes_from_status_info() {
        let info = HashMap::from([(
            "config".to_string(),
            r#"{"containerd":{"snapshotter":"overlayfs","defaultRuntimeName":"runc"},"sandboxImage":"registry.k8s.io/pause:3.6"}"#
                .to_string(),
        )]);
        assert_eq!(
            CriConfig::from_status_info(&info),
            CriConfig {
                sandbox_image: Some("registry.k8s.io/pause:3.6".into()),
                snapshotter: Some("overlayfs".into()),
                runtime_handler: Some("runc".into()),
            }
        );
        for info in [
            HashMap::new(),
            HashMap::from([("config".to_string(), "not json".to_string())]),
            HashMap::from([("config".to_string(), r#"{"containerd":[]}"#.to_string())]),
        ] {
            assert_eq!(CriConfig::from_status_info(&info), CriConfig::default());
        }
    }

    #[test]
    fn references_are_normalized_as_containerd_names_them() {
        for (given, full) in [
            ("pause:3.6", "docker.io/library/pause:3.6"),
            ("k8s/pause", "docker.io/k8s/pause:latest"),
            ("registry.k8s.io/pause:3.6", "registry.k8s.io/pause:3.6"),
            ("127.0.0.1:5000/p/pause", "127.0.0.1:5000/p/pause:latest"),
            ("localhost/pause@sha256:ab", "localhost/pause@sha256:ab"),
        ] {
            assert_eq!(normalized(given), full, "{given}");
        }
    }
}
