//! The samples recorder (`analysis::Recorder`): recording one sample into the per variant ×
//! phase histograms, and summarizing and serializing a run of 10,000 samples.

use std::hint::black_box;
use std::time::Duration;

use coldbench::analysis::Recorder;
use coldbench::results::{Outcome, PhaseTimes, Sample};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

fn sample(variant: &str, i: u64) -> Sample {
    let total = 500_000 + (i * 7_919) % 2_000_000;
    Sample {
        index: i as usize,
        repetition: 0,
        variant: variant.into(),
        warmup: false,
        node: 0,
        started_at: String::new(),
        phases: PhaseTimes {
            pull_us: Some(total / 2),
            create_us: Some(20_000 + i % 5_000),
            start_us: Some(80_000 + i % 20_000),
            first_request_us: Some(3_000 + i % 1_000),
            total_us: Some(total),
        },
        blob_bytes: 0,
        manifest_bytes: 0,
        expected_bytes: 0,
        cold: true,
        layers: vec![],
        outcome: Outcome::Ok,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: None,
        pod: None,
        registry: None,
        probe: None,
    }
}

fn recorder(c: &mut Criterion) {
    let mut group = c.benchmark_group("recorder");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let variants = ["node-slim", "node-alpine", "node-distroless", "node-full"];
    let samples: Vec<Sample> = (0..10_000)
        .map(|i| sample(variants[i as usize % variants.len()], i))
        .collect();

    let mut warm = Recorder::new();
    for s in &samples {
        warm.record(s);
    }
    let mut i = 0;
    group.bench_function("record_one_sample", |b| {
        b.iter(|| {
            warm.record(black_box(&samples[i % samples.len()]));
            i += 1;
        })
    });
    group.bench_function("record_10k_samples", |b| {
        b.iter_batched(
            Recorder::new,
            |mut r| {
                for s in &samples {
                    r.record(s);
                }
                r
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("summaries_and_serialized_10k", |b| {
        b.iter(|| (black_box(warm.summaries()), black_box(warm.serialized())))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters backend needs system fonts, which a CI machine may lack.
    config = Criterion::default().without_plots();
    targets = recorder
}
criterion_main!(benches);
