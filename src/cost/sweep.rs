//! `--sweep KEY=FROM..TO`: one input stepped over a range (log-spaced for sizes and rates,
//! evenly for counts), the calculator run at each step.

use std::str::FromStr;

use serde::Serialize;

use super::calc::calculate;
use super::load::Loaded;
use super::whatif::{apply, Key, Kind, Value, WhatIf};
use crate::units::{ByteSize, Rate};

/// Steps when `--steps` is not given.
pub const DEFAULT_STEPS: usize = 8;
/// Most steps a sweep may take (each runs the whole calculator and the burst model).
pub const MAX_STEPS: usize = 100;

/// One `--sweep KEY=FROM..TO`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepSpec {
    /// What is stepped.
    pub key: Key,
    /// The kind of its values.
    pub kind: Kind,
    /// First value.
    pub from: Value,
    /// Last value.
    pub to: Value,
}

impl FromStr for SweepSpec {
    type Err = String;

    fn from_str(arg: &str) -> Result<SweepSpec, String> {
        let syntax = "expected KEY=FROM..TO such as bandwidth=50MB/s..1GB/s";
        let (name, range) = arg.split_once('=').ok_or(syntax)?;
        let (key, kind) = Key::of(name)?;
        let (from, to) = range
            .split_once("..")
            .ok_or_else(|| format!("{}: {syntax}", key.name()))?;
        let parse = |t: &str| Value::parse(kind, t).map_err(|m| format!("{}: {m}", key.name()));
        let (from, to) = (parse(from)?, parse(to)?);
        let log = matches!(kind, Kind::Size | Kind::Rate);
        if log && (from.number() <= 0.0 || to.number() <= 0.0) {
            return Err(format!(
                "{}: a sweep of sizes or rates is log-spaced, so both ends must be above 0",
                key.name()
            ));
        }
        Ok(SweepSpec {
            key,
            kind,
            from,
            to,
        })
    }
}

impl SweepSpec {
    /// `steps` values from `from` to `to` (whole numbers rounded, repeats dropped).
    pub fn values(&self, steps: usize) -> Vec<Value> {
        let n = steps.clamp(2, MAX_STEPS);
        let (a, b) = (self.from.number(), self.to.number());
        let at = |k: usize| {
            let f = k as f64 / (n - 1) as f64;
            match self.kind {
                Kind::Size | Kind::Rate => a * (b / a).powf(f),
                Kind::Whole | Kind::Count => a + (b - a) * f,
            }
        };
        let mut out: Vec<Value> = Vec::with_capacity(n);
        for k in 0..n {
            let x = at(k);
            let v = match self.kind {
                Kind::Size => Value::Size(ByteSize(x.round() as u64)),
                Kind::Rate => Rate::from_bytes_per_sec(x).map_or(self.from, Value::Rate),
                Kind::Whole => Value::Whole(x.round() as u32),
                Kind::Count => Value::Count(x),
            };
            if out.last() != Some(&v) {
                out.push(v);
            }
        }
        out
    }

    /// The unit of [`SweepRow::x`]: MB, MB/s or a count.
    pub fn unit(&self) -> &'static str {
        match self.kind {
            Kind::Size => "MB",
            Kind::Rate => "MB/s",
            Kind::Whole | Kind::Count => "",
        }
    }
}

/// One step: the value and each variant's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// The value as shown (`50.0 MB/s`).
    pub value: String,
    /// The value in [`SweepSpec::unit`] (for the chart's x axis).
    pub x: f64,
    /// Time to full capacity per burst (s), per variant.
    pub full_seconds: Vec<f64>,
    /// Registry traffic per day (GB), per variant.
    pub traffic_gb_per_day: Vec<f64>,
    /// Total cost per day, per variant.
    pub cost_per_day: Vec<f64>,
}

/// A sweep's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepResult {
    /// The key stepped.
    pub key: String,
    /// Unit of each row's `x`.
    pub unit: String,
    /// True when the steps are log-spaced.
    pub log: bool,
    /// Currency of the cost columns.
    pub currency: String,
    /// Variant names.
    pub variants: Vec<String>,
    /// Provenance label of the time to full capacity.
    pub timing: String,
    /// What-ifs in force under the sweep.
    pub what_ifs: Vec<String>,
    /// One row per step.
    pub rows: Vec<SweepRow>,
}

/// Runs the calculator at each of `steps` values of `spec` over `loaded`.
pub fn sweep(loaded: &Loaded, spec: &SweepSpec, steps: usize) -> SweepResult {
    let scale = match spec.kind {
        Kind::Size | Kind::Rate => 1e6,
        Kind::Whole | Kind::Count => 1.0,
    };
    let rows = spec
        .values(steps)
        .into_iter()
        .map(|value| {
            let mut step = loaded.clone();
            apply(
                &mut step,
                &WhatIf {
                    key: spec.key,
                    value,
                },
            );
            let r = calculate(&step);
            let values = |key: &str| r.figure(key).map(|f| f.values.clone()).unwrap_or_default();
            SweepRow {
                value: value.to_string(),
                x: value.number() / scale,
                full_seconds: values("burst_full_seconds"),
                traffic_gb_per_day: values("traffic_per_day"),
                cost_per_day: values("total_cost"),
            }
        })
        .collect();
    SweepResult {
        key: spec.key.name().to_string(),
        unit: spec.unit().to_string(),
        log: matches!(spec.kind, Kind::Size | Kind::Rate),
        currency: loaded.pricing.currency.clone(),
        variants: loaded.images.iter().map(|v| v.name.clone()).collect(),
        timing: loaded.model.provenance.label().to_string(),
        what_ifs: loaded.what_ifs.clone(),
        rows,
    }
}
