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

/// A variant that cannot be prepared is located at its name in the scenario (file:line:col),
/// in `inspect --scenario` as in `run`.
#[test]
fn inspect_locates_a_prepare_error_in_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"t\"\n[[variant]]\nname = \"gone\"\nregistry = \"127.0.0.1:1/app:v1\"\n";
    let path = write(dir.path(), "unreachable.toml", text);
    coldbench()
        .args(["inspect", "gone", "--scenario"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:3:8: variant \"gone\"",
            path.display()
        )));
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

/// Runs `coldbench run` on `text` saved as `file` in a fresh directory.
fn run_scenario_text(file: &str, text: &str) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), file, text);
    coldbench()
        .args(["run", "--no-progress", "--results-dir"])
        .arg(dir.path().join("results"))
        .arg(&path)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
}

/// A tiny but positive rate used to pass validation and then panic converting seconds to a
/// `Duration`; now it is refused up front, at its position, naming the bound.
#[test]
fn a_tiny_rate_exits_2_with_a_location_not_a_panic() {
    run_scenario_text(
        "tiny.toml",
        &GOOD.replace("100MB/s", "0.00000000000000000001B/s"),
    )
    .code(2)
    .stderr(predicate::str::contains(
        "tiny.toml:4:13: registry.bandwidth",
    ))
    .stderr(predicate::str::contains("1.0 kB/s"));
}

/// Values that passed validation before, each now a located exit 2 naming the bound or rule.
#[test]
fn hostile_values_exit_2_with_a_location() {
    let with_ready = |ready: &str| format!("{GOOD}ready = {{ {ready} }}\n");
    let cases = [
        (
            with_ready("port = 0"),
            ":8:18: variant[0].ready.port",
            "1 to 65535",
        ),
        (
            with_ready("status = 0"),
            ":8:20: variant[0].ready.status",
            "100 to 599",
        ),
        (
            with_ready("timeout = \"0s\""),
            ":8:21: variant[0].ready.timeout",
            "1 ms to 10 min",
        ),
        (
            GOOD.replace("[registry]\n", "[registry]\nlatency = \"1000000h\"\n"),
            ":4:11: registry.latency",
            "at most 10 s",
        ),
        (
            GOOD.replace("size = \"2MB\"", "size = \"0B\""),
            ":7:18: variant[0].synth.size",
            "1.0 MB to 100.00 GB",
        ),
        (
            GOOD.replace("repetitions = 1", "repetitions = 4294967295"),
            ":2:15: repetitions",
            "1 to 1000",
        ),
        (
            format!("{GOOD}env = {{ \"A=B\" = \"x\" }}\n"),
            ":8:9: variant[0].env",
            "letters, digits and '_'",
        ),
    ];
    for (text, location, message) in cases {
        run_scenario_text("h.toml", &text)
            .code(2)
            .stderr(predicate::str::contains(format!("h.toml{location}")))
            .stderr(predicate::str::contains(message));
    }
}

/// A 10 MB value is not echoed back: the error stays short.
#[test]
fn a_huge_value_is_not_echoed_back() {
    let huge = "a".repeat(10_000_000);
    for text in [
        GOOD.replace("name = \"t\"", &format!("name = \"{huge}\"")),
        GOOD.replace("100MB/s", &huge),
        GOOD.replace("repetitions = 1", &format!("repetitions = \"{huge}\"")),
    ] {
        let out = run_scenario_text("huge.toml", &text)
            .code(2)
            .get_output()
            .clone();
        assert!(out.stderr.len() < 1000, "{} bytes", out.stderr.len());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("huge.toml:") && stderr.contains('…'),
            "{stderr}"
        );
    }
}

/// 10,000 nested arrays, inline tables or dotted keys: an error, never a stack overflow.
#[test]
fn deep_nesting_exits_2_with_a_clear_message() {
    let deep = [
        format!("x = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!("x = {}1{}\n", "{ a = ".repeat(10_000), " }".repeat(10_000)),
        format!("{} = 1\n", vec!["x"; 10_000].join(".")),
        format!("[{}]\n", vec!["x"; 10_000].join(".")),
    ];
    for text in deep {
        run_scenario_text("deep.toml", &text)
            .code(2)
            .stderr(predicate::str::contains("deep.toml"))
            .stderr(predicate::str::contains("nested too deeply"));
    }
}

/// A variant that fails to prepare names the scenario file and the variant's line:column, and
/// the cause is said once (no `caused by:` repeating the message).
#[test]
fn prepare_errors_name_the_file_and_the_variants_position_once() {
    let text = GOOD.replace(
        "synth = { size = \"2MB\" }",
        "registry = \"127.0.0.1:1/x:latest\"",
    );
    let out = run_scenario_text("p.toml", &text)
        .code(2)
        .stderr(predicate::str::contains("p.toml:6:8: variant \"small\": "))
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("Connection refused").count(), 1, "{stderr}");
}

/// `[containerd] node_sockets` entries that cannot be a CRI socket are refused before the run:
/// exit 2 at the entry's `file:line:column`, said once, with what to give instead.
#[test]
fn a_bad_containerd_socket_exits_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "plain", "");
    let missing = dir.path().join("gone.sock");
    let with = |entry: &str| {
        format!("driver = \"containerd\"\n{GOOD}[containerd]\nnode_sockets = [\"{entry}\"]\n")
    };
    let cases = [
        ("run/containerd.sock".to_string(), "is not an absolute path"),
        (String::new(), "the socket path is empty"),
        (
            file.display().to_string(),
            "is a regular file, not a unix socket",
        ),
        (
            missing.display().to_string(),
            "does not exist: start that containerd",
        ),
    ];
    for (entry, message) in cases {
        let out = run_scenario_text("ctd.toml", &with(&entry))
            .code(2)
            .stderr(predicate::str::contains(
                "ctd.toml:10:17: containerd.node_sockets[0]: ",
            ))
            .stderr(predicate::str::contains(message))
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.matches(message).count(), 1, "said once: {stderr}");
    }
}

/// A socket nobody answers on is a run failure (exit 1) naming the socket and what to check.
#[test]
fn a_containerd_socket_without_an_answer_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("dead.sock");
    // Bound then closed: the file stays a socket, but connecting is refused.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let text = format!(
        "driver = \"containerd\"\n{GOOD}[containerd]\nnode_sockets = [\"{}\"]\n",
        socket.display()
    );
    let out = run_scenario_text("dead.toml", &text)
        .code(1)
        .stderr(predicate::str::contains(format!(
            "containerd node 0: no CRI answer on {}",
            socket.display()
        )))
        .stderr(predicate::str::contains("is containerd running there"))
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("no CRI answer").count(), 1, "{stderr}");
}
