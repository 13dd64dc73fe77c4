//! The calculator's answer: figures per variant with their provenance, and the prices used.

use serde::Serialize;

use super::input::NetworkPath;

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// From a run (`from_run`) or the images a calibration was fitted on.
    Measured,
    /// Transfer time at the bandwidth, no latency or extraction: a lower bound.
    WireFloor,
    /// The cold-start model with a calibration's parameters.
    Calibrated,
    /// The cold-start model with its default parameters (no calibration given).
    Uncalibrated,
    /// Arithmetic on the given volumes, sizes and prices.
    Given,
}

impl Provenance {
    /// As shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::Measured => "measured",
            Provenance::WireFloor => "modelled (wire floor)",
            Provenance::Calibrated => "modelled (calibrated model)",
            Provenance::Uncalibrated => "modelled (uncalibrated)",
            Provenance::Given => "given",
        }
    }

    /// The labels of `each` (one per variant), once each, in order: `measured / given`.
    pub fn labels(each: &[Provenance]) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for p in each {
            if !seen.contains(&p.label()) {
                seen.push(p.label());
            }
        }
        seen.join(" / ")
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
    /// Where each value comes from, one per variant.
    pub provenance: Vec<Provenance>,
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
    /// The burst model in force, in one line.
    pub burst_model: String,
    /// Per variant, where its sizes and layers come from.
    pub images: Vec<String>,
    /// The what-ifs applied, as shown.
    pub what_ifs: Vec<String>,
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
