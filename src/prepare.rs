//! The prepare step: every variant's image into the embedded registry's store, whatever its
//! source, plus its anatomy. Never timed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::image::anatomy::{self, Anatomy};
use crate::image::local::DEFAULT_COMPRESSION_LEVEL;
use crate::image::upstream::{self, UpstreamRef};
use crate::image::{dockerfile, synth, ImageEngine, ImageError, StoredImage, REPO_PREFIX};
use crate::progress::Progress;
use crate::registry::Store;
use crate::scenario::{DockerfileSpec, Scenario, SynthSpec, VariantSpec};

/// A variant's image, ready in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// Where it came from, for people (`synth 150.0 MB in 6 layers`, `dockerfile …`).
    pub source: String,
    /// gzip level its layers were compressed with, when the harness compressed them.
    pub compression_level: Option<u32>,
    /// The image in the store.
    pub image: StoredImage,
    /// What it is made of (absent if it could not be read).
    pub anatomy: Option<Anatomy>,
}

/// Why a variant could not be prepared, located at the variant's name in the scenario file.
#[derive(Debug, thiserror::Error)]
#[error("{location}: variant {variant:?}: {source}")]
pub struct PrepareError {
    /// `file:line:column` of the variant's name.
    pub location: String,
    /// The variant.
    pub variant: String,
    /// The cause.
    #[source]
    pub source: Box<ImageError>,
}

/// True when some variant needs a Docker engine to be prepared.
pub fn needs_engine(scenario: &Scenario) -> bool {
    scenario
        .file
        .variants
        .iter()
        .any(|v| v.dockerfile.is_some() || v.image.is_some())
}

/// Prepares every variant, in scenario order.
pub async fn prepare_all(
    scenario: &Scenario,
    store: &Store,
    engine: Option<&ImageEngine>,
    progress: &Progress,
) -> Result<BTreeMap<String, Prepared>, PrepareError> {
    let base_dir = scenario.path.parent().unwrap_or(Path::new("."));
    let mut out = BTreeMap::new();
    for v in &scenario.file.variants {
        let name = v.name.get_ref().clone();
        let spinner = progress.spinner(format!("preparing {name}"));
        let prepared = prepare_one(v, base_dir, store, engine)
            .await
            .map_err(|source| PrepareError {
                location: scenario.locate(v.name.span()),
                variant: name.clone(),
                source: Box::new(source),
            })?;
        spinner.finish_and_clear();
        out.insert(name, prepared);
    }
    Ok(out)
}

/// Where an image comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A synthetic image.
    Synth(&'a SynthSpec),
    /// A Dockerfile, its context relative to a base directory.
    Dockerfile(&'a DockerfileSpec, &'a Path),
    /// An image in the engine.
    Image(&'a str),
    /// An image in an upstream registry.
    Registry(&'a str),
}

impl<'a> Source<'a> {
    /// The source of a (validated) variant.
    pub fn of(v: &'a VariantSpec, base_dir: &'a Path) -> Source<'a> {
        if let Some(s) = &v.synth {
            Source::Synth(s)
        } else if let Some(d) = &v.dockerfile {
            Source::Dockerfile(d, base_dir)
        } else if let Some(i) = &v.image {
            Source::Image(i)
        } else if let Some(r) = &v.registry {
            Source::Registry(r)
        } else {
            unreachable!("validation guarantees exactly one source")
        }
    }
}

async fn prepare_one(
    v: &VariantSpec,
    base_dir: &Path,
    store: &Store,
    engine: Option<&ImageEngine>,
) -> Result<Prepared, ImageError> {
    let level = v
        .compression_level
        .as_ref()
        .map_or(DEFAULT_COMPRESSION_LEVEL, |l| *l.get_ref());
    prepare_source(
        Source::of(v, base_dir),
        v.name.get_ref(),
        level,
        store,
        engine,
    )
    .await
}

/// Puts the image from `source` into `store` as `coldbench/<name>:latest` and reads its anatomy.
pub async fn prepare_source(
    source: Source<'_>,
    name: &str,
    level: u32,
    store: &Store,
    engine: Option<&ImageEngine>,
) -> Result<Prepared, ImageError> {
    let name = name.to_string();
    let repository = format!("{REPO_PREFIX}/{name}");
    let tag = "latest";
    let no_engine = || ImageError::LocalImage {
        image: name.clone(),
        cause: "no Docker engine to build or export with".into(),
    };
    let (source, compression_level, image) = match source {
        Source::Synth(spec) => {
            let (store, name, spec2) = (store.clone(), name.clone(), spec.clone());
            let image = tokio::task::spawn_blocking(move || synth::build(&store, &name, &spec2))
                .await
                .map_err(|e| ImageError::Io {
                    what: "image builder thread".into(),
                    source: std::io::Error::other(e),
                })??;
            let source = format!(
                "synth {} in {} layer(s), compressibility {}",
                crate::units::format_bytes(spec.size.0),
                spec.layers.get_ref(),
                spec.compressibility.get_ref()
            );
            (source, None, image)
        }
        Source::Dockerfile(spec, base_dir) => {
            let engine = engine.ok_or_else(no_engine)?;
            let image = engine
                .build(
                    spec,
                    base_dir,
                    &name,
                    &dockerfile::Destination {
                        store,
                        repository: &repository,
                        tag,
                        level,
                    },
                )
                .await?;
            let target = spec
                .target
                .as_deref()
                .map_or(String::new(), |t| format!(" (target {t})"));
            let source = format!("dockerfile {}/{}{target}", spec.context, spec.file);
            (source, Some(level), image)
        }
        Source::Image(reference) => {
            let engine = engine.ok_or_else(no_engine)?;
            let image = engine
                .import(reference, store, &repository, tag, level)
                .await?;
            (format!("image {reference}"), Some(level), image)
        }
        Source::Registry(reference) => {
            let upstream: UpstreamRef = reference.parse()?;
            let image = upstream::copy(&upstream, store, &repository, tag).await?;
            (format!("registry {reference}"), None, image)
        }
    };

    let anatomy = {
        let (store, repository) = (store.clone(), image.repository.clone());
        let digest = image.digest.to_string();
        tokio::task::spawn_blocking(move || anatomy::analyze(&store, &repository, &digest))
            .await
            .ok()
            .and_then(|r| match r {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::warn!("anatomy of {name}: {e}");
                    None
                }
            })
    };
    let mut image = image;
    if let Some(a) = &anatomy {
        // Copies from upstream registries do not know their uncompressed sizes; the anatomy does.
        for (layer, seen) in image.layers.iter_mut().zip(&a.layers) {
            if layer.uncompressed_size == 0 {
                layer.uncompressed_size = seen.uncompressed_size;
            }
        }
        image.uncompressed_size = image.layers.iter().map(|l| l.uncompressed_size).sum();
    }
    Ok(Prepared {
        source,
        compression_level,
        image,
        anatomy,
    })
}
