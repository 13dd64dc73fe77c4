//! `/v2/<name>/manifests/<reference>`: GET/HEAD, PUT (bytes kept exactly) and DELETE by digest.
//!
//! A pushed manifest must be an image manifest or an index of one of the [`ACCEPTED`] media
//! types, no larger than [`MAX_MANIFEST`], whose blobs (config, layers) are in the store and
//! whose child manifests are in the same repository. Its `Content-Type` must agree with its own
//! `mediaType` field; the media type is kept per repository, so a push never changes what
//! another repository serves.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};
use serde_json::Value;

use super::body;
use super::errors::ApiError;
use super::intake::{next_data, Pace};
use super::reply::{self, Reply};
use super::serve::{Lane, Shared};
use super::store::{Digest, Reference};

/// Largest manifest accepted, in bytes (as distribution does); a larger one answers 413
/// `SIZE_INVALID`, whether it comes with a `Content-Length` or chunked.
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list, schema 2.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// What a manifest of some media type lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `config` and `layers` (blobs).
    Image,
    /// `manifests` (child manifests).
    Index,
}

/// The media types accepted on push: name, kind, and whether the body must name it in its own
/// `mediaType` field (Docker's formats require it, OCI's only recommend it).
const ACCEPTED: [(&str, Kind, bool); 4] = [
    (OCI_MANIFEST, Kind::Image, false),
    (OCI_INDEX, Kind::Index, false),
    (DOCKER_MANIFEST, Kind::Image, true),
    (DOCKER_LIST, Kind::Index, true),
];

/// Serves a manifest by tag or digest with its own `Content-Type`, paced like a blob.
pub fn get(shared: &Shared, lane: &Lane, name: &str, reference: &str, head_only: bool) -> Reply {
    let parsed: Reference = reference.parse()?;
    let Some(info) = shared.store.manifest(name, &parsed)? else {
        if !shared.store.has_repository(name) {
            return Err(ApiError::name_unknown(name));
        }
        return Err(ApiError::manifest_unknown(reference));
    };
    let body = if head_only || info.size == 0 {
        body::empty()
    } else {
        let Some((file, size)) = shared.store.open_blob(&info.digest)? else {
            return Err(ApiError::manifest_unknown(reference));
        };
        let counter = lane.counters.manifests.clone();
        body::paced_file(file, 0, size, lane.path.clone(), counter, None)
    };
    let mut resp = reply::response(StatusCode::OK, body);
    reply::set(&mut resp, "content-type", &info.media_type);
    reply::set(&mut resp, "content-length", &info.size.to_string());
    reply::set(&mut resp, "docker-content-digest", info.digest.as_str());
    reply::set(&mut resp, "etag", &format!("\"{}\"", info.digest));
    Ok(resp)
}

/// Stores a pushed manifest byte for byte, once it is valid and everything it references is
/// present.
pub async fn put(
    shared: &Shared,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Incoming,
) -> Reply {
    let parsed: Reference = reference.parse()?;
    let bytes = read_limited(headers, body, shared.uploads.limits().body_timeout).await?;
    let json: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::manifest_invalid(format!("manifest is not JSON: {e}")))?;
    if !json.is_object() {
        return Err(ApiError::manifest_invalid("manifest is not a JSON object"));
    }
    let (media_type, kind) = media_type_of(headers, &json)?;
    check_present(shared, name, &Needs::of(&json, kind)?)?;
    let digest = shared
        .store
        .put_manifest_ref(name, &parsed, media_type, &bytes)?;
    let mut resp = reply::no_content(StatusCode::CREATED);
    let location = format!("/v2/{name}/manifests/{digest}");
    reply::set(&mut resp, "location", &location);
    reply::set(&mut resp, "docker-content-digest", digest.as_str());
    Ok(resp)
}

/// Deletes a manifest (by digest only) from the repository.
pub fn delete(shared: &Shared, name: &str, reference: &str) -> Reply {
    let Reference::Digest(digest) = reference.parse()? else {
        return Err(ApiError::unsupported("delete manifests by digest"));
    };
    if shared.store.delete_manifest(name, &digest)? {
        Ok(reply::no_content(StatusCode::ACCEPTED))
    } else {
        Err(ApiError::manifest_unknown(reference))
    }
}

/// The error for a manifest over [`MAX_MANIFEST`], the same however its size was found.
fn too_large() -> ApiError {
    ApiError::size_invalid(format!("manifest larger than {MAX_MANIFEST} bytes"))
}

