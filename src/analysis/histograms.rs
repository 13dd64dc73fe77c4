//! Per variant × phase latency histograms, built live from samples by one collector; their
//! summaries and the base64 V2 text stored in run.json.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::percentile::{self, new_histogram};
use super::samples::is_summarized;
use crate::results::{Phase, Sample, Summary};

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

    /// Records every measured phase of a sample that is summarized: not a warm-up, successful
    /// and cold. Others are left out (and counted by [`crate::analysis::analyze`]).
    pub fn record(&mut self, sample: &Sample) {
        if !is_summarized(sample) {
            return;
        }
        for phase in Phase::ALL {
            if let Some(us) = sample.phases.get(phase) {
                let h = self
                    .histograms
                    .entry((sample.variant.clone(), phase))
                    .or_insert_with(new_histogram);
                percentile::record(h, us);
            }
        }
    }

    /// The summary of `variant` × `phase`, if any sample was recorded.
    pub fn summary(&self, variant: &str, phase: Phase) -> Option<Summary> {
        percentile::summary_of(self.histograms.get(&(variant.to_string(), phase))?)
    }

    /// Every summary: `variant → phase → statistics`, as run.json stores them.
    pub fn summaries(&self) -> BTreeMap<String, BTreeMap<String, Summary>> {
        let mut out: BTreeMap<String, BTreeMap<String, Summary>> = BTreeMap::new();
        for ((variant, phase), h) in &self.histograms {
            if let Some(summary) = percentile::summary_of(h) {
                out.entry(variant.clone())
                    .or_default()
                    .insert(phase.name().to_string(), summary);
            }
        }
        out
    }

    /// Every histogram in HdrHistogram's V2 encoding, base64: `variant → phase → text`.
    pub fn serialized(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for ((variant, phase), h) in &self.histograms {
            if let Some(text) = percentile::encode(h) {
                out.entry(variant.clone())
                    .or_default()
                    .insert(phase.name().to_string(), text);
            }
        }
        out
    }
}
