//! Human units for sizes, rates and durations, as written in scenarios and on the command line.
//!
//! Sizes: `1.1GB`, `150MiB`, `512kB`, `20 B` — SI prefixes (k, M, G, T = 1000ⁿ) and IEC prefixes
//! (Ki, Mi, Gi, Ti = 1024ⁿ) exactly as written; `b`/`bit` means bits, `B` bytes.
//! Rates: a size per second: `100MB/s`, `1Gbit/s`, `512KiB/s`, `800Mbps`.
//! Durations: `20ms`, `1.5s`, `2m`, `500us`, `0`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a unit string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: {reason}; expected e.g. {example}")]
pub struct UnitError {
    kind: &'static str,
    input: String,
    reason: String,
    example: &'static str,
}

impl UnitError {
    fn new(kind: &'static str, input: &str, reason: impl Into<String>) -> Self {
        let example = match kind {
            "size" => "150MB, 1.1GB, 512KiB",
            "rate" => "100MB/s, 1Gbit/s, 512KiB/s",
            _ => "20ms, 1.5s, 2m",
        };
        UnitError {
            kind,
            input: clip(input),
            reason: reason.into(),
            example,
        }
    }
}

/// Most characters of a user's value echoed back in an error message.
pub const MAX_ECHO_CHARS: usize = 80;

/// `text` as echoed in an error: cut after [`MAX_ECHO_CHARS`] characters, with `…`.
pub fn clip(text: &str) -> String {
    clip_to(text, MAX_ECHO_CHARS)
}

/// `text` cut after `max` characters, with `…`.
pub fn clip_to(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// A transfer rate in bytes per second (always > 0).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rate {
    bytes_per_sec: f64,
}

/// A duration parsed from `20ms`-style text (wraps [`std::time::Duration`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

/// Splits `"1.5 GiB"` into (1.5, "GiB").
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let number: String = s[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some((value, s[end..].trim()))
}

/// Bytes per unit for a size unit such as `MB`, `MiB`, `Gbit`, `kb`.
fn size_unit(unit: &str) -> Result<f64, String> {
    let (prefix, base) = if let Some(p) = unit.strip_suffix("bit") {
        (p, 1.0 / 8.0)
    } else if let Some(p) = unit.strip_suffix("bits") {
        (p, 1.0 / 8.0)
    } else if let Some(p) = unit.strip_suffix('B') {
        (p, 1.0)
    } else if let Some(p) = unit.strip_suffix('b') {
        (p, 1.0 / 8.0)
    } else {
        return Err(format!("unknown unit {unit:?}"));
    };
    let multiplier = match prefix {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0_f64.powi(4),
        _ => return Err(format!("unknown unit {unit:?}")),
    };
    Ok(multiplier * base)
}

impl FromStr for ByteSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| UnitError::new("size", s, reason);
        let (value, unit) = split_number(s).ok_or_else(|| err("no number".into()))?;
        if unit.is_empty() {
            return Err(err("missing unit (B, kB, MB, GB, KiB, MiB, GiB…)".into()));
        }
        let bytes = value * size_unit(unit).map_err(err)?;
        if bytes > u64::MAX as f64 {
            return Err(err("too large".into()));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| UnitError::new("rate", s, reason);
        let (value, unit) = split_number(s).ok_or_else(|| err("no number".into()))?;
        let size_part = if let Some(u) = unit.strip_suffix("/s") {
            u
        } else if let Some(u) = unit.strip_suffix("ps") {
            // 800Mbps, 100MBps
            u
        } else {
            return Err(err("missing \"/s\"".into()));
        };
        if size_part.is_empty() {
            return Err(err("missing unit before /s".into()));
        }
        let bytes_per_sec = value * size_unit(size_part).map_err(err)?;
        if bytes_per_sec <= 0.0 {
            return Err(err("must be greater than zero".into()));
        }
        if !bytes_per_sec.is_finite() {
            return Err(err("too large".into()));
        }
        Ok(Rate { bytes_per_sec })
    }
}

impl FromStr for HumanDuration {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| UnitError::new("duration", s, reason);
        let (value, unit) = split_number(s).ok_or_else(|| err("no number".into()))?;
        let seconds_per_unit = match unit {
            "" if value == 0.0 => 0.0,
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "" => return Err(err("missing unit (ms, s, m…)".into())),
            other => return Err(err(format!("unknown unit {other:?}"))),
        };
        Duration::try_from_secs_f64(value * seconds_per_unit)
            .map(HumanDuration)
            .map_err(|e| err(e.to_string()))
    }
}

impl Rate {
    /// A rate of `bytes_per_sec` bytes per second; `None` unless positive and finite.
    pub fn from_bytes_per_sec(bytes_per_sec: f64) -> Option<Rate> {
        (bytes_per_sec.is_finite() && bytes_per_sec > 0.0).then_some(Rate { bytes_per_sec })
    }

