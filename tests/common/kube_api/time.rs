//! Timestamps in the API server's two formats: `Time` (RFC 3339, seconds) and `MicroTime`.

use time::macros::format_description;
use time::OffsetDateTime;

/// `metav1.Time`: `2026-11-28T22:39:08Z` (one-second resolution, as real servers send).
pub fn now_seconds() -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

/// `metav1.MicroTime`: `2026-11-28T22:39:08.123456Z`.
pub fn now_micros() -> String {
    let f =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    OffsetDateTime::now_utc().format(&f).unwrap_or_default()
}

/// Nanoseconds since the Unix epoch: the hex suffix of a legacy event's name.
pub fn unix_nanos() -> i128 {
    OffsetDateTime::now_utc().unix_timestamp_nanos()
}
