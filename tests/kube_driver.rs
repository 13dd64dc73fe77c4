//! The kube driver against the recorded API (tests/common/kube_api) through a kubeconfig that
//! points at it: namespaces, pods and Deployments created, the watch turned into timelines, the
//! probe through the pod proxy, failures and timeouts, clean-up.

#[path = "common/kube_api/mod.rs"]
mod kube_api;

use std::collections::BTreeMap;
use std::time::Duration;

use coldbench::driver::cluster::{Cluster, PodRequest, ScaleStep};
use coldbench::driver::kube::KubeDriver;
use coldbench::driver::Driver;
use coldbench::execute::timeline::measure;
use coldbench::progress::Progress;
use coldbench::results::{Outcome, Phase};
use coldbench::scenario::{KubeSettings, ReadySpec};
use coldbench::units::HumanDuration;
use kube_api::{write_kubeconfig, KubeApi, KubeletFormat, Timeline};
use tokio::time::Instant;

async fn driver(api: &KubeApi, dir: &std::path::Path) -> KubeDriver {
    let kubeconfig = write_kubeconfig(dir, api.url());
    KubeDriver::setup_with(
        Some(&kubeconfig),
        &KubeSettings::default(),
        &Progress::new(false),
    )
    .await
    .expect("the driver sets up against the recorded API")
}

fn request(name: &str, timeout: Duration) -> PodRequest {
    PodRequest {
        name: name.into(),
        run_id: "kube-test-20261203T000000Z".into(),
        variant: "small".into(),
        image: "localhost:5001/coldbench/small:salt-0".into(),
        port: 8080,
        env: BTreeMap::new(),
        ready: ReadySpec {
            timeout: HumanDuration(timeout),
            ..ReadySpec::default()
        },
    }
}

#[tokio::test]
async fn a_cold_start_is_timed_from_the_watch_and_the_namespace_goes_at_teardown() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_nodes(&["node-a", "node-b"]);
    api.set_timeline(Timeline::new(Duration::from_millis(30)));
    let driver = driver(&api, dir.path()).await;
    let ns = driver.namespace().to_string();
    assert!(ns.starts_with("coldbench-"), "{ns}");
    assert!(api.namespace_exists(&ns));
    assert_eq!(driver.node_names(), ["node-a", "node-b"]);

    let t = driver
        .cold_start(&request("small-0", Duration::from_secs(10)))
        .await;
    assert!(t.failure.is_none(), "{:?}", t.failure);
    let steps = [
        t.scheduled,
        t.pulling,
        t.pulled,
        t.created,
        t.started,
        t.answered,
    ];
    assert!(steps.iter().all(Option::is_some), "every step seen: {t:?}");
    let steps: Vec<Instant> = steps.into_iter().flatten().collect();
    assert!(steps.windows(2).all(|w| w[0] <= w[1]), "in order: {t:?}");
    // Steps are 30 ms apart in the double: a watch-receive time can only be late, never early.
    let pull = t.pulled.unwrap() - t.pulling.unwrap();
    assert!(pull >= Duration::from_millis(25), "{pull:?}");
    assert_eq!(t.node.as_deref(), Some("node-a"));
    let kubelet = t.kubelet_pull.as_ref().expect("Pulled message parsed");
    assert_eq!(kubelet.pull, Some(Duration::from_millis(1_234)));
    assert_eq!(kubelet.image_size_bytes, Some(12_345_678));
    let from_names = t.event_pull.expect("event names carry UnixNano");
    assert!(from_names >= Duration::from_millis(25) && from_names < Duration::from_secs(2));
    let m = measure(&t);
    assert_eq!(m.outcome, Outcome::Ok);
    assert!(m.pod.unknown.is_empty());
    assert!(
        api.pods(&ns).is_empty(),
        "the pod is deleted after its sample"
    );

    Box::new(driver).teardown().await;
    assert!(!api.namespace_exists(&ns), "namespace deleted");
    assert!(api.saw("DELETE", &format!("/api/v1/namespaces/{ns}")));
}

