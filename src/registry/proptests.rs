//! Property tests of what a client controls before any handler runs: the request path and the
//! `Range` header. Any input parses without panicking; what parses is consistent.

use proptest::prelude::*;

use super::blobs::{parse_range, RangeAsk};
use super::routes::{parse, percent_decode, percent_encode, Route};

/// Path-like text: API markers, separators, escapes and arbitrary characters mixed.
fn path_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/v2".to_string()),
        Just("/".to_string()),
        Just("/manifests/".to_string()),
        Just("/blobs/".to_string()),
        Just("/blobs/uploads/".to_string()),
        Just("/tags/list".to_string()),
        Just("_catalog".to_string()),
        Just("%".to_string()),
        Just("%2F".to_string()),
        Just("%zz".to_string()),
        "[a-z0-9:._-]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

/// `Range`-like text: units, separators, numbers near the edges, arbitrary characters.
fn range_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("bytes=".to_string()),
        Just("-".to_string()),
        Just(",".to_string()),
        Just("+".to_string()),
        Just(" ".to_string()),
        Just(u64::MAX.to_string()),
        Just("18446744073709551616".to_string()),
        (0u64..2_000).prop_map(|n| n.to_string()),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #[test]
    fn any_path_parses_without_panicking_and_names_stay_inside_it(path in path_like()) {
        let decoded = percent_decode(&path);
        if let Some(route) = parse(&path) {
            let decoded = decoded.expect("a route comes from a decodable path");
            prop_assert!(decoded.starts_with("/v2"));
            let parts: Vec<&String> = match &route {
                Route::Base | Route::Catalog => vec![],
                Route::Tags { name } | Route::UploadStart { name } => vec![name],
                Route::Manifest { name, reference } => vec![name, reference],
                Route::Blob { name, digest } => vec![name, digest],
                Route::Upload { name, id } => vec![name, id],
            };
            for part in parts {
                prop_assert!(decoded.contains(part.as_str()));
            }
        }
    }

    #[test]
    fn percent_encoding_round_trips(text in any::<String>()) {
        prop_assert_eq!(percent_decode(&percent_encode(&text)), Some(text));
    }

    #[test]
    fn any_range_header_gives_a_range_inside_the_blob(value in range_like(), size in 0u64..5_000) {
        match parse_range(&value, size) {
            RangeAsk::Part { first, last } => prop_assert!(first <= last && last < size),
            RangeAsk::Whole | RangeAsk::Unsatisfiable => {}
        }
    }

    #[test]
    fn a_well_formed_range_is_served_as_asked(first in 0u64..1_000, len in 1u64..1_000, size in 1u64..3_000) {
        let last = first + len - 1;
        let asked = parse_range(&format!("bytes={first}-{last}"), size);
        let expected = if first >= size {
            RangeAsk::Unsatisfiable
        } else {
            RangeAsk::Part { first, last: last.min(size - 1) }
        };
        prop_assert_eq!(asked, expected);
    }
}