/// Bytes of an oversized manifest read and dropped before answering 413, so that a client that
/// sent it all gets the answer rather than a reset connection.
const DRAIN_LIMIT: u64 = MAX_MANIFEST as u64;

/// Longest time spent dropping an oversized manifest.
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Reads the request body, at most [`MAX_MANIFEST`] bytes, at the pace of a blob upload: at
/// least [`super::UPLOAD_BODY_MIN_BYTES`] (or the end) within every `timeout`, else 408.
async fn read_limited(
    headers: &HeaderMap,
    mut body: Incoming,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_MANIFEST as u64) {
        if declared.is_some_and(|n| n <= MAX_MANIFEST as u64 + DRAIN_LIMIT) {
            drain(body).await;
        }
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    let mut pace = Pace::new(timeout);
    while let Some(data) = next_data(&mut body, &mut pace, "MANIFEST_INVALID").await? {
        if bytes.len() + data.len() > MAX_MANIFEST {
            drain(body).await;
            return Err(too_large());
        }
        bytes.extend_from_slice(&data);
    }
    Ok(bytes.into())
}

/// Reads and drops at most [`DRAIN_LIMIT`] bytes of `body`, for at most [`DRAIN_TIME`].
async fn drain(mut body: Incoming) {
    let mut left = DRAIN_LIMIT;
    let dropping = async {
        while let Some(Ok(frame)) = body.frame().await {
            let n = frame.data_ref().map_or(0, |d| d.len() as u64);
            if n >= left {
                break;
            }
            left -= n;
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, dropping).await;
}

/// An accepted media type by name (case-insensitive, parameters ignored).
fn accepted(name: &str) -> Option<(&'static str, Kind, bool)> {
    let essence = name.split(';').next().unwrap_or_default().trim();
    ACCEPTED
        .into_iter()
        .find(|(known, _, _)| known.eq_ignore_ascii_case(essence))
}

/// An accepted media type as found, or `MANIFEST_INVALID` naming the one that is not.
type Found = Result<Option<(&'static str, Kind, bool)>, ApiError>;

fn unsupported(media_type: &str) -> ApiError {
    ApiError::manifest_invalid(format!("unsupported manifest media type {media_type:?}"))
}

/// The request's `Content-Type`, if any (an empty one counts as none).
fn header_type(headers: &HeaderMap) -> Found {
    let Some(value) = headers.get(hyper::header::CONTENT_TYPE) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| unsupported("(not text)"))?
        .trim();
    if text.is_empty() {
        return Ok(None);
    }
    accepted(text).map(Some).ok_or_else(|| unsupported(text))
}

/// The manifest's own `mediaType` field, if any (compared exactly).
fn field_type(json: &Value) -> Found {
    match json.get("mediaType") {
        None => Ok(None),
        Some(Value::String(t)) => ACCEPTED
            .into_iter()
            .find(|(known, _, _)| known == t)
            .map(Some)
            .ok_or_else(|| unsupported(t)),
        Some(_) => Err(ApiError::manifest_invalid("mediaType is not a string")),
    }
}

/// The media type to store and serve: the `Content-Type`, which must agree with the body's
/// `mediaType`; either alone; or, with neither, the OCI type its shape suggests.
fn media_type_of(headers: &HeaderMap, json: &Value) -> Result<(&'static str, Kind), ApiError> {
    let (header, field) = (header_type(headers)?, field_type(json)?);
    match (header, field) {
        (Some(h), Some(f)) if h.0 != f.0 => Err(ApiError::manifest_invalid(format!(
            "Content-Type {} disagrees with the manifest's mediaType {}",
            h.0, f.0
        ))),
        (Some((name, _, true)), None) => Err(ApiError::manifest_invalid(format!(
            "a {name} manifest must name its mediaType"
        ))),
        (Some((name, kind, _)), _) | (None, Some((name, kind, _))) => Ok((name, kind)),
        (None, None) if json.get("manifests").is_some() => Ok((OCI_INDEX, Kind::Index)),
        (None, None) => Ok((OCI_MANIFEST, Kind::Image)),
    }
}

/// What a manifest needs in the store: blobs, and child manifests of its repository.
#[derive(Debug, Default, PartialEq, Eq)]
struct Needs {
    blobs: Vec<Digest>,
    manifests: Vec<Digest>,
}

impl Needs {
    /// Checks the shape of a manifest of `kind` (schema version 2; `config` and `layers`, or
    /// `manifests`) and lists what it references. Foreign layers (a nondistributable media type
    /// with `urls`) live elsewhere and are not required.
    fn of(json: &Value, kind: Kind) -> Result<Needs, ApiError> {
        if json.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
            return Err(ApiError::manifest_invalid("schemaVersion must be 2"));
        }
        let mut needs = Needs::default();
        match kind {
            Kind::Image => {
                let config = json
                    .get("config")
                    .ok_or_else(|| ApiError::manifest_invalid("an image manifest needs config"))?;
                needs.blobs.push(descriptor(config, "config")?);
                for layer in list(json, "layers")? {
                    let digest = descriptor(layer, "layers")?;
                    if !foreign(layer) {
                        needs.blobs.push(digest);
                    }
                }
            }
            Kind::Index => {
                for child in list(json, "manifests")? {
                    needs.manifests.push(descriptor(child, "manifests")?);
                }
            }
        }
        Ok(needs)
    }
}

