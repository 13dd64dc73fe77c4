//! Blob uploads: sessions kept between requests (bounded in number, expiring when idle, their
//! partial blobs on disk with no descriptor held), and request bodies streamed to disk under a
//! read timeout.

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hyper::StatusCode;
use tokio::sync::watch;

use super::errors::ApiError;
use super::intake::{next_data, Bounds, Pace};
use super::store::{BlobWriter, Digest, ParkedBlob, Store, StoreError};
use super::RegistryLimits;

/// Request body bytes gathered before one write to disk (bounds memory per upload).
const WRITE_BATCH: usize = 1024 * 1024;
/// Longest time between two sweeps of expired sessions.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(10);
/// Shortest time between two sweeps.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_millis(10);

/// An upload in progress: the repository it was started for and its partial blob.
#[derive(Debug)]
pub struct Session {
    /// Repository named when the upload started.
    pub repo: String,
    /// The partial blob, locked by the request writing to it; `None` once lost to a failure.
    pub blob: tokio::sync::Mutex<Option<ParkedBlob>>,
    /// Bytes stored, as of the end of the last request that wrote.
    offset: AtomicU64,
    /// When a request last began or ended on it.
    last_used: Mutex<Instant>,
}

impl Session {
    /// Bytes stored so far (not counting a request writing now).
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Records the size of the partial blob after a request.
    pub fn set_offset(&self, size: u64) {
        self.offset.store(size, Ordering::Relaxed);
    }

    /// Marks the session as used now.
    pub fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }

    /// True when no request is on it and none came for `expiry`.
    fn expired(&self, now: Instant, expiry: Duration) -> bool {
        now.saturating_duration_since(*lock(&self.last_used)) >= expiry
            && self.blob.try_lock().is_ok()
    }
}

/// The uploads in progress, by id.
#[derive(Debug, Default)]
pub struct Uploads {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    limits: RegistryLimits,
}

impl Uploads {
    /// No uploads yet, to be kept within `limits`.
    pub fn new(limits: RegistryLimits) -> Uploads {
        Uploads {
            sessions: Mutex::default(),
            limits,
        }
    }

    /// The limits it keeps to.
    pub fn limits(&self) -> RegistryLimits {
        self.limits
    }

    /// Registers a new upload of `repo` with an empty blob in `store`; returns its id, or 429
    /// `TOOMANYREQUESTS` when [`RegistryLimits::max_sessions`] uploads are in progress.
    pub fn start(&self, repo: &str, store: &Store) -> Result<String, ApiError> {
        let id = format!("{:032x}", rand::random::<u128>());
        let mut sessions = self.lock();
        let expired = self.take_expired(&mut sessions);
        if sessions.len() >= self.limits.max_sessions {
            drop(sessions);
            drop(expired);
            return Err(too_many(&self.limits));
        }
        let session = Arc::new(Session {
            repo: repo.to_string(),
            blob: tokio::sync::Mutex::new(Some(store.blob_writer()?.park()?)),
            offset: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
        });
        sessions.insert(id.clone(), session);
        drop(sessions);
        drop(expired);
        Ok(id)
    }

    /// The upload `id` of `repo`, marked as used; `None` if unknown or expired.
    pub fn get(&self, repo: &str, id: &str) -> Option<Arc<Session>> {
        let mut sessions = self.lock();
        let session = sessions.get(id).filter(|s| s.repo == repo)?.clone();
        if session.expired(Instant::now(), self.limits.idle_expiry) {
            sessions.remove(id);
            return None;
        }
        session.touch();
        Some(session)
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

    /// Drops every expired session with its partial blob; returns how many.
    pub fn sweep(&self) -> usize {
        let expired = self.take_expired(&mut self.lock());
        expired.len()
    }

    /// True when no upload is in progress.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Takes the expired sessions out of the map (their files go when the caller drops them).
    fn take_expired(&self, sessions: &mut HashMap<String, Arc<Session>>) -> Vec<Arc<Session>> {
        let (now, expiry) = (Instant::now(), self.limits.idle_expiry);
        let ids: Vec<String> = sessions
            .iter()
            .filter(|(_, s)| s.expired(now, expiry))
            .map(|(id, _)| id.clone())
            .collect();
        ids.iter().filter_map(|id| sessions.remove(id)).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        lock(&self.sessions)
    }
}

/// Locks a std mutex; a poisoned one still holds consistent data (every update is one store).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// 429 `TOOMANYREQUESTS` with a `Retry-After`: the session cap is reached.
fn too_many(limits: &RegistryLimits) -> ApiError {
    let max = limits.max_sessions;
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "TOOMANYREQUESTS",
        format!("{max} uploads are in progress; finish, cancel or let one expire, then retry"),
    )
    .with_retry_after(limits.retry_after_secs())
}

/// Sweeps expired sessions of `uploads` until `stop` turns true (or its sender goes away).
pub async fn sweep_until(uploads: Arc<super::serve::Shared>, mut stop: watch::Receiver<bool>) {
    let every =
        (uploads.uploads.limits.idle_expiry / 2).clamp(MIN_SWEEP_INTERVAL, MAX_SWEEP_INTERVAL);
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = ticks.tick() => {
                let n = uploads.uploads.sweep();
                if n > 0 {
                    tracing::debug!("registry: {n} idle uploads expired");
                }
            }
        }
    }
}

