//! Bursts on emulated nodes (dedicated dockerd instances): per-node bytes, the shared egress,
//! stepped schedules, and no daemon left behind after a normal end, a failure or an interrupt.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use coldbench::results::RunRecord;

fn scenario(dir: &Path, burst: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("burst.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"b\"\nrepetitions = 1\n[registry]\nbandwidth = \"20MB/s\"\nnode_bandwidth = \"1Gbit/s\"\n\
             [burst]\n{burst}\n[[variant]]\nname = \"v\"\nsynth = {{ size = \"10MB\", layers = 2 }}\n{extra}\n"
        ),
    )
    .unwrap();
    path
}

fn run_cli(dir: &Path, path: &Path) -> (Option<i32>, String, Option<RunRecord>) {
    let out = common::coldbench_run(dir, path, &[]);
    let record = std::fs::read_dir(dir.join("results"))
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| std::fs::read(e.ok()?.path().join("run.json")).ok())
        .map(|bytes| serde_json::from_slice(&bytes).unwrap());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, record)
}

fn can_start_nodes() -> bool {
    let ok = coldbench::driver::docker::daemon::available().is_ok();
    if !ok && common::in_ci() {
        panic!(
            "CI=true but fresh nodes cannot start here: {:?}",
            coldbench::driver::docker::daemon::available()
        );
    }
    ok
}

/// An ok replica on Docker nodes carries its probe's record: at least one attempt, a gap
/// exactly when an attempt was refused first, and a gap no longer than the whole first request
/// (both attempts it spans started after the container's start returned).
fn assert_probe_recorded(s: &coldbench::results::Sample) {
    let probe = s.probe.unwrap_or_else(|| panic!("no probe record: {s:?}"));
    assert!(probe.attempts >= 1, "{probe:?}");
    assert_eq!(probe.gap_us.is_some(), probe.attempts > 1, "{probe:?}");
    let first_request = s.phases.first_request_us.unwrap();
    if let Some(gap) = probe.gap_us {
        assert!(
            gap <= first_request,
            "gap {gap} µs > first_request {first_request} µs"
        );
    }
}

#[test]
fn two_nodes_pull_concurrently_through_one_egress() {
    let Some(_docker) = common::docker() else {
        return;
    };
    if !can_start_nodes() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "nodes = 2\nreplicas = 4", "");
    let (code, text, record) = run_cli(dir.path(), &path);
    assert_eq!(code, Some(0), "{text}");
    let record = record.unwrap();
    assert_eq!(record.bursts.len(), 1);
    let burst = &record.bursts[0];
    let size = record.variants[0].image.compressed_size;
    assert_eq!(
        burst.node_blob_bytes,
        vec![size, size],
        "each node pulls the image once"
    );
    assert_eq!(record.samples.len(), 4);
    for s in &record.samples {
        assert!(s.is_ok(), "{:?}", s.outcome);
        assert!(s.cold);
        assert!(s.ready_at_us.is_some() && s.replica.is_some());
        assert_probe_recorded(s);
    }
    let nodes: std::collections::BTreeSet<usize> = record.samples.iter().map(|s| s.node).collect();
    assert_eq!(nodes.len(), 2, "spread over both nodes");
    // Physics: 2 × 10 MB through a 20 MB/s egress cannot be done in under 1 s.
    let floor = burst.floor_us.unwrap();
    assert!((990_000..1_010_000).contains(&floor), "floor {floor}");
    let full = burst.full_ready_us.unwrap();
    assert!(
        full >= floor * 95 / 100,
        "full capacity {full} µs beat the floor {floor} µs"
    );
    assert!(burst.first_ready_us.unwrap() <= burst.half_ready_us.unwrap());
    assert!(text.contains("full") && text.contains("floor"), "{text}");
    assert!(
        common::fresh_node_daemons().is_empty(),
        "{:?}",
        common::fresh_node_daemons()
    );
    let csv = std::fs::read_to_string(
        std::fs::read_dir(dir.path().join("results"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path()
            .join("samples.csv"),
    )
    .unwrap();
    assert!(csv.lines().next().unwrap().contains("replica"));
    assert_eq!(csv.lines().count(), 5);

    // The report is written at the end of the run, and run.json follows the schema.
    let run_dir = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in [
        "report.html",
        "summary.md",
        "charts/burst-capacity.png",
        "charts/phases.svg",
    ] {
        assert!(run_dir.join(file).is_file(), "{file} missing");
    }
    common::assert_follows_schema(&run_dir.join("run.json"));
}

#[test]
fn a_stepped_schedule_requests_replicas_at_their_offsets() {
    let Some(_docker) = common::docker() else {
        return;
    };
    if !can_start_nodes() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "nodes = 1\nreplicas = 3\nstep = { add = 1, every = \"2s\" }",
        "",
    );
    let (code, text, record) = run_cli(dir.path(), &path);
    assert_eq!(code, Some(0), "{text}");
    let record = record.unwrap();
    let mut samples = record.samples.clone();
    samples.sort_by_key(|s| s.replica);
    let requested: Vec<u64> = samples.iter().map(|s| s.requested_at_us.unwrap()).collect();
    assert_eq!(requested, vec![0, 2_000_000, 4_000_000]);
    for s in &samples {
        let (req, ready) = (s.requested_at_us.unwrap(), s.ready_at_us.unwrap());
        // Started no earlier than requested; generous slack the other way.
        assert!(
            ready >= req,
            "replica {:?} ready at {ready} before its request at {req}",
            s.replica
        );
        assert!(
            ready < req + 20_000_000,
            "replica {:?} took too long",
            s.replica
        );
    }
    assert!(common::fresh_node_daemons().is_empty());
}

