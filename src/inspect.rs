//! `coldbench inspect`: one image's anatomy, from a scenario variant, the engine or a registry.

use std::path::{Path, PathBuf};

use crate::image::local::DEFAULT_COMPRESSION_LEVEL;
use crate::image::ImageEngine;
use crate::prepare::{prepare_source, Source};
use crate::registry::Store;
use crate::scenario::Scenario;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What to inspect, and how to show it.
#[derive(Debug, Clone)]
pub struct InspectOptions {
    /// A variant of `scenario`, an image in the local engine (`name:tag`), or one in a registry
    /// (`host[:port]/repo:tag`).
    pub target: String,
    /// Scenario whose variant `target` names.
    pub scenario: Option<PathBuf>,
    /// JSON instead of text.
    pub json: bool,
}

/// True when `target` names a registry (its first segment looks like a host).
fn is_registry_ref(target: &str) -> bool {
    let target = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .unwrap_or(target);
    match target.split_once('/') {
        Some((host, _)) => host.contains('.') || host.contains(':') || host == "localhost",
        None => false,
    }
}

/// Prepares the target and renders its anatomy (text or JSON).
pub async fn inspect(args: &InspectOptions) -> Result<String, BoxError> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let prepared = if let Some(path) = &args.scenario {
        let scenario = Scenario::load(path)?;
        let variant = scenario
            .file
            .variants
            .iter()
            .find(|v| v.name.get_ref() == &args.target)
            .ok_or_else(|| {
                let names: Vec<&str> = scenario
                    .file
                    .variants
                    .iter()
                    .map(|v| v.name.get_ref().as_str())
                    .collect();
                format!(
                    "{} has no variant {:?}; it has: {}",
                    path.display(),
                    args.target,
                    names.join(", ")
                )
            })?;
        let base = scenario.path.parent().unwrap_or(Path::new("."));
        let source = Source::of(variant, base);
        let engine = match source {
            Source::Dockerfile(..) | Source::Image(_) => {
                Some(ImageEngine::connect(scenario.file.docker.host.as_deref()).await?)
            }
            _ => None,
        };
        let level = variant
            .compression_level
            .as_ref()
            .map_or(DEFAULT_COMPRESSION_LEVEL, |l| *l.get_ref());
        prepare_source(source, &args.target, level, &store, engine.as_ref())
            .await
            .map_err(|source| crate::prepare::PrepareError {
                location: scenario.locate(variant.name.span()),
                variant: args.target.clone(),
                source: Box::new(source),
            })?
    } else if is_registry_ref(&args.target) {
        prepare_source(Source::Registry(&args.target), "inspect", 0, &store, None).await?
    } else {
        let engine = ImageEngine::connect(None).await?;
        prepare_source(
            Source::Image(&args.target),
            "inspect",
            DEFAULT_COMPRESSION_LEVEL,
            &store,
            Some(&engine),
        )
        .await?
    };
    let anatomy = prepared
        .anatomy
        .ok_or("the image's anatomy could not be read (see the warning above)")?;
    if args.json {
        return Ok(serde_json::to_string_pretty(&anatomy)? + "\n");
    }
    let mut out = format!(
        "{}  ({}; manifest {})\n",
        args.target, prepared.source, prepared.image.digest
    );
    out.push_str(&crate::report::anatomy::render(&anatomy));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_refs_are_told_from_local_names() {
        assert!(is_registry_ref("127.0.0.1:5000/app:v1"));
        assert!(is_registry_ref("registry.example/app"));
        assert!(is_registry_ref("localhost/app"));
        assert!(is_registry_ref("http://127.0.0.1:5000/a/b:c"));
        assert!(!is_registry_ref("node:22"));
        assert!(!is_registry_ref("myteam/app:v1"));
    }
}
