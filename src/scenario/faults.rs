//! `[registry.faults]` (and `[registry.faults.node.N]`): a flaky registry on purpose. Values are
//! checked while parsing (each error at its value's `line:column`); [`check`] then checks what
//! spans several keys, and [`FaultsSpec::config`] turns the tables into the registry's
//! [`FaultConfig`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;

use super::checked::show_duration;
use super::limits::*;
use super::Invalid;
use crate::registry::faults::{ErrorTargets, Partial, RateLimit, Ttfb};
use crate::registry::{FaultConfig, FaultSet};
use crate::units::HumanDuration;

/// `[registry.faults]`: the registry-wide faults, and per-node tables.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsSpec {
    /// Share of targeted `GET`s answered 500, 502 or 503.
    #[serde(default, deserialize_with = "fraction")]
    pub error_rate: f64,
    /// Which `GET`s `error_rate` hits (default both).
    #[serde(default, deserialize_with = "targets")]
    pub on: Option<Vec<FaultTarget>>,
    /// Docker Hub's pull limit: 429 `TOOMANYREQUESTS` once `manifest_gets` were served in the
    /// window.
    pub rate_limit: Option<RateLimitSpec>,
    /// A share of blob `GET`s whose connection is reset part-way.
    pub reset: Option<PartialSpec>,
    /// A share of blob `GET`s paused part-way.
    pub stall: Option<StallSpec>,
    /// Time to first byte of every response.
    pub ttfb: Option<Spanned<TtfbSpec>>,
    /// Node number → that node's port's own faults, replacing these there (bursts).
    #[serde(default)]
    pub node: BTreeMap<String, Spanned<NodeFaultsSpec>>,
}

/// `[registry.faults.node.N]`: one node's faults (the same keys, no `node`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NodeFaultsSpec {
    /// See [`FaultsSpec::error_rate`].
    #[serde(default, deserialize_with = "fraction")]
    pub error_rate: f64,
    /// See [`FaultsSpec::on`].
    #[serde(default, deserialize_with = "targets")]
    pub on: Option<Vec<FaultTarget>>,
    /// See [`FaultsSpec::rate_limit`]; this node's own window.
    pub rate_limit: Option<RateLimitSpec>,
    /// See [`FaultsSpec::reset`].
    pub reset: Option<PartialSpec>,
    /// See [`FaultsSpec::stall`].
    pub stall: Option<StallSpec>,
    /// See [`FaultsSpec::ttfb`].
    pub ttfb: Option<Spanned<TtfbSpec>>,
}

/// What `error_rate` hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// Manifest `GET`s.
    Manifest,
    /// Blob `GET`s.
    Blob,
}

/// `rate_limit = { manifest_gets = 100, window = "6h", retry_after = "60s" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Manifest `GET`s served per window.
    #[serde(deserialize_with = "manifest_gets")]
    pub manifest_gets: u32,
    /// The sliding window.
    #[serde(deserialize_with = "window")]
    pub window: HumanDuration,
    /// `Retry-After` of each 429 (default 60 s).
    #[serde(default = "default_retry_after", deserialize_with = "retry_after")]
    pub retry_after: HumanDuration,
}

fn default_retry_after() -> HumanDuration {
    HumanDuration(Duration::from_secs(60))
}

/// `reset = { rate = 0.02, after = 0.5 }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartialSpec {
    /// Share of blob `GET`s hit.
    #[serde(deserialize_with = "fraction")]
    pub rate: f64,
    /// Fraction of the body sent before the fault (default 0.5).
    #[serde(default = "half", deserialize_with = "before_end")]
    pub after: f64,
}

fn half() -> f64 {
    0.5
}

/// `stall = { rate = 0.05, after = 0.5, for = "2s" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StallSpec {
    /// Share of blob `GET`s hit.
    #[serde(deserialize_with = "fraction")]
    pub rate: f64,
    /// Fraction of the body sent before the pause (default 0.5).
    #[serde(default = "half", deserialize_with = "before_end")]
    pub after: f64,
    /// How long the body pauses.
    #[serde(rename = "for", deserialize_with = "stall_for")]
    pub pause: HumanDuration,
}

