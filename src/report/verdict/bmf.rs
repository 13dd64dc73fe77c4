//! Bencher Metric Format (BMF) JSON, for `bencher run --adapter json --file …`.
//!
//! Shape matched: Bencher's reference page "Bencher Metric Format (BMF)" and its JSON Schema
//! (`https://bencher.dev/bmf.json`): an object whose keys are Benchmark names, each an object
//! whose keys are Measure names or slugs (created on first use), each holding a Metric with a
//! required number `value` and optional `lower_value` and `upper_value`. The built-in `latency`
//! Measure is in nanoseconds.
//!
//! Here: Benchmark = the variant; Measure = the metric's name (`pull`, `total`,
//! `first_request`, `full_capacity`…); values in **nanoseconds** like `latency`: `value` the
//! median, `lower_value` p5, `upper_value` p95. Variants keep the run's order.
//!
//! ```json
//! { "full-like": { "pull": { "value": 1350000000.0, "lower_value": 1210000000.0, "upper_value": 1451000000.0 } } }
//! ```

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::MetricRow;

/// Renders `rows` (see [`metric_rows`](super::metric_rows)) as BMF JSON.
pub fn render_bmf(rows: &[MetricRow]) -> String {
    // String keys and finite numbers only: serializing cannot fail.
    to_json(rows).unwrap_or_else(|_| "{}\n".to_string())
}

/// The pretty-printed object, with a final newline.
fn to_json(rows: &[MetricRow]) -> serde_json::Result<String> {
    let mut json = serde_json::to_string_pretty(&Benchmarks(rows))?;
    json.push('\n');
    Ok(json)
}

/// Variant → its rows, variants in first-appearance order (a variant listed twice is merged).
struct Benchmarks<'a>(&'a [MetricRow]);

/// One variant's measures (a metric listed twice keeps its first row).
struct Measures<'a>(Vec<&'a MetricRow>);

/// One Metric: value, lower_value, upper_value (ns).
#[derive(serde::Serialize)]
struct Metric {
    value: f64,
    lower_value: f64,
    upper_value: f64,
}

impl Serialize for Benchmarks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut variants: Vec<&str> = Vec::new();
        for row in self.0 {
            if !variants.contains(&row.variant.as_str()) {
                variants.push(&row.variant);
            }
        }
        let mut map = serializer.serialize_map(Some(variants.len()))?;
        for variant in variants {
            let rows = self.0.iter().filter(|r| r.variant == variant).collect();
            map.serialize_entry(variant, &Measures(rows))?;
        }
        map.end()
    }
}

impl Serialize for Measures<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut seen = Vec::new();
        for row in &self.0 {
            if seen.contains(&row.metric) {
                continue;
            }
            seen.push(row.metric);
            let metric = Metric {
                value: ns(row.median_us),
                lower_value: ns(row.lower_us),
                upper_value: ns(row.upper_us),
            };
            map.serialize_entry(row.metric.name(), &metric)?;
        }
        map.end()
    }
}

/// µs as ns.
fn ns(us: u64) -> f64 {
    us as f64 * 1000.0
}
