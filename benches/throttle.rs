//! Per-quantum cost of the throttle: booking a quantum on one link, on a two-link path, and on
//! one link contended by two threads.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use coldbench::throttle::{Link, Path};
use coldbench::units::Rate;
use criterion::{criterion_group, criterion_main, Criterion};
use tokio::time::Instant;

const QUANTUM: u64 = 16 * 1024;

fn link(rate: &str) -> Arc<Link> {
    let rate: Rate = rate.parse().expect("rate");
    Arc::new(Link::new(rate))
}

fn throttle(c: &mut Criterion) {
    let mut group = c.benchmark_group("throttle");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    let egress = link("10Gbit/s");
    group.bench_function("link_reserve", |b| {
        b.iter(|| egress.reserve(black_box(QUANTUM), Instant::now()))
    });

    let path = Path::new(vec![link("1Gbit/s"), link("10Gbit/s")]);
    group.bench_function("path_reserve_2_links", |b| {
        b.iter(|| path.reserve(black_box(QUANTUM), Instant::now()))
    });

    let shared = link("10Gbit/s");
    group.bench_function("link_reserve_2_threads", |b| {
        b.iter_custom(|iters| {
            let start = StdInstant::now();
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let shared = &shared;
                    s.spawn(move || {
                        for _ in 0..iters.div_ceil(2) {
                            black_box(shared.reserve(QUANTUM, Instant::now()));
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters backend needs system fonts, which a CI machine may lack.
    config = Criterion::default().without_plots();
    targets = throttle
}
criterion_main!(benches);
