//! Drivers perform cold starts on a container engine: Docker now; Kubernetes and a simulator
//! later implement the same trait.

pub mod docker;
pub mod node;

use std::collections::BTreeMap;
use std::future::Future;

use crate::image::StoredImage;
use crate::results::{EngineContext, LayerTiming, Outcome, PhaseTimes};
use crate::scenario::ReadySpec;

/// One cold start to perform.
#[derive(Debug, Clone)]
pub struct ColdStart {
    /// The run this belongs to (labels containers for clean-up).
    pub run_id: String,
    /// Sample index within the run (names the container).
    pub index: usize,
    /// Variant name.
    pub variant: String,
    /// The registry's `host:port` as the engine reaches it.
    pub registry: String,
    /// Reference the engine pulls, e.g. `127.0.0.1:41234/coldbench/app:latest`.
    pub image_ref: String,
    /// The image as stored in the registry (layers, sizes).
    pub image: StoredImage,
    /// How to tell it is ready.
    pub ready: ReadySpec,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
}

/// What the driver measured for one cold start.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Phase durations.
    pub phases: PhaseTimes,
    /// Per-layer progress times.
    pub layers: Vec<LayerTiming>,
    /// How it ended.
    pub outcome: Outcome,
}

/// Errors a driver can report outside a sample.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The engine does not answer.
    #[error("cannot reach the Docker engine at {endpoint}: {cause}\n  start one with `sudo scripts/setup-docker`, or point DOCKER_HOST (or [docker].host in the scenario) at a running engine")]
    Unreachable { endpoint: String, cause: String },
    /// An engine call failed.
    #[error("{what}: {source}")]
    Engine {
        what: String,
        source: bollard::errors::Error,
    },
}

/// A container engine that can make a node cold and cold-start an image on it.
pub trait Driver {
    /// Facts about the engine for the results.
    fn context(&self) -> impl Future<Output = Result<EngineContext, DriverError>> + Send;
    /// Removes the images the harness pulled from `registry` (`host:port`) so the next pull is
    /// cold; no other image is touched.
    fn evict(&self, registry: &str) -> impl Future<Output = Result<(), DriverError>> + Send;
    /// Harness refs pulled from other registry addresses (left by an earlier run that was
    /// killed); they may share layers with this run's images.
    fn stale_refs(
        &self,
        registry: &str,
    ) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send;
    /// Pulls, creates, starts and probes; the container is removed before returning.
    fn cold_start(&self, job: &ColdStart) -> impl Future<Output = Measured> + Send;
    /// Removes every container of `run_id` (after an interrupt or an error).
    fn remove_containers(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<usize, DriverError>> + Send;
}
