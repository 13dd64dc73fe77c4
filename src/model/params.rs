//! The model's parameters: plain data, filled by hand or by calibration.

use serde::{Deserialize, Serialize};

/// How an engine extracts the layers of one pull.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractMode {
    /// In layer order: a layer extracts once downloaded and once the previous one is
    /// extracted (Docker).
    #[default]
    Serial,
    /// Each layer as soon as it is downloaded.
    Parallel,
}

/// Parameters of the cold-start model. Durations are µs, rates bytes per second.
///
/// Defaults come from runs on a 2-core Debian 12 VM with dockerd 20.10 and overlay2 (README
/// "What a run prints", `tests/fixtures/*.json`): 42.5 MB layers extracted in ≈ 0.85 s each and
/// a 540 MB layer in ≈ 11.7 s (≈ 50 MB/s of uncompressed bytes); a 5.7 MB layer took ≈ 0.2 s
/// (≈ 0.1 s of it fixed); create 150 ms, start 110 ms, first request 0.5 ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelParams {
    /// Round trips before the first layer request (manifest, config), each one latency.
    pub metadata_round_trips: u32,
    /// Layers downloading at once per node; `None` downloads every layer in parallel
    /// (containerd). Docker's default max-concurrent-downloads is 3. `Some(0)` counts as 1.
    pub download_concurrency: Option<u32>,
    /// Extraction rate in bytes of uncompressed layer per second; not positive or not finite
    /// means instant.
    pub extract_bytes_per_sec: f64,
    /// Fixed cost of extracting one layer (µs).
    pub extract_overhead_us: u64,
    /// Serial (Docker) or parallel extraction.
    pub extract_mode: ExtractMode,
    /// Fixed cost of a pull after its last layer is extracted (µs): the engine registering the
    /// image; calibration fits it as the pulls' median residual.
    pub pull_overhead_us: u64,
    /// Container create (µs).
    pub create_us: u64,
    /// Container start (µs).
    pub start_us: u64,
    /// Start returned → first answer (µs).
    pub first_request_us: u64,
    /// Containers creating and starting at once per node; `None` is unlimited. `Some(0)`
    /// counts as 1.
    pub start_concurrency: Option<u32>,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            metadata_round_trips: 2,
            download_concurrency: Some(3),
            extract_bytes_per_sec: 50e6,
            extract_overhead_us: 50_000,
            extract_mode: ExtractMode::Serial,
            pull_overhead_us: 0,
            create_us: 150_000,
            start_us: 110_000,
            first_request_us: 500,
            start_concurrency: None,
        }
    }
}

impl ModelParams {
    /// Seconds to extract `uncompressed` bytes of one layer, overhead included.
    pub fn extract_seconds(&self, uncompressed: u64) -> f64 {
        let rate = super::rate_or_unlimited(Some(self.extract_bytes_per_sec));
        super::us_to_seconds(self.extract_overhead_us) + uncompressed as f64 / rate
    }

    /// Layers in flight per node (at least 1), `usize::MAX` when unlimited.
    pub fn downloads_in_flight(&self) -> usize {
        self.download_concurrency
            .map_or(usize::MAX, |c| c.max(1) as usize)
    }

    /// Containers starting at once per node (at least 1), `usize::MAX` when unlimited.
    pub fn starts_in_flight(&self) -> usize {
        self.start_concurrency
            .map_or(usize::MAX, |c| c.max(1) as usize)
    }
}
