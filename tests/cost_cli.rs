//! `coldbench cost` as a user meets it: the example's files, and bad input exiting 2 with
//! `file:line:column`, the key and what is expected.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The example cost file with `from` replaced by `to`, next to a copy of the pricing file.
fn example_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/cost/cost-example.toml")).unwrap();
    assert!(text.contains(from), "the example has no {from:?}");
    std::fs::copy(
        root().join("scenarios/cost/pricing.toml"),
        dir.join("pricing.toml"),
    )
    .unwrap();
    let path = dir.join("cost.toml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

fn coldbench() -> Command {
    Command::cargo_bin("coldbench").unwrap()
}

#[test]
fn the_example_prints_a_table_and_writes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    coldbench()
        .args(["cost", "scenarios/cost/cost-example.toml", "--out"])
        .arg(&out)
        .current_dir(root())
        .assert()
        .success()
        .stdout(predicate::str::contains("today − distroless"))
        .stdout(predicate::str::contains("modelled (wire floor)"))
        .stdout(predicate::str::contains("modelled (uncalibrated)"));
    for file in ["cost.md", "cost.json", "charts/cost.svg", "charts/cost.png"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("cost.json")).unwrap()).unwrap();
    assert_eq!(json["days_per_month"], 30.0);
}

#[test]
fn json_goes_to_stdout_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out = coldbench()
        .args([
            "cost",
            "scenarios/cost/cost-example.toml",
            "--json",
            "--out",
        ])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["variants"][0], "today");
}

