//! `coldbench calibrate` and `coldbench predict` as a user meets them: real runs in, a
//! calibration file and predicted-vs-measured tables out, bad input exiting 2 with where and why.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn coldbench() -> Command {
    Command::cargo_bin("coldbench").unwrap()
}

/// Calibrates on the quickstart fixture into `dir/calibration.toml`.
fn calibrate(dir: &Path) -> PathBuf {
    let out = dir.join("calibration.toml");
    coldbench()
        .arg("calibrate")
        .arg(fixture("model/quickstart.json"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("extraction"))
        .stdout(predicate::str::contains("4 of 4 figures within ±15 %"));
    out
}

#[test]
fn calibrate_writes_a_file_that_predict_reads() {
    let dir = tempfile::tempdir().unwrap();
    let calibration = calibrate(dir.path());
    let text = std::fs::read_to_string(&calibration).unwrap();
    for key in [
        "[params]",
        "extract_bytes_per_sec",
        "[[fit]]",
        "[images.full-like]",
    ] {
        assert!(text.contains(key), "no {key} in\n{text}");
    }
    let markdown = dir.path().join("prediction.md");
    coldbench()
        .arg("predict")
        .arg("--calibration")
        .arg(&calibration)
        .arg(fixture("model/node-bases.json"))
        .arg(fixture("model/burst.json"))
        .arg("--export-markdown")
        .arg(&markdown)
        .assert()
        .success()
        .stdout(predicate::str::contains("model calibrated on quickstart-"))
        .stdout(predicate::str::contains("full capacity"))
        .stdout(predicate::str::contains("figures within ±15 %"));
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(md.starts_with("| run | variant | metric |"), "{md}");
    assert_eq!(md.matches("| burst-").count(), 4, "{md}");
}

#[test]
fn a_hand_edited_calibration_is_refused_where_it_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let calibration = calibrate(dir.path());
    let text = std::fs::read_to_string(&calibration).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("extract_bytes_per_sec"))
        .unwrap()
        + 1;
    let bad = text
        .lines()
        .map(|l| {
            if l.starts_with("extract_bytes_per_sec") {
                "extract_bytes_per_sec = -5.0"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&calibration, bad).unwrap();
    coldbench()
        .arg("predict")
        .arg("--calibration")
        .arg(&calibration)
        .arg(fixture("model/burst.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "calibration.toml:{line}:1"
        )))
        .stderr(predicate::str::contains("params.extract_bytes_per_sec"))
        .stderr(predicate::str::contains("positive extraction rate"));
    std::fs::write(&calibration, "[params]\nextract_bytes_per_sec = \"fast\"\n").unwrap();
    coldbench()
        .arg("predict")
        .arg("--calibration")
        .arg(&calibration)
        .arg(fixture("model/burst.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("calibration.toml:"));
}

#[test]
fn runs_that_cannot_be_calibrated_on_exit_2() {
    coldbench()
        .arg("calibrate")
        .arg(fixture("model/burst.json"))
        .arg("--out")
        .arg(std::env::temp_dir().join("coldbench-never-written.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no cold, successful single cold start",
        ));
    coldbench()
        .arg("calibrate")
        .arg("no/such/run")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/run"));
}
