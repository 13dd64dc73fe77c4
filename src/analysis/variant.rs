//! One variant's statistics: counts, per-phase summaries, floors, download p50, bursts.

use std::collections::BTreeMap;

use super::burst::{burst_stats, times, BurstStats};
use super::compare::Ratio;
use super::percentile::{decode, histogram_of, percentile, summary_of};
use super::samples::{summarized, Counts};
use crate::results::{LayerTiming, Phase, RunRecord, Sample, Summary, VariantRecord};

/// Which floor a pull is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorKind {
    /// One pull alone: compressed bytes / registry bandwidth.
    Wire,
    /// A burst's: nodes share the egress, `max(nodes × size / egress, size / node downlink)`.
    Burst,
}

/// A physics floor (µs) and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// No pull can be faster (µs).
    pub us: u64,
    /// Which floor it is.
    pub kind: FloorKind,
}

/// The first-request probe's resolution over a variant's summarized samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeGaps {
    /// Samples whose probe was refused at least once before the answer (so have a gap).
    pub samples: usize,
    /// p50 of the gaps (µs).
    pub p50_us: u64,
    /// The largest gap (µs): no sample's `first_request` is late by more (plus one round trip).
    pub max_us: u64,
}

impl ProbeGaps {
    /// Over the samples that recorded a gap; `None` when none did (kube, sim, old records).
    pub fn of(samples: &[&Sample]) -> Option<ProbeGaps> {
        let gaps: Vec<u64> = samples
            .iter()
            .filter_map(|s| s.probe.and_then(|p| p.gap_us))
            .collect();
        Some(ProbeGaps {
            samples: gaps.len(),
            p50_us: percentile(&gaps, 0.5)?,
            max_us: gaps.iter().copied().max()?,
        })
    }
}

/// Everything computed for one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantAnalysis {
    /// Variant name.
    pub name: String,
    /// How its samples divide up.
    pub counts: Counts,
    /// Summary of each phase over the summarized samples (see [`crate::analysis`]).
    pub phases: BTreeMap<Phase, Summary>,
    /// Compressed bytes / bandwidth for one pull alone (µs).
    pub wire_floor_us: Option<u64>,
    /// The floor its pulls are compared with: the burst's in a burst run, else the wire floor.
    pub pull_floor: Option<Floor>,
    /// Pull p50 / [`Self::pull_floor`].
    pub pull_x_floor: Option<f64>,
    /// p50 of the time every layer was downloaded (µs after the pull request).
    pub download_p50_us: Option<u64>,
    /// Total p50 relative to the fastest variant's (set by [`crate::analysis::analyze`]).
    pub relative: Option<Ratio>,
    /// Its measured bursts, if any.
    pub burst: Option<BurstStats>,
    /// The first-request probe's resolution, when its driver probed.
    pub probe_gaps: Option<ProbeGaps>,
}

impl VariantAnalysis {
    /// The summary of `phase`, if any sample measured it.
    pub fn phase(&self, phase: Phase) -> Option<&Summary> {
        self.phases.get(&phase)
    }

    /// Computes everything but [`Self::relative`].
    pub fn of(record: &RunRecord, v: &VariantRecord) -> Self {
        let samples = summarized(record, &v.name);
        let phases = phase_summaries(record, &v.name, &samples);
        let burst = burst_stats(record, &v.name);
        let pull_floor = match burst.as_ref().and_then(|b| b.floor_us) {
            Some(us) => Some(Floor {
                us,
                kind: FloorKind::Burst,
            }),
            None => v.wire_floor_us.map(|us| Floor {
                us,
                kind: FloorKind::Wire,
            }),
        };
        let pull_x_floor = times(
            phases.get(&Phase::Pull).map(|s| s.p50),
            pull_floor.map(|f| f.us),
        );
        VariantAnalysis {
            name: v.name.clone(),
            counts: Counts::of(record, &v.name),
            phases,
            wire_floor_us: v.wire_floor_us,
            pull_floor,
            pull_x_floor,
            download_p50_us: download_p50(&samples),
            relative: None,
            burst,
            probe_gaps: ProbeGaps::of(&samples),
        }
    }
}

/// Per phase: the stored histogram when it holds exactly the summarized samples' values (so a
/// record whose histograms include not-cold samples, or were edited, is recomputed), else a
/// histogram of the summarized samples.
fn phase_summaries(
    record: &RunRecord,
    variant: &str,
    samples: &[&Sample],
) -> BTreeMap<Phase, Summary> {
    let stored = record.histograms.get(variant);
    Phase::ALL
        .iter()
        .filter_map(|&phase| {
            let values: Vec<u64> = samples.iter().filter_map(|s| s.phases.get(phase)).collect();
            let h = stored
                .and_then(|m| m.get(phase.name()))
                .and_then(|text| decode(text))
                .filter(|h| h.len() == values.len() as u64)
                .unwrap_or_else(|| histogram_of(&values));
            summary_of(&h).map(|s| (phase, s))
        })
        .collect()
}

/// p50 over the samples of the time their last layer finished downloading.
fn download_p50(samples: &[&Sample]) -> Option<u64> {
    let done: Vec<u64> = samples
        .iter()
        .filter_map(|s| s.layers.iter().filter_map(LayerTiming::downloaded_us).max())
        .collect();
    percentile(&done, 0.5)
}
