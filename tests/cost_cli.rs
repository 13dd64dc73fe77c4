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
