//! Faults on purpose: a registry that answers some manifest and blob `GET`s with 5xx, rate-limits
//! manifest `GET`s with Docker Hub's 429 `TOOMANYREQUESTS`, resets or stalls some blob bodies
//! part-way, and delays response heads (time to first byte).
//!
//! Every decision is a pure function of the scenario's seed, the fault scope (the registry, or
//! one node's port) and the request's index in that scope ([`decide`]): a ChaCha RNG is seeded
//! per request, so the same seed gives the same fault sequence whatever the timing. The
//! rate limit alone depends on time (a sliding window of served manifest `GET`s).
//!
//! Each port logs every request with the fault it got ([`FaultLog`], the latest
//! [`MAX_FAULT_RECORDS`]), from which a sample's [`RegistryCounts`] are taken.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, Sleep};

use super::body::Body;

/// Requests each port remembers; older ones are dropped.
pub const MAX_FAULT_RECORDS: usize = 8192;

/// Which `GET`s `error_rate` answers with a 5xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorTargets {
    /// Manifest `GET`s.
    pub manifest: bool,
    /// Blob `GET`s.
    pub blob: bool,
}

/// `rate_limit`: Docker Hub's pull limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Manifest `GET`s served per window; the next ones answer 429.
    pub manifest_gets: u32,
    /// The sliding window.
    pub window: Duration,
    /// The `Retry-After` of a 429 (whole seconds, at least 1).
    pub retry_after: Duration,
}

/// `reset`/`stall`: a share of blob `GET`s hit part-way through their body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Partial {
    /// Share of blob `GET`s hit, 0 to 1.
    pub rate: f64,
    /// Fraction of the response body sent before the fault, 0 to 1 (exclusive of 1).
    pub after: f64,
}

/// Time to first byte of each response (added to `[registry] latency`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ttfb {
    /// Always this long.
    Fixed(Duration),
    /// Uniform between the two.
    Uniform(Duration, Duration),
    /// Log-normal with this median and 99th percentile.
    LogNormal { p50: Duration, p99: Duration },
}

/// The faults of one scope: the whole registry, or one node's port.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultSet {
    /// Share of targeted `GET`s answered 500, 502 or 503.
    pub error_rate: f64,
    /// Which `GET`s `error_rate` hits.
    pub error_on: ErrorTargets,
    /// Docker Hub's 429 after `manifest_gets` in a window.
    pub rate_limit: Option<RateLimit>,
    /// Blob bodies whose connection is reset part-way.
    pub reset: Option<Partial>,
    /// Blob bodies that stall part-way for `.1`.
    pub stall: Option<(Partial, Duration)>,
    /// Delay before each response head.
    pub ttfb: Option<Ttfb>,
}

impl FaultSet {
    /// True when it does nothing.
    pub fn is_quiet(&self) -> bool {
        *self == FaultSet::default()
    }
}

/// The registry's faults: a global set, and sets that replace it on some nodes' ports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultConfig {
    /// Seed of every decision.
    pub seed: u64,
    /// Faults of the main listener and of every node without its own set.
    pub global: FaultSet,
    /// Node number → the faults of its port (replacing `global` there).
    pub nodes: BTreeMap<usize, FaultSet>,
}

/// What a request is, for the faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A manifest `GET`.
    Manifest,
    /// A manifest `HEAD` (refused by a full rate-limit window, never counted in it).
    ManifestHead,
    /// A blob `GET`.
    Blob,
    /// Anything else (`HEAD`, `/v2/`, uploads…): only `ttfb` applies.
    Other,
}

/// The kind of a fault, as counted in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A 5xx answer.
    Error,
    /// A 429 `TOOMANYREQUESTS`.
    RateLimit,
    /// A blob body cut part-way (connection reset).
    Reset,
    /// A blob body paused part-way.
    Stall,
}

impl FaultKind {
    /// The name used in results and tables.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Error => "error",
            FaultKind::RateLimit => "rate_limit",
            FaultKind::Reset => "reset",
            FaultKind::Stall => "stall",
        }
    }
}

/// What [`decide`] chose for one request (the rate limit is decided apart, by time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Delay before the head.
    pub ttfb: Duration,
    /// The fault, if any.
    pub action: Action,
}

/// A request's fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Served normally.
    None,
    /// Answered with this 5xx status.
    Error(u16),
    /// Body cut after this fraction.
    Reset(f64),
    /// Body paused after this fraction, for this long.
    Stall(f64, Duration),
}

