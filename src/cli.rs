//! Command-line definitions (clap derive). The core never sees clap: these turn into typed
//! options of the library.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::driver::sim::SimOverrides;
use crate::inspect::InspectOptions;
use crate::registry::RegistryConfig;
use crate::report::ExportTargets;
use crate::run::RunOptions;
use crate::scenario::DriverKind;
use crate::units::{HumanDuration, Rate};

/// Measure what a container image costs at cold start: pull, start and first request,
/// through a throttled embedded registry.
#[derive(Debug, Parser)]
#[command(name = "coldbench", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: build its images, cold-start each variant, write a run directory under results/.
    Run(RunArgs),
    /// The embedded OCI registry on its own.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Write summary.md, charts and report.html for an earlier run (from its run.json).
    Report(ReportArgs),
    /// Show what an image is made of: sizes, layers, user, shell, package manager, files.
    Inspect(InspectArgs),
    /// Compare two runs (directories or run.json files): verdict per variant × phase, thresholds.
    Compare(CompareArgs),
    /// Trend charts and a Markdown table over many runs (e.g. the nightly ones).
    History(HistoryArgs),
    /// What-if: what an image costs in traffic, money, CI minutes and capacity, per variant.
    Cost(CostArgs),
    /// Fit the cold-start model on measured runs; write calibration.toml with the fit's error.
    Calibrate(CalibrateArgs),
    /// The calibrated model against measured runs: predicted vs measured, with the error.
    Predict(PredictArgs),
    /// Write the embedded static `coldbench-hello` binary to a file (for Dockerfiles).
    #[command(hide = true)]
    HelloBinary {
        /// Output path.
        #[arg(long, short)]
        output: PathBuf,
    },
}

/// `coldbench run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario file (TOML), e.g. scenarios/quickstart.toml.
    pub scenario: PathBuf,
    /// Directory that receives the run's directory.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results_dir: PathBuf,
    /// Hide the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Use this driver instead of the scenario's: `containerd` cold-starts over CRI on fresh
    /// containerd nodes (root), or on those at the scenario's `[containerd] node_sockets`; `sim` runs the scenario through the cold-start model (no registry,
    /// no engine, no image bytes).
    #[arg(long, value_name = "DRIVER", value_parser = parse_driver)]
    pub driver: Option<DriverKind>,
    /// Simulated runs: the calibration.toml to model with, instead of `[sim] calibration`.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Simulated runs: a run (directory or run.json) whose variants give the layer sizes,
    /// instead of `[sim] images`.
    #[arg(long, value_name = "RUN")]
    pub images: Option<PathBuf>,
    /// Simulated runs: the nodes share one host's N cores (as coldbench's own bursts do),
    /// instead of `[sim] shared_cores`.
    #[arg(long, value_name = "N", value_parser = parse_cores)]
    pub shared_cores: Option<f64>,
    /// Do not write summary.md, charts and report.html at the end.
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub exports: ExportArgs,
    /// Compare this run with the baseline NAME (under RESULTS_DIR/baselines/): exit 3 on a
    /// regression.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Save this run as the baseline NAME (under RESULTS_DIR/baselines/), replacing it.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    #[command(flatten)]
    pub checks: CheckArgs,
}

/// Thresholds, the verdict rule and the CI exports, shared by `run` and `compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// A threshold in k6's grammar, e.g. 'p95(total)<2s', 'p50(pull)<+10%' (relative to the
    /// baseline), 'full_capacity<8s'; repeatable. A failed one exits 3.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Practical noise band, as a share of the variant's total cold start: a change smaller than
    /// this is never a regression (e.g. 5%, 15%).
    #[arg(long, value_name = "PERCENT", default_value = "5%", value_parser = parse_percent)]
    pub noise_threshold: f64,
    /// Write JUnit XML (one testcase per compared cell and per threshold) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_junit: Option<String>,
    /// Write github-action-benchmark JSON (customSmallerIsBetter) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_gab: Option<String>,
    /// Write Bencher Metric Format JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_bmf: Option<String>,
}

/// `coldbench compare`.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// The baseline: a run directory or its run.json.
    pub base: PathBuf,
    /// The run compared with it: a run directory or its run.json. A directory also receives
    /// compare.json and compare.md.
    pub new: PathBuf,
    /// Write the verdict as Markdown (for $GITHUB_STEP_SUMMARY or a PR comment) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<String>,
    #[command(flatten)]
    pub checks: CheckArgs,
}

/// `coldbench history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Run directories, directories of runs (e.g. results/nightly) or glob patterns.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where history.md and charts/ go.
    #[arg(long, default_value = "results/history", value_name = "DIR")]
    pub out: PathBuf,
}

