//! Upload endpoints: `POST /v2/<name>/blobs/uploads/` (start, monolithic, cross-repo mount),
//! and `PATCH`/`PUT`/`GET`/`DELETE /v2/<name>/blobs/uploads/<id>`.
//!
//! A chunk that fails (bad `Content-Range`, a body shorter or longer than its range, a stalled
//! body) leaves the upload at its previous offset; a request on an upload another request is
//! writing answers 416 at once.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{HeaderMap, Response, StatusCode};

use super::body::Body;
use super::errors::ApiError;
use super::intake::Bounds;
use super::names::valid_repository;
use super::reply::{self, Reply};
use super::routes::query_param;
use super::serve::Shared;
use super::store::{Digest, ParkedBlob};
use super::uploads::{append, commit, content_range, upload_range, Session};

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
        let (writer, _) = append(writer, body, &Bounds::of(shared)).await?;
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
    let session = session(shared, name, id)?;
    let size = write_chunk(shared, &session, name, id, headers, body).await?;
    Ok(progress(StatusCode::ACCEPTED, name, id, size))
}

/// `PUT ?digest=`: appends an optional last chunk, checks the digest and stores the blob. A
/// refused chunk keeps the upload; a digest mismatch ends it.
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
    let session = session(shared, name, id)?;
    write_chunk(shared, &session, name, id, headers, body).await?;
    let parked = claim(shared, &session, name, id)?.take();
    shared.uploads.remove(name, id);
    let writer = parked.ok_or_else(ApiError::upload_unknown)?.resume()?;
    let (digest, _) = commit(writer, digest).await?;
    Ok(created(name, &digest))
}

/// `GET`: how much of the upload has arrived (a chunk being written is not counted yet).
pub async fn status(shared: &Shared, name: &str, id: &str) -> Reply {
    let session = session(shared, name, id)?;
    if session.blob.try_lock().is_ok_and(|blob| blob.is_none()) {
        shared.uploads.remove(name, id);
        return Err(ApiError::upload_unknown());
    }
    Ok(progress(StatusCode::NO_CONTENT, name, id, session.offset()))
}

/// `DELETE`: abandons the upload and its partial blob.
pub fn cancel(shared: &Shared, name: &str, id: &str) -> Reply {
    shared
        .uploads
        .remove(name, id)
        .ok_or_else(ApiError::upload_unknown)?;
    Ok(reply::no_content(StatusCode::NO_CONTENT))
}

fn session(shared: &Shared, name: &str, id: &str) -> Result<Arc<Session>, ApiError> {
    shared
        .uploads
        .get(name, id)
        .ok_or_else(ApiError::upload_unknown)
}

/// The session's blob for this request alone: 416 when another request is writing to it, 404
/// (and the session ends) when it was lost.
fn claim<'a>(
    shared: &Shared,
    session: &'a Session,
    name: &str,
    id: &str,
) -> Result<tokio::sync::MutexGuard<'a, Option<ParkedBlob>>, ApiError> {
    let guard = session.blob.try_lock().map_err(|_| {
        ApiError::range_invalid("another request is writing to this upload; GET its status")
    })?;
    if guard.is_none() {
        shared.uploads.remove(name, id);
        return Err(ApiError::upload_unknown());
    }
    Ok(guard)
}

/// Appends the request body to the session's blob if its `Content-Range` (when given) starts at
/// the upload's end and matches the body's length; returns the new size. On any failure the blob
/// is rewound to where it was.
async fn write_chunk(
    shared: &Shared,
    session: &Session,
    name: &str,
    id: &str,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<u64, ApiError> {
    let mut slot = claim(shared, session, name, id)?;
    let parked = slot.take().ok_or_else(ApiError::upload_unknown)?;
    let length = match expected_length(headers, parked.size()) {
        Ok(length) => length,
        Err(e) => {
            *slot = Some(parked);
            return Err(e);
        }
    };
    let (blob, result) = append_chunk(shared, parked, body, length).await;
    if let Some(blob) = &blob {
        session.set_offset(blob.size());
    } else {
        shared.uploads.remove(name, id);
    }
    *slot = blob;
    session.touch();
    result
}

/// Appends `body` to `parked`, which must bring `length` bytes when given; returns the blob
/// (rewound on failure, `None` if lost) and the new size or the error.
async fn append_chunk(
    shared: &Shared,
    parked: ParkedBlob,
    body: Incoming,
    length: Option<u64>,
) -> (Option<ParkedBlob>, Result<u64, ApiError>) {
    let mark = parked.mark();
    let writer = match parked.resume() {
        Ok(writer) => writer,
        Err(e) => return (None, Err(e.into())),
    };
    let (writer, error) = match append(writer, body, &Bounds::of(shared)).await {
        Ok((writer, n)) if length.is_none_or(|len| len == n) => match writer.park() {
            Ok(parked) => {
                let size = parked.size();
                return (Some(parked), Ok(size));
            }
            Err(e) => return (None, Err(e.into())),
        },
        Ok((writer, n)) => (Some(writer), length_mismatch(length.unwrap_or(0), n)),
        Err(failed) => (failed.writer, failed.error),
    };
    (writer.and_then(|w| w.rewind(mark).ok()), Err(error))
}

/// With a `Content-Range`, the chunk must start where the upload ends; returns the length it
/// announces. A `Content-Length` must agree with it.
fn expected_length(headers: &HeaderMap, size: u64) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(hyper::header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let (start, end) = value
        .to_str()
        .ok()
        .and_then(content_range)
        .ok_or_else(|| ApiError::range_invalid("malformed Content-Range"))?;
    if start != size {
        return Err(ApiError::range_invalid(format!(
            "chunk starts at {start}, upload has {size} bytes"
        )));
    }
    let length = (end - start)
        .checked_add(1)
        .ok_or_else(|| ApiError::range_invalid("Content-Range too large"))?;
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n != length => Err(length_mismatch(length, n)),
        _ => Ok(Some(length)),
    }
}

/// 416: the body's length is not the one its `Content-Range` announces.
fn length_mismatch(expected: u64, actual: u64) -> ApiError {
    ApiError::range_invalid(format!(
        "Content-Range announces {expected} bytes, the body has {actual}"
    ))
}

fn session_started(shared: &Shared, name: &str) -> Reply {
    let id = shared.uploads.start(name, &shared.store)?;
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