    /// Bytes per second.
    pub fn bytes_per_sec(&self) -> f64 {
        self.bytes_per_sec
    }

    /// How long `bytes` take at this rate, saturating at [`Duration::MAX`].
    pub fn time_for(&self, bytes: u64) -> Duration {
        Duration::try_from_secs_f64(bytes as f64 / self.bytes_per_sec).unwrap_or(Duration::MAX)
    }
}

/// Formats a byte count with SI prefixes: `150.0 MB`, `4.2 kB`, `12 B`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

/// Formats a duration for tables: `812 µs`, `12.3 ms`, `1.52 s`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1e3 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_bytes(self.0))
    }
}

impl fmt::Display for Rate {
    /// `100.0 MB/s`, `12 B/s`; under 1 B/s in bits: `1 bit/s`, `0.5 bit/s`, `< 0.001 bit/s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes_per_sec >= 1.0 {
            return write!(f, "{}/s", format_bytes(self.bytes_per_sec.round() as u64));
        }
        let bits = self.bytes_per_sec * 8.0;
        if bits < 0.0005 {
            return f.write_str("< 0.001 bit/s");
        }
        let shown = format!("{bits:.3}");
        write!(
            f,
            "{} bit/s",
            shown.trim_end_matches('0').trim_end_matches('.')
        )
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Implements serde for a unit type: deserialized from its text form, serialized as text too
/// (and sizes additionally accept a plain integer number of bytes).
macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}
text_serde!(Rate);
text_serde!(HumanDuration);

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

