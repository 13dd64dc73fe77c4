//! A parsed threshold: what is aggregated, compared how, against which limit.

use std::fmt;
use std::time::Duration;

use crate::compare::metric::Metric;

/// How the values of one variant × metric become the one number a threshold checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregation {
    /// The smallest value (as the summary table shows it).
    Min,
    /// The largest value (as the summary table shows it).
    Max,
    /// The mean (as the summary table shows it).
    Avg,
    /// The median: the 50th percentile.
    Med,
    /// The `q`th percentile, `0 ≤ q ≤ 100` (`p95`, `p99.9`).
    Percentile(f64),
}

impl Aggregation {
    /// The aggregation a bare burst milestone (`full_capacity<8s`) gets: the median.
    pub const MILESTONE_DEFAULT: Aggregation = Aggregation::Med;

    /// The quantile (0..=1) for [`crate::analysis::percentile::percentile`], `None` for
    /// min, max and avg.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Aggregation::Med => Some(0.5),
            Aggregation::Percentile(q) => Some(q / 100.0),
            _ => None,
        }
    }
}

impl fmt::Display for Aggregation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Aggregation::Min => f.write_str("min"),
            Aggregation::Max => f.write_str("max"),
            Aggregation::Avg => f.write_str("avg"),
            Aggregation::Med => f.write_str("med"),
            Aggregation::Percentile(q) => write!(f, "p{q}"),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Every operator, as written.
    pub const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    /// Whether `measured OP limit` holds.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
            Op::Ne => measured != limit,
        }
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the aggregated value is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// An absolute duration (`2s`, `800ms`).
    Duration {
        /// Its value.
        duration: Duration,
        /// The number and unit as written (`1.5`, `s`), for showing it without rounding.
        number: String,
        /// The unit as written.
        unit: String,
    },
    /// A change relative to the baseline, in percent: `+10%` is `10.0`, `-5%` is `-5.0`.
    Relative(f64),
}

impl Limit {
    /// The limit in the unit measured values use: µs for a duration, percent for a change.
    pub fn value(&self) -> f64 {
        match self {
            Limit::Duration { duration, .. } => duration.as_nanos() as f64 / 1000.0,
            Limit::Relative(percent) => *percent,
        }
    }
}

impl fmt::Display for Limit {
    /// `2 s`, `1.5 s`, `800 ms`, `+10 %`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Duration { number, unit, .. } => write!(f, "{number} {unit}"),
            Limit::Relative(percent) => write!(f, "{percent:+} %"),
        }
    }
}

/// A threshold, such as `p95(total{variant:slim})<2s`: parsed by [`super::parse()`] or
/// [`super::parse_keyed`]; [`fmt::Display`] gives back the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The text as written (see [`Threshold::source`]).
    pub(super) source: String,
    /// What is measured.
    pub metric: Metric,
    /// The one variant it applies to; every variant when `None`.
    pub variant: Option<String>,
    /// How the values become one number.
    pub aggregation: Aggregation,
    /// The comparison.
    pub op: Op,
    /// The limit.
    pub limit: Limit,
}

impl Threshold {
    /// The text it was parsed from: the expression for [`super::parse()`], `KEY: EXPR` for
    /// [`super::parse_keyed`] (`total{variant:slim}: p95<2s`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the limit is a change relative to a baseline run (`<+10%`).
    pub fn is_relative(&self) -> bool {
        matches!(self.limit, Limit::Relative(_))
    }

    /// The condition as shown beside a measured value: `< 2 s`, `<= +10 %`.
    pub fn condition(&self) -> String {
        format!("{} {}", self.op, self.limit)
    }

    /// The same threshold in the command-line form, whichever form it was written in:
    /// `p95(total{variant:slim})<2s`.
    pub fn canonical(&self) -> String {
        let filter = self
            .variant
            .as_ref()
            .map(|v| format!("{{variant:{v}}}"))
            .unwrap_or_default();
        let limit = match &self.limit {
            Limit::Duration { number, unit, .. } => format!("{number}{unit}"),
            Limit::Relative(percent) => format!("{percent:+}%"),
        };
        format!(
            "{}({}{filter}){}{limit}",
            self.aggregation, self.metric, self.op
        )
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