/// Each bad value exits 2 naming `file:line:column`, the key and what is expected.
#[test]
fn invalid_inputs_exit_2_with_a_location() {
    let cases = [
        (
            "bandwidth = \"100MB/s\"",
            "bandwidth = \"-100MB/s\"",
            ":19:13: cost.registry.bandwidth",
            "cannot be negative",
        ),
        (
            "bandwidth = \"100MB/s\"",
            "bandwidth = \"0MB/s\"",
            ":19:13: cost.registry.bandwidth",
            "greater than zero",
        ),
        (
            "bandwidth = \"100MB/s\"",
            "bandwidth = \"100MB\"",
            ":19:13: cost.registry.bandwidth",
            "missing \"/s\"; expected e.g. 100MB/s",
        ),
        (
            "builds_per_day = 50",
            "builds_per_dya = 50",
            ":7:1: cost.traffic",
            "unknown field `builds_per_dya`",
        ),
        (
            "node_cache_hit_rate = \"20%\"",
            "node_cache_hit_rate = 1.5",
            ":15:23: cost.traffic.node_cache_hit_rate",
            "share from 0 to 1",
        ),
        (
            "size = \"1.1GB\"",
            "size = \"1.1GB/s\"",
            ":38:8: cost.variant[0].size",
            "invalid size",
        ),
        (
            "minute_price = \"github-linux-2-core\"",
            "minute_price = \"jenkins\"",
            ":23:16: cost.ci.minute_price",
            "no [ci_minute.jenkins]",
        ),
        (
            "network_path = \"nat-gateway\"",
            "network_path = \"pigeon\"",
            ":16:16: cost.traffic.network_path",
            "unknown variant `pigeon`",
        ),
    ];
    for (from, to, at, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = example_with(dir.path(), from, to);
        let expected = format!("{}{at}", path.display());
        coldbench()
            .arg("cost")
            .arg(&path)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn a_negative_price_is_located_in_the_pricing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = example_with(dir.path(), "[cost]", "[cost]");
    let pricing = dir.path().join("pricing.toml");
    let text = std::fs::read_to_string(&pricing).unwrap();
    std::fs::write(
        &pricing,
        text.replacen("per_gb = 0.045", "per_gb = -0.045", 1),
    )
    .unwrap();
    coldbench()
        .arg("cost")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pricing.toml:"))
        .stderr(predicate::str::contains("nat_gateway.per_gb"))
        .stderr(predicate::str::contains("cannot be negative"));
}

/// `coldbench cost ARGS --json --out DIR` from the repository root, as JSON.
fn cost_json(args: &[&str], out: &Path) -> serde_json::Value {
    let output = coldbench()
        .arg("cost")
        .args(args)
        .arg("--json")
        .arg("--out")
        .arg(out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn values(json: &serde_json::Value, key: &str) -> Vec<f64> {
    let figures = json["figures"].as_array().unwrap();
    let figure = figures.iter().find(|f| f["key"] == key).unwrap();
    figure["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn what_if_size_changes_the_candidates_traffic_proportionally() {
    let dir = tempfile::tempdir().unwrap();
    let example = "scenarios/cost/cost-example.toml";
    let before = cost_json(&[example], dir.path());
    let after = cost_json(&[example, "--what-if", "size=300MB"], dir.path());
    let (b, a) = (
        values(&before, "traffic_per_day"),
        values(&after, "traffic_per_day"),
    );
    // distroless goes from 150 MB to 300 MB: its traffic doubles; today's is untouched.
    assert!((a[1] / b[1] - 2.0).abs() < 1e-9, "{b:?} → {a:?}");
    assert_eq!(a[0], b[0]);
    let unc = values(&after, "uncompressed");
    assert!(
        (unc[1] - 0.82).abs() < 1e-9,
        "uncompressed follows: {unc:?}"
    );
    let applied = after["what_ifs"][0].as_str().unwrap();
    assert!(
        applied.starts_with("size=300.0 MB (was distroless: 150.0 MB)"),
        "{applied}"
    );
}

#[test]
fn what_if_nodes_and_bandwidth_change_the_burst() {
    let dir = tempfile::tempdir().unwrap();
    let example = "scenarios/cost/cost-example.toml";
    let before = cost_json(&[example], dir.path());
    let wider = cost_json(&[example, "--what-if", "nodes=500"], dir.path());
    let faster = cost_json(&[example, "--what-if", "bandwidth=1GB/s"], dir.path());
    let full = |j: &serde_json::Value| values(j, "burst_full_seconds")[0];
    assert!(full(&wider) > full(&before), "more nodes share the egress");
    assert!(
        full(&faster) < full(&before),
        "a faster registry fills sooner"
    );
    // nodes=500 is the cluster: deploys pull on 500 nodes too.
    assert!(values(&wider, "traffic_per_day")[0] > values(&before, "traffic_per_day")[0] * 10.0);
    let out = coldbench()
        .args(["cost", example, "--what-if", "nodes=500", "--out"])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("What-ifs applied: nodes=500 (was deploy nodes 20, burst nodes 10)"),
        "{stdout}"
    );
}

#[test]
fn a_bandwidth_sweep_gives_one_row_per_step_and_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let json = cost_json(
        &[
            "scenarios/cost/cost-example.toml",
            "--sweep",
            "bandwidth=50MB/s..1GB/s",
            "--steps",
            "5",
        ],
        dir.path(),
    );
    let rows = json["sweep"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["value"], "50.0 MB/s");
    assert_eq!(rows[4]["value"], "1.00 GB/s");
    for variant in 0..2 {
        let full: Vec<f64> = rows
            .iter()
            .map(|r| r["full_seconds"][variant].as_f64().unwrap())
            .collect();
        assert!(full.windows(2).all(|w| w[1] <= w[0]), "{full:?}");
        assert!(full[4] < full[0], "{full:?}");
    }
    for file in [
        "sweep.md",
        "sweep.json",
        "charts/sweep.svg",
        "charts/sweep.png",
    ] {
        assert!(dir.path().join(file).is_file(), "{file} missing");
    }
    let svg = std::fs::read_to_string(dir.path().join("charts/sweep.svg")).unwrap();
    assert!(svg.contains("Time to full capacity per burst against bandwidth"));
    let md = std::fs::read_to_string(dir.path().join("sweep.md")).unwrap();
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ")).count(),
        6,
        "{md}"
    );
}

/// Bad `--what-if`, `--sweep` and `--steps` values exit 2 naming the flag and what is accepted.
#[test]
fn bad_what_ifs_and_sweeps_exit_2_naming_the_flag() {
    let cases: [(&[&str], &str); 10] = [
        (
            &["--what-if", "colour=blue"],
            "unknown key \"colour\"; accepted: size=SIZE",
        ),
        (&["--what-if", "nodes"], "expected KEY=VALUE"),
        (&["--what-if", "size=-1MB"], "a size cannot be negative"),
        (&["--what-if", "bandwidth=0MB/s"], "greater than zero"),
        (&["--what-if", "bandwidth=100MB"], "missing \"/s\""),
        (&["--what-if", "nodes=many"], "expected a whole number"),
        (&["--sweep", "bandwidth=50MB/s"], "expected KEY=FROM..TO"),
        (&["--sweep", "size=0B..1GB"], "both ends must be above 0"),
        (
            &["--steps", "101", "--sweep", "size=1MB..1GB"],
            "101 is not in 2..=100",
        ),
        (
            &["--steps", "5"],
            "the following required arguments were not provided:\n  --sweep",
        ),
    ];
    for (args, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let flag = args[0];
        coldbench()
            .args(["cost", "scenarios/cost/cost-example.toml"])
            .args(args)
            .arg("--out")
            .arg(dir.path())
            .current_dir(root())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(flag))
            .stderr(predicate::str::contains(says));
    }
}

