//! Salting (`cold = "salt"`): a copy of a stored image in which every layer holds one more tiny
//! file, so every layer digest and diff ID is new and no node can have any of them cached.
//!
//! The salt file (`/.coldbench-salt`, holding the salt string) is one tar entry — a 512-byte
//! header and one 512-byte block — put *before* the layer's own entries. For a gzip layer it is
//! its own small gzip member followed by the original blob byte for byte: gzip readers (Go's,
//! pigz, zlib's) read concatenated members as one stream, as eStargz layers rely on, so the tar
//! the runtime unpacks is the salt entry then the original tar. Prepending instead of appending
//! means no recompression: the compressed layer grows by the member alone (about 100 bytes,
//! under 400 for the longest salt) whatever compressor and level made the original, and salting a
//! GB layer costs one streaming read, one decompression (for the diff ID) and one write, with
//! nothing held in memory. Uncompressed tar layers grow by exactly 1 KiB; zstd layers are refused.
//!
//! The config's `rootfs.diff_ids` and the manifest's descriptors are rewritten; every other
//! field of both is kept. Layer descriptors lose `annotations` and `urls`, which describe the
//! original bytes. Same image and salt → same bytes.

use std::fs::File;
use std::io::{self, Read, Write};

use flate2::read::MultiGzDecoder;
use flate2::{Compression, GzBuilder};
use serde_json::Value;

use super::hashing::HashingWriter;
use super::{LayerInfo, StoredImage};
use crate::registry::{Digest, Reference, Store, StoreError};

/// Path of the salt file inside every salted layer.
pub const SALT_PATH: &str = ".coldbench-salt";
/// Longest salt accepted: the salt file then fits one 512-byte tar block.
pub const MAX_SALT_LEN: usize = 511;
/// Largest manifest or config read into memory.
const MAX_DOCUMENT: u64 = 16 * 1024 * 1024;
/// Read buffer of the layer copy.
const CHUNK: usize = 256 * 1024;

/// Errors salting an image.
#[derive(Debug, thiserror::Error)]
pub enum SaltError {
    #[error("salting {image}: {source}")]
    Store { image: String, source: StoreError },
    #[error("salting {image}: {what}: {source}")]
    Io {
        image: String,
        what: String,
        source: io::Error,
    },
    #[error("salting {image}: {detail}")]
    Invalid { image: String, detail: String },
    #[error("salting {image}: layer {layer} is {media_type}; only gzip and uncompressed tar layers can be salted (push the image with gzip layers)")]
    UnsupportedLayer {
        image: String,
        layer: usize,
        media_type: String,
    },
    #[error("salt {salt:?} is {len} bytes; at most {MAX_SALT_LEN} fit the salt file")]
    SaltTooLong { salt: String, len: usize },
}

/// How a layer blob is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Gzip,
    Tar,
}

/// A salted layer blob, in the store.
#[derive(Debug, Clone)]
struct SaltedLayer {
    digest: Digest,
    size: u64,
    diff_id: Digest,
    uncompressed_size: u64,
    /// Diff ID of the original, as read back (checked against the config).
    original_diff_id: Digest,
}

/// Removes a salted image made by [`salt_image`] from `store`: its manifest, tag, config and
/// layers. Never call it on an unsalted image: its blobs may be shared.
pub fn remove_salted(store: &Store, image: &StoredImage) -> Result<(), StoreError> {
    store.delete_manifest(&image.repository, &image.digest)?;
    store.remove_blob(&image.digest)?;
    store.remove_blob(&image.config_digest)?;
    for layer in &image.layers {
        store.remove_blob(&layer.digest)?;
    }
    Ok(())
}

