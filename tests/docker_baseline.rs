//! `run --save-baseline` then `run --baseline` against the real engine: the baseline is saved,
//! the second run is compared with it (compare.json, compare.md in its directory, the verdict
//! table printed), thresholds from the scenario and the command line are checked, and a failed
//! one exits 3 with its measured value.

mod common;

use std::path::Path;

use assert_cmd::Command;
use coldbench::compare::{CompareReport, Verdict};

const SCENARIO: &str = r#"name = "baseline-it"
repetitions = 5
[docker]
node = "engine"
[registry]
bandwidth = "100MB/s"
[[variant]]
name = "small"
synth = { size = "2MB" }
[thresholds]
total = ["p95<30s"]
pull = ["p50<+400%"]
"#;

fn run(scenario: &Path, results: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("coldbench")
        .unwrap()
        .arg("run")
        .arg(scenario)
        .arg("--results-dir")
        .arg(results)
        .args(["--no-progress", "--no-report"])
        .args(extra)
        .output()
        .unwrap()
}

/// The run directory a `coldbench run` printed.
fn run_dir(out: &std::process::Output) -> std::path::PathBuf {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .unwrap();
    line.into()
}

#[test]
fn a_saved_baseline_is_compared_and_thresholds_checked() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("baseline-it.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let results = dir.path().join("results");

    let first = run(&scenario, &results, &["--save-baseline", "it"]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("1 relative threshold(s) not checked"),
        "{stderr}"
    );
    assert!(stdout.contains("✓  total: p95<30s"), "{stdout}");
    assert!(results.join("baselines/it/run.json").is_file());

    let second = run(
        &scenario,
        &results,
        &["--baseline", "it", "--threshold", "max(first_request)<1us"],
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert_eq!(second.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("✗  max(first_request)<1us"), "{stdout}");
    assert!(stdout.contains("pull: p50<+400%"), "{stdout}");
    let new = run_dir(&second);
    let report: CompareReport =
        serde_json::from_slice(&std::fs::read(new.join("compare.json")).unwrap()).unwrap();
    assert_eq!(report.cells.len(), 5, "five phases of one variant");
    assert!(report.cells.iter().all(|c| c.base_n == 5 && c.new_n == 5));
    assert!(report
        .cells
        .iter()
        .all(|c| !matches!(c.verdict, Verdict::TooFewSamples { .. })));
    assert!(std::fs::read_to_string(new.join("compare.md"))
        .unwrap()
        .contains("small"));
}
