//! One cold start as recorded: phases, per-layer timings, bytes, outcome.

use serde::{Deserialize, Serialize};

/// The phases of a cold start, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Pull request sent → image present on the node.
    Pull,
    /// Container create.
    Create,
    /// Container start (returns when the process has been started).
    Start,
    /// Start returned → first expected HTTP answer.
    FirstRequest,
    /// Pull request sent → first expected HTTP answer.
    Total,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::Pull,
        Phase::Create,
        Phase::Start,
        Phase::FirstRequest,
        Phase::Total,
    ];

    /// The name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pull => "pull",
            Phase::Create => "create",
            Phase::Start => "start",
            Phase::FirstRequest => "first_request",
            Phase::Total => "total",
        }
    }
}

/// Phase durations of one sample in microseconds; `None` for a phase not reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTimes {
    pub pull_us: Option<u64>,
    pub create_us: Option<u64>,
    pub start_us: Option<u64>,
    pub first_request_us: Option<u64>,
    pub total_us: Option<u64>,
}

impl PhaseTimes {
    /// The duration of `phase`, if measured.
    pub fn get(&self, phase: Phase) -> Option<u64> {
        match phase {
            Phase::Pull => self.pull_us,
            Phase::Create => self.create_us,
            Phase::Start => self.start_us,
            Phase::FirstRequest => self.first_request_us,
            Phase::Total => self.total_us,
        }
    }
}

/// When a layer finished downloading and extracting, in µs since the pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerTiming {
    /// The layer's blob digest.
    pub digest: String,
    /// Download complete, as the engine reported it (Docker's progress stream; none over CRI).
    pub download_complete_us: Option<u64>,
    /// Extract complete (Docker's "Pull complete", containerd's snapshot commit).
    pub extract_complete_us: Option<u64>,
    /// When the registry handed the blob's last byte to this node's connection (any engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_us: Option<u64>,
    /// The engine reported the layer as already present (the sample was not cold for it).
    #[serde(default)]
    pub already_present: bool,
}

impl LayerTiming {
    /// A layer with no times yet.
    pub fn new(digest: impl Into<String>) -> LayerTiming {
        LayerTiming {
            digest: digest.into(),
            download_complete_us: None,
            extract_complete_us: None,
            served_us: None,
            already_present: false,
        }
    }

    /// When the download finished: the engine's report, else the registry's last byte.
    pub fn downloaded_us(&self) -> Option<u64> {
        self.download_complete_us.or(self.served_us)
    }
}

/// How the first-request probe found the answer: its resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// Attempts made, the successful one included.
    pub attempts: u64,
    /// µs from the start of the last unsuccessful attempt to the start of the successful one:
    /// the server began answering within it, so `first_request` is late by at most this much.
    /// Absent when the first attempt succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_us: Option<u64>,
}

/// How a sample ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Every phase completed.
    Ok,
    /// A phase failed.
    Failed {
        /// The phase that failed.
        phase: Phase,
        /// Why.
        message: String,
    },
}

/// One cold start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Position in the run (0-based, in execution order).
    pub index: usize,
    /// Repetition number (0-based).
    pub repetition: u32,
    /// Variant name.
    pub variant: String,
    /// A warm-up sample: recorded, never summarized.
    pub warmup: bool,
    /// Node that performed it (0 with a single engine).
    pub node: usize,
    /// UTC start time, RFC 3339.
    pub started_at: String,
    /// Phase durations.
    pub phases: PhaseTimes,
    /// Blob bytes the registry served during the pull.
    pub blob_bytes: u64,
    /// Manifest bytes the registry served during the pull.
    pub manifest_bytes: u64,
    /// Bytes a cold pull should move (config + compressed layers).
    pub expected_bytes: u64,
    /// True when the served blob bytes equal the expected bytes.
    pub cold: bool,
    /// Per-layer timings from the pull progress stream.
    pub layers: Vec<LayerTiming>,
    /// How it ended.
    pub outcome: Outcome,
    /// The burst it belongs to (bursts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<usize>,
    /// Replica number within its burst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica: Option<usize>,
    /// When the replica was requested, µs after burst start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at_us: Option<u64>,
    /// When the replica answered, µs after burst start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at_us: Option<u64>,
    /// When it became ready or gave up: µs after the burst's start for burst replicas, after
    /// the sample's start (its pull asked for) otherwise; how long a failed sample ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at_us: Option<u64>,
    /// Cluster samples: the pod's life as the watch showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<super::PodRecord>,
    /// What its node's registry port saw during the sample: requests, retries (a repeated
    /// manifest or blob `GET`) and faults on purpose (`[registry.faults]`). In a burst every
    /// replica of a node carries its node's counts; on a cluster, the registry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<crate::registry::RegistryCounts>,
    /// The first-request probe's attempts and resolution (drivers that probe the container
    /// themselves: docker, containerd).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeRecord>,
}

impl Sample {
    /// True when every phase completed.
    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok)
    }
}
