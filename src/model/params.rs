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
    /// Cost of each regular file extracted (µs): many small files extract slower than their
    /// bytes suggest.
    pub extract_file_us: f64,
    /// Serial (Docker) or parallel extraction.
    pub extract_mode: ExtractMode,
    /// Fixed cost of a pull after its last layer is extracted (µs): the engine registering the
    /// image; calibration fits it as the pulls' median residual.
    pub pull_overhead_us: u64,
    /// Container create (µs), plus [`Self::create_us_per_mb`].
    pub create_us: u64,
    /// Container create's share that grows with the image: µs per MB (10^6 bytes) of
    /// uncompressed layers.
    pub create_us_per_mb: f64,
    /// Container start (µs).
    pub start_us: u64,
    /// Start returned → first answer (µs).
    pub first_request_us: u64,
    /// Containers creating and starting at once per node; `None` is unlimited. `Some(0)`
    /// counts as 1.
    pub start_concurrency: Option<u32>,
    /// Cores shared by every node's layer extractions and container starts, when the nodes are
    /// emulated on one host (the harness's own bursts: run.json's `host.cores`); each of those
    /// jobs uses at most one core. `None`: every node has its own CPU (a real cluster).
    pub shared_cores: Option<f64>,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            metadata_round_trips: 2,
            download_concurrency: Some(3),
            extract_bytes_per_sec: 50e6,
            extract_overhead_us: 50_000,
            extract_file_us: 0.0,
            extract_mode: ExtractMode::Serial,
            pull_overhead_us: 0,
            create_us: 150_000,
            create_us_per_mb: 0.0,
            start_us: 110_000,
            first_request_us: 500,
            start_concurrency: None,
            shared_cores: None,
        }
    }
}

impl ModelParams {
    /// Seconds to extract one layer of `uncompressed` bytes in `files` files, overhead
    /// included.
    pub fn extract_seconds(&self, uncompressed: u64, files: u64) -> f64 {
        let rate = super::rate_or_unlimited(Some(self.extract_bytes_per_sec));
        let per_file = finite_or_zero(self.extract_file_us) * files as f64 / 1e6;
        super::us_to_seconds(self.extract_overhead_us) + uncompressed as f64 / rate + per_file
    }

    /// Container create of an image with `uncompressed` bytes of layers (µs).
    pub fn create_for(&self, uncompressed: u64) -> u64 {
        let extra = finite_or_zero(self.create_us_per_mb) * uncompressed as f64 / 1e6;
        // `as` saturates; `extra` is finite and not negative.
        self.create_us.saturating_add(extra.round() as u64)
    }

    /// Layers in flight per node (at least 1), `usize::MAX` when unlimited.
    pub fn downloads_in_flight(&self) -> usize {
        self.download_concurrency
            .map_or(usize::MAX, |c| c.max(1) as usize)
    }

    /// The shared cores, when set to a positive finite number.
    pub fn shared_cores(&self) -> Option<f64> {
        self.shared_cores.filter(|c| c.is_finite() && *c > 0.0)
    }

    /// Containers starting at once per node (at least 1), `usize::MAX` when unlimited.
    pub fn starts_in_flight(&self) -> usize {
        self.start_concurrency
            .map_or(usize::MAX, |c| c.max(1) as usize)
    }
}

/// `x` when finite and positive, else 0.
fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}
