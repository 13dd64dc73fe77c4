//! One scale-out burst through the cold-start model: the nodes that miss the cache pull at
//! once through the registry's egress, each with its share of the replicas.

use super::formulas::burst_nodes_pulling;
use super::input::{Registry, Traffic};
use crate::model::{simulate_burst, BurstShape, ImageModel, Links, ModelParams};
use crate::scenario::Placement;

/// What one burst costs in time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BurstTiming {
    /// Nodes that pull (miss the cache).
    pub pulling: u32,
    /// Burst start → every replica on those nodes ready (s), from the model.
    pub full_seconds: f64,
    /// Replica-seconds missing compared with an instant scale-out, from the model.
    pub capacity_seconds: f64,
    /// The wire floor of full capacity (s): a lower bound no model goes under.
    pub floor_seconds: f64,
}

/// The links of a cost file's registry.
pub fn links(registry: &Registry) -> Links {
    Links {
        egress_bytes_per_sec: Some(registry.bandwidth.bytes_per_sec()),
        node_bytes_per_sec: registry.node_bandwidth.map(|r| r.bytes_per_sec()),
        latency_us: crate::model::seconds_to_us(registry.latency),
    }
}

/// The shape the model simulates: the pulling nodes with their share of the replicas (rounded
/// up, at least one each), spread round robin, all requested at once. Replicas on nodes that
/// hit the cache are taken as ready at once.
pub fn shape(t: &Traffic) -> Option<BurstShape> {
    let pulling = u32::try_from(burst_nodes_pulling(t))
        .ok()
        .filter(|&n| n > 0)?;
    let share = f64::from(t.burst_replicas) * f64::from(pulling) / f64::from(t.burst_nodes);
    let replicas = (share.ceil() as u32).max(pulling);
    Some(BurstShape {
        nodes: pulling,
        replicas,
        placement: Placement::Spread,
        step: None,
    })
}

/// One burst of `image` under `t`'s shape and `registry`'s links, with `params`.
pub fn burst_timing(
    image: &ImageModel,
    t: &Traffic,
    registry: &Registry,
    params: &ModelParams,
) -> BurstTiming {
    let Some(shape) = shape(t) else {
        return BurstTiming::default();
    };
    let outcome = simulate_burst(image, &shape, params, &links(registry));
    let seconds = |us: Option<u64>| us.map_or(0.0, crate::model::us_to_seconds);
    BurstTiming {
        pulling: shape.nodes,
        full_seconds: seconds(outcome.milestones.full_ready_us),
        capacity_seconds: outcome.milestones.capacity_seconds_lost,
        floor_seconds: seconds(outcome.floor_us),
    }
}
