//! The bounds a scenario is checked against, in one place (README lists them too). A value
//! outside them is a located error naming the bound, before anything runs.

use std::time::Duration;

/// Smallest `registry.bandwidth` / `node_bandwidth`: 1 kB/s.
pub const MIN_RATE_BYTES_PER_SEC: f64 = 1e3;
/// Largest `registry.bandwidth` / `node_bandwidth`: 100 GB/s.
pub const MAX_RATE_BYTES_PER_SEC: f64 = 100e9;
/// Largest `registry.latency`.
pub const MAX_LATENCY: Duration = Duration::from_secs(10);
/// Shortest `ready.timeout`.
pub const MIN_READY_TIMEOUT: Duration = Duration::from_millis(1);
/// Longest `ready.timeout`.
pub const MAX_READY_TIMEOUT: Duration = Duration::from_secs(600);
/// Shortest `burst.step.every`.
pub const MIN_STEP_EVERY: Duration = Duration::from_millis(1);
/// Longest `burst.step.every`.
pub const MAX_STEP_EVERY: Duration = Duration::from_secs(3600);
/// Expected `ready.status` range (any HTTP status class).
pub const READY_STATUS: std::ops::RangeInclusive<u16> = 100..=599;
/// Most `repetitions`.
pub const MAX_REPETITIONS: u32 = 1000;
/// Smallest synthetic image: room for the entrypoint layer.
pub const MIN_SYNTH_SIZE: u64 = 1_000_000;
/// Largest synthetic image: 100 GB.
pub const MAX_SYNTH_SIZE: u64 = 100_000_000_000;
/// Most synthetic layers (overlayfs stacks at most 127 lower layers).
pub const MAX_SYNTH_LAYERS: u32 = 127;
/// Most burst nodes.
pub const MAX_BURST_NODES: u32 = 16;
/// Most burst replicas (also the most a step may add).
pub const MAX_BURST_REPLICAS: u32 = 500;
/// Most burst nodes of a simulated run (`driver = "sim"`): no engine runs, the model scales.
pub const MAX_SIM_BURST_NODES: u32 = 10_000;
/// Most burst replicas of a simulated run (also the most a step may add); [`MAX_SAMPLES`]
/// still bounds the run.
pub const MAX_SIM_BURST_REPLICAS: u32 = 100_000;
/// Most `[[variant]]` tables.
pub const MAX_VARIANTS: usize = 100;
/// Most samples in one run: variants × (repetitions + warm-up) × burst replicas.
pub const MAX_SAMPLES: u64 = 100_000;
/// Most cores `[sim] shared_cores` may name.
pub const MAX_SHARED_CORES: f64 = 1024.0;
/// Most expressions in `[thresholds]`, over every key.
pub const MAX_THRESHOLDS: usize = 100;
/// Longest scenario and variant name, in characters.
pub const MAX_NAME_LEN: usize = 64;
/// Longest image reference (`image`, `registry`), in bytes.
pub const MAX_REF_LEN: usize = 512;
/// Longest environment variable or build-arg name, in bytes.
pub const MAX_ENV_NAME_LEN: usize = 256;
/// Longest other string (`ready.http`, env and build-arg values, paths, hosts), in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Largest scenario file: 16 MiB.
pub const MAX_FILE_BYTES: usize = 16 << 20;
/// Most `registry.faults.rate_limit.manifest_gets`.
pub const MAX_RATE_LIMIT_GETS: u32 = 100_000;
/// Shortest `registry.faults.rate_limit.window`.
pub const MIN_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(1);
/// Longest `registry.faults.rate_limit.window` (Docker Hub's is 6 h).
pub const MAX_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Shortest `registry.faults.rate_limit.retry_after` (the header counts whole seconds).
pub const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);
/// Longest `registry.faults.rate_limit.retry_after`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Shortest `registry.faults.stall.for`.
pub const MIN_STALL: Duration = Duration::from_millis(1);
/// Longest `registry.faults.stall.for`.
pub const MAX_STALL: Duration = Duration::from_secs(600);
/// Longest `registry.faults.ttfb` value (a log-normal's draws are also capped at 10 × p99).
pub const MAX_TTFB: Duration = Duration::from_secs(10);
