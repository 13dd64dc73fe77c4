//! Calibration: the model's parameters fitted from measured runs.
//!
//! The method, for Docker nodes (downloads 3 layers at a time, extracts in layer order):
//! 1. **Extraction.** In every cold, successful, measured single cold start, a layer's extraction
//!    took `extract complete − max(download complete, previous layer's extract complete)`. A
//!    least-squares line `seconds = overhead + uncompressed bytes / rate` through those points
//!    gives the rate and the per-layer overhead; through the origin when the intercept comes out
//!    negative.
//! 2. **Create, start, first request**: the medians of the same samples.
//! 3. **Pull overhead**: the median of `measured pull − modelled pull` over the same samples
//!    (the engine's own work after the last layer), at least 0.
//!
//! Bursts are not fitted (their nodes share this machine's CPU); they are predicted, and the
//! fit's error on every calibration run is kept beside the parameters.

use std::collections::BTreeMap;

use super::calibration::{Calibration, FitRow, ImageEntry};
use super::predict::{links_of, predict_run};
use super::{simulate_single, ExtractMode, ImageModel, ModelParams};
use crate::analysis::is_summarized;
use crate::compare::stats::median;
use crate::results::{now_utc, RunRecord, Sample, ToolInfo};

/// Why runs cannot be calibrated on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// A run was itself simulated.
    #[error("{run} is a simulated run: calibrate on measured runs")]
    Simulated { run: String },
    /// Nothing to fit.
    #[error("no cold, successful single cold start with per-layer timings in {runs}: calibrate on runs of single cold starts (e.g. `coldbench run scenarios/quickstart.toml`)")]
    NoSamples { runs: String },
}

/// The method in a paragraph, written into `calibration.toml`.
pub const METHOD: &str = "extraction: least-squares line seconds = overhead + uncompressed bytes / rate over every layer of every cold single cold start (extraction time = extract complete - max(download complete, previous layer extracted)); create, start, first request: medians; pull overhead: median of measured - modelled pull; download concurrency 3 and serial extraction (Docker); bursts are predicted, not fitted";

/// One extraction: a layer's uncompressed bytes and the seconds it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractPoint {
    /// Uncompressed bytes.
    pub bytes: f64,
    /// Seconds.
    pub seconds: f64,
}

/// Fits the model on `records` (measured runs) into a calibration.
pub fn calibrate(records: &[RunRecord]) -> Result<Calibration, FitError> {
    if let Some(r) = records.iter().find(|r| r.engine.driver == "sim") {
        return Err(FitError::Simulated {
            run: r.run_id.clone(),
        });
    }
    let runs: Vec<String> = records.iter().map(|r| r.run_id.clone()).collect();
    let points: Vec<ExtractPoint> = records.iter().flat_map(extract_points).collect();
    if points.is_empty() {
        return Err(FitError::NoSamples {
            runs: runs.join(", "),
        });
    }
    let (overhead_s, rate) = fit_extraction(&points);
    let phase = |f: fn(&Sample) -> Option<u64>| {
        let values: Vec<u64> = records
            .iter()
            .flat_map(single_samples)
            .filter_map(f)
            .collect();
        median(&values).unwrap_or(0)
    };
    let mut params = ModelParams {
        download_concurrency: Some(3),
        extract_mode: ExtractMode::Serial,
        extract_bytes_per_sec: rate,
        extract_overhead_us: super::seconds_to_us(overhead_s),
        create_us: phase(|s| s.phases.create_us),
        start_us: phase(|s| s.phases.start_us),
        first_request_us: phase(|s| s.phases.first_request_us),
        pull_overhead_us: 0,
        ..ModelParams::default()
    };
    params.pull_overhead_us = pull_overhead_us(records, &params);
    let fit: Vec<FitRow> = records
        .iter()
        .flat_map(|r| predict_run(r, &params))
        .collect();
    Ok(Calibration {
        coldbench: ToolInfo::current().version,
        created_at: now_utc(),
        engine: engines(records),
        method: METHOD.to_string(),
        runs,
        params,
        images: images(records),
        fit,
    })
}

