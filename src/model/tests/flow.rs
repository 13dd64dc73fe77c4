//! The fluid flow solver against cases worked out by hand.

use super::{close, MB};
use crate::model::{solve_flows, Flow};

fn flow(node: usize, start: f64, bytes: u64) -> Flow {
    Flow { node, start, bytes }
}

/// Egress 100 MB/s; node A's downlink 30 MB/s, node B unlimited; 60 MB each from t = 0.
///
/// Water-filling: the equal share of the egress is 100 / 2 = 50 MB/s per flow; A's downlink
/// (30) is below it, so A gets 30 and B the rest, 100 − 30 = 70 MB/s.
/// B finishes at 60 / 70 = 0.857 142 9 s; A has 60 − 30 × 0.857 = 34.29 MB left, alone at
/// min(30, 100) = 30 MB/s: 34.29 / 30 = 1.142 857 s more → 2.0 s (A ran at 30 throughout).
#[test]
fn a_slow_downlink_leaves_the_rest_of_the_egress_to_the_other_node() {
    let t = solve_flows(
        Some(100e6),
        &[Some(30e6), None],
        &[flow(0, 0.0, 60 * MB), flow(1, 0.0, 60 * MB)],
    );
    assert!(close(t[1], 60.0 / 70.0), "{t:?}");
    assert!(
        close(t[0], 60.0 / 70.0 + (60.0 - 30.0 * 60.0 / 70.0) / 30.0),
        "{t:?}"
    );
    assert!(close(t[0], 2.0), "{t:?}");
}

/// Egress 100 MB/s; A's downlink 60 MB/s (above the equal share), B unlimited; A 60 MB,
/// B 20 MB.
///
/// Both get 100 / 2 = 50 MB/s (A's 60 does not bind). B finishes at 20 / 50 = 0.4 s, when A
/// has 60 − 20 = 40 MB left; alone, A gets min(60, 100) = 60 MB/s: 40 / 60 = 0.667 s more →
/// 1.0667 s.
#[test]
fn a_node_speeds_up_to_its_downlink_when_the_other_finishes() {
    let t = solve_flows(
        Some(100e6),
        &[Some(60e6), None],
        &[flow(0, 0.0, 60 * MB), flow(1, 0.0, 20 * MB)],
    );
    assert!(close(t[1], 0.4), "{t:?}");
    assert!(close(t[0], 0.4 + 40.0 / 60.0), "{t:?}");
}

/// Two flows on one node share its 10 MB/s downlink (egress unlimited): 5 MB/s each; a third
/// flow on another node is unaffected. 10 MB and 20 MB: the first done at 10 / 5 = 2 s, the
/// second then has 10 MB left at 10 MB/s → 3 s. The other node's 10 MB at 10 MB/s → 1 s.
#[test]
fn flows_of_one_node_share_its_downlink_equally() {
    let t = solve_flows(
        None,
        &[Some(10e6), Some(10e6)],
        &[
            flow(0, 0.0, 10 * MB),
            flow(0, 0.0, 20 * MB),
            flow(1, 0.0, 10 * MB),
        ],
    );
    assert!(
        close(t[0], 2.0) && close(t[1], 3.0) && close(t[2], 1.0),
        "{t:?}"
    );
}

/// A late flow: 10 MB/s egress, flow 0 (20 MB) from 0, flow 1 (5 MB) from 1 s. Flow 0 alone
/// until 1 s (10 MB done), then 5 MB/s each: flow 1 done at 1 + 5 / 5 = 2 s, flow 0 has
/// 10 − 5 = 5 MB left alone at 10 MB/s → 2.5 s.
#[test]
fn a_flow_starting_later_takes_its_share_from_then() {
    let t = solve_flows(
        Some(10e6),
        &[],
        &[flow(0, 0.0, 20 * MB), flow(1, 1.0, 5 * MB)],
    );
    assert!(close(t[1], 2.0) && close(t[0], 2.5), "{t:?}");
}

#[test]
fn unlimited_links_and_empty_flows_finish_at_their_start() {
    let t = solve_flows(None, &[], &[flow(0, 0.5, 10 * MB), flow(3, 1.0, 0)]);
    assert_eq!(t, vec![0.5, 1.0]);
    let t = solve_flows(Some(f64::NAN), &[Some(0.0)], &[flow(0, f64::NAN, 0)]);
    assert_eq!(t, vec![0.0]);
    assert!(solve_flows(Some(1.0), &[], &[]).is_empty());
}

/// 1,000 nodes × 6 flows with staggered starts solve quickly (every event moves every busy
/// node, so O(F²) would show here in a debug build).
#[test]
fn many_staggered_flows_solve_and_conserve_the_egress() {
    let flows: Vec<Flow> = (0..6000)
        .map(|i| flow(i / 6, (i / 6) as f64 * 0.001, MB))
        .collect();
    let t = solve_flows(Some(1e9), &[], &flows);
    let last = t.iter().cloned().fold(0.0, f64::max);
    // Work conserving: the egress is never idle once busy, 6 GB at 1 GB/s.
    assert!(close(last, 6.0), "{last}");
}
