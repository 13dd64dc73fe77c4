//! Statistics of one variant × phase, as stored in run.json.

use serde::{Deserialize, Serialize};

/// Statistics of one variant × phase, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
    pub stddev: f64,
}
