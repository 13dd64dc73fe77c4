//! Measuring tools: the first-request probe and the ports it probes. The data they measure is in [`crate::results`];
//! the per variant × phase histograms are in [`crate::analysis::histograms`].

pub mod ports;
pub mod probe;

/// Microseconds in a duration, saturating.
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
