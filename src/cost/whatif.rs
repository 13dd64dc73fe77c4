//! `--what-if KEY=VALUE`: one input changed after the file is read, checked like the file's
//! own value and recorded in the result.

use std::fmt;
use std::str::FromStr;

use serde::de::value::{Error as ValueError, F64Deserializer, I64Deserializer, StrDeserializer};

use super::load::Loaded;
use super::values;
use crate::units::{ByteSize, Rate};

/// A key a what-if or a sweep may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The last variant's compressed size (uncompressed and layers scale with it).
    Size,
    /// Deploy nodes and burst nodes both (the cluster's size).
    Nodes,
    /// Fresh nodes per burst only.
    BurstNodes,
    /// Nodes each deploy pulls on only.
    DeployNodes,
    /// Replicas per burst.
    Replicas,
    /// The registry's egress.
    Bandwidth,
    /// One node's downlink.
    NodeBandwidth,
    /// CI builds per day.
    Builds,
    /// Bursts per day.
    Bursts,
    /// Deploys per day.
    Deploys,
}

/// The kind of value a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A size (`100MB`).
    Size,
    /// A rate (`1GB/s`).
    Rate,
    /// A whole number of nodes or replicas.
    Whole,
    /// A number per day.
    Count,
}

/// Every key: name, key, kind, what it changes.
pub const KEYS: [(&str, Key, Kind, &str); 10] = [
    (
        "size",
        Key::Size,
        Kind::Size,
        "the last variant's compressed size, e.g. 100MB",
    ),
    (
        "nodes",
        Key::Nodes,
        Kind::Whole,
        "deploy nodes and burst nodes",
    ),
    (
        "burst_nodes",
        Key::BurstNodes,
        Kind::Whole,
        "fresh nodes per burst",
    ),
    (
        "deploy_nodes",
        Key::DeployNodes,
        Kind::Whole,
        "nodes per deploy",
    ),
    ("replicas", Key::Replicas, Kind::Whole, "replicas per burst"),
    (
        "bandwidth",
        Key::Bandwidth,
        Kind::Rate,
        "registry egress, e.g. 1GB/s",
    ),
    (
        "node_bandwidth",
        Key::NodeBandwidth,
        Kind::Rate,
        "one node's downlink",
    ),
    ("builds", Key::Builds, Kind::Count, "CI builds per day"),
    ("bursts", Key::Bursts, Kind::Count, "bursts per day"),
    ("deploys", Key::Deploys, Kind::Count, "deploys per day"),
];

impl Key {
    /// The key of `name`, or what is accepted.
    pub fn of(name: &str) -> Result<(Key, Kind), String> {
        KEYS.iter()
            .find(|(n, ..)| *n == name.trim())
            .map(|&(_, k, kind, _)| (k, kind))
            .ok_or_else(|| {
                format!(
                    "unknown key {:?}; accepted: {}",
                    crate::units::clip(name),
                    accepted()
                )
            })
    }

    /// Its name as written.
    pub fn name(self) -> &'static str {
        KEYS.iter()
            .find(|(_, k, ..)| *k == self)
            .map_or("", |(n, ..)| n)
    }
}

