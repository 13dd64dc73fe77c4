//! A calibration: the model's parameters fitted from measured runs, the layer sizes of the
//! images it saw, and the fit's error on those runs. Written by `coldbench calibrate` as
//! `calibration.toml`; read by simulated runs (`driver = "sim"`), `coldbench predict` and
//! `coldbench cost`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ImageModel, LayerSize, ModelParams};
use crate::located::{line_column, read_text, FileError, Located};

/// What `calibration.toml` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// coldbench version that wrote it.
    pub coldbench: String,
    /// UTC time it was written, RFC 3339.
    pub created_at: String,
    /// The engine the runs measured (`docker 20.10.24 · overlay2 · fresh`).
    pub engine: String,
    /// How the parameters were fitted, in one paragraph.
    pub method: String,
    /// Run ids it was fitted on.
    pub runs: Vec<String>,
    /// The fitted parameters.
    pub params: ModelParams,
    /// Each variant's image as the calibration runs stored it, so a simulated run of the same
    /// variants needs no image bytes.
    #[serde(default)]
    pub images: BTreeMap<String, ImageEntry>,
    /// The model against the calibration runs: its error where it was fitted.
    #[serde(default)]
    pub fit: Vec<FitRow>,
}

/// One image's layer sizes (bytes), base first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// Compressed blob bytes per layer.
    pub compressed: Vec<u64>,
    /// Uncompressed tar bytes per layer.
    pub uncompressed: Vec<u64>,
    /// Regular files per layer (empty when unknown).
    #[serde(default)]
    pub files: Vec<u64>,
    /// Manifest plus config bytes.
    pub metadata_bytes: u64,
}

impl ImageEntry {
    /// The entry of a modelled image.
    pub fn from_model(image: &ImageModel) -> ImageEntry {
        ImageEntry {
            compressed: image.layers.iter().map(|l| l.compressed).collect(),
            uncompressed: image.layers.iter().map(|l| l.uncompressed).collect(),
            files: image.layers.iter().map(|l| l.files).collect(),
            metadata_bytes: image.metadata_bytes,
        }
    }

    /// The image the model sees (a layer missing an uncompressed size or file count has 0).
    pub fn to_model(&self) -> ImageModel {
        ImageModel {
            layers: self
                .compressed
                .iter()
                .enumerate()
                .map(|(i, &compressed)| LayerSize {
                    compressed,
                    uncompressed: self.uncompressed.get(i).copied().unwrap_or(0),
                    files: self.files.get(i).copied().unwrap_or(0),
                })
                .collect(),
            metadata_bytes: self.metadata_bytes,
        }
    }
}

/// One figure of the model against a measured run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRow {
    /// Run id.
    pub run: String,
    /// Variant.
    pub variant: String,
    /// What is compared: `pull p50`, `total p50`, `full capacity`.
    pub metric: String,
    /// Measured, seconds.
    pub measured_s: f64,
    /// Modelled, seconds.
    pub modelled_s: f64,
    /// (modelled − measured) / measured, percent.
    pub error_pct: f64,
}

/// Most layers one calibrated image may list (a real image has at most a few hundred).
pub const MAX_LAYERS: usize = 1000;

impl Calibration {
    /// Reads and checks `calibration.toml` at `path`.
    pub fn load(path: &Path) -> Result<Calibration, FileError> {
        let text = read_text(path, "calibration file")?;
        let at = Located { path, text: &text };
        let calibration: Calibration = at.parse()?;
        calibration.check(&at)?;
        Ok(calibration)
    }

    /// The calibration as TOML, with a header saying what wrote it.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# coldbench calibration: the cold-start model's parameters fitted from measured runs.\n\
             # Written by `coldbench calibrate`; rates are bytes/s, durations µs. [[fit]] is the\n\
             # model against the runs it was fitted on.\n{body}"
        )
    }

    /// Parameters a hand edit could make meaningless are refused.
    fn check(&self, at: &Located) -> Result<(), FileError> {
        let p = &self.params;
        if !(p.extract_bytes_per_sec.is_finite() && p.extract_bytes_per_sec > 0.0) {
            return Err(at_key(
                at,
                "extract_bytes_per_sec",
                "params.extract_bytes_per_sec",
                "expected a positive extraction rate in bytes per second",
            ));
        }
        let costs = [
            ("extract_file_us", p.extract_file_us),
            ("create_us_per_mb", p.create_us_per_mb),
        ];
        for (key, value) in costs {
            if !(value.is_finite() && value >= 0.0) {
                return Err(at_key(
                    at,
                    key,
                    &format!("params.{key}"),
                    "expected a number of µs, 0 or more",
                ));
            }
        }
        if p.shared_cores.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            return Err(at_key(
                at,
                "shared_cores",
                "params.shared_cores",
                "expected a number of cores above 0, or no shared_cores at all",
            ));
        }
        for (name, entry) in &self.images {
            let layers = entry.compressed.len();
            if layers > MAX_LAYERS
                || entry.uncompressed.len() != layers
                || !(entry.files.is_empty() || entry.files.len() == layers)
            {
                return Err(at_key(
                    at,
                    name,
                    &format!("images.{name}"),
                    &format!(
                        "expected as many `uncompressed` sizes (and `files` counts, if any) as `compressed` sizes, at most {MAX_LAYERS}"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// An error at the first line that sets `key` (calibration files are written by the tool, so
/// keys are unique enough to find).
fn at_key(at: &Located, key: &str, field: &str, message: &str) -> FileError {
    let mut error = at.error(None, Some(field), message);
    error.position = at.text.find(key).map(|i| line_column(at.text, i));
    error
}
