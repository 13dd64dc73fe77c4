//! A variant's image as stored in the registry, as recorded in run.json.

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// A variant's image as stored in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredImage {
    /// Repository in the registry (`coldbench/<variant>`).
    pub repository: String,
    /// Tag in the registry.
    pub tag: String,
    /// Manifest digest.
    pub digest: Digest,
    /// Config blob digest.
    pub config_digest: Digest,
    /// Bytes a cold pull moves: config plus compressed layers.
    pub compressed_size: u64,
    /// Uncompressed size of the layers.
    pub uncompressed_size: u64,
    /// Layers, base first.
    pub layers: Vec<LayerInfo>,
}

/// One layer of a stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Compressed size.
    pub size: u64,
    /// Digest of the uncompressed tar.
    pub diff_id: Digest,
    /// Uncompressed size.
    pub uncompressed_size: u64,
    /// What made it.
    pub created_by: String,
}
