//! What a comparison or a threshold looks at: a cold-start phase, or a burst milestone.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::results::Phase;

/// A burst milestone (one value per measured burst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// Burst start → first replica ready.
    FirstReady,
    /// Burst start → half the replicas ready.
    HalfCapacity,
    /// Burst start → every replica ready.
    FullCapacity,
}

impl Milestone {
    /// Every milestone, in order.
    pub const ALL: [Milestone; 3] = [
        Milestone::FirstReady,
        Milestone::HalfCapacity,
        Milestone::FullCapacity,
    ];

    /// The name used in expressions and tables.
    pub fn name(self) -> &'static str {
        match self {
            Milestone::FirstReady => "first_ready",
            Milestone::HalfCapacity => "half_capacity",
            Milestone::FullCapacity => "full_capacity",
        }
    }
}

/// A phase of each sample, or a milestone of each burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Metric {
    /// A phase of every summarized sample (burst replicas included).
    Phase(Phase),
    /// A milestone of every measured burst.
    Burst(Milestone),
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 8] = [
        Metric::Phase(Phase::Pull),
        Metric::Phase(Phase::Create),
        Metric::Phase(Phase::Start),
        Metric::Phase(Phase::FirstRequest),
        Metric::Phase(Phase::Total),
        Metric::Burst(Milestone::FirstReady),
        Metric::Burst(Milestone::HalfCapacity),
        Metric::Burst(Milestone::FullCapacity),
    ];

    /// The name used in expressions, tables and exports (`pull`, `full_capacity`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Phase(p) => p.name(),
            Metric::Burst(m) => m.name(),
        }
    }

    /// The metric called `name`.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
