//! `coldbench compare` and `coldbench history` on real nightly runs (tests/fixtures/nightly: six
//! runs of scenarios/nightly.toml on one machine; nightly-slower: the same with the `app` image
//! grown from 60 to 100 MB): no false alarms, a real slowdown found, thresholds, CI files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs
}

/// A copy of a fixture run directory, so `compare` may write compare.json into it.
fn copy_run(run: &Path, into: &Path) -> PathBuf {
    let to = into.join(run.file_name().unwrap());
    std::fs::create_dir_all(&to).unwrap();
    std::fs::copy(run.join("run.json"), to.join("run.json")).unwrap();
    to
}

fn coldbench() -> Command {
    Command::cargo_bin("coldbench").unwrap()
}

fn compare(base: &Path, new: &Path) -> Command {
    let mut c = coldbench();
    c.arg("compare").arg(base).arg(new);
    c
}

#[test]
fn five_unchanged_nights_are_no_change_in_every_cell() {
    let runs = fixtures("nightly");
    assert_eq!(runs.len(), 6);
    let tmp = tempfile::tempdir().unwrap();
    for night in &runs[1..] {
        let new = copy_run(night, tmp.path());
        let out = compare(&runs[0], &new).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(
            text.contains("0 regressed, 0 improved, 10 unchanged"),
            "{text}"
        );
        let report: coldbench::compare::CompareReport =
            serde_json::from_slice(&std::fs::read(new.join("compare.json")).unwrap()).unwrap();
        assert_eq!(report.cells.len(), 10);
        assert!(new.join("compare.md").is_file());
    }
}

#[test]
fn a_slower_image_is_regressed_and_exits_3() {
    let base = &fixtures("nightly")[0];
    let slower = &fixtures("nightly-slower")[0];
    let out = compare(base, slower).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let pull = text
        .lines()
        .skip_while(|l| *l != "app")
        .find(|l| l.trim_start().starts_with("pull"))
        .unwrap();
    assert!(pull.ends_with("regressed"), "{pull}");
    let slim = text
        .lines()
        .skip_while(|l| *l != "app-slim")
        .find(|l| l.trim_start().starts_with("pull"))
        .unwrap();
    assert!(slim.ends_with("no change"), "{slim}");
}

#[test]
fn thresholds_fail_with_their_measured_value_and_exit_3() {
    let runs = fixtures("nightly");
    let tmp = tempfile::tempdir().unwrap();
    let new = copy_run(&runs[1], tmp.path());
    compare(&runs[0], &new)
        .args(["--threshold", "p95(total{variant:app-slim})<10s"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("✓"));
    compare(&runs[0], &new)
        .args([
            "--threshold",
            "p50(pull)<1s",
            "--threshold",
            "p50(pull)<+50%",
        ])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("p50(pull)<1s"))
        .stdout(predicate::str::is_match(r"✗\s+p50\(pull\)<1s\s+app\s+2\.\d+ s").unwrap());
}

#[test]
fn a_malformed_threshold_is_exit_2_with_its_column() {
    let runs = fixtures("nightly");
    compare(&runs[0], &runs[1])
        .args(["--threshold", "p95(totl)<2s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--threshold \"p95(totl)<2s\": column 5",
        ))
        .stderr(predicate::str::contains("unknown metric"));
}

#[test]
fn ci_files_are_written_and_parse() {
    let runs = fixtures("nightly");
    let slower = &fixtures("nightly-slower")[0];
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name);
    compare(&runs[0], slower)
        .arg("--export-junit")
        .arg(file("junit.xml"))
        .arg("--export-gab")
        .arg(file("gab.json"))
        .arg("--export-bmf")
        .arg(file("bmf.json"))
        .arg("--export-markdown")
        .arg(file("verdict.md"))
        .assert()
        .code(3);
    let xml = std::fs::read_to_string(file("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert!(!failures.is_empty());
    assert!(failures.iter().any(|f| f
        .attribute("message")
        .unwrap()
        .starts_with("pull regressed")));
    let gab: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("gab.json")).unwrap()).unwrap();
    let app_pull = gab
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "app pull")
        .unwrap();
    assert_eq!(app_pull["unit"], "ms");
    assert!(app_pull["value"].as_f64().unwrap() > 2000.0);
    let bmf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("bmf.json")).unwrap()).unwrap();
    assert!(
        bmf["app"]["pull"]["value"].as_f64().unwrap() > 2e9,
        "nanoseconds"
    );
    let md = std::fs::read_to_string(file("verdict.md")).unwrap();
    assert!(md.contains("▲"), "{md}");
}

#[test]
fn unreadable_runs_and_bad_targets_are_exit_2() {
    let runs = fixtures("nightly");
    let tmp = tempfile::tempdir().unwrap();
    compare(&runs[0], tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run.json"))
        .stderr(predicate::str::contains(
            "expected a run directory or its run.json",
        ));
    compare(&runs[0], &runs[1])
        .arg("--export-junit")
        .arg(tmp.path().join("missing/junit.xml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--export-junit"));
    compare(&runs[0], &runs[1])
        .args(["--noise-threshold", "200%"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("percentage"));
}

#[test]
fn run_refuses_a_missing_baseline_or_a_bad_name_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/nightly.toml");
    coldbench()
        .arg("run")
        .arg(&scenario)
        .arg("--results-dir")
        .arg(tmp.path())
        .args(["--baseline", "nightly"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no baseline \"nightly\""))
        .stderr(predicate::str::contains("--save-baseline nightly"));
    coldbench()
        .arg("run")
        .arg(&scenario)
        .arg("--results-dir")
        .arg(tmp.path())
        .args(["--save-baseline", "../escape"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("baseline name"));
    coldbench()
        .arg("run")
        .arg(&scenario)
        .arg("--results-dir")
        .arg(tmp.path())
        .args(["--threshold", "p50(pull)<+10%"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add --baseline NAME"));
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing ran"
    );
}

#[test]
fn history_draws_the_nights_with_the_regression_marked() {
    let tmp = tempfile::tempdir().unwrap();
    let nights = tmp.path().join("nightly");
    std::fs::create_dir_all(&nights).unwrap();
    let runs = fixtures("nightly");
    for night in &runs {
        copy_run(night, &nights);
    }
    let slower = copy_run(&fixtures("nightly-slower")[0], &nights);
    compare(&runs[0], &slower).assert().code(3);
    let out = tmp.path().join("history");
    coldbench()
        .arg("history")
        .arg(&nights)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("▲"));
    for variant in ["app", "app-slim"] {
        let svg =
            std::fs::read_to_string(out.join(format!("charts/history-{variant}.svg"))).unwrap();
        assert!(svg.contains("regressed (compare)"), "{variant}");
        assert!(out.join(format!("charts/history-{variant}.png")).is_file());
    }
    assert!(std::fs::read_to_string(out.join("history.md"))
        .unwrap()
        .contains("app-slim"));
}