impl Action {
    /// Its kind, `None` for no fault.
    pub fn kind(&self) -> Option<FaultKind> {
        match self {
            Action::None => None,
            Action::Error(_) => Some(FaultKind::Error),
            Action::Reset(_) => Some(FaultKind::Reset),
            Action::Stall(..) => Some(FaultKind::Stall),
        }
    }
}

/// SplitMix64 finalizer: spreads seed, scope and index over the RNG's seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fault of request `index` of `scope` under `seed`: the same arguments always give the same
/// decision. Each draw is made whether or not it is used, so one key's rate never shifts
/// another's sequence.
pub fn decide(set: &FaultSet, seed: u64, scope: u64, index: u64, target: Target) -> Decision {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ mix(scope ^ mix(index))));
    let ttfb = set.ttfb.map_or(Duration::ZERO, |t| ttfb_draw(t, &mut rng));
    let (e, r, s, code) = (
        rng.random::<f64>(),
        rng.random::<f64>(),
        rng.random::<f64>(),
        rng.random_range(0..3u32),
    );
    let error_hit = match target {
        Target::Manifest => set.error_on.manifest,
        Target::Blob => set.error_on.blob,
        Target::ManifestHead | Target::Other => false,
    };
    let action = if error_hit && e < set.error_rate {
        Action::Error([500, 502, 503][code as usize])
    } else if target != Target::Blob {
        Action::None
    } else if let Some(reset) = set.reset.filter(|p| r < p.rate) {
        Action::Reset(reset.after)
    } else if let Some((stall, wait)) = set.stall.filter(|(p, _)| s < p.rate) {
        Action::Stall(stall.after, wait)
    } else {
        Action::None
    };
    Decision { ttfb, action }
}

/// z of the 99th percentile of a standard normal.
const Z99: f64 = 2.326_347_874;

fn ttfb_draw(t: Ttfb, rng: &mut ChaCha8Rng) -> Duration {
    match t {
        Ttfb::Fixed(d) => d,
        Ttfb::Uniform(lo, hi) => {
            let u: f64 = rng.random();
            lo + (hi - lo).mul_f64(u)
        }
        Ttfb::LogNormal { p50, p99 } => {
            let mu = p50.as_secs_f64().max(1e-9).ln();
            let sigma = ((p99.as_secs_f64().max(1e-9)).ln() - mu).max(0.0) / Z99;
            // Box–Muller.
            let (u1, u2): (f64, f64) = (rng.random(), rng.random());
            let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            // Bounded: at most 10× the p99 (a lognormal's far tail would stall a pull for ever).
            let secs = (mu + sigma * z).exp().min(p99.as_secs_f64() * 10.0);
            Duration::from_secs_f64(secs)
        }
    }
}

/// One request as the port saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// When it arrived (tokio's clock).
    pub at: Instant,
    /// What it asked for.
    pub target: Target,
    /// The manifest reference or blob digest (empty for others).
    pub name: String,
    /// The fault it got.
    pub fault: Option<FaultKind>,
}

/// What a sample saw of the registry: requests, retries and faults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCounts {
    /// Requests its node made (every method and path).
    pub requests: u64,
    /// `GET`s of a manifest or blob its node had already asked for in the sample.
    pub retries: u64,
    /// Faults by kind (`error`, `rate_limit`, `reset`, `stall`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub faults: BTreeMap<FaultKind, u64>,
}

impl RegistryCounts {
    /// Faults of every kind.
    pub fn fault_total(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// The requests of one port, oldest first, at most [`MAX_FAULT_RECORDS`].
#[derive(Debug, Default)]
pub struct FaultLog {
    entries: Mutex<VecDeque<RequestRecord>>,
}

impl FaultLog {
    /// Records a request.
    pub fn record(&self, rec: RequestRecord) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_FAULT_RECORDS {
                entries.pop_front();
            }
            entries.push_back(rec);
        }
    }

    /// Requests at or after `from`, oldest first.
    pub fn since(&self, from: Instant) -> Vec<RequestRecord> {
        self.entries
            .lock()
            .map(|e| e.iter().filter(|r| r.at >= from).cloned().collect())
            .unwrap_or_default()
    }

    /// The counts of the requests at or after `from`.
    pub fn counts(&self, from: Instant) -> RegistryCounts {
        counts_of(&self.since(from))
    }
}

