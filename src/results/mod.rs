//! The results model (one source of truth for run.json) and its writers.
//!
//! Every type serialized into run.json lives here as plain data; this module imports nothing
//! that measures (driver, registry, run, burst) and nothing of the CLI.

pub mod anatomy;
pub mod burst;
pub mod context;
pub mod image;
pub mod pod;
pub mod sample;
pub mod summary;
pub mod timestamp;
pub mod writers;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use anatomy::{Anatomy, FileEntry, LayerAnatomy};
pub use burst::BurstRecord;
pub use context::{EngineContext, HostContext};
pub use image::{LayerInfo, StoredImage};
pub use pod::PodRecord;
pub use sample::{LayerTiming, Outcome, Phase, PhaseTimes, ProbeRecord, Sample};
pub use summary::Summary;
pub use timestamp::now_utc;

/// Version of the run.json layout; bumped on changes. Readers accept 1 and 2 (2 added
/// `finished_at_us` to burst replicas and leaves not-cold samples out of the histograms).
pub const SCHEMA_VERSION: u32 = 2;

/// Everything one run produced: `results/<run-id>/run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Layout version.
    pub schema_version: u32,
    /// `<scenario>-<UTC timestamp>`.
    pub run_id: String,
    /// The tool that measured.
    pub coldbench: ToolInfo,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// UTC end, RFC 3339.
    pub finished_at: String,
    /// True when the run was interrupted before every sample was taken.
    pub interrupted: bool,
    /// The machine.
    pub host: HostContext,
    /// The container engine.
    pub engine: EngineContext,
    /// The registry link in force.
    pub network: NetworkContext,
    /// The scenario as given.
    pub scenario: ScenarioRecord,
    /// Seed of the shuffled order.
    pub seed: u64,
    /// Each variant's image.
    pub variants: Vec<VariantRecord>,
    /// Every sample, in execution order (in bursts: one per replica).
    pub samples: Vec<Sample>,
    /// Every burst (scenarios with `[burst]`).
    #[serde(default)]
    pub bursts: Vec<BurstRecord>,
    /// `variant → phase → statistics` (µs) over successful, cold, non-warm-up samples (version
    /// 1 records included not-cold samples).
    pub summaries: BTreeMap<String, BTreeMap<String, Summary>>,
    /// `variant → phase → base64 HdrHistogram V2` of the same samples.
    pub histograms: BTreeMap<String, BTreeMap<String, String>>,
    /// Set when the run was simulated (`driver = "sim"`): its samples come from the cold-start
    /// model, not from a measurement. Absent in measured runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<Simulation>,
}

impl RunRecord {
    /// `simulated (calibrated on …)` for a simulated run, `None` for a measured one: the mark
    /// every view of a run shows.
    pub fn simulated_mark(&self) -> Option<String> {
        self.simulation
            .as_ref()
            .map(|s| format!("simulated ({})", s.model))
    }
}

/// How a simulated run was modelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    /// Where the parameters come from: `calibrated on <runs> (<engine>)` or
    /// `uncalibrated defaults`.
    pub model: String,
    /// The calibration file, as given, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
    /// The parameters the model ran with.
    pub params: crate::model::ModelParams,
}

/// Which coldbench measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Crate version.
    pub version: String,
    /// Git commit it was built from, when known.
    pub git_commit: Option<String>,
}

impl ToolInfo {
    /// This build.
    pub fn current() -> Self {
        let commit = env!("COLDBENCH_GIT_COMMIT");
        ToolInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: (!commit.is_empty()).then(|| commit.to_string()),
        }
    }
}

/// The registry's link during the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkContext {
    /// Egress bandwidth as written (`100MB/s`), `None` when unlimited.
    pub bandwidth: Option<String>,
    /// The same in bytes per second.
    pub bandwidth_bytes_per_sec: Option<f64>,
    /// Latency before each response head, µs.
    pub latency_us: u64,
    /// Address the engine pulled from.
    pub registry: String,
}

/// The scenario as given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRecord {
    /// Path it was read from.
    pub path: String,
    /// Its name.
    pub name: String,
    /// Its text, byte for byte.
    pub source: String,
    /// As parsed, with defaults filled in (plain JSON: spans are not kept).
    pub parsed: serde_json::Value,
}

/// One variant and its image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantRecord {
    /// Variant name.
    pub name: String,
    /// Where the image came from.
    pub source: String,
    /// gzip level the harness compressed its layers with (dockerfile and image sources).
    pub compression_level: Option<u32>,
    /// The image in the registry.
    pub image: StoredImage,
    /// What the image is made of.
    pub anatomy: Option<Anatomy>,
    /// Compressed bytes / bandwidth: no pull can be faster (µs); `None` when unlimited.
    pub wire_floor_us: Option<u64>,
}
