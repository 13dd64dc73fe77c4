//! Copying an image from an upstream registry into the store, digests unchanged.
//!
//! Speaks the OCI distribution spec over HTTP(S) (reqwest with rustls): the manifest by tag or
//! digest (an index or manifest list resolves to the host platform's manifest), then the config
//! and layer blobs, each streamed into the store and checked against its digest. Anonymous
//! first; a `401` is answered with a bearer token or Basic credentials from the Docker config
//! file (see [`auth`]).
//!
//! Files: `reference` (parsing refs), `auth` (challenges, credentials, tokens), `client` (HTTP).

pub mod auth;
mod client;
mod reference;

use std::io::{Read, Write};

use futures_util::StreamExt;
use serde::Deserialize;

use crate::image::oci::{self, Descriptor, Manifest};
use crate::image::{LayerInfo, StoredImage};
use crate::registry::{valid_repository, valid_tag, Digest, Reference, Store, StoreError};
use client::Session;

pub use reference::UpstreamRef;

/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker schema 2 manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Largest manifest or config accepted (they are JSON documents of a few kB).
const MAX_DOCUMENT: u64 = 4 * 1024 * 1024;

/// Why a copy failed. Every variant names the upstream reference and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(
        "invalid upstream reference {0:?}: expected host[:port]/repository[:tag|@sha256:digest]"
    )]
    InvalidRef(String),
    #[error("upstream reference {input:?} has no registry host: Docker Hub short names are not supported offline; name the registry, e.g. {suggestion}")]
    ShortName { input: String, suggestion: String },
    #[error("cannot store {reference} as {repository}:{tag}: invalid repository name or tag")]
    InvalidDestination {
        reference: String,
        repository: String,
        tag: String,
    },
    #[error("{reference}: cannot reach {url}: {cause}; {hint}")]
    Transport {
        reference: String,
        url: String,
        cause: String,
        hint: &'static str,
    },
    #[error("{reference}: not authorized ({detail}); {hint}")]
    Unauthorized {
        reference: String,
        detail: String,
        hint: String,
    },
    #[error("{reference}: {what}: the registry answered HTTP {status} {body}; {hint}")]
    Status {
        reference: String,
        what: String,
        status: u16,
        body: String,
        hint: &'static str,
    },
    #[error("{reference}: {what} has digest {actual}, not {expected}: the registry sent corrupt or different content; try again, or check the digest")]
    DigestMismatch {
        reference: String,
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{reference}: {what} is {actual} bytes, not the {expected} its descriptor says: the registry sent truncated or different content; try again")]
    SizeMismatch {
        reference: String,
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("{reference}: {detail}")]
    Unsupported { reference: String, detail: String },
    #[error("{reference}: no linux/{architecture} image in the index (it has: {available}); pick a digest of another platform's manifest, or an image built for this one")]
    NoPlatform {
        reference: String,
        architecture: String,
        available: String,
    },
    #[error("{reference}: storing {what}: {source}")]
    Store {
        reference: String,
        what: String,
        source: StoreError,
    },
    #[error("{0}")]
    Other(String),
}

/// Copies `upstream` (for an index: the host platform's manifest) into `store` as
/// `repository:tag`, digests unchanged.
///
/// Blobs already in the store are not fetched again. The manifest is stored byte for byte with
/// its media type, and only after every blob it references is in place. Credentials come from
/// the Docker config file ([`auth::docker_config_path`]); a broken config file is warned about
/// and ignored (the pull then goes anonymous); credential helpers (`credsStore`,
/// `credHelpers`) are not run.
///
/// The returned [`StoredImage`]'s `uncompressed_size` (and each layer's) is 0: the registry
/// does not tell it, and the anatomy module computes it from the stored layers later.
pub async fn copy(
    upstream: &UpstreamRef,
    store: &Store,
    repository: &str,
    tag: &str,
) -> Result<StoredImage, UpstreamError> {
    let credentials = auth::docker_config_path().and_then(|path| {
        auth::credentials_from_config(&path, &upstream.host)
            .inspect_err(|e| tracing::warn!("upstream {upstream}: ignoring Docker config: {e}"))
            .ok()
            .flatten()
    });
    copy_with(upstream, store, repository, tag, credentials).await
}

