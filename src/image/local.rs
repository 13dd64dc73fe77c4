//! Images from the local engine: exported through the API (`docker save` format), layers
//! gzip-compressed at a chosen level, and put into the store under the harness's repository.
//!
//! The config is kept byte for byte, so the stored config digest equals the engine's image ID
//! and the layers' diff_ids equal the engine's; only the compressed blobs are new.

use std::collections::HashMap;
use std::io::{self, Read};

use bollard::Docker;
use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::StreamExt;
use serde::Deserialize;

use super::hashing::HashingWriter;
use super::oci::{self, Descriptor, ImageConfig, Manifest};
use super::{ImageError, LayerInfo, StoredImage};
use crate::registry::{Digest, Store};

/// Default gzip level for exported layers (as `docker push` uses).
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 6;

/// One entry of `manifest.json` in a `docker save` archive.
#[derive(Debug, Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// Exports `image` from the engine and stores it as `repository:tag`.
pub async fn import(
    docker: &Docker,
    image: &str,
    store: &Store,
    repository: &str,
    tag: &str,
    level: u32,
) -> Result<StoredImage, ImageError> {
    let inspected = docker
        .inspect_image(image)
        .await
        .map_err(|e| ImageError::LocalImage {
            image: image.to_string(),
            cause: match e {
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                } => "no such image in the engine (build or load it first)".to_string(),
                other => other.to_string(),
            },
        })?;
    let size = inspected.size.map_or(0, |s| u64::try_from(s).unwrap_or(0));
    ensure_room_for_export(store, image, size)?;
    let archive = tempfile::tempfile().map_err(|source| ImageError::Io {
        what: "creating a temp file for the export".into(),
        source,
    })?;
    let mut writer = tokio::fs::File::from_std(archive);
    let mut stream = docker.export_image(image);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ImageError::LocalImage {
            image: image.to_string(),
            cause: format!("export failed: {e}"),
        })?;
        tokio::io::AsyncWriteExt::write_all(&mut writer, &chunk)
            .await
            .map_err(|source| ImageError::Io {
                what: format!("spooling the export of {image}"),
                source,
            })?;
    }
    let archive = writer.into_std().await;
    let (store, image, repository, tag) = (
        store.clone(),
        image.to_string(),
        repository.to_string(),
        tag.to_string(),
    );
    tokio::task::spawn_blocking(move || {
        from_archive(archive, &image, &store, &repository, &tag, level)
    })
    .await
    .map_err(|e| ImageError::Io {
        what: "image import thread".into(),
        source: io::Error::other(e),
    })?
}

/// Checks that the export spool (in the temp directory, about `size` bytes) and the layer
/// blobs (in the store, at most about `size` bytes) fit, together if on one filesystem.
fn ensure_room_for_export(store: &Store, image: &str, size: u64) -> Result<(), ImageError> {
    use std::os::unix::fs::MetadataExt;
    let tmp = std::env::temp_dir();
    let dev = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.dev()).ok();
    let what = format!("exporting {image}");
    if dev(&tmp).is_some() && dev(&tmp) == dev(store.dir()) {
        return super::space::ensure(store.dir(), size.saturating_mul(2), &what);
    }
    super::space::ensure(&tmp, size, &format!("{what} (spool)"))?;
    super::space::ensure(store.dir(), size, &format!("{what} (layers)"))
}

