//! Command-line definitions (clap derive). The core never sees clap: these turn into typed
//! options of the library.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::inspect::InspectOptions;
use crate::registry::RegistryConfig;
use crate::report::ExportTargets;
use crate::run::RunOptions;
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
    /// Do not write summary.md, charts and report.html at the end.
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub exports: ExportArgs,
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
            uploads: Default::default(),
        }
    }
}