/// Publishes a salted copy of `image` (already in `store`) as `repository:tag` and returns it.
/// Every layer gets [`SALT_PATH`] holding `salt`, so every layer digest and diff ID is new;
/// the bytes a pull moves grow by under 2 KiB per layer. Deterministic for a given salt.
pub fn salt_image(
    store: &Store,
    image: &StoredImage,
    salt: &str,
    repository: &str,
    tag: &str,
) -> Result<StoredImage, SaltError> {
    if salt.len() > MAX_SALT_LEN {
        return Err(SaltError::SaltTooLong {
            salt: salt.to_string(),
            len: salt.len(),
        });
    }
    let ctx = Ctx {
        store,
        image: format!("{}:{} ({})", image.repository, image.tag, image.digest),
    };
    let (media_type, mut manifest) = ctx.read_manifest(image)?;
    let config_digest = ctx.descriptor_digest(&manifest["config"], "the config")?;
    let mut config = ctx.read_json(&config_digest, "the config")?;
    let layers = ctx.layer_descriptors(&manifest)?;
    let diff_ids = ctx.diff_ids(&config, layers.len())?;

    let entry = salt_entry(salt);
    let mut salted = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let s = ctx.salt_layer(i, layer, &entry)?;
        if s.original_diff_id != diff_ids[i] {
            return Err(ctx.invalid(format!(
                "layer {i} ({}) decompresses to {}, but the config says {}: the stored image is damaged; build or import it again",
                s.digest, s.original_diff_id, diff_ids[i]
            )));
        }
        salted.push(s);
    }

    config["rootfs"]["diff_ids"] = salted.iter().map(|s| s.diff_id.as_str()).collect();
    let config_bytes = serde_json::to_vec(&config).map_err(|e| ctx.invalid(e.to_string()))?;
    let new_config = ctx.put_blob(&config_bytes)?;
    rewrite_manifest(
        &mut manifest,
        &new_config,
        config_bytes.len() as u64,
        &salted,
    );
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ctx.invalid(e.to_string()))?;
    let digest = store
        .put_manifest(repository, tag, &media_type, &manifest_bytes)
        .map_err(|e| ctx.store_err(e))?;
    Ok(stored_image(
        image,
        repository,
        tag,
        digest,
        new_config,
        config_bytes.len() as u64,
        &salted,
    ))
}

/// The salt file as one tar entry: a header and the salt padded to 512 bytes.
fn salt_entry(salt: &str) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Regular);
    // A ≤ 100-byte ASCII path never fails.
    let _ = header.set_path(SALT_PATH);
    header.set_mode(0o644);
    header.set_size(salt.len() as u64 + 1);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_cksum();
    let mut entry = header.as_bytes().to_vec();
    entry.extend_from_slice(salt.as_bytes());
    entry.push(b'\n');
    entry.resize(1024, 0);
    entry
}

/// `entry` as a gzip member of its own (no timestamp, no name: deterministic).
fn gzip_member(entry: &[u8]) -> io::Result<Vec<u8>> {
    let mut gz = GzBuilder::new().write(Vec::new(), Compression::best());
    gz.write_all(entry)?;
    gz.finish()
}

/// The layer encoding a media type names; `None` for what cannot be salted (zstd, foreign…).
fn encoding(media_type: &str) -> Option<Encoding> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip" => Some(Encoding::Gzip),
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Some(Encoding::Tar),
        _ => None,
    }
}

/// The manifest pointed at the new config and layers; layer annotations and URLs dropped.
fn rewrite_manifest(
    manifest: &mut Value,
    config: &Digest,
    config_size: u64,
    salted: &[SaltedLayer],
) {
    manifest["config"]["digest"] = config.as_str().into();
    manifest["config"]["size"] = config_size.into();
    if let Some(layers) = manifest["layers"].as_array_mut() {
        for (layer, s) in layers.iter_mut().zip(salted) {
            layer["digest"] = s.digest.as_str().into();
            layer["size"] = s.size.into();
            if let Some(fields) = layer.as_object_mut() {
                fields.remove("annotations");
                fields.remove("urls");
            }
        }
    }
}