#[tokio::test]
async fn a_dropped_pulled_event_leaves_the_pull_unknown_not_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline(
        Timeline::new(Duration::from_millis(10))
            .format(KubeletFormat::V1_19)
            .drop("Pulled"),
    );
    let driver = driver(&api, dir.path()).await;
    let t = driver
        .cold_start(&request("dropped-0", Duration::from_secs(10)))
        .await;
    assert!(t.answered.is_some() && t.pulled.is_none() && t.kubelet_pull.is_none());
    let m = measure(&t);
    assert_eq!(m.outcome, Outcome::Ok);
    assert_eq!(m.phases.pull_us, None);
    assert_eq!(
        m.phases.create_us, None,
        "Pulled → Created needs Pulled too"
    );
    assert_eq!(m.pod.unknown, ["pull", "create"]);
    assert!(m.phases.total_us.is_some());
    Box::new(driver).teardown().await;
}

#[tokio::test]
async fn a_pod_that_never_answers_fails_at_its_timeout_and_the_next_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_timeline_for(
        "stuck",
        Timeline::new(Duration::from_millis(10)).never_ready(),
    );
    let driver = driver(&api, dir.path()).await;
    let asked = Instant::now();
    let t = driver
        .cold_start(&request("stuck-0", Duration::from_secs(1)))
        .await;
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    let (phase, message) = t.failure.clone().unwrap_or_else(|| panic!("failed: {t:?}"));
    assert_eq!(phase, Phase::FirstRequest);
    assert!(
        message.contains("pod proxy") && message.contains("503"),
        "{message}"
    );
    assert!(t.started.is_some() && t.answered.is_none());
    let next = driver
        .cold_start(&request("fine-1", Duration::from_secs(10)))
        .await;
    assert!(next.failure.is_none() && next.answered.is_some());
    Box::new(driver).teardown().await;
}

#[tokio::test]
async fn a_burst_scales_a_deployment_in_steps_and_follows_every_pod() {
    let dir = tempfile::tempdir().unwrap();
    let api = KubeApi::start().await;
    api.set_nodes(&["node-a", "node-b"]);
    api.set_timeline(Timeline::new(Duration::from_millis(20)));
    let driver = driver(&api, dir.path()).await;
    let ns = driver.namespace().to_string();
    let steps = [
        ScaleStep {
            offset: Duration::ZERO,
            replicas: 2,
        },
        ScaleStep {
            offset: Duration::from_millis(300),
            replicas: 4,
        },
    ];
    let t0 = Instant::now();
    let pods = driver
        .burst(&request("small-b0", Duration::from_secs(10)), &steps, t0)
        .await;
    assert_eq!(pods.len(), 4);
    for (k, p) in pods.iter().enumerate() {
        assert!(p.failure.is_none(), "pod {k}: {:?}", p.failure);
        assert!(p.answered.is_some() && p.ready.is_some());
        assert!(p.name.starts_with("small-b0-"), "{}", p.name);
        let offset = p.requested - t0;
        let step = if k < 2 { 0 } else { 300 };
        assert!(
            offset >= Duration::from_millis(step) && offset < Duration::from_millis(step + 200),
            "pod {k} requested at {offset:?}"
        );
    }
    let nodes: std::collections::BTreeSet<_> = pods.iter().filter_map(|p| p.node.clone()).collect();
    assert_eq!(nodes.len(), 2, "placement from the pods: {nodes:?}");
    let scaled = api
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/deployments/small-b0/scale"))
        .count();
    assert_eq!(scaled, 2, "one scale request per step");
    assert!(api.saw(
        "DELETE",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/small-b0")
    ));
    assert!(api.pods(&ns).is_empty(), "no pod left after the burst");
    Box::new(driver).teardown().await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let kubeconfig = write_kubeconfig(dir.path(), &url);
    let err = KubeDriver::setup_with(
        Some(&kubeconfig),
        &KubeSettings::default(),
        &Progress::new(false),
    )
    .await
    .err()
    .expect("no cluster there");
    let message = err.to_string();
    assert!(
        message.contains(&url[7..]) && message.contains("kubectl get nodes"),
        "{message}"
    );
    let missing = KubeDriver::setup_with(
        Some(&dir.path().join("nope")),
        &KubeSettings::default(),
        &Progress::new(false),
    )
    .await
    .err()
    .expect("no kubeconfig there")
    .to_string();
    assert!(
        missing.contains("nope") && missing.contains("KUBECONFIG"),
        "{missing}"
    );
}

