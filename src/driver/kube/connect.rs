//! Reaching the cluster: the kubeconfig (its current context, or the one `[kube] context`
//! names), two clients (one with kube's retries for the API calls, one without for the
//! first-request probe), and the nodes pods may land on.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use crate::driver::DriverError;

/// Longest an API call may take before the run gives up on the cluster.
pub const API_TIMEOUT: Duration = Duration::from_secs(30);

/// The clients a run uses.
#[derive(Clone)]
pub struct Clients {
    /// For API calls: retries 429/503/504 the way kube does by default.
    pub api: Client,
    /// For the first-request probe through the pod proxy: no retries (kube would hold a probe
    /// of a not-yet-listening pod for minutes, retrying its 503s).
    pub probe: Client,
    /// The API server's URL (for messages).
    pub server: String,
}

/// Builds the clients from the kubeconfig at `kubeconfig`, or by default `$KUBECONFIG`, then
/// `~/.kube/config` (in a pod, its service account); `context` defaults to the current one.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Clients, DriverError> {
    let config = match kubeconfig {
        Some(path) => from_file(path, context).await?,
        None => load_config(context).await?,
    };
    let server = config.cluster_url.to_string();
    let mut probe_config = config.clone();
    probe_config.default_retry = false;
    let client = |config: Config| {
        Client::try_from(config).map_err(|e| {
            DriverError::Nodes(format!("cannot make a Kubernetes client for {server}: {e}"))
        })
    };
    Ok(Clients {
        api: client(config)?,
        probe: client(probe_config)?,
        server: server.clone(),
    })
}

const HINT: &str = "point KUBECONFIG at a kubeconfig (kind writes ~/.kube/config; `scripts/kind-up` makes a kind cluster), or set [kube] context";

async fn from_file(path: &Path, context: Option<&str>) -> Result<Config, DriverError> {
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
        DriverError::Nodes(format!(
            "cannot read kubeconfig {}: {e}\n  {HINT}",
            path.display()
        ))
    })?;
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| DriverError::Nodes(format!("kubeconfig {}: {e}\n  {HINT}", path.display())))?;
    config.connect_timeout = Some(Duration::from_secs(10));
    Ok(config)
}

async fn load_config(context: Option<&str>) -> Result<Config, DriverError> {
    let hint = HINT;
    let mut config = match context {
        None => Config::infer().await.map_err(|e| {
            DriverError::Nodes(format!("no Kubernetes cluster configured: {e}\n  {hint}"))
        })?,
        Some(name) => {
            let options = KubeConfigOptions {
                context: Some(name.to_string()),
                ..KubeConfigOptions::default()
            };
            Config::from_kubeconfig(&options).await.map_err(|e| {
                DriverError::Nodes(format!(
                    "cannot use kubeconfig context {name:?}: {e}\n  {hint}"
                ))
            })?
        }
    };
    config.connect_timeout = Some(Duration::from_secs(10));
    Ok(config)
}

/// A short form of a client error: the API server's own message and code for a `Status`.
pub fn api_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            format!("{} ({} {})", status.message, status.code, status.reason)
        }
        other => other.to_string(),
    }
}

/// Runs one API call with [`API_TIMEOUT`]; the error says `what` failed and why.
pub async fn bounded<T>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(API_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {}", api_error(&e))),
        Err(_) => Err(format!(
            "{what}: the API server did not answer within {}s",
            API_TIMEOUT.as_secs()
        )),
    }
}

/// A node pods may land on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Its `InternalIP` (what it pulls from the registry with, on most networks).
    pub address: Option<IpAddr>,
    /// kubelet version (`v1.35.0`).
    pub kubelet: Option<String>,
    /// Container runtime (`containerd://2.1.3`).
    pub runtime: Option<String>,
    /// Kernel.
    pub kernel: Option<String>,
    /// OS image.
    pub os: Option<String>,
}

/// The nodes matching `selector` that are not cordoned, sorted by name.
pub async fn list_nodes(
    client: &Client,
    server: &str,
    selector: &BTreeMap<String, String>,
) -> Result<Vec<NodeInfo>, DriverError> {
    let labels = selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let params = ListParams::default().labels(&labels);
    let listed = tokio::time::timeout(API_TIMEOUT, Api::<Node>::all(client.clone()).list(&params))
        .await
        .map_err(|_| {
            DriverError::Nodes(format!(
                "the Kubernetes API at {server} did not answer within {}s",
                API_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| {
            DriverError::Nodes(format!(
                "cannot list the nodes of the cluster at {server}: {}\n  check that the kubeconfig's user may list nodes and that the cluster is up (kubectl get nodes)",
                api_error(&e)
            ))
        })?;
    let mut nodes: Vec<NodeInfo> = listed
        .items
        .iter()
        .filter(|n| {
            !n.spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false)
        })
        .map(node_info)
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    if nodes.is_empty() {
        let which = if labels.is_empty() {
            String::new()
        } else {
            format!(" with labels {labels}")
        };
        return Err(DriverError::Nodes(format!(
            "the cluster at {server} has no schedulable node{which}\n  check [kube] node_selector against `kubectl get nodes --show-labels`"
        )));
    }
    Ok(nodes)
}

fn node_info(node: &Node) -> NodeInfo {
    let status = node.status.as_ref();
    let info = status.and_then(|s| s.node_info.as_ref());
    let address = status
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .and_then(|a| a.address.parse().ok());
    NodeInfo {
        name: node.metadata.name.clone().unwrap_or_default(),
        address,
        kubelet: info.map(|i| i.kubelet_version.clone()),
        runtime: info.map(|i| i.container_runtime_version.clone()),
        kernel: info.map(|i| i.kernel_version.clone()),
        os: info.map(|i| i.os_image.clone()),
    }
}
