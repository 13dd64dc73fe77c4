//! `pricing.toml`: every price the calculator uses, each with where and when it was read. The
//! code never holds a price; these are examples to check and replace.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::values;

/// The prices file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Currency of every price (e.g. "USD").
    pub currency: String,
    /// Registry egress per GB by network path: `same-region`, `cross-region`, `internet`.
    pub egress: BTreeMap<String, PerGb>,
    /// NAT gateway processing per GB (both directions).
    pub nat_gateway: PerGb,
    /// CI runner minute prices by key.
    pub ci_minute: BTreeMap<String, PerMinute>,
    /// Node-hour prices by key.
    pub node_hour: BTreeMap<String, PerHour>,
    /// Registry storage per GB-month.
    pub storage: PerGbMonth,
}

/// A price per GB (10⁹ bytes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerGb {
    /// Money per GB.
    #[serde(deserialize_with = "values::price")]
    pub per_gb: f64,
    /// Where it was read: a URL, or "example, replace".
    pub source: String,
    /// When it was read.
    pub read: String,
}

/// How a CI vendor rounds billed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rounding {
    /// Each job rounded up to whole minutes (GitHub Actions, most vendors).
    PerJobWholeMinutes,
    /// Billed by the second.
    None,
}

/// A CI runner's price per minute.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerMinute {
    /// Money per minute.
    #[serde(deserialize_with = "values::price")]
    pub per_minute: f64,
    /// How billed time is rounded.
    pub rounding: Rounding,
    /// Where it was read: a URL, or "example, replace".
    pub source: String,
    /// When it was read.
    pub read: String,
}

/// A node's price per hour.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerHour {
    /// Money per hour.
    #[serde(deserialize_with = "values::price")]
    pub per_hour: f64,
    /// Where it was read: a URL, or "example, replace".
    pub source: String,
    /// When it was read.
    pub read: String,
}

/// Storage per GB-month.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerGbMonth {
    /// Money per GB-month.
    #[serde(deserialize_with = "values::price")]
    pub per_gb_month: f64,
    /// Where it was read: a URL, or "example, replace".
    pub source: String,
    /// When it was read.
    pub read: String,
}
