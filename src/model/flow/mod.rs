//! Fluid flows over nested links: every flow crosses the registry's shared egress and its
//! node's downlink; rates follow max-min fairness (water-filling, as TCP flows share
//! bottlenecks) and change only when a flow starts or finishes.
//!
//! All active flows of a node get the same rate, and so do all nodes with the same downlink
//! and the same number of active flows: a *class*. The water-filling works on classes (a
//! handful when every node has the same downlink), each class counts bytes served per flow,
//! and a node's served bytes are read off its class's counter. An event costs
//! O(classes + nodes it touches · log), whatever the number of busy nodes.

mod class;

use std::cmp::Reverse;
use std::collections::HashMap;

use class::{water_fill, Class, Due, DueHeap};

/// Relative slack under which a flow counts as finished (absorbs rounding).
const DONE_SLACK: f64 = 1e-9;

/// Bytes under which `target` counts as reached.
fn slack(target: f64) -> f64 {
    DONE_SLACK * target.abs().max(1.0)
}

/// One node: its downlink, its active flows (keyed by the served bytes at which each ends).
#[derive(Debug, Clone, Default)]
struct Node {
    downlink: f64,
    /// Bytes served per flow when the node joined its class.
    base: f64,
    /// Its class's counter when it joined.
    mark: f64,
    class: Option<usize>,
    /// Bumped whenever the node leaves a class, to spot stale class entries.
    epoch: u64,
    flows: DueHeap,
}

/// A fluid network: the shared egress, node downlinks, and the flows in flight.
#[derive(Debug, Clone)]
pub struct FluidNetwork {
    egress: f64,
    nodes: Vec<Node>,
    classes: Vec<Class>,
    class_index: HashMap<(u64, usize), usize>,
    active_flows: usize,
    now: f64,
    rates_stale: bool,
    /// The next completion found by [`FluidNetwork::next_completion`]: time and class.
    due: Option<(f64, usize)>,
    order: Vec<usize>,
    finishing: Vec<usize>,
}

impl FluidNetwork {
    /// A network with `nodes` nodes at time 0. Rates in bytes/s; `None`, zero, negative, NaN
    /// or infinite means unlimited. A node beyond `downlinks` has an unlimited downlink.
    pub fn new(egress: Option<f64>, downlinks: &[Option<f64>], nodes: usize) -> Self {
        let node = |i: usize| Node {
            downlink: super::rate_or_unlimited(downlinks.get(i).copied().flatten()),
            ..Node::default()
        };
        FluidNetwork {
            egress: super::rate_or_unlimited(egress),
            nodes: (0..nodes.max(downlinks.len())).map(node).collect(),
            classes: Vec::new(),
            class_index: HashMap::new(),
            active_flows: 0,
            now: 0.0,
            rates_stale: false,
            due: None,
            order: Vec::new(),
            finishing: Vec::new(),
        }
    }

    /// The current time (s).
    pub fn now(&self) -> f64 {
        self.now
    }

    /// True when no flow is in flight.
    pub fn is_idle(&self) -> bool {
        self.active_flows == 0
    }

    /// Starts flow `id` of `bytes` on `node` now; an unknown node gets an unlimited downlink.
    pub fn start(&mut self, node: usize, bytes: u64, id: usize) {
        if node >= self.nodes.len() {
            self.nodes.resize_with(node + 1, || Node {
                downlink: f64::INFINITY,
                ..Node::default()
            });
        }
        self.leave(node);
        let n = &mut self.nodes[node];
        let key = n.base + bytes as f64;
        n.flows.push(Reverse(Due { key, id, epoch: 0 }));
        self.join(node);
        self.active_flows += 1;
        self.rates_stale = true;
    }

    /// The next event: the earlier of `arrival` (the caller's next flow start) and
    /// [`Self::next_completion`]; `None` when neither is left.
    pub fn next_event(&mut self, arrival: Option<f64>) -> Option<f64> {
        match (arrival, self.next_completion()) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }

