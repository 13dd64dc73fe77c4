//! Per variant × phase latency histograms (hdrhistogram, 3 significant figures) and summaries.

use std::collections::BTreeMap;

use crate::results::{Phase, Sample, Summary};
use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2Serializer};
use hdrhistogram::Histogram;

/// Collects samples into histograms; owned by one collector.
#[derive(Debug, Default)]
pub struct Recorder {
    histograms: BTreeMap<(String, Phase), Histogram<u64>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    /// Records every measured phase of a successful, non-warm-up sample.
    pub fn record(&mut self, sample: &Sample) {
        if sample.warmup || !sample.is_ok() {
            return;
        }
        for phase in Phase::ALL {
            if let Some(us) = sample.phases.get(phase) {
                let h = self
                    .histograms
                    .entry((sample.variant.clone(), phase))
                    .or_insert_with(new_histogram);
                // Auto-resizing: `record` grows the range; saturate only if that fails.
                if h.record(us.max(1)).is_err() {
                    h.saturating_record(us.max(1));
                }
            }
        }
    }

    /// The summary of `variant` × `phase`, if any sample was recorded.
    pub fn summary(&self, variant: &str, phase: Phase) -> Option<Summary> {
        let h = self.histograms.get(&(variant.to_string(), phase))?;
        Some(Summary {
            count: h.len(),
            min: h.min(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
            mean: h.mean(),
            stddev: h.stdev(),
        })
    }

    /// Every histogram in HdrHistogram's V2 encoding, base64: `variant → phase → text`.
    pub fn serialized(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((variant, phase), h) in &self.histograms {
            let mut bytes = Vec::new();
            if V2Serializer::new().serialize(h, &mut bytes).is_ok() {
                out.entry(variant.clone()).or_default().insert(
                    phase.name().to_string(),
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                );
            }
        }
        out
    }
}

fn new_histogram() -> Histogram<u64> {
    // 3 significant figures, auto-resizing: never fails.
    let mut h = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sigfig is valid"));
    h.auto(true);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Outcome, PhaseTimes};

    fn sample(variant: &str, total: u64, warmup: bool) -> Sample {
        Sample {
            index: 0,
            repetition: 0,
            variant: variant.into(),
            warmup,
            node: 0,
            started_at: String::new(),
            phases: PhaseTimes {
                pull_us: Some(total / 2),
                create_us: Some(10),
                start_us: Some(20),
                first_request_us: Some(30),
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
        }
    }

    #[test]
    fn summaries_skip_warmups_and_keep_three_figures() {
        let mut r = Recorder::new();
        for t in [1_000_000, 2_000_000, 3_000_000] {
            r.record(&sample("a", t, false));
        }
        r.record(&sample("a", 99_000_000, true));
        let s = r.summary("a", Phase::Total).unwrap();
        assert_eq!(s.count, 3);
        assert!((s.p50 as f64 - 2e6).abs() / 2e6 < 0.001, "{s:?}");
        assert!((s.max as f64 - 3e6).abs() / 3e6 < 0.001, "{s:?}");
        assert!(r.summary("b", Phase::Total).is_none());
        assert!(r.serialized()["a"].contains_key("total"));
    }
}
