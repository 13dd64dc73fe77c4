//! `collect`: run directories, directories of runs, patterns; order, warnings, regressions.

use super::*;
use crate::history::{collect, HistoryError, MAX_RUNS};
use crate::results::Phase;

const TOTAL: Metric = Metric::Phase(Phase::Total);
const PULL: Metric = Metric::Phase(Phase::Pull);

fn ids(h: &crate::history::History) -> Vec<&str> {
    h.points.iter().map(|p| p.run_id.as_str()).collect()
}

#[test]
fn directory_of_runs_in_time_order_with_a_corrupt_one_skipped() {
    let tmp = nightly();
    let h = collect(&[tmp.path().join("nightly")]).unwrap();
    assert_eq!(ids(&h), ["nightly-a", "nightly-b", "nightly-c"]);
    assert_eq!(h.variants(), ["full-like", "static-like"]);
    assert_eq!(h.warnings.len(), 1, "{:?}", h.warnings);
    assert!(
        h.warnings[0].contains("nightly-broken/run.json"),
        "{}",
        h.warnings[0]
    );

    let c = &h.points[2];
    assert_eq!(c.git_commit.as_deref(), Some("2c3d4e5"));
    assert_eq!(c.baseline.as_deref(), Some("nightly-b"));
    assert_eq!(c.short_date(), "11-28");
    let total = c.cell("full-like", TOTAL).unwrap();
    assert!(total.regressed);
    assert_eq!(total.n, 5);
    // Nearest rank at 3 significant figures: the 3rd of 5 for p50, the 1st and 5th for p5/p95.
    assert!(total.p50.abs_diff(6_600_000) < 6_600, "{total:?}");
    assert!(total.p5.abs_diff(6_400_000) < 6_400, "{total:?}");
    assert!(total.p95.abs_diff(6_800_000) < 6_800, "{total:?}");
    assert!(!c.cell("full-like", PULL).unwrap().regressed);
    assert!(!c.cell("static-like", TOTAL).unwrap().regressed);
    assert_eq!(c.regressions("full-like").collect::<Vec<_>>(), [TOTAL]);

    let b = &h.points[1];
    assert_eq!(b.baseline.as_deref(), Some("nightly-a"));
    assert_eq!(b.regressions("full-like").count(), 0);
    assert!(h.points[0].baseline.is_none());
    // Burst milestones only exist in burst runs.
    assert!(c
        .cell("full-like", Metric::from_name("full_capacity").unwrap())
        .is_none());
}

#[test]
fn run_directories_patterns_and_duplicates() {
    let tmp = nightly();
    let runs = tmp.path().join("nightly");
    // The same run twice (directly and through the pattern) is read once.
    let args = [runs.join("nightly-b"), runs.join("nightly-*")];
    let h = collect(&args).unwrap();
    assert_eq!(ids(&h), ["nightly-a", "nightly-b", "nightly-c"]);

    let h = collect(&[runs.join("nightly-?")]).unwrap();
    assert_eq!(ids(&h), ["nightly-a", "nightly-b", "nightly-c"]);
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);

    // A copy of a run elsewhere: kept once, with a warning.
    let copy = tmp.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(runs.join("nightly-a/run.json"), copy.join("run.json")).unwrap();
    let h = collect(&[runs.join("nightly-a"), copy]).unwrap();
    assert_eq!(ids(&h), ["nightly-a"]);
    assert!(h.warnings[0].contains("already read"), "{:?}", h.warnings);
}

#[test]
fn bad_arguments_are_errors() {
    let tmp = nightly();
    let runs = tmp.path().join("nightly");
    assert!(matches!(collect(&[]), Err(HistoryError::NoArguments)));
    assert!(matches!(
        collect(&[tmp.path().join("missing")]),
        Err(HistoryError::NotADirectory(_))
    ));
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(matches!(collect(&[empty]), Err(HistoryError::NoRunsIn(_))));
    assert!(matches!(
        collect(&[runs.join("weekly-*")]),
        Err(HistoryError::NoMatch(_))
    ));
    let only_broken = collect(&[runs.join("nightly-broken")]).unwrap_err();
    assert!(matches!(only_broken, HistoryError::NoReadableRun(_)));
    assert!(
        only_broken.to_string().contains("run.json"),
        "{only_broken}"
    );
}

#[test]
fn unusable_compare_json_is_a_warning_and_the_run_is_kept() {
    let tmp = nightly();
    let runs = tmp.path().join("nightly");
    std::fs::write(runs.join("nightly-c/compare.json"), b"[1, 2").unwrap();
    // b's compare.json claims to be about another run.
    let a: RunRecord =
        serde_json::from_slice(&std::fs::read(runs.join("nightly-a/run.json")).unwrap()).unwrap();
    write_compare(&runs.join("nightly-b"), &compare_report(&a, &a, &[]));
    let h = collect(&[runs]).unwrap();
    assert_eq!(ids(&h), ["nightly-a", "nightly-b", "nightly-c"]);
    assert!(h.points.iter().all(|p| p.baseline.is_none()));
    assert!(h.points.iter().flat_map(|p| &p.cells).all(|c| !c.regressed));
    let text = h.warnings.join("\n");
    assert!(text.contains("nightly-c/compare.json"), "{text}");
    assert!(
        text.contains("compares run nightly-a, not nightly-b"),
        "{text}"
    );
}

#[test]
fn hand_edited_runs_do_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    // No samples, failed samples, a malformed date, a blank commit, a variant with no samples.
    let mut failed = record("r2", "yesterday", Some("  "), &[("a", &[S])]);
    failed.samples[0].outcome = Outcome::Failed {
        phase: crate::results::Phase::Pull,
        message: "boom".into(),
    };
    let runs = [
        record("r1", "", None, &[("a", &[])]),
        failed,
        record("r3", "2026-11-28T02:00:00Z", None, &[("a", &[0, u64::MAX])]),
    ];
    for r in &runs {
        write_run(tmp.path(), r);
    }
    let h = collect(&[tmp.path().to_path_buf()]).unwrap();
    assert_eq!(ids(&h), ["r1", "r3", "r2"]);
    assert_eq!(h.points[2].short_date(), "?");
    assert_eq!(h.points[2].git_commit, None);
    assert!(h.points[0].cells.is_empty());
    assert!(h.points[2].cells.is_empty());
    assert_eq!(h.points[1].cell("a", TOTAL).unwrap().n, 2);
    // Everything downstream copes too.
    let charts = crate::report::charts::history_charts(&h).unwrap();
    assert_eq!(charts.len(), 1);
    let md = crate::report::history::render_markdown(&h);
    assert!(md.contains("| yesterday | — | — | — | — |"), "{md}");
}

#[test]
fn beyond_the_bound_the_newest_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..MAX_RUNS + 2 {
        // The ids sort in the reverse of the time order.
        let r = record(
            &format!("r{:05}", MAX_RUNS + 2 - i),
            &format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
            None,
            &[],
        );
        write_run(tmp.path(), &r);
    }
    let h = collect(&[tmp.path().to_path_buf()]).unwrap();
    assert_eq!(h.points.len(), MAX_RUNS);
    assert_eq!(h.points[0].started_at, "2026-01-01T00:00:02Z");
    assert!(
        h.warnings[0].contains("the oldest 2 are left out"),
        "{:?}",
        h.warnings
    );
}
