//! coldbench: measure what a container image costs at cold start — pull, create, start and
//! first request — through an embedded OCI registry whose bandwidth is throttled.
//!
//! `main.rs` is thin: [`cli`] parses, [`commands`] calls [`run::run`] and prints.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod digest;
pub mod driver;
pub mod execute;
pub mod image;
pub mod inspect;
pub mod measure;
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