struct UnitVisitor<T>(std::marker::PhantomData<T>, &'static str);

impl<T: FromStr<Err = UnitError>> serde::de::Visitor<'_> for UnitVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"150MB\" or a number of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(UnitVisitor(
            std::marker::PhantomData,
            "a rate such as \"100MB/s\"",
        ))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(UnitVisitor(
            std::marker::PhantomData,
            "a duration such as \"20ms\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_si_and_iec_as_written() {
        assert_eq!("1.1GB".parse::<ByteSize>().unwrap().0, 1_100_000_000);
        assert_eq!("150MiB".parse::<ByteSize>().unwrap().0, 150 * 1024 * 1024);
        assert_eq!("512kB".parse::<ByteSize>().unwrap().0, 512_000);
        assert_eq!("512KiB".parse::<ByteSize>().unwrap().0, 524_288);
        assert_eq!("20 B".parse::<ByteSize>().unwrap().0, 20);
        assert_eq!("8Mbit".parse::<ByteSize>().unwrap().0, 1_000_000);
        assert_eq!("1_000B".parse::<ByteSize>().unwrap().0, 1000);
    }

    #[test]
    fn rates_know_bits_from_bytes() {
        let r = |s: &str| s.parse::<Rate>().unwrap().bytes_per_sec();
        assert_eq!(r("100MB/s"), 100e6);
        assert_eq!(r("1Gbit/s"), 125e6);
        assert_eq!(r("512KiB/s"), 524_288.0);
        assert_eq!(r("800Mbps"), 100e6);
        assert_eq!(r("10Mb/s"), 1.25e6);
    }

    #[test]
    fn durations_parse() {
        let d = |s: &str| s.parse::<HumanDuration>().unwrap().0;
        assert_eq!(d("20ms"), Duration::from_millis(20));
        assert_eq!(d("1.5s"), Duration::from_millis(1500));
        assert_eq!(d("2m"), Duration::from_secs(120));
        assert_eq!(d("500us"), Duration::from_micros(500));
        assert_eq!(d("0"), Duration::ZERO);
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        let e = "100XB/s".parse::<Rate>().unwrap_err().to_string();
        assert!(
            e.contains("\"100XB/s\"") && e.contains("unknown unit"),
            "{e}"
        );
        let e = "100MB".parse::<Rate>().unwrap_err().to_string();
        assert!(e.contains("/s"), "{e}");
        let e = "fast".parse::<ByteSize>().unwrap_err().to_string();
        assert!(e.contains("\"fast\"") && e.contains("150MB"), "{e}");
        let e = "150".parse::<ByteSize>().unwrap_err().to_string();
        assert!(e.contains("missing unit"), "{e}");
        let e = "0MB/s".parse::<Rate>().unwrap_err().to_string();
        assert!(e.contains("greater than zero"), "{e}");
        let e = "20".parse::<HumanDuration>().unwrap_err().to_string();
        assert!(e.contains("missing unit"), "{e}");
        let e = "20 fortnights"
            .parse::<HumanDuration>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown unit"), "{e}");
    }

    #[test]
    fn formatting_is_readable() {
        assert_eq!(format_bytes(150_000_000), "150.0 MB");
        assert_eq!(format_duration(Duration::from_micros(812)), "812 µs");
        assert_eq!(format_duration(Duration::from_millis(1520)), "1.52 s");
        assert_eq!("100MB/s".parse::<Rate>().unwrap().to_string(), "100.0 MB/s");
    }

    #[test]
    fn time_for_saturates_instead_of_panicking() {
        let tiny = Rate::from_bytes_per_sec(1e-20).unwrap();
        assert_eq!(tiny.time_for(u64::MAX), Duration::MAX);
        assert_eq!(tiny.time_for(0), Duration::ZERO);
        let r = "1MB/s".parse::<Rate>().unwrap();
        assert_eq!(r.time_for(1000), Duration::from_millis(1));
    }

    #[test]
    fn small_rates_display_readably() {
        let shown = |s: &str| s.parse::<Rate>().unwrap().to_string();
        assert_eq!(shown("1bit/s"), "1 bit/s");
        assert_eq!(shown("4bit/s"), "4 bit/s");
        assert_eq!(shown("0.5bit/s"), "0.5 bit/s");
        assert_eq!(shown("0.00000000000000000001B/s"), "< 0.001 bit/s");
        assert_eq!(shown("12B/s"), "12 B/s");
    }

    #[test]
    fn an_infinite_rate_is_rejected() {
        let huge = format!("{}TB/s", "9".repeat(300));
        let e = huge.parse::<Rate>().unwrap_err().to_string();
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn echoed_inputs_are_truncated() {
        let long = "x".repeat(10_000);
        for e in [
            long.parse::<Rate>().unwrap_err().to_string(),
            long.parse::<ByteSize>().unwrap_err().to_string(),
            long.parse::<HumanDuration>().unwrap_err().to_string(),
        ] {
            assert!(e.len() < 300 && e.contains('…'), "{e}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Half the last digit `format_bytes` shows for `b`.
        fn size_tolerance(b: f64) -> f64 {
            if b >= 1e9 {
                0.005e9
            } else if b >= 1e3 {
                0.05 * 10f64.powi(((b.log10() / 3.0).floor() * 3.0) as i32)
            } else {
                0.5
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn parsing_any_text_never_panics(s in "\\PC{0,40}") {
                for e in [
                    s.parse::<ByteSize>().err().map(|e| e.to_string()),
                    s.parse::<Rate>().err().map(|e| e.to_string()),
                    s.parse::<HumanDuration>().err().map(|e| e.to_string()),
                ]
                .into_iter()
                .flatten()
                {
                    prop_assert!(e.chars().count() < 300, "{}", e);
                }
            }

            #[test]
            fn unit_like_text_never_panics(
                s in "[0-9_.]{0,30} ?(k|K|M|G|T|Ki|Mi|Gi|Ti)?(B|b|bit|bits|s|ms|us|ns|m|h)?(/s|ps)?"
            ) {
                if let Ok(r) = s.parse::<Rate>() {
                    prop_assert!(r.bytes_per_sec().is_finite() && r.bytes_per_sec() > 0.0);
                    let _ = r.time_for(u64::MAX);
                    let _ = r.to_string();
                }
                let _ = s.parse::<ByteSize>().map(|b| b.to_string());
                let _ = s.parse::<HumanDuration>().map(|d| d.to_string());
            }

            #[test]
            fn sizes_round_trip_within_rounding(n in 0u64..1_000_000_000_000_000) {
                let shown = ByteSize(n).to_string();
                let back = shown.parse::<ByteSize>().unwrap().0 as f64;
                let tolerance = size_tolerance(n as f64) * (1.0 + 1e-9);
                prop_assert!((back - n as f64).abs() <= tolerance, "{} → {} → {}", n, shown, back);
            }

            #[test]
            fn rates_round_trip_within_rounding(exp in -3.0f64..11.0) {
                let bps = 10f64.powf(exp);
                let rate = Rate::from_bytes_per_sec(bps).unwrap();
                let shown = rate.to_string();
                let back = shown.parse::<Rate>().unwrap().bytes_per_sec();
                let tolerance = if bps < 1.0 {
                    0.0005 / 8.0
                } else {
                    size_tolerance(bps.round()) + 0.5
                } * (1.0 + 1e-9);
                prop_assert!((back - bps).abs() <= tolerance, "{} → {} → {}", bps, shown, back);
            }

            #[test]
            fn durations_round_trip_within_rounding(ns in 0u64..100_000_000_000_000) {
                let d = Duration::from_nanos(ns);
                let shown = HumanDuration(d).to_string();
                let back = shown.parse::<HumanDuration>().unwrap().0.as_secs_f64();
                let secs = d.as_secs_f64();
                let tolerance = if secs < 1e-3 {
                    0.5e-6
                } else if secs < 1.0 {
                    0.05e-3
                } else {
                    0.005
                } * (1.0 + 1e-6);
                prop_assert!((back - secs).abs() <= tolerance, "{} → {} → {}", secs, shown, back);
            }
        }
    }
}
