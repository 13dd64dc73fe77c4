//! Thresholds in k6's grammar: `p95(total)<2s`, `p50(pull)<=800ms`, `max(first_request)<50ms`,
//! relative to a baseline `p50(pull)<+10%`, burst milestones `full_capacity<8s`.
//!
//! [`parse()`] reads the command-line form, [`parse_keyed`] the form of a scenario's
//! `[thresholds]` table (see [`parse`](mod@parse) for the grammar); [`evaluate`] checks them on
//! a run and gives one [`ThresholdOutcome`] per threshold × variant.

mod condition;
mod cursor;
pub mod eval;
pub mod expr;
pub mod parse;

pub use eval::evaluate;
pub use expr::{Aggregation, Limit, Op, Threshold};
pub use parse::{parse, parse_key, parse_keyed, Part, ThresholdError, MAX_EXPRESSION_CHARS};

use serde::{Deserialize, Serialize};

/// What a threshold check came to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// The condition holds.
    Passed,
    /// The condition does not hold.
    Failed,
    /// Nothing to check it on (no samples, no bursts, no baseline variant): a failure in CI.
    NoData {
        /// Why.
        reason: String,
    },
}

impl Status {
    /// True for [`Status::Passed`].
    pub fn passed(&self) -> bool {
        *self == Status::Passed
    }
}

/// One threshold checked on one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdOutcome {
    /// The expression as written (`p95(total)<2s`).
    pub expression: String,
    /// The variant it was checked on.
    pub variant: String,
    /// The measured value as shown (`1.84 s`, `+12.3 %`), `None` without data.
    pub measured: Option<String>,
    /// The measured value in the limit's unit (µs, percent, or a plain number).
    pub measured_value: Option<f64>,
    /// The limit as shown (`< 2 s`).
    pub limit: String,
    /// The result.
    pub status: Status,
}

impl ThresholdOutcome {
    /// True unless it passed.
    pub fn failed(&self) -> bool {
        self.status != Status::Passed
    }
}

#[cfg(test)]
mod tests;
