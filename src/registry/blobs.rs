//! `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single byte ranges.

use hyper::{HeaderMap, StatusCode};

use super::body;
use super::errors::ApiError;
use super::reply::{self, Reply};
use super::serve::{Lane, Shared};
use super::store::Digest;

/// Serves a blob, whole or one `Range`, paced through the lane's path.
pub fn get(
    shared: &Shared,
    lane: &Lane,
    digest: &str,
    headers: &HeaderMap,
    head_only: bool,
) -> Reply {
    let digest: Digest = digest.parse()?;
    let Some((file, size)) = shared.store.open_blob(&digest)? else {
        return Err(ApiError::blob_unknown(digest.as_str()));
    };
    let range = headers
        .get(hyper::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size))
        .unwrap_or(Ok(None));
    let (status, start, len) = match range {
        Ok(None) => (StatusCode::OK, 0, size),
        Ok(Some((first, last))) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Err(()) => {
            let mut resp = reply::error(
                &ApiError::range_invalid(format!("range not satisfiable for {size} bytes")),
                head_only,
            );
            reply::set(&mut resp, "content-range", &format!("bytes */{size}"));
            return Ok(resp);
        }
    };
    let body = if head_only || len == 0 {
        body::empty()
    } else {
        let counter = lane.counters.blobs.clone();
        body::paced_file(file, start, len, lane.path.clone(), counter)
    };
    let mut resp = reply::response(status, body);
    reply::set(&mut resp, "content-type", "application/octet-stream");
    reply::set(&mut resp, "content-length", &len.to_string());
    reply::set(&mut resp, "docker-content-digest", digest.as_str());
    reply::set(&mut resp, "accept-ranges", "bytes");
    reply::set(&mut resp, "etag", &format!("\"{digest}\""));
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + len - 1;
        reply::set(
            &mut resp,
            "content-range",
            &format!("bytes {start}-{last}/{size}"),
        );
    }
    Ok(resp)
}

/// Parses a `Range` header against a blob of `size` bytes: `Ok(None)` to serve it whole (no
/// single byte range given: several ranges or bad syntax are ignored, as HTTP allows),
/// `Ok(Some((first, last)))` for one satisfiable range, `Err(())` when unsatisfiable.
pub fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    if first.is_empty() {
        // bytes=-N: the last N bytes.
        return match parse(last) {
            None => Ok(None),
            Some(0) => Err(()),
            Some(_) if size == 0 => Err(()),
            Some(n) => Ok(Some((size.saturating_sub(n), size - 1))),
        };
    }
    let Some(first) = parse(first) else {
        return Ok(None);
    };
    let last = if last.is_empty() {
        u64::MAX
    } else {
        match parse(last) {
            Some(last) if last >= first => last,
            _ => return Ok(None),
        }
    };
    if first >= size {
        return Err(());
    }
    Ok(Some((first, last.min(size - 1))))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=90-200", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(parse_range("bytes=-200", 100), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Err(()));
        assert_eq!(parse_range("bytes=-0", 100), Err(()));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(parse_range("bytes=5-1", 100), Ok(None));
        assert_eq!(parse_range("items=0-1", 100), Ok(None));
    }
}
