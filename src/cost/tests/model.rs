//! Burst timing through the cold-start model: the calculator's figure is `simulate_burst`'s
//! for the same image, shape, links and parameters, and the labels say which parameters.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cost::image::split;
use crate::cost::{calculate, load, Provenance};
use crate::model::calibration::{Calibration, ImageEntry};
use crate::model::{simulate_burst, BurstShape, Links, ModelParams};
use crate::scenario::Placement;

/// Parameters unlike the defaults, so a calibrated figure cannot come from them by chance.
fn fitted() -> ModelParams {
    ModelParams {
        extract_bytes_per_sec: 20e6,
        extract_overhead_us: 200_000,
        pull_overhead_us: 300_000,
        create_us: 400_000,
        start_us: 250_000,
        start_concurrency: Some(2),
        ..ModelParams::default()
    }
}

/// A cost file in `dir`: 6 burst nodes, no cache hits, 20 replicas, 500 MB / 1.5 GB today
/// and `candidate` (a `[[cost.variant]]` body) second, with `calibration` when given.
fn cost_file(dir: &Path, calibration: Option<&str>, candidate: &str) -> PathBuf {
    let pricing = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/cost/pricing.toml");
    let calibration = calibration.map_or(String::new(), |c| format!("calibration = {c:?}"));
    let text = format!(
        r#"[cost]
pricing = {pricing:?}
{calibration}
[cost.traffic]
builds_per_day = 10
pushes_per_build = 1
pulls_per_build = 1
deploys_per_day = 1
deploy_nodes = 6
bursts_per_day = 3
burst_replicas = 20
burst_nodes = 6
node_cache_hit_rate = 0
network_path = "internet"
[cost.registry]
bandwidth = "200MB/s"
node_bandwidth = "100MB/s"
latency = "5ms"
[cost.ci]
minute_price = "github-linux-2-core"
jobs_per_build = 2
job_time = "1m"
deps_install_cold = "60s"
deps_install_cached = "5s"
manifest_change_share = 0.1
[cost.nodes]
hour_price = "aws-m5-xlarge"
[cost.storage]
images_retained = 10
[[cost.variant]]
name = "today"
size = "500MB"
uncompressed = "1.5GB"
layers = 5
[[cost.variant]]
{candidate}
"#
    );
    let path = dir.join("cost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn calibration_file(dir: &Path) -> PathBuf {
    let mut images = BTreeMap::new();
    images.insert(
        "measured".to_string(),
        ImageEntry {
            compressed: vec![30_000_000, 10_000_000],
            uncompressed: vec![90_000_000, 25_000_000],
            files: vec![],
            metadata_bytes: 4_000,
        },
    );
    let c = Calibration {
        coldbench: "test".into(),
        created_at: "2026-11-28T00:00:00Z".into(),
        engine: "docker test".into(),
        method: "by hand".into(),
        runs: vec![],
        params: fitted(),
        images,
        fit: vec![],
    };
    let path = dir.join("calibration.toml");
    std::fs::write(&path, c.to_toml()).unwrap();
    path
}

fn links() -> Links {
    Links {
        egress_bytes_per_sec: Some(200e6),
        node_bytes_per_sec: Some(100e6),
        latency_us: 5_000,
    }
}

fn shape() -> BurstShape {
    BurstShape {
        nodes: 6,
        replicas: 20,
        placement: Placement::Spread,
        step: None,
    }
}

#[test]
fn a_calibrated_burst_is_simulate_burst_for_the_same_inputs() {
    let dir = tempfile::tempdir().unwrap();
    calibration_file(dir.path());
    let path = cost_file(dir.path(), Some("calibration.toml"), "name = \"measured\"");
    let r = calculate(&load(&path).unwrap());
    let image = split(500_000_000, 1_500_000_000, 5);
    let expected = simulate_burst(&image, &shape(), &fitted(), &links());
    let full = r.figure("burst_full_seconds").unwrap();
    let want = expected.milestones.full_ready_us.unwrap() as f64 / 1e6;
    assert!(
        (full.values[0] - want).abs() < 1e-9,
        "{} vs {want}",
        full.values[0]
    );
    assert_eq!(full.provenance[0], Provenance::Calibrated);
    let lost = r.figure("capacity_seconds").unwrap().values[0];
    let want_lost = 3.0 * expected.milestones.capacity_seconds_lost;
    assert!((lost - want_lost).abs() < 1e-6, "{lost} vs {want_lost}");
    // The defaults give another answer: the calibration is really used.
    let default = simulate_burst(&image, &shape(), &ModelParams::default(), &links());
    assert_ne!(
        default.milestones.full_ready_us,
        expected.milestones.full_ready_us
    );
    // The floor stays beside it, below it.
    let floor = r.figure("burst_floor_seconds").unwrap().values[0];
    assert!(floor > 0.0 && floor <= full.values[0]);
}

#[test]
fn a_variant_without_size_takes_the_calibrations_image() {
    let dir = tempfile::tempdir().unwrap();
    calibration_file(dir.path());
    let path = cost_file(dir.path(), Some("calibration.toml"), "name = \"measured\"");
    let loaded = load(&path).unwrap();
    let image = &loaded.images[1];
    assert_eq!(image.compressed, 40_004_000);
    assert_eq!(image.provenance, Provenance::Measured);
    let r = calculate(&loaded);
    let entry = ImageEntry {
        compressed: vec![30_000_000, 10_000_000],
        uncompressed: vec![90_000_000, 25_000_000],
        files: vec![],
        metadata_bytes: 4_000,
    };
    let expected = simulate_burst(&entry.to_model(), &shape(), &fitted(), &links());
    let full = r.figure("burst_full_seconds").unwrap().values[1];
    assert!((full - expected.milestones.full_ready_us.unwrap() as f64 / 1e6).abs() < 1e-9);
    let size = r.figure("size").unwrap();
    assert_eq!(
        size.provenance,
        vec![Provenance::Given, Provenance::Measured]
    );
}

#[test]
fn without_a_calibration_the_defaults_are_labelled_uncalibrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = cost_file(dir.path(), None, "name = \"small\"\nsize = \"50MB\"");
    let r = calculate(&load(&path).unwrap());
    let full = r.figure("burst_full_seconds").unwrap();
    assert_eq!(full.provenance, vec![Provenance::Uncalibrated; 2]);
    let image = split(500_000_000, 1_500_000_000, 5);
    let expected = simulate_burst(&image, &shape(), &ModelParams::default(), &links());
    let want = expected.milestones.full_ready_us.unwrap() as f64 / 1e6;
    assert!((full.values[0] - want).abs() < 1e-9);
    assert!(r.burst_model.contains("uncalibrated"), "{}", r.burst_model);
}

#[test]
fn a_size_splits_into_equal_layers_keeping_the_total() {
    let image = split(1_000_000_003, 3_000_000_001, 4);
    assert_eq!(image.layers.len(), 4);
    assert_eq!(image.compressed_bytes(), 1_000_000_003);
    let unc: u64 = image.layers.iter().map(|l| l.uncompressed).sum();
    assert_eq!(unc, 3_000_000_001);
}
