//! One burst's capacity over time, as stored in run.json.

use serde::{Deserialize, Serialize};

/// One burst's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurstRecord {
    /// Burst number in the run.
    pub index: usize,
    /// Repetition number.
    pub repetition: u32,
    /// Variant.
    pub variant: String,
    /// Unmeasured warm-up.
    pub warmup: bool,
    /// Nodes that pulled.
    pub nodes: usize,
    /// Replicas requested.
    pub replicas: usize,
    /// Burst start → first replica ready (µs).
    pub first_ready_us: Option<u64>,
    /// Burst start → half the replicas ready (µs).
    pub half_ready_us: Option<u64>,
    /// Burst start → every replica ready: full capacity (µs).
    pub full_ready_us: Option<u64>,
    /// Replica-seconds of capacity missing compared with instant scale-out.
    pub capacity_seconds_lost: f64,
    /// Blob bytes the registry served to each node.
    pub node_blob_bytes: Vec<u64>,
    /// Physics floor for full capacity (µs): max(nodes × size / egress, size / node downlink).
    pub floor_us: Option<u64>,
}
