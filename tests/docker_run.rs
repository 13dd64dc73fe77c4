//! A synthetic variant through the Docker driver, against the real engine: every phase
//! measured, first request answered, bytes served equal the image, results parse, nothing left.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use coldbench::results::RunRecord;
use coldbench::run::{run, RunOptions};

const SCENARIO: &str = r#"name = "it"
repetitions = 2
seed = 42
[docker]
node = "engine"
[registry]
bandwidth = "50MB/s"
latency = "1ms"
[[variant]]
name = "two-layers"
synth = { size = "3MB", layers = 2, compressibility = 0.5 }
[[variant]]
name = "one-layer"
synth = { size = "2MB" }
"#;

fn labelled_containers(label: &str) -> String {
    common::run(Command::new("docker").args([
        "ps",
        "-aq",
        "--filter",
        &format!("label=coldbench.run={label}"),
    ]))
}

fn harness_images() -> Vec<String> {
    common::run(Command::new("docker").args(["images", "--format", "{{.Repository}}:{{.Tag}}"]))
        .lines()
        .filter(|r| coldbench::driver::docker::is_harness_ref(r))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_variants_cold_start_through_docker() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("it.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
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

    assert_eq!(record.samples.len(), 4);
    for s in &record.samples {
        assert!(s.is_ok(), "sample failed: {:?}", s.outcome);
        let p = s.phases;
        for (name, v) in [
            ("pull", p.pull_us),
            ("create", p.create_us),
            ("start", p.start_us),
            ("first_request", p.first_request_us),
            ("total", p.total_us),
        ] {
            assert!(v.unwrap_or(0) > 0, "{name} not measured: {p:?}");
        }
        assert!(
            s.finished_at_us >= p.total_us,
            "ends after its answer: {s:?}"
        );
        let sum = p.pull_us.unwrap()
            + p.create_us.unwrap()
            + p.start_us.unwrap()
            + p.first_request_us.unwrap();
        assert!(p.total_us.unwrap() >= sum, "total covers the phases: {p:?}");
        assert_eq!(s.blob_bytes, s.expected_bytes, "bytes served = image size");
        assert!(s.cold);
        assert!(s.manifest_bytes > 0);
        let image = &record
            .variants
            .iter()
            .find(|v| v.name == s.variant)
            .unwrap()
            .image;
        assert_eq!(s.layers.len(), image.layers.len());
        for l in &s.layers {
            assert!(!l.already_present, "layer was not cold: {l:?}");
            assert!(l.extract_complete_us.is_some(), "no extract time: {l:?}");
            // The registry hands a layer's last byte over before the engine can see it (the
            // engine's clock starts a moment after the sample's, hence the slack).
            let (served, downloaded) = (l.served_us.unwrap(), l.download_complete_us.unwrap());
            assert!(
                served <= downloaded + 5_000,
                "served {served} µs after download {downloaded} µs"
            );
        }
        // Physics: the pull cannot beat compressed bytes / bandwidth.
        let floor = record
            .variants
            .iter()
            .find(|v| v.name == s.variant)
            .unwrap()
            .wire_floor_us
            .unwrap();
        assert!(
            p.pull_us.unwrap() >= floor * 95 / 100,
            "pull {p:?} beat the wire floor {floor} µs"
        );
    }
    // The synthetic image: coldbench-hello on nothing — no shell, no package manager.
    let anatomy = record.variants[0].anatomy.as_ref().expect("anatomy");
    assert!(anatomy.shells.is_empty() && anatomy.package_managers.is_empty());
    assert_eq!(
        anatomy.entrypoint.as_deref(),
        Some(&["/coldbench-hello".to_string()][..])
    );
    assert_eq!(
        anatomy.compressed_size,
        record.variants[0].image.compressed_size
    );
    // Two layers and one layer, sizes near the asked ones.
    let two = &record.variants[0].image;
    assert_eq!(two.layers.len(), 2);
    let ratio = two.compressed_size as f64 / 3e6;
    assert!(
        (0.97..1.03).contains(&ratio),
        "compressed size {} vs 3MB",
        two.compressed_size
    );

    // The files parse.
    let run_json: RunRecord =
        serde_json::from_slice(&std::fs::read(outcome.dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json.samples.len(), 4);
    assert_eq!(run_json.schema_version, coldbench::results::SCHEMA_VERSION);
    assert!(run_json.summaries["one-layer"]["total"].count == 2);
    assert!(run_json.engine.version.is_some());
    assert!(run_json.scenario.source.contains("two-layers"));
    let mut csv = csv::Reader::from_path(outcome.dir.join("samples.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "first_request_us"));
    assert_eq!(csv.records().count(), 4);
    let jsonl = std::fs::read_to_string(outcome.dir.join("samples.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 4);
    common::assert_follows_schema(&outcome.dir.join("run.json"));

    // Nothing left behind.
    assert_eq!(labelled_containers(&record.run_id).trim(), "");
    assert!(
        harness_images().is_empty(),
        "images left: {:?}",
        harness_images()
    );
}

/// Ctrl-C mid-run: exit 130, containers removed, samples.jsonl kept.
#[test]
fn interrupt_cleans_up_and_keeps_samples() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("long.toml");
    // On a fresh node when this machine can start one (root, dockerd): its daemon must go too.
    std::fs::write(
        &scenario,
        SCENARIO
            .replace("repetitions = 2", "repetitions = 50")
            .replace("node = \"engine\"", "node = \"auto\""),
    )
    .unwrap();
    let results = dir.path().join("results");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coldbench"))
        .args(["run", "--no-progress", "--results-dir"])
        .arg(&results)
        .arg(&scenario)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let jsonl = || -> Option<std::path::PathBuf> {
        let run_dir = std::fs::read_dir(&results).ok()?.next()?.ok()?.path();
        Some(run_dir.join("samples.jsonl"))
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines = jsonl()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |t| t.lines().count());
        if lines >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no samples within 120 s");
        assert!(child.try_wait().unwrap().is_none(), "run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    common::run(Command::new("kill").args(["-INT", &child.id().to_string()]));
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");

    let log = jsonl().unwrap();
    let kept = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(kept >= 2, "samples.jsonl kept {kept} samples");
    let run_dir = log.parent().unwrap();
    let record: RunRecord =
        serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).unwrap()).unwrap();
    assert!(record.interrupted);
    assert_eq!(
        labelled_containers(&record.run_id).trim(),
        "",
        "containers left behind"
    );
    assert!(
        harness_images().is_empty(),
        "images left: {:?}",
        harness_images()
    );
    assert!(Path::new(&run_dir.join("samples.csv")).exists());
    assert!(
        common::fresh_node_daemons().is_empty(),
        "dockerd left: {:?}",
        common::fresh_node_daemons()
    );
}

fn wait_with_timeout(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("coldbench did not exit within {limit:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A container that dies before answering fails its sample at once, with its last output,
/// instead of after the whole ready timeout.
#[test]
fn a_crashing_container_fails_fast_with_its_output() {
    let Some(_docker) = common::docker() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("crash.toml");
    std::fs::write(
        &scenario,
        "repetitions = 1\n[[variant]]\nname = \"crash\"\nsynth = { size = \"2MB\" }\n\
         env = { HOST = \"256.0.0.1\" }\nready = { timeout = \"60s\" }\n",
    )
    .unwrap();
    let t0 = Instant::now();
    let out = common::coldbench_run(dir.path(), &scenario, &["--no-report"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        t0.elapsed() < Duration::from_secs(45),
        "waited for the timeout"
    );
    assert!(stderr.contains("exited (code 1)"), "{stderr}");
    assert!(stderr.contains("cannot listen on 256.0.0.1"), "{stderr}");
}
