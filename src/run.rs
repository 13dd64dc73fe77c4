//! One run, end to end: registry up → images prepared → nodes set up → the plan executed →
//! results written → everything the run started removed, whatever happened.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::compare::threshold::Threshold;
use crate::driver::sim::{self, SimError, SimOverrides};
use crate::driver::{self, Driver, DriverError, NodeRequest};
use crate::execute::record::Header;
use crate::execute::{
    ByteCounter, Coldness, ExecuteError, Execution, Interrupt, ListenerBytes, RecordBuilder,
    Strategy, VariantJob,
};
use crate::image::ImageEngine;
use crate::measure::micros;
use crate::plan::Plan;
use crate::prepare::{self, PrepareError, Prepared};
use crate::progress::Progress;
use crate::registry::{Registry, RegistryConfig, RegistryError};
use crate::results::writers::WriteError;
use crate::results::{
    now_utc, timestamp, NetworkContext, RunRecord, ScenarioRecord, VariantRecord,
};
use crate::scenario::{kube, ColdMode, DriverKind, Scenario, ScenarioError};

/// What `coldbench run` needs to know.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Parent of the run directory (default `results`).
    pub results_dir: PathBuf,
    /// Show a progress bar (still hidden when stderr is not a terminal).
    pub progress: bool,
    /// Replaces the scenario's `driver` (`run --driver`).
    pub driver: Option<DriverKind>,
    /// Replace the scenario's `[sim]` paths (`run --calibration`, `--images`).
    pub sim: SimOverrides,
}

