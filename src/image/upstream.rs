//! Copying an image from an upstream registry into the store. INTERFACE STUB — being implemented.

use crate::image::StoredImage;
use crate::registry::Store;

/// A reference to an image in an upstream registry: `[http(s)://]host[:port]/repo[:tag|@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRef {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub host: String,
    /// Repository path.
    pub repository: String,
    /// Tag or `sha256:` digest.
    pub reference: String,
}

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error(
        "invalid upstream reference {0:?}: expected host[:port]/repository[:tag|@sha256:digest]"
    )]
    InvalidRef(String),
    #[error("{0}")]
    Other(String),
}

impl std::str::FromStr for UpstreamRef {
    type Err = UpstreamError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Err(UpstreamError::InvalidRef(s.to_string()))
    }
}

/// Copies `upstream` (for an index: the host platform's manifest) into `store` as
/// `repository:tag`, digests unchanged.
pub async fn copy(
    upstream: &UpstreamRef,
    store: &Store,
    repository: &str,
    tag: &str,
) -> Result<StoredImage, UpstreamError> {
    let _ = (upstream, store, repository, tag);
    Err(UpstreamError::Other("not implemented yet".into()))
}
