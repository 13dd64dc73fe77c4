//! Shared helpers for integration tests that need real infrastructure.
#![allow(dead_code)]

pub mod test_driver;

use std::fs::File;
use std::process::Command;

/// Holds the machine-wide lock that serializes tests touching the Docker engine.
pub struct DockerGuard {
    _lock: File,
}

/// True when `CI=true`: infrastructure tests must fail, not skip, when it is missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Returns a guard when a Docker engine answers; otherwise skips (returns `None`) — or, with
/// `CI=true`, panics, because CI must run these tests.
///
/// Tests that evict images or count bytes share one engine, so they run one at a time across
/// processes (nextest) and threads (cargo test) behind a file lock.
pub fn docker() -> Option<DockerGuard> {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if in_ci() {
            panic!("CI=true but no Docker engine answers `docker info`: run scripts/setup-docker");
        }
        eprintln!("SKIPPED: no Docker engine answers (run scripts/setup-docker to run this test)");
        return None;
    }
    let path = std::env::temp_dir().join("coldbench-docker-tests.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .expect("open docker test lock");
    lock.lock().expect("take docker test lock");
    Some(DockerGuard { _lock: lock })
}

/// Returns true when `tool` runs; with `CI=true` a missing tool panics.
pub fn tool(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if in_ci() {
            panic!("CI=true but `{tool}` is missing: run scripts/setup-docker");
        }
        eprintln!("SKIPPED: `{tool}` is not installed");
    }
    ok
}

/// Runs a command, panicking with its output when it fails; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `coldbench run --no-progress --results-dir DIR/results SCENARIO [extra…]` and returns
/// its output.
pub fn coldbench_run(
    dir: &std::path::Path,
    scenario: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_coldbench"))
        .args(["run", "--no-progress"])
        .args(extra)
        .arg("--results-dir")
        .arg(dir.join("results"))
        .arg(scenario)
        .output()
        .unwrap_or_else(|e| panic!("spawn coldbench: {e}"))
}

/// dockerd processes of fresh nodes (their data roots live in /tmp/cbn*).
pub fn fresh_node_daemons() -> Vec<String> {
    run(Command::new("ps").args(["-eo", "args"]))
        .lines()
        .filter(|l| l.contains("dockerd") && l.contains("/tmp/cbn"))
        .map(str::to_string)
        .collect()
}

/// Panics unless the run.json at `path` validates against `schemas/run.schema.json`.
pub fn assert_follows_schema(path: &std::path::Path) {
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
            .unwrap_or_else(|e| panic!("{p:?}: {e}"))
    };
    let schema = read(std::path::Path::new("schemas/run.schema.json"));
    let validator = jsonschema::draft202012::new(&schema).expect("the schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(&read(path))
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{path:?} does not follow the schema: {errors:?}"
    );
}

/// True when fresh containerd nodes can be started (root, containerd, shim, runc); otherwise
/// skips (returns false) — or, with `CI=true`, panics, because CI must run these tests.
pub fn containerd() -> bool {
    match coldbench::driver::containerd::node::available() {
        Ok(_) => true,
        Err(why) => {
            if in_ci() {
                panic!("CI=true but containerd nodes cannot start: {why} (run scripts/setup-docker as root)");
            }
            eprintln!("SKIPPED: containerd nodes cannot start here: {why}");
            false
        }
    }
}

/// Runs the scenario `text` through `coldbench::run` with its results under `dir`; panics with
/// the run's error.
pub async fn run_scenario(dir: &std::path::Path, text: &str) -> coldbench::run::RunOutcome {
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, text).unwrap();
    coldbench::run::run(&coldbench::run::RunOptions {
        scenario,
        results_dir: dir.join("results"),
        progress: false,
        driver: None,
        sim: Default::default(),
    })
    .await
    .unwrap_or_else(|e| panic!("run failed: {e}"))
}
