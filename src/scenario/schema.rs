//! The scenario file's schema: what each TOML key means. Unknown keys are errors.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::checked;
use super::thresholds::ThresholdTable;
use crate::units::{ByteSize, HumanDuration, Rate};

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name used in the results directory; ASCII letters and digits with single `.`, `_`, `-`
    /// separators. Defaults to the file's stem, which must then be such a name.
    pub name: Option<Spanned<String>>,
    /// Which driver performs the cold starts.
    #[serde(default = "default_driver")]
    pub driver: Spanned<DriverKind>,
    /// Measured samples per variant (every variant gets the same count).
    #[serde(
        default = "default_repetitions",
        deserialize_with = "checked::repetitions"
    )]
    pub repetitions: NonZeroU32,
    /// Run one unmeasured (marked) warm-up sample per variant first.
    #[serde(default)]
    pub warmup: bool,
    /// Seed of the shuffled variant order; random (and recorded) when absent.
    pub seed: Option<u64>,
    /// The embedded registry's link.
    #[serde(default)]
    pub registry: RegistrySettings,
    /// Docker engine settings.
    #[serde(default)]
    pub docker: DockerSettings,
    /// containerd node settings (`driver = "containerd"`).
    #[serde(default)]
    pub containerd: ContainerdSettings,
    /// Kubernetes cluster settings (`driver = "kube"`).
    #[serde(default)]
    pub kube: KubeSettings,
    /// A scale-out burst: fresh nodes, replicas spread over them.
    pub burst: Option<BurstSpec>,
    /// `[sim]`: where a simulated run (`driver = "sim"`) takes its model and image sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<SimSettings>,
    /// `[cost]`: the what-if inputs `coldbench cost` reads from this file (checked there, not
    /// by `run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<toml::Table>,
    /// The image variants to compare.
    #[serde(rename = "variant")]
    pub variants: Vec<VariantSpec>,
    /// `[thresholds]`: k6-style checks, metric key → expressions (see
    /// [`crate::compare::threshold`]); parsed into [`super::Scenario::thresholds`].
    #[serde(default, skip_serializing_if = "ThresholdTable::is_empty")]
    pub thresholds: ThresholdTable,
}

fn default_driver() -> Spanned<DriverKind> {
    Spanned::new(0..0, DriverKind::Docker)
}

fn default_repetitions() -> NonZeroU32 {
    NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN)
}

/// The driver that performs cold starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// A Docker engine through its API.
    #[default]
    Docker,
    /// containerd nodes over CRI, in kubelet's order: fresh ones, or those at
    /// `[containerd] node_sockets` (`crate::driver::containerd`).
    Containerd,
    /// A Kubernetes cluster through its API: pods followed from the watch
    /// (`crate::driver::kube`).
    Kube,
    /// The cold-start model: no registry, no engine, no image bytes (`crate::driver::sim`).
    Sim,
}

/// `[sim]`: how a simulated run models its cold starts. Paths are relative to the scenario.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// A `calibration.toml` (`coldbench calibrate`); the model's uncalibrated defaults when
    /// absent.
    #[serde(default)]
    pub calibration: Option<Spanned<String>>,
    /// A run directory (or its run.json) whose variants give the images' layer sizes.
    #[serde(default)]
    pub images: Option<Spanned<String>>,
    /// The nodes are emulated on one host with this many cores, which their extractions and
    /// container starts share (as coldbench's own bursts are); absent: each node has its own
    /// CPU, as in a real cluster.
    #[serde(default, deserialize_with = "checked::shared_cores")]
    pub shared_cores: Option<f64>,
}