/// Counts requests, retries (a repeated manifest or blob `GET`) and faults.
pub fn counts_of(records: &[RequestRecord]) -> RegistryCounts {
    let mut counts = RegistryCounts::default();
    let mut seen = HashSet::new();
    for r in records {
        counts.requests += 1;
        if matches!(r.target, Target::Manifest | Target::Blob)
            && !seen.insert((r.target == Target::Blob, r.name.as_str()))
        {
            counts.retries += 1;
        }
        if let Some(kind) = r.fault {
            *counts.faults.entry(kind).or_default() += 1;
        }
    }
    counts
}

/// The state of one fault scope: its set, its request counter and its rate-limit window.
#[derive(Debug)]
pub struct Scope {
    id: u64,
    seed: u64,
    set: FaultSet,
    next: AtomicU64,
    served: Mutex<VecDeque<Instant>>,
}

impl Scope {
    /// Scope `id` (0: the registry, n + 1: node n's own set) of `set`.
    pub fn new(id: u64, seed: u64, set: FaultSet) -> Scope {
        Scope {
            id,
            seed,
            set,
            next: AtomicU64::new(0),
            served: Mutex::new(VecDeque::new()),
        }
    }

    /// Takes the next request index and decides its fault.
    pub fn next(&self, target: Target) -> Decision {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        decide(&self.set, self.seed, self.id, index, target)
    }

    /// For a manifest `GET` at `now`: `Some(retry_after)` when the window is full (a 429), else
    /// counts it as served.
    pub fn rate_limited(&self, now: Instant) -> Option<Duration> {
        let limit = self.set.rate_limit?;
        let mut served = self.served.lock().ok()?;
        while served
            .front()
            .is_some_and(|t| now.duration_since(*t) >= limit.window)
        {
            served.pop_front();
        }
        if served.len() >= limit.manifest_gets as usize {
            return Some(limit.retry_after);
        }
        served.push_back(now);
        None
    }

    /// For a manifest `HEAD` at `now`: `Some(retry_after)` when the window is full. A `HEAD` is
    /// never counted (Docker Hub counts `GET`s only) but is refused like one once the limit
    /// is reached.
    pub fn over_limit(&self, now: Instant) -> Option<Duration> {
        let limit = self.set.rate_limit?;
        let served = self.served.lock().ok()?;
        let live = served
            .iter()
            .filter(|t| now.duration_since(**t) < limit.window)
            .count();
        (live >= limit.manifest_gets as usize).then_some(limit.retry_after)
    }

    /// True when this scope has no faults.
    pub fn is_quiet(&self) -> bool {
        self.set.is_quiet()
    }
}

/// The faults of one port: its scope and its log.
#[derive(Debug)]
pub struct LaneFaults {
    /// The scope deciding this port's faults (shared with every port of the same scope).
    pub scope: Arc<Scope>,
    /// This port's requests.
    pub log: Arc<FaultLog>,
}

/// Wraps `body` so that after `fraction` of its `len` bytes it fails (reset) or pauses (stall).
pub fn inject(body: Body, len: u64, action: Action) -> Body {
    let (fraction, stall) = match action {
        Action::Reset(f) => (f, None),
        Action::Stall(f, d) => (f, Some(d)),
        Action::None | Action::Error(_) => return body,
    };
    let at = ((len as f64) * fraction.clamp(0.0, 1.0)).floor() as u64;
    Faulty {
        inner: body,
        left: at.min(len.saturating_sub(1)),
        stall,
        sleeping: None,
        held: None,
        fired: false,
        flushed: false,
    }
    .boxed_unsync()
}

/// A body that misbehaves once `left` bytes have passed.
struct Faulty {
    inner: Body,
    left: u64,
    /// `None`: reset; `Some`: stall this long.
    stall: Option<Duration>,
    sleeping: Option<Pin<Box<Sleep>>>,
    /// The part of a frame past the fault point, sent after a stall.
    held: Option<Bytes>,
    fired: bool,
    /// A reset has waited [`RESET_FLUSH`] for the bytes before it to leave.
    flushed: bool,
}

/// How long a reset waits, once its bytes are handed over, before cutting the connection.
const RESET_FLUSH: Duration = Duration::from_millis(20);

