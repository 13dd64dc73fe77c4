//! The cost file (`scenarios/cost/cost-example.toml`): volumes, network path, CI, nodes, storage
//! and the image variants. Every value carries its unit; unknown keys are errors.

use serde::Deserialize;
use toml::Spanned;

use super::values;
use crate::units::{ByteSize, Rate};

/// The whole file: one `[cost]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostFile {
    /// The `[cost]` table.
    pub cost: CostInput,
}

/// A scenario file read for its `[cost]` table only: its other keys are `coldbench run`'s.
#[derive(Debug, Clone, Deserialize)]
pub struct ScenarioCost {
    /// The `[cost]` table, when the scenario has one.
    pub cost: Option<CostInput>,
}

/// `[cost]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostInput {
    /// The prices file, relative to this file.
    pub pricing: Spanned<String>,
    /// `calibration.toml` (`coldbench calibrate`), relative to this file: the burst model's
    /// parameters. Without it the model runs on its defaults, labelled uncalibrated.
    #[serde(default)]
    pub calibration: Option<Spanned<String>>,
    /// A run directory or run.json, relative to this file: where `from_run` variants take
    /// their measured image.
    #[serde(default)]
    pub run: Option<Spanned<String>>,
    /// `[cost.traffic]`: how often the image moves.
    pub traffic: Traffic,
    /// `[cost.registry]`: bandwidths.
    pub registry: Registry,
    /// `[cost.ci]`: CI jobs and the dependency install.
    pub ci: Ci,
    /// `[cost.nodes]`: what a node-hour costs.
    pub nodes: Nodes,
    /// `[cost.storage]`: what the registry keeps.
    pub storage: Storage,
    /// `[[cost.variant]]`: today's image first, then the candidates.
    #[serde(rename = "variant")]
    pub variants: Vec<Variant>,
}

/// Where a pull travels, which decides its per-GB price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPath {
    /// Registry and nodes in one region.
    SameRegion,
    /// Registry in another region.
    CrossRegion,
    /// Registry reached over the internet.
    Internet,
    /// A same-region registry reached through a NAT gateway (processing on every byte).
    NatGateway,
}

impl NetworkPath {
    /// The key in `pricing.toml`'s `[egress]`.
    pub fn key(self) -> &'static str {
        match self {
            NetworkPath::SameRegion | NetworkPath::NatGateway => "same-region",
            NetworkPath::CrossRegion => "cross-region",
            NetworkPath::Internet => "internet",
        }
    }
}

/// `[cost.traffic]`: daily volumes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// CI builds per day.
    #[serde(deserialize_with = "values::count")]
    pub builds_per_day: f64,
    /// Pushes of the image per build.
    #[serde(deserialize_with = "values::count")]
    pub pushes_per_build: f64,
    /// Pulls of the image per build (test and deploy jobs).
    #[serde(deserialize_with = "values::count")]
    pub pulls_per_build: f64,
    /// Deploys per day.
    #[serde(deserialize_with = "values::count")]
    pub deploys_per_day: f64,
    /// Nodes each deploy pulls on.
    #[serde(deserialize_with = "values::whole")]
    pub deploy_nodes: u32,
    /// Scale-out bursts per day.
    #[serde(deserialize_with = "values::count")]
    pub bursts_per_day: f64,
    /// Replicas started by one burst.
    #[serde(deserialize_with = "values::whole")]
    pub burst_replicas: u32,
    /// Fresh nodes one burst pulls on.
    #[serde(deserialize_with = "values::whole")]
    pub burst_nodes: u32,
    /// Share of node pulls (deploys, bursts) the node's cache already holds: 0 to 1 or "N%".
    #[serde(deserialize_with = "values::share")]
    pub node_cache_hit_rate: f64,
    /// Where a pull travels.
    pub network_path: NetworkPath,
}

/// `[cost.registry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// The registry's egress, shared by every puller.
    #[serde(deserialize_with = "values::rate")]
    pub bandwidth: Rate,
    /// One node's (or CI runner's) downlink; unlimited when absent.
    #[serde(default, deserialize_with = "values::rate_opt")]
    pub node_bandwidth: Option<Rate>,
    /// Delay before each response head, seconds (the burst model's round trips); 0 when absent.
    #[serde(default, deserialize_with = "values::duration")]
    pub latency: f64,
}

/// `[cost.ci]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    /// Key of a `[ci_minute.KEY]` price in the pricing file.
    pub minute_price: Spanned<String>,
    /// Jobs per build: the first installs dependencies and pushes; the others pull.
    #[serde(deserialize_with = "values::whole")]
    pub jobs_per_build: u32,
    /// Time of each job besides the dependency install and the image moves.
    #[serde(deserialize_with = "values::duration")]
    pub job_time: f64,
    /// Dependency install without a cache (e.g. `npm ci` cold).
    #[serde(deserialize_with = "values::duration")]
    pub deps_install_cold: f64,
    /// Dependency install from the cache.
    #[serde(deserialize_with = "values::duration")]
    pub deps_install_cached: f64,
    /// Share of builds that change the dependency manifest (so miss the cache).
    #[serde(deserialize_with = "values::share")]
    pub manifest_change_share: f64,
}

/// `[cost.nodes]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nodes {
    /// Key of a `[node_hour.KEY]` price in the pricing file.
    pub hour_price: Spanned<String>,
}

/// `[cost.storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Images the registry keeps per variant (tags retained).
    #[serde(deserialize_with = "values::whole")]
    pub images_retained: u32,
}

/// `[[cost.variant]]`: one image.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Its name, as shown in the table (and looked up in the run or the calibration).
    pub name: Spanned<String>,
    /// Compressed size: what moves over the wire and what the registry stores. Absent with
    /// `from_run`, or when the calibration's `[images]` has this name.
    #[serde(default, deserialize_with = "values::size_opt")]
    pub size: Option<ByteSize>,
    /// Uncompressed size: what the burst model extracts; 3 × `size` when absent.
    #[serde(default, deserialize_with = "values::size_opt")]
    pub uncompressed: Option<ByteSize>,
    /// Layers the given size is split into for the burst model (equal parts); default
    /// [`super::image::DEFAULT_LAYERS`].
    #[serde(default)]
    pub layers: Option<Spanned<u32>>,
    /// `true`: take the size and layers from the run's variant of the same name (measured).
    #[serde(default)]
    pub from_run: Option<Spanned<bool>>,
}
