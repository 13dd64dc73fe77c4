//! Content-addressed on-disk store.
//!
//! Layout under the store directory:
//! - `blobs/sha256/<hex>`: every blob and every manifest, byte for byte;
//! - `repositories/<name>/_manifests/tags/<tag>`: the digest `repo:tag` points at;
//! - `repositories/<name>/_manifests/revisions/<hex>`: the manifests that belong to `repo`;
//! - `repositories/<name>/_manifests/media-types/<hex>`: the media type `repo` got the manifest
//!   with (kept per repository: a push to one never changes what another serves);
//! - `media-types/sha256/<hex>`: media types as stores of earlier versions kept them, once per
//!   digest; read only when a repository has none of its own;
//! - `tmp/`: files being written, renamed into place once complete.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use tempfile::{NamedTempFile, TempPath};

use super::names::{valid_repository, valid_tag};
pub use crate::digest::Digest;

impl From<crate::digest::InvalidDigest> for StoreError {
    fn from(e: crate::digest::InvalidDigest) -> Self {
        StoreError::InvalidDigest(e.0)
    }
}

/// Write buffer of a [`BlobWriter`] (freed when it is parked).
const BLOB_BUFFER: usize = 256 * 1024;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid digest {0:?}: expected sha256:<64 hex digits>")]
    InvalidDigest(String),
    #[error("invalid repository name {0:?}")]
    InvalidName(String),
    #[error("invalid tag {0:?}")]
    InvalidTag(String),
    #[error("content has digest {actual}, not the {expected} it was given as")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// Wraps an I/O error with what was being done.
fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Io { what, source }
}

/// How a manifest is named in a request: by tag or by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A tag such as `v1`.
    Tag(String),
    /// A manifest digest.
    Digest(Digest),
}

impl std::str::FromStr for Reference {
    type Err = StoreError;
    /// Anything with a `:` is a digest, anything else a tag.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            Ok(Reference::Digest(s.parse()?))
        } else if valid_tag(s) {
            Ok(Reference::Tag(s.to_string()))
        } else {
            Err(StoreError::InvalidTag(s.to_string()))
        }
    }
}

