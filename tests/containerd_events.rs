//! Per-layer extraction times of containerd pulls, from containerd's own snapshot events, on a
//! fresh node through the embedded registry: a cold pull times every layer, in layer order,
//! within the pull; a warm pull has no commits and marks every layer present; the subscription
//! ends with the node.

mod common;

use std::time::Duration;

use coldbench::driver::containerd::events::{SnapshotAction, TOPIC_COMMIT};
use coldbench::driver::containerd::{ContainerdDriver, ContainerdNode, NodeEvents};
use coldbench::driver::{Driver, NodeRequest, PullSpec};
use coldbench::image::{synth, StoredImage};
use coldbench::progress::Progress;
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::scenario::SynthSpec;
use coldbench::units::{ByteSize, Rate};
use tokio::time::Instant;
use toml::Spanned;

const LAYERS: usize = 4;

struct Setup {
    _store: tempfile::TempDir,
    registry: Registry,
    node_addr: String,
    image: StoredImage,
    pause: StoredImage,
}

/// The registry (100 MB/s egress), one node port, a 24 MB four-layer image in the store.
async fn registry(variant: &str) -> Setup {
    let store = tempfile::tempdir().unwrap();
    let mut config =
        RegistryConfig::new(store.path().join("store"), "127.0.0.1:0".parse().unwrap());
    config.bandwidth = Some("100MB/s".parse::<Rate>().unwrap());
    let mut registry = Registry::start(config).await.unwrap();
    let (_, node_addr) = registry.add_node(None).await.unwrap();
    let spec = SynthSpec {
        size: ByteSize(24_000_000),
        layers: Spanned::new(0..0, LAYERS as u32),
        compressibility: Spanned::new(0..0, 0.3),
        seed: None,
    };
    let image = synth::build(registry.store(), variant, &spec).unwrap();
    let pause = synth::build_pause(registry.store()).unwrap();
    Setup {
        _store: store,
        registry,
        node_addr: node_addr.to_string(),
        image,
        pause,
    }
}

fn pull_spec(setup: &Setup) -> PullSpec {
    PullSpec {
        reference: format!(
            "{}/{}:{}",
            setup.node_addr, setup.image.repository, setup.image.tag
        ),
        image: setup.image.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_pulls_time_every_layer_in_order_and_warm_pulls_find_them_present() {
    if !common::containerd() {
        return;
    }
    let setup = registry("ev-four").await;
    let driver = ContainerdDriver::setup(
        &Default::default(),
        NodeRequest { count: 1 },
        &Progress::new(false),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let spec = pull_spec(&setup);
    for round in ["cold", "cold after eviction"] {
        // Routes the registry, pins the pause image, removes the harness's images.
        driver.evict(0, &setup.node_addr).await.unwrap();
        let t0 = Instant::now();
        let layers = driver.pull(0, &spec).await.unwrap();
        let took = t0.elapsed();
        eprintln!("{round} pull in {took:?}: {layers:#?}");
        assert_eq!(layers.len(), LAYERS, "{round}: one timing per layer");
        let mut previous = 0;
        for (layer, info) in layers.iter().zip(&setup.image.layers) {
            assert_eq!(
                layer.digest,
                info.digest.to_string(),
                "{round}: blob digest"
            );
            assert!(!layer.already_present, "{round}: {layer:?} was present");
            assert_eq!(
                layer.download_complete_us, None,
                "the registry times downloads"
            );
            let extracted = layer
                .extract_complete_us
                .unwrap_or_else(|| panic!("{round}: no extraction time for {layer:?}"));
            assert!(
                extracted > previous,
                "{round}: containerd unpacks in layer order: {layers:?}"
            );
            assert!(
                u128::from(extracted) <= took.as_micros(),
                "{round}: extracted after the pull returned: {layers:?} ({took:?})"
            );
            previous = extracted;
        }
    }

    // No eviction: the image and its snapshots are there.
    let t0 = Instant::now();
    let warm = driver.pull(0, &spec).await.unwrap();
    eprintln!("warm pull in {:?}: {warm:?}", t0.elapsed());
    assert_eq!(warm.len(), LAYERS);
    assert!(
        warm.iter()
            .all(|l| l.already_present && l.extract_complete_us.is_none()),
        "a warm pull commits nothing: {warm:?}"
    );

    Box::new(driver).teardown().await;
    setup.registry.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_prepare_then_commit_and_the_subscription_ends_with_the_node() {
    if !common::containerd() {
        return;
    }
    let setup = registry("ev-order").await;
    let pause_ref = format!(
        "{}/{}:{}",
        setup.node_addr, setup.pause.repository, setup.pause.tag
    );
    let node = ContainerdNode::start(0, &pause_ref, std::slice::from_ref(&setup.node_addr))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        node.events().failure(),
        None,
        "the node's subscription is live"
    );
    assert!(node.events().running());
    // A second subscriber that nobody closes: it must end when containerd goes.
    let mut other = NodeEvents::open(&node.socket(), 0).await;
    assert_eq!(other.failure(), None);

    let start = Instant::now();
    let spec = pull_spec(&setup);
    node.cri().pull_image(&spec.reference, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = node.events().since(start);
    let actions: Vec<SnapshotAction> = seen.iter().map(|e| e.action).collect();
    let expected: Vec<SnapshotAction> = (0..LAYERS)
        .flat_map(|_| [SnapshotAction::Prepare, SnapshotAction::Commit])
        .collect();
    assert_eq!(
        actions, expected,
        "{TOPIC_COMMIT} follows each prepare: {seen:#?}"
    );
    let chains = coldbench::driver::containerd::events::chain_ids(&setup.image.layers);
    let committed: Vec<&str> = seen
        .iter()
        .filter(|e| e.action == SnapshotAction::Commit)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        committed, chains,
        "commits name the layers' chain IDs, in order"
    );
    assert_eq!(
        other.since(start).len(),
        seen.len(),
        "both subscribers saw all"
    );

    node.stop().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while other.running() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!other.running(), "the subscription outlived containerd");
    assert!(other.failure().is_some(), "the ended stream is reported");
    let untimed = other.layer_timings(&setup.image.layers, start).await;
    assert!(
        untimed
            .iter()
            .all(|l| l.extract_complete_us.is_none() && !l.already_present),
        "without events a pull reports its layers untimed: {untimed:?}"
    );
    other.close().await;
    setup.registry.shutdown().await;
}
