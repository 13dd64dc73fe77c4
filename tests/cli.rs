//! The command line as a user meets it: exit codes and error messages for bad input.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const GOOD: &str = r#"name = "t"
repetitions = 1
[registry]
bandwidth = "100MB/s"
[[variant]]
name = "small"
synth = { size = "2MB" }
"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn coldbench() -> Command {
    Command::cargo_bin("coldbench").unwrap()
}

/// Each malformed scenario exits 2 and points at file:line:column, the field, and what is expected.
#[test]
fn malformed_scenarios_exit_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "unknown-key.toml",
            GOOD.replace("bandwidth", "bandwith"),
            ":4:1: registry",
            "unknown field `bandwith`",
        ),
        (
            "bad-unit.toml",
            GOOD.replace("100MB/s", "100 parsecs/s"),
            ":4:13: registry.bandwidth",
            "invalid rate",
        ),
        (
            "missing.toml",
            GOOD.replace("name = \"small\"\n", ""),
            ":5:1: variant[0]",
            "missing field `name`",
        ),
        (
            "duplicate.toml",
            format!("{GOOD}[[variant]]\nname = \"small\"\nsynth = {{ size = \"1MB\" }}\n"),
            ":9:8: variant[1].name",
            "duplicate variant name",
        ),
        (
            "zero.toml",
            GOOD.replace("repetitions = 1", "repetitions = 0"),
            ":2:15: repetitions",
            "nonzero",
        ),
    ];
    for (file, text, location, message) in cases {
        let path = write(dir.path(), file, &text);
        coldbench()
            .args(["run", "--no-progress", "--results-dir"])
            .arg(dir.path().join("results"))
            .arg(&path)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{file}{location}")))
            .stderr(predicate::str::contains(message));
    }
    assert!(
        !dir.path().join("results").exists(),
        "bad input writes no results"
    );
}

#[test]
fn a_missing_scenario_file_exits_2() {
    coldbench()
        .args(["run", "no/such/scenario.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/scenario.toml"))
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn an_unreachable_engine_exits_1_naming_the_socket_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!("{GOOD}[docker]\nnode = \"engine\"\n");
    let path = write(dir.path(), "good.toml", &scenario);
    coldbench()
        .env("DOCKER_HOST", "unix:///nonexistent/coldbench-test.sock")
        .args(["run", "--no-progress"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unix:///nonexistent/coldbench-test.sock",
        ))
        .stderr(predicate::str::contains("scripts/setup-docker"));
}

#[test]
fn bad_command_line_units_exit_2() {
    coldbench()
        .args(["registry", "serve", "--store", "x", "--bandwidth", "fast"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid rate \"fast\""));
}

#[test]
fn shipped_scenarios_parse() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            coldbench::scenario::Scenario::parse(&path, text).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn inspect_shows_a_synthetic_variants_anatomy_without_docker() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "good.toml", GOOD);
    let out = coldbench()
        .args(["inspect", "small", "--json", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let anatomy: coldbench::image::anatomy::Anatomy = serde_json::from_slice(&out.stdout).unwrap();
    assert!(anatomy.shells.is_empty());
    assert!(anatomy.runs_as_root);
    assert!((1_900_000..2_100_000).contains(&anatomy.compressed_size));
    coldbench()
        .args(["inspect", "small", "--scenario"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("/coldbench-hello"))
        .stdout(predicate::str::contains("runs as root"));
    coldbench()
        .args(["inspect", "nope", "--scenario"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "has no variant \"nope\"; it has: small",
        ));
}

/// An export target that cannot be written is refused before the run starts: exit 2, the flag and
/// the path named once, and no run directory made.
#[test]
fn a_bad_export_target_fails_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "t.toml", GOOD);
    let results = dir.path().join("results");
    let missing = dir.path().join("no-such-dir").join("run.json");
    let out = coldbench()
        .arg("run")
        .arg(&scenario)
        .arg("--results-dir")
        .arg(&results)
        .arg("--no-progress")
        .arg("--export-json")
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--export-json"))
        .stderr(predicate::str::contains("no-such-dir"))
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("error:").count(), 1, "said once: {stderr}");
    assert!(!results.exists(), "no run was started");
}