impl HttpBody for Faulty {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Some(sleep) = this.sleeping.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            this.sleeping = None;
        }
        if let Some(rest) = this.held.take() {
            return Poll::Ready(Some(Ok(Frame::data(rest))));
        }
        if !this.fired && this.left == 0 {
            this.fired = true;
            match this.stall {
                None if !this.flushed => {
                    // Pending a moment first, so the connection writes out the bytes before
                    // the cut: the client gets exactly `after` of the body.
                    this.flushed = true;
                    this.fired = false;
                    let mut sleep = Box::pin(tokio::time::sleep(RESET_FLUSH));
                    if sleep.as_mut().poll(cx).is_pending() {
                        this.sleeping = Some(sleep);
                    } else {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                None => {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "coldbench fault: connection reset",
                    ))))
                }
                Some(d) => {
                    let mut sleep = Box::pin(tokio::time::sleep(d));
                    if sleep.as_mut().poll(cx).is_pending() {
                        this.sleeping = Some(sleep);
                        return Poll::Pending;
                    }
                }
            }
        }
        let frame = match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            other => return Poll::Ready(other),
        };
        if this.fired {
            return Poll::Ready(Some(Ok(frame)));
        }
        let Ok(mut data) = frame.into_data() else {
            return Poll::Ready(None);
        };
        let n = data.len() as u64;
        if n > this.left {
            let rest = data.split_off(this.left as usize);
            this.held = this.stall.map(|_| rest);
            this.left = 0;
        } else {
            this.left -= n;
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        (self.fired || self.left > 0)
            && self.held.is_none()
            && self.sleeping.is_none()
            && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
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
}

/// The faults over HTTP, against a real registry on 127.0.0.1.
#[cfg(test)]
mod http_tests {
    use super::super::test_client::request;
    use super::super::{Registry, RegistryConfig};
    use super::*;

    async fn start(set: FaultSet) -> (tempfile::TempDir, Registry) {
        let dir = tempfile::tempdir().unwrap();
        let config = RegistryConfig::new(dir.path().join("store"), "127.0.0.1:0".parse().unwrap());
        let faults = FaultConfig {
            seed: 1,
            global: set,
            nodes: BTreeMap::new(),
        };
        let reg = Registry::start_with_faults(config, faults).await.unwrap();
        (dir, reg)
    }

    #[tokio::test]
    async fn a_full_window_answers_docker_hubs_429() {
        let (_dir, reg) = start(FaultSet {
            rate_limit: Some(RateLimit {
                manifest_gets: 1,
                window: Duration::from_secs(60),
                retry_after: Duration::from_millis(4500),
            }),
            ..FaultSet::default()
        })
        .await;
        let t0 = Instant::now();
        let path = "/v2/coldbench/x/manifests/latest";
        let first = request(reg.addr(), "GET", path, &[], b"").await;
        assert_eq!(first.status, 404, "served (and counted), though unknown");
        let head = request(reg.addr(), "HEAD", path, &[], b"").await;
        assert_eq!(head.status, 429);
        let second = request(reg.addr(), "GET", path, &[], b"").await;
        assert_eq!(second.status, 429);
        assert_eq!(second.header("retry-after"), Some("5"));
        assert_eq!(second.error_code(), "TOOMANYREQUESTS");
        let counts = reg.requests_of_listener(t0);
        assert_eq!(counts.requests, 3);
        assert_eq!(counts.retries, 1);
        assert_eq!(counts.faults[&FaultKind::RateLimit], 2);
        reg.shutdown().await;
    }

    #[tokio::test]
    async fn blobs_get_errors_and_resets() {
        let (_dir, reg) = start(FaultSet {
            reset: Some(Partial {
                rate: 1.0,
                after: 0.25,
            }),
            ..FaultSet::default()
        })
        .await;
        let data = vec![7u8; 200_000];
        let digest = reg.store().put_blob(&data).unwrap();
        let path = format!("/v2/coldbench/x/blobs/{digest}");
        let resp = request(reg.addr(), "GET", &path, &[], b"").await;
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-length"), Some("200000"));
        assert_eq!(resp.body.len(), 50_000, "cut at a quarter");
        // A HEAD has no body to cut.
        let head = request(reg.addr(), "HEAD", &path, &[], b"").await;
        assert_eq!(head.status, 200);
        reg.shutdown().await;

        let (_dir, reg) = start(FaultSet {
            error_rate: 1.0,
            error_on: ErrorTargets {
                manifest: false,
                blob: true,
            },
            ..FaultSet::default()
        })
        .await;
        let digest = reg.store().put_blob(&data).unwrap();
        let path = format!("/v2/coldbench/x/blobs/{digest}");
        let resp = request(reg.addr(), "GET", &path, &[], b"").await;
        assert!([500, 502, 503].contains(&resp.status), "{}", resp.status);
        let manifest = request(reg.addr(), "GET", "/v2/coldbench/x/manifests/a", &[], b"").await;
        assert_eq!(manifest.status, 404, "manifests are spared");
        reg.shutdown().await;
    }
}
