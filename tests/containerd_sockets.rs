//! `[containerd] node_sockets`: a running containerd the test starts itself (the library's
//! `ContainerdNode`, whose config routes no registry of the run) used as an existing node.
//! Its sandbox image is pulled beforehand from the test's own registry, as a real node has its
//! pause image; the run's registry on another 127.0.0.1 port is reached over plain HTTP with no
//! `hosts.toml`.

mod common;

use std::collections::HashMap;

use coldbench::driver::containerd::ContainerdNode;
use coldbench::driver::RUN_LABEL;
use coldbench::image::synth;
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::run::{run, RunOptions};

const SCENARIO: &str = r#"name = "ctd-sockets"
driver = "containerd"
repetitions = 2
seed = 7
[registry]
bandwidth = "50MB/s"
[[variant]]
name = "two-layers"
synth = { size = "3MB", layers = 2, compressibility = 0.5 }
"#;

/// A registry holding the harness's pause image, and its reference there.
async fn pause_registry() -> (tempfile::TempDir, Registry, String) {
    let store = tempfile::tempdir().unwrap();
    let config = RegistryConfig::new(store.path().join("store"), "127.0.0.1:0".parse().unwrap());
    let mut registry = Registry::start(config).await.unwrap();
    let (_, addr) = registry.add_node(None).await.unwrap();
    let pause = synth::build_pause(registry.store()).unwrap();
    let reference = format!("{addr}/{}:{}", pause.repository, pause.tag);
    (store, registry, reference)
}

/// The scenario with `[containerd] node_sockets = [socket]`, written in a new directory.
fn scenario_on(socket: &std::path::Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let text = format!(
        "{SCENARIO}[containerd]\nnode_sockets = [\"unix://{}\"]\n",
        socket.display()
    );
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_containerd_cold_starts_with_every_phase() {
    if !common::containerd() {
        return;
    }
    let (_store, registry, pause) = pause_registry().await;
    let node = ContainerdNode::start(0, &pause, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    node.cri()
        .pull_image(&pause, None)
        .await
        .unwrap_or_else(|e| panic!("pulling the sandbox image: {e}"));
    let (dir, scenario) = scenario_on(&node.socket());
    let outcome = run(&RunOptions {
        scenario,
        results_dir: dir.path().join("results"),
        progress: false,
        driver: None,
        sim: Default::default(),
    })
    .await
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    let record = &outcome.record;
    let e = &record.engine;
    assert_eq!(e.node, "sockets");
    assert_eq!(e.endpoint, format!("unix://{}", node.socket().display()));
    assert!(
        e.version
            .as_deref()
            .unwrap_or("")
            .starts_with("containerd 1."),
        "{e:?}"
    );
    assert_eq!(e.api_version.as_deref(), Some("v1"));
    assert_eq!(e.snapshotter.as_deref(), Some("overlayfs"));
    assert_eq!(e.runtime_handler.as_deref(), Some("runc"));
    assert_eq!(e.storage_driver, None);
    assert_eq!(record.samples.len(), 2);
    for s in &record.samples {
        assert!(s.is_ok(), "sample failed: {:?}", s.outcome);
        let p = s.phases;
        for v in [p.pull_us, p.create_us, p.start_us, p.first_request_us] {
            assert!(v.unwrap_or(0) > 0, "a phase is missing: {p:?}");
        }
        assert!(s.cold);
        assert_eq!(s.blob_bytes, s.expected_bytes, "bytes served = image size");
        // The waterfall: the registry's deliveries and the node's own snapshot commits.
        for l in &s.layers {
            assert!(
                l.served_us.is_some() && l.extract_complete_us.is_some(),
                "{l:?}"
            );
        }
    }
    common::assert_follows_schema(&outcome.dir.join("run.json"));
    // The node stays, with its sandbox image and without the run's pods and images.
    let cri = node.cri();
    let labels = HashMap::from([(RUN_LABEL.to_string(), record.run_id.clone())]);
    assert_eq!(cri.list_sandboxes(labels).await.unwrap().len(), 0);
    let tags: Vec<String> = cri
        .list_images()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .collect();
    assert_eq!(tags, vec![pause.clone()], "only the sandbox image is left");
    node.stop().await;
    registry.shutdown().await;
}

/// A node without its sandbox image is refused at set-up (exit 1), saying which image and how
/// to get it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_containerd_without_its_sandbox_image_is_refused() {
    if !common::containerd() {
        return;
    }
    let image = "registry.k8s.io/pause:3.6";
    let node = ContainerdNode::start(0, image, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (dir, scenario) = scenario_on(&node.socket());
    let out = common::coldbench_run(dir.path(), &scenario, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = format!("does not have its sandbox image {image}");
    assert_eq!(stderr.matches(&expected).count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "crictl --runtime-endpoint unix://{}",
            node.socket().display()
        )),
        "{stderr}"
    );
    node.stop().await;
}

/// A burst over two existing containerds: each node pulls the image once, cold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_over_two_existing_containerds_pulls_once_per_node() {
    if !common::containerd() {
        return;
    }
    let (_store, registry, pause) = pause_registry().await;
    let mut nodes = Vec::new();
    for index in 0..2 {
        let node = ContainerdNode::start(index, &pause, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        node.cri().pull_image(&pause, None).await.unwrap();
        nodes.push(node);
    }
    let dir = tempfile::tempdir().unwrap();
    let sockets: Vec<String> = nodes
        .iter()
        .map(|n| format!("{:?}", n.socket().display().to_string()))
        .collect();
    let text = format!(
        "{}[burst]\nnodes = 2\nreplicas = 4\n[containerd]\nnode_sockets = [{}]\n",
        SCENARIO.replace("repetitions = 2", "repetitions = 1"),
        sockets.join(", ")
    );
    let outcome = common::run_scenario(dir.path(), &text).await;
    let record = &outcome.record;
    assert_eq!(record.engine.node, "2 × sockets");
    assert_eq!(record.samples.len(), 4);
    assert!(
        record.samples.iter().all(|s| s.is_ok()),
        "{:?}",
        record.samples
    );
    let size = record.variants[0].image.compressed_size;
    assert_eq!(record.bursts[0].node_blob_bytes, vec![size, size]);
    common::assert_follows_schema(&outcome.dir.join("run.json"));
    for node in nodes {
        node.stop().await;
    }
    registry.shutdown().await;
}