/// A failed [`append`]: the error, and the writer unless it was lost with its blob.
#[derive(Debug)]
pub struct Failed {
    /// The writer, to rewind, or `None` when it is gone.
    pub writer: Option<BlobWriter>,
    /// What went wrong.
    pub error: ApiError,
}

impl Failed {
    /// A failure that keeps `writer`.
    fn keeping(writer: BlobWriter, error: ApiError) -> Failed {
        let writer = Some(writer);
        Failed { writer, error }
    }
}

impl From<Failed> for ApiError {
    fn from(f: Failed) -> Self {
        f.error
    }
}

/// Streams `body` into `writer` (off the async threads), never holding more than a batch;
/// returns the writer and the bytes appended. The body must keep the pace of `bounds` (else
/// 408), the blob stay within its largest size (else 413, before reading when the body's length
/// is known) and the store's filesystem keep its reserve (else 507, before each write).
pub async fn append<B>(
    writer: BlobWriter,
    mut body: B,
    bounds: &Bounds,
) -> Result<(BlobWriter, u64), Failed>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Display,
{
    let start = writer.size();
    let declared = body.size_hint().exact();
    let checked = declared.map_or(Ok(()), |n| {
        bounds.check_size(start.saturating_add(n))?;
        bounds.check_space(n)
    });
    if let Err(error) = checked {
        return Err(Failed::keeping(writer, error));
    }
    stream_into(writer, &mut body, bounds).await
}

/// The loop of [`append`]: reads, checks and writes batch after batch.
async fn stream_into<B>(
    mut writer: BlobWriter,
    body: &mut B,
    bounds: &Bounds,
) -> Result<(BlobWriter, u64), Failed>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Display,
{
    let start = writer.size();
    let mut batch = BytesMut::new();
    let mut pace = Pace::new(bounds.timeout);
    loop {
        let read = next_data(body, &mut pace, "BLOB_UPLOAD_INVALID").await;
        let read = read.and_then(|d| bounds.check_size(start + pace.total).map(|()| d));
        let data = match read {
            Ok(Some(data)) => data,
            Ok(None) => break,
            Err(error) => return Err(Failed::keeping(writer, error)),
        };
        batch.extend_from_slice(&data);
        if batch.len() >= WRITE_BATCH {
            writer = write(writer, batch.split().freeze(), bounds).await?;
        }
    }
    if !batch.is_empty() {
        writer = write(writer, batch.freeze(), bounds).await?;
    }
    Ok((writer, pace.total))
}

/// Writes `data` unless that would break the free-space reserve.
async fn write(writer: BlobWriter, data: Bytes, bounds: &Bounds) -> Result<BlobWriter, Failed> {
    if let Err(error) = bounds.check_space(data.len() as u64) {
        return Err(Failed::keeping(writer, error));
    }
    write_all(writer, data).await
}

async fn write_all(mut writer: BlobWriter, data: Bytes) -> Result<BlobWriter, Failed> {
    let task = tokio::task::spawn_blocking(move || {
        let result = writer.write_all(&data);
        (writer, result)
    });
    match task.await {
        Ok((writer, Ok(()))) => Ok(writer),
        Ok((writer, Err(e))) => Err(Failed {
            writer: Some(writer),
            error: ApiError::internal(format!("writing the upload to the store: {e}")),
        }),
        Err(e) => Err(Failed {
            writer: None,
            error: ApiError::internal(format!("upload writer task: {e}")),
        }),
    }
}

/// Commits `writer` as a blob that must have digest `expected` (off the async threads).
pub async fn commit(writer: BlobWriter, expected: Digest) -> Result<(Digest, u64), ApiError> {
    tokio::task::spawn_blocking(move || writer.commit_expecting(&expected))
        .await
        .map_err(|e| ApiError::internal(format!("upload commit task: {e}")))?
        .map_err(|e: StoreError| e.into())
}

/// A `Content-Range: <start>-<end>` header (an optional `bytes ` prefix and `/size` suffix are
/// tolerated) as `(start, end)`, end inclusive; `None` when it cannot be parsed.
pub fn content_range(value: &str) -> Option<(u64, u64)> {
    let value = value.trim();
    let value = value.strip_prefix("bytes ").unwrap_or(value);
    let (start, rest) = value.split_once('-')?;
    let end = rest.split('/').next()?;
    let (start, end) = (
        start.trim().parse::<u64>().ok()?,
        end.trim().parse::<u64>().ok()?,
    );
    (end >= start).then_some((start, end))
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
        assert_eq!(content_range("0-99"), Some((0, 99)));
        assert_eq!(content_range("bytes 100-199/*"), Some((100, 199)));
        assert_eq!(content_range("5-4"), None);
        assert_eq!(content_range("x-4"), None);
        assert_eq!(content_range("0-18446744073709551615"), Some((0, u64::MAX)));
        assert_eq!(upload_range(0), "0-0");
        assert_eq!(upload_range(10), "0-9");
    }
}
