//! Per-request cost of the registry's fault decisions (`[registry.faults]`): one seeded ChaCha
//! draw per request, with every key set, and the rate-limit window check.

use std::hint::black_box;
use std::time::Duration;

use coldbench::registry::faults::{
    decide, ErrorTargets, FaultSet, Partial, RateLimit, Scope, Target, Ttfb,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn flaky() -> FaultSet {
    FaultSet {
        error_rate: 0.05,
        error_on: ErrorTargets {
            manifest: true,
            blob: true,
        },
        rate_limit: Some(RateLimit {
            manifest_gets: 1000,
            window: Duration::from_secs(60),
            retry_after: Duration::from_secs(5),
        }),
        reset: Some(Partial {
            rate: 0.02,
            after: 0.5,
        }),
        stall: Some((
            Partial {
                rate: 0.02,
                after: 0.5,
            },
            Duration::from_secs(2),
        )),
        ttfb: Some(Ttfb::LogNormal {
            p50: Duration::from_millis(20),
            p99: Duration::from_millis(400),
        }),
    }
}

fn faults(c: &mut Criterion) {
    let mut group = c.benchmark_group("faults");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let set = flaky();
    let mut i = 0u64;
    group.bench_function("decide_blob_every_key", |b| {
        b.iter(|| {
            i += 1;
            decide(black_box(&set), 7, 0, i, Target::Blob)
        })
    });
    let quiet = FaultSet::default();
    group.bench_function("decide_quiet", |b| {
        b.iter(|| {
            i += 1;
            decide(black_box(&quiet), 7, 0, i, Target::Other)
        })
    });
    let scope = Scope::new(0, 7, set);
    group.bench_function("scope_next_and_rate_limit", |b| {
        b.iter(|| {
            let d = scope.next(Target::Manifest);
            (d, scope.rate_limited(tokio::time::Instant::now()))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters backend needs system fonts, which a CI machine may lack.
    config = Criterion::default().without_plots();
    targets = faults
}
criterion_main!(benches);
