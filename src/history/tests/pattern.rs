//! The hand-written glob matcher.

use crate::history::pattern::{has_wildcard, matches};

#[test]
fn stars_and_question_marks() {
    assert!(matches("*", "anything"));
    assert!(matches("*", ""));
    assert!(matches("nightly-*", "nightly-20261128T020000Z"));
    assert!(!matches("nightly-*", "weekly-1"));
    assert!(matches("*-2026*Z", "quickstart-20261128T020000Z"));
    assert!(matches("a?c", "abc"));
    assert!(!matches("a?c", "ac"));
    assert!(matches("a*b*c", "aXbYbZc"));
    assert!(!matches("a*b*c", "aXbYbZ"));
    assert!(matches("ü*", "über"));
    assert!(!matches("", "x"));
    assert!(matches("**a**", "ba"));
}

#[test]
fn only_components_with_wildcards_are_patterns() {
    assert!(has_wildcard(std::path::Path::new("results/nightly-*")));
    assert!(has_wildcard(std::path::Path::new("results/*/x")));
    assert!(!has_wildcard(std::path::Path::new("results/nightly")));
}
