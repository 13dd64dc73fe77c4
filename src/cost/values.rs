//! Field checks run while deserializing a cost file: a value outside its bound fails right
//! there, so the error carries the value's `line:column` and key path.

use serde::de::Error;
use serde::{Deserialize, Deserializer};

use crate::scenario::limits::{MAX_RATE_BYTES_PER_SEC, MIN_RATE_BYTES_PER_SEC};
use crate::units::{ByteSize, Rate};

/// A number as written: TOML integers and floats both.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

/// Most of any daily count (builds, deploys, bursts, moves): a billion.
pub const MAX_COUNT: f64 = 1e9;

/// A count per day or per build: a finite number from 0 to [`MAX_COUNT`] (fractions allowed:
/// an average).
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = match Number::deserialize(d) {
        Ok(Number::Int(i)) => i as f64,
        Ok(Number::Float(f)) => f,
        Err(_) => return Err(D::Error::custom("expected a number such as 40 or 2.5")),
    };
    if v.is_finite() && (0.0..=MAX_COUNT).contains(&v) {
        Ok(v)
    } else {
        Err(D::Error::custom(format!(
            "{v}: expected a number from 0 to {MAX_COUNT:e}"
        )))
    }
}

/// A whole number of nodes, replicas, jobs or images: 1 to 1,000,000.
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = match Number::deserialize(d) {
        Ok(Number::Int(i)) => i,
        _ => return Err(D::Error::custom("expected a whole number such as 10")),
    };
    u32::try_from(v)
        .ok()
        .filter(|v| (1..=1_000_000).contains(v))
        .ok_or_else(|| D::Error::custom(format!("{v}: expected a whole number from 1 to 1000000")))
}

/// A share from 0 to 1: `0.95` or `"95%"`.
pub fn share<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Share {
        Int(i64),
        Float(f64),
        Text(String),
    }
    let expected = "expected a share from 0 to 1 (0.95) or a percentage (\"95%\")";
    let v = match Share::deserialize(d) {
        Ok(Share::Int(i)) => i as f64,
        Ok(Share::Float(f)) => f,
        Ok(Share::Text(t)) => match t.trim().strip_suffix('%').map(|n| n.trim().parse::<f64>()) {
            Some(Ok(p)) => p / 100.0,
            _ => {
                return Err(D::Error::custom(format!(
                    "{:?}: {expected}",
                    crate::units::clip(&t)
                )))
            }
        },
        Err(_) => return Err(D::Error::custom(expected)),
    };
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(D::Error::custom(format!("{v}: {expected}")))
    }
}

/// A price in money per unit: a finite number, 0 or more.
pub fn price<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = match Number::deserialize(d) {
        Ok(Number::Int(i)) => i as f64,
        Ok(Number::Float(f)) => f,
        Err(_) => return Err(D::Error::custom("expected a price such as 0.09")),
    };
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(D::Error::custom(format!(
            "{v}: a price cannot be negative; expected 0 or more"
        )))
    }
}

/// Text that may be a negative value: says so plainly instead of "no number".
fn negative(text: &str, what: &str) -> Option<String> {
    text.trim()
        .starts_with('-')
        .then(|| format!("{:?}: {what} cannot be negative", crate::units::clip(text)))
}

/// A size: `"1.1GB"`; never negative.
pub fn size<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let text = String::deserialize(d)
        .map_err(|_| D::Error::custom("expected a size such as \"1.1GB\" or \"150MiB\""))?;
    if let Some(m) = negative(&text, "a size") {
        return Err(D::Error::custom(m));
    }
    text.parse().map_err(D::Error::custom)
}

/// An optional size.
pub fn size_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ByteSize>, D::Error> {
    size(d).map(Some)
}

/// A bandwidth: a rate within the scenario bounds (1 kB/s to 100 GB/s).
pub fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
    let text = String::deserialize(d)
        .map_err(|_| D::Error::custom("expected a rate such as \"100MB/s\" or \"1Gbit/s\""))?;
    if let Some(m) = negative(&text, "a rate") {
        return Err(D::Error::custom(format!("{m}; expected e.g. \"100MB/s\"")));
    }
    let r: Rate = text.parse().map_err(D::Error::custom)?;
    if (MIN_RATE_BYTES_PER_SEC..=MAX_RATE_BYTES_PER_SEC).contains(&r.bytes_per_sec()) {
        Ok(r)
    } else {
        Err(D::Error::custom(format!(
            "{r}: expected at least 1.0 kB/s and at most 100.00 GB/s"
        )))
    }
}

/// An optional bandwidth.
pub fn rate_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rate>, D::Error> {
    rate(d).map(Some)
}

/// A duration of at most a day: `"90s"`, `"4s"`, `"3m"`.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let text = String::deserialize(d)
        .map_err(|_| D::Error::custom("expected a duration such as \"90s\" or \"3m\""))?;
    if let Some(m) = negative(&text, "a duration") {
        return Err(D::Error::custom(m));
    }
    let h: crate::units::HumanDuration = text.parse().map_err(D::Error::custom)?;
    let secs = h.0.as_secs_f64();
    if secs <= 86_400.0 {
        Ok(secs)
    } else {
        Err(D::Error::custom(format!("{h}: expected at most 24 h")))
    }
}
