//! `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single byte ranges.
//!
//! Range handling (RFC 9110 §14): `GET` honours one `bytes=` range; a malformed `Range`, several
//! ranges, another unit, or a `HEAD` request get the whole blob (200), as a server may ignore
//! `Range`. A well-formed range that starts past the end answers 416 `RANGE_INVALID`. Positions too
//! large for `u64` count as `u64::MAX` (an end past the blob is its last byte). `If-Range`
//! matches only the blob's `ETag`, `"<digest>"`, or the bare digest (`Docker-Content-Digest`);
//! anything else, dates included (no `Last-Modified` is sent), serves the whole blob.

use hyper::{HeaderMap, StatusCode};

use super::body;
use super::errors::ApiError;
use super::reply::{self, Reply};
use super::sent::Delivery;
use super::serve::{Lane, Shared};
use super::store::Digest;

/// What a `Range` header asks of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAsk {
    /// Serve the whole blob (no usable single range).
    Whole,
    /// Serve bytes `first..=last`.
    Part { first: u64, last: u64 },
    /// The range lies outside the blob: 416.
    Unsatisfiable,
}

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
    let ask = if head_only {
        RangeAsk::Whole
    } else {
        range_of(headers, &digest, size)
    };
    let (status, start, len) = match ask {
        RangeAsk::Whole => (StatusCode::OK, 0, size),
        RangeAsk::Part { first, last } => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        RangeAsk::Unsatisfiable => {
            let message = format!("range not satisfiable for {size} bytes");
            let mut resp = reply::error(&ApiError::range_invalid(message), head_only);
            reply::set(&mut resp, "content-range", &format!("bytes */{size}"));
            return Ok(resp);
        }
    };
    let body = if head_only || len == 0 {
        body::empty()
    } else {
        let counter = lane.counters.blobs.clone();
        let delivery = (start + len == size).then(|| Delivery {
            log: lane.sent.clone(),
            digest: digest.to_string(),
            peer: lane.peer,
            bytes: len,
        });
        body::paced_file(file, start, len, lane.path.clone(), counter, delivery)
    };
    let mut resp = reply::response(status, body);
    reply::set(&mut resp, "content-type", "application/octet-stream");
    reply::set(&mut resp, "content-length", &len.to_string());
    reply::set(&mut resp, "docker-content-digest", digest.as_str());
    reply::set(&mut resp, "accept-ranges", "bytes");
    reply::set(&mut resp, "etag", &format!("\"{digest}\""));
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + len - 1;
        let value = format!("bytes {start}-{last}/{size}");
        reply::set(&mut resp, "content-range", &value);
    }
    Ok(resp)
}

/// The range a `GET` asks for, after `If-Range`.
fn range_of(headers: &HeaderMap, digest: &Digest, size: u64) -> RangeAsk {
    let Some(range) = headers.get(hyper::header::RANGE) else {
        return RangeAsk::Whole;
    };
    let if_range = headers.get(hyper::header::IF_RANGE);
    if if_range.is_some_and(|v| !if_range_matches(v.as_bytes(), digest)) {
        return RangeAsk::Whole;
    }
    range
        .to_str()
        .map_or(RangeAsk::Whole, |v| parse_range(v, size))
}

/// True when an `If-Range` validator is the blob's strong `ETag` or its bare digest.
pub fn if_range_matches(validator: &[u8], digest: &Digest) -> bool {
    let Ok(validator) = std::str::from_utf8(validator) else {
        return false;
    };
    let validator = validator.trim();
    let unquoted = validator
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(validator);
    unquoted == digest.as_str()
}

