//! Errors in the distribution spec's JSON form: `{"errors":[{"code","message","detail"}]}`.

use hyper::StatusCode;

use super::store::StoreError;

/// One API error: an HTTP status and a spec error code.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status to answer with.
    pub status: StatusCode,
    /// Spec code such as `BLOB_UNKNOWN`.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Optional structured detail.
    pub detail: serde_json::Value,
    /// Seconds for a `Retry-After` header, when the client should come back later.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: serde_json::Value::Null,
            retry_after: None,
        }
    }

    /// Adds a detail object.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }

    /// Asks the client to retry after `seconds` (a `Retry-After` header).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 429 `TOOMANYREQUESTS` as Docker Hub words it, with a `Retry-After` of `wait` (whole
    /// seconds, rounded up, at least 1): a fault on purpose (`rate_limit`).
    pub fn too_many_requests(wait: std::time::Duration) -> Self {
        let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOOMANYREQUESTS",
            "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
        )
        .with_retry_after(secs)
    }

    /// A 5xx on purpose (`error_rate`): 500 `UNKNOWN`, 502 or 503 `UNAVAILABLE`.
    pub fn injected(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let code = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "UNKNOWN"
        } else {
            "UNAVAILABLE"
        };
        Self::new(status, code, format!("coldbench fault: injected {status}"))
    }

    /// 404 `BLOB_UNKNOWN`.
    pub fn blob_unknown(digest: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            "blob unknown to registry",
        )
        .with_detail(serde_json::json!({ "digest": digest }))
    }

    /// 404 `BLOB_UPLOAD_UNKNOWN`.
    pub fn upload_unknown() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown to registry",
        )
    }

    /// 400 `DIGEST_INVALID`.
    pub fn digest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "DIGEST_INVALID", message)
    }

    /// 404 `MANIFEST_UNKNOWN`.
    pub fn manifest_unknown(reference: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            "manifest unknown",
        )
        .with_detail(serde_json::json!({ "reference": reference }))
    }

    /// 400 `MANIFEST_INVALID`.
    pub fn manifest_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", message)
    }

    /// 400 `MANIFEST_BLOB_UNKNOWN`: a referenced blob is missing.
    pub fn manifest_blob_unknown(digest: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MANIFEST_BLOB_UNKNOWN",
            "manifest references a blob unknown to registry",
        )
        .with_detail(serde_json::json!({ "digest": digest }))
    }

    /// 400 `NAME_INVALID`.
    pub fn name_invalid(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            "invalid repository name",
        )
        .with_detail(serde_json::json!({ "name": name }))
    }

    /// 404 `NAME_UNKNOWN`.
    pub fn name_unknown(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            "repository name not known to registry",
        )
        .with_detail(serde_json::json!({ "name": name }))
    }

    /// 400 `TAG_INVALID`.
    pub fn tag_invalid(tag: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "TAG_INVALID",
            "manifest tag is invalid",
        )
        .with_detail(serde_json::json!({ "tag": tag }))
    }

    /// 416 `RANGE_INVALID`.
    pub fn range_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_INVALID", message)
    }

    /// 413 `SIZE_INVALID`.
    pub fn size_invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID", message)
    }

    /// 507 Insufficient Storage: the store's filesystem would keep less than its reserve. The
    /// spec has no code for a full disk; `BLOB_UPLOAD_INVALID` says this upload cannot proceed.
    pub fn insufficient_storage(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "BLOB_UPLOAD_INVALID",
            message,
        )
    }

    /// 405 `UNSUPPORTED`.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", message)
    }

    /// 404 for paths outside the API.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "UNSUPPORTED", "no such endpoint")
    }

    /// 500 `UNKNOWN`, for store failures.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", message)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message });
        if !self.detail.is_null() {
            error["detail"] = self.detail.clone();
        }
        serde_json::json!({ "errors": [error] }).to_string()
    }
}

impl From<crate::digest::InvalidDigest> for ApiError {
    fn from(e: crate::digest::InvalidDigest) -> Self {
        StoreError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidDigest(d) => {
                ApiError::digest_invalid(format!("invalid digest {d:?}"))
            }
            StoreError::InvalidName(n) => ApiError::name_invalid(&n),
            StoreError::InvalidTag(t) => ApiError::tag_invalid(&t),
            StoreError::DigestMismatch { expected, actual } => {
                ApiError::digest_invalid("provided digest did not match uploaded content")
                    .with_detail(serde_json::json!({
                        "expected": expected.as_str(),
                        "actual": actual.as_str(),
                    }))
            }
            e @ StoreError::Io { .. } => {
                tracing::warn!("registry store: {e}");
                ApiError::internal(e.to_string())
            }
        }
    }
}