/// `cold = "evict"` runs `docker exec NODE crictl …` on kind's node containers; no kind node can
/// run here, so a stand-in `docker` on PATH answers like one and records the calls.
#[tokio::test]
async fn evict_removes_only_the_registrys_images_from_each_kind_node() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let listing = r#"{"images":[{"id":"sha256:aa","repoTags":["localhost:5001/coldbench/small:salt-0"],"repoDigests":[]},{"id":"sha256:bb","repoTags":["registry.k8s.io/pause:3.10"],"repoDigests":[]}]}"#;
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> {}\ncase \"$*\" in *'images -o json'*) echo '{listing}';; esac\n",
        log.display()
    );
    let docker = bin.join("docker");
    std::fs::write(&docker, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY: nextest runs each test in its own process; nothing else reads PATH concurrently.
    unsafe { std::env::set_var("PATH", path) };

    let api = KubeApi::start().await;
    api.set_nodes(&["kind-worker", "kind-worker2"]);
    let kubeconfig = write_kubeconfig(dir.path(), api.url());
    let settings: KubeSettings = toml::from_str("cold = \"evict\"").unwrap();
    let evicting = KubeDriver::setup_with(Some(&kubeconfig), &settings, &Progress::new(false))
        .await
        .unwrap();
    for node in 0..evicting.nodes() {
        evicting.evict(node, "localhost:5001").await.unwrap();
    }
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls.lines().collect::<Vec<_>>(),
        [
            "exec kind-worker crictl images -o json",
            "exec kind-worker crictl rmi sha256:aa",
            "exec kind-worker2 crictl images -o json",
            "exec kind-worker2 crictl rmi sha256:aa",
        ]
    );
    Box::new(evicting).teardown().await;

    // With salt (the default) nodes are never touched.
    std::fs::remove_file(&log).unwrap();
    let salted = driver(&api, dir.path()).await;
    salted.evict(0, "localhost:5001").await.unwrap();
    assert!(!log.exists(), "no docker call with cold = \"salt\"");
    Box::new(salted).teardown().await;
}

#[tokio::test]
async fn a_pull_the_kubelet_gives_up_on_fails_the_sample_at_once() {
    use coldbench::registry::{Registry, RegistryConfig};
    let dir = tempfile::tempdir().unwrap();
    let config = RegistryConfig::new(dir.path().join("store"), "127.0.0.1:0".parse().unwrap());
    let registry = Registry::start(config).await.unwrap();
    let api = KubeApi::start().await;
    api.set_registry_hosts(&[("localhost:5001", &registry.addr().to_string())]);
    let driver = driver(&api, dir.path()).await;
    let asked = Instant::now();
    // The registry has no such image: the kubelet's ErrImagePull ends the sample.
    let t = driver
        .cold_start(&request("missing-0", Duration::from_secs(20)))
        .await;
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "no wait for the timeout"
    );
    let (phase, message) = t.failure.clone().unwrap_or_else(|| panic!("failed: {t:?}"));
    assert_eq!(phase, Phase::Pull);
    assert!(message.contains("not found"), "{message}");
    assert!(t.pulling.is_some() && t.started.is_none());
    assert_eq!(measure(&t).pod.unknown, Vec::<String>::new());
    Box::new(driver).teardown().await;
    registry.shutdown().await;
}
