//! The cold-start model at scale: a burst of 10,000 replicas over 1,000 nodes of a 6-layer
//! image through a shared 1 GB/s egress and 125 MB/s downlinks must simulate in under a second.
//!
//!     cargo bench --bench model -- --quick

use std::hint::black_box;
use std::time::Duration;

use coldbench::model::{simulate_burst, BurstShape, ImageModel, LayerSize, Links, ModelParams};
use coldbench::scenario::Placement;
use criterion::{criterion_group, criterion_main, Criterion};

/// 150 MB in 6 layers, like the quickstart's full-like image.
fn image() -> ImageModel {
    ImageModel {
        layers: vec![
            LayerSize {
                compressed: 25_000_000,
                uncompressed: 35_000_000,
                files: 1,
            };
            6
        ],
        metadata_bytes: 2_000,
    }
}

fn links() -> Links {
    Links {
        egress_bytes_per_sec: Some(1e9),
        node_bytes_per_sec: Some(125e6),
        latency_us: 2_000,
    }
}

fn burst(c: &mut Criterion, name: &str, shape: BurstShape) {
    let (image, params, links) = (image(), ModelParams::default(), links());
    c.bench_function(name, |b| {
        b.iter(|| simulate_burst(black_box(&image), black_box(&shape), &params, &links))
    });
}

fn bursts(c: &mut Criterion) {
    let at_once = BurstShape {
        nodes: 1_000,
        replicas: 10_000,
        placement: Placement::Spread,
        step: None,
    };
    burst(c, "burst 1000 nodes x 10000 replicas at once", at_once);
    // Packed, 100 replicas every 0.1 s: nodes start pulling at staggered times, so events
    // no longer coincide across nodes.
    let stepped = BurstShape {
        placement: Placement::Packed,
        step: Some((100, Duration::from_millis(100))),
        ..at_once
    };
    burst(c, "burst 1000 nodes x 10000 replicas stepped", stepped);
    // The hard case for the solver: 60,000 flows, a new node every millisecond, so hardly
    // two events coincide and thousands of nodes are busy at once.
    let staggered = BurstShape {
        nodes: 10_000,
        replicas: 10_000,
        placement: Placement::Spread,
        step: Some((1, Duration::from_millis(1))),
    };
    burst(c, "burst 10000 nodes staggered by 1 ms", staggered);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .without_plots()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bursts
}
criterion_main!(benches);
