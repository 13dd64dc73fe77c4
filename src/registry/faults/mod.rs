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

use std::collections::BTreeMap;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

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

mod inject;
mod log;
mod scope;

pub use inject::inject;
pub use log::{counts_of, FaultLog, RegistryCounts, RequestRecord};
pub use scope::{LaneFaults, Scope};

#[cfg(test)]
mod tests;

/// The faults over HTTP, against a real registry on 127.0.0.1.
#[cfg(test)]
mod http_tests;
