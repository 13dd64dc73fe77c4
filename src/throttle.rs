//! Bandwidth links: virtual-clock token buckets shared by every connection that crosses them.
//!
//! A [`Link`] hands out departure times: `reserve(n)` books `n` bytes on the link's clock and says
//! when they may leave. Because the clock is shared, two connections through one link together
//! never get more than its rate (unlike per-connection limiters). A response body is sent in
//! quanta of about one millisecond of the slowest link's rate; each quantum is booked on every
//! link of its [`Path`] and waits for the latest deadline. Deadlines are absolute, so timer
//! lateness never accumulates into a slower-than-configured transfer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::units::Rate;

/// Smallest quantum sent in one go, whatever the rate.
pub const MIN_QUANTUM: usize = 16 * 1024;
/// Largest quantum sent in one go.
pub const MAX_QUANTUM: usize = 1024 * 1024;
/// Quantum used when no link limits the path.
pub const UNLIMITED_QUANTUM: usize = 256 * 1024;
/// Longest one reservation may take (100 years): the link's clock stays representable.
const FAR: Duration = Duration::from_secs(100 * 365 * 86_400);

/// One bandwidth-limited link (a registry's egress, a node's downlink).
#[derive(Debug)]
pub struct Link {
    rate: Rate,
    next_free: Mutex<Instant>,
    bytes: AtomicU64,
}

impl Link {
    /// A link that carries `rate` bytes per second.
    pub fn new(rate: Rate) -> Self {
        Link {
            rate,
            next_free: Mutex::new(Instant::now()),
            bytes: AtomicU64::new(0),
        }
    }

    /// The configured rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Books `n` bytes on the link's clock at `now`; returns the instant by which they have left.
    /// An idle link gives no credit for its idle time: bursts never exceed the rate.
    pub fn reserve(&self, n: u64, now: Instant) -> Instant {
        self.bytes.fetch_add(n, Ordering::Relaxed);
        let cost = self.cost(n);
        // A poisoned lock only means another thread panicked mid-update of a plain Instant.
        let mut next_free = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let start = (*next_free).max(now);
        *next_free = start.checked_add(cost).unwrap_or(start);
        *next_free
    }

    /// Time `n` bytes occupy the link, rounded up to whole nanoseconds (so that many small
    /// reservations can never add up to more than the rate), at most [`FAR`].
    fn cost(&self, n: u64) -> Duration {
        let nanos = (n as f64 * 1e9 / self.rate.bytes_per_sec()).ceil();
        if nanos.is_finite() && nanos < FAR.as_nanos() as f64 {
            Duration::from_nanos(nanos as u64)
        } else {
            FAR
        }
    }

    /// Total bytes booked on this link since it was created.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// The quantum for this link: about 1 ms of its rate, within [`MIN_QUANTUM`, `MAX_QUANTUM`].
    pub fn quantum(&self) -> usize {
        ((self.rate.bytes_per_sec() / 1000.0) as usize).clamp(MIN_QUANTUM, MAX_QUANTUM)
    }
}

/// The links one response crosses, e.g. a node's downlink then the registry's egress.
#[derive(Debug, Clone, Default)]
pub struct Path {
    links: Vec<Arc<Link>>,
}

impl Path {
    /// A path through `links` (empty: unlimited).
    pub fn new(links: Vec<Arc<Link>>) -> Self {
        Path { links }
    }

    /// An unlimited path.
    pub fn unlimited() -> Self {
        Path::default()
    }

    /// True when no link limits this path.
    pub fn is_unlimited(&self) -> bool {
        self.links.is_empty()
    }

    /// Bytes to send per step: the smallest quantum of the path's links.
    pub fn quantum(&self) -> usize {
        self.links
            .iter()
            .map(|l| l.quantum())
            .min()
            .unwrap_or(UNLIMITED_QUANTUM)
    }

