//! Issue 12's check: CRI `PullImage` against `ctr images pull --plain-http` of the same
//! synthetic image (150 MB in 6 layers) on one fresh containerd node, through the same throttled
//! registry port (100 MB/s, 2 ms), three rounds, cold each time (every image removed by id over
//! CRI: `ctr images rm` leaves CRI's `sha256:` record and its content). Needs root and `ctr`:
//!
//!   cargo run --release --example ctr_vs_cri
use std::process::Command;
use std::time::Instant;

use coldbench::driver::containerd::ContainerdNode;
use coldbench::registry::{Registry, RegistryConfig};

#[tokio::main]
async fn main() {
    let store = tempfile::tempdir().unwrap();
    let mut config = RegistryConfig::new(store.path().join("s"), "127.0.0.1:0".parse().unwrap());
    config.bandwidth = Some("100MB/s".parse().unwrap());
    config.latency = std::time::Duration::from_millis(2);
    let mut registry = Registry::start(config).await.unwrap();
    let (_, addr) = registry.add_node(None).await.unwrap();
    let spec: coldbench::scenario::SynthSpec =
        toml::from_str("size = \"150MB\"\nlayers = 6\ncompressibility = 0.3").unwrap();
    let image = coldbench::image::synth::build(registry.store(), "full-like", &spec).unwrap();
    let pause = coldbench::image::synth::build_pause(registry.store()).unwrap();
    let reference = format!("{addr}/{}:{}", image.repository, image.tag);
    let node = ContainerdNode::start(
        0,
        &format!("{addr}/{}:latest", pause.repository),
        &[addr.to_string()],
    )
    .await
    .unwrap();
    let sock = node.socket();
    for round in 0..3 {
        let before = registry.served_by_node(0).blobs;
        let t = Instant::now();
        node.cri().pull_image(&reference, None).await.unwrap();
        let cri = t.elapsed();
        let cri_bytes = registry.served_by_node(0).blobs - before;
        node.cri().remove_image(&reference).await.unwrap();
        let before = registry.served_by_node(0).blobs;
        let t = Instant::now();
        let out = Command::new("ctr")
            .arg("-a")
            .arg(&sock)
            .args(["-n", "k8s.io", "images", "pull", "--plain-http", &reference])
            .output()
            .unwrap();
        let ctr = t.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ctr_bytes = registry.served_by_node(0).blobs - before;
        Command::new("ctr")
            .arg("-a")
            .arg(&sock)
            .args(["-n", "k8s.io", "images", "rm", "--sync", &reference])
            .output()
            .unwrap();
        for img in node.cri().list_images().await.unwrap() {
            let _ = node.cri().remove_image(&img.id).await;
        }
        println!("round {round}: CRI PullImage {cri:?} ({cri_bytes} B) · ctr pull {ctr:?} ({ctr_bytes} B) · image {} B", image.compressed_size);
    }
    node.stop().await;
    registry.shutdown().await;
}
