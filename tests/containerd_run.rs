//! `driver = "containerd"` end to end through `coldbench::run`: single cold starts and a burst
//! over two fresh containerd nodes, every sample cold with the image's bytes on its node, the
//! record valid, and no node left behind.

mod common;

const SINGLE: &str = r#"name = "ctd"
driver = "containerd"
repetitions = 2
seed = 7
[registry]
bandwidth = "50MB/s"
latency = "1ms"
[[variant]]
name = "two-layers"
synth = { size = "3MB", layers = 2, compressibility = 0.5 }
"#;

const BURST: &str = r#"name = "ctd-burst"
driver = "containerd"
repetitions = 1
seed = 7
[registry]
bandwidth = "50MB/s"
[[variant]]
name = "small"
synth = { size = "2MB" }
[burst]
nodes = 2
replicas = 4
"#;

async fn run_text(text: &str) -> (tempfile::TempDir, coldbench::run::RunOutcome) {
    let dir = tempfile::tempdir().unwrap();
    let outcome = common::run_scenario(dir.path(), text).await;
    (dir, outcome)
}

fn assert_nothing_left(endpoint: &str) {
    let dir = endpoint
        .trim_start_matches("unix://")
        .trim_end_matches("/c.sock");
    let left = coldbench::driver::containerd::node::remains(std::path::Path::new(dir));
    assert!(left.is_empty(), "the nodes left {left:?}");
    assert!(!std::path::Path::new(dir).exists(), "{dir} remains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_cold_starts_on_a_containerd_node() {
    if !common::containerd() {
        return;
    }
    let (_dir, outcome) = run_text(SINGLE).await;
    let record = &outcome.record;
    assert_eq!(record.engine.driver, "containerd");
    assert_eq!(record.engine.snapshotter.as_deref(), Some("overlayfs"));
    assert_eq!(record.engine.runtime_handler.as_deref(), Some("runc"));
    assert_eq!(record.engine.storage_driver, None);
    assert_eq!(record.engine.node, "fresh");
    assert_eq!(record.samples.len(), 2);
    let floor = record.variants[0].wire_floor_us.unwrap();
    for s in &record.samples {
        assert!(s.is_ok(), "sample failed: {:?}", s.outcome);
        let p = s.phases;
        for v in [p.pull_us, p.create_us, p.start_us, p.first_request_us] {
            assert!(v.unwrap_or(0) > 0, "a phase is missing: {p:?}");
        }
        assert!(s.cold);
        assert_eq!(s.blob_bytes, s.expected_bytes, "bytes served = image size");
        assert!(
            p.pull_us.unwrap() >= floor * 95 / 100,
            "{p:?} beat the wire"
        );
        // The layer waterfall comes from the registry: every layer's last byte left within the
        // pull, the last one no sooner than the wire allows.
        assert_eq!(s.layers.len(), record.variants[0].image.layers.len());
        let served: Vec<u64> = s.layers.iter().map(|l| l.served_us.unwrap()).collect();
        let last = *served.iter().max().unwrap();
        assert!(
            last <= p.pull_us.unwrap(),
            "{served:?} after the pull {p:?}"
        );
        assert!(
            last >= floor * 90 / 100,
            "{served:?} beat the wire floor {floor} µs"
        );
        // containerd's snapshot commits: a layer is extracted only once all of it arrived.
        for l in &s.layers {
            let extracted = l.extract_complete_us.expect("an extraction time per layer");
            assert!(
                extracted + 5_000 >= l.served_us.unwrap(),
                "extracted before served: {l:?}"
            );
        }
    }
    common::assert_follows_schema(&outcome.dir.join("run.json"));
    assert_nothing_left(&record.engine.endpoint);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_pulls_once_per_containerd_node() {
    if !common::containerd() {
        return;
    }
    let (_dir, outcome) = run_text(BURST).await;
    let record = &outcome.record;
    assert_eq!(record.engine.node, "2 × fresh");
    assert_eq!(record.samples.len(), 4, "{:?}", record.samples);
    for s in &record.samples {
        assert!(s.is_ok(), "replica failed: {:?}", s.outcome);
        assert!(s.phases.total_us.unwrap_or(0) > 0);
    }
    let size = record.variants[0].image.compressed_size;
    assert_eq!(record.bursts.len(), 1);
    let burst = &record.bursts[0];
    assert_eq!(burst.nodes, 2);
    assert_eq!(
        burst.node_blob_bytes,
        vec![size, size],
        "each node pulls the image once, cold"
    );
    assert!(burst.full_ready_us.unwrap_or(0) > 0);
    common::assert_follows_schema(&outcome.dir.join("run.json"));
    assert_nothing_left(&record.engine.endpoint);
}

/// Node directories of the containerd processes whose parent is `pid`.
fn node_dirs_of(pid: u32) -> Vec<std::path::PathBuf> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let ppid = stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(pid) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if let Some(config) = cmd.split_whitespace().find(|a| a.ends_with("/config.toml")) {
            if let Some(dir) = std::path::Path::new(config).parent() {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    dirs
}

/// Ctrl-C during a burst on two containerd nodes: exit 130 and no containerd, shim, container,
/// mount, shim socket or node directory left.
#[test]
fn ctrl_c_leaves_no_containerd_node_behind() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    if !common::containerd() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.toml");
    std::fs::write(&path, BURST.replace("repetitions = 1", "repetitions = 200")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldbench"))
        .args(["run", "--no-progress", "--results-dir"])
        .arg(dir.path().join("results"))
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut nodes = Vec::new();
    while nodes.len() < 2 {
        assert!(Instant::now() < deadline, "the nodes did not start");
        std::thread::sleep(Duration::from_millis(50));
        nodes = node_dirs_of(child.id());
    }
    // Let pods come and go for a while, noting every shim socket seen.
    let mut sockets = std::collections::BTreeSet::new();
    let watch_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < watch_until {
        for node in &nodes {
            sockets.extend(coldbench::driver::containerd::node::shim_sockets(node));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sockets.is_empty(), "no pod ran within 3 s");
    common::run(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    for node in &nodes {
        let left = coldbench::driver::containerd::node::remains(node);
        assert!(left.is_empty(), "{} left {left:?}", node.display());
        assert!(!node.exists(), "{} remains", node.display());
    }
    let kept: Vec<_> = sockets.iter().filter(|s| s.exists()).collect();
    assert!(kept.is_empty(), "shim sockets left: {kept:?}");
}
