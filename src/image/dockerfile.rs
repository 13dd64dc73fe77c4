//! Images built from a Dockerfile through the engine's API (the classic builder, which does
//! multi-stage builds and `target`), then imported like a local image and removed again.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bollard::query_parameters::{BuildImageOptions, ListImagesOptions, RemoveImageOptions};
use bollard::Docker;
use futures_util::StreamExt;

use super::{context, local, ImageError, StoredImage};
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
    let context = checked_context(spec, base_dir, variant)?;
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
    let sent = Arc::new(AtomicU64::new(0));
    let (chunks, writer) = context::stream(context.clone(), spec.file.clone(), sent);
    let body = bollard::body_try_stream(chunks);
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
    // Dropping the request drops the body, so a writer the engine stopped reading ends too.
    drop(stream);
    if let Some(e) = archive_error(writer.await, &context) {
        return Err(e);
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

/// The context directory of `spec`, refused unless it is a directory the rules allow (see
/// [`context::resolve`]) holding the Dockerfile.
fn checked_context(
    spec: &DockerfileSpec,
    base_dir: &Path,
    variant: &str,
) -> Result<PathBuf, ImageError> {
    let refuse = |output: String| ImageError::Build {
        variant: variant.to_string(),
        output,
    };
    let context = context::resolve(base_dir, &spec.context).map_err(|e| {
        refuse(format!(
            "{e} (dockerfile.context is relative to the scenario file)"
        ))
    })?;
    if !context.is_dir() {
        return Err(refuse(format!(
            "build context {} is not a directory",
            context.display()
        )));
    }
    if !context::file_inside(&spec.file) || !context.join(&spec.file).is_file() {
        return Err(refuse(format!(
            "no Dockerfile {:?} inside the build context {} (dockerfile.file is relative to it and stays inside)",
            spec.file,
            context.display()
        )));
    }
    Ok(context)
}

/// The archive writer's failure, unless the engine simply stopped reading (then the build's
/// own error says why).
fn archive_error(
    joined: Result<io::Result<()>, tokio::task::JoinError>,
    context: &Path,
) -> Option<ImageError> {
    let source = match joined {
        Ok(Ok(())) => return None,
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => return None,
        Ok(Err(e)) => e,
        Err(e) => io::Error::other(e),
    };
    Some(ImageError::Io {
        what: format!("archiving the build context {}", context.display()),
        source,
    })
}
