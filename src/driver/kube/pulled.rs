//! What the kubelet says about a pull: its `Pulled` event message and the instant hidden in an
//! event's name.
//!
//! The message has taken these forms (the image is Go-quoted, durations in Go's syntax):
//! - `Successfully pulled image "X"` (before 1.19: no duration);
//! - `Successfully pulled image "X" in 49.657983991s` (1.19–1.24);
//! - `Successfully pulled image "X" in 1.2s (1.3s including waiting)` (1.25+: the pull alone,
//!   then with the time spent queued behind other pulls);
//! - the same followed by `. Image size: 12345 bytes.` (1.30+);
//! - `Container image "X" already present on machine` (no pull), which recent kubelets extend
//!   with ` and can be accessed by the pod`.
//!
//! Anything else parses to `None`: a message we cannot read makes a phase unknown, never wrong.

use std::time::Duration;

/// What a `Pulled` event message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// The image as the pod spec names it.
    pub image: String,
    /// The kubelet's own pull duration; `None` when the image was already present or the
    /// kubelet is older than 1.19.
    pub pull: Option<Duration>,
    /// The pull including the time it waited behind other pulls (1.25+).
    pub including_waiting: Option<Duration>,
    /// The image size the runtime reported (1.30+).
    pub image_size_bytes: Option<u64>,
    /// True for `already present on machine`: nothing was pulled.
    pub already_present: bool,
}

/// Parses a kubelet `Pulled` event message in any of its formats; `None` for anything else.
pub fn parse_pulled(message: &str) -> Option<Pulled> {
    let message = strip_field_path(message.trim());
    if let Some(rest) = message.strip_prefix("Container image ") {
        return parse_already_present(rest);
    }
    parse_successfully_pulled(message.strip_prefix("Successfully pulled image ")?)
}

/// `kubectl describe` (1.33+) shows `spec.containers{app}: ` before the message; a copied
/// message may carry it.
fn strip_field_path(message: &str) -> &str {
    if !message.starts_with("spec.") {
        return message;
    }
    match message.split_once("}: ") {
        Some((path, rest)) if !path.contains(' ') => rest,
        _ => message,
    }
}

fn parse_already_present(rest: &str) -> Option<Pulled> {
    let (image, rest) = go_unquote(rest)?;
    let rest = rest.strip_prefix(" already present on machine")?;
    if !matches!(rest, "" | " and can be accessed by the pod") {
        return None;
    }
    Some(Pulled {
        image,
        pull: None,
        including_waiting: None,
        image_size_bytes: None,
        already_present: true,
    })
}

fn parse_successfully_pulled(rest: &str) -> Option<Pulled> {
    let (image, rest) = go_unquote(rest)?;
    let mut pulled = Pulled {
        image,
        pull: None,
        including_waiting: None,
        image_size_bytes: None,
        already_present: false,
    };
    if rest.is_empty() {
        return Some(pulled);
    }
    let rest = rest.strip_prefix(" in ")?;
    let Some((pull, rest)) = rest.split_once(" (") else {
        pulled.pull = Some(parse_go_duration(rest)?);
        return Some(pulled);
    };
    pulled.pull = Some(parse_go_duration(pull)?);
    let (waiting, rest) = rest.split_once(" including waiting)")?;
    pulled.including_waiting = Some(parse_go_duration(waiting)?);
    pulled.image_size_bytes = parse_size_suffix(rest)?;
    Some(pulled)
}

/// What follows `(… including waiting)`: nothing, or `. Image size: N bytes.` (1.30+).
/// `None` when it is something else, `Some(None)` when there is no size.
fn parse_size_suffix(rest: &str) -> Option<Option<u64>> {
    if rest.is_empty() {
        return Some(None);
    }
    let digits = rest.strip_prefix(". Image size: ")?;
    let digits = digits
        .strip_suffix(" bytes.")
        .or_else(|| digits.strip_suffix(" bytes"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(Some)
}

/// Reads a Go `%q` string at the start of `s`: the unquoted text and what follows it. Image
/// references are plain ASCII, so only `\"` and `\\` escapes are accepted; the text must not
/// be empty.
fn go_unquote(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if out.is_empty() => return None,
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                e @ ('"' | '\\') => out.push(e),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// Parses a Go duration (`time.Duration.String()` / `time.ParseDuration` syntax): `1m21.28s`,
/// `850ms`, `1h2m3.5s`, `12.5µs` (or `us`, `μs`), `300ns`, `0s`, `0`. Negative durations,
/// unknown units, and values beyond `u64` nanoseconds give `None`.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let (nanos, after) = duration_term(rest)?;
        total = total.checked_add(nanos)?;
        rest = after;
    }
    Some(Duration::from_nanos(total))
}

/// One `<number><unit>` term of a Go duration: its nanoseconds and what follows.
fn duration_term(s: &str) -> Option<(u64, &str)> {
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, rest) = s.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    let unit_end = rest
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(rest.len());
    let (unit, rest) = rest.split_at(unit_end);
    let scale = unit_nanos(unit)?;
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let nanos = whole
        .checked_mul(scale)?
        .checked_add(fraction_nanos(fraction, scale)?)?;
    Some((nanos, rest))
}

/// Nanoseconds in one Go duration unit.
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// `0.<digits>` of `scale` nanoseconds, truncated as Go does; digits past nanosecond precision
/// are ignored.
fn fraction_nanos(digits: &str, scale: u64) -> Option<u64> {
    let mut value: u128 = 0;
    let mut denominator: u128 = 1;
    for b in digits.bytes().take(20) {
        value = value * 10 + u128::from(b - b'0');
        denominator *= 10;
    }
    u64::try_from(value * u128::from(scale) / denominator).ok()
}

/// Earliest instant accepted from an event name: 2001-09-09 (the first 10¹⁸ ns); smaller
/// "suffixes" are parts of a name that happen to be hex (`my.cafe`), not times.
const EARLIEST_EVENT_NANOS: u64 = 1_000_000_000_000_000_000;

/// The creation instant in a kubelet event's name, `<object>.<UnixNano in hex>`
/// (`web-7d4b9c-x2x9q.17a2b3c4d5e6f708`), as nanoseconds since the Unix epoch: the kubelet
/// names events this way, so the name keeps a time finer than the event's 1 s timestamps
/// (kube-burner's method). `None` when the name has no such suffix.
pub fn event_name_nanos(name: &str) -> Option<u64> {
    let (object, hex) = name.rsplit_once('.')?;
    if object.is_empty() || hex.is_empty() || hex.len() > 16 {
        return None;
    }
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nanos = u64::from_str_radix(hex, 16).ok()?;
    let fits_int64 = i64::try_from(nanos).is_ok();
    (fits_int64 && nanos >= EARLIEST_EVENT_NANOS).then_some(nanos)
}

#[cfg(test)]
mod tests;