/// `ttfb = { fixed = "50ms" }`, `{ uniform = ["10ms", "100ms"] }` or
/// `{ lognormal = { p50 = "20ms", p99 = "400ms" } }`: exactly one.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TtfbSpec {
    /// Always this long.
    #[serde(default, deserialize_with = "opt_ttfb")]
    pub fixed: Option<HumanDuration>,
    /// Uniform between the two.
    #[serde(default, deserialize_with = "uniform")]
    pub uniform: Option<[HumanDuration; 2]>,
    /// Log-normal with this median and 99th percentile.
    pub lognormal: Option<LogNormalSpec>,
}

/// `lognormal = { p50 = "20ms", p99 = "400ms" }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalSpec {
    /// Median.
    #[serde(deserialize_with = "ttfb_value")]
    pub p50: HumanDuration,
    /// 99th percentile (at least the median).
    #[serde(deserialize_with = "ttfb_value")]
    pub p99: HumanDuration,
}

/// A fraction from 0 to 1.
fn fraction<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let x = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&x) {
        return Ok(x);
    }
    Err(D::Error::custom(format!(
        "{x}: expected a share from 0 to 1 (0.02 is 2 %)"
    )))
}

/// `after`: a fraction from 0 to below 1 (the fault must come before the body's end).
fn before_end<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let x = f64::deserialize(d)?;
    if (0.0..1.0).contains(&x) {
        return Ok(x);
    }
    Err(D::Error::custom(format!(
        "after = {x}: expected the fraction of the body sent before the fault, from 0 to below 1"
    )))
}

/// `on`: a non-empty list of `"manifest"`, `"blob"`.
fn targets<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<FaultTarget>>, D::Error> {
    let list = Vec::<FaultTarget>::deserialize(d)?;
    if list.is_empty() {
        return Err(D::Error::custom(
            "on = []: expected \"manifest\", \"blob\" or both",
        ));
    }
    Ok(Some(list))
}

fn manifest_gets<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if (1..=MAX_RATE_LIMIT_GETS).contains(&n) {
        return Ok(n);
    }
    Err(D::Error::custom(format!(
        "manifest_gets = {n}: expected 1 to {MAX_RATE_LIMIT_GETS}"
    )))
}

/// A duration within `min..=max`.
fn duration_in<'de, D: Deserializer<'de>>(
    d: D,
    key: &str,
    min: Duration,
    max: Duration,
) -> Result<HumanDuration, D::Error> {
    let h = HumanDuration::deserialize(d)?;
    if (min..=max).contains(&h.0) {
        return Ok(h);
    }
    let expected = if min.is_zero() {
        format!("at most {}", show_duration(max))
    } else {
        format!("{} to {}", show_duration(min), show_duration(max))
    };
    Err(D::Error::custom(format!(
        "{key} = {h} is out of range: expected {expected}"
    )))
}

fn window<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, "window", MIN_RATE_LIMIT_WINDOW, MAX_RATE_LIMIT_WINDOW)
}

fn retry_after<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, "retry_after", MIN_RETRY_AFTER, MAX_RETRY_AFTER)
}

fn stall_for<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, "for", MIN_STALL, MAX_STALL)
}

fn ttfb_value<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, "ttfb", Duration::ZERO, MAX_TTFB)
}

fn opt_ttfb<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HumanDuration>, D::Error> {
    ttfb_value(d).map(Some)
}

/// Two durations within the ttfb bound, the first at most the second.
fn uniform<'de, D: Deserializer<'de>>(d: D) -> Result<Option<[HumanDuration; 2]>, D::Error> {
    let [lo, hi] = <[HumanDuration; 2]>::deserialize(d)?;
    for h in [lo, hi] {
        if h.0 > MAX_TTFB {
            return Err(D::Error::custom(format!(
                "ttfb = {h} is out of range: expected at most {}",
                show_duration(MAX_TTFB)
            )));
        }
    }
    if lo.0 > hi.0 {
        return Err(D::Error::custom(format!(
            "uniform = [{lo}, {hi}]: expected the shorter first"
        )));
    }
    Ok(Some([lo, hi]))
}

/// What spans several keys: one `ttfb` form, a lognormal's p99 ≥ p50, node numbers within the
/// run's nodes (`nodes`), no node tables on a cluster (its nodes share one port).
pub fn check(faults: &FaultsSpec, nodes: u32, cluster: bool) -> Result<(), Invalid> {
    check_ttfb(faults.ttfb.as_ref(), "registry.faults.ttfb")?;
    for (key, set) in &faults.node {
        let field = format!("registry.faults.node.{key}");
        let problem = match key.parse::<u32>() {
            _ if cluster => Some("a cluster's nodes all pull through the registry's one address: per-node faults need a burst of Docker or containerd nodes; use [registry.faults] itself".to_string()),
            Ok(n) if n < nodes => None,
            Ok(n) => Some(format!("node {n}: the run has {nodes} node(s), numbered from 0 ([burst] nodes)")),
            Err(_) => Some(format!("node {key:?}: expected a node number (0, 1, …)")),
        };
        if let Some(problem) = problem {
            return Err((Some(set.span()), field, problem));
        }
        check_ttfb(set.get_ref().ttfb.as_ref(), &format!("{field}.ttfb"))?;
    }
    Ok(())
}

