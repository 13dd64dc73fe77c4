//! Property tests of the parser: no panic on any text, every error's column within the text
//! (one past the end meaning "at the end"), and the canonical form parses back the same.

use proptest::prelude::*;

use super::*;

/// Whether `e`'s column lies within `expr` or `key` (whichever it counts in), or just past it.
fn column_within(e: &ThresholdError, key: &str, expr: &str) -> bool {
    let text = match e.part {
        Part::Key => key,
        Part::Expression => expr,
    };
    (1..=text.chars().count() + 1).contains(&e.column)
}

/// Text made of the grammar's own pieces, to reach deep into it.
const PIECES: &str = "(p50|p99\\.9|p|med|avg|min|max|total|pull|full_capacity|variant|[(){}:<>=!+%.µ -]|[0-9]{1,3}|ms|s|h|x){0,12}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_text_parses_or_errs_within_itself(expr in "\\PC{0,300}", key in "\\PC{0,20}") {
        if let Err(e) = parse(&expr) {
            prop_assert!(column_within(&e, "", &expr), "{:?}: {}", expr, e);
        }
        if let Err(e) = parse_keyed(&key, &expr) {
            prop_assert!(column_within(&e, &key, &expr), "{:?} {:?}: {}", key, expr, e);
        }
    }

    #[test]
    fn grammar_like_text_parses_or_errs_within_itself(expr in PIECES, key in PIECES) {
        match parse(&expr) {
            Ok(t) => {
                let back = parse(&t.canonical()).map_err(|e| TestCaseError::fail(format!("{}: {e}", t.canonical())))?;
                prop_assert_eq!((back.metric, back.aggregation, back.op), (t.metric, t.aggregation, t.op));
                prop_assert_eq!(back.limit.value(), t.limit.value());
                prop_assert_eq!(back.variant, t.variant);
            }
            Err(e) => prop_assert!(column_within(&e, "", &expr), "{:?}: {}", expr, e),
        }
        if let Err(e) = parse_keyed(&key, &expr) {
            prop_assert!(column_within(&e, &key, &expr), "{:?} {:?}: {}", key, expr, e);
        }
    }
}
