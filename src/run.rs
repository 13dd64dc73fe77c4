//! Orchestration of one run: registry up → prepare images → plan → cold starts → results.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::burst::{run_burst, BurstError, BurstJob, BurstNodes};
use crate::driver::docker::DockerDriver;
use crate::driver::node::{self, NodeDaemon, NodeError};
use crate::driver::{ColdStart, Driver, DriverError};
use crate::measure::Recorder;
use crate::prepare::{self, PrepareError, Prepared};
use crate::progress::Progress;
use crate::registry::{Registry, RegistryConfig, RegistryError};
use crate::results::writers::{write_csv, write_json, SamplesLog, WriteError};
use crate::results::EngineContext;
use crate::results::{
    HostContext, NetworkContext, RunRecord, ScenarioRecord, ToolInfo, VariantRecord, SCHEMA_VERSION,
};
use crate::results::{Phase, Sample};
use crate::scenario::{BurstSpec, NodeChoice, Scenario, ScenarioError};

/// What `coldbench run` needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Parent of the run directory (default `results`).
    pub results_dir: PathBuf,
    /// Show a progress bar (still hidden when stderr is not a terminal).
    pub progress: bool,
}

/// How a run ended without completing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is malformed (exit 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The engine is unreachable or failed (exit 1).
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The registry could not start (exit 1).
    #[error("embedded registry: {0}")]
    Registry(#[from] RegistryError),
    /// An image could not be made (exit 2: it is the scenario's input).
    #[error(transparent)]
    Prepare(#[from] PrepareError),
    /// A fresh node could not be started (exit 1).
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A burst's nodes could not be set up (exit 1).
    #[error(transparent)]
    Burst(#[from] BurstError),
    /// A results file could not be written (exit 1).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Other I/O (exit 1).
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Ctrl-C (exit 130); the samples taken so far are kept in `dir`.
    #[error("interrupted; the {samples} samples taken so far are in {}", dir.display())]
    Interrupted { dir: PathBuf, samples: usize },
}

impl RunError {
    /// The process exit code for this error (DESIGN.md: 1 run failed, 2 bad input).
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Scenario(_) | RunError::Prepare(_) => 2,
            RunError::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

/// A completed run.
#[derive(Debug)]
pub struct RunOutcome {
    /// Its directory.
    pub dir: PathBuf,
    /// What it recorded (also in `dir/run.json`).
    pub record: RunRecord,
}

impl RunOutcome {
    /// Samples that failed.
    pub fn failures(&self) -> usize {
        self.record.samples.iter().filter(|s| !s.is_ok()).count()
    }
}

/// Runs a scenario end to end.
pub async fn run(opts: &RunOptions) -> Result<RunOutcome, RunError> {
    let scenario = Scenario::load(&opts.scenario)?;
    let mut interrupt = Interrupt::install()?;
    let interrupted = || RunError::Interrupted {
        dir: opts.results_dir.clone(),
        samples: 0,
    };
    let burst = scenario.file.burst.clone();
    // A burst brings its own nodes; otherwise one fresh node, or the user's engine.
    let fresh = burst.is_none() && fresh_node_wanted(&scenario)?;
    let engine = if prepare::needs_engine(&scenario) || (!fresh && burst.is_none()) {
        Some(DockerDriver::connect(scenario.file.docker.host.as_deref()).await?)
    } else {
        None
    };

    let store = tempfile::Builder::new()
        .prefix("coldbench-store-")
        .tempdir()
        .map_err(|source| RunError::Io {
            what: "creating the registry store".into(),
            source,
        })?;
    let settings = &scenario.file.registry;
    let mut registry = Registry::start(RegistryConfig {
        store_dir: store.path().to_path_buf(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        bandwidth: settings.bandwidth,
        latency: settings.latency.map_or(Duration::ZERO, |l| l.0),
    })
    .await?;

    let progress = Progress::new(opts.progress);
    let prepared = tokio::select! {
        p = prepare::prepare_all(&scenario, registry.store(), engine.as_ref(), &progress) => p?,
        _ = interrupt.recv() => return Err(interrupted()),
    };

    if let Some(spec) = &burst {
        let nodes = tokio::select! {
            n = BurstNodes::setup(&scenario, spec, &mut registry, engine.as_ref(), &progress) => n?,
            _ = interrupt.recv() => return Err(interrupted()),
        };
        let mut engine_context = nodes.first().context().await?;
        engine_context.node = format!("{} × {}", nodes.len(), nodes.kind);
        let driver = nodes.first().clone();
        let result = measure(
            &scenario,
            opts,
            &driver,
            Some((&nodes, spec)),
            &registry,
            &prepared,
            engine_context,
            &progress,
            &mut interrupt,
        )
        .await;
        let run_id = result.as_ref().ok().map(|(_, r, _)| r.run_id.clone());
        nodes.teardown(run_id.as_deref()).await;
        registry.shutdown().await;
        return finish(result);
    }

    // Cold starts happen on a fresh dockerd of our own, or on the user's engine.
    let node = if fresh {
        let spinner = progress.spinner("starting a fresh node (dedicated dockerd)".into());
        let node = tokio::select! {
            n = NodeDaemon::start(0) => n?,
            _ = interrupt.recv() => return Err(interrupted()),
        };
        spinner.finish_and_clear();
        Some(node)
    } else {
        None
    };
    let driver = match (&node, engine) {
        (Some(node), _) => DockerDriver::connect(Some(&node.host())).await?,
        (None, Some(engine)) => engine,
        (None, None) => unreachable!("an engine is connected whenever no fresh node is used"),
    };
    let mut engine_context = driver.context().await?;
    engine_context.node = if fresh { "fresh" } else { "engine" }.to_string();

    let result = measure(
        &scenario,
        opts,
        &driver,
        None,
        &registry,
        &prepared,
        engine_context,
        &progress,
        &mut interrupt,
    )
    .await;

    // Whatever happened: no container or image of ours stays behind, nor our dockerd.
    if let Some(run_id) = result.as_ref().ok().map(|(_, r, _)| r.run_id.clone()) {
        let _ = driver.remove_containers(&run_id).await;
    }
    let _ = driver.evict(&registry.addr().to_string()).await;
    registry.shutdown().await;
    if let Some(node) = node {
        node.stop().await;
    }
    finish(result)
}

/// The run's result from what the sampling returned.
fn finish(result: Result<Measurement, RunError>) -> Result<RunOutcome, RunError> {
    let (dir, record, outcome) = result?;
    match outcome {
        Ok(()) => Ok(RunOutcome { dir, record }),
        Err(RunError::Interrupted { .. }) => Err(RunError::Interrupted {
            dir,
            samples: record.samples.len(),
        }),
        Err(e) => Err(e),
    }
}

/// Decides between a fresh node and the user's engine.
fn fresh_node_wanted(scenario: &Scenario) -> Result<bool, RunError> {
    match scenario.file.docker.node {
        NodeChoice::Engine => Ok(false),
        NodeChoice::Fresh => node::available().map(|_| true).map_err(|why| {
            RunError::Node(NodeError::Unavailable(format!(
                "{why}; set [docker] node = \"engine\" to measure on your engine instead"
            )))
        }),
        NodeChoice::Auto => Ok(node::available().is_ok()),
    }
}

type Measurement = (PathBuf, RunRecord, Result<(), RunError>);

/// Creates the run directory and takes every sample of the plan, writing results as it goes.
/// Returns the directory, the record, and how the sampling ended.
#[allow(clippy::too_many_arguments)]
async fn measure(
    scenario: &Scenario,
    opts: &RunOptions,
    driver: &DockerDriver,
    burst: Option<(&BurstNodes, &BurstSpec)>,
    registry: &Registry,
    prepared: &BTreeMap<String, Prepared>,
    engine: EngineContext,
    progress: &Progress,
    interrupt: &mut Interrupt,
) -> Result<Measurement, RunError> {
    let settings = &scenario.file.registry;
    let registry_addr = registry.addr().to_string();
    let started = crate::results::now_utc();
    let run_id = format!(
        "{}-{}",
        sanitize(&scenario.name),
        crate::results::timestamp::compact(&started)
    );
    let dir = opts.results_dir.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;

    let seed = scenario.file.seed.unwrap_or_else(rand::random);
    let plan = plan(scenario, seed);
    let variants: Vec<VariantRecord> = scenario
        .file
        .variants
        .iter()
        .map(|v| {
            let p = prepared[v.name.get_ref()].clone();
            VariantRecord {
                name: v.name.get_ref().clone(),
                wire_floor_us: settings
                    .bandwidth
                    .map(|r| crate::measure::micros(r.time_for(p.image.compressed_size))),
                source: p.source,
                compression_level: p.compression_level,
                image: p.image,
                anatomy: p.anatomy,
            }
        })
        .collect();

    let mut record = RunRecord {
        schema_version: SCHEMA_VERSION,
        run_id: run_id.clone(),
        coldbench: ToolInfo::current(),
        started_at: started.clone(),
        finished_at: String::new(),
        interrupted: false,
        host: HostContext::detect(),
        engine,
        network: NetworkContext {
            bandwidth: settings.bandwidth.map(|r| r.to_string()),
            bandwidth_bytes_per_sec: settings.bandwidth.map(|r| r.bytes_per_sec()),
            latency_us: settings.latency.map_or(0, |l| crate::measure::micros(l.0)),
            registry: registry_addr.clone(),
        },
        scenario: ScenarioRecord {
            path: scenario.path.display().to_string(),
            name: scenario.name.clone(),
            source: scenario.source.clone(),
            parsed: serde_json::to_value(&scenario.file).unwrap_or_default(),
        },
        seed,
        variants,
        samples: Vec::new(),
        bursts: Vec::new(),
        summaries: BTreeMap::new(),
        histograms: BTreeMap::new(),
    };

    if let Ok(stale) = driver.stale_refs(&registry_addr).await {
        if !stale.is_empty() {
            progress.println(format!(
                "warning: {} image(s) left by an earlier, killed coldbench run may share layers with this run's and make samples warm: docker rmi {}",
                stale.len(),
                stale.join(" ")
            ));
        }
    }
    let mut log = SamplesLog::create(&dir.join("samples.jsonl"))?;
    let mut recorder = Recorder::new();
    let bar = progress.steps(
        plan.len() as u64,
        if burst.is_some() { "bursts" } else { "samples" },
    );
    let sampling = async {
        for (index, step) in plan.iter().enumerate() {
            let variant = &scenario.file.variants[step.variant];
            let name = variant.name.get_ref();
            bar.set_message(format!("{name} (repetition {})", step.repetition + 1));
            let image = &prepared[name].image;
            let job = ColdStart {
                run_id: run_id.clone(),
                index,
                variant: name.clone(),
                registry: registry_addr.clone(),
                image_ref: format!("{registry_addr}/{}:{}", image.repository, image.tag),
                image: image.clone(),
                ready: variant.ready.clone(),
                env: variant.env.clone(),
            };
            let samples = match burst {
                None => vec![take_sample(driver, registry, &job, step, index).await?],
                Some((nodes, spec)) => {
                    let b = BurstJob {
                        job: &job,
                        index,
                        repetition: step.repetition,
                        warmup: step.warmup,
                        first_sample: record.samples.len(),
                        egress: settings.bandwidth.map(|r| r.bytes_per_sec()),
                        node_bandwidth: settings.node_bandwidth.map(|r| r.bytes_per_sec()),
                    };
                    let (samples, summary) = run_burst(nodes, registry, spec, &b).await?;
                    record.bursts.push(summary);
                    samples
                }
            };
            for sample in samples {
                if let crate::results::Outcome::Failed { phase, message } = &sample.outcome {
                    // Printed even when the bar is hidden (not a terminal, --no-progress).
                    bar.suspend(|| {
                        eprintln!(
                            "sample {} ({name}) failed in {}: {message}",
                            sample.index,
                            phase.name()
                        )
                    });
                }
                log.append(&sample)?;
                recorder.record(&sample);
                record.samples.push(sample);
            }
            bar.inc(1);
        }
        Ok::<(), RunError>(())
    };
    let outcome = tokio::select! {
        r = sampling => r,
        _ = interrupt.recv() => Err(RunError::Interrupted { dir: dir.clone(), samples: 0 }),
    };
    bar.finish_and_clear();

    record.finished_at = crate::results::now_utc();
    record.interrupted = matches!(outcome, Err(RunError::Interrupted { .. }));
    fill_summaries(&mut record, &recorder);
    // Whatever ended the sampling, the samples it took are written out.
    write_json(&dir.join("run.json"), &record)?;
    write_csv(&dir.join("samples.csv"), &record)?;
    Ok((dir, record, outcome))
}

/// Ctrl-C (SIGINT) and SIGTERM, listened for from the start of the run so that an interrupt at
/// any point ends in clean-up rather than an abrupt exit.
struct Interrupt {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn install() -> Result<Self, RunError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let io = |source| RunError::Io {
                what: "installing the Ctrl-C handler".into(),
                source,
            };
            Ok(Interrupt {
                int: signal(SignalKind::interrupt()).map_err(io)?,
                term: signal(SignalKind::terminate()).map_err(io)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupt {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// One step of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index into the scenario's variants.
    pub variant: usize,
    /// Repetition number.
    pub repetition: u32,
    /// Unmeasured warm-up.
    pub warmup: bool,
}

/// Every variant once per repetition, in an order shuffled per repetition by `seed`; a warm-up
/// round first when asked.
pub fn plan(scenario: &Scenario, seed: u64) -> Vec<Step> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = scenario.file.variants.len();
    let mut steps = Vec::new();
    let rounds = scenario.file.repetitions.get();
    let warmup = u32::from(scenario.file.warmup);
    for round in 0..warmup + rounds {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        steps.extend(order.into_iter().map(|variant| Step {
            variant,
            repetition: round.saturating_sub(warmup),
            warmup: round < warmup,
        }));
    }
    steps
}

/// Makes the node cold, performs one cold start, and checks the bytes it moved.
async fn take_sample(
    driver: &DockerDriver,
    registry: &Registry,
    job: &ColdStart,
    step: &Step,
    index: usize,
) -> Result<Sample, RunError> {
    driver.evict(&job.registry).await?;
    let started_at = crate::results::now_utc();
    let before = registry.served();
    let measured = driver.cold_start(job).await;
    let after = registry.served();
    let blob_bytes = after.blobs - before.blobs;
    Ok(Sample {
        index,
        repetition: step.repetition,
        variant: job.variant.clone(),
        warmup: step.warmup,
        node: 0,
        started_at,
        phases: measured.phases,
        blob_bytes,
        manifest_bytes: after.manifests - before.manifests,
        expected_bytes: job.image.compressed_size,
        cold: blob_bytes == job.image.compressed_size,
        layers: measured.layers,
        outcome: measured.outcome,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: None,
    })
}

fn fill_summaries(record: &mut RunRecord, recorder: &Recorder) {
    for v in &record.variants {
        let phases: BTreeMap<String, _> = Phase::ALL
            .iter()
            .filter_map(|&p| {
                recorder
                    .summary(&v.name, p)
                    .map(|s| (p.name().to_string(), s))
            })
            .collect();
        if !phases.is_empty() {
            record.summaries.insert(v.name.clone(), phases);
        }
    }
    record.histograms = recorder.serialized();
}

/// Keeps a name safe for a directory and container names.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(Path::new("t.toml"), text.to_string()).unwrap()
    }

    #[test]
    fn the_plan_gives_every_variant_the_same_count_in_shuffled_order() {
        let s = scenario(
            "repetitions = 4\nwarmup = true\n[[variant]]\nname = \"a\"\nsynth = { size = \"1MB\" }\n[[variant]]\nname = \"b\"\nsynth = { size = \"1MB\" }\n[[variant]]\nname = \"c\"\nsynth = { size = \"1MB\" }\n",
        );
        let p = plan(&s, 7);
        assert_eq!(p.len(), 15);
        assert!(p[..3].iter().all(|s| s.warmup));
        for v in 0..3 {
            let measured = p.iter().filter(|s| s.variant == v && !s.warmup).count();
            assert_eq!(measured, 4);
        }
        assert_eq!(p, plan(&s, 7), "same seed, same order");
        let orders: std::collections::HashSet<Vec<usize>> = (0..20)
            .map(|seed| plan(&s, seed)[3..6].iter().map(|s| s.variant).collect())
            .collect();
        assert!(orders.len() > 1, "order is shuffled");
    }

    #[test]
    fn timestamps_compact() {
        assert_eq!(sanitize("my scenario/1"), "my-scenario-1");
    }
}
