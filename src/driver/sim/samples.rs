//! Plan steps → samples: a single cold start per step through [`simulate_single`], a burst per
//! step through [`simulate_slots`] with the plan's replica slots (one sample per replica and a
//! [`BurstRecord`], as `crate::execute::burst` fills them). The model is deterministic, so each
//! variant is computed once and every repetition reuses it.

use super::images::SimImage;
use crate::execute::RecordBuilder;
use crate::model::{
    simulate_single, simulate_slots, BurstOutcome, LayerDone, Links, ModelParams, SingleOutcome,
};
use crate::plan::{Plan, Step};
use crate::results::writers::WriteError;
use crate::results::{BurstRecord, LayerTiming, Outcome, PhaseTimes, Sample};

/// Everything a simulated run's steps need.
pub struct Steps<'a> {
    /// The steps and their replica slots.
    pub plan: &'a Plan,
    /// Each variant's image, in scenario order (the plan indexes them).
    pub images: &'a [SimImage],
    /// The model's parameters.
    pub params: &'a ModelParams,
    /// The scenario's network.
    pub links: Links,
    /// Nodes of the run (1 without `[burst]`).
    pub nodes: usize,
    /// Bursts rather than single cold starts.
    pub bursts: bool,
    /// The run's start, given to every sample.
    pub started_at: &'a str,
}

impl Steps<'_> {
    /// Takes every step of the plan into `record`, in plan order.
    pub fn execute(&self, record: &mut RecordBuilder) -> Result<(), WriteError> {
        if self.bursts {
            self.execute_bursts(record)
        } else {
            self.execute_singles(record)
        }
    }

    /// One burst per step: its record, then its replicas' samples.
    fn execute_bursts(&self, record: &mut RecordBuilder) -> Result<(), WriteError> {
        let outcomes: Vec<BurstOutcome> = self
            .images
            .iter()
            .map(|i| simulate_slots(&i.model, &self.plan.slots, self.params, &self.links))
            .collect();
        for (index, step) in self.plan.steps.iter().enumerate() {
            let Some(outcome) = outcomes.get(step.variant) else {
                continue;
            };
            let first = record.samples_taken();
            let samples = self.burst_samples(step, index, first, outcome);
            record.add_burst(self.burst_record(step, index, outcome));
            record.add_samples(samples)?;
        }
        Ok(())
    }

    /// One cold start per step, all recorded at once.
    fn execute_singles(&self, record: &mut RecordBuilder) -> Result<(), WriteError> {
        let outcomes: Vec<SingleOutcome> = self
            .images
            .iter()
            .map(|i| simulate_single(&i.model, self.params, &self.links))
            .collect();
        let samples = self
            .plan
            .steps
            .iter()
            .enumerate()
            .filter_map(|(index, step)| {
                Some(self.single_sample(step, index, outcomes.get(step.variant)?))
            })
            .collect();
        record.add_samples(samples)
    }

    /// A sample with the step's identity and a cold pull of the variant's whole image.
    fn sample(&self, step: &Step, index: usize, phases: PhaseTimes) -> Sample {
        let image = &self.images[step.variant].record;
        let bytes = image.image.compressed_size;
        Sample {
            index,
            repetition: step.repetition,
            variant: image.name.clone(),
            warmup: step.warmup,
            node: 0,
            started_at: self.started_at.to_string(),
            phases,
            blob_bytes: bytes,
            manifest_bytes: 0,
            expected_bytes: bytes,
            cold: true,
            layers: Vec::new(),
            outcome: Outcome::Ok,
            burst: None,
            replica: None,
            requested_at_us: None,
            ready_at_us: None,
            finished_at_us: None,
            pod: None,
            registry: None,
            probe: None,
        }
    }

    /// One cold start: every phase, and each layer's download and extract times.
    fn single_sample(&self, step: &Step, index: usize, outcome: &SingleOutcome) -> Sample {
        let image = &self.images[step.variant].record.image;
        let layers = outcome
            .layers
            .iter()
            .zip(&image.layers)
            .map(|(done, layer): (&LayerDone, _)| LayerTiming {
                digest: layer.digest.to_string(),
                download_complete_us: Some(done.download_us),
                extract_complete_us: Some(done.extract_us),
                ..LayerTiming::new(layer.digest.to_string())
            })
            .collect();
        Sample {
            layers,
            ..self.sample(step, index, outcome.phases)
        }
    }

    /// One sample per replica: its pull is its node's pull from the replica's request.
    fn burst_samples(
        &self,
        step: &Step,
        index: usize,
        first: usize,
        outcome: &BurstOutcome,
    ) -> Vec<Sample> {
        let uncompressed = self.images[step.variant].model.uncompressed_bytes();
        let create_us = self.params.create_for(uncompressed);
        outcome
            .replicas
            .iter()
            .map(|r| {
                let present = outcome
                    .pulls
                    .get(r.node)
                    .and_then(Option::as_ref)
                    .map_or(r.requested_us, |p| p.done_at_us());
                let phases = PhaseTimes {
                    pull_us: Some(present.saturating_sub(r.requested_us)),
                    create_us: Some(create_us),
                    start_us: Some(self.params.start_us),
                    first_request_us: Some(self.params.first_request_us),
                    total_us: Some(r.ready_us.saturating_sub(r.requested_us)),
                };
                Sample {
                    node: r.node,
                    burst: Some(index),
                    replica: Some(r.replica),
                    requested_at_us: Some(r.requested_us),
                    ready_at_us: Some(r.ready_us),
                    finished_at_us: Some(r.ready_us),
                    pod: None,
                    registry: None,
                    probe: None,
                    ..self.sample(step, first + r.replica, phases)
                }
            })
            .collect()
    }

    /// The burst's record: the model's milestones and floor, the image's bytes per pulling node.
    fn burst_record(&self, step: &Step, index: usize, outcome: &BurstOutcome) -> BurstRecord {
        let image = &self.images[step.variant].record;
        let node_blob_bytes = (0..self.nodes)
            .map(|n| match outcome.pulls.get(n) {
                Some(Some(_)) => image.image.compressed_size,
                _ => 0,
            })
            .collect();
        let m = &outcome.milestones;
        BurstRecord {
            index,
            repetition: step.repetition,
            variant: image.name.clone(),
            warmup: step.warmup,
            nodes: outcome.pulls.iter().flatten().count(),
            replicas: outcome.replicas.len(),
            first_ready_us: m.first_ready_us,
            half_ready_us: m.half_ready_us,
            full_ready_us: m.full_ready_us,
            capacity_seconds_lost: m.capacity_seconds_lost,
            node_blob_bytes,
            floor_us: outcome.floor_us,
        }
    }
}