/// A stored manifest, as found by [`Store::manifest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestInfo {
    /// Digest of its bytes.
    pub digest: Digest,
    /// The media type it was pushed with.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The content-addressed store.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens (creating) a store in `dir`; leftovers of interrupted writes are removed.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let store = Store {
            dir: dir.to_path_buf(),
        };
        let tmp = store.dir.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err(format!("clean {}", tmp.display())))?;
        }
        for sub in ["blobs/sha256", "media-types/sha256", "repositories", "tmp"] {
            let path = store.dir.join(sub);
            fs::create_dir_all(&path).map_err(io_err(format!("create {}", path.display())))?;
        }
        Ok(store)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a small blob held in memory.
    pub fn put_blob(&self, data: &[u8]) -> Result<Digest, StoreError> {
        let mut writer = self.blob_writer()?;
        writer
            .write_all(data)
            .map_err(io_err("write blob to the store"))?;
        Ok(writer.commit()?.0)
    }

    /// A writer that hashes what it is given into a new blob; `commit` stores it.
    pub fn blob_writer(&self) -> Result<BlobWriter, StoreError> {
        let tmp = self.dir.join("tmp");
        let file = NamedTempFile::new_in(&tmp)
            .map_err(io_err(format!("create a file in {}", tmp.display())))?;
        Ok(BlobWriter {
            file: BufWriter::with_capacity(BLOB_BUFFER, file),
            hasher: Sha256::new(),
            size: 0,
            blobs: self.dir.join("blobs/sha256"),
        })
    }

    /// Where the blob `digest` is (or would be) stored.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.hex())
    }

    /// Size of a stored blob, `None` if absent.
    pub fn blob_size(&self, digest: &Digest) -> Option<u64> {
        fs::metadata(self.blob_path(digest))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    /// Removes blob `digest` (a reader that has it open keeps reading); false if absent. Only
    /// for blobs nothing else refers to, such as a salted image's.
    pub fn remove_blob(&self, digest: &Digest) -> Result<bool, StoreError> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(format!("remove {}", path.display()))(e)),
        }
    }

    /// Opens a stored blob for reading with its size; `None` if absent.
    pub fn open_blob(&self, digest: &Digest) -> Result<Option<(File, u64)>, StoreError> {
        let path = self.blob_path(digest);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(format!("open {}", path.display()))(e)),
        };
        let size = file
            .metadata()
            .map_err(io_err(format!("stat {}", path.display())))?
            .len();
        Ok(Some((file, size)))
    }

    /// Stores manifest bytes as given and points `repo:tag` at them; returns their digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, StoreError> {
        if !valid_tag(tag) {
            return Err(StoreError::InvalidTag(tag.to_string()));
        }
        self.put_manifest_ref(repo, &Reference::Tag(tag.to_string()), media_type, bytes)
    }

    /// Stores manifest bytes as given in `repo`, under a tag or under the digest they must have.
    pub fn put_manifest_ref(
        &self,
        repo: &str,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, StoreError> {
        let manifests = self.manifests_dir(repo)?;
        let digest = Digest::of(bytes);
        if let Reference::Digest(expected) = reference {
            if *expected != digest {
                return Err(StoreError::DigestMismatch {
                    expected: expected.clone(),
                    actual: digest,
                });
            }
        }
        if self.blob_size(&digest) != Some(bytes.len() as u64) {
            self.put_blob(bytes)?;
        }
        let type_path = manifests.join("media-types").join(digest.hex());
        self.write_small(&type_path, media_type.as_bytes())?;
        let revision = manifests.join("revisions").join(digest.hex());
        self.write_small(&revision, digest.as_str().as_bytes())?;
        if let Reference::Tag(tag) = reference {
            self.write_small(
                &manifests.join("tags").join(tag),
                digest.as_str().as_bytes(),
            )?;
        }
        Ok(digest)
    }

    /// Finds a manifest of `repo` by tag or digest; `None` if the repository has no such one.
    pub fn manifest(
        &self,
        repo: &str,
        reference: &Reference,
    ) -> Result<Option<ManifestInfo>, StoreError> {
        let manifests = self.manifests_dir(repo)?;
        let digest = match reference {
            Reference::Digest(digest) => {
                if !manifests.join("revisions").join(digest.hex()).is_file() {
                    return Ok(None);
                }
                digest.clone()
            }
            Reference::Tag(tag) => match read_small(&manifests.join("tags").join(tag))? {
                Some(text) => text.trim().parse()?,
                None => return Ok(None),
            },
        };
        let Some(size) = self.blob_size(&digest) else {
            return Ok(None);
        };
        let media_type = self.media_type(&manifests, &digest)?;
        Ok(Some(ManifestInfo {
            digest,
            media_type,
            size,
        }))
    }

    /// The media type `repo` holds manifest `digest` with: its own, else one kept by an earlier
    /// version of the store, else the OCI image manifest type.
    fn media_type(&self, manifests: &Path, digest: &Digest) -> Result<String, StoreError> {
        let own = manifests.join("media-types").join(digest.hex());
        let legacy = self.dir.join("media-types/sha256").join(digest.hex());
        for path in [own, legacy] {
            if let Some(text) = read_small(&path)? {
                if !text.trim().is_empty() {
                    return Ok(text.trim().to_string());
                }
            }
        }
        Ok("application/vnd.oci.image.manifest.v1+json".to_string())
    }

    /// Removes manifest `digest` from `repo`, with the tags pointing at it; false if absent.
    /// The bytes stay in the blob store (other repositories may share them).
    pub fn delete_manifest(&self, repo: &str, digest: &Digest) -> Result<bool, StoreError> {
        let manifests = self.manifests_dir(repo)?;
        let revision = manifests.join("revisions").join(digest.hex());
        if !revision.is_file() {
            return Ok(false);
        }
        for tag in self.tags(repo)?.unwrap_or_default() {
            let path = manifests.join("tags").join(&tag);
            if read_small(&path)?.is_some_and(|d| d.trim() == digest.as_str()) {
                remove_file(&path)?;
            }
        }
        remove_file(&revision)?;
        let own_type = manifests.join("media-types").join(digest.hex());
        match fs::remove_file(&own_type) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_err(format!("remove {}", own_type.display()))(e))
            }
            _ => Ok(true),
        }
    }

    /// True when something was ever pushed to `repo`.
    pub fn has_repository(&self, repo: &str) -> bool {
        self.manifests_dir(repo).is_ok_and(|dir| dir.is_dir())
    }

    /// The tags of `repo`, sorted; `None` if the repository is unknown.
    pub fn tags(&self, repo: &str) -> Result<Option<Vec<String>>, StoreError> {
        let manifests = self.manifests_dir(repo)?;
        if !manifests.is_dir() {
            return Ok(None);
        }
        let dir = manifests.join("tags");
        let mut tags = Vec::new();
        if dir.is_dir() {
            let entries = fs::read_dir(&dir).map_err(io_err(format!("list {}", dir.display())))?;
            for entry in entries {
                let entry = entry.map_err(io_err(format!("list {}", dir.display())))?;
                if let Some(name) = entry.file_name().to_str() {
                    if valid_tag(name) {
                        tags.push(name.to_string());
                    }
                }
            }
        }
        tags.sort();
        Ok(Some(tags))
    }

    /// Every repository that holds manifests, sorted.
    pub fn repositories(&self) -> Result<Vec<String>, StoreError> {
        let mut found = Vec::new();
        let mut pending = vec![String::new()];
        while let Some(prefix) = pending.pop() {
            let dir = self.dir.join("repositories").join(&prefix);
            let entries = fs::read_dir(&dir).map_err(io_err(format!("list {}", dir.display())))?;
            for entry in entries {
                let entry = entry.map_err(io_err(format!("list {}", dir.display())))?;
                let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                if !entry.path().is_dir() {
                    continue;
                }
                if name == "_manifests" {
                    found.push(prefix.clone());
                } else if prefix.len() + name.len() < 256 {
                    let child = if prefix.is_empty() {
                        name
                    } else {
                        format!("{prefix}/{name}")
                    };
                    pending.push(child);
                }
            }
        }
        found.retain(|name| valid_repository(name));
        found.sort();
        Ok(found)
    }

    /// `repositories/<repo>/_manifests`, after checking the name.
    fn manifests_dir(&self, repo: &str) -> Result<PathBuf, StoreError> {
        if !valid_repository(repo) {
            return Err(StoreError::InvalidName(repo.to_string()));
        }
        Ok(self.dir.join("repositories").join(repo).join("_manifests"))
    }

    /// Writes a small file atomically (temp file in the store, then rename).
    fn write_small(&self, path: &Path, data: &[u8]) -> Result<(), StoreError> {
        let what = || format!("write {}", path.display());
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(what()))?;
        }
        let mut file = NamedTempFile::new_in(self.dir.join("tmp")).map_err(io_err(what()))?;
        file.write_all(data).map_err(io_err(what()))?;
        file.persist(path).map_err(|e| io_err(what())(e.error))?;
        Ok(())
    }
}