/// `[registry]`: the embedded registry's egress link.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrySettings {
    /// Egress bandwidth shared by every connection; unlimited when absent.
    #[serde(default, deserialize_with = "checked::rate")]
    pub bandwidth: Option<Rate>,
    /// Delay before each response's head.
    #[serde(default, deserialize_with = "checked::latency")]
    pub latency: Option<HumanDuration>,
    /// Each node's own downlink, nested under `bandwidth` (bursts; unlimited when absent).
    #[serde(default, deserialize_with = "checked::rate")]
    pub node_bandwidth: Option<Rate>,
    /// Address the registry listens on (`host:port`); default `127.0.0.1` on a free port.
    /// `driver = "kube"` only: a cluster's nodes must be able to reach it.
    #[serde(default)]
    pub listen: Option<Spanned<String>>,
    /// `[registry.faults]`: a flaky registry on purpose (see [`super::faults`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<super::faults::FaultsSpec>,
}

/// `[docker]`: which engine to drive.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DockerSettings {
    /// Engine address (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`); default
    /// `$DOCKER_HOST`, then the local socket. Builds and exports `dockerfile`/`image` variants,
    /// and measures unless `node = "fresh"`.
    #[serde(default, deserialize_with = "checked::opt_text")]
    pub host: Option<String>,
    /// Where cold starts happen: `fresh` (a dedicated dockerd with an empty data root, started
    /// and removed by the harness; needs root and dockerd), `engine` (the engine above), or
    /// `auto` (fresh when possible, else engine).
    #[serde(default)]
    pub node: NodeChoice,
    /// Engines to use as a burst's nodes instead of fresh ones (one per node).
    #[serde(default, deserialize_with = "checked::texts")]
    pub node_sockets: Vec<String>,
}

/// `[containerd]`: which containerd nodes to drive.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerdSettings {
    /// CRI sockets of running containerds to use as the nodes instead of fresh ones (one per
    /// node): absolute paths, or `unix://` and an absolute path. Each must be on this host, pull
    /// `127.0.0.1` registries over plain HTTP, and already have its `sandbox_image`.
    #[serde(default)]
    pub node_sockets: Vec<Spanned<String>>,
}

/// `[kube]`: the cluster a `driver = "kube"` run starts its pods on.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KubeSettings {
    /// kubeconfig context; default: the current one (`$KUBECONFIG`, then `~/.kube/config`).
    #[serde(default)]
    pub context: Option<Spanned<String>>,
    /// Prefix of the namespace made for each run (`PREFIX-RUNID`, deleted at the end and on
    /// Ctrl-C); default `coldbench`.
    #[serde(default)]
    pub namespace: Option<Spanned<String>>,
    /// Labels a node must have to run the pods (`nodeSelector`).
    #[serde(default)]
    pub node_selector: BTreeMap<String, Spanned<String>>,
    /// The registry's `host:port` as the nodes see it (what image references start with);
    /// default: the address `[registry] listen` binds.
    #[serde(default)]
    pub registry: Option<Spanned<String>>,
    /// CPU each pod requests and is limited to (`"500m"`, `"1"`).
    #[serde(default)]
    pub cpu: Option<Spanned<String>>,
    /// Memory each pod requests and is limited to (`"256Mi"`).
    #[serde(default)]
    pub memory: Option<Spanned<String>>,
    /// How each sample is made cold: `salt` (default) or `evict` (kind only).
    #[serde(default)]
    pub cold: ColdMode,
}

/// How a cluster sample is made cold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColdMode {
    /// Every sample pulls its own salted copy of the image: every layer digest is new, so no
    /// node can have it (any cluster).
    #[default]
    Salt,
    /// The image is removed from every node before each sample (`crictl rmi` inside kind's node
    /// containers).
    Evict,
}

/// `[burst]`: an HPA-like scale-out.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BurstSpec {
    /// Fresh nodes, each pulling once.
    pub nodes: Spanned<u32>,
    /// Replicas requested in the burst.
    pub replicas: Spanned<u32>,
    /// `spread` (round-robin over nodes) or `packed` (fill a node before the next).
    #[serde(default)]
    pub placement: Placement,
    /// Add replicas in steps, like an HPA; all at once when absent.
    pub step: Option<StepSpec>,
}

/// How replicas are placed on nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// Round-robin.
    #[default]
    Spread,
    /// Fill each node before the next.
    Packed,
}

