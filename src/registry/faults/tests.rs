//! The fault decisions, scopes and logs, without a network.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use tokio::time::Instant;

use super::super::body::Body;
use super::*;

fn flaky() -> FaultSet {
    FaultSet {
        error_rate: 0.1,
        error_on: ErrorTargets {
            manifest: true,
            blob: true,
        },
        reset: Some(Partial {
            rate: 0.2,
            after: 0.5,
        }),
        stall: Some((
            Partial {
                rate: 0.1,
                after: 0.25,
            },
            Duration::from_secs(2),
        )),
        ttfb: Some(Ttfb::LogNormal {
            p50: Duration::from_millis(20),
            p99: Duration::from_millis(400),
        }),
        rate_limit: None,
    }
}

#[test]
fn same_seed_same_faults() {
    let set = flaky();
    let run = |seed| {
        (0..2000)
            .map(|i| decide(&set, seed, 0, i, Target::Blob))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
    // A scope counts its own requests: the same seed gives the same sequence there too.
    let a = Scope::new(0, 7, set.clone());
    let b = Scope::new(0, 7, set);
    let sa: Vec<_> = (0..500).map(|_| a.next(Target::Blob)).collect();
    let sb: Vec<_> = (0..500).map(|_| b.next(Target::Blob)).collect();
    assert_eq!(sa, sb);
}

/// tests/registry_faults.rs relies on it: under seed 139, a 50 % reset hits requests 3 and 4
/// (a pull's config and layer, after `/v2/`, the manifest's `HEAD` and `GET`) and spares
/// the next three (their retries).
#[test]
fn seed_139_resets_the_first_two_blobs_only() {
    let set = FaultSet {
        reset: Some(Partial {
            rate: 0.5,
            after: 0.5,
        }),
        ..FaultSet::default()
    };
    let hit: Vec<bool> = (3..8)
        .map(|i| decide(&set, 139, 0, i, Target::Blob).action != Action::None)
        .collect();
    assert_eq!(hit, [true, true, false, false, false]);
}

#[test]
fn rates_are_about_right() {
    let set = flaky();
    let n = 20_000;
    let mut kinds: BTreeMap<Option<FaultKind>, u32> = BTreeMap::new();
    for i in 0..n {
        *kinds
            .entry(decide(&set, 1, 0, i, Target::Blob).action.kind())
            .or_default() += 1;
    }
    let share = |k| f64::from(kinds.get(&Some(k)).copied().unwrap_or(0)) / n as f64;
    assert!((share(FaultKind::Error) - 0.1).abs() < 0.01, "{kinds:?}");
    assert!((share(FaultKind::Reset) - 0.18).abs() < 0.015, "{kinds:?}");
    // Only blobs are reset or stalled; others only get a ttfb.
    for i in 0..1000 {
        let d = decide(&set, 1, 0, i, Target::Other);
        assert_eq!(d.action, Action::None);
    }
}

#[test]
fn lognormal_ttfb_hits_its_percentiles() {
    let set = flaky();
    let mut v: Vec<Duration> = (0..20_000)
        .map(|i| decide(&set, 3, 0, i, Target::Other).ttfb)
        .collect();
    v.sort();
    let p50 = v[v.len() / 2].as_secs_f64();
    let p99 = v[v.len() * 99 / 100].as_secs_f64();
    assert!((p50 - 0.020).abs() < 0.003, "p50 {p50}");
    assert!((p99 - 0.400).abs() < 0.08, "p99 {p99}");
}

#[tokio::test(start_paused = true)]
async fn rate_limit_window_slides() {
    let set = FaultSet {
        rate_limit: Some(RateLimit {
            manifest_gets: 2,
            window: Duration::from_secs(60),
            retry_after: Duration::from_secs(5),
        }),
        ..FaultSet::default()
    };
    let scope = Scope::new(0, 1, set);
    let t0 = Instant::now();
    assert_eq!(scope.rate_limited(t0), None);
    assert_eq!(scope.rate_limited(t0), None);
    assert_eq!(scope.over_limit(t0), Some(Duration::from_secs(5)));
    assert_eq!(scope.rate_limited(t0), Some(Duration::from_secs(5)));
    assert_eq!(scope.rate_limited(t0 + Duration::from_secs(60)), None);
}

#[test]
fn counts_retries_and_faults() {
    let at = Instant::now();
    let rec = |target, name: &str, fault| RequestRecord {
        at,
        target,
        name: name.into(),
        fault,
    };
    let records = [
        rec(Target::Other, "", None),
        rec(Target::Manifest, "latest", None),
        rec(Target::Blob, "sha256:a", Some(FaultKind::Reset)),
        rec(Target::Blob, "sha256:a", None),
        rec(Target::Blob, "sha256:b", None),
        rec(Target::Manifest, "latest", Some(FaultKind::RateLimit)),
    ];
    let c = counts_of(&records);
    assert_eq!(c.requests, 6);
    assert_eq!(c.retries, 2);
    assert_eq!(c.faults[&FaultKind::Reset], 1);
    assert_eq!(c.faults[&FaultKind::RateLimit], 1);
}

async fn collect(body: Body) -> (Vec<u8>, Option<io::Error>) {
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => out.extend_from_slice(&f.into_data().unwrap_or_default()),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

fn chunks(n: usize, size: usize) -> Body {
    let frames = (0..n).map(move |i| Ok(Frame::data(Bytes::from(vec![i as u8; size]))));
    http_body_util::StreamBody::new(futures_util::stream::iter(frames)).boxed_unsync()
}

#[tokio::test(start_paused = true)]
async fn reset_cuts_the_body_at_its_fraction() {
    let (got, err) = collect(inject(chunks(10, 100), 1000, Action::Reset(0.55))).await;
    assert_eq!(got.len(), 550);
    assert_eq!(err.unwrap().kind(), io::ErrorKind::ConnectionReset);
    let (got, err) = collect(inject(chunks(10, 100), 1000, Action::Reset(0.0))).await;
    assert!(got.is_empty() && err.is_some());
}

#[tokio::test(start_paused = true)]
async fn stall_pauses_then_finishes() {
    let t0 = Instant::now();
    let body = inject(
        chunks(10, 100),
        1000,
        Action::Stall(0.3, Duration::from_secs(2)),
    );
    let (got, err) = collect(body).await;
    assert!(err.is_none());
    assert_eq!(got.len(), 1000);
    assert_eq!(got[299], 2);
    assert_eq!(got[300], 3);
    assert!(t0.elapsed() >= Duration::from_secs(2));
}