/// [`copy`] with the credentials given (or none) instead of those in the Docker config file.
pub async fn copy_with(
    upstream: &UpstreamRef,
    store: &Store,
    repository: &str,
    tag: &str,
    credentials: Option<auth::Credentials>,
) -> Result<StoredImage, UpstreamError> {
    let name = upstream.to_string();
    if !valid_repository(repository) || !valid_tag(tag) {
        return Err(UpstreamError::InvalidDestination {
            reference: name,
            repository: repository.to_string(),
            tag: tag.to_string(),
        });
    }
    let mut session = Session::new(upstream, credentials)?;
    let (media_type, bytes, digest) = fetch_platform_manifest(&mut session, upstream).await?;
    let manifest = parse_manifest(&name, &media_type, &bytes)?;

    fetch_blob(&mut session, store, &name, "config", &manifest.config).await?;
    for (i, layer) in manifest.layers.iter().enumerate() {
        let what = format!("layer {}/{}", i + 1, manifest.layers.len());
        fetch_blob(&mut session, store, &name, &what, layer).await?;
    }
    let config = read_config(store, &name, &manifest.config)?;
    let layers = layer_infos(&name, &manifest, &config)?;

    let store_err = |what: &str| {
        let name = name.clone();
        let what = what.to_string();
        move |source| UpstreamError::Store {
            reference: name,
            what,
            source,
        }
    };
    let stored = store
        .put_manifest_ref(
            repository,
            &Reference::Tag(tag.to_string()),
            &media_type,
            &bytes,
        )
        .map_err(store_err("the manifest"))?;
    debug_assert_eq!(stored, digest);
    let compressed_size =
        manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>();
    tracing::debug!("upstream {name}: stored as {repository}:{tag} ({digest})");
    Ok(StoredImage {
        repository: repository.to_string(),
        tag: tag.to_string(),
        digest,
        config_digest: manifest.config.digest.clone(),
        compressed_size,
        uncompressed_size: 0,
        layers,
    })
}

/// The `Accept` header of manifest requests: every image manifest and index type we read.
fn manifest_accept() -> String {
    [
        oci::MANIFEST_V1,
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_MANIFEST_LIST,
    ]
    .join(", ")
}

/// Fetches the manifest `upstream` names; for an index, the linux/host-architecture entry's.
/// Returns its media type, bytes and (verified) digest.
async fn fetch_platform_manifest(
    session: &mut Session,
    upstream: &UpstreamRef,
) -> Result<(String, Vec<u8>, Digest), UpstreamError> {
    let name = upstream.to_string();
    let (media_type, bytes, digest) =
        fetch_manifest(session, &name, &upstream.reference, upstream.digest()).await?;
    if !is_index(&media_type, &bytes) {
        return Ok((media_type, bytes, digest));
    }
    let entry = choose_platform(&name, &bytes, oci::host_architecture())?;
    tracing::debug!(
        "upstream {name}: index {digest} → linux/{} manifest {}",
        oci::host_architecture(),
        entry
    );
    let (media_type, bytes, digest) =
        fetch_manifest(session, &name, entry.as_str(), Some(entry.clone())).await?;
    if is_index(&media_type, &bytes) {
        return Err(UpstreamError::Unsupported {
            reference: name,
            detail: format!("the index entry {entry} is itself an index: nested indexes are not supported; name a platform manifest by digest"),
        });
    }
    Ok((media_type, bytes, digest))
}

/// GETs one manifest and checks its digest against `expected` (asked by digest) or else the
/// `Docker-Content-Digest` header when the registry sent one.
async fn fetch_manifest(
    session: &mut Session,
    name: &str,
    reference: &str,
    expected: Option<Digest>,
) -> Result<(String, Vec<u8>, Digest), UpstreamError> {
    let url = session.url(&format!("manifests/{reference}"));
    let what = format!("manifest {reference}");
    let response = session.get(&url, Some(&manifest_accept()), &what).await?;
    let header_digest = response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<Digest>().ok());
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let bytes = read_small(session, name, &what, &url, response).await?;
    let actual = Digest::of(&bytes);
    if let Some(expected) = expected.or(header_digest) {
        if expected != actual {
            return Err(UpstreamError::DigestMismatch {
                reference: name.to_string(),
                what,
                expected,
                actual,
            });
        }
    }
    let media_type = media_type_of(content_type.as_deref(), &bytes).ok_or_else(|| {
        UpstreamError::Unsupported {
            reference: name.to_string(),
            detail: format!("{what} has no media type (neither Content-Type nor mediaType)"),
        }
    })?;
    Ok((media_type, bytes, actual))
}