/// How a run ended without completing.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario is malformed (exit 2).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The engine is unreachable or failed, or nodes could not be set up (exit 1).
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The registry could not start (exit 1).
    #[error("embedded registry: {0}")]
    Registry(#[from] RegistryError),
    /// An image could not be made (exit 2: it is the scenario's input).
    #[error(transparent)]
    Prepare(#[from] PrepareError),
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
    /// The scenario's `[thresholds]`, checked by the caller.
    pub thresholds: Vec<Threshold>,
}

impl RunOutcome {
    /// Samples that failed.
    pub fn failures(&self) -> usize {
        self.record.samples.iter().filter(|s| !s.is_ok()).count()
    }
}

/// Where a run's nodes come from.
pub enum Nodes {
    /// The scenario's driver sets them up (what `coldbench run` does).
    FromScenario,
    /// Nodes set up by the caller (an embedding program, or a test driver). `bytes` counts what
    /// each node received when the driver does not pull from the embedded registry.
    Given {
        /// The nodes.
        driver: Box<dyn Driver>,
        /// Bytes per node, instead of the registry's counters.
        bytes: Option<Box<dyn ByteCounter>>,
    },
}

/// Runs a scenario file end to end, stopping cleanly on Ctrl-C or SIGTERM.
pub async fn run(opts: &RunOptions) -> Result<RunOutcome, RunError> {
    let scenario = Scenario::load_as(&opts.scenario, opts.driver)?;
    let sim_flags = opts.sim.calibration.is_some()
        || opts.sim.images.is_some()
        || opts.sim.shared_cores.is_some();
    if sim_flags && !scenario.is_simulated() {
        return Err(RunError::Scenario(ScenarioError {
            file: scenario.path.clone(),
            position: None,
            field: Some("driver".into()),
            message: "--calibration, --images and --shared-cores apply to simulated runs only: add --driver sim, or driver = \"sim\" to the scenario".into(),
        }));
    }
    let interrupt = Interrupt::signals().map_err(|source| RunError::Io {
        what: "installing the Ctrl-C handler".into(),
        source,
    })?;
    run_scenario(&scenario, opts, Nodes::FromScenario, interrupt).await
}

/// Runs a loaded scenario on `nodes`; `interrupt` stops it, keeping the samples taken. A
/// simulated scenario (`driver = "sim"`) goes to [`sim::run`] instead: no registry, no nodes.
pub async fn run_scenario(
    scenario: &Scenario,
    opts: &RunOptions,
    nodes: Nodes,
    mut interrupt: Interrupt,
) -> Result<RunOutcome, RunError> {
    if scenario.is_simulated() {
        return simulate(scenario, opts);
    }
    let interrupted = || RunError::Interrupted {
        dir: opts.results_dir.clone(),
        samples: 0,
    };
    let progress = Progress::new(opts.progress);
    let images = if prepare::needs_engine(scenario) {
        Some(ImageEngine::connect(scenario.file.docker.host.as_deref()).await?)
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
    let mut registry = start_registry(scenario, store.path().to_path_buf()).await?;
    let prepared = tokio::select! {
        p = prepare::prepare_all(scenario, registry.store(), images.as_ref(), &progress) => p.map_err(RunError::from),
        _ = interrupt.recv() => Err(interrupted()),
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => return shut(registry, Err(e)).await,
    };
    if *scenario.file.driver.get_ref() == DriverKind::Containerd
        && scenario.file.containerd.node_sockets.is_empty()
    {
        // Fresh containerd nodes pin the harness's own pause image before measuring (existing
        // ones use their own sandbox image).
        if let Err(e) = crate::image::synth::build_pause(registry.store()) {
            let e = DriverError::Nodes(format!(
                "building the pause image containerd nodes pin: {e}"
            ));
            return shut(registry, Err(e.into())).await;
        }
    }
    let node_set = tokio::select! {
        n = set_up(scenario, nodes, &progress) => n,
        _ = interrupt.recv() => Err(interrupted()),
    };
    let (driver, counter) = match node_set {
        Ok(n) => n,
        Err(e) => return shut(registry, Err(e)).await,
    };
    let listener = ListenerBytes(&registry);
    let (addrs, counter): (Vec<String>, &dyn ByteCounter) = if driver.cluster().is_some() {
        // A cluster's nodes all pull through the main listener, at the address they know it by.
        let addr = kube::nodes_registry(&scenario.file.kube, registry.addr());
        (vec![addr], counter.as_deref().unwrap_or(&listener))
    } else {
        match node_ports(&mut registry, scenario, driver.nodes()).await {
            Ok(addrs) => (addrs, counter.as_deref().unwrap_or(&registry)),
            Err(e) => {
                driver.teardown().await;
                return shut(registry, Err(e)).await;
            }
        }
    };
    let session = Session {
        scenario,
        opts,
        driver: driver.as_ref(),
        counter,
        registry: &registry,
        registry_addrs: &addrs,
        prepared: &prepared,
        progress: &progress,
    };
    let result = session.measure(&mut interrupt).await;
    clean_up(
        driver.as_ref(),
        &addrs,
        result.as_ref().ok().map(|(_, r, _)| r),
    )
    .await;
    driver.teardown().await;
    shut(registry, finish(result, &scenario.thresholds)).await
}

/// A simulated run: the model computes every step; the record is written like a measured one.
fn simulate(scenario: &Scenario, opts: &RunOptions) -> Result<RunOutcome, RunError> {
    let (dir, record) = sim::run(scenario, &opts.results_dir, &opts.sim).map_err(|e| match e {
        SimError::Input(e) => RunError::Scenario(e),
        SimError::Write(e) => RunError::Write(e),
        SimError::Dir { dir, source } => RunError::Io {
            what: format!("creating {}", dir.display()),
            source,
        },
    })?;
    Ok(RunOutcome {
        dir,
        record,
        thresholds: scenario.thresholds.clone(),
    })
}

/// The registry's result, once it is shut down.
async fn shut<T>(registry: Registry, result: Result<T, RunError>) -> Result<T, RunError> {
    registry.shutdown().await;
    result
}

async fn start_registry(scenario: &Scenario, store_dir: PathBuf) -> Result<Registry, RunError> {
    let settings = &scenario.file.registry;
    // Validated when the scenario was loaded; loopback when absent.
    let listen = settings
        .listen
        .as_ref()
        .and_then(|l| kube::listen_address(l).ok())
        .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let config = RegistryConfig {
        store_dir,
        listen,
        bandwidth: settings.bandwidth,
        latency: settings.latency.map_or(Duration::ZERO, |l| l.0),
        limits: Default::default(),
    };
    // Faults are seeded by the scenario's seed (0 when absent: an unseeded scenario still gets
    // the same fault sequence on every run).
    let faults = settings
        .faults
        .as_ref()
        .map(|f| f.config(scenario.file.seed.unwrap_or(0)))
        .unwrap_or_default();
    Ok(Registry::start_with_faults(config, faults).await?)
}

type NodeSet = (Box<dyn Driver>, Option<Box<dyn ByteCounter>>);

/// The run's nodes: one for single cold starts, `[burst] nodes` for bursts.
async fn set_up(
    scenario: &Scenario,
    nodes: Nodes,
    progress: &Progress,
) -> Result<NodeSet, RunError> {
    match nodes {
        Nodes::Given { driver, bytes } => Ok((driver, bytes)),
        Nodes::FromScenario => {
            let count = scenario
                .file
                .burst
                .as_ref()
                .map_or(1, |b| *b.nodes.get_ref() as usize);
            let driver = driver::setup(scenario, NodeRequest { count }, progress).await?;
            Ok((driver, None))
        }
    }
}

/// One registry port per node, each with the scenario's node bandwidth; their addresses.
async fn node_ports(
    registry: &mut Registry,
    scenario: &Scenario,
    nodes: usize,
) -> Result<Vec<String>, RunError> {
    let mut addrs = Vec::new();
    for _ in 0..nodes {
        let (_, addr) = registry
            .add_node(scenario.file.registry.node_bandwidth)
            .await?;
        addrs.push(addr.to_string());
    }
    Ok(addrs)
}

/// No container or image of the run stays on any node.
async fn clean_up(driver: &dyn Driver, addrs: &[String], record: Option<&RunRecord>) {
    for node in 0..driver.nodes() {
        let Some(addr) = addrs.get(node).or(addrs.first()) else {
            return;
        };
        if let Some(record) = record {
            let _ = driver.remove_run(node, &record.run_id).await;
        }
        let _ = driver.evict(node, addr).await;
    }
}

/// The run's result from what the sampling returned.
fn finish(
    result: Result<Measurement, RunError>,
    thresholds: &[Threshold],
) -> Result<RunOutcome, RunError> {
    let (dir, record, outcome) = result?;
    match outcome {
        Ok(()) => Ok(RunOutcome {
            dir,
            record,
            thresholds: thresholds.to_vec(),
        }),
        Err(ExecuteError::Interrupted) => Err(RunError::Interrupted {
            dir,
            samples: record.samples.len(),
        }),
        Err(ExecuteError::Driver(e)) => Err(e.into()),
        Err(ExecuteError::Write(e)) => Err(e.into()),
    }
}

type Measurement = (PathBuf, RunRecord, Result<(), ExecuteError>);

/// What measuring needs once the registry, the images and the nodes are up.
struct Session<'a> {
    scenario: &'a Scenario,
    opts: &'a RunOptions,
    driver: &'a dyn Driver,
    counter: &'a dyn ByteCounter,
    registry: &'a Registry,
    registry_addrs: &'a [String],
    prepared: &'a BTreeMap<String, Prepared>,
    progress: &'a Progress,
}

impl Session<'_> {
    /// Creates the run directory and executes the plan, writing results as it goes. Returns
    /// the directory, the record, and how the execution ended.
    async fn measure(&self, interrupt: &mut Interrupt) -> Result<Measurement, RunError> {
        let started_at = now_utc();
        // Scenario names are validated as safe for directories and container names.
        let run_id = format!("{}-{}", self.scenario.name, timestamp::compact(&started_at));
        let dir = self.opts.results_dir.join(&run_id);
        std::fs::create_dir_all(&dir).map_err(|source| RunError::Io {
            what: format!("creating {}", dir.display()),
            source,
        })?;
        let seed = self.scenario.file.seed.unwrap_or_else(rand::random);
        let plan = Plan::new(self.scenario, seed, self.driver.nodes());
        let header = Header {
            run_id: run_id.clone(),
            started_at,
            engine: self.engine_context().await?,
            network: self.network(),
            scenario: ScenarioRecord {
                path: self.scenario.path.display().to_string(),
                name: self.scenario.name.clone(),
                source: self.scenario.source.clone(),
                parsed: serde_json::to_value(&self.scenario.file).unwrap_or_default(),
            },
            seed,
            variants: self.variant_records(),
            simulation: None,
        };
        let mut record = RecordBuilder::new(&dir, header)?;
        self.warn_stale().await;
        let jobs = self.jobs();
        let settings = &self.scenario.file.registry;
        let strategy = match self.scenario.file.burst {
            None => Strategy::Single,
            Some(_) => Strategy::Burst {
                egress: settings.bandwidth.map(|r| r.bytes_per_sec()),
                node_bandwidth: settings.node_bandwidth.map(|r| r.bytes_per_sec()),
            },
        };
        let execution = Execution {
            driver: self.driver,
            bytes: self.counter,
            registry_addrs: self.registry_addrs,
            run_id: &run_id,
            variants: &jobs,
            plan: &plan,
            strategy,
            progress: self.progress,
            cold: self.coldness(),
        };
        let outcome = execution.run(&mut record, interrupt).await;
        // Whatever ended the execution, the samples it took are written out.
        let interrupted = matches!(outcome, Err(ExecuteError::Interrupted));
        let (dir, record) = record.finish(interrupted)?;
        Ok((dir, record, outcome))
    }

    /// How cluster steps are made cold: `[kube] cold` on a cluster, eviction elsewhere.
    fn coldness(&self) -> Coldness<'_> {
        match (self.driver.cluster(), self.scenario.file.kube.cold) {
            (Some(_), ColdMode::Salt) => Coldness::Salt(self.registry.store()),
            _ => Coldness::Evict,
        }
    }

    /// Node 0's engine, with how the nodes were provided (`fresh`, `3 × fresh`).
    async fn engine_context(&self) -> Result<crate::results::EngineContext, RunError> {
        let mut engine = self.driver.describe(0).await?;
        let kind = self.driver.kind().name();
        engine.node = match self.scenario.file.burst {
            None => kind.to_string(),
            Some(_) => format!("{} × {kind}", self.driver.nodes()),
        };
        Ok(engine)
    }

    fn network(&self) -> NetworkContext {
        let settings = &self.scenario.file.registry;
        NetworkContext {
            bandwidth: settings.bandwidth.map(|r| r.to_string()),
            bandwidth_bytes_per_sec: settings.bandwidth.map(|r| r.bytes_per_sec()),
            latency_us: settings.latency.map_or(0, |l| micros(l.0)),
            registry: self.registry.addr().to_string(),
        }
    }

    fn variant_records(&self) -> Vec<VariantRecord> {
        let bandwidth = self.scenario.file.registry.bandwidth;
        self.scenario
            .file
            .variants
            .iter()
            .filter_map(|v| {
                let p = self.prepared.get(v.name.get_ref())?.clone();
                Some(VariantRecord {
                    name: v.name.get_ref().clone(),
                    wire_floor_us: bandwidth.map(|r| micros(r.time_for(p.image.compressed_size))),
                    source: p.source,
                    compression_level: p.compression_level,
                    image: p.image,
                    anatomy: p.anatomy,
                })
            })
            .collect()
    }

    fn jobs(&self) -> Vec<VariantJob> {
        self.scenario
            .file
            .variants
            .iter()
            .filter_map(|v| {
                Some(VariantJob {
                    name: v.name.get_ref().clone(),
                    image: self.prepared.get(v.name.get_ref())?.image.clone(),
                    ready: v.ready.clone(),
                    env: v.env.clone(),
                })
            })
            .collect()
    }

    /// Warns about harness images a killed earlier run left on node 0.
    async fn warn_stale(&self) {
        let Some(addr) = self.registry_addrs.first() else {
            return;
        };
        if let Ok(stale) = self.driver.stale_refs(0, addr).await {
            if !stale.is_empty() {
                self.progress.println(format!(
                    "warning: {} image(s) left by an earlier, killed coldbench run may share layers with this run's and make samples warm: docker rmi {}",
                    stale.len(),
                    stale.join(" ")
                ));
            }
        }
    }
}