/// `step = { add = 4, every = "15s" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Replicas added per step.
    pub add: Spanned<u32>,
    /// Time between steps.
    #[serde(deserialize_with = "checked::step_every")]
    pub every: HumanDuration,
}

/// Where cold starts happen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeChoice {
    /// Fresh when root and dockerd are available, else the engine.
    #[default]
    Auto,
    /// A dedicated dockerd with an empty data root.
    Fresh,
    /// The user's engine.
    Engine,
}

/// `[[variant]]`: one image to measure.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Unique name; lowercase letters, digits and `.`, `_`, `-` separators.
    pub name: Spanned<String>,
    /// A synthetic image the harness builds itself.
    pub synth: Option<SynthSpec>,
    /// A Dockerfile built through the engine.
    pub dockerfile: Option<DockerfileSpec>,
    /// An image already in the engine (`name:tag`), exported and compressed.
    #[serde(default, deserialize_with = "checked::reference")]
    pub image: Option<String>,
    /// An image in an upstream registry (`host[:port]/repo:tag`), copied as is.
    #[serde(default, deserialize_with = "checked::reference")]
    pub registry: Option<String>,
    /// gzip level (0–9) for layers of `dockerfile` and `image` variants (default 6).
    pub compression_level: Option<Spanned<u32>>,
    /// How to tell the container is ready.
    #[serde(default)]
    pub ready: ReadySpec,
    /// Extra environment variables for the container: POSIX-style names (ASCII letters, digits
    /// and `_`, not starting with a digit).
    #[serde(default, deserialize_with = "checked::vars")]
    pub env: BTreeMap<String, String>,
}

/// `dockerfile = { … }`: an image built from a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DockerfileSpec {
    /// Build context, relative to the scenario file's directory.
    #[serde(deserialize_with = "checked::text")]
    pub context: String,
    /// Dockerfile path inside the context (default `Dockerfile`).
    #[serde(default = "default_dockerfile", deserialize_with = "checked::text")]
    pub file: String,
    /// Stage to build (multi-stage `--target`).
    #[serde(default, deserialize_with = "checked::opt_text")]
    pub target: Option<String>,
    /// `--build-arg`s, named like environment variables.
    #[serde(default, deserialize_with = "checked::vars")]
    pub build_args: BTreeMap<String, String>,
}

fn default_dockerfile() -> String {
    "Dockerfile".into()
}

/// `synth = { … }`: a deterministic synthetic image.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SynthSpec {
    /// Total compressed size of the layers.
    #[serde(deserialize_with = "checked::synth_size")]
    pub size: ByteSize,
    /// Number of layers (the last holds the `coldbench-hello` entrypoint).
    #[serde(default = "one")]
    pub layers: Spanned<u32>,
    /// Fraction by which gzip shrinks the filler, 0 (random bytes) to 0.95.
    #[serde(default = "zero")]
    pub compressibility: Spanned<f64>,
    /// Seed of the content; default derived from the variant name.
    pub seed: Option<u64>,
}

fn one() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}
fn zero() -> Spanned<f64> {
    Spanned::new(0..0, 0.0)
}

/// `ready = { … }`: the first request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReadySpec {
    /// Path to GET.
    #[serde(default = "root_path")]
    pub http: Spanned<String>,
    /// Port on 127.0.0.1 (host network); when absent the harness picks a free one and passes
    /// it to the container as `PORT`. Not allowed in a burst (replicas on a node would share it).
    pub port: Option<Spanned<u16>>,
    /// Expected HTTP status.
    #[serde(default = "ok_status", deserialize_with = "checked::status")]
    pub status: u16,
    /// Give up after this long.
    #[serde(default = "ready_timeout", deserialize_with = "checked::ready_timeout")]
    pub timeout: HumanDuration,
}

fn root_path() -> Spanned<String> {
    Spanned::new(0..0, "/".into())
}
fn ok_status() -> u16 {
    200
}
fn ready_timeout() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(30))
}

impl Default for ReadySpec {
    fn default() -> Self {
        ReadySpec {
            http: root_path(),
            port: None,
            status: ok_status(),
            timeout: ready_timeout(),
        }
    }
}