/// Reads a `docker save` archive (seekable) into the store.
fn from_archive(
    mut archive: std::fs::File,
    image: &str,
    store: &Store,
    repository: &str,
    tag: &str,
    level: u32,
) -> Result<StoredImage, ImageError> {
    let io_err = |what: &str| {
        let what = format!("{what} ({image})");
        move |source: io::Error| ImageError::Io {
            what: what.clone(),
            source,
        }
    };
    let invalid = |msg: String| ImageError::LocalImage {
        image: image.to_string(),
        cause: msg,
    };

    // Pass 1: the small JSON files (manifest.json, the config).
    let mut json: HashMap<String, Vec<u8>> = HashMap::new();
    rewind(&mut archive).map_err(io_err("reading the export"))?;
    for entry in tar::Archive::new(&mut archive)
        .entries()
        .map_err(io_err("reading the export"))?
    {
        let mut entry = entry.map_err(io_err("reading the export"))?;
        let path = entry_path(&entry);
        if path.ends_with(".json") && entry.size() < 16 * 1024 * 1024 {
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(io_err("reading the export"))?;
            json.insert(path, bytes);
        }
    }
    let manifest_json = json
        .get("manifest.json")
        .ok_or_else(|| invalid("the export has no manifest.json".into()))?;
    let entries: Vec<SaveEntry> = serde_json::from_slice(manifest_json)
        .map_err(|e| invalid(format!("manifest.json: {e}")))?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| invalid("the export lists no image".into()))?;
    let config_bytes = json
        .remove(&entry.config)
        .ok_or_else(|| invalid(format!("the export lacks its config {}", entry.config)))?;
    let config: ImageConfig =
        serde_json::from_slice(&config_bytes).map_err(|e| invalid(format!("image config: {e}")))?;

    // Pass 2: compress each layer tar into a blob, hashing it for its diff_id.
    let mut layers_by_path: HashMap<String, (Digest, u64, Digest, u64)> = HashMap::new();
    rewind(&mut archive).map_err(io_err("reading the export"))?;
    for e in tar::Archive::new(&mut archive)
        .entries()
        .map_err(io_err("reading the export"))?
    {
        let mut e = e.map_err(io_err("reading the export"))?;
        let path = entry_path(&e);
        if !entry.layers.contains(&path) || layers_by_path.contains_key(&path) {
            continue;
        }
        let blob = store.blob_writer()?;
        let mut gz = HashingWriter::new(GzEncoder::new(blob, Compression::new(level)));
        io::copy(&mut e, &mut gz).map_err(io_err("compressing a layer"))?;
        let (gz, diff_id, uncompressed) = gz.finish();
        let blob = gz.finish().map_err(io_err("compressing a layer"))?;
        let (digest, size) = blob.commit()?;
        layers_by_path.insert(path, (digest, size, diff_id, uncompressed));
    }

    let created_by: Vec<String> = config
        .history
        .iter()
        .filter(|h| h.empty_layer != Some(true))
        .map(|h| h.created_by.clone().unwrap_or_default())
        .collect();
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (i, path) in entry.layers.iter().enumerate() {
        let (digest, size, diff_id, uncompressed_size) = layers_by_path
            .get(path)
            .cloned()
            .ok_or_else(|| invalid(format!("the export lacks layer {path}")))?;
        if config.rootfs.diff_ids.get(i) != Some(&diff_id) {
            return Err(invalid(format!(
                "layer {path} hashes to {diff_id}, but the config says {:?}",
                config.rootfs.diff_ids.get(i)
            )));
        }
        layers.push(LayerInfo {
            digest,
            size,
            diff_id,
            uncompressed_size,
            created_by: created_by.get(i).cloned().unwrap_or_default(),
        });
    }
    store_image(store, repository, tag, &config_bytes, layers)
}

/// Writes the config and an OCI manifest for `layers` (gzip) and tags it.
pub(crate) fn store_image(
    store: &Store,
    repository: &str,
    tag: &str,
    config_bytes: &[u8],
    layers: Vec<LayerInfo>,
) -> Result<StoredImage, ImageError> {
    let config_digest = store.put_blob(config_bytes)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::MANIFEST_V1.into()),
        config: Descriptor {
            media_type: oci::CONFIG_V1.into(),
            digest: config_digest.clone(),
            size: config_bytes.len() as u64,
        },
        layers: layers
            .iter()
            .map(|l| Descriptor {
                media_type: oci::LAYER_TAR_GZIP.into(),
                digest: l.digest.clone(),
                size: l.size,
            })
            .collect(),
    };
    let bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ImageError::Json("manifest", e))?;
    let digest = store.put_manifest(repository, tag, oci::MANIFEST_V1, &bytes)?;
    Ok(StoredImage {
        repository: repository.to_string(),
        tag: tag.to_string(),
        digest,
        config_digest,
        compressed_size: config_bytes.len() as u64 + layers.iter().map(|l| l.size).sum::<u64>(),
        uncompressed_size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
    })
}

fn rewind(f: &mut std::fs::File) -> io::Result<()> {
    io::Seek::seek(f, io::SeekFrom::Start(0)).map(|_| ())
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry
        .path()
        .map(|p| p.to_string_lossy().trim_start_matches("./").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_larger_than_the_free_space_is_refused_before_spooling() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let e = ensure_room_for_export(&store, "big:1", u64::MAX / 4).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("exporting big:1") && msg.contains("free"),
            "{msg}"
        );
        if crate::image::space::free_bytes(dir.path()).unwrap()
            > 4 * super::super::space::MARGIN_BYTES
        {
            assert!(ensure_room_for_export(&store, "small:1", 0).is_ok());
        }
    }
}
