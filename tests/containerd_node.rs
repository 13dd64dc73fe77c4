//! A fresh containerd node against the embedded registry, over CRI as kubelet calls it: the
//! pause image pinned first, then cold starts of a synthetic image with every phase measured,
//! bytes served equal to the image, a second cold start after eviction, and nothing left behind
//! (containerd, shims, mounts, sockets), also when the node is dropped without a clean stop.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use coldbench::driver::containerd::node::{remains, shim_sockets};
use coldbench::driver::containerd::{cold_start, ContainerdNode, PodSpec};
use coldbench::image::synth;
use coldbench::measure::probe::free_port;
use coldbench::registry::{Registry, RegistryConfig};
use coldbench::scenario::SynthSpec;
use coldbench::units::{ByteSize, Rate};
use toml::Spanned;

const READY_TIMEOUT: Duration = Duration::from_secs(20);

struct Setup {
    _store: tempfile::TempDir,
    registry: Registry,
    node_addr: SocketAddr,
    image: coldbench::image::StoredImage,
    node: ContainerdNode,
}

/// The registry (50 MB/s egress), one node port, the pause image and a 3 MB two-layer image
/// in the store, and a fresh containerd node that pulled the pause image.
async fn setup(variant: &str) -> Setup {
    let store = tempfile::tempdir().unwrap();
    let mut config =
        RegistryConfig::new(store.path().join("store"), "127.0.0.1:0".parse().unwrap());
    config.bandwidth = Some("50MB/s".parse::<Rate>().unwrap());
    let mut registry = Registry::start(config).await.unwrap();
    let (_, node_addr) = registry.add_node(None).await.unwrap();
    let pause = synth::build_pause(registry.store()).unwrap();
    let spec = SynthSpec {
        size: ByteSize(3_000_000),
        layers: Spanned::new(0..0, 2),
        compressibility: Spanned::new(0..0, 0.5),
        seed: None,
    };
    let image = synth::build(registry.store(), variant, &spec).unwrap();
    let pause_ref = format!("{node_addr}/{}:{}", pause.repository, pause.tag);
    let node = ContainerdNode::start(0, &pause_ref, &[node_addr.to_string()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    node.cri()
        .pull_image(&pause_ref, None)
        .await
        .unwrap_or_else(|e| panic!("pinning the pause image: {e}"));
    Setup {
        _store: store,
        registry,
        node_addr,
        image,
        node,
    }
}

fn pod(setup: &Setup, name: &str) -> PodSpec {
    PodSpec {
        name: name.into(),
        run_id: "it-containerd".into(),
        image: format!(
            "{}/{}:{}",
            setup.node_addr, setup.image.repository, setup.image.tag
        ),
        port: free_port().unwrap(),
        env: BTreeMap::new(),
        log_dir: Some(setup.node.dir().join("logs").join(name)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_starts_over_cri_and_leaves_nothing() {
    if !common::containerd() {
        return;
    }
    let setup = setup("ctd-two").await;
    let version = setup.node.cri().version().await.unwrap();
    assert_eq!(version.runtime_name, "containerd");

    for sample in 0..2 {
        let before = setup.registry.served_by_node(0);
        let pod = pod(&setup, &format!("hello-{sample}"));
        let t = cold_start(setup.node.cri(), &pod, READY_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("sample {sample}: {e}"));
        eprintln!("sample {sample}: {t:?}");
        for (name, d) in [
            ("pull", t.pull),
            ("create", t.create),
            ("start", t.start),
            ("first_request", t.first_request),
        ] {
            assert!(
                d > Duration::ZERO,
                "sample {sample}: {name} not measured: {t:?}"
            );
        }
        assert!(t.total >= t.pull + t.create + t.start + t.first_request);
        let served = setup.registry.served_by_node(0);
        assert_eq!(
            served.blobs - before.blobs,
            setup.image.compressed_size,
            "sample {sample}: bytes served = the image's compressed size"
        );
        // 3 MB at 50 MB/s: the pull cannot beat 60 ms.
        assert!(t.pull >= Duration::from_millis(57), "{t:?} beat the wire");
        // Cold again: remove the image; containerd collects its content synchronously.
        setup.node.cri().remove_image(&pod.image).await.unwrap();
    }

    let dir = setup.node.dir().to_path_buf();
    let socket = setup.node.socket();
    setup.node.stop().await;
    let left = remains(&dir);
    assert!(left.is_empty(), "the node left {left:?}");
    assert!(
        !socket.exists() && !dir.exists(),
        "{} remains",
        dir.display()
    );
    setup.registry.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_node_with_a_running_pod_leaves_nothing() {
    if !common::containerd() {
        return;
    }
    let setup = setup("ctd-drop").await;
    let pod = pod(&setup, "abandoned");
    let cri = setup.node.cri().clone();
    cri.pull_image(&pod.image, None).await.unwrap();
    let (started, _) = coldbench::driver::containerd::sequence::create(&cri, &pod)
        .await
        .unwrap();
    cri.start_container(&started.container_id).await.unwrap();
    let dir = setup.node.dir().to_path_buf();
    assert!(!remains(&dir).mounts.is_empty(), "a running pod has mounts");
    let sockets = shim_sockets(&dir);
    assert!(!sockets.is_empty(), "a running pod has a shim");
    assert!(
        sockets.iter().all(|s| s.exists()),
        "shim sockets: {sockets:?}"
    );
    // As when a test panics midway: no CRI clean-up, only the guard.
    drop(setup.node);
    let left = remains(&dir);
    assert!(left.is_empty(), "the dropped node left {left:?}");
    assert!(!dir.exists(), "{} remains", dir.display());
    let kept: Vec<_> = sockets.iter().filter(|s| s.exists()).collect();
    assert!(kept.is_empty(), "shim sockets left: {kept:?}");
    let answers = std::net::TcpStream::connect(("127.0.0.1", pod.port)).is_ok();
    assert!(
        !answers,
        "the abandoned container still listens on {}",
        pod.port
    );
    setup.registry.shutdown().await;
}