/// Reads a small file; `None` if it does not exist.
fn read_small(path: &Path) -> Result<Option<String>, StoreError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(format!("read {}", path.display()))(e)),
    }
}

fn remove_file(path: &Path) -> Result<(), StoreError> {
    fs::remove_file(path).map_err(io_err(format!("remove {}", path.display())))
}

/// Streams a blob into the store while hashing it; dropped without `commit`, it leaves nothing.
#[derive(Debug)]
pub struct BlobWriter {
    file: BufWriter<NamedTempFile>,
    hasher: Sha256,
    size: u64,
    blobs: PathBuf,
}

impl std::io::Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Finishes the blob: moves it into place and returns its digest and size.
    pub fn commit(self) -> Result<(Digest, u64), StoreError> {
        self.finish(None)
    }

    /// Like [`BlobWriter::commit`], but stores nothing unless the content has digest `expected`.
    pub fn commit_expecting(self, expected: &Digest) -> Result<(Digest, u64), StoreError> {
        self.finish(Some(expected))
    }

    /// Flushes and closes the file: the partial blob stays on disk (no descriptor held, no
    /// buffer in memory) until `ParkedBlob::resume` or until the `ParkedBlob` is dropped.
    pub fn park(self) -> Result<ParkedBlob, StoreError> {
        let file = self
            .file
            .into_inner()
            .map_err(|e| io_err("flush blob")(e.into_error()))?;
        Ok(ParkedBlob {
            path: file.into_temp_path(),
            hasher: self.hasher,
            size: self.size,
            blobs: self.blobs,
        })
    }

    /// Drops everything written after `mark` was taken, then parks the blob.
    pub fn rewind(self, mark: Mark) -> Result<ParkedBlob, StoreError> {
        let (file, _unwritten) = self.file.into_parts();
        file.as_file()
            .set_len(mark.size)
            .map_err(io_err("truncate blob"))?;
        Ok(ParkedBlob {
            path: file.into_temp_path(),
            hasher: mark.hasher,
            size: mark.size,
            blobs: self.blobs,
        })
    }

    fn finish(self, expected: Option<&Digest>) -> Result<(Digest, u64), StoreError> {
        let digest = Digest::from_sha256(self.hasher.finalize().into());
        if let Some(expected) = expected {
            if *expected != digest {
                return Err(StoreError::DigestMismatch {
                    expected: expected.clone(),
                    actual: digest,
                });
            }
        }
        let file = self
            .file
            .into_inner()
            .map_err(|e| io_err("flush blob")(e.into_error()))?;
        let dest = self.blobs.join(digest.hex());
        file.persist(&dest)
            .map_err(|e| io_err(format!("store {}", dest.display()))(e.error))?;
        Ok((digest, self.size))
    }
}

