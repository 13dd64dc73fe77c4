//! Properties: floors, monotonicity, no panic or NaN on any input.

use proptest::prelude::*;

use super::{image, links};
use crate::model::{
    simulate_burst, simulate_single, solve_flows, BurstShape, ExtractMode, Flow, ImageModel,
    LayerSize, Links, ModelParams,
};
use crate::scenario::Placement;

/// A rate: unlimited, zero, NaN, infinite, negative or 1 kB/s … 1 GB/s.
fn rate() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(0.0)),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(-5.0)),
        (1e3..1e9f64).prop_map(Some),
    ]
}

fn layers() -> impl Strategy<Value = Vec<LayerSize>> {
    prop::collection::vec(
        (0..50_000_000u64, 0..100_000_000u64, 0..20_000u64).prop_map(
            |(compressed, uncompressed, files)| LayerSize {
                compressed,
                uncompressed,
                files,
            },
        ),
        0..8,
    )
}

/// A per-unit cost or a core count: odd values included.
fn odd_or(range: std::ops::Range<f64>) -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(f64::NAN),
        Just(-1.0),
        Just(f64::INFINITY),
        range
    ]
}

fn params() -> impl Strategy<Value = ModelParams> {
    (
        prop::option::of(0..5u32),
        prop_oneof![Just(0.0), Just(f64::NAN), 1e6..1e9f64],
        any::<bool>(),
        prop::option::of(0..4u32),
        (
            prop::option::of(odd_or(0.25..8.0)),
            odd_or(0.0..1000.0),
            odd_or(0.0..2000.0),
        ),
    )
        .prop_map(
            |(downloads, extract, serial, starts, (cores, per_file, per_mb))| ModelParams {
                download_concurrency: downloads,
                extract_bytes_per_sec: extract,
                extract_mode: if serial {
                    ExtractMode::Serial
                } else {
                    ExtractMode::Parallel
                },
                start_concurrency: starts,
                shared_cores: cores,
                extract_file_us: per_file,
                create_us_per_mb: per_mb,
                ..ModelParams::default()
            },
        )
}

/// compressed bytes / min(egress, downlink) in µs, 0 when unlimited.
fn wire_floor_us(img: &ImageModel, l: &Links) -> f64 {
    let rate = crate::model::rate_or_unlimited(l.egress_bytes_per_sec)
        .min(crate::model::rate_or_unlimited(l.node_bytes_per_sec));
    img.compressed_bytes() as f64 / rate * 1e6
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_single_pull_is_never_below_the_wire_floor(
        layers in layers(), p in params(), e in rate(), d in rate(),
    ) {
        let img = ImageModel { layers, metadata_bytes: 900 };
        let l = links(e, d);
        let single = simulate_single(&img, &p, &l);
        let pull = single.phases.pull_us.unwrap_or(0) as f64;
        prop_assert!(pull + 1.0 >= wire_floor_us(&img, &l), "{single:?}");
        prop_assert_eq!(single.layers.len(), img.layers.len());
        for layer in &single.layers {
            prop_assert!(layer.download_us <= layer.extract_us);
        }
    }

    #[test]
    fn a_flow_finishes_no_sooner_when_it_is_bigger(
        sizes in prop::collection::vec((0..4usize, 0.0..2.0f64, 0..10_000_000u64), 1..20),
        extra in 1..10_000_000u64, e in rate(), d in rate(),
    ) {
        let flows: Vec<Flow> = sizes.iter()
            .map(|&(node, start, bytes)| Flow { node, start, bytes })
            .collect();
        let downlinks = [d, None, d, Some(1e6)];
        let before = solve_flows(e, &downlinks, &flows);
        let mut bigger = flows.clone();
        bigger[0].bytes += extra;
        let after = solve_flows(e, &downlinks, &bigger);
        prop_assert!(after[0] + 1e-9 >= before[0], "{before:?} {after:?}");
        prop_assert!(before.iter().chain(&after).all(|t| !t.is_nan()));
    }

    #[test]
    fn slower_extraction_never_speeds_a_pull(
        layers in layers(), p in params(), e in rate(), factor in 1.0..4.0f64,
    ) {
        let img = ImageModel { layers, metadata_bytes: 0 };
        let fast = ModelParams { extract_bytes_per_sec: 200e6, ..p };
        let slow = ModelParams { extract_bytes_per_sec: 200e6 / factor, ..p };
        let l = links(e, None);
        let total = |p: &ModelParams| simulate_single(&img, p, &l).phases.total_us;
        prop_assert!(total(&slow) >= total(&fast));
    }

    #[test]
    fn a_burst_is_never_below_its_floor(
        nodes in 1..6u32, replicas in 0..20u32, packed in any::<bool>(),
        size in 0..20_000_000u64, p in params(), e in rate(), d in rate(),
    ) {
        let shape = BurstShape {
            nodes,
            replicas,
            placement: if packed { Placement::Packed } else { Placement::Spread },
            step: None,
        };
        let out = simulate_burst(&image(3, size, size), &shape, &p, &links(e, d));
        prop_assert_eq!(out.replicas.len(), replicas as usize);
        if let (Some(full), Some(floor)) = (out.milestones.full_ready_us, out.floor_us) {
            prop_assert!(full + 1 >= floor, "{full} < {floor}");
        }
        prop_assert!(out.milestones.capacity_seconds_lost.is_finite());
    }
}
