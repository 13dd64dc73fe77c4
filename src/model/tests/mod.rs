//! Model tests: flows checked by hand, the pull pipeline, bursts, properties.

mod burst;
mod cpu;
mod fit;
mod flow;
mod props;
mod pull;
mod reference;

use super::{ImageModel, LayerSize, Links, ModelParams};

const MB: u64 = 1_000_000;

/// An image of `layers` layers of `compressed` bytes, `uncompressed` each, no metadata.
fn image(layers: usize, compressed: u64, uncompressed: u64) -> ImageModel {
    ImageModel {
        layers: vec![
            LayerSize {
                compressed,
                uncompressed,
                files: 1,
            };
            layers
        ],
        metadata_bytes: 0,
    }
}

/// Links without latency.
fn links(egress: Option<f64>, node: Option<f64>) -> Links {
    Links {
        egress_bytes_per_sec: egress,
        node_bytes_per_sec: node,
        latency_us: 0,
    }
}

/// Parameters with instant extraction and container phases, so only downloads count.
fn downloads_only() -> ModelParams {
    ModelParams {
        metadata_round_trips: 0,
        extract_bytes_per_sec: f64::INFINITY,
        extract_overhead_us: 0,
        create_us: 0,
        start_us: 0,
        first_request_us: 0,
        ..ModelParams::default()
    }
}

/// `a` within 1 µs of `b` (seconds).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}
