//! The one percentile definition (see [`crate::analysis`]) and the histogram helpers behind it.

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;

use crate::results::Summary;

/// Significant figures every histogram keeps.
pub const SIGNIFICANT_FIGURES: u8 = 3;

/// HdrHistogram's V2 (uncompressed) cookie and the size of its header.
const V2_COOKIE: u32 = 0x1c84_9303;
const V2_HEADER: usize = 40;

/// An empty, auto-resizing histogram with [`SIGNIFICANT_FIGURES`].
pub fn new_histogram() -> Histogram<u64> {
    // 3 significant figures is a valid precision: `new` cannot fail with it.
    let mut h = Histogram::new(SIGNIFICANT_FIGURES).unwrap_or_else(|_| unreachable!("3 sigfig"));
    h.auto(true);
    h
}

/// Records `us` (at least 1 µs, so zero stays on the scale) into `h`.
pub fn record(h: &mut Histogram<u64>, us: u64) {
    let v = us.max(1);
    // Auto-resizing: `record` grows the range; saturate only if that fails.
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

/// A histogram of `values` (µs), so short lists use the same definition as the phases.
pub fn histogram_of(values: &[u64]) -> Histogram<u64> {
    let mut h = new_histogram();
    for &v in values {
        record(&mut h, v);
    }
    h
}

/// The `q`-quantile (0..=1) of `h`, `None` when it is empty.
pub fn quantile(h: &Histogram<u64>, q: f64) -> Option<u64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q.clamp(0.0, 1.0)))
}

/// The `q`-quantile (0..=1) of a list of µs values, `None` when it is empty.
pub fn percentile(values: &[u64], q: f64) -> Option<u64> {
    quantile(&histogram_of(values), q)
}

/// Position, in ascending order of `n` items, of the item the `q`-quantile lands on: the same
/// nearest rank HdrHistogram counts to, `ceil(q·n)` (at least 1), as a 0-based index.
pub fn rank(n: usize, q: f64) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let target = (q.clamp(0.0, 1.0) * n as f64).ceil();
    let target = if target.is_finite() {
        target as usize
    } else {
        1
    };
    Some(target.clamp(1, n) - 1)
}

/// The summary stored in run.json for `h`, `None` when it is empty.
pub fn summary_of(h: &Histogram<u64>) -> Option<Summary> {
    if h.is_empty() {
        return None;
    }
    Some(Summary {
        count: h.len(),
        min: h.min(),
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p95: h.value_at_quantile(0.95),
        p99: h.value_at_quantile(0.99),
        max: h.max(),
        mean: h.mean(),
        stddev: h.stdev(),
    })
}

/// `h` in HdrHistogram's V2 encoding, base64 (as stored in run.json).
pub fn encode(h: &Histogram<u64>) -> Option<String> {
    let mut bytes = Vec::new();
    V2Serializer::new().serialize(h, &mut bytes).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes [`encode`]'s text; `None` when it is not a well-formed uncompressed V2 histogram
/// (hand-edited files must not panic or allocate what their header claims).
pub fn decode(text: &str) -> Option<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    let payload = usize::try_from(word(4)?).ok()?;
    if word(0)? != V2_COOKIE || payload > bytes.len().saturating_sub(V2_HEADER) {
        return None;
    }
    Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}
