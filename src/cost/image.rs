//! Each variant's image as the calculator uses it: its sizes, where they come from (given,
//! a run, the calibration) and its layers for the burst model.

use super::input::Variant;
use super::load::CostError;
use super::result::Provenance;
use crate::located::Located;
use crate::model::calibration::{Calibration, MAX_LAYERS};
use crate::model::{ImageModel, LayerSize};
use crate::results::RunRecord;

/// Layers a given size is split into when the variant does not say (a typical small image:
/// base, runtime, dependencies, app).
pub const DEFAULT_LAYERS: u32 = 4;

/// Uncompressed ÷ compressed assumed when a given variant has no `uncompressed`.
pub const DEFAULT_EXPANSION: u64 = 3;

/// One variant's image.
#[derive(Debug, Clone, PartialEq)]
pub struct CostImage {
    /// Variant name.
    pub name: String,
    /// Compressed bytes (what moves and what is stored).
    pub compressed: u64,
    /// Uncompressed bytes of the layers.
    pub uncompressed: u64,
    /// Where the sizes come from: given, or measured (a run or the calibration's images).
    pub provenance: Provenance,
    /// Where the layers come from, for the notes (`run`, `calibration`, `split into 4`).
    pub layers_from: String,
    /// The image the burst model pulls.
    pub model: ImageModel,
    /// The run's measured pull p50 (s), for `from_run` variants.
    pub pull_p50_s: Option<f64>,
}

impl CostImage {
    /// Sets the compressed size to `bytes`, scaling the uncompressed size and every layer by
    /// the same ratio (the image keeps its shape and compression ratio).
    pub fn scale_to(&mut self, bytes: u64) {
        let ratio = if self.compressed == 0 {
            1.0
        } else {
            bytes as f64 / self.compressed as f64
        };
        let scale = |b: u64| (b as f64 * ratio).round() as u64;
        self.compressed = bytes;
        self.uncompressed = scale(self.uncompressed);
        for l in &mut self.model.layers {
            *l = LayerSize {
                compressed: scale(l.compressed),
                uncompressed: scale(l.uncompressed),
                files: scale(l.files),
            };
        }
        self.provenance = Provenance::Given;
        self.pull_p50_s = None;
        if !self.layers_from.ends_with("--what-if size") {
            self.layers_from.push_str(", scaled by --what-if size");
        }
    }
}

/// `compressed` and `uncompressed` bytes split into `layers` equal layers (the last takes the
/// remainder), no metadata bytes.
pub fn split(compressed: u64, uncompressed: u64, layers: u32) -> ImageModel {
    let n = u64::from(layers.max(1));
    let part = |total: u64, i: u64| total / n + if i + 1 == n { total % n } else { 0 };
    ImageModel {
        layers: (0..n)
            .map(|i| LayerSize {
                compressed: part(compressed, i),
                uncompressed: part(uncompressed, i),
                files: 0,
            })
            .collect(),
        metadata_bytes: 0,
    }
}

/// The sources a variant's image may come from.
pub(super) struct Sources<'a> {
    /// The `run` in force, with its path as written.
    pub run: Option<(&'a RunRecord, String)>,
    /// The calibration in force.
    pub calibration: Option<&'a Calibration>,
}

/// The image of variant `index`, or a located error saying what to give.
pub(super) fn resolve(
    v: &Variant,
    index: usize,
    sources: &Sources,
    at: &Located,
) -> Result<CostImage, CostError> {
    let name = v.name.get_ref().clone();
    let field = |key: &str| format!("cost.variant[{index}].{key}");
    let from_run = v.from_run.as_ref().filter(|f| *f.get_ref());
    if let Some(flag) = from_run {
        if v.size.is_some() {
            return Err(at.error(
                Some(flag.span()),
                Some(&field("from_run")),
                "give either `from_run = true` or `size`, not both",
            ));
        }
        let Some((run, path)) = &sources.run else {
            return Err(at.error(
                Some(flag.span()),
                Some(&field("from_run")),
                "`from_run = true` needs a run: add `run = \"results/<run>\"` to [cost] or pass --run DIR",
            ));
        };
        return from_record(run, path, &name)
            .ok_or_else(|| missing_in_run(run, path, &name, v, index, at));
    }
    let layers = match &v.layers {
        Some(n) if !(1..=MAX_LAYERS as u32).contains(n.get_ref()) => {
            return Err(at.error(
                Some(n.span()),
                Some(&field("layers")),
                &format!("{}: expected 1 to {MAX_LAYERS} layers", n.get_ref()),
            ))
        }
        Some(n) => *n.get_ref(),
        None => DEFAULT_LAYERS,
    };
    if let Some(size) = v.size {
        let uncompressed = v
            .uncompressed
            .map_or(size.0.saturating_mul(DEFAULT_EXPANSION), |u| u.0);
        return Ok(CostImage {
            name,
            compressed: size.0,
            uncompressed,
            provenance: Provenance::Given,
            layers_from: format!("the given size split into {layers} equal layers"),
            model: split(size.0, uncompressed, layers),
            pull_p50_s: None,
        });
    }
    if let Some(entry) = sources.calibration.and_then(|c| c.images.get(&name)) {
        let model = entry.to_model();
        return Ok(CostImage {
            name,
            compressed: model
                .compressed_bytes()
                .saturating_add(model.metadata_bytes),
            uncompressed: model.layers.iter().map(|l| l.uncompressed).sum(),
            provenance: Provenance::Measured,
            layers_from: "the calibration's [images]".into(),
            model,
            pull_p50_s: None,
        });
    }
    Err(at.error(
        Some(v.name.span()),
        Some(&field("size")),
        "no size: give `size = \"150MB\"`, or `from_run = true` with a run, or a calibration whose [images] has this name",
    ))
}

/// The run's variant `name`, when it has one.
fn from_record(run: &RunRecord, path: &str, name: &str) -> Option<CostImage> {
    let v = run.variants.iter().find(|v| v.name == name)?;
    let pull = run
        .summaries
        .get(name)
        .and_then(|s| s.get("pull"))
        .map(|s| s.p50 as f64 / 1e6);
    Some(CostImage {
        name: name.to_string(),
        compressed: v.image.compressed_size,
        uncompressed: v.image.uncompressed_size,
        provenance: Provenance::Measured,
        layers_from: format!("run {path} ({})", run.run_id),
        model: ImageModel::from_variant(v),
        pull_p50_s: pull,
    })
}

fn missing_in_run(
    run: &RunRecord,
    path: &str,
    name: &str,
    v: &Variant,
    index: usize,
    at: &Located,
) -> CostError {
    let known: Vec<String> = run
        .variants
        .iter()
        .map(|v| format!("{:?}", v.name))
        .collect();
    at.error(
        Some(v.name.span()),
        Some(&format!("cost.variant[{index}].name")),
        &format!(
            "run {path} has no variant {:?}: use one of {} or give `size`",
            crate::units::clip(name),
            known.join(", ")
        ),
    )
}
