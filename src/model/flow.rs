//! Fluid flows over nested links: every flow crosses the registry's shared egress and its
//! node's downlink; rates follow max-min fairness (water-filling, as TCP flows share
//! bottlenecks) and change only when a flow starts or finishes.
//!
//! All active flows of a node cross the same two links, so they get the same rate: the
//! water-filling works on node groups (sorted by the per-flow share of their downlink), and
//! each node keeps one counter of bytes served per flow, with its flows ordered by the counter
//! value at which they finish. An event costs O(busy nodes · log), not O(flows).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Relative slack under which a flow counts as finished (absorbs rounding).
const DONE_SLACK: f64 = 1e-9;

/// A flow waiting to finish: the node's served counter at which it is done, and its id.
#[derive(Debug, Clone, Copy)]
struct Pending {
    target: f64,
    id: usize,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.target
            .total_cmp(&other.target)
            .then(self.id.cmp(&other.id))
    }
}

/// One node's downlink and the flows crossing it.
#[derive(Debug, Clone, Default)]
struct NodeGroup {
    /// Downlink rate (bytes/s), `INFINITY` when unlimited.
    downlink: f64,
    /// Bytes served to each active flow of the node since the network started.
    served: f64,
    /// Current rate of each active flow (bytes/s).
    rate: f64,
    /// Active flows, the first to finish on top.
    active: BinaryHeap<Reverse<Pending>>,
}

impl NodeGroup {
    fn first_target(&self) -> Option<f64> {
        self.active.peek().map(|Reverse(p)| p.target)
    }
}

/// A fluid network: the shared egress, node downlinks, and the flows in flight.
#[derive(Debug, Clone)]
pub struct FluidNetwork {
    egress: f64,
    nodes: Vec<NodeGroup>,
    /// Nodes with active flows.
    busy: Vec<usize>,
    now: f64,
    rates_stale: bool,
    /// The next completion found by [`FluidNetwork::next_completion`]: time and node.
    due: Option<(f64, usize)>,
    /// Scratch: (per-flow downlink share, node) of busy nodes.
    order: Vec<(f64, usize)>,
}

impl FluidNetwork {
    /// A network with `nodes` nodes at time 0. Rates in bytes/s; `None`, zero, negative, NaN
    /// or infinite means unlimited. A node beyond `downlinks` has an unlimited downlink.
    pub fn new(egress: Option<f64>, downlinks: &[Option<f64>], nodes: usize) -> Self {
        let group = |i: usize| NodeGroup {
            downlink: super::rate_or_unlimited(downlinks.get(i).copied().flatten()),
            ..NodeGroup::default()
        };
        FluidNetwork {
            egress: super::rate_or_unlimited(egress),
            nodes: (0..nodes.max(downlinks.len())).map(group).collect(),
            busy: Vec::new(),
            now: 0.0,
            rates_stale: false,
            due: None,
            order: Vec::new(),
        }
    }

    /// The current time (s).
    pub fn now(&self) -> f64 {
        self.now
    }

    /// True when no flow is in flight.
    pub fn is_idle(&self) -> bool {
        self.busy.is_empty()
    }

    /// Starts flow `id` of `bytes` on `node` now; an unknown node gets an unlimited downlink.
    pub fn start(&mut self, node: usize, bytes: u64, id: usize) {
        if node >= self.nodes.len() {
            self.nodes.resize_with(node + 1, || NodeGroup {
                downlink: f64::INFINITY,
                ..NodeGroup::default()
            });
        }
        let group = &mut self.nodes[node];
        if group.active.is_empty() {
            self.busy.push(node);
        }
        let target = group.served + bytes as f64;
        group.active.push(Reverse(Pending { target, id }));
        self.rates_stale = true;
        self.due = None;
    }

    /// When the next flow finishes at the current rates, `None` when none is in flight (or
    /// none can progress).
    pub fn next_completion(&mut self) -> Option<f64> {
        if self.rates_stale {
            self.refresh_rates();
        }
        if self.due.is_none() {
            self.due = self
                .busy
                .iter()
                .filter_map(|&n| {
                    let g = &self.nodes[n];
                    let left = (g.first_target()? - g.served).max(0.0);
                    let dt = if g.rate.is_infinite() {
                        0.0
                    } else {
                        left / g.rate
                    };
                    dt.is_finite().then_some((self.now + dt, n))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
        }
        self.due.map(|(t, _)| t)
    }

    /// Moves time to `to` (never backwards) and appends the ids of the flows done by then.
    pub fn advance(&mut self, to: f64, done: &mut Vec<usize>) {
        if self.rates_stale {
            self.refresh_rates();
        }
        let dt = if to.is_finite() {
            (to - self.now).max(0.0)
        } else {
            0.0
        };
        let due = self.due.filter(|(t, _)| *t <= self.now + dt);
        for &n in &self.busy {
            let g = &mut self.nodes[n];
            if g.rate.is_infinite() {
                g.served = g
                    .active
                    .iter()
                    .map(|Reverse(p)| p.target)
                    .fold(g.served, f64::max);
            } else {
                g.served += g.rate * dt;
            }
            if due.is_some_and(|(_, d)| d == n) {
                // Rounding must not leave the flow found due a hair short.
                g.served = g.first_target().map_or(g.served, |t| t.max(g.served));
            }
            while let Some(Reverse(p)) = g.active.peek().copied() {
                if p.target > g.served + DONE_SLACK * p.target.abs().max(1.0) {
                    break;
                }
                g.active.pop();
                done.push(p.id);
                self.rates_stale = true;
            }
        }
        self.now += dt;
        let nodes = &self.nodes;
        self.busy.retain(|&n| !nodes[n].active.is_empty());
        self.due = None;
    }

    /// Max-min fair rates: node groups in ascending order of per-flow downlink share; a group
    /// whose share is below the egress's equal share of what is left keeps its share, the
    /// rest split the remaining egress equally.
    fn refresh_rates(&mut self) {
        self.rates_stale = false;
        self.due = None;
        self.order.clear();
        let mut flows = 0usize;
        for &n in &self.busy {
            let g = &self.nodes[n];
            flows += g.active.len();
            self.order.push((g.downlink / g.active.len() as f64, n));
        }
        if self.egress.is_infinite() {
            for &(share, n) in &self.order {
                self.nodes[n].rate = share;
            }
            return;
        }
        self.order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut left = self.egress;
        let mut capped = true;
        let mut fair = 0.0;
        for &(share, n) in &self.order {
            let g = &mut self.nodes[n];
            let k = g.active.len();
            if capped {
                fair = left.max(0.0) / flows.max(1) as f64;
                capped = share < fair;
            }
            if capped {
                g.rate = share;
                left -= share * k as f64;
                flows -= k;
            } else {
                g.rate = fair;
            }
        }
    }
}