fn check_ttfb(ttfb: Option<&Spanned<TtfbSpec>>, field: &str) -> Result<(), Invalid> {
    let Some(t) = ttfb else {
        return Ok(());
    };
    let spec = t.get_ref();
    let forms = [
        spec.fixed.is_some(),
        spec.uniform.is_some(),
        spec.lognormal.is_some(),
    ];
    if forms.iter().filter(|&&f| f).count() != 1 {
        return Err((
            Some(t.span()),
            field.into(),
            "give exactly one of fixed = \"50ms\", uniform = [\"10ms\", \"100ms\"], lognormal = { p50 = \"20ms\", p99 = \"400ms\" }".into(),
        ));
    }
    if let Some(l) = &spec.lognormal {
        if l.p99.0 < l.p50.0 || l.p50.0.is_zero() {
            return Err((
                Some(t.span()),
                format!("{field}.lognormal"),
                format!(
                    "p50 = {}, p99 = {}: expected a median above 0 and a p99 at least the median",
                    l.p50, l.p99
                ),
            ));
        }
    }
    Ok(())
}

/// The fields both tables share, for [`set_of`].
struct Keys<'a> {
    error_rate: f64,
    on: Option<&'a [FaultTarget]>,
    rate_limit: Option<&'a RateLimitSpec>,
    reset: Option<&'a PartialSpec>,
    stall: Option<&'a StallSpec>,
    ttfb: Option<&'a TtfbSpec>,
}

fn set_of(k: Keys<'_>) -> FaultSet {
    let on = k.on.unwrap_or(&[FaultTarget::Manifest, FaultTarget::Blob]);
    FaultSet {
        error_rate: k.error_rate,
        error_on: ErrorTargets {
            manifest: on.contains(&FaultTarget::Manifest),
            blob: on.contains(&FaultTarget::Blob),
        },
        rate_limit: k.rate_limit.map(|r| RateLimit {
            manifest_gets: r.manifest_gets,
            window: r.window.0,
            retry_after: r.retry_after.0,
        }),
        reset: k.reset.map(|p| Partial {
            rate: p.rate,
            after: p.after,
        }),
        stall: k.stall.map(|s| {
            let p = Partial {
                rate: s.rate,
                after: s.after,
            };
            (p, s.pause.0)
        }),
        ttfb: k.ttfb.and_then(|t| {
            if let Some(f) = t.fixed {
                Some(Ttfb::Fixed(f.0))
            } else if let Some([lo, hi]) = t.uniform {
                Some(Ttfb::Uniform(lo.0, hi.0))
            } else {
                t.lognormal.as_ref().map(|l| Ttfb::LogNormal {
                    p50: l.p50.0,
                    p99: l.p99.0,
                })
            }
        }),
    }
}

impl FaultsSpec {
    /// The registry's faults, every decision seeded by `seed`.
    pub fn config(&self, seed: u64) -> FaultConfig {
        let global = set_of(Keys {
            error_rate: self.error_rate,
            on: self.on.as_deref(),
            rate_limit: self.rate_limit.as_ref(),
            reset: self.reset.as_ref(),
            stall: self.stall.as_ref(),
            ttfb: self.ttfb.as_ref().map(|t| t.get_ref()),
        });
        let nodes = self
            .node
            .iter()
            .filter_map(|(key, set)| {
                let n = set.get_ref();
                let set = set_of(Keys {
                    error_rate: n.error_rate,
                    on: n.on.as_deref(),
                    rate_limit: n.rate_limit.as_ref(),
                    reset: n.reset.as_ref(),
                    stall: n.stall.as_ref(),
                    ttfb: n.ttfb.as_ref().map(|t| t.get_ref()),
                });
                Some((key.parse::<usize>().ok()?, set))
            })
            .collect();
        FaultConfig {
            seed,
            global,
            nodes,
        }
    }
}
