//! Seed-article vectors: CI time recovered by the dependency cache, pull times, and the
//! registry traffic claim (45 GB/day for one move per build; 450 only with ten).

use std::path::{Path, PathBuf};

use crate::cost::formulas::*;
use crate::cost::{calculate, load, CostResult};
use crate::units::{ByteSize, Rate};

/// A cost file of `builds` builds a day moving the image `pushes` + `pulls` times, no deploys
/// or bursts, 1 GB today versus 100 MB, written next to the example pricing.
fn traffic_only(dir: &Path, pushes: u32, pulls: u32) -> PathBuf {
    let pricing = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cost/pricing.toml");
    let text = format!(
        r#"[cost]
pricing = {pricing:?}
[cost.traffic]
builds_per_day = 50
pushes_per_build = {pushes}
pulls_per_build = {pulls}
deploys_per_day = 0
deploy_nodes = 1
bursts_per_day = 0
burst_replicas = 1
burst_nodes = 1
node_cache_hit_rate = 0
network_path = "same-region"
[cost.registry]
bandwidth = "100MB/s"
[cost.ci]
minute_price = "github-linux-2-core"
jobs_per_build = 1
job_time = "1m"
deps_install_cold = "90s"
deps_install_cached = "4s"
manifest_change_share = 0.05
[cost.nodes]
hour_price = "aws-m5-xlarge"
[cost.storage]
images_retained = 1
[[cost.variant]]
name = "today"
size = "1GB"
[[cost.variant]]
name = "small"
size = "100MB"
"#
    );
    let path = dir.join(format!("t{pushes}-{pulls}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn result(pushes: u32, pulls: u32) -> CostResult {
    let dir = tempfile::tempdir().unwrap();
    calculate(&load(&traffic_only(dir.path(), pushes, pulls)).unwrap())
}

#[test]
fn the_dependency_cache_recovers_3268_seconds_a_day() {
    // 40 builds, 2 change package.json (5 %), 38 hit the cache: 38 × (90 − 4) s.
    let saved = dependency_seconds_recovered(40.0, 2.0 / 40.0, 90.0, 4.0);
    assert!((saved - 3268.0).abs() < 1e-9, "{saved}");
    assert_eq!(format!("{:.1}", saved / 60.0), "54.5");
    // With the cache: 2 × 90 + 38 × 4 = 332 s; without it 40 × 90 = 3600 s.
    let with = dependency_seconds(40.0, 2.0 / 40.0, 90.0, 4.0);
    assert!((with - 332.0).abs() < 1e-9 && (3600.0 - with - saved).abs() < 1e-9);
}

#[test]
fn pulls_take_11_seconds_and_under_one() {
    let rate: Rate = "100MB/s".parse().unwrap();
    let big: ByteSize = "1.1GB".parse().unwrap();
    let small: ByteSize = "30MB".parse().unwrap();
    assert!((transfer_seconds(big.0, rate) - 11.0).abs() < 1e-9);
    assert!(transfer_seconds(small.0, rate) < 1.0);
}

#[test]
fn one_push_per_build_is_45_gb_a_day_not_450() {
    let r = result(1, 0);
    let traffic = r.figure("traffic_per_day").unwrap();
    assert_eq!(traffic.values, vec![50.0, 5.0]);
    assert!((traffic.difference.unwrap() - 45.0).abs() < 1e-9);
}

#[test]
fn ten_moves_per_build_give_the_articles_450_gb() {
    let r = result(1, 9);
    let diff = r.figure("traffic_per_day").unwrap().difference.unwrap();
    assert!((diff - 450.0).abs() < 1e-9, "{diff}");
    let month = r.figure("traffic_per_month").unwrap().difference.unwrap();
    assert!((month - 450.0 * 30.0).abs() < 1e-6);
}

#[test]
fn ci_jobs_are_rounded_up_to_whole_minutes() {
    use crate::cost::pricing::Rounding::*;
    assert_eq!(billed_minutes(61.0, PerJobWholeMinutes), 2.0);
    assert_eq!(billed_minutes(60.0, PerJobWholeMinutes), 1.0);
    assert_eq!(billed_minutes(90.0, None), 1.5);
    // Two jobs of 30 s each bill 2 minutes, not 1.
    assert_eq!(
        build_minutes(2, 30.0, 0.0, 0.0, 0.0, PerJobWholeMinutes),
        2.0
    );
    // 50 builds: 1 m job + 90 s or 4 s install + 10 s push (1 GB) → 3 or 2 minutes.
    let r = result(1, 0);
    let minutes = r.figure("ci_minutes").unwrap().values[0];
    assert!(
        (minutes - 50.0 * (0.05 * 3.0 + 0.95 * 2.0)).abs() < 1e-9,
        "{minutes}"
    );
}

#[test]
fn a_burst_is_never_faster_than_the_wire_floor() {
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cost/cost-example.toml");
    let copy = dir.path().join("c.toml");
    let pricing = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cost/pricing.toml");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("\"pricing.toml\"", &format!("{pricing:?}"));
    std::fs::write(&copy, text).unwrap();
    let r = calculate(&load(&copy).unwrap());
    // 10 nodes × 80 % miss = 8 pulling nodes sharing 100 MB/s: 8 × 1.1 GB / 100 MB/s = 88 s.
    let floor = r.figure("burst_floor_seconds").unwrap().values[0];
    assert!((floor - 88.0).abs() < 1e-3, "{floor}");
    let full = r.figure("burst_full_seconds").unwrap().values[0];
    assert!(full >= floor, "{full} < {floor}");
}

#[test]
fn the_example_renders() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cost/cost-example.toml");
    let r = calculate(&load(&path).unwrap());
    insta::assert_snapshot!("cost_example_table", crate::cost::render::render_table(&r));
    let md = crate::cost::render::render_markdown(&r);
    assert!(
        md.contains("| figure | unit | today | distroless |"),
        "{md}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["variants"][1], "distroless");
}