/// A partial blob between two writes: on disk with its hash state, its file closed; dropped, it
/// is removed from the store's tmp directory.
#[derive(Debug)]
pub struct ParkedBlob {
    path: TempPath,
    hasher: Sha256,
    size: u64,
    blobs: PathBuf,
}

/// Where a partial blob was, for [`BlobWriter::rewind`].
#[derive(Debug, Clone)]
pub struct Mark {
    hasher: Sha256,
    size: u64,
}

impl ParkedBlob {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where it is now, to rewind to after a failed write.
    pub fn mark(&self) -> Mark {
        Mark {
            hasher: self.hasher.clone(),
            size: self.size,
        }
    }

    /// Reopens the file to write more; on failure the partial blob is gone.
    pub fn resume(self) -> Result<BlobWriter, StoreError> {
        let file = fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_err(format!("reopen {}", self.path.display())))?;
        Ok(BlobWriter {
            file: BufWriter::with_capacity(BLOB_BUFFER, NamedTempFile::from_parts(file, self.path)),
            hasher: self.hasher,
            size: self.size,
            blobs: self.blobs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn blob_files(store: &Store) -> usize {
        fs::read_dir(store.dir().join("blobs/sha256"))
            .unwrap()
            .count()
    }

    #[test]
    fn blobs_are_content_addressed() {
        let (_dir, store) = store();
        let digest = store.put_blob(b"hello").unwrap();
        assert_eq!(digest, Digest::of(b"hello"));
        assert_eq!(store.blob_size(&digest), Some(5));
        assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), b"hello");
        assert!(store.blob_size(&Digest::of(b"other")).is_none());
        assert!(store.open_blob(&Digest::of(b"other")).unwrap().is_none());
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"hel").unwrap();
        w.write_all(b"lo").unwrap();
        assert_eq!(w.commit().unwrap(), (digest, 5));
        assert_eq!(fs::read_dir(store.dir().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_digest_mismatch_stores_nothing() {
        let (_dir, store) = store();
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"actual").unwrap();
        let err = w.commit_expecting(&Digest::of(b"expected")).unwrap_err();
        assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
        assert_eq!(blob_files(&store), 0);
        assert_eq!(fs::read_dir(store.dir().join("tmp")).unwrap().count(), 0);
        let by_digest = Reference::Digest(Digest::of(b"{}"));
        assert!(store
            .put_manifest_ref("r", &by_digest, "x", b"{ }")
            .is_err());
        assert_eq!(blob_files(&store), 0);
    }

    #[test]
    fn manifests_keep_bytes_and_media_type() {
        let (_dir, store) = store();
        let bytes = b"{\"schemaVersion\": 2}";
        let digest = store
            .put_manifest("a/b/c", "v1", "application/x-test", bytes)
            .unwrap();
        let info = store
            .manifest("a/b/c", &"v1".parse().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(info.digest, digest);
        assert_eq!(info.media_type, "application/x-test");
        assert_eq!(info.size, bytes.len() as u64);
        assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), bytes);
        let by_digest = Reference::Digest(digest.clone());
        assert_eq!(store.manifest("a/b/c", &by_digest).unwrap(), Some(info));
        assert!(store.manifest("a/b", &by_digest).unwrap().is_none());
        assert!(store
            .manifest("a/b/c", &"v2".parse().unwrap())
            .unwrap()
            .is_none());
        assert_eq!(store.tags("a/b/c").unwrap(), Some(vec!["v1".to_string()]));
        assert_eq!(store.tags("nope").unwrap(), None);
        assert_eq!(store.repositories().unwrap(), vec!["a/b/c".to_string()]);
        assert!(store.delete_manifest("a/b/c", &digest).unwrap());
        assert_eq!(store.tags("a/b/c").unwrap(), Some(vec![]));
        assert!(store.manifest("a/b/c", &by_digest).unwrap().is_none());
    }

