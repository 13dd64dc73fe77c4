//! Node classes: the busy nodes with the same downlink and the same number of active flows.
//! Their flows all get the same rate, so a class keeps one counter of bytes served per flow,
//! and its nodes in the order their next flow finishes, in units of that counter.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// An item due when a counter reaches `key`, ordered by `key` (then `id`, then `epoch`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Due {
    pub key: f64,
    pub id: usize,
    pub epoch: u64,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.id.cmp(&other.id))
            .then(self.epoch.cmp(&other.epoch))
    }
}

/// A min-heap of [`Due`] items.
pub(super) type DueHeap = BinaryHeap<Reverse<Due>>;

/// Busy nodes sharing a downlink rate and a count of active flows.
#[derive(Debug, Clone)]
pub(super) struct Class {
    /// Downlink of its nodes (bytes/s), `INFINITY` when unlimited.
    pub downlink: f64,
    /// Active flows on each of its nodes.
    pub flows_per_node: usize,
    /// Nodes in the class now.
    pub members: usize,
    /// Rate of each flow (bytes/s).
    pub rate: f64,
    /// Bytes served per flow since the class was made.
    pub counter: f64,
    /// Member nodes (`id` = node, `epoch` = the node's epoch when it joined), keyed by the
    /// counter value at which the node's next flow finishes; entries of nodes that left since
    /// are stale and skipped.
    pub due: DueHeap,
}

impl Class {
    /// An empty class.
    pub fn new(downlink: f64, flows_per_node: usize) -> Self {
        Class {
            downlink,
            flows_per_node,
            members: 0,
            rate: 0.0,
            counter: 0.0,
            due: DueHeap::new(),
        }
    }

    /// The per-flow share of the downlink.
    pub fn share(&self) -> f64 {
        self.downlink / self.flows_per_node.max(1) as f64
    }

    /// Flows in the class.
    pub fn flows(&self) -> usize {
        self.members * self.flows_per_node
    }

    /// The first live entry, dropping stale ones (`epoch_of(node)` is the node's epoch now).
    pub fn first_live(&mut self, epoch_of: impl Fn(usize) -> u64) -> Option<Due> {
        while let Some(Reverse(d)) = self.due.peek().copied() {
            if d.epoch == epoch_of(d.id) {
                return Some(d);
            }
            self.due.pop();
        }
        None
    }

    /// Seconds until the counter reaches `key` at the current rate.
    pub fn seconds_to(&self, key: f64) -> f64 {
        let left = (key - self.counter).max(0.0);
        if self.rate.is_infinite() || left == 0.0 {
            0.0
        } else {
            left / self.rate
        }
    }
}

/// Max-min fair rates of `classes` (the ones with members): in ascending order of per-flow
/// downlink share, a class whose share is below the equal share of the egress left keeps its
/// share; the rest split what is left equally. `order` is scratch space.
pub(super) fn water_fill(egress: f64, classes: &mut [Class], order: &mut Vec<usize>) {
    order.clear();
    order.extend((0..classes.len()).filter(|&c| classes[c].members > 0));
    if egress.is_infinite() {
        for &c in order.iter() {
            classes[c].rate = classes[c].share();
        }
        return;
    }
    order.sort_unstable_by(|&a, &b| classes[a].share().total_cmp(&classes[b].share()));
    let mut flows: usize = order.iter().map(|&c| classes[c].flows()).sum();
    let mut left = egress;
    let mut capped = true;
    let mut fair = 0.0;
    for &c in order.iter() {
        let class = &mut classes[c];
        if capped {
            fair = left.max(0.0) / flows.max(1) as f64;
            capped = class.share() < fair;
        }
        if capped {
            class.rate = class.share();
            left -= class.share() * class.flows() as f64;
            flows -= class.flows();
        } else {
            class.rate = fair;
        }
    }
}