    /// Books `n` bytes on every link and returns the latest departure time.
    pub fn reserve(&self, n: u64, now: Instant) -> Instant {
        self.links
            .iter()
            .map(|l| l.reserve(n, now))
            .max()
            .unwrap_or(now)
    }

    /// Waits until `n` bytes may leave through this path.
    pub async fn pace(&self, n: u64) {
        if self.links.is_empty() {
            return;
        }
        let deadline = self.reserve(n, Instant::now());
        tokio::time::sleep_until(deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn a_tiny_rate_saturates_instead_of_panicking() {
        let link = Link::new(Rate::from_bytes_per_sec(1e-20).unwrap());
        let t0 = Instant::now();
        let a = link.reserve(u64::MAX, t0);
        let b = link.reserve(u64::MAX, t0);
        assert!(a > t0 + Duration::from_secs(365 * 86_400) && b >= a);
    }

    #[test]
    fn reservations_are_spaced_by_the_rate() {
        let link = Link::new(rate("1MB/s"));
        let t0 = Instant::now();
        let a = link.reserve(1000, t0);
        let b = link.reserve(1000, t0);
        assert_eq!(a - t0, Duration::from_millis(1));
        assert_eq!(b - t0, Duration::from_millis(2));
        assert_eq!(link.bytes(), 2000);
    }

    #[test]
    fn idle_time_gives_no_burst_credit() {
        let link = Link::new(rate("1MB/s"));
        let t0 = Instant::now();
        link.reserve(1000, t0);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(link.reserve(1000, later) - later, Duration::from_millis(1));
    }

    #[test]
    fn a_path_waits_for_its_slowest_link() {
        let fast = Arc::new(Link::new(rate("10MB/s")));
        let slow = Arc::new(Link::new(rate("1MB/s")));
        let path = Path::new(vec![fast, slow]);
        let t0 = Instant::now();
        assert_eq!(path.reserve(1000, t0) - t0, Duration::from_millis(1));
        assert_eq!(path.quantum(), MIN_QUANTUM);
    }

    #[test]
    fn quantum_is_about_a_millisecond() {
        assert_eq!(Link::new(rate("100MB/s")).quantum(), 100_000);
        assert_eq!(Link::new(rate("10GB/s")).quantum(), MAX_QUANTUM);
        assert_eq!(Path::unlimited().quantum(), UNLIMITED_QUANTUM);
    }

    /// Bytes released in any window, over random interleavings of connections and quanta.
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Released bytes between two deadlines never exceed rate × elapsed + one quantum.
            #[test]
            fn released_bytes_never_exceed_rate_times_elapsed_plus_a_quantum(
                bps in 1_000u64..100_000_000_000,
                calls in proptest::collection::vec(
                    (0usize..4, 1u64..=MAX_QUANTUM as u64, 0u64..5_000),
                    1..150,
                ),
            ) {
                let link = Link::new(Rate::from_bytes_per_sec(bps as f64).unwrap());
                let t0 = Instant::now();
                // Each connection's own clock moves forward; their calls interleave at random.
                let mut clocks = [0u64; 4];
                let mut released: Vec<(Instant, u64)> = Vec::new();
                for (conn, n, gap_us) in calls {
                    clocks[conn] += gap_us;
                    let now = t0 + Duration::from_micros(clocks[conn]);
                    released.push((link.reserve(n, now), n));
                }
                released.sort();
                let rate = bps as f64;
                for i in 0..released.len() {
                    let mut sum = 0u64;
                    for (j, &(at, n)) in released.iter().enumerate().skip(i) {
                        sum += n;
                        let elapsed = (at - released[i].0).as_secs_f64();
                        // 1 ns of rounding per reservation, and one byte of float slack.
                        let slack = (j - i + 1) as f64 * rate * 1e-9 + 1.0;
                        let first_quantum = released[i].1 as f64;
                        prop_assert!(
                            sum as f64 <= rate * elapsed + first_quantum + slack,
                            "{sum} bytes in {elapsed} s at {bps} B/s"
                        );
                    }
                }
            }
        }
    }
}
