//! Calibration: the model's parameters fitted from measured runs.
//!
//! The method, for Docker nodes (downloads 3 layers at a time, extracts in layer order):
//! 1. **Extraction.** In every cold, successful, measured single cold start, a layer's extraction
//!    took `extract complete − max(download complete, previous layer's extract complete)`.
//!    Least squares over those points fits `seconds = overhead + bytes / rate + files × per
//!    file` (bytes uncompressed, files from the run's anatomy); a term whose coefficient comes
//!    out negative is dropped (its parameter is 0); the per-file term only exists when some
//!    layer has at least [`MIN_FILES_FOR_PER_FILE`] files (synthetic layers have one or two).
//! 2. **Create**: least squares `create = fixed + per MB × uncompressed image MB` over the same
//!    samples (same rule for a negative term).
//! 3. **Start, first request**: the medians of the same samples.
//! 4. **Pull overhead**: the median of `measured pull − modelled pull` over the same samples
//!    (the engine's own work after the last layer), at least 0.
//!
//! Bursts are not fitted: they are predicted, with the nodes sharing the run's host cores
//! ([`super::predict::on_host`]). The fit's error on every calibration run is kept beside the
//! parameters.

mod least_squares;

use std::collections::BTreeMap;

pub use least_squares::least_squares;

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
pub const METHOD: &str = "extraction: least squares seconds = overhead + uncompressed bytes / rate + files x per-file cost over every layer of every cold single cold start (extraction time = extract complete - max(download complete, previous layer extracted)); create: least squares fixed + per MB of uncompressed image; start, first request: medians; pull overhead: median of measured - modelled pull; a term with a negative or unidentifiable coefficient is dropped; download concurrency 3 and serial extraction (Docker); bursts are predicted with the nodes sharing the host's cores, not fitted";

/// The extraction rate written when the runs show no cost per byte (1 TB/s: instant, but a
/// finite number that TOML and JSON can hold).
pub const MAX_EXTRACT_RATE: f64 = 1e12;

/// A per-file extraction cost is fitted only when some layer has at least this many files:
/// layers of a few files each (synthetic images) cannot tell it from the per-layer overhead.
pub const MIN_FILES_FOR_PER_FILE: f64 = 100.0;

/// One extraction: a layer's uncompressed bytes, its files and the seconds it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractPoint {
    /// Uncompressed bytes.
    pub bytes: f64,
    /// Regular files.
    pub files: f64,
    /// Seconds.
    pub seconds: f64,
}

/// What the extraction fit gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractFit {
    /// Fixed seconds per layer.
    pub overhead_s: f64,
    /// Uncompressed bytes per second ([`MAX_EXTRACT_RATE`] when the bytes term was dropped).
    pub rate: f64,
    /// Seconds per file.
    pub per_file_s: f64,
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
    let extract = fit_extraction(&points);
    let phase = |f: fn(&Sample) -> Option<u64>| {
        let values: Vec<u64> = records
            .iter()
            .flat_map(single_samples)
            .filter_map(f)
            .collect();
        median(&values).unwrap_or(0)
    };
    let create = fit_create(records);
    let mut params = ModelParams {
        download_concurrency: Some(3),
        extract_mode: ExtractMode::Serial,
        extract_bytes_per_sec: extract.rate,
        extract_overhead_us: super::seconds_to_us(extract.overhead_s),
        extract_file_us: extract.per_file_s * 1e6,
        create_us: super::seconds_to_us(create[0]),
        create_us_per_mb: create[1] * 1e12,
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

/// `seconds = overhead + bytes / rate + files × per file` by least squares (see the module
/// documentation for dropped terms).
pub fn fit_extraction(points: &[ExtractPoint]) -> ExtractFit {
    let many_files = points.iter().any(|p| p.files >= MIN_FILES_FOR_PER_FILE);
    let rows: Vec<([f64; 3], f64)> = points
        .iter()
        .map(|p| {
            let files = if many_files { p.files } else { 0.0 };
            ([1.0, p.bytes, files], p.seconds)
        })
        .collect();
    let [overhead_s, per_byte, per_file_s] = least_squares(&rows);
    let rate = if per_byte > 0.0 {
        (1.0 / per_byte).min(MAX_EXTRACT_RATE)
    } else {
        MAX_EXTRACT_RATE
    };
    ExtractFit {
        overhead_s,
        rate,
        per_file_s,
    }
}

/// `create = fixed + per byte × uncompressed image bytes` (seconds) over the single cold
/// starts: `[fixed, per byte]`.
fn fit_create(records: &[RunRecord]) -> [f64; 2] {
    let mut rows = Vec::new();
    for record in records {
        let sizes: BTreeMap<&str, f64> = record
            .variants
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.image
                        .layers
                        .iter()
                        .map(|l| l.uncompressed_size)
                        .sum::<u64>() as f64,
                )
            })
            .collect();
        for sample in single_samples(record) {
            if let (Some(create), Some(size)) =
                (sample.phases.create_us, sizes.get(sample.variant.as_str()))
            {
                rows.push(([1.0, *size, 0.0], create as f64 / 1e6));
            }
        }
    }
    let [fixed, per_byte, _] = least_squares(&rows);
    [fixed, per_byte]
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
        let model = ImageModel::from_variant(variant);
        let mut previous: Option<u64> = None;
        for timing in &sample.layers {
            let (Some(downloaded), Some(extracted)) =
                (timing.downloaded_us(), timing.extract_complete_us)
            else {
                break;
            };
            let layer = variant
                .image
                .layers
                .iter()
                .position(|l| l.digest.as_str() == timing.digest)
                .and_then(|i| model.layers.get(i));
            let began = previous.map_or(downloaded, |p| p.max(downloaded));
            previous = Some(extracted);
            if let (Some(layer), false) = (layer, timing.already_present) {
                points.push(ExtractPoint {
                    bytes: layer.uncompressed as f64,
                    files: layer.files as f64,
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
                let image = ImageModel::from_variant(v);
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
            e.snapshotter.clone(),
            e.runtime_handler.clone(),
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
            let entry = ImageEntry::from_model(&ImageModel::from_variant(v));
            (v.name.clone(), entry)
        })
        .collect()
}