/// `seconds = overhead + bytes / rate` by least squares: `(overhead seconds, rate)`. Through
/// the origin when the intercept is negative or every layer has one size.
pub fn fit_extraction(points: &[ExtractPoint]) -> (f64, f64) {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.bytes).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.seconds).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.bytes - mean_x).powi(2)).sum();
    let sxy: f64 = points
        .iter()
        .map(|p| (p.bytes - mean_x) * (p.seconds - mean_y))
        .sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    if sxx > 0.0 && slope > 0.0 && intercept >= 0.0 {
        return (intercept, 1.0 / slope);
    }
    let sxy0: f64 = points.iter().map(|p| p.bytes * p.seconds).sum();
    let sxx0: f64 = points.iter().map(|p| p.bytes * p.bytes).sum();
    let slope = sxy0 / sxx0;
    let rate = if slope.is_finite() && slope > 0.0 {
        1.0 / slope
    } else {
        f64::INFINITY
    };
    (0.0, rate)
}

/// Measured, cold, successful single cold starts (not bursts).
fn single_samples(record: &RunRecord) -> impl Iterator<Item = &Sample> {
    record
        .samples
        .iter()
        .filter(|s| s.burst.is_none() && is_summarized(s))
}

/// Every layer extraction of `record`'s single cold starts.
pub fn extract_points(record: &RunRecord) -> Vec<ExtractPoint> {
    let mut points = Vec::new();
    for sample in single_samples(record) {
        let Some(variant) = record.variants.iter().find(|v| v.name == sample.variant) else {
            continue;
        };
        let mut previous: Option<u64> = None;
        for timing in &sample.layers {
            let (Some(downloaded), Some(extracted)) =
                (timing.download_complete_us, timing.extract_complete_us)
            else {
                break;
            };
            let layer = variant
                .image
                .layers
                .iter()
                .find(|l| l.digest.as_str() == timing.digest);
            let began = previous.map_or(downloaded, |p| p.max(downloaded));
            previous = Some(extracted);
            if let (Some(layer), false) = (layer, timing.already_present) {
                points.push(ExtractPoint {
                    bytes: layer.uncompressed_size as f64,
                    seconds: extracted.saturating_sub(began) as f64 / 1e6,
                });
            }
        }
    }
    points
}

/// Median of measured − modelled pull over the single cold starts, at least 0.
fn pull_overhead_us(records: &[RunRecord], params: &ModelParams) -> u64 {
    let mut residuals: Vec<i64> = Vec::new();
    for record in records {
        let links = links_of(record);
        let modelled: BTreeMap<&str, u64> = record
            .variants
            .iter()
            .map(|v| {
                let image = ImageModel::from_stored(&v.image);
                let pull = simulate_single(&image, params, &links).phases.pull_us;
                (v.name.as_str(), pull.unwrap_or(0))
            })
            .collect();
        for sample in single_samples(record) {
            if let (Some(pull), Some(model)) =
                (sample.phases.pull_us, modelled.get(sample.variant.as_str()))
            {
                residuals.push(pull as i64 - *model as i64);
            }
        }
    }
    residuals.sort_unstable();
    residuals
        .get(residuals.len().saturating_sub(1) / 2)
        .map_or(0, |r| (*r).max(0) as u64)
}

/// The runs' engines, each once (`docker 20.10.24 · overlay2 · fresh`).
fn engines(records: &[RunRecord]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for r in records {
        let e = &r.engine;
        let text = [
            Some(e.driver.clone()),
            e.version.clone(),
            e.storage_driver.clone(),
            (!e.node.is_empty()).then(|| e.node.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join("; ")
}

/// Each variant's image (the last run that has the name wins).
fn images(records: &[RunRecord]) -> BTreeMap<String, ImageEntry> {
    records
        .iter()
        .flat_map(|r| &r.variants)
        .map(|v| {
            let entry = ImageEntry::from_model(&ImageModel::from_stored(&v.image));
            (v.name.clone(), entry)
        })
        .collect()
}
