//! The pull pipeline: wire floor, nodes sharing the egress, concurrency, extraction modes.

use super::{close, downloads_only, image, links, MB};
use crate::model::{simulate_pulls, simulate_single, ExtractMode, ModelParams, NodePull};

/// The latest download completion of a pull (s after it started).
fn downloads_done(pull: &NodePull) -> f64 {
    pull.layers.iter().map(|l| l.download_us).max().unwrap_or(0) as f64 / 1e6
}

/// Download completions of a pull (s).
fn download_times(pull: &NodePull) -> Vec<f64> {
    pull.layers
        .iter()
        .map(|l| l.download_us as f64 / 1e6)
        .collect()
}

#[test]
fn a_pull_is_never_faster_than_the_wire_floor() {
    // 150 MB in 6 layers; egress 100 MB/s, downlink 50 MB/s → floor 150 / 50 = 3 s.
    let img = image(6, 25 * MB, 35 * MB);
    let l = links(Some(100e6), Some(50e6));
    let single = simulate_single(&img, &ModelParams::default(), &l);
    let floor_us = 3_000_000;
    assert!(single.phases.pull_us.unwrap() > floor_us);
    let pull = simulate_pulls(&img, &[Some(0.0)], &downloads_only(), &l)[0]
        .clone()
        .unwrap();
    assert!(close(downloads_done(&pull), 3.0), "{pull:?}");
}

/// N nodes with unlimited downlinks share a 100 MB/s egress: every byte crosses it, so the
/// last download ends at N × (150 MB / 100 MB/s) = N × 1.5 s.
#[test]
fn n_nodes_sharing_the_egress_take_n_times_the_single_wire_time() {
    let img = image(6, 25 * MB, 35 * MB);
    let l = links(Some(100e6), None);
    for n in [1usize, 2, 3, 10] {
        let pulls = simulate_pulls(&img, &vec![Some(0.0); n], &downloads_only(), &l);
        for pull in pulls.iter().flatten() {
            assert!(close(downloads_done(pull), n as f64 * 1.5), "{n}: {pull:?}");
        }
    }
}

/// 3 layers of 10 MB at 10 MB/s, 100 ms latency per layer request.
/// One at a time: each layer waits for its request → 0.1 + 1 = 1.1, 2.2, 3.3 s.
/// Three at once: all requested at 0.1 s, sharing 10 MB/s → all done at 0.1 + 3 = 3.1 s.
#[test]
fn download_concurrency_one_queues_layers_three_shares_the_link() {
    let img = image(3, 10 * MB, 10 * MB);
    let l = crate::model::Links {
        latency_us: 100_000,
        ..links(Some(10e6), None)
    };
    let run = |c| {
        let p = ModelParams {
            download_concurrency: Some(c),
            ..downloads_only()
        };
        simulate_pulls(&img, &[Some(0.0)], &p, &l)[0]
            .clone()
            .unwrap()
    };
    let one = download_times(&run(1));
    let three = download_times(&run(3));
    assert!(
        one.iter().zip([1.1, 2.2, 3.3]).all(|(a, b)| close(*a, b)),
        "{one:?}"
    );
    assert!(three.iter().all(|t| close(*t, 3.1)), "{three:?}");
    // containerd: every layer at once, as with 3 here.
    let all = ModelParams {
        download_concurrency: None,
        ..downloads_only()
    };
    let all = simulate_pulls(&img, &[Some(0.0)], &all, &l)[0]
        .clone()
        .unwrap();
    assert_eq!(download_times(&all), three);
}

/// 3 layers of 10 MB (20 MB uncompressed) at 10 MB/s, extraction 20 MB/s (1 s a layer) plus
/// 0.1 s a layer, serial.
/// Concurrency 1: downloads at 1, 2, 3 s; extractions end 2.1, 3.2, 4.3 s (each starts when
/// downloaded and the previous is done). Concurrency 3: downloads all at 3 s; extractions end
/// 4.1, 5.2, 6.3 s. Docker's layer-at-a-time pipeline wins when extraction is slow.
#[test]
fn serial_extraction_follows_downloads_in_layer_order() {
    let img = image(3, 10 * MB, 20 * MB);
    let l = links(Some(10e6), None);
    let run = |c, mode| {
        let p = ModelParams {
            download_concurrency: Some(c),
            extract_bytes_per_sec: 20e6,
            extract_overhead_us: 100_000,
            extract_mode: mode,
            ..downloads_only()
        };
        simulate_pulls(&img, &[Some(0.0)], &p, &l)[0]
            .clone()
            .unwrap()
    };
    let extracts =
        |p: &NodePull| -> Vec<f64> { p.layers.iter().map(|l| l.extract_us as f64 / 1e6).collect() };
    let serial_one = run(1, ExtractMode::Serial);
    let serial_three = run(3, ExtractMode::Serial);
    let ok = |got: Vec<f64>, want: [f64; 3]| got.iter().zip(want).all(|(a, b)| close(*a, b));
    assert!(ok(extracts(&serial_one), [2.1, 3.2, 4.3]), "{serial_one:?}");
    assert!(
        ok(extracts(&serial_three), [4.1, 5.2, 6.3]),
        "{serial_three:?}"
    );
    assert_eq!(serial_three.pull_us, 6_300_000);
    // Parallel: each layer 1.1 s after its download: 2.1, 3.1, 4.1 and 4.1 × 3.
    assert!(ok(
        extracts(&run(1, ExtractMode::Parallel)),
        [2.1, 3.1, 4.1]
    ));
    assert_eq!(run(3, ExtractMode::Parallel).pull_us, 4_100_000);
}

/// The quickstart's full-like image (5 × 29.9 MB, 42.5 MB uncompressed, and a small layer) at
/// 100 MB/s, 2 ms latency, with the default parameters: measured pull 4.6–5.4 s, downloads
/// done ≈ 1.54 s (tests/fixtures/run-quickstart.json, README).
#[test]
fn defaults_land_near_the_measured_quickstart_pull() {
    let mut img = image(5, 29_866_000, 42_515_968);
    img.layers.push(crate::model::LayerSize {
        compressed: 730_000,
        uncompressed: 1_500_000,
        files: 1,
    });
    let l = crate::model::Links {
        latency_us: 2_000,
        ..links(Some(100e6), None)
    };
    let single = simulate_single(&img, &ModelParams::default(), &l);
    let pull = single.phases.pull_us.unwrap() as f64 / 1e6;
    let downloaded = single.layers.iter().map(|l| l.download_us).max().unwrap() as f64 / 1e6;
    assert!((1.5..1.6).contains(&downloaded), "{single:?}");
    assert!((4.5..6.0).contains(&pull), "{single:?}");
}

#[test]
fn an_empty_image_pulls_in_its_round_trips() {
    let img = crate::model::ImageModel::default();
    let l = crate::model::Links {
        latency_us: 2_000,
        ..links(None, None)
    };
    let single = simulate_single(&img, &ModelParams::default(), &l);
    assert_eq!(single.phases.pull_us, Some(4_000));
    assert!(single.layers.is_empty());
}
