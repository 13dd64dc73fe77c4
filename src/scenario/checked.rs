//! Field checks run while deserializing (`#[serde(deserialize_with = …)]`): a value outside
//! its bound fails right there, so the error carries the value's `line:column` and key path.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::de::Error;
use serde::{Deserialize, Deserializer};

use super::limits::*;
use crate::units::{clip, format_bytes, ByteSize, HumanDuration, Rate};

/// A bound as people write it: `1 ms`, `10 s`, `10 min`, `1 h`.
pub fn show_duration(d: Duration) -> String {
    let (s, ms) = (d.as_secs(), d.subsec_millis());
    match (s, ms) {
        (0, ms) => format!("{ms} ms"),
        (s, 0) if s % 3600 == 0 => format!("{} h", s / 3600),
        (s, 0) if s % 60 == 0 => format!("{} min", s / 60),
        (s, 0) => format!("{s} s"),
        _ => format!("{} ms", d.as_millis()),
    }
}

/// The rate bounds, as shown in errors.
fn rate_bounds() -> String {
    let show = |b: f64| Rate::from_bytes_per_sec(b).map_or_else(String::new, |r| r.to_string());
    format!(
        "expected at least {} and at most {}",
        show(MIN_RATE_BYTES_PER_SEC),
        show(MAX_RATE_BYTES_PER_SEC)
    )
}

/// `bandwidth`, `node_bandwidth`: a rate within the bounds.
pub fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rate>, D::Error> {
    let r = Rate::deserialize(d)?;
    let bps = r.bytes_per_sec();
    if (MIN_RATE_BYTES_PER_SEC..=MAX_RATE_BYTES_PER_SEC).contains(&bps) {
        Ok(Some(r))
    } else {
        Err(D::Error::custom(format!("{r}: {}", rate_bounds())))
    }
}

/// A duration within `min..=max`.
fn duration_in<'de, D: Deserializer<'de>>(
    d: D,
    min: Duration,
    max: Duration,
) -> Result<HumanDuration, D::Error> {
    let h = HumanDuration::deserialize(d)?;
    if (min..=max).contains(&h.0) {
        return Ok(h);
    }
    let expected = if min.is_zero() {
        format!("expected at most {}", show_duration(max))
    } else {
        format!("expected {} to {}", show_duration(min), show_duration(max))
    };
    Err(D::Error::custom(format!("{h} is out of range: {expected}")))
}

/// `registry.latency`: at most [`MAX_LATENCY`].
pub fn latency<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HumanDuration>, D::Error> {
    duration_in(d, Duration::ZERO, MAX_LATENCY).map(Some)
}

/// `ready.timeout`.
pub fn ready_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, MIN_READY_TIMEOUT, MAX_READY_TIMEOUT)
}

/// `burst.step.every`.
pub fn step_every<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    duration_in(d, MIN_STEP_EVERY, MAX_STEP_EVERY)
}

/// `ready.status`: an HTTP status.
pub fn status<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let s = u16::deserialize(d)?;
    if READY_STATUS.contains(&s) {
        return Ok(s);
    }
    Err(D::Error::custom(format!(
        "status = {s}: expected an HTTP status, {} to {}",
        READY_STATUS.start(),
        READY_STATUS.end()
    )))
}

/// `repetitions`: 1 to [`MAX_REPETITIONS`].
pub fn repetitions<'de, D: Deserializer<'de>>(d: D) -> Result<NonZeroU32, D::Error> {
    let n = NonZeroU32::deserialize(d)?;
    if n.get() <= MAX_REPETITIONS {
        return Ok(n);
    }
    Err(D::Error::custom(format!(
        "repetitions = {n}: expected 1 to {MAX_REPETITIONS}"
    )))
}

/// `sim.shared_cores`: a number of cores above 0, at most [`MAX_SHARED_CORES`].
pub fn shared_cores<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let cores = f64::deserialize(d)?;
    if cores > 0.0 && cores <= MAX_SHARED_CORES {
        return Ok(Some(cores));
    }
    Err(D::Error::custom(format!(
        "shared_cores = {cores}: expected the cores of the one host the nodes share, above 0 and at most {MAX_SHARED_CORES}"
    )))
}

/// `synth.size`: [`MIN_SYNTH_SIZE`] to [`MAX_SYNTH_SIZE`].
pub fn synth_size<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let size = ByteSize::deserialize(d)?;
    if (MIN_SYNTH_SIZE..=MAX_SYNTH_SIZE).contains(&size.0) {
        return Ok(size);
    }
    Err(D::Error::custom(format!(
        "size = {} ({} bytes): expected {} to {}",
        size,
        size.0,
        format_bytes(MIN_SYNTH_SIZE),
        format_bytes(MAX_SYNTH_SIZE)
    )))
}

/// Why `text` is not an acceptable string of at most `max` bytes, if it is not.
fn text_problem(text: &str, max: usize) -> Option<String> {
    if text.len() > max {
        Some(format!(
            "{:?} is {} bytes long: expected at most {max}",
            clip(text),
            text.len()
        ))
    } else if text.contains('\0') {
        Some(format!("{:?} contains a NUL character", clip(text)))
    } else {
        None
    }
}

/// A string of at most [`MAX_TEXT_LEN`] bytes without NUL.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match text_problem(&s, MAX_TEXT_LEN) {
            Some(problem) => Err(D::Error::custom(problem)),
            None => Ok(Text(s)),
        }
    }
}

/// A bounded string (paths, hosts, build-arg values).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0)
}

/// An optional bounded string.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    text(d).map(Some)
}

/// A list of bounded strings.
pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<Text>::deserialize(d)?;
    Ok(list.into_iter().map(|t| t.0).collect())
}

/// `image`, `registry`: a non-empty reference of at most [`MAX_REF_LEN`] bytes, no spaces.
pub fn reference<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let r = String::deserialize(d)?;
    let problem = if r.is_empty() {
        Some("the image reference is empty".to_string())
    } else if r.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!(
            "{:?} contains spaces or control characters",
            clip(&r)
        ))
    } else {
        text_problem(&r, MAX_REF_LEN)
    };
    match problem {
        Some(p) => Err(D::Error::custom(format!(
            "{p}; expected e.g. \"name:tag\" or \"host:port/repo:tag\""
        ))),
        None => Ok(Some(r)),
    }
}

/// Whether `name` is a POSIX-style variable name: ASCII letters, digits and `_`, not starting
/// with a digit, at most [`MAX_ENV_NAME_LEN`] bytes.
pub fn is_env_name(name: &str) -> bool {
    name.len() <= MAX_ENV_NAME_LEN
        && name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An environment variable or build-arg name (see [`is_env_name`]).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct EnvName(String);

impl<'de> Deserialize<'de> for EnvName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if is_env_name(&name) {
            return Ok(EnvName(name));
        }
        Err(D::Error::custom(format!(
            "invalid variable name {:?}: use ASCII letters, digits and '_', not starting with a digit (at most {MAX_ENV_NAME_LEN} characters)",
            clip(&name)
        )))
    }
}

impl fmt::Debug for EnvName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `env`, `build_args`: checked names to bounded values.
pub fn vars<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<EnvName, Text>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k.0, v.0)).collect())
}
