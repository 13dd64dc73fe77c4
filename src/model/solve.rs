//! Solving a fixed set of flows, each starting at a known time, to their finish times.

use super::flow::FluidNetwork;

/// One download: its node, when it starts (s) and its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    /// The node whose downlink it crosses.
    pub node: usize,
    /// Start (s); negative, NaN or infinite counts as 0.
    pub start: f64,
    /// Bytes to move.
    pub bytes: u64,
}

/// Each flow's finish time (s), event by event over the egress (`egress`, bytes/s) and the
/// node downlinks (`downlinks[node]`, bytes/s; a node beyond the slice is unlimited). `None`,
/// zero or non-finite rates are unlimited; a flow that cannot finish gets `INFINITY`.
pub fn solve_flows(egress: Option<f64>, downlinks: &[Option<f64>], flows: &[Flow]) -> Vec<f64> {
    let start = |f: &Flow| {
        if f.start.is_finite() {
            f.start.max(0.0)
        } else {
            0.0
        }
    };
    let mut order: Vec<usize> = (0..flows.len()).collect();
    order.sort_by(|&a, &b| start(&flows[a]).total_cmp(&start(&flows[b])));
    let nodes = flows.iter().map(|f| f.node + 1).max().unwrap_or(0);
    let mut net = FluidNetwork::new(egress, downlinks, nodes);
    let mut finish = vec![f64::INFINITY; flows.len()];
    let mut done = Vec::new();
    let mut next = 0;
    loop {
        let arrival = order.get(next).map(|&i| start(&flows[i]));
        let Some(t) = net.next_event(arrival) else {
            break;
        };
        net.advance(t, &mut done);
        for id in done.drain(..) {
            finish[id] = t;
        }
        while let Some(&i) = order.get(next).filter(|&&i| start(&flows[i]) <= t) {
            net.start(flows[i].node, flows[i].bytes, i);
            next += 1;
        }
    }
    finish
}