/// `size=SIZE (…), nodes=N (…), …`.
pub fn accepted() -> String {
    KEYS.iter()
        .map(|(n, _, kind, what)| {
            let v = match kind {
                Kind::Size => "SIZE",
                Kind::Rate => "RATE",
                Kind::Whole | Kind::Count => "N",
            };
            format!("{n}={v} ({what})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value of a what-if.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Bytes.
    Size(ByteSize),
    /// Bytes per second.
    Rate(Rate),
    /// Nodes or replicas.
    Whole(u32),
    /// Per day.
    Count(f64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Size(s) => write!(f, "{s}"),
            Value::Rate(r) => write!(f, "{r}"),
            Value::Whole(n) => write!(f, "{n}"),
            Value::Count(c) => write!(f, "{c}"),
        }
    }
}

impl Value {
    /// `text` as a value of `kind`, with the cost file's own checks.
    pub fn parse(kind: Kind, text: &str) -> Result<Value, String> {
        let text = text.trim();
        let e = |e: ValueError| e.to_string();
        match kind {
            Kind::Size => values::size(StrDeserializer::<ValueError>::new(text))
                .map(Value::Size)
                .map_err(e),
            Kind::Rate => values::rate(StrDeserializer::<ValueError>::new(text))
                .map(Value::Rate)
                .map_err(e),
            Kind::Whole => match text.parse::<i64>() {
                Ok(i) => values::whole(I64Deserializer::<ValueError>::new(i))
                    .map(Value::Whole)
                    .map_err(e),
                Err(_) => Err(format!(
                    "{:?}: expected a whole number such as 500",
                    crate::units::clip(text)
                )),
            },
            Kind::Count => match text.parse::<f64>() {
                Ok(v) => values::count(F64Deserializer::<ValueError>::new(v))
                    .map(Value::Count)
                    .map_err(e),
                Err(_) => Err(format!(
                    "{:?}: expected a number such as 40 or 2.5",
                    crate::units::clip(text)
                )),
            },
        }
    }

    /// The value as a number: bytes, bytes/s, or the count.
    pub fn number(self) -> f64 {
        match self {
            Value::Size(s) => s.0 as f64,
            Value::Rate(r) => r.bytes_per_sec(),
            Value::Whole(n) => f64::from(n),
            Value::Count(c) => c,
        }
    }
}

/// One `--what-if KEY=VALUE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhatIf {
    /// What it changes.
    pub key: Key,
    /// To what.
    pub value: Value,
}

impl FromStr for WhatIf {
    type Err = String;

    fn from_str(arg: &str) -> Result<WhatIf, String> {
        let (name, text) = arg.split_once('=').ok_or_else(|| {
            format!(
                "expected KEY=VALUE such as size=100MB; accepted: {}",
                accepted()
            )
        })?;
        let (key, kind) = Key::of(name)?;
        let value = Value::parse(kind, text).map_err(|m| format!("{}: {m}", key.name()))?;
        Ok(WhatIf { key, value })
    }
}

/// Applies `w` to `loaded` and records what it changed.
pub fn apply(loaded: &mut Loaded, w: &WhatIf) {
    let t = &mut loaded.input.traffic;
    let was = match (w.key, w.value) {
        (Key::Size, Value::Size(s)) => match loaded.images.last_mut() {
            Some(image) => {
                let was = format!("{}: {}", image.name, ByteSize(image.compressed));
                image.scale_to(s.0);
                was
            }
            None => String::new(),
        },
        (Key::Nodes, Value::Whole(n)) => {
            let was = format!(
                "deploy nodes {}, burst nodes {}",
                t.deploy_nodes, t.burst_nodes
            );
            (t.deploy_nodes, t.burst_nodes) = (n, n);
            was
        }
        (Key::BurstNodes, Value::Whole(n)) => swap(&mut t.burst_nodes, n),
        (Key::DeployNodes, Value::Whole(n)) => swap(&mut t.deploy_nodes, n),
        (Key::Replicas, Value::Whole(n)) => swap(&mut t.burst_replicas, n),
        (Key::Bandwidth, Value::Rate(r)) => swap(&mut loaded.input.registry.bandwidth, r),
        (Key::NodeBandwidth, Value::Rate(r)) => loaded
            .input
            .registry
            .node_bandwidth
            .replace(r)
            .map_or("unlimited".into(), |r| r.to_string()),
        (Key::Builds, Value::Count(c)) => swap(&mut t.builds_per_day, c),
        (Key::Bursts, Value::Count(c)) => swap(&mut t.bursts_per_day, c),
        (Key::Deploys, Value::Count(c)) => swap(&mut t.deploys_per_day, c),
        // `FromStr` and the sweep pair each key with its kind; nothing else reaches here.
        _ => return,
    };
    loaded
        .what_ifs
        .push(format!("{}={} (was {was})", w.key.name(), w.value));
}

/// Sets `slot` to `value`, returning the old value as shown.
fn swap<T: fmt::Display>(slot: &mut T, value: T) -> String {
    std::mem::replace(slot, value).to_string()
}
