//! Reading the manifest (through an index if need be) and the config of an image.

use std::io::Read;

use serde::Deserialize;

use super::AnatomyError;
use crate::image::oci::{self, Descriptor, History, Manifest, RuntimeConfig};
use crate::registry::{Digest, Store};

/// Largest manifest or config read into memory.
const MAX_DOCUMENT: u64 = 16 * 1024 * 1024;
/// How many indexes may be nested before the image manifest.
const MAX_INDEX_DEPTH: usize = 2;

/// Media types of manifest lists and indexes.
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
/// Docker schema 1, which has no config and is not supported.
const SCHEMA1_PREFIX: &str = "application/vnd.docker.distribution.manifest.v1";

/// Enough of any manifest-like document to tell which kind it is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
}

/// An image index or Docker manifest list.
#[derive(Deserialize)]
struct Index {
    manifests: Vec<IndexEntry>,
}

/// One entry of an index.
#[derive(Deserialize)]
struct IndexEntry {
    digest: Digest,
    #[serde(default)]
    platform: Option<Platform>,
}

/// The platform of an index entry.
#[derive(Deserialize)]
struct Platform {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
}

/// The parts of an image config the anatomy reads; lenient about everything else.
#[derive(Deserialize)]
pub(super) struct Config {
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    pub history: Option<Vec<History>>,
}

/// Reads the image manifest `digest` of `media_type`, following an index to the entry for
/// `linux` on the host's architecture.
pub(super) fn image_manifest(
    store: &Store,
    digest: &Digest,
    media_type: &str,
) -> Result<Manifest, AnatomyError> {
    let mut digest = digest.clone();
    let mut media_type = Some(media_type.to_string());
    for _ in 0..=MAX_INDEX_DEPTH {
        let bytes = read_document(store, &digest, None, "manifest")?;
        let probe: Probe = serde_json::from_slice(&bytes)
            .map_err(|e| AnatomyError::Invalid(format!("manifest {digest} is not JSON: {e}")))?;
        let kind = probe
            .media_type
            .clone()
            .or(media_type.take())
            .unwrap_or_default();
        if kind.starts_with(SCHEMA1_PREFIX) || probe.schema_version == Some(1) {
            return Err(AnatomyError::Invalid(format!(
                "manifest {digest} is Docker schema 1, which is not supported"
            )));
        }
        if probe.manifests.is_none() && !INDEX_TYPES.contains(&kind.as_str()) {
            return serde_json::from_slice(&bytes).map_err(|e| {
                AnatomyError::Invalid(format!("manifest {digest} is not an image manifest: {e}"))
            });
        }
        let index: Index = serde_json::from_slice(&bytes)
            .map_err(|e| AnatomyError::Invalid(format!("index {digest} is invalid: {e}")))?;
        let arch = oci::host_architecture();
        let entry = index
            .manifests
            .into_iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == arch)
            })
            .ok_or_else(|| {
                AnatomyError::Invalid(format!("index {digest} has no image for linux/{arch}"))
            })?;
        digest = entry.digest;
    }
    Err(AnatomyError::Invalid(format!(
        "manifest {digest}: indexes nested more than {MAX_INDEX_DEPTH} deep"
    )))
}

/// Reads and parses the config of `manifest`.
pub(super) fn config(store: &Store, manifest: &Manifest) -> Result<Config, AnatomyError> {
    let desc = &manifest.config;
    let bytes = read_document(store, &desc.digest, Some(desc), "config")?;
    serde_json::from_slice(&bytes).map_err(|e| {
        AnatomyError::Invalid(format!(
            "config {} is not an image config: {e}",
            desc.digest
        ))
    })
}

/// Reads a small blob whole, checking its size against `desc` and its digest.
fn read_document(
    store: &Store,
    digest: &Digest,
    desc: Option<&Descriptor>,
    what: &str,
) -> Result<Vec<u8>, AnatomyError> {
    let (file, size) = store.open_blob(digest)?.ok_or_else(|| {
        AnatomyError::Invalid(format!("{what} {digest} is missing from the store"))
    })?;
    if let Some(desc) = desc {
        check_size(what, desc, size)?;
    }
    if size > MAX_DOCUMENT {
        return Err(AnatomyError::Invalid(format!(
            "{what} {digest} is {size} bytes, more than a {what} should be"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_DOCUMENT)
        .read_to_end(&mut bytes)
        .map_err(|e| AnatomyError::Invalid(format!("reading {what} {digest}: {e}")))?;
    if Digest::of(&bytes) != *digest {
        return Err(AnatomyError::Invalid(format!(
            "{what} {digest}: stored content does not match its digest"
        )));
    }
    Ok(bytes)
}

/// `Invalid` unless the stored size of a blob is the one its descriptor gives.
pub(super) fn check_size(what: &str, desc: &Descriptor, stored: u64) -> Result<(), AnatomyError> {
    if stored == desc.size {
        Ok(())
    } else {
        Err(AnatomyError::Invalid(format!(
            "{what} {}: the manifest says {} bytes, the store holds {stored}",
            desc.digest, desc.size
        )))
    }
}
