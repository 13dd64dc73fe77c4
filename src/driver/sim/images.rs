//! Each variant's image in a simulated run, in this order: the variant of the same name in
//! `[sim] images` (a real run: its stored image and anatomy), the calibration's
//! `images.<variant>`, an estimate from the variant's `synth` spec; else a located error.

use std::collections::BTreeMap;
use std::path::Path;

use super::params::relative_to;
use crate::compare;
use crate::digest::Digest;
use crate::image::synth;
use crate::located::{line_column, FileError};
use crate::measure::micros;
use crate::model::calibration::ImageEntry;
use crate::model::ImageModel;
use crate::results::{LayerInfo, RunRecord, StoredImage, VariantRecord};
use crate::scenario::{Scenario, SynthSpec, VariantSpec};
use crate::units::format_bytes;

/// One variant's image: as run.json records it, and as the model sees it.
#[derive(Debug, Clone)]
pub struct SimImage {
    /// The variant's record (its `source` says where the sizes came from).
    pub record: VariantRecord,
    /// Layer sizes for the model.
    pub model: ImageModel,
}

/// Every variant's image, in scenario order. `cli` (`--images`) replaces `[sim] images`;
/// `calibration` is the calibration's images and its path.
pub fn resolve(
    scenario: &Scenario,
    cli: Option<&Path>,
    calibration: Option<(&BTreeMap<String, ImageEntry>, &Path)>,
) -> Result<Vec<SimImage>, FileError> {
    let run = images_run(scenario, cli)?;
    scenario
        .file
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let name = v.name.get_ref();
            let found = run
                .as_ref()
                .and_then(|r| from_run(r, name))
                .or_else(|| from_calibration(calibration?, name))
                .or_else(|| v.synth.as_ref().map(|s| from_synth(name, s)));
            let (record, model) = found.ok_or_else(|| no_sizes(scenario, i, v))?;
            Ok(SimImage {
                record: with_floor(scenario, record),
                model,
            })
        })
        .collect()
}

/// The run named by `--images` or `[sim] images`, read with [`compare::load`].
fn images_run(scenario: &Scenario, cli: Option<&Path>) -> Result<Option<RunRecord>, FileError> {
    if let Some(path) = cli {
        return compare::load(path).map(Some).map_err(|e| FileError {
            file: path.to_path_buf(),
            position: None,
            field: None,
            message: format!("--images: {e}; give a run directory or its run.json"),
        });
    }
    let Some(key) = scenario.file.sim.as_ref().and_then(|s| s.images.as_ref()) else {
        return Ok(None);
    };
    let path = relative_to(scenario, key.get_ref());
    compare::load(&path).map(Some).map_err(|e| FileError {
        file: scenario.path.clone(),
        position: Some(line_column(&scenario.source, key.span().start)),
        field: Some("sim.images".into()),
        message: format!("{e}; give a run directory or its run.json, relative to the scenario"),
    })
}

type Found = (VariantRecord, ImageModel);

/// The variant `name` as `run` stored it.
fn from_run(run: &RunRecord, name: &str) -> Option<Found> {
    let v = run.variants.iter().find(|v| v.name == name)?;
    let mut record = v.clone();
    record.source = format!("{} · layer sizes of run {}", v.source, run.run_id);
    Some((record, ImageModel::from_variant(v)))
}

/// The calibration's entry for `name`.
fn from_calibration(
    (images, path): (&BTreeMap<String, ImageEntry>, &Path),
    name: &str,
) -> Option<Found> {
    let model = images.get(name)?.to_model();
    let layers: Vec<(u64, u64)> = model
        .layers
        .iter()
        .map(|l| (l.compressed, l.uncompressed))
        .collect();
    let source = format!("layer sizes from calibration {}", path.display());
    let image = placeholder_image(name, &layers, model.metadata_bytes, &source);
    Some((record(name, source, image), model))
}

/// The sizes `synth` would make for `spec`, estimated without making it.
fn from_synth(name: &str, spec: &SynthSpec) -> Found {
    let (layers, config) = synth::estimate(spec);
    let source = format!(
        "synth {} in {} layer(s), compressibility {} · layer sizes estimated",
        format_bytes(spec.size.0),
        spec.layers.get_ref(),
        spec.compressibility.get_ref()
    );
    let image = placeholder_image(name, &layers, config, "synth estimate");
    let model = ImageModel::from_stored(&image);
    (record(name, source, image), model)
}

fn record(name: &str, source: String, image: StoredImage) -> VariantRecord {
    VariantRecord {
        name: name.to_string(),
        source,
        compression_level: None,
        image,
        anatomy: None,
        wire_floor_us: None,
    }
}

/// The wire floor at the scenario's bandwidth, as a measured run records it.
fn with_floor(scenario: &Scenario, mut record: VariantRecord) -> VariantRecord {
    record.wire_floor_us = scenario
        .file
        .registry
        .bandwidth
        .map(|r| micros(r.time_for(record.image.compressed_size)));
    record
}

/// An image nobody built: the sizes are real estimates, the digests placeholders (sha256 of
/// a label naming the variant and the layer), so run.json keeps its shape.
fn placeholder_image(name: &str, layers: &[(u64, u64)], config: u64, what: &str) -> StoredImage {
    let label = |part: &str| Digest::of(format!("coldbench sim {name} {part}").as_bytes());
    let layers: Vec<LayerInfo> = layers
        .iter()
        .enumerate()
        .map(|(i, &(size, uncompressed_size))| LayerInfo {
            digest: label(&format!("layer {i}")),
            size,
            diff_id: label(&format!("diff {i}")),
            uncompressed_size,
            created_by: format!("simulated layer {} ({what})", i + 1),
        })
        .collect();
    let layer_bytes = layers.iter().fold(0u64, |n, l| n.saturating_add(l.size));
    StoredImage {
        repository: format!("{}/{name}", crate::image::REPO_PREFIX),
        tag: "latest".into(),
        digest: label("manifest"),
        config_digest: label("config"),
        compressed_size: layer_bytes.saturating_add(config),
        uncompressed_size: layers
            .iter()
            .fold(0u64, |n, l| n.saturating_add(l.uncompressed_size)),
        layers,
    }
}

/// A variant without sizes: say where, and the two ways to give them.
fn no_sizes(scenario: &Scenario, i: usize, v: &VariantSpec) -> FileError {
    let kind = if v.dockerfile.is_some() {
        "dockerfile"
    } else if v.image.is_some() {
        "image"
    } else {
        "registry"
    };
    FileError {
        file: scenario.path.clone(),
        position: Some(line_column(&scenario.source, v.name.span().start)),
        field: Some(format!("variant[{i}]")),
        message: format!(
            "variant {:?} is a {kind} image, and a simulated run needs its layer sizes without building it: give `[sim] images = \"RUN_DIR\"` (or --images) a run that has this variant, or a calibration that has it (`[sim] calibration`, --calibration)",
            v.name.get_ref()
        ),
    }
}
