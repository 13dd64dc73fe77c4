//! One cold start, and a burst of replicas over many nodes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use toml::Spanned;

use super::pull::{simulate_pulls, LayerDone, NodePull};
use super::{ImageModel, Links, ModelParams};
use crate::analysis::{burst_floor_us, burst_milestones, Milestones};
use crate::plan::{schedule, Slot};
use crate::results::{Outcome, PhaseTimes, Sample};
use crate::scenario::{BurstSpec, Placement, StepSpec};
use crate::units::HumanDuration;

/// One modelled cold start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SingleOutcome {
    /// Phase durations (µs), every one set.
    pub phases: PhaseTimes,
    /// Each layer's download and extract completion, µs after the pull started.
    pub layers: Vec<LayerDone>,
}

/// One cold start of `image` on a node of its own.
pub fn simulate_single(image: &ImageModel, params: &ModelParams, links: &Links) -> SingleOutcome {
    let pull = simulate_pulls(image, &[Some(0.0)], params, links)
        .pop()
        .flatten()
        .unwrap_or_default();
    let create_us = params.create_for(image.uncompressed_bytes());
    let total = [
        pull.pull_us,
        create_us,
        params.start_us,
        params.first_request_us,
    ]
    .into_iter()
    .fold(0u64, u64::saturating_add);
    SingleOutcome {
        phases: PhaseTimes {
            pull_us: Some(pull.pull_us),
            create_us: Some(create_us),
            start_us: Some(params.start_us),
            first_request_us: Some(params.first_request_us),
            total_us: Some(total),
        },
        layers: pull.layers,
    }
}

/// A burst's shape, as in a scenario's `[burst]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstShape {
    /// Nodes the replicas land on.
    pub nodes: u32,
    /// Replicas requested.
    pub replicas: u32,
    /// Spread (round robin) or packed.
    pub placement: Placement,
    /// Add `.0` replicas every `.1`; all at once when `None`.
    pub step: Option<(u32, Duration)>,
}

impl BurstShape {
    /// The replica slots, exactly as a run plans them ([`crate::plan::schedule`]).
    pub fn slots(&self) -> Vec<Slot> {
        let spec = BurstSpec {
            nodes: Spanned::new(0..0, self.nodes),
            replicas: Spanned::new(0..0, self.replicas),
            placement: self.placement,
            step: self.step.map(|(add, every)| StepSpec {
                add: Spanned::new(0..0, add),
                every: HumanDuration(every),
            }),
        };
        schedule(&spec, self.nodes as usize)
    }
}

/// One replica of a modelled burst, µs after the burst started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaTimes {
    /// Replica number.
    pub replica: usize,
    /// Its node.
    pub node: usize,
    /// When it was requested.
    pub requested_us: u64,
    /// When it answered its first request.
    pub ready_us: u64,
}

/// A modelled burst.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstOutcome {
    /// Every replica, in replica order.
    pub replicas: Vec<ReplicaTimes>,
    /// Each node's pull, `None` for a node without replicas.
    pub pulls: Vec<Option<NodePull>>,
    /// First, half, full capacity and capacity-seconds lost ([`burst_milestones`]).
    pub milestones: Milestones,
    /// The physics floor of full capacity ([`burst_floor_us`]).
    pub floor_us: Option<u64>,
}

/// A burst of `shape` replicas of `image`.
pub fn simulate_burst(
    image: &ImageModel,
    shape: &BurstShape,
    params: &ModelParams,
    links: &Links,
) -> BurstOutcome {
    simulate_slots(image, &shape.slots(), params, links)
}

/// A burst given its replica slots (e.g. a [`crate::plan::Plan`]'s): each node pulls once,
/// from its first replica's request; each replica then creates, starts (at most
/// `start_concurrency` at once per node) and answers. With [`ModelParams::shared_cores`], the
/// nodes' extractions and starts share those cores instead (`start_concurrency` is not used).
pub fn simulate_slots(
    image: &ImageModel,
    slots: &[Slot],
    params: &ModelParams,
    links: &Links,
) -> BurstOutcome {
    let nodes = slots.iter().map(|s| s.node + 1).max().unwrap_or(0);
    let mut starts: Vec<Option<f64>> = vec![None; nodes];
    for slot in slots {
        let at = slot.offset.as_secs_f64();
        let start = &mut starts[slot.node];
        *start = Some(start.map_or(at, |s: f64| s.min(at)));
    }
    let (pulls, replicas) = match params.shared_cores() {
        Some(cores) => super::cpu::simulate_shared(image, &starts, slots, params, links, cores),
        None => {
            let pulls = simulate_pulls(image, &starts, params, links);
            let create_us = params.create_for(image.uncompressed_bytes());
            let replicas = replica_times(slots, &pulls, params, create_us);
            (pulls, replicas)
        }
    };
    let pulling = pulls.iter().flatten().count();
    let size = image
        .compressed_bytes()
        .saturating_add(image.metadata_bytes);
    BurstOutcome {
        milestones: burst_milestones(&as_samples(&replicas)),
        floor_us: burst_floor_us(
            pulling,
            size,
            links.egress_bytes_per_sec,
            links.node_bytes_per_sec,
        ),
        replicas,
        pulls,
    }
}

/// Each replica's ready time: it begins once requested and its node's image is present, then
/// holds one of the node's start slots for create + start, then answers.
fn replica_times(
    slots: &[Slot],
    pulls: &[Option<NodePull>],
    params: &ModelParams,
    create_us: u64,
) -> Vec<ReplicaTimes> {
    let busy_us = create_us.saturating_add(params.start_us);
    let limit = params.starts_in_flight();
    let begin_at = |s: &Slot| {
        let present = pulls[s.node].as_ref().map_or(0, NodePull::done_at_us);
        duration_us(s.offset).max(present)
    };
    let mut order: Vec<&Slot> = slots.iter().collect();
    order.sort_by_key(|s| (s.node, begin_at(s), s.replica));
    let mut times: Vec<ReplicaTimes> = Vec::with_capacity(slots.len());
    let mut free_at: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut node = usize::MAX;
    for slot in order {
        if slot.node != node {
            node = slot.node;
            free_at.clear();
        }
        let mut begin = begin_at(slot);
        if free_at.len() >= limit {
            let Reverse(free) = free_at.pop().unwrap_or(Reverse(0));
            begin = begin.max(free);
        }
        let started = begin.saturating_add(busy_us);
        if limit != usize::MAX {
            free_at.push(Reverse(started));
        }
        times.push(ReplicaTimes {
            replica: slot.replica,
            node: slot.node,
            requested_us: duration_us(slot.offset),
            ready_us: started.saturating_add(params.first_request_us),
        });
    }
    times.sort_by_key(|t| t.replica);
    times
}

/// The replicas as burst samples, for [`burst_milestones`].
fn as_samples(replicas: &[ReplicaTimes]) -> Vec<Sample> {
    replicas
        .iter()
        .map(|r| Sample {
            index: r.replica,
            repetition: 0,
            variant: String::new(),
            warmup: false,
            node: r.node,
            started_at: String::new(),
            phases: PhaseTimes::default(),
            blob_bytes: 0,
            manifest_bytes: 0,
            expected_bytes: 0,
            cold: true,
            layers: Vec::new(),
            outcome: Outcome::Ok,
            burst: Some(0),
            replica: Some(r.replica),
            requested_at_us: Some(r.requested_us),
            ready_at_us: Some(r.ready_us),
            finished_at_us: Some(r.ready_us),
            pod: None,
            registry: None,
            probe: None,
        })
        .collect()
}

fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