#[test]
fn daemons_are_gone_after_a_failure_and_an_interrupt() {
    let Some(_docker) = common::docker() else {
        return;
    };
    if !can_start_nodes() {
        return;
    }
    // Failure: the replicas never give the expected status (exit 1, samples kept).
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "nodes = 2\nreplicas = 2",
        "ready = { status = 418, timeout = \"1s\" }",
    );
    let (code, text, record) = run_cli(dir.path(), &path);
    assert_eq!(code, Some(1), "{text}");
    assert!(record.unwrap().samples.iter().all(|s| !s.is_ok()));
    assert!(
        common::fresh_node_daemons().is_empty(),
        "after failure: {:?}",
        common::fresh_node_daemons()
    );

    // Interrupt while the nodes run.
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "nodes = 2\nreplicas = 2", "").to_path_buf();
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("repetitions = 1", "repetitions = 50"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coldbench"))
        .args(["run", "--no-progress", "--results-dir"])
        .arg(dir.path().join("results"))
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while common::fresh_node_daemons().len() < 2 {
        assert!(Instant::now() < deadline, "nodes did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    common::run(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    assert!(
        common::fresh_node_daemons().is_empty(),
        "after interrupt: {:?}",
        common::fresh_node_daemons()
    );
    let leftovers: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("cbn"))
        .collect();
    assert!(leftovers.is_empty(), "node directories left: {leftovers:?}");
}

/// `[docker] node_sockets`: the burst uses engines the user names instead of fresh ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sockets_name_the_nodes() {
    let Some(_docker) = common::docker() else {
        return;
    };
    if !can_start_nodes() {
        return;
    }
    // Stand in for a user's second engine: a dockerd of our own.
    let engine = coldbench::driver::docker::daemon::NodeDaemon::start(9)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "nodes = 1\nreplicas = 2",
        &format!("[docker]\nnode_sockets = [\"{}\"]", engine.host()),
    );
    let dir_path = dir.path().to_path_buf();
    let (code, text, record) = tokio::task::spawn_blocking(move || run_cli(&dir_path, &path))
        .await
        .unwrap();
    engine.stop().await;
    assert_eq!(code, Some(0), "{text}");
    let record = record.unwrap();
    assert_eq!(record.engine.node, "1 × sockets");
    assert!(record.samples.iter().all(|s| s.is_ok() && s.cold));
}
