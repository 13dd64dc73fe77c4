//! The solver against a naive reference: per-flow max-min water-filling recomputed at every
//! event, O(flows²), on small random cases.

use proptest::prelude::*;

use crate::model::{rate_or_unlimited, solve_flows, Flow};

/// Each flow's finish time, the slow and obvious way.
fn reference(egress: Option<f64>, downlinks: &[Option<f64>], flows: &[Flow]) -> Vec<f64> {
    let egress = rate_or_unlimited(egress);
    let downlink = |n: usize| rate_or_unlimited(downlinks.get(n).copied().flatten());
    let mut left: Vec<f64> = flows.iter().map(|f| f.bytes as f64).collect();
    let mut finish = vec![f64::INFINITY; flows.len()];
    let mut now = 0.0;
    loop {
        let active: Vec<usize> = (0..flows.len())
            .filter(|&i| flows[i].start <= now && finish[i].is_infinite())
            .collect();
        // Per-flow share of its node's downlink, then water-filling over flows.
        let share = |i: usize| {
            let k = active
                .iter()
                .filter(|&&j| flows[j].node == flows[i].node)
                .count();
            downlink(flows[i].node) / k as f64
        };
        let mut by_share: Vec<(f64, usize)> = active.iter().map(|&i| (share(i), i)).collect();
        by_share.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut rate = vec![0.0; flows.len()];
        let (mut budget, mut count) = (egress, by_share.len());
        for (s, i) in by_share {
            let fair = budget / count as f64;
            rate[i] = s.min(fair);
            budget -= rate[i];
            count -= 1;
        }
        let next_start = flows
            .iter()
            .map(|f| f.start)
            .filter(|&s| s > now)
            .fold(f64::INFINITY, f64::min);
        let next_finish = active
            .iter()
            .map(|&i| now + left[i] / rate[i])
            .fold(f64::INFINITY, f64::min);
        let t = next_start.min(next_finish);
        if t.is_infinite() {
            return finish;
        }
        for &i in &active {
            left[i] -= rate[i] * (t - now);
            if left[i] <= 1e-6 * (flows[i].bytes as f64).max(1.0) || rate[i].is_infinite() {
                finish[i] = t;
            }
        }
        now = t;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_solver_agrees_with_the_naive_reference(
        flows in prop::collection::vec((0..4usize, 0..4u32, 1..50u64), 1..12),
        egress in prop::option::of(10.0..200.0f64),
        downlinks in prop::collection::vec(prop::option::of(5.0..100.0f64), 4),
    ) {
        // Sizes in MB, rates in MB/s, starts on a 0.5 s grid (ties on purpose).
        let flows: Vec<Flow> = flows
            .iter()
            .map(|&(node, start, mb)| Flow { node, start: f64::from(start) * 0.5, bytes: mb * 1_000_000 })
            .collect();
        let egress = egress.map(|e| e * 1e6);
        let downlinks: Vec<Option<f64>> = downlinks.iter().map(|d| d.map(|d| d * 1e6)).collect();
        let got = solve_flows(egress, &downlinks, &flows);
        let want = reference(egress, &downlinks, &flows);
        for (g, w) in got.iter().zip(&want) {
            prop_assert!((g - w).abs() <= 1e-6 * w.max(1.0), "{got:?} vs {want:?}");
        }
    }
}