/// The shipped node-bases scenario, copied with its paths made absolute, `from` replaced by
/// `to`.
fn scenario_with(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/node-bases.toml")).unwrap();
    assert!(text.contains(from), "the scenario has no {from:?}");
    let fixture = root().join("tests/fixtures/run-node-bases.json");
    let pricing = root().join("scenarios/cost/pricing.toml");
    let text = text
        .replacen(from, to, 1)
        .replace(
            "\"../tests/fixtures/run-node-bases.json\"",
            &format!("{fixture:?}"),
        )
        .replace("\"cost/pricing.toml\"", &format!("{pricing:?}"));
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_scenarios_cost_table_takes_measured_sizes_from_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let json = cost_json(&["scenarios/node-bases.toml"], dir.path());
    assert_eq!(json["variants"][0], "full");
    // The fixture run's full image: 191,311,296 compressed bytes.
    assert!((values(&json, "size")[0] - 0.191311296).abs() < 1e-12);
    let size = json["figures"].as_array().unwrap()[0].clone();
    assert_eq!(size["provenance"][0], "measured");
    assert!(values(&json, "measured_pull_p50")[0] > 0.0);
    // --run replaces the file's run.
    let json = cost_json(
        &[
            "scenarios/node-bases.toml",
            "--run",
            "tests/fixtures/run-node-bases.json",
        ],
        dir.path(),
    );
    assert_eq!(json["variants"][2], "static");
}

/// Problems inside a scenario's `[cost]` are located in the scenario; a scenario without one
/// says so.
#[test]
fn a_scenarios_cost_errors_are_located() {
    let cases = [
        (
            "bandwidth = \"100MB/s\"            # as",
            "bandwidth = \"-5MB/s\"            # as",
            ":67:13: cost.registry.bandwidth",
            "cannot be negative",
        ),
        (
            "name = \"static\"\nfrom_run",
            "name = \"alpine\"\nfrom_run",
            ":93:8: cost.variant[2].name",
            "has no variant \"alpine\": use one of \"full\", \"slim\", \"distroless\", \"static\"",
        ),
        (
            "[cost]\n",
            "[cost]\nsurprise = 1\n",
            ":51:1: cost",
            "unknown field `surprise`",
        ),
        (
            "[[cost.variant]]\nname = \"static\"\nfrom_run = true",
            "[[cost.variant]]\nname = \"static\"\nlayers = 0\nsize = \"1MB\"",
            ":94:10: cost.variant[2].layers",
            "expected 1 to 1000 layers",
        ),
    ];
    for (from, to, at, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = scenario_with(dir.path(), from, to);
        coldbench()
            .arg("cost")
            .arg(&path)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{}{at}", path.display())))
            .stderr(predicate::str::contains(says));
    }
    let dir = tempfile::tempdir().unwrap();
    coldbench()
        .args(["cost", "scenarios/quickstart.toml", "--out"])
        .arg(dir.path())
        .current_dir(root())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "scenarios/quickstart.toml: cost: this scenario has no [cost] table",
        ));
}

#[test]
fn from_run_without_a_run_and_a_missing_calibration_are_located() {
    let cases = [
        (
            "size = \"150MB\"",
            "from_run = true",
            ":43:12: cost.variant[1].from_run",
            "needs a run: add `run = \"results/<run>\"`",
        ),
        (
            "pricing = \"pricing.toml\"",
            "pricing = \"pricing.toml\"\ncalibration = \"nowhere.toml\"",
            ":5:15: cost.calibration",
            "no such calibration file (write one with `coldbench calibrate`)",
        ),
        (
            "pricing = \"pricing.toml\"",
            "pricing = \"pricing.toml\"\nrun = \"results/none\"",
            ":5:7: cost.run",
            "expected a run directory or its run.json",
        ),
    ];
    for (from, to, at, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = example_with(dir.path(), from, to);
        coldbench()
            .arg("cost")
            .arg(&path)
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("{}{at}", path.display())))
            .stderr(predicate::str::contains(says));
    }
}

#[test]
fn calibration_and_run_flags_replace_the_files_keys() {
    let dir = tempfile::tempdir().unwrap();
    let calibration = dir.path().join("calibration.toml");
    let text = "coldbench = \"test\"\ncreated_at = \"2026-11-28T00:00:00Z\"\nengine = \"docker\"\n\
                method = \"by hand\"\nruns = []\n[params]\nextract_bytes_per_sec = 100000000.0\n";
    std::fs::write(&calibration, text).unwrap();
    coldbench()
        .args(["cost", "scenarios/cost/cost-example.toml", "--calibration"])
        .arg(&calibration)
        .arg("--out")
        .arg(dir.path().join("out"))
        .current_dir(root())
        .assert()
        .success()
        .stdout(predicate::str::contains("modelled (calibrated model)"))
        .stdout(predicate::str::contains("modelled (uncalibrated)").not());
    std::fs::write(&calibration, text.replace("100000000.0", "-1.0")).unwrap();
    coldbench()
        .args(["cost", "scenarios/cost/cost-example.toml", "--calibration"])
        .arg(&calibration)
        .arg("--out")
        .arg(dir.path().join("out"))
        .current_dir(root())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "calibration.toml:7:1: params.extract_bytes_per_sec",
        ));
    coldbench()
        .args([
            "cost",
            "scenarios/node-bases.toml",
            "--run",
            "results/nowhere",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .current_dir(root())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("results/nowhere: --run:"))
        .stderr(predicate::str::contains(
            "(expected a run directory or its run.json)",
        ));
}