/// The salted image's record: the original's `created_by`s, the new digests and sizes.
fn stored_image(
    original: &StoredImage,
    repository: &str,
    tag: &str,
    digest: Digest,
    config_digest: Digest,
    config_size: u64,
    salted: &[SaltedLayer],
) -> StoredImage {
    let layers: Vec<LayerInfo> = salted
        .iter()
        .enumerate()
        .map(|(i, s)| LayerInfo {
            digest: s.digest.clone(),
            size: s.size,
            diff_id: s.diff_id.clone(),
            uncompressed_size: s.uncompressed_size,
            created_by: original
                .layers
                .get(i)
                .map(|l| l.created_by.clone())
                .unwrap_or_default(),
        })
        .collect();
    StoredImage {
        repository: repository.to_string(),
        tag: tag.to_string(),
        digest,
        config_digest,
        compressed_size: config_size + layers.iter().map(|l| l.size).sum::<u64>(),
        uncompressed_size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
    }
}

/// The store and the image being salted, for reading and for error messages.
struct Ctx<'a> {
    store: &'a Store,
    image: String,
}

impl Ctx<'_> {
    fn invalid(&self, detail: impl Into<String>) -> SaltError {
        SaltError::Invalid {
            image: self.image.clone(),
            detail: detail.into(),
        }
    }

    fn store_err(&self, source: StoreError) -> SaltError {
        SaltError::Store {
            image: self.image.clone(),
            source,
        }
    }

    fn io_err(&self, what: impl Into<String>) -> impl FnOnce(io::Error) -> SaltError + '_ {
        let what = what.into();
        move |source| SaltError::Io {
            image: self.image.clone(),
            what,
            source,
        }
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<Digest, SaltError> {
        self.store.put_blob(bytes).map_err(|e| self.store_err(e))
    }

    /// The image's manifest: its media type and its JSON.
    fn read_manifest(&self, image: &StoredImage) -> Result<(String, Value), SaltError> {
        let reference = Reference::Digest(image.digest.clone());
        let info = self
            .store
            .manifest(&image.repository, &reference)
            .map_err(|e| self.store_err(e))?
            .ok_or_else(|| {
                self.invalid("its manifest is not in the store: build or import the image first")
            })?;
        Ok((
            info.media_type,
            self.read_json(&image.digest, "the manifest")?,
        ))
    }

    /// A small JSON blob (manifest or config) from the store.
    fn read_json(&self, digest: &Digest, what: &str) -> Result<Value, SaltError> {
        let (file, size) = self.open_blob(digest, what)?;
        if size > MAX_DOCUMENT {
            return Err(self.invalid(format!(
                "{what} ({digest}) is {size} bytes, too large to be one"
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        file.take(MAX_DOCUMENT)
            .read_to_end(&mut bytes)
            .map_err(self.io_err(format!("reading {what} ({digest})")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| self.invalid(format!("{what} ({digest}) is not valid JSON: {e}")))
    }

    fn open_blob(&self, digest: &Digest, what: &str) -> Result<(File, u64), SaltError> {
        self.store
            .open_blob(digest)
            .map_err(|e| self.store_err(e))?
            .ok_or_else(|| {
                self.invalid(format!(
                    "{what} ({digest}) is not in the store: build or import the image again"
                ))
            })
    }

    fn descriptor_digest(&self, descriptor: &Value, what: &str) -> Result<Digest, SaltError> {
        descriptor["digest"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .ok_or_else(|| self.invalid(format!("the manifest has no valid digest for {what}")))
    }

    /// Each layer's (media type, digest), base first.
    fn layer_descriptors(&self, manifest: &Value) -> Result<Vec<(String, Digest)>, SaltError> {
        let layers = manifest["layers"].as_array().ok_or_else(|| {
            self.invalid("the manifest lists no layers (an index or a schema 1 manifest?)")
        })?;
        layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let media_type = layer["mediaType"].as_str().unwrap_or_default().to_string();
                Ok((
                    media_type,
                    self.descriptor_digest(layer, &format!("layer {i}"))?,
                ))
            })
            .collect()
    }

    /// The config's `rootfs.diff_ids`, one per layer.
    fn diff_ids(&self, config: &Value, layers: usize) -> Result<Vec<Digest>, SaltError> {
        let ids: Option<Vec<Digest>> = config["rootfs"]["diff_ids"].as_array().map(|ids| {
            ids.iter()
                .filter_map(|d| d.as_str()?.parse().ok())
                .collect()
        });
        match ids {
            Some(ids) if ids.len() == layers => Ok(ids),
            _ => Err(self.invalid(format!(
                "the config's rootfs.diff_ids are not {layers} valid digests, one per layer"
            ))),
        }
    }

    /// Writes the salted copy of layer `index` into the store.
    fn salt_layer(
        &self,
        index: usize,
        (media_type, digest): &(String, Digest),
        entry: &[u8],
    ) -> Result<SaltedLayer, SaltError> {
        let encoding = encoding(media_type).ok_or_else(|| SaltError::UnsupportedLayer {
            image: self.image.clone(),
            layer: index,
            media_type: media_type.clone(),
        })?;
        let what = format!("layer {index} ({digest})");
        let (file, _) = self.open_blob(digest, &what)?;
        let blob = self.store.blob_writer().map_err(|e| self.store_err(e))?;
        let copied = match encoding {
            Encoding::Gzip => copy_gzip(file, blob, entry),
            Encoding::Tar => copy_tar(file, blob, entry),
        };
        let (blob, diff_id, uncompressed_size, original_diff_id) =
            copied.map_err(self.io_err(what))?;
        let (digest, size) = blob.commit().map_err(|e| self.store_err(e))?;
        Ok(SaltedLayer {
            diff_id: diff_id.unwrap_or_else(|| digest.clone()),
            digest,
            size,
            uncompressed_size: uncompressed_size.unwrap_or(size),
            original_diff_id,
        })
    }
}

/// What a layer copy yields: the blob, the new diff ID and uncompressed size (`None` for a tar
/// layer: the blob's own digest and size), and the original's diff ID.
type Copied = (
    crate::registry::BlobWriter,
    Option<Digest>,
    Option<u64>,
    Digest,
);

/// gzip layer: the salt member, then the original blob byte for byte; both tar streams (salted
/// and original) are hashed from one decompression of the original.
fn copy_gzip(src: File, mut blob: crate::registry::BlobWriter, entry: &[u8]) -> io::Result<Copied> {
    blob.write_all(&gzip_member(entry)?)?;
    let mut salted = HashingWriter::new(io::sink());
    salted.write_all(entry)?;
    let mut tee = TeeWriter(salted, HashingWriter::new(io::sink()));
    {
        let reader = TeeReader {
            inner: src,
            copy: &mut blob,
        };
        let mut decoder = MultiGzDecoder::new(io::BufReader::with_capacity(CHUNK, reader));
        io::copy(&mut decoder, &mut tee)
            .map_err(|e| io::Error::new(e.kind(), format!("not valid gzip: {e}")))?;
        // Whatever the decoder did not need still belongs to the blob.
        io::copy(decoder.get_mut().get_mut(), &mut io::sink())?;
    }
    let TeeWriter(salted, original) = tee;
    let (_, diff_id, uncompressed) = salted.finish();
    let (_, original_diff_id, _) = original.finish();
    Ok((blob, Some(diff_id), Some(uncompressed), original_diff_id))
}

/// Uncompressed tar layer: the salt entry, then the original byte for byte.
fn copy_tar(
    mut src: File,
    mut blob: crate::registry::BlobWriter,
    entry: &[u8],
) -> io::Result<Copied> {
    blob.write_all(entry)?;
    let mut tee = TeeWriter(blob, HashingWriter::new(io::sink()));
    io::copy(&mut src, &mut tee)?;
    let TeeWriter(blob, original) = tee;
    let (_, original_diff_id, _) = original.finish();
    Ok((blob, None, None, original_diff_id))
}

/// Writes everything to both writers.
struct TeeWriter<A, B>(A, B);

impl<A: Write, B: Write> Write for TeeWriter<A, B> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf)?;
        self.1.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// Copies everything read from `inner` to `copy`.
struct TeeReader<'a, R, W> {
    inner: R,
    copy: &'a mut W,
}

impl<R: Read, W: Write> Read for TeeReader<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
