//! Which samples a summary uses, and the counts of the others.

use crate::results::{RunRecord, Sample};

/// True for a sample that summaries use: not a warm-up, every phase completed, and cold (the
/// registry served exactly the image's bytes).
pub fn is_summarized(s: &Sample) -> bool {
    !s.warmup && s.is_ok() && s.cold
}

/// The summarized samples of `variant`, in execution order.
pub fn summarized<'a>(record: &'a RunRecord, variant: &'a str) -> Vec<&'a Sample> {
    record
        .samples
        .iter()
        .filter(|s| s.variant == variant && is_summarized(s))
        .collect()
}

/// How one variant's samples divide up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Samples that are not warm-ups.
    pub measured: usize,
    /// Measured samples that completed (cold or not).
    pub ok: usize,
    /// Samples that failed, warm-ups included.
    pub failed: usize,
    /// Measured, completed samples that moved fewer or more bytes than the image: excluded
    /// from the summaries.
    pub not_cold: usize,
    /// Warm-up samples (never summarized).
    pub warmup: usize,
}

impl Counts {
    /// Counts the samples of `variant`.
    pub fn of(record: &RunRecord, variant: &str) -> Self {
        let mut c = Counts::default();
        for s in record.samples.iter().filter(|s| s.variant == variant) {
            if !s.is_ok() {
                c.failed += 1;
            }
            if s.warmup {
                c.warmup += 1;
                continue;
            }
            c.measured += 1;
            if s.is_ok() {
                c.ok += 1;
                if !s.cold {
                    c.not_cold += 1;
                }
            }
        }
        c
    }

    /// Samples the summaries are made of.
    pub fn summarized(&self) -> usize {
        self.ok.saturating_sub(self.not_cold)
    }
}
