//! A cold-start model: pure computation, no I/O.
//!
//! A pull is metadata round trips, then layer downloads solved as a fluid flow over the same
//! nested links as the throttle (the registry's shared egress, each node's downlink; rates by
//! max-min fairness), then extraction at a per-engine rate; then create, start and the first
//! request as fixed durations. [`simulate_single`] models one cold start, [`simulate_burst`] a
//! scale-out over many nodes. Rates are bytes per second, durations µs at the edges.

mod burst;
pub mod calibration;
mod cpu;
pub mod fit;
pub mod flow;
mod params;
pub mod predict;
mod pull;
mod solve;

#[cfg(test)]
mod tests;

pub use burst::{
    simulate_burst, simulate_single, simulate_slots, BurstOutcome, BurstShape, ReplicaTimes,
    SingleOutcome,
};
pub use params::{ExtractMode, ModelParams};
pub use pull::{simulate_pulls, LayerDone, NodePull};
pub use solve::{solve_flows, Flow};

use crate::results::{StoredImage, VariantRecord};

/// One layer as the model sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerSize {
    /// Bytes on the wire (compressed blob).
    pub compressed: u64,
    /// Bytes extracted (uncompressed tar).
    pub uncompressed: u64,
    /// Regular files in the layer (0 when unknown).
    pub files: u64,
}

/// An image as the model sees it: layer sizes, base first, and the metadata bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageModel {
    /// Layers, base first.
    pub layers: Vec<LayerSize>,
    /// Manifest plus config bytes (tiny).
    pub metadata_bytes: u64,
}

impl ImageModel {
    /// The model of an image recorded in run.json (config bytes = total − layers).
    pub fn from_stored(image: &StoredImage) -> ImageModel {
        let layers: Vec<LayerSize> = image
            .layers
            .iter()
            .map(|l| LayerSize {
                compressed: l.size,
                uncompressed: l.uncompressed_size,
                files: 0,
            })
            .collect();
        let layer_bytes: u64 = layers.iter().map(|l| l.compressed).sum();
        ImageModel {
            layers,
            metadata_bytes: image.compressed_size.saturating_sub(layer_bytes),
        }
    }

    /// The model of a run's variant: its stored image, with each layer's file count from its
    /// anatomy when it has one.
    pub fn from_variant(variant: &VariantRecord) -> ImageModel {
        let mut image = ImageModel::from_stored(&variant.image);
        let Some(anatomy) = &variant.anatomy else {
            return image;
        };
        for (layer, stored) in image.layers.iter_mut().zip(&variant.image.layers) {
            let digest = stored.digest.as_str();
            if let Some(a) = anatomy.layers.iter().find(|a| a.digest == digest) {
                layer.files = a.files;
            }
        }
        image
    }

    /// Uncompressed bytes of every layer.
    pub fn uncompressed_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.uncompressed).sum()
    }

    /// Compressed bytes of every layer.
    pub fn compressed_bytes(&self) -> u64 {
        self.layers.iter().map(|l| l.compressed).sum()
    }
}

/// The network between the registry and the nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Links {
    /// The registry's egress shared by every node (bytes/s); `None` is unlimited.
    pub egress_bytes_per_sec: Option<f64>,
    /// Each node's downlink (bytes/s); `None` is unlimited.
    pub node_bytes_per_sec: Option<f64>,
    /// Delay of every response head (µs): one per round trip and per layer request.
    pub latency_us: u64,
}

/// A rate as the model uses it: zero, negative, NaN or infinite means unlimited (`INFINITY`).
pub fn rate_or_unlimited(rate: Option<f64>) -> f64 {
    rate.filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(f64::INFINITY)
}

/// Seconds → µs, rounded; NaN and negative give 0, huge values saturate.
pub fn seconds_to_us(seconds: f64) -> u64 {
    if seconds.is_nan() || seconds <= 0.0 {
        return 0;
    }
    // `as` saturates at u64::MAX for +inf and huge values.
    (seconds * 1e6).round() as u64
}

/// µs → seconds.
pub fn us_to_seconds(us: u64) -> f64 {
    us as f64 / 1e6
}
