//! Executing a plan over a driver: every step is a single cold start or a burst (two strategies
//! over the same [`Driver`]); samples go to a [`RecordBuilder`] as they are taken.
//!
//! Every time here is read from tokio's clock, so a test driver under paused time runs the real
//! orchestration deterministically.

pub mod burst;
pub mod cluster;
pub mod interrupt;
pub mod layers;
pub mod record;
pub mod replica;
pub mod single;
pub mod timeline;

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::driver::{Driver, DriverError, PullSpec};
use crate::plan::Plan;
use crate::progress::Progress;
use crate::registry::{BlobSent, RegistryCounts};
use crate::results::writers::WriteError;
use crate::results::{Outcome, StoredImage};
use crate::scenario::ReadySpec;

pub use interrupt::{Interrupt, InterruptTrigger};
pub use record::RecordBuilder;

/// What the registry served to each node: bytes (monotonic counters) and when each blob's last
/// byte left.
pub trait ByteCounter: Send + Sync {
    /// `(blob bytes, manifest bytes)` served to node `node` so far.
    fn served(&self, node: usize) -> (u64, u64);

    /// Blobs whose last byte left for node `node` at or after `from`, oldest first.
    fn blobs_sent(&self, node: usize, from: Instant) -> Vec<BlobSent>;

    /// Requests, retries and faults node `node`'s registry port saw at or after `from`
    /// (`None` when unknown).
    fn registry_counts(&self, _node: usize, _from: Instant) -> Option<RegistryCounts> {
        None
    }
}

impl ByteCounter for crate::registry::Registry {
    fn served(&self, node: usize) -> (u64, u64) {
        let s = self.served_by_node(node);
        (s.blobs, s.manifests)
    }

    fn blobs_sent(&self, node: usize, from: Instant) -> Vec<BlobSent> {
        self.blobs_sent_to_node(node, from)
    }

    fn registry_counts(&self, node: usize, from: Instant) -> Option<RegistryCounts> {
        Some(self.requests_of_node(node, from))
    }
}

/// The registry's main listener counted as one: what a cluster's nodes pulled through it (they
/// all reach the registry at one address; deliveries carry their peer address instead).
pub struct ListenerBytes<'a>(pub &'a crate::registry::Registry);

impl ByteCounter for ListenerBytes<'_> {
    fn served(&self, _: usize) -> (u64, u64) {
        let s = self.0.served_by_listener();
        (s.blobs, s.manifests)
    }

    fn blobs_sent(&self, _: usize, from: Instant) -> Vec<BlobSent> {
        self.0.blobs_sent(from)
    }

    fn registry_counts(&self, _: usize, from: Instant) -> Option<RegistryCounts> {
        Some(self.0.requests_of_listener(from))
    }
}

/// What a step cold-starts: one variant's image and how to run it.
#[derive(Debug, Clone)]
pub struct VariantJob {
    /// Variant name.
    pub name: String,
    /// The image in the registry.
    pub image: StoredImage,
    /// How to tell it is ready.
    pub ready: ReadySpec,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
}

impl VariantJob {
    /// The pull of this image from the registry at `registry` (`host:port`).
    pub fn pull_spec(&self, registry: &str) -> PullSpec {
        PullSpec {
            reference: format!("{registry}/{}:{}", self.image.repository, self.image.tag),
            image: self.image.clone(),
        }
    }
}

/// How each step is executed.
#[derive(Debug, Clone, Copy)]
pub enum Strategy {
    /// One cold start on node 0.
    Single,
    /// A burst over every node; the links give the burst's physics floor.
    Burst {
        /// The registry's egress in bytes/s (`None`: unlimited).
        egress: Option<f64>,
        /// Each node's downlink in bytes/s (`None`: unlimited).
        node_bandwidth: Option<f64>,
    },
}

/// Everything the executors need, in one place.
pub struct Execution<'a> {
    /// The nodes.
    pub driver: &'a dyn Driver,
    /// Bytes served per node.
    pub bytes: &'a dyn ByteCounter,
    /// Per node, the registry address it pulls from (`host:port`).
    pub registry_addrs: &'a [String],
    /// Names containers and labels them for clean-up.
    pub run_id: &'a str,
    /// The scenario's variants, in scenario order (the plan indexes them).
    pub variants: &'a [VariantJob],
    /// The steps and their replica slots.
    pub plan: &'a Plan,
    /// Single cold starts or bursts.
    pub strategy: Strategy,
    /// Progress display.
    pub progress: &'a Progress,
    /// How a cluster makes each step cold.
    pub cold: Coldness<'a>,
}

/// How a cluster step's image is made cold (Docker and containerd nodes are wiped instead).
#[derive(Clone, Copy)]
pub enum Coldness<'a> {
    /// Evict the image from every node before each step (`cold = "evict"`, and every
    /// non-cluster driver).
    Evict,
    /// Publish a salted copy of the image in this store for each step (`cold = "salt"`).
    Salt(&'a crate::registry::Store),
}

/// Why executing stopped early (the samples taken so far are in the record).
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The engine failed outside a sample (eviction).
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// samples.jsonl could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

impl Execution<'_> {
    /// Registry address of node `node`.
    fn registry(&self, node: usize) -> &str {
        self.registry_addrs.get(node).map_or("", String::as_str)
    }

    /// Takes every step of the plan, in order, into `record`; stops at the first interrupt or
    /// error. Every sample taken is in `record` (and samples.jsonl) whatever the result.
    pub async fn run(
        &self,
        record: &mut RecordBuilder,
        interrupt: &mut Interrupt,
    ) -> Result<(), ExecuteError> {
        let unit = match self.strategy {
            Strategy::Single => "samples",
            Strategy::Burst { .. } => "bursts",
        };
        let bar = self.progress.steps(self.plan.steps.len() as u64, unit);
        let steps = async {
            for (index, step) in self.plan.steps.iter().enumerate() {
                let Some(variant) = self.variants.get(step.variant) else {
                    continue;
                };
                bar.set_message(format!(
                    "{} (repetition {})",
                    variant.name,
                    step.repetition + 1
                ));
                let first_sample = record.samples_taken();
                let taken = match (self.strategy, self.driver.cluster()) {
                    (Strategy::Single, None) => {
                        vec![single::cold_start(self, variant, step, index).await?]
                    }
                    (Strategy::Single, Some(c)) => {
                        vec![cluster::cold_start(self, c, variant, step, index).await?]
                    }
                    (Strategy::Burst { .. }, None) => {
                        let (samples, burst) =
                            burst::burst(self, variant, step, index, first_sample).await?;
                        record.add_burst(burst);
                        samples
                    }
                    (Strategy::Burst { .. }, Some(c)) => {
                        let (samples, burst) =
                            cluster::burst(self, c, variant, step, index, first_sample).await?;
                        record.add_burst(burst);
                        samples
                    }
                };
                for sample in taken {
                    if let Outcome::Failed { phase, message } = &sample.outcome {
                        // Printed even when the bar is hidden (not a terminal, --no-progress).
                        bar.suspend(|| {
                            eprintln!(
                                "sample {} ({}) failed in {}: {message}",
                                sample.index,
                                variant.name,
                                phase.name()
                            )
                        });
                    }
                    record.add_sample(sample)?;
                }
                bar.inc(1);
            }
            Ok(())
        };
        let result = tokio::select! {
            r = steps => r,
            _ = interrupt.recv() => Err(ExecuteError::Interrupted),
        };
        bar.finish_and_clear();
        result
    }
}
