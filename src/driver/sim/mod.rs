//! Simulated runs (`driver = "sim"`): every step of the plan computed by the cold-start model
//! ([`crate::model`]) instead of measured. No registry, no engine, no image bytes: layer sizes
//! come from a real run, a calibration or the variant's `synth` spec ([`images`]), parameters
//! from a calibration or the model's defaults ([`params`]).
//!
//! This is not a [`super::Driver`]: there is nothing to pull, and the model computes whole steps
//! at once (a burst's nodes share the registry's egress). [`crate::run::run_scenario`] hands a
//! simulated scenario to [`run`], which writes the run directory exactly like a measured run
//! (samples.jsonl, run.json, samples.csv through [`RecordBuilder`]), marked by
//! [`RunRecord::simulation`]. The same scenario and seed give the same samples.

pub mod images;
pub mod params;
pub mod samples;

use std::path::{Path, PathBuf};

use crate::execute::record::Header;
use crate::execute::RecordBuilder;
use crate::located::FileError;
use crate::measure::micros;
use crate::model::Links;
use crate::plan::Plan;
use crate::results::writers::WriteError;
use crate::results::{
    now_utc, timestamp, EngineContext, NetworkContext, RunRecord, ScenarioRecord,
};
use crate::scenario::Scenario;

/// What the command line gives instead of the scenario's `[sim]` (paths relative to the working
/// directory).
#[derive(Debug, Clone, Default)]
pub struct SimOverrides {
    /// `--calibration FILE`.
    pub calibration: Option<PathBuf>,
    /// `--images RUN`.
    pub images: Option<PathBuf>,
    /// `--shared-cores N`.
    pub shared_cores: Option<f64>,
}

/// Why a simulated run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario, its calibration or its images run cannot be used (exit 2).
    #[error(transparent)]
    Input(#[from] FileError),
    /// A results file could not be written (exit 1).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The run directory could not be created (exit 1).
    #[error("creating {}: {source}", dir.display())]
    Dir {
        /// The run directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Simulates `scenario` into a new run directory under `results_dir`; returns the directory
/// and the record written there.
pub fn run(
    scenario: &Scenario,
    results_dir: &Path,
    overrides: &SimOverrides,
) -> Result<(PathBuf, RunRecord), SimError> {
    let model = params::load(
        scenario,
        overrides.calibration.as_deref(),
        overrides.shared_cores,
    )?;
    let images = images::resolve(scenario, overrides.images.as_deref(), model.images())?;
    let started_at = now_utc();
    let (run_id, dir) = new_run_dir(
        results_dir,
        &format!("{}-{}", scenario.name, timestamp::compact(&started_at)),
    )?;
    let seed = scenario.file.seed.unwrap_or_else(rand::random);
    let nodes = scenario
        .file
        .burst
        .as_ref()
        .map_or(1, |b| *b.nodes.get_ref() as usize);
    let plan = Plan::new(scenario, seed, nodes);
    let header = Header {
        run_id,
        started_at: started_at.clone(),
        engine: engine(),
        network: network(scenario),
        scenario: ScenarioRecord {
            path: scenario.path.display().to_string(),
            name: scenario.name.clone(),
            source: scenario.source.clone(),
            parsed: serde_json::to_value(&scenario.file).unwrap_or_default(),
        },
        seed,
        variants: images.iter().map(|i| i.record.clone()).collect(),
        simulation: Some(model.simulation.clone()),
    };
    let mut record = RecordBuilder::new(&dir, header)?;
    let steps = samples::Steps {
        plan: &plan,
        images: &images,
        params: &model.simulation.params,
        links: links(scenario),
        nodes,
        bursts: scenario.file.burst.is_some(),
        started_at: &started_at,
    };
    steps.execute(&mut record)?;
    Ok(record.finish(false)?)
}

/// A run directory of its own: `run_id`, or `run_id-2`, `-3`… when a simulation of the same
/// second already has it (a simulated run takes well under a second).
fn new_run_dir(results_dir: &Path, run_id: &str) -> Result<(String, PathBuf), SimError> {
    std::fs::create_dir_all(results_dir).map_err(|source| SimError::Dir {
        dir: results_dir.to_path_buf(),
        source,
    })?;
    let mut n = 1u32;
    loop {
        let id = match n {
            1 => run_id.to_string(),
            n => format!("{run_id}-{n}"),
        };
        let dir = results_dir.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(source) => return Err(SimError::Dir { dir, source }),
        }
    }
}

/// The engine as a simulated run records it.
fn engine() -> EngineContext {
    EngineContext {
        driver: "sim".into(),
        endpoint: "the cold-start model (no engine)".into(),
        node: "simulated".into(),
        version: Some(format!("coldbench {} model", env!("CARGO_PKG_VERSION"))),
        ..EngineContext::default()
    }
}

/// The scenario's `[registry]` link, as a measured run records it (no registry runs).
fn network(scenario: &Scenario) -> NetworkContext {
    let settings = &scenario.file.registry;
    NetworkContext {
        bandwidth: settings.bandwidth.map(|r| r.to_string()),
        bandwidth_bytes_per_sec: settings.bandwidth.map(|r| r.bytes_per_sec()),
        latency_us: settings.latency.map_or(0, |l| micros(l.0)),
        registry: "simulated (no registry)".into(),
    }
}

/// The model's network from the scenario's `[registry]`.
pub fn links(scenario: &Scenario) -> Links {
    let settings = &scenario.file.registry;
    Links {
        egress_bytes_per_sec: settings.bandwidth.map(|r| r.bytes_per_sec()),
        node_bytes_per_sec: settings.node_bandwidth.map(|r| r.bytes_per_sec()),
        latency_us: settings.latency.map_or(0, |l| micros(l.0)),
    }
}
