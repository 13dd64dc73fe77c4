//! UTC timestamps as run.json writes them.

/// Current UTC time, RFC 3339 with microseconds.
pub fn now_utc() -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// `2026-11-26T23:15:48.123456Z` → `20261126T231548Z`.
pub fn compact(rfc3339: &str) -> String {
    let digits: String = rfc3339
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{digits}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_compact() {
        assert_eq!(
            super::compact("2026-11-26T23:15:48.123456Z"),
            "20261126T231548Z"
        );
    }
}
