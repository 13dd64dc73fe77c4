//! Bursts: each node pulls once, replicas after the image is present, start slots, milestones.

use std::time::Duration;

use super::{downloads_only, image, links, MB};
use crate::model::{simulate_burst, simulate_slots, BurstShape, ModelParams};
use crate::plan::Slot;
use crate::scenario::Placement;

fn shape(nodes: u32, replicas: u32, step: Option<(u32, Duration)>) -> BurstShape {
    BurstShape {
        nodes,
        replicas,
        placement: Placement::Spread,
        step,
    }
}

/// Create 100 ms, start 50 ms, first request 10 ms; downloads only otherwise.
fn containers() -> ModelParams {
    ModelParams {
        create_us: 100_000,
        start_us: 50_000,
        first_request_us: 10_000,
        ..downloads_only()
    }
}

/// 3 nodes, 9 replicas, 60 MB over a 50 MB/s egress: each node pulls once (3 × 60 / 50 =
/// 3.6 s for all), then its 3 replicas are ready 160 ms later, together.
#[test]
fn nodes_pull_once_and_their_replicas_follow() {
    let out = simulate_burst(
        &image(4, 15 * MB, 15 * MB),
        &shape(3, 9, None),
        &containers(),
        &links(Some(50e6), Some(125e6)),
    );
    assert_eq!(out.pulls.iter().flatten().count(), 3);
    assert!(
        out.replicas.iter().all(|r| r.ready_us == 3_760_000),
        "{out:?}"
    );
    assert_eq!(out.floor_us, Some(3_600_000));
    let m = out.milestones;
    assert_eq!(
        (m.first_ready_us, m.half_ready_us, m.full_ready_us),
        (Some(3_760_000), Some(3_760_000), Some(3_760_000))
    );
    assert!((m.capacity_seconds_lost - 9.0 * 3.76).abs() < 1e-9);
}

/// One node, 4 replicas, 2 added every 10 s; a 10 MB image at 10 MB/s pulls in 1 s. The first
/// two wait for the pull (1 + 0.16 s); the next two, requested at 10 s when the image is
/// present, pay only create + start + first request: 10.16 s.
#[test]
fn a_replica_requested_after_the_pull_pays_only_the_container_phases() {
    let out = simulate_burst(
        &image(1, 10 * MB, 10 * MB),
        &shape(1, 4, Some((2, Duration::from_secs(10)))),
        &containers(),
        &links(Some(10e6), None),
    );
    let ready: Vec<u64> = out.replicas.iter().map(|r| r.ready_us).collect();
    assert_eq!(ready, vec![1_160_000, 1_160_000, 10_160_000, 10_160_000]);
    // Capacity lost: 2 × 1.16 s + 2 × 0.16 s.
    assert!((out.milestones.capacity_seconds_lost - 2.64).abs() < 1e-9);
    assert_eq!(out.milestones.half_ready_us, Some(1_160_000));
    assert_eq!(out.milestones.full_ready_us, Some(10_160_000));
}

/// One start slot per node: 3 replicas on one node create and start one after another
/// (150 ms each); with unlimited slots they all start together.
#[test]
fn start_concurrency_queues_container_starts_per_node() {
    let img = image(1, 0, 0);
    let slots: Vec<Slot> = (0..3)
        .map(|replica| Slot {
            replica,
            node: 0,
            offset: Duration::ZERO,
        })
        .collect();
    let one = ModelParams {
        start_concurrency: Some(1),
        ..containers()
    };
    let ready = |p: &ModelParams| -> Vec<u64> {
        simulate_slots(&img, &slots, p, &links(None, None))
            .replicas
            .iter()
            .map(|r| r.ready_us)
            .collect()
    };
    assert_eq!(ready(&one), vec![160_000, 310_000, 460_000]);
    assert_eq!(ready(&containers()), vec![160_000; 3]);
    let zero = ModelParams {
        start_concurrency: Some(0),
        ..containers()
    };
    assert_eq!(ready(&zero), ready(&one), "0 counts as 1");
}

#[test]
fn an_empty_burst_has_no_milestones() {
    let out = simulate_burst(
        &image(2, MB, MB),
        &shape(3, 0, None),
        &ModelParams::default(),
        &links(None, None),
    );
    assert!(out.replicas.is_empty() && out.pulls.is_empty());
    assert_eq!(out.milestones.full_ready_us, None);
}