    #[test]
    fn bad_names_and_tags_are_rejected() {
        let (dir, store) = store();
        for name in ["../x", "/abs", "A", "a//b", ""] {
            let err = store.put_manifest(name, "v1", "t", b"{}").unwrap_err();
            assert!(matches!(err, StoreError::InvalidName(_)), "{name}: {err}");
            assert!(store.tags(name).is_err());
        }
        let err = store.put_manifest("a", "../v1", "t", b"{}").unwrap_err();
        assert!(matches!(err, StoreError::InvalidTag(_)), "{err}");
        assert!(!dir.path().parent().unwrap().join("x").exists());
        assert_eq!(blob_files(&store), 0);
    }

    #[test]
    fn a_parked_blob_resumes_rewinds_and_goes_when_dropped() {
        let (_dir, store) = store();
        let tmp_files = || fs::read_dir(store.dir().join("tmp")).unwrap().count();
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"hel").unwrap();
        let parked = w.park().unwrap();
        assert_eq!(parked.size(), 3);
        let mark = parked.mark();
        let mut w = parked.resume().unwrap();
        w.write_all(b"XYZ").unwrap();
        let mut w = w.rewind(mark).unwrap().resume().unwrap();
        w.write_all(b"lo").unwrap();
        assert_eq!(w.commit().unwrap(), (Digest::of(b"hello"), 5));
        let mut w = store.blob_writer().unwrap();
        w.write_all(b"abandoned").unwrap();
        let parked = w.park().unwrap();
        assert_eq!(tmp_files(), 1);
        drop(parked);
        assert_eq!(tmp_files(), 0);
    }
}