/// Parses a `Range` value against a blob of `size` bytes (see the module doc for the rules).
pub fn parse_range(value: &str, size: u64) -> RangeAsk {
    let value = value.trim();
    let Some(spec) = value
        .get(..6)
        .filter(|unit| unit.eq_ignore_ascii_case("bytes="))
        .and_then(|_| value.get(6..))
    else {
        return RangeAsk::Whole;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return RangeAsk::Whole;
    };
    match (position(first), position(last)) {
        // bytes=-N: the last N bytes.
        (None, Some(n)) if first.is_empty() => suffix(n, size),
        (Some(first), None) if last.is_empty() => part(first, u64::MAX, size),
        (Some(first), Some(last)) if first <= last => part(first, last, size),
        _ => RangeAsk::Whole,
    }
}

/// A byte position: ASCII digits only, saturating at `u64::MAX`; `None` if not all digits.
fn position(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// The last `n` bytes of the blob.
fn suffix(n: u64, size: u64) -> RangeAsk {
    if n == 0 || size == 0 {
        return RangeAsk::Unsatisfiable;
    }
    RangeAsk::Part {
        first: size.saturating_sub(n),
        last: size - 1,
    }
}

/// Bytes `first..=last`, the end clamped to the blob's last byte.
fn part(first: u64, last: u64, size: u64) -> RangeAsk {
    if first >= size {
        return RangeAsk::Unsatisfiable;
    }
    RangeAsk::Part {
        first,
        last: last.min(size - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> RangeAsk {
        RangeAsk::Part { first, last }
    }

    #[test]
    fn normal_ranges() {
        assert_eq!(parse_range("bytes=0-", 100), part(0, 99));
        assert_eq!(parse_range("bytes=5-9", 100), part(5, 9));
        assert_eq!(parse_range("bytes=-3", 100), part(97, 99));
        assert_eq!(parse_range("bytes=0-9", 100), part(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), part(90, 99));
        assert_eq!(parse_range("bytes=90-200", 100), part(90, 99));
        assert_eq!(parse_range("bytes=-200", 100), part(0, 99));
        assert_eq!(parse_range("bytes=7-7", 100), part(7, 7));
        assert_eq!(parse_range("BYTES=5-9", 100), part(5, 9));
        assert_eq!(parse_range(" bytes=5-9 ", 100), part(5, 9));
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(parse_range("bytes=100-", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), RangeAsk::Unsatisfiable);
    }

    #[test]
    fn malformed_ranges_are_ignored() {
        for value in [
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=-+2",
            "bytes=0x1-2",
            "bytes= 1-2",
            "bytes=1 -2",
            "bytes=1-2-3",
            "bytes=5-1",
            "bytes=",
            "bytes=-",
            "bytes=1",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes",
            "",
            "é",
            "bytesé=0-1",
        ] {
            assert_eq!(parse_range(value, 100), RangeAsk::Whole, "{value:?}");
        }
    }

    #[test]
    fn overflowing_positions_saturate() {
        let huge = "99999999999999999999999";
        assert_eq!(parse_range(&format!("bytes=90-{huge}"), 100), part(90, 99));
        let max = u64::MAX;
        assert_eq!(parse_range(&format!("bytes=0-{max}"), 100), part(0, 99));
        assert_eq!(
            parse_range(&format!("bytes={huge}-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(&format!("bytes=-{huge}"), 100), part(0, 99));
        assert_eq!(
            parse_range(&format!("bytes={huge}-5"), 100),
            RangeAsk::Whole
        );
    }

    #[test]
    fn if_range_matches_the_etag_or_digest_only() {
        let digest = Digest::of(b"blob");
        let etag = format!("\"{digest}\"");
        assert!(if_range_matches(etag.as_bytes(), &digest));
        assert!(if_range_matches(digest.as_str().as_bytes(), &digest));
        assert!(!if_range_matches(format!("W/{etag}").as_bytes(), &digest));
        let other = format!("\"{}\"", Digest::of(b"other"));
        assert!(!if_range_matches(other.as_bytes(), &digest));
        assert!(!if_range_matches(b"Sat, 01 Jan 2000 00:00:00 GMT", &digest));
        assert!(!if_range_matches(b"\xff", &digest));
        assert!(!if_range_matches(b"\"", &digest));
    }
}
