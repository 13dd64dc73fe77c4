//! Blob uploads: sessions kept between requests, and request bodies streamed to disk.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::errors::ApiError;
use super::store::{BlobWriter, Digest, StoreError};

/// Request body bytes gathered before one write to disk (bounds memory per upload).
const WRITE_BATCH: usize = 1024 * 1024;

/// An upload in progress: the repository it was started for and its partial blob.
#[derive(Debug)]
pub struct Session {
    /// Repository named when the upload started.
    pub repo: String,
    /// The partial blob; `None` while a request has it or after a failure.
    pub writer: tokio::sync::Mutex<Option<BlobWriter>>,
}

/// The uploads in progress, by id.
#[derive(Debug, Default)]
pub struct Uploads {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl Uploads {
    /// Registers a new upload into `writer`; returns its id.
    pub fn start(&self, repo: &str, writer: BlobWriter) -> String {
        let id = format!("{:032x}", rand::random::<u128>());
        let session = Arc::new(Session {
            repo: repo.to_string(),
            writer: tokio::sync::Mutex::new(Some(writer)),
        });
        self.lock().insert(id.clone(), session);
        id
    }

    /// The upload `id` of `repo`.
    pub fn get(&self, repo: &str, id: &str) -> Option<Arc<Session>> {
        self.lock().get(id).filter(|s| s.repo == repo).cloned()
    }

    /// Ends the upload `id` of `repo` (its partial blob goes when the last user drops it).
    pub fn remove(&self, repo: &str, id: &str) -> Option<Arc<Session>> {
        let mut sessions = self.lock();
        if sessions.get(id).is_some_and(|s| s.repo == repo) {
            sessions.remove(id)
        } else {
            None
        }
    }

    /// True when no upload is in progress.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        // A poisoned map is still a consistent map: every update is a single insert or remove.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Streams `body` into `writer` (off the async threads), never holding more than a batch.
pub async fn append<B>(mut writer: BlobWriter, mut body: B) -> Result<BlobWriter, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Display,
{
    let mut batch = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::upload_invalid(format!("reading the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            batch.extend_from_slice(&data);
            if batch.len() >= WRITE_BATCH {
                writer = write(writer, batch.split().freeze()).await?;
            }
        }
    }
    if !batch.is_empty() {
        writer = write(writer, batch.freeze()).await?;
    }
    Ok(writer)
}

async fn write(mut writer: BlobWriter, data: Bytes) -> Result<BlobWriter, ApiError> {
    tokio::task::spawn_blocking(move || writer.write_all(&data).map(|()| writer))
        .await
        .map_err(|e| ApiError::internal(format!("upload writer task: {e}")))?
        .map_err(|e| ApiError::internal(format!("writing the upload to the store: {e}")))
}

/// Commits `writer` as a blob that must have digest `expected` (off the async threads).
pub async fn commit(writer: BlobWriter, expected: Digest) -> Result<(Digest, u64), ApiError> {
    tokio::task::spawn_blocking(move || writer.commit_expecting(&expected))
        .await
        .map_err(|e| ApiError::internal(format!("upload commit task: {e}")))?
        .map_err(|e: StoreError| e.into())
}

/// The start offset of a `Content-Range: <start>-<end>` header (an optional `bytes ` prefix and
/// `/size` suffix are tolerated); `None` when it cannot be parsed.
pub fn content_range_start(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("bytes ").unwrap_or(value);
    let (start, rest) = value.split_once('-')?;
    let end = rest.split('/').next()?;
    let (start, end) = (
        start.trim().parse::<u64>().ok()?,
        end.trim().parse::<u64>().ok()?,
    );
    (end >= start).then_some(start)
}

/// The `Range` header value of an upload holding `size` bytes: `0-<last byte>` (`0-0` if empty).
pub fn upload_range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(content_range_start("0-99"), Some(0));
        assert_eq!(content_range_start("bytes 100-199/*"), Some(100));
        assert_eq!(content_range_start("5-4"), None);
        assert_eq!(content_range_start("x-4"), None);
        assert_eq!(upload_range(0), "0-0");
        assert_eq!(upload_range(10), "0-9");
    }
}
