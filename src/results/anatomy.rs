//! What an image is made of, as recorded in run.json (read by [`crate::image::anatomy`]).

use serde::{Deserialize, Serialize};

/// What an image is made of, and the facts that make it slow or unsafe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anatomy {
    /// Config plus compressed layers (bytes a cold pull moves).
    pub compressed_size: u64,
    /// Sum of uncompressed layer tars.
    pub uncompressed_size: u64,
    /// Layers, base first.
    pub layers: Vec<LayerAnatomy>,
    /// `config.User` as written (`None`/empty means root).
    pub user: Option<String>,
    /// True when the container runs as root (no user, `root`, `0`, `0:…`).
    pub runs_as_root: bool,
    /// Entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// Cmd.
    pub cmd: Option<Vec<String>>,
    /// Shells present in the final filesystem (`/bin/sh`, `/bin/bash`, …).
    pub shells: Vec<String>,
    /// Package managers or their databases present (`dpkg`, `apk`, `rpm`).
    pub package_managers: Vec<String>,
    /// Regular files in the final filesystem.
    pub file_count: u64,
    /// The 10 largest regular files of the final filesystem, largest first.
    pub largest_files: Vec<FileEntry>,
}

/// One layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerAnatomy {
    /// Blob digest.
    pub digest: String,
    /// Compressed size.
    pub size: u64,
    /// Uncompressed tar size.
    pub uncompressed_size: u64,
    /// The instruction that made it (config history).
    pub created_by: Option<String>,
    /// Regular files in this layer.
    pub files: u64,
}

/// A file and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Absolute path in the image.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}
