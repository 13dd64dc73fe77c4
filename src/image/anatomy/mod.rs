//! Anatomy of an image in the store: sizes, layers, user, shell, package manager, files.
//!
//! Files: `docs` (manifest, index and config), `layer` (streaming one layer tar), `fs` (the
//! final filesystem with whiteouts applied), `render` (terminal text and table flags).

use crate::registry::{Reference, Store};

mod docs;
mod fs;
mod layer;
#[cfg(test)]
mod tests;

pub use crate::results::{Anatomy, FileEntry, LayerAnatomy};

/// Shells looked for in the final filesystem.
pub const SHELLS: [&str; 7] = [
    "/bin/sh",
    "/bin/bash",
    "/bin/ash",
    "/bin/dash",
    "/bin/zsh",
    "/usr/bin/bash",
    "/usr/bin/sh",
];

/// How many of the largest files an anatomy lists.
pub const LARGEST: usize = 10;

/// Why an anatomy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AnatomyError {
    /// The store failed, or the repository or reference is malformed.
    #[error(transparent)]
    Store(#[from] crate::registry::StoreError),
    /// The image is missing, inconsistent or in a form not supported.
    #[error("{0}")]
    Invalid(String),
}

/// Reads `repository:reference` (tag or digest) from `store` and analyzes it.
///
/// Every layer blob is streamed (gzip or plain tar), never held whole in memory.
pub fn analyze(store: &Store, repository: &str, reference: &str) -> Result<Anatomy, AnatomyError> {
    let parsed: Reference = reference.parse()?;
    let info = store.manifest(repository, &parsed)?.ok_or_else(|| {
        AnatomyError::Invalid(format!("{repository}:{reference} is not in the store"))
    })?;
    let manifest = docs::image_manifest(store, &info.digest, &info.media_type)?;
    let config = docs::config(store, &manifest)?;
    let runtime = config.config.unwrap_or_default();

    // History entries without a layer are skipped; the rest line up with the layers.
    let mut created_by = config
        .history
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.empty_layer != Some(true))
        .map(|h| h.created_by);

    let mut filesystem = fs::FinalFs::default();
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for (i, desc) in manifest.layers.iter().enumerate() {
        let what = format!("layer {} ({})", i + 1, desc.digest);
        let (file, stored) = store
            .open_blob(&desc.digest)?
            .ok_or_else(|| AnatomyError::Invalid(format!("{what} is missing from the store")))?;
        docs::check_size(&format!("layer {}", i + 1), desc, stored)?;
        let scan = layer::scan(file, &what, &filesystem)?;
        layers.push(LayerAnatomy {
            digest: desc.digest.to_string(),
            size: desc.size,
            uncompressed_size: scan.uncompressed_size,
            created_by: created_by.next().flatten(),
            files: scan.files,
        });
        filesystem.apply(scan.changes);
    }

    let user = runtime.user;
    Ok(Anatomy {
        compressed_size: manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>(),
        uncompressed_size: layers.iter().map(|l| l.uncompressed_size).sum(),
        layers,
        runs_as_root: runs_as_root(user.as_deref()),
        user,
        entrypoint: runtime.entrypoint,
        cmd: runtime.cmd,
        shells: SHELLS
            .iter()
            .filter(|s| is_executable_like(&filesystem, s))
            .map(|s| s.to_string())
            .collect(),
        package_managers: package_managers(&filesystem),
        file_count: filesystem.files().count() as u64,
        largest_files: largest_files(&filesystem, LARGEST),
    })
}

/// True when `user` (the config's `User`) means root: absent, empty, `root`, `0`, `0:…`,
/// `root:…`.
pub fn runs_as_root(user: Option<&str>) -> bool {
    let user = user.unwrap_or("").trim();
    user.is_empty()
        || user == "root"
        || user == "0"
        || user.starts_with("0:")
        || user.starts_with("root:")
}

/// True when `path` is a file, symlink or hard link.
fn is_executable_like(filesystem: &fs::FinalFs, path: &str) -> bool {
    filesystem.lookup(path).is_some_and(|n| {
        matches!(
            n.kind,
            fs::Kind::File | fs::Kind::Symlink(_) | fs::Kind::Hardlink(_)
        )
    })
}

/// `apk`, `dpkg`, `rpm`: those whose binary or database is present, sorted.
fn package_managers(filesystem: &fs::FinalFs) -> Vec<String> {
    let mut found = Vec::new();
    if filesystem.exists("/sbin/apk") || filesystem.exists("/lib/apk/db/installed") {
        found.push("apk".to_string());
    }
    if filesystem.exists("/usr/bin/dpkg") || filesystem.exists("/var/lib/dpkg/status") {
        found.push("dpkg".to_string());
    }
    if filesystem.exists("/usr/bin/rpm")
        || filesystem.dir_has_content("/var/lib/rpm")
        || filesystem.dir_has_content("/usr/lib/sysimage/rpm")
    {
        found.push("rpm".to_string());
    }
    found
}

/// The `n` largest regular files, largest first, ties by path.
fn largest_files(filesystem: &fs::FinalFs, n: usize) -> Vec<FileEntry> {
    let mut files: Vec<FileEntry> = filesystem
        .files()
        .map(|(path, node)| FileEntry {
            path: path.clone(),
            size: node.size,
        })
        .collect();
    files.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    files.truncate(n);
    files
}
