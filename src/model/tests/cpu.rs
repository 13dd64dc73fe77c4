//! Nodes sharing the host's cores: processor sharing checked by hand, and no effect when the
//! cores are plentiful.

use std::time::Duration;

use super::{close, image, links, MB};
use crate::model::{simulate_slots, ModelParams};
use crate::plan::Slot;

/// One replica per node, all requested at 0.
fn one_each(nodes: usize) -> Vec<Slot> {
    (0..nodes)
        .map(|n| Slot {
            replica: n,
            node: n,
            offset: Duration::ZERO,
        })
        .collect()
}

/// Instant downloads; a layer of 1 MB extracts in 1 s; create + start 0.5 s; answer at once.
fn params(cores: Option<f64>) -> ModelParams {
    ModelParams {
        metadata_round_trips: 0,
        extract_bytes_per_sec: 1e6,
        extract_overhead_us: 0,
        create_us: 250_000,
        start_us: 250_000,
        first_request_us: 0,
        shared_cores: cores,
        ..ModelParams::default()
    }
}

/// Two nodes on one core: both extractions (1 s of work each) progress at half speed and end
/// at 2 s; both starts (0.5 s each) then end at 3 s. On two cores: 1 s and 1.5 s.
#[test]
fn two_nodes_on_one_core_take_twice_as_long() {
    let img = image(1, MB, MB);
    let unlimited = links(None, None);
    for (cores, pulled, ready) in [(1.0, 2.0, 3.0), (2.0, 1.0, 1.5)] {
        let out = simulate_slots(&img, &one_each(2), &params(Some(cores)), &unlimited);
        for pull in out.pulls.iter().flatten() {
            assert!(
                close(pull.pull_us as f64 / 1e6, pulled),
                "{cores} cores: {pull:?}"
            );
        }
        for r in &out.replicas {
            assert!(
                close(r.ready_us as f64 / 1e6, ready),
                "{cores} cores: {r:?}"
            );
        }
    }
}

/// With more cores than jobs, sharing changes nothing: the same pulls and replicas as the
/// model without shared cores.
#[test]
fn plentiful_cores_change_nothing() {
    let img = image(4, 15 * MB, 20 * MB);
    let slots: Vec<Slot> = (0..9)
        .map(|r| Slot {
            replica: r,
            node: r % 3,
            offset: Duration::from_millis(100 * r as u64),
        })
        .collect();
    let l = links(Some(50e6), Some(125e6));
    let alone = simulate_slots(&img, &slots, &params(None), &l);
    let shared = simulate_slots(&img, &slots, &params(Some(1000.0)), &l);
    for (a, s) in alone.replicas.iter().zip(&shared.replicas) {
        assert!(
            (a.ready_us as i64 - s.ready_us as i64).abs() <= 1,
            "{a:?} vs {s:?}"
        );
    }
    for (a, s) in alone.pulls.iter().zip(&shared.pulls) {
        let (a, s) = (a.as_ref().unwrap(), s.as_ref().unwrap());
        assert!(
            (a.pull_us as i64 - s.pull_us as i64).abs() <= 1,
            "{a:?} vs {s:?}"
        );
    }
}

/// Fewer cores never make a burst faster.
#[test]
fn fewer_cores_are_never_faster() {
    let img = image(3, 10 * MB, 30 * MB);
    let slots: Vec<Slot> = (0..12)
        .map(|r| Slot {
            replica: r,
            node: r % 4,
            offset: Duration::ZERO,
        })
        .collect();
    let l = links(Some(100e6), None);
    let full = |cores: f64| {
        let out = simulate_slots(&img, &slots, &params(Some(cores)), &l);
        out.milestones.full_ready_us.unwrap()
    };
    let times: Vec<u64> = [8.0, 4.0, 2.0, 1.0, 0.5].into_iter().map(full).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}
