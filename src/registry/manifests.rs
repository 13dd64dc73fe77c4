//! `/v2/<name>/manifests/<reference>`: GET/HEAD, PUT (bytes kept exactly) and DELETE by digest.

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{HeaderMap, StatusCode};

use super::body;
use super::errors::ApiError;
use super::reply::{self, Reply};
use super::serve::{Lane, Shared};
use super::store::{Digest, Reference};

/// Largest manifest accepted (as distribution does).
pub const MAX_MANIFEST: usize = 4 * 1024 * 1024;

/// Media type assumed when a manifest names none.
const DEFAULT_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

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
        body::paced_file(file, 0, size, lane.path.clone(), counter)
    };
    let mut resp = reply::response(StatusCode::OK, body);
    reply::set(&mut resp, "content-type", &info.media_type);
    reply::set(&mut resp, "content-length", &info.size.to_string());
    reply::set(&mut resp, "docker-content-digest", info.digest.as_str());
    reply::set(&mut resp, "etag", &format!("\"{}\"", info.digest));
    Ok(resp)
}

/// Stores a pushed manifest byte for byte, once everything it references is present.
pub async fn put(
    shared: &Shared,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Incoming,
) -> Reply {
    let parsed: Reference = reference.parse()?;
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_MANIFEST as u64) {
        return Err(ApiError::size_invalid("manifest too large"));
    }
    let bytes = Limited::new(body, MAX_MANIFEST)
        .collect()
        .await
        .map_err(|e| ApiError::manifest_invalid(format!("reading the manifest: {e}")))?
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::manifest_invalid(format!("manifest is not JSON: {e}")))?;
    if !json.is_object() {
        return Err(ApiError::manifest_invalid("manifest is not a JSON object"));
    }
    let media_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| json.get("mediaType").and_then(|t| t.as_str()))
        .unwrap_or(DEFAULT_MEDIA_TYPE)
        .to_string();
    for digest in references(&json)? {
        if shared.store.blob_size(&digest).is_none() {
            return Err(ApiError::manifest_blob_unknown(digest.as_str()));
        }
    }
    let digest = shared
        .store
        .put_manifest_ref(name, &parsed, &media_type, &bytes)?;
    let mut resp = reply::no_content(StatusCode::CREATED);
    reply::set(
        &mut resp,
        "location",
        &format!("/v2/{name}/manifests/{digest}"),
    );
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

/// The blobs (config, layers; for an index or list, the child manifests) a manifest needs.
/// Layers with `urls` (foreign layers) live elsewhere and are not required.
pub fn references(manifest: &serde_json::Value) -> Result<Vec<Digest>, ApiError> {
    let mut found = Vec::new();
    let mut add = |descriptor: &serde_json::Value, field: &str| -> Result<(), ApiError> {
        let foreign = descriptor
            .get("urls")
            .and_then(|u| u.as_array())
            .is_some_and(|u| !u.is_empty());
        if foreign {
            return Ok(());
        }
        let digest = descriptor
            .get(field)
            .and_then(|d| d.as_str())
            .ok_or_else(|| ApiError::manifest_invalid(format!("descriptor without {field}")))?;
        let digest = digest.parse().map_err(|_| {
            ApiError::manifest_invalid(format!("invalid digest {digest:?} in manifest"))
        })?;
        found.push(digest);
        Ok(())
    };
    if let Some(config) = manifest.get("config") {
        add(config, "digest")?;
    }
    for key in ["layers", "manifests"] {
        for descriptor in list(manifest, key)? {
            add(descriptor, "digest")?;
        }
    }
    for layer in list(manifest, "fsLayers")? {
        add(layer, "blobSum")?;
    }
    Ok(found)
}

fn list<'a>(
    manifest: &'a serde_json::Value,
    key: &str,
) -> Result<&'a [serde_json::Value], ApiError> {
    match manifest.get(key) {
        None | Some(serde_json::Value::Null) => Ok(&[]),
        Some(serde_json::Value::Array(items)) => Ok(items),
        Some(_) => Err(ApiError::manifest_invalid(format!("{key} is not a list"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_of_images_and_indexes() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        let image = serde_json::json!({
            "schemaVersion": 2,
            "config": {"digest": a.as_str(), "size": 1},
            "layers": [
                {"digest": b.as_str(), "size": 1},
                {"digest": Digest::of(b"f").as_str(), "urls": ["https://example.invalid/f"]},
            ],
        });
        assert_eq!(references(&image).unwrap(), vec![a.clone(), b.clone()]);
        let index = serde_json::json!({"manifests": [{"digest": a.as_str()}]});
        assert_eq!(references(&index).unwrap(), vec![a]);
        let bad = serde_json::json!({"layers": [{"digest": "sha256:zz"}]});
        assert_eq!(references(&bad).unwrap_err().code, "MANIFEST_INVALID");
        let bad = serde_json::json!({"layers": {}});
        assert!(references(&bad).is_err());
    }
}
