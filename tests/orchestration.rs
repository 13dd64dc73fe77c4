//! The real orchestration (scenario → plan → execute → record → files) over a test driver,
//! hermetic: no engine, no root. Paused tokio time makes every figure exact.

mod common;

use std::path::Path;
use std::time::Duration;

use coldbench::execute::Interrupt;
use coldbench::results::{Phase, RunRecord};
use coldbench::run::{run_scenario, Nodes, RunError, RunOptions};
use coldbench::scenario::Scenario;
use common::test_driver::{Calls, Script, TestBytes, TestDriver};

const MS: u64 = 1_000;
const S: u64 = 1_000_000;

fn scenario(dir: &Path, text: &str) -> Scenario {
    let path = dir.join("orchestration.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path).unwrap()
}

fn variants(names: &[&str], extra: &str) -> String {
    names
        .iter()
        .map(|n| format!("[[variant]]\nname = \"{n}\"\nsynth = {{ size = \"1MB\" }}\n{extra}\n"))
        .collect()
}

struct Ran {
    result: Result<RunRecord, RunError>,
    calls: std::sync::Arc<std::sync::Mutex<Calls>>,
    results_dir: tempfile::TempDir,
}

async fn run(text: &str, nodes: usize, script: Script, interrupt_at: Option<usize>) -> Ran {
    let results_dir = tempfile::tempdir().unwrap();
    let scenario = scenario(results_dir.path(), text);
    let (trigger, interrupt) = Interrupt::manual();
    let script = Script {
        interrupt_at_pull: interrupt_at,
        ..script
    };
    let driver = TestDriver::new(nodes, script, Some(trigger));
    let calls = driver.calls();
    let opts = RunOptions {
        scenario: scenario.path.clone(),
        results_dir: results_dir.path().join("results"),
        progress: false,
        driver: None,
        sim: Default::default(),
    };
    let nodes = Nodes::Given {
        driver: Box::new(driver),
        bytes: Some(Box::new(TestBytes(calls.clone()))),
    };
    let result = run_scenario(&scenario, &opts, nodes, interrupt)
        .await
        .map(|o| o.record);
    Ran {
        result,
        calls,
        results_dir,
    }
}

fn total(record: &RunRecord, variant: &str) -> coldbench::results::Summary {
    record.summaries[variant][Phase::Total.name()]
}

#[tokio::test(start_paused = true)]
async fn single_cold_starts_are_timed_phase_by_phase() {
    let text = format!(
        "name = \"single\"\nrepetitions = 2\n{}",
        variants(&["a", "b"], "")
    );
    let ran = run(&text, 1, Script::default(), None).await;
    let record = ran.result.unwrap();
    assert_eq!(record.samples.len(), 4);
    for s in &record.samples {
        assert!(s.is_ok() && s.cold, "{s:?}");
        assert_eq!(s.phases.pull_us, Some(S));
        assert_eq!(s.phases.create_us, Some(100 * MS));
        assert_eq!(s.phases.start_us, Some(200 * MS));
        assert_eq!(s.phases.first_request_us, Some(50 * MS));
        assert_eq!(s.phases.total_us, Some(1_350 * MS));
    }
    assert_eq!(total(&record, "a").count, 2);
    let calls = ran.calls.lock().unwrap();
    assert_eq!(
        calls.evictions.len(),
        4 + 1,
        "before every sample, and once at the end"
    );
    assert_eq!(
        calls.removed.len(),
        4,
        "every container removed after its sample"
    );
    assert!(calls.torn_down);
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_run_keeps_its_samples_and_cleans_up() {
    let text = format!(
        "name = \"interrupted\"\nrepetitions = 3\n{}",
        variants(&["a", "b"], "")
    );
    let ran = run(&text, 1, Script::default(), Some(2)).await;
    let Err(RunError::Interrupted { dir, samples }) = ran.result else {
        panic!(
            "expected an interrupt, got {:?}",
            ran.result.map(|r| r.run_id)
        );
    };
    assert_eq!(samples, 2, "the two samples before the interrupted pull");
    let record: RunRecord =
        serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
    assert!(record.interrupted);
    assert_eq!(record.samples.len(), 2);
    let jsonl = std::fs::read_to_string(dir.join("samples.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 2);
    assert!(dir.join("samples.csv").is_file());
    let calls = ran.calls.lock().unwrap();
    assert_eq!(calls.removed_runs, vec![(0, record.run_id.clone())]);
    assert!(calls.torn_down, "nodes torn down after an interrupt");
    assert!(ran.results_dir.path().join("results").is_dir());
}

#[tokio::test(start_paused = true)]
async fn warm_ups_are_recorded_but_not_summarized() {
    let text = format!(
        "name = \"warmup\"\nrepetitions = 2\nwarmup = true\n{}",
        variants(&["a"], "")
    );
    let script = Script {
        first_pulls_extra: (1, Duration::from_secs(10)),
        ..Script::default()
    };
    let record = run(&text, 1, script, None).await.result.unwrap();
    assert_eq!(record.samples.len(), 3);
    assert!(record.samples[0].warmup);
    assert_eq!(record.samples[0].phases.pull_us, Some(11 * S));
    let t = total(&record, "a");
    assert_eq!(t.count, 2);
    assert!(
        t.max < 2 * S,
        "the 11 s warm-up is not in the summary: {t:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sample_that_is_not_cold_is_flagged_and_excluded() {
    let text = format!("name = \"warm\"\nrepetitions = 3\n{}", variants(&["a"], ""));
    let script = Script {
        warm_pulls: [1].into(),
        ..Script::default()
    };
    let record = run(&text, 1, script, None).await.result.unwrap();
    let cold: Vec<bool> = record.samples.iter().map(|s| s.cold).collect();
    assert_eq!(cold, vec![true, false, true]);
    assert_eq!(
        record.samples[1].blob_bytes * 2,
        record.samples[1].expected_bytes
    );
    assert_eq!(
        total(&record, "a").count,
        2,
        "the warm sample is not summarized"
    );
    let table = coldbench::report::table::render(&record);
    assert!(table.contains("not cold"), "{table}");
}

fn burst(extra: &str) -> String {
    format!(
        "name = \"burst\"\nrepetitions = 1\n[registry]\nbandwidth = \"100MB/s\"\n[burst]\nnodes = 2\nreplicas = 4\n{}",
        variants(&["a"], extra)
    )
}

#[tokio::test(start_paused = true)]
async fn a_burst_measures_capacity_over_time() {
    let script = Script {
        pull: vec![Duration::from_secs(1), Duration::from_secs(2)],
        ..Script::default()
    };
    let ran = run(&burst(""), 2, script, None).await;
    let record = ran.result.unwrap();
    assert_eq!(record.samples.len(), 4);
    let ready: Vec<Option<u64>> = record.samples.iter().map(|s| s.ready_at_us).collect();
    // Spread: replicas 0 and 2 on node 0 (1 s pull), 1 and 3 on node 1 (2 s pull).
    assert_eq!(
        ready,
        vec![
            Some(1_350 * MS),
            Some(2_350 * MS),
            Some(1_350 * MS),
            Some(2_350 * MS)
        ]
    );
    let b = &record.bursts[0];
    assert_eq!((b.nodes, b.replicas), (2, 4));
    assert_eq!(b.first_ready_us, Some(1_350 * MS));
    assert_eq!(b.half_ready_us, Some(1_350 * MS));
    assert_eq!(b.full_ready_us, Some(2_350 * MS));
    assert!((b.capacity_seconds_lost - 7.4).abs() < 1e-9, "{b:?}");
    let size = record.variants[0].image.compressed_size;
    assert_eq!(b.node_blob_bytes, vec![size, size]);
    // Floor: 2 nodes × size through a 100 MB/s egress.
    assert_eq!(b.floor_us, Some(2 * size * S / 100_000_000));
    assert!(record.samples.iter().all(|s| s.cold));
    let calls = ran.calls.lock().unwrap();
    assert_eq!(calls.pulls.len(), 2, "each node pulls once");
    assert_ne!(
        calls.pulls[0].1, calls.pulls[1].1,
        "each node has its own registry port"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_replica_is_not_capacity() {
    let script = Script {
        pull: vec![Duration::from_secs(1), Duration::from_secs(2)],
        never_ready: ["-3".to_string()].into(),
        ..Script::default()
    };
    let record = run(&burst("ready = { timeout = \"5s\" }"), 2, script, None)
        .await
        .result
        .unwrap();
    assert!(!record.samples[3].is_ok());
    assert_eq!(record.samples[3].ready_at_us, None);
    let b = &record.bursts[0];
    assert_eq!(b.full_ready_us, None, "full capacity is never reached");
    // Replica 3 fails at 2 s + 0.3 s + 5 s: it is missing capacity until the burst ends then.
    let lost = 1.35 + 2.35 + 1.35 + 7.3;
    assert!((b.capacity_seconds_lost - lost).abs() < 1e-9, "{b:?}");
}