/// Reads a small response body whole, refusing anything over [`MAX_DOCUMENT`].
async fn read_small(
    session: &Session,
    name: &str,
    what: &str,
    url: &str,
    response: reqwest::Response,
) -> Result<Vec<u8>, UpstreamError> {
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| session.transport(url, e))?;
        out.extend_from_slice(&chunk);
        if out.len() as u64 > MAX_DOCUMENT {
            return Err(UpstreamError::Unsupported {
                reference: name.to_string(),
                detail: format!("{what} is larger than {MAX_DOCUMENT} bytes: not a manifest"),
            });
        }
    }
    Ok(out)
}

/// The manifest's media type: a specific `Content-Type`, else its own `mediaType` field.
fn media_type_of(content_type: Option<&str>, bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Typed {
        #[serde(default)]
        media_type: Option<String>,
    }
    let generic = |t: &&str| {
        matches!(
            *t,
            "" | "application/json" | "text/plain" | "application/octet-stream"
        )
    };
    content_type
        .filter(|t| !generic(t))
        .map(str::to_string)
        .or_else(|| {
            serde_json::from_slice::<Typed>(bytes)
                .ok()
                .and_then(|t| t.media_type)
        })
}

/// True for an OCI index or Docker manifest list (by media type, or by shape when untyped).
fn is_index(media_type: &str, bytes: &[u8]) -> bool {
    if media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST {
        return true;
    }
    #[derive(Deserialize)]
    struct Shape {
        manifests: Option<serde_json::Value>,
        layers: Option<serde_json::Value>,
    }
    serde_json::from_slice::<Shape>(bytes)
        .is_ok_and(|s| s.manifests.is_some() && s.layers.is_none())
}

/// The digest of the index entry for linux/`architecture` (the first, if several variants).
fn choose_platform(name: &str, bytes: &[u8], architecture: &str) -> Result<Digest, UpstreamError> {
    #[derive(Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        digest: Digest,
        #[serde(default)]
        platform: Option<Platform>,
    }
    #[derive(Deserialize)]
    struct Platform {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        variant: Option<String>,
    }
    let index: Index = serde_json::from_slice(bytes).map_err(|e| UpstreamError::Unsupported {
        reference: name.to_string(),
        detail: format!("the image index is not valid: {e}"),
    })?;
    let found = index.manifests.iter().find(|e| {
        e.platform
            .as_ref()
            .is_some_and(|p| p.os == "linux" && p.architecture == architecture)
    });
    match found {
        Some(entry) => Ok(entry.digest.clone()),
        None => {
            let available: Vec<String> = index
                .manifests
                .iter()
                .map(|e| match &e.platform {
                    Some(p) => match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    },
                    None => "unknown platform".to_string(),
                })
                .collect();
            Err(UpstreamError::NoPlatform {
                reference: name.to_string(),
                architecture: architecture.to_string(),
                available: if available.is_empty() {
                    "nothing".to_string()
                } else {
                    available.join(", ")
                },
            })
        }
    }
}

/// Parses an image manifest (OCI or Docker schema 2; schema 1 is refused).
fn parse_manifest(name: &str, media_type: &str, bytes: &[u8]) -> Result<Manifest, UpstreamError> {
    let unsupported = |detail: String| UpstreamError::Unsupported {
        reference: name.to_string(),
        detail,
    };
    if media_type.contains("distribution.manifest.v1") {
        return Err(unsupported(format!(
            "{media_type} (Docker schema 1) is not supported: push the image again with a current client"
        )));
    }
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| unsupported(format!("the manifest ({media_type}) is not valid: {e}")))?;
    if manifest.schema_version != 2 {
        return Err(unsupported(format!(
            "manifest schemaVersion {} is not supported",
            manifest.schema_version
        )));
    }
    Ok(manifest)
}

