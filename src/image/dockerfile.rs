//! Images built from a Dockerfile through the engine's API (the classic builder, which does
//! multi-stage builds and `target`), then imported like a local image and removed again.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::Path;

use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, RemoveImageOptions};
use bollard::Docker;
use futures_util::StreamExt;

use super::{local, ImageError, StoredImage};
use crate::registry::Store;
use crate::scenario::DockerfileSpec;

/// Lines of builder output kept for an error message.
const KEEP_LINES: usize = 20;

/// Where a built image goes.
pub struct Destination<'a> {
    /// The store.
    pub store: &'a Store,
    /// Repository in the store.
    pub repository: &'a str,
    /// Tag in the store.
    pub tag: &'a str,
    /// gzip level of its layers.
    pub level: u32,
}

/// Builds `spec` (context relative to `base_dir`) and stores the result at `to`.
/// The engine's copy of the built image is removed afterwards; its base images stay.
pub async fn build(
    docker: &Docker,
    spec: &DockerfileSpec,
    base_dir: &Path,
    variant: &str,
    to: &Destination<'_>,
) -> Result<StoredImage, ImageError> {
    let context = base_dir.join(&spec.context);
    if !context.is_dir() {
        return Err(ImageError::Build {
            variant: variant.to_string(),
            output: format!(
                "build context {} is not a directory (dockerfile.context is relative to the scenario file)",
                context.display()
            ),
        });
    }
    if !context.join(&spec.file).is_file() {
        return Err(ImageError::Build {
            variant: variant.to_string(),
            output: format!("no Dockerfile at {}", context.join(&spec.file).display()),
        });
    }
    let archive = {
        let dir = context.clone();
        tokio::task::spawn_blocking(move || tar_context(&dir))
            .await
            .map_err(|e| ImageError::Io {
                what: "context archive thread".into(),
                source: io::Error::other(e),
            })?
            .map_err(|source| ImageError::Io {
                what: format!("archiving the build context {}", context.display()),
                source,
            })?
    };

    let local_tag = format!("coldbench-build/{variant}:{}", std::process::id());
    let options = BuildImageOptions {
        dockerfile: spec.file.clone(),
        t: Some(local_tag.clone()),
        target: spec.target.clone().unwrap_or_default(),
        buildargs: Some(
            spec.build_args
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ),
        rm: true,
        forcerm: true,
        ..Default::default()
    };
    let dangling_before = dangling_images(docker).await;
    let body = bollard::body_full(archive.into());
    let mut stream = docker.build_image(options, None, Some(body));
    let mut last: VecDeque<String> = VecDeque::new();
    let mut keep = |line: &str| {
        for l in line.lines().filter(|l| !l.trim().is_empty()) {
            if last.len() == KEEP_LINES {
                last.pop_front();
            }
            last.push_back(l.to_string());
        }
    };
    let mut failure = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.stream.as_deref() {
                    keep(s);
                }
                if let Some(detail) = info.error_detail {
                    failure = Some(detail.message.unwrap_or_else(|| "build failed".into()));
                }
            }
            Err(e) => failure = Some(e.to_string()),
        }
    }
    if let Some(message) = failure {
        keep(&message);
        return Err(ImageError::Build {
            variant: variant.to_string(),
            output: last.into_iter().collect::<Vec<_>>().join("\n"),
        });
    }

    let stored = local::import(
        docker,
        &local_tag,
        to.store,
        to.repository,
        to.tag,
        to.level,
    )
    .await;
    let options = RemoveImageOptions {
        force: true,
        noprune: false,
        ..Default::default()
    };
    if let Err(e) = docker.remove_image(&local_tag, Some(options), None).await {
        tracing::warn!("could not remove the build image {local_tag}: {e}");
    }
    // Earlier stages of a multi-stage build stay behind as untagged images: remove the ones
    // this build left (not forced, so nothing in use goes).
    if let Some(before) = dangling_before {
        for id in dangling_images(docker).await.unwrap_or_default() {
            if !before.contains(&id) {
                let _ = docker
                    .remove_image(&id, None::<RemoveImageOptions>, None)
                    .await;
            }
        }
    }
    stored
}

/// IDs of untagged images, `None` if the engine would not say.
async fn dangling_images(docker: &Docker) -> Option<std::collections::HashSet<String>> {
    let filters = HashMap::from([("dangling".to_string(), vec!["true".to_string()])]);
    let options = ListImagesOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let images = docker.list_images(Some(options)).await.ok()?;
    Some(images.into_iter().map(|i| i.id).collect())
}

/// The build context as a tar archive (in memory: contexts are sources, not images).
fn tar_context(dir: &Path) -> io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir)?;
    builder.into_inner()
}