/// `coldbench cost`.
#[derive(Debug, clap::Args)]
pub struct CostArgs {
    /// Cost file (TOML), e.g. scenarios/cost/cost-example.toml.
    pub file: PathBuf,
    /// Where cost.md, cost.json and charts/cost.svg|png go.
    #[arg(long, default_value = "results/cost", value_name = "DIR")]
    pub out: PathBuf,
    /// Print the result as JSON instead of the table (with --sweep: `{"cost": …, "sweep": …}`).
    #[arg(long)]
    pub json: bool,
    /// The model's calibration (`coldbench calibrate`), instead of the file's `calibration`.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// A run directory or run.json for `from_run` variants, instead of the file's `run`.
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Change one input after reading the file, e.g. `size=100MB` (the last variant),
    /// `nodes=500` (deploy and burst nodes), `bandwidth=1GB/s`; repeatable.
    #[arg(long = "what-if", value_name = "KEY=VALUE")]
    pub what_if: Vec<crate::cost::whatif::WhatIf>,
    /// Step one input over a range, e.g. `bandwidth=50MB/s..1GB/s` (log-spaced for sizes and
    /// rates); writes sweep.md, sweep.json and charts/sweep.svg|png.
    #[arg(long, value_name = "KEY=FROM..TO")]
    pub sweep: Option<crate::cost::sweep::SweepSpec>,
    /// Steps of --sweep, 2 to 100 (`cost::sweep::MAX_STEPS`).
    #[arg(
        long,
        default_value_t = crate::cost::sweep::DEFAULT_STEPS as u32,
        requires = "sweep",
        value_parser = clap::value_parser!(u32).range(2..=crate::cost::sweep::MAX_STEPS as i64)
    )]
    pub steps: u32,
}

/// `coldbench calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// Measured runs (directories or run.json files) of single cold starts, e.g. a quickstart run.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Where to write the calibration.
    #[arg(long, default_value = "calibration.toml", value_name = "FILE")]
    pub out: PathBuf,
}

/// `coldbench predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// Measured runs (directories or run.json files) to predict, single cold starts or bursts.
    #[arg(required = true, value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// The calibration (`coldbench calibrate`).
    #[arg(long, value_name = "FILE")]
    pub calibration: PathBuf,
    /// Also write the table as Markdown to FILE (`-` = stdout).
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<String>,
}

/// `--shared-cores`: above 0, at most [`crate::scenario::limits::MAX_SHARED_CORES`].
fn parse_cores(text: &str) -> Result<f64, String> {
    let max = crate::scenario::limits::MAX_SHARED_CORES;
    match text.trim().parse::<f64>() {
        Ok(c) if c > 0.0 && c <= max => Ok(c),
        _ => Err(format!(
            "{text:?} is not a number of cores above 0 and at most {max}"
        )),
    }
}

/// `docker`, `containerd` or `sim`.
fn parse_driver(text: &str) -> Result<DriverKind, String> {
    match text {
        "docker" => Ok(DriverKind::Docker),
        "containerd" => Ok(DriverKind::Containerd),
        "sim" => Ok(DriverKind::Sim),
        _ => Err(format!("{text:?}: expected docker, containerd or sim")),
    }
}

/// `5%`, `5` (percent) or `0.5%` as a fraction (0.05); 0 to 100 %.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
        _ => Err(format!(
            "{text:?} is not a percentage from 0% to 100% (e.g. 5%)"
        )),
    }
}

/// Exports like hyperfine's; `-` means stdout.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExportArgs {
    /// Write the whole run (run.json content) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<String>,
    /// Write one row per sample (samples.csv content) to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<String>,
    /// Write the Markdown summary to FILE.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<String>,
}

/// `coldbench report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run directory (holding run.json).
    pub run_dir: PathBuf,
    /// Where to write the report (default: the run directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub exports: ExportArgs,
}

/// `coldbench inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A variant of `--scenario`, an image in the local engine (`name:tag`), or one in a
    /// registry (`host[:port]/repo:tag`).
    pub target: String,
    /// Scenario whose variant TARGET names.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `coldbench registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Serve a store over HTTP until Ctrl-C.
    Serve(ServeArgs),
}

/// `coldbench registry serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Store directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5000", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Egress bandwidth shared by all connections, e.g. 100MB/s, 1Gbit/s (default unlimited).
    #[arg(long, value_name = "RATE")]
    pub bandwidth: Option<Rate>,
    /// Delay before each response head, e.g. 20ms.
    #[arg(long, value_name = "DURATION")]
    pub latency: Option<HumanDuration>,
}

impl RunArgs {
    /// Typed options for [`crate::run::run`].
    pub fn options(&self) -> RunOptions {
        RunOptions {
            scenario: self.scenario.clone(),
            results_dir: self.results_dir.clone(),
            progress: !self.no_progress,
            driver: self.driver,
            sim: SimOverrides {
                calibration: self.calibration.clone(),
                images: self.images.clone(),
                shared_cores: self.shared_cores,
            },
        }
    }
}

impl InspectArgs {
    /// Typed options for [`crate::inspect::inspect`].
    pub fn options(&self) -> InspectOptions {
        InspectOptions {
            target: self.target.clone(),
            scenario: self.scenario.clone(),
            json: self.json,
        }
    }
}

impl ExportArgs {
    /// Typed targets for [`crate::report::files::write_exports`].
    pub fn targets(&self) -> ExportTargets {
        ExportTargets {
            json: self.export_json.clone(),
            csv: self.export_csv.clone(),
            markdown: self.export_markdown.clone(),
        }
    }
}

impl ServeArgs {
    /// Typed options for [`crate::registry::Registry::start`].
    pub fn config(&self) -> RegistryConfig {
        RegistryConfig {
            store_dir: self.store.clone(),
            listen: self.listen,
            bandwidth: self.bandwidth,
            latency: self.latency.map(|l| l.0).unwrap_or_default(),
            limits: Default::default(),
        }
    }
}
