//! The calculator's answer: figures per variant with their provenance, and the prices used.

use serde::Serialize;

use super::input::NetworkPath;

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// From a run (a later version reads run directories).
    Measured,
    /// From the physics floor (wire time at the bandwidth); a calibrated model replaces it.
    Modelled,
    /// Arithmetic on the given volumes, sizes and prices.
    Given,
}

impl Provenance {
    /// As shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::Measured => "measured",
            Provenance::Modelled => "modelled (wire floor)",
            Provenance::Given => "given",
        }
    }
}

/// One row: a quantity for every variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// Stable key (`egress_per_day`).
    pub key: &'static str,
    /// Human label.
    pub label: &'static str,
    /// Unit of every value (`GB/day`, `USD/day`, `s`).
    pub unit: String,
    /// Where the values come from.
    pub provenance: Provenance,
    /// One value per variant, in file order.
    pub values: Vec<f64>,
    /// First variant minus the second (what the second saves), when there are two.
    pub difference: Option<f64>,
}

/// A price the result used, with its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceUsed {
    /// What it prices.
    pub what: String,
    /// The amount per unit.
    pub amount: f64,
    /// Its unit (`USD/GB`).
    pub unit: String,
    /// Where it was read.
    pub source: String,
    /// When.
    pub read: String,
}

/// The calculator's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostResult {
    /// Currency of every money figure.
    pub currency: String,
    /// Days in a month for monthly figures.
    pub days_per_month: f64,
    /// The network path priced.
    pub network_path: NetworkPath,
    /// Variant names, in file order.
    pub variants: Vec<String>,
    /// Every figure.
    pub figures: Vec<Figure>,
    /// The prices used.
    pub prices: Vec<PriceUsed>,
}

impl CostResult {
    /// The figure with `key`.
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.key == key)
    }
}

/// Money components of a day, in chart order: (key, label).
pub const COST_COMPONENTS: [(&str, &str); 5] = [
    ("egress_cost", "egress"),
    ("nat_cost", "NAT processing"),
    ("storage_cost", "storage"),
    ("ci_cost", "CI minutes"),
    ("capacity_cost", "capacity lost"),
];