/// The digest of a descriptor (an object with a valid `digest`).
fn descriptor(value: &Value, field: &str) -> Result<Digest, ApiError> {
    let digest = value
        .as_object()
        .and_then(|d| d.get("digest"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::manifest_invalid(format!("{field}: descriptor without digest")))?;
    digest
        .parse()
        .map_err(|_| ApiError::manifest_invalid(format!("{field}: invalid digest {digest:?}")))
}

/// The array `key` of a manifest, which must be present.
fn list<'a>(json: &'a Value, key: &str) -> Result<&'a [Value], ApiError> {
    match json.get(key) {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(ApiError::manifest_invalid(format!("{key} is not a list"))),
        None => Err(ApiError::manifest_invalid(format!("{key} is missing"))),
    }
}

/// True for a layer stored outside registries: a foreign or nondistributable type with `urls`.
fn foreign(layer: &Value) -> bool {
    let media_type = layer.get("mediaType").and_then(Value::as_str).unwrap_or("");
    let has_urls = layer
        .get("urls")
        .and_then(Value::as_array)
        .is_some_and(|u| !u.is_empty());
    has_urls && (media_type.contains(".foreign.") || media_type.contains(".nondistributable."))
}

/// Fails with `MANIFEST_BLOB_UNKNOWN` on the first blob or child manifest not in the store.
fn check_present(shared: &Shared, name: &str, needs: &Needs) -> Result<(), ApiError> {
    for digest in &needs.blobs {
        if shared.store.blob_size(digest).is_none() {
            return Err(ApiError::manifest_blob_unknown(digest.as_str()));
        }
    }
    for digest in &needs.manifests {
        let child = Reference::Digest(digest.clone());
        if shared.store.manifest(name, &child)?.is_none() {
            return Err(ApiError::manifest_blob_unknown(digest.as_str()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_of_images_and_indexes() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let image = serde_json::json!({
            "schemaVersion": 2,
            "config": {"digest": a.as_str(), "size": 1},
            "layers": [
                {"digest": b.as_str(), "size": 1},
                {"digest": Digest::of(b"f").as_str(), "urls": ["https://example.invalid/f"],
                 "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"},
            ],
        });
        let needs = Needs::of(&image, Kind::Image).unwrap();
        assert_eq!(needs.blobs, vec![a.clone(), b.clone()]);
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [{"digest": a.as_str()}]});
        let needs = Needs::of(&index, Kind::Index).unwrap();
        assert_eq!((needs.blobs, needs.manifests), (vec![], vec![a.clone()]));
        // urls alone do not make a layer foreign.
        let urls = serde_json::json!({"schemaVersion": 2, "config": {"digest": a.as_str()},
            "layers": [{"digest": b.as_str(), "urls": ["https://example.invalid/b"]}]});
        assert_eq!(Needs::of(&urls, Kind::Image).unwrap().blobs, vec![a, b]);
        for bad in [
            serde_json::json!({"schemaVersion": 2, "config": {}, "layers": [{"digest": "sha256:zz"}]}),
            serde_json::json!({"schemaVersion": 2, "config": {}, "layers": {}}),
            serde_json::json!({"schemaVersion": "2", "manifests": []}),
        ] {
            let err = Needs::of(&bad, Kind::Image).unwrap_err();
            assert_eq!(err.code, "MANIFEST_INVALID", "{bad}");
        }
    }

    #[test]
    fn accepted_media_types() {
        assert_eq!(accepted(OCI_INDEX).map(|a| a.1), Some(Kind::Index));
        let with_params = format!("{}; charset=utf-8", DOCKER_MANIFEST.to_uppercase());
        assert_eq!(accepted(&with_params).map(|a| a.0), Some(DOCKER_MANIFEST));
        for other in [
            "",
            "text/plain",
            "application/json",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        ] {
            assert_eq!(accepted(other), None, "{other}");
        }
    }
}
