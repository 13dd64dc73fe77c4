//! coldbench: measure what a container image costs at cold start — pull, create, start and
//! first request — through an embedded OCI registry whose bandwidth is throttled.
//!
//! # The public API
//!
//! A program embedding coldbench calls, in the order data flows:
//!
//! - [`scenario::Scenario::load`] (or [`scenario::Scenario::parse`]): a scenario file, validated,
//!   with `file:line:col` errors.
//! - [`run::run`]: a scenario file end to end, stopping cleanly on Ctrl-C; or
//!   [`run::run_scenario`] with a loaded scenario, your own [`execute::Interrupt`] and either the
//!   scenario's nodes or a [`driver::Driver`] of your own ([`run::Nodes::Given`]). Both return a
//!   [`run::RunOutcome`]: the run directory and its [`results::RunRecord`] (the run.json model).
//! - [`analysis::analyze`]: every statistic of a record, computed once (percentiles, σ, × floor,
//!   relative speed, burst milestones, warnings).
//! - [`report::table::render`], [`report::files::write_report`] (summary.md, charts, report.html)
//!   and [`report::files::write_exports`] with [`report::ExportTargets`] (check them first with
//!   [`report::ExportTargets::check`]); [`report::files::load_run`] reads an earlier run.json.
//! - [`compare::compare`] two records (baseline and new: cells, verdicts, context differences;
//!   [`compare::load`], [`compare::save_baseline`], [`compare::load_baseline`]) and
//!   [`compare::threshold::evaluate`] thresholds parsed with [`compare::threshold::parse`](fn@compare::threshold::parse);
//!   [`report::verdict`] renders them (terminal, Markdown, JUnit, gab, BMF).
//! - [`history::collect`] many run directories; [`report::history::write_history`] charts them.
//! - [`inspect::inspect`] with [`inspect::InspectOptions`]: one image's anatomy.
//! - [`registry::Registry`]: the embedded, throttled OCI registry on its own.
//!
//! Lower down: [`driver::Driver`] is the seam a node driver implements (Docker now; containerd
//! and kube next; simulated runs, [`driver::sim`], bypass it: the model computes whole steps),
//! [`plan::Plan`] the shuffled steps and replica slots,
//! [`execute::Execution`] the single and burst strategies over a driver, and
//! [`execute::RecordBuilder`] the record as samples arrive.
//!
//! # Modules, top to bottom
//!
//! ```text
//! cli, commands            the binary's edge: clap → option types; errors and exit codes
//! run                      registry → prepare → driver::setup → execute → results → clean-up
//! prepare, inspect, image  every variant's image into the store (ImageEngine builds), anatomy
//! plan, execute            steps × replica slots; single | burst over dyn Driver → RecordBuilder
//! driver                   Driver trait; docker/ (bollard: engines, fresh dockerd daemons);
//!                          sim/ (simulated runs through the model, no Driver)
//! registry, throttle       embedded OCI registry; token-bucket links
//! measure                  first-request probe, µs helper
//! analysis                 statistics of a RunRecord (one percentile definition)
//! compare                  two runs: verdicts per variant × metric, baselines, thresholds
//! history                  many runs: p5/p50/p95 per run, regressions from compare.json
//! report                   table, summary.md, charts, report.html, exporters, verdicts, history
//! results                  the run.json model (plain data) and its writers
//! scenario, units, digest  input types and values
//! ```
//! `results`, `analysis`, `compare`, `history` and `report` import nothing from `driver`,
//! `registry`, `run` or `cli`; `report` renders `compare` and `history`, never the reverse.
//! `main.rs` is thin: [`cli`] parses, [`commands`] calls the library and prints.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod cost;
pub mod digest;
pub mod driver;
pub mod execute;
pub mod history;
pub mod image;
pub mod inspect;
pub mod located;
pub mod measure;
pub mod model;
pub mod plan;
pub mod prepare;
pub mod progress;
pub mod registry;
pub mod report;
pub mod results;
pub mod run;
pub mod scenario;
pub mod throttle;
pub mod units;
