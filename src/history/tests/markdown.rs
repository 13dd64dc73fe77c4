//! history.md, snapshot-tested.

use super::*;
use crate::history::{collect, History};
use crate::report::history::render_markdown;

#[test]
fn nightly_markdown() {
    let tmp = nightly();
    let mut h = collect(&[tmp.path().join("nightly")]).unwrap();
    // The warning names a temporary path: make it stable.
    for w in &mut h.warnings {
        *w = w.replace(&tmp.path().display().to_string(), "TMP");
    }
    insta::assert_snapshot!("nightly_history_md", render_markdown(&h));
}

#[test]
fn empty_and_uncompared() {
    assert_eq!(
        render_markdown(&History::default()),
        "# Cold-start history\n\nNo runs.\n\n"
    );
    let tmp = nightly();
    let mut h = collect(&[tmp.path().join("nightly").join("nightly-a")]).unwrap();
    let md = render_markdown(&h);
    assert!(md.contains("1 run, 2026-11-26 02:00."), "{md}");
    assert!(!md.contains("regressed"), "{md}");
    h.points[0]
        .cells
        .retain(|c| c.variant == "full-like" && c.metric.name() == "total");
    let md = render_markdown(&h);
    assert!(md.contains("| 2026-11-26 02:00 | 0a1b2c3 | 5 | "), "{md}");
    assert!(md.contains(" | — |"), "{md}");
}