    /// When the next flow finishes at the current rates, `None` when none is in flight (or
    /// none can progress).
    pub fn next_completion(&mut self) -> Option<f64> {
        if self.rates_stale {
            self.refresh_rates();
        }
        if self.due.is_none() {
            let nodes = &self.nodes;
            let now = self.now;
            self.due = self
                .classes
                .iter_mut()
                .enumerate()
                .filter(|(_, class)| class.members > 0)
                .filter_map(|(c, class)| {
                    let first = class.first_live(|n| nodes[n].epoch)?;
                    let t = now + class.seconds_to(first.key);
                    t.is_finite().then_some((t, c))
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
        for class in self.classes.iter_mut().filter(|c| c.members > 0) {
            if class.rate.is_finite() {
                class.counter += class.rate * dt;
            }
        }
        let nodes = &self.nodes;
        if let Some((_, c)) = due {
            // Rounding must not leave the node found due a hair short.
            let class = &mut self.classes[c];
            if let Some(first) = class.first_live(|n| nodes[n].epoch) {
                class.counter = class.counter.max(first.key);
            }
        }
        self.now += dt;
        self.due = None;
        self.collect_finishing();
        let finishing = std::mem::take(&mut self.finishing);
        for &node in &finishing {
            self.finish_first(node, done);
        }
        self.finishing = finishing;
    }

    /// The nodes whose next flow is done, into `self.finishing`.
    fn collect_finishing(&mut self) {
        self.finishing.clear();
        let nodes = &self.nodes;
        for class in self.classes.iter_mut().filter(|c| c.members > 0) {
            while let Some(first) = class.first_live(|n| nodes[n].epoch) {
                if class.rate.is_finite() && first.key > class.counter + slack(first.key) {
                    break;
                }
                class.due.pop();
                self.finishing.push(first.id);
            }
        }
    }

    /// Ends `node`'s first flow (all of them at an unlimited rate) and any other flow done by
    /// now, then moves the node to the class of its remaining flows.
    fn finish_first(&mut self, node: usize, done: &mut Vec<usize>) {
        let unlimited = self.nodes[node]
            .class
            .is_some_and(|c| self.classes[c].rate.is_infinite());
        self.leave(node);
        let n = &mut self.nodes[node];
        let mut first = true;
        while let Some(Reverse(flow)) = n.flows.peek().copied() {
            if !(first || unlimited || flow.key <= n.base + slack(flow.key)) {
                break;
            }
            first = false;
            n.flows.pop();
            n.base = n.base.max(flow.key);
            done.push(flow.id);
            self.active_flows -= 1;
        }
        self.join(node);
        self.rates_stale = true;
    }

    /// Bytes served per flow of `node` so far.
    fn served(&self, node: usize) -> f64 {
        let n = &self.nodes[node];
        n.base + n.class.map_or(0.0, |c| self.classes[c].counter - n.mark)
    }

    /// Takes `node` out of its class, keeping what it was served.
    fn leave(&mut self, node: usize) {
        let served = self.served(node);
        let n = &mut self.nodes[node];
        n.base = served;
        n.epoch += 1;
        if let Some(c) = n.class.take() {
            self.classes[c].members -= 1;
        }
    }

    /// Puts `node` (out of any class) into the class of its downlink and flow count.
    fn join(&mut self, node: usize) {
        let n = &self.nodes[node];
        let Some(Reverse(first)) = n.flows.peek().copied() else {
            return;
        };
        let k = n.flows.len();
        let downlink = n.downlink;
        let next = self.classes.len();
        let c = *self
            .class_index
            .entry((downlink.to_bits(), k))
            .or_insert(next);
        if c == next {
            self.classes.push(Class::new(downlink, k));
        }
        let class = &mut self.classes[c];
        let n = &mut self.nodes[node];
        n.class = Some(c);
        n.mark = class.counter;
        class.members += 1;
        let key = class.counter + (first.key - n.base).max(0.0);
        class.due.push(Reverse(Due {
            key,
            id: node,
            epoch: n.epoch,
        }));
    }

    fn refresh_rates(&mut self) {
        self.rates_stale = false;
        self.due = None;
        water_fill(self.egress, &mut self.classes, &mut self.order);
    }
}