/// Streams a blob into the store unless it is there already; checks its size and digest.
async fn fetch_blob(
    session: &mut Session,
    store: &Store,
    name: &str,
    what: &str,
    descriptor: &Descriptor,
) -> Result<(), UpstreamError> {
    let digest = &descriptor.digest;
    let what = format!("{what} blob {digest}");
    if store.blob_size(digest).is_some() {
        tracing::debug!("upstream {name}: {what} already stored");
        return Ok(());
    }
    let store_err = |source| UpstreamError::Store {
        reference: name.to_string(),
        what: what.clone(),
        source,
    };
    let url = session.url(&format!("blobs/{digest}"));
    let response = session.get(&url, None, &what).await?;
    let mut writer = store.blob_writer().map_err(store_err)?;
    let mut stream = response.bytes_stream();
    let too_long = |actual| UpstreamError::SizeMismatch {
        reference: name.to_string(),
        what: what.clone(),
        expected: descriptor.size,
        actual,
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| session.transport(&url, e))?;
        // Buffered writes into the page cache: short enough not to stall the runtime.
        writer.write_all(&chunk).map_err(|source| {
            store_err(StoreError::Io {
                what: "write blob to the store".into(),
                source,
            })
        })?;
        if writer.size() > descriptor.size {
            return Err(too_long(writer.size()));
        }
    }
    if writer.size() != descriptor.size {
        return Err(too_long(writer.size()));
    }
    match writer.commit_expecting(digest) {
        Ok(_) => Ok(()),
        Err(StoreError::DigestMismatch { expected, actual }) => {
            Err(UpstreamError::DigestMismatch {
                reference: name.to_string(),
                what,
                expected,
                actual,
            })
        }
        Err(e) => Err(store_err(e)),
    }
}

/// The parts of an image config that describe layers.
#[derive(Debug, Default, Deserialize)]
struct LayerConfig {
    #[serde(default)]
    rootfs: Option<RootFs>,
    #[serde(default)]
    history: Vec<oci::History>,
}

#[derive(Debug, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

/// Reads and parses the stored config blob.
fn read_config(
    store: &Store,
    name: &str,
    descriptor: &Descriptor,
) -> Result<LayerConfig, UpstreamError> {
    let store_err = |source| UpstreamError::Store {
        reference: name.to_string(),
        what: format!("config blob {}", descriptor.digest),
        source,
    };
    let missing = || {
        store_err(StoreError::Io {
            what: "read the config blob".into(),
            source: std::io::ErrorKind::NotFound.into(),
        })
    };
    let (file, size) = store
        .open_blob(&descriptor.digest)
        .map_err(store_err)?
        .ok_or_else(missing)?;
    if size > MAX_DOCUMENT {
        return Err(UpstreamError::Unsupported {
            reference: name.to_string(),
            detail: format!("the config blob is {size} bytes: too large for an image config"),
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_DOCUMENT)
        .read_to_end(&mut bytes)
        .map_err(|source| {
            store_err(StoreError::Io {
                what: "read the config blob".into(),
                source,
            })
        })?;
    serde_json::from_slice(&bytes).map_err(|e| UpstreamError::Unsupported {
        reference: name.to_string(),
        detail: format!("the image config is not valid: {e}"),
    })
}

/// One [`LayerInfo`] per manifest layer: diff ID from `rootfs.diff_ids`, `created_by` from the
/// history entries that made a layer (`empty_layer` ones skipped); uncompressed sizes 0.
fn layer_infos(
    name: &str,
    manifest: &Manifest,
    config: &LayerConfig,
) -> Result<Vec<LayerInfo>, UpstreamError> {
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.as_slice())
        .unwrap_or_default();
    if diff_ids.len() != manifest.layers.len() {
        return Err(UpstreamError::Unsupported {
            reference: name.to_string(),
            detail: format!(
                "the manifest has {} layers but the config lists {} diff_ids",
                manifest.layers.len(),
                diff_ids.len()
            ),
        });
    }
    let mut history = config
        .history
        .iter()
        .filter(|h| h.empty_layer != Some(true))
        .map(|h| h.created_by.clone().unwrap_or_default());
    Ok(manifest
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| LayerInfo {
            digest: layer.digest.clone(),
            size: layer.size,
            diff_id: diff_id.clone(),
            uncompressed_size: 0,
            created_by: history.next().unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests;
