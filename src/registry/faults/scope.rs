//! A fault scope's state: its request counter and its rate-limit window.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{decide, Decision, FaultLog, FaultSet, Target};

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
