//! Upload endpoints: `POST /v2/<name>/blobs/uploads/` (start, monolithic, cross-repo mount),
//! and `PATCH`/`PUT`/`GET`/`DELETE /v2/<name>/blobs/uploads/<id>`.

use hyper::body::Incoming;
use hyper::{HeaderMap, Response, StatusCode};

use super::body::Body;
use super::errors::ApiError;
use super::names::valid_repository;
use super::reply::{self, Reply};
use super::routes::query_param;
use super::serve::Shared;
use super::store::Digest;
use super::uploads::{append, commit, content_range_start, upload_range};

/// `POST`: mounts a blob from another repository, stores a monolithic upload (`?digest=`), or
/// starts an upload session.
pub async fn start(shared: &Shared, name: &str, query: Option<&str>, body: Incoming) -> Reply {
    if let Some(mount) = query_param(query, "mount") {
        let from_ok = query_param(query, "from").is_some_and(|from| valid_repository(&from));
        if let Ok(digest) = mount.parse::<Digest>() {
            if from_ok && shared.store.blob_size(&digest).is_some() {
                return Ok(created(name, &digest));
            }
        }
        return session_started(shared, name);
    }
    if let Some(digest) = query_param(query, "digest") {
        let digest: Digest = digest.parse()?;
        let writer = shared.store.blob_writer()?;
        let writer = append(writer, body).await?;
        let (digest, _) = commit(writer, digest).await?;
        return Ok(created(name, &digest));
    }
    session_started(shared, name)
}

/// `PATCH`: appends the body (a chunk, or the whole stream) to the upload.
pub async fn patch(
    shared: &Shared,
    name: &str,
    id: &str,
    headers: &HeaderMap,
    body: Incoming,
) -> Reply {
    let session = shared
        .uploads
        .get(name, id)
        .ok_or_else(ApiError::upload_unknown)?;
    let mut slot = session.writer.lock().await;
    let writer = slot.take().ok_or_else(ApiError::upload_unknown)?;
    if let Err(e) = check_start(headers, writer.size()) {
        *slot = Some(writer);
        return Err(e);
    }
    match append(writer, body).await {
        Ok(writer) => {
            let size = writer.size();
            *slot = Some(writer);
            Ok(progress(StatusCode::ACCEPTED, name, id, size))
        }
        Err(e) => {
            shared.uploads.remove(name, id);
            Err(e)
        }
    }
}

/// `PUT ?digest=`: appends an optional last chunk, checks the digest and stores the blob.
pub async fn finish(
    shared: &Shared,
    name: &str,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Incoming,
) -> Reply {
    let digest = query_param(query, "digest")
        .ok_or_else(|| ApiError::digest_invalid("digest parameter missing"))?;
    let digest: Digest = digest.parse()?;
    let session = shared
        .uploads
        .remove(name, id)
        .ok_or_else(ApiError::upload_unknown)?;
    let writer = session
        .writer
        .lock()
        .await
        .take()
        .ok_or_else(ApiError::upload_unknown)?;
    check_start(headers, writer.size())?;
    let writer = append(writer, body).await?;
    let (digest, _) = commit(writer, digest).await?;
    Ok(created(name, &digest))
}

/// `GET`: how much of the upload has arrived.
pub async fn status(shared: &Shared, name: &str, id: &str) -> Reply {
    let session = shared
        .uploads
        .get(name, id)
        .ok_or_else(ApiError::upload_unknown)?;
    let size = session
        .writer
        .lock()
        .await
        .as_ref()
        .map(|w| w.size())
        .ok_or_else(ApiError::upload_unknown)?;
    Ok(progress(StatusCode::NO_CONTENT, name, id, size))
}

/// `DELETE`: abandons the upload and its partial blob.
pub fn cancel(shared: &Shared, name: &str, id: &str) -> Reply {
    shared
        .uploads
        .remove(name, id)
        .ok_or_else(ApiError::upload_unknown)?;
    Ok(reply::no_content(StatusCode::NO_CONTENT))
}

/// With a `Content-Range`, the chunk must start where the upload ends.
fn check_start(headers: &HeaderMap, size: u64) -> Result<(), ApiError> {
    let Some(value) = headers.get(hyper::header::CONTENT_RANGE) else {
        return Ok(());
    };
    let start = value
        .to_str()
        .ok()
        .and_then(content_range_start)
        .ok_or_else(|| ApiError::range_invalid("malformed Content-Range"))?;
    if start != size {
        return Err(ApiError::range_invalid(format!(
            "chunk starts at {start}, upload has {size} bytes"
        )));
    }
    Ok(())
}

fn session_started(shared: &Shared, name: &str) -> Reply {
    let id = shared.uploads.start(name, shared.store.blob_writer()?);
    Ok(progress(StatusCode::ACCEPTED, name, &id, 0))
}

/// An upload-progress response: `Location`, `Range: 0-<end>`, `Docker-Upload-UUID`.
fn progress(status: StatusCode, name: &str, id: &str, size: u64) -> Response<Body> {
    let mut resp = reply::no_content(status);
    reply::set(
        &mut resp,
        "location",
        &format!("/v2/{name}/blobs/uploads/{id}"),
    );
    reply::set(&mut resp, "range", &upload_range(size));
    reply::set(&mut resp, "docker-upload-uuid", id);
    resp
}

/// `201 Created` for a stored blob.
fn created(name: &str, digest: &Digest) -> Response<Body> {
    let mut resp = reply::no_content(StatusCode::CREATED);
    reply::set(&mut resp, "location", &format!("/v2/{name}/blobs/{digest}"));
    reply::set(&mut resp, "docker-content-digest", digest.as_str());
    resp
}
