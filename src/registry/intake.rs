//! Request bodies under the registry's bounds: a minimum pace (the body read timeout, for blobs
//! and manifests), a largest blob, and a free-space reserve on the store's filesystem.

use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::StatusCode;

use super::errors::ApiError;
use super::serve::Shared;
use super::UPLOAD_BODY_MIN_BYTES;

/// Progress of a request body against its timeout: [`UPLOAD_BODY_MIN_BYTES`] (or the end) must
/// arrive within every `timeout`.
#[derive(Debug)]
pub struct Pace {
    timeout: Duration,
    window_end: tokio::time::Instant,
    window_bytes: u64,
    /// Bytes read so far.
    pub total: u64,
}

impl Pace {
    /// A body starting now, held to `timeout`.
    pub fn new(timeout: Duration) -> Pace {
        Pace {
            timeout,
            window_end: tokio::time::Instant::now() + timeout,
            window_bytes: 0,
            total: 0,
        }
    }

    /// Counts `n` bytes; enough of them open a new window.
    fn add(&mut self, n: u64) {
        self.total += n;
        self.window_bytes += n;
        if self.window_bytes >= UPLOAD_BODY_MIN_BYTES {
            self.window_bytes = 0;
            self.window_end = tokio::time::Instant::now() + self.timeout;
        }
    }
}

/// The next data of `body` (`None` at its end), or 408 with spec code `code` when the window
/// closes first; a broken body is 400 `code`.
pub async fn next_data<B>(
    body: &mut B,
    pace: &mut Pace,
    code: &'static str,
) -> Result<Option<Bytes>, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Display,
{
    loop {
        let frame = match tokio::time::timeout_at(pace.window_end, body.frame()).await {
            Err(_) => return Err(timed_out(pace.timeout, code)),
            Ok(None) => return Ok(None),
            Ok(Some(frame)) => frame.map_err(|e| {
                let message = format!("reading the request body: {e}");
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            })?,
        };
        if let Ok(data) = frame.into_data() {
            pace.add(data.len() as u64);
            return Ok(Some(data));
        }
    }
}

/// 408: the body brought too little within the timeout.
fn timed_out(timeout: Duration, code: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        code,
        format!(
            "request body too slow: less than {UPLOAD_BODY_MIN_BYTES} bytes in {} ms",
            timeout.as_millis()
        ),
    )
}

/// What a blob body written to the store must respect.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// Body read timeout.
    pub timeout: Duration,
    /// Largest blob.
    pub max_size: u64,
    /// Free bytes to leave on the store's filesystem.
    pub reserve: u64,
    /// The store directory (whose filesystem is checked).
    pub dir: PathBuf,
}

impl Bounds {
    /// The bounds of `shared`'s registry.
    pub fn of(shared: &Shared) -> Bounds {
        let limits = shared.uploads.limits();
        Bounds {
            timeout: limits.body_timeout,
            max_size: limits.max_blob_size,
            reserve: limits.free_space_reserve,
            dir: shared.store.dir().to_path_buf(),
        }
    }

    /// 413 `SIZE_INVALID` when a blob of `size` bytes is over the largest.
    pub fn check_size(&self, size: u64) -> Result<(), ApiError> {
        if size > self.max_size {
            return Err(ApiError::size_invalid(format!(
                "an upload may bring at most {} bytes",
                self.max_size
            )));
        }
        Ok(())
    }

    /// 507 when writing `n` more bytes would leave less than the reserve free. A filesystem
    /// that cannot be asked is let through (logged): the write itself then fails if it must.
    pub fn check_space(&self, n: u64) -> Result<(), ApiError> {
        if n == 0 {
            return Ok(());
        }
        let free = match crate::image::space::free_bytes(&self.dir) {
            Ok(free) => free,
            Err(e) => {
                tracing::warn!("registry: free space of {}: {e}", self.dir.display());
                return Ok(());
            }
        };
        if free.saturating_sub(n) < self.reserve {
            return Err(ApiError::insufficient_storage(format!(
                "storing {n} more bytes would leave less than {} bytes free ({free} free)",
                self.reserve
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(max_size: u64, reserve: u64) -> Bounds {
        let dir = std::env::temp_dir();
        let timeout = Duration::from_secs(1);
        Bounds {
            timeout,
            max_size,
            reserve,
            dir,
        }
    }

    #[test]
    fn size_and_space_bounds() {
        let b = bounds(10, 0);
        assert!(b.check_size(10).is_ok());
        let err = b.check_size(11).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (413, "SIZE_INVALID"));
        assert!(b.check_space(1).is_ok());
        let full = bounds(10, u64::MAX);
        assert_eq!(full.check_space(1).unwrap_err().status.as_u16(), 507);
        assert!(
            full.check_space(0).is_ok(),
            "nothing to write needs no room"
        );
    }
}
