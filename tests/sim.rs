//! Simulated runs (`driver = "sim"`): no Docker, no registry; the run directory is written like
//! a measured run's, marked simulated everywhere, with the model's figures.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use coldbench::driver::sim::{links, SimOverrides};
use coldbench::model::{simulate_single, simulate_slots, ImageModel, ModelParams};
use coldbench::plan::Plan;
use coldbench::results::{Phase, RunRecord};
use coldbench::run::{run_scenario, Nodes, RunOptions};
use coldbench::scenario::{DriverKind, Scenario};
use predicates::prelude::*;
use serde_json::Value;

fn coldbench() -> Command {
    Command::cargo_bin("coldbench").unwrap()
}

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The one run directory under `results`.
fn run_dir(results: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn schema_errors(run_json: &Path) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("schemas/run.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let value: Value = serde_json::from_str(&std::fs::read_to_string(run_json).unwrap()).unwrap();
    validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Runs the scenario through the library with `driver` overriding the file's.
async fn simulate(scenario: &Path, results: &Path, sim: SimOverrides) -> (Scenario, RunRecord) {
    let scenario = Scenario::load_as(scenario, Some(DriverKind::Sim)).unwrap();
    let opts = RunOptions {
        scenario: scenario.path.clone(),
        results_dir: results.to_path_buf(),
        progress: false,
        driver: Some(DriverKind::Sim),
        sim,
    };
    let (_trigger, interrupt) = coldbench::execute::Interrupt::manual();
    let outcome = run_scenario(&scenario, &opts, Nodes::FromScenario, interrupt)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (scenario, outcome.record)
}

/// `coldbench run scenarios/quickstart.toml --driver sim`: a schema-valid run.json marked
/// simulated, the model's phases in every sample, and the marks in every view.
#[test]
fn quickstart_simulates_marked_with_the_models_phases() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    coldbench()
        .args(["run", "--no-progress", "--driver", "sim", "--results-dir"])
        .arg(&results)
        .arg(repo("scenarios/quickstart.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "SIMULATED (uncalibrated defaults)",
        ));
    let run = run_dir(&results);
    let errors = schema_errors(&run.join("run.json"));
    assert!(errors.is_empty(), "{errors:#?}");
    let record: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(record.engine.driver, "sim");
    assert_eq!(record.engine.node, "simulated");
    let simulation = record.simulation.as_ref().expect("simulation field");
    assert_eq!(simulation.model, "uncalibrated defaults");
    assert_eq!(simulation.params, ModelParams::default());
    assert_eq!(record.samples.len(), 6);
    for variant in &record.variants {
        let image = ImageModel::from_stored(&variant.image);
        let expected = simulate_single(&image, &ModelParams::default(), &links_of(&record));
        for s in record.samples.iter().filter(|s| s.variant == variant.name) {
            assert_eq!(s.phases, expected.phases, "{}", variant.name);
            assert!(s.cold && s.is_ok());
            assert_eq!(s.blob_bytes, variant.image.compressed_size);
            assert_eq!(s.layers.len(), variant.image.layers.len());
        }
    }
    let full = record
        .variants
        .iter()
        .find(|v| v.name == "full-like")
        .unwrap();
    let size = full.image.compressed_size as f64;
    assert!((size / 150e6 - 1.0).abs() < 0.02, "{size}");
    assert_eq!(full.image.layers.last().unwrap().size, 733_529);
    let summary = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(
        summary.contains("simulated (uncalibrated defaults)"),
        "{summary}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("not a measurement") && html.contains("(simulated)"));
    let chart = std::fs::read_to_string(run.join("charts/phases.svg")).unwrap();
    assert!(chart.contains("(simulated)"));
}

fn links_of(record: &RunRecord) -> coldbench::model::Links {
    coldbench::model::predict::links_of(record)
}

/// A burst simulated through the library records what `simulate_slots` says for the plan's
/// slots: milestones, floor, bytes per node, and each replica's ready time.
#[tokio::test]
async fn a_simulated_burst_records_what_the_model_computes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/burst.toml"))
        .unwrap()
        .replace("nodes = 3", "nodes = 40")
        .replace("replicas = 9", "replicas = 2000");
    let path = write(dir.path(), "burst.toml", &text);
    let (scenario, record) = simulate(&path, &dir.path().join("r"), SimOverrides::default()).await;
    assert_eq!(record.bursts.len(), 4);
    assert_eq!(record.samples.len(), 4 * 2000);
    let plan = Plan::new(&scenario, record.seed, 40);
    for burst in &record.bursts {
        let variant = record
            .variants
            .iter()
            .find(|v| v.name == burst.variant)
            .unwrap();
        let image = ImageModel::from_stored(&variant.image);
        let model = simulate_slots(
            &image,
            &plan.slots,
            &ModelParams::default(),
            &links(&scenario),
        );
        assert_eq!(burst.full_ready_us, model.milestones.full_ready_us);
        assert_eq!(burst.first_ready_us, model.milestones.first_ready_us);
        assert_eq!(burst.floor_us, model.floor_us);
        assert_eq!(burst.nodes, 40);
        assert_eq!(
            burst.node_blob_bytes,
            vec![variant.image.compressed_size; 40]
        );
        let ready: Vec<Option<u64>> = record
            .samples
            .iter()
            .filter(|s| s.burst == Some(burst.index))
            .map(|s| s.ready_at_us)
            .collect();
        let expected: Vec<Option<u64>> = model.replicas.iter().map(|r| Some(r.ready_us)).collect();
        assert_eq!(ready, expected);
    }
    let pull = record.summaries["big"][Phase::Pull.name()].p50;
    assert!(
        pull > 40 * 60_000_000 / 50,
        "40 nodes share 50 MB/s: {pull} µs"
    );
}

/// The same scenario and seed give the same samples.
#[tokio::test]
async fn simulated_samples_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("scenarios/burst.toml")).unwrap();
    let path = write(dir.path(), "burst.toml", &format!("seed = 7\n{text}"));
    let strip = |r: RunRecord| {
        let mut samples = r.samples;
        samples.iter_mut().for_each(|s| s.started_at.clear());
        (samples, r.bursts)
    };
    let (_, a) = simulate(&path, &dir.path().join("a"), SimOverrides::default()).await;
    let (_, b) = simulate(&path, &dir.path().join("b"), SimOverrides::default()).await;
    assert_eq!(strip(a), strip(b));
}

/// `[sim] images` takes the variants' stored images from a real run, and a calibration's
/// parameters replace the defaults and name the runs they came from.
#[tokio::test]
async fn images_from_a_run_and_parameters_from_a_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let calibration = coldbench::model::calibration::Calibration {
        coldbench: "0.1.0".into(),
        created_at: "2026-11-28T00:00:00Z".into(),
        engine: "docker 20.10.24 · overlay2 · fresh".into(),
        method: "test".into(),
        runs: vec!["quickstart-1".into()],
        params: ModelParams {
            create_us: 999,
            ..ModelParams::default()
        },
        images: Default::default(),
        fit: vec![],
    };
    write(dir.path(), "calibration.toml", &calibration.to_toml());
    let fixture = repo("tests/fixtures/run-node-bases.json");
    let text = format!(
        "driver = \"sim\"\nrepetitions = 1\n[sim]\ncalibration = \"calibration.toml\"\nimages = {:?}\n[[variant]]\nname = \"full\"\ndockerfile = {{ context = \".\" }}\n",
        fixture.display().to_string()
    );
    let path = write(dir.path(), "bases.toml", &text);
    let (_, record) = simulate(&path, &dir.path().join("r"), SimOverrides::default()).await;
    let simulation = record.simulation.unwrap();
    assert_eq!(simulation.params.create_us, 999);
    assert!(
        simulation.model.contains("quickstart-1"),
        "{}",
        simulation.model
    );
    let fixture: RunRecord =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let full = fixture.variants.iter().find(|v| v.name == "full").unwrap();
    assert_eq!(record.variants[0].image, full.image);
    assert_eq!(record.samples[0].phases.create_us, Some(999));
    assert_eq!(
        record.samples[0].layers[0].digest,
        full.image.layers[0].digest.to_string()
    );
}

/// `--images RUN` gives a Dockerfile scenario its layer sizes from a measured run.
#[test]
fn images_flag_simulates_dockerfile_variants() {
    let dir = tempfile::tempdir().unwrap();
    coldbench()
        .args([
            "run",
            "--no-progress",
            "--no-report",
            "--driver",
            "sim",
            "--images",
        ])
        .arg(repo("tests/fixtures/run-node-bases.json"))
        .arg("--results-dir")
        .arg(dir.path())
        .arg(repo("scenarios/node-bases.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "layer sizes of run node-bases-20261127T001814Z",
        ));
}

/// A simulated run compared with itself: same figures, no context warning; against a measured
/// run, a warning says one side is the model.
#[test]
fn compare_works_on_simulated_runs() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    coldbench()
        .args(["run", "--no-progress", "--no-report", "--driver", "sim"])
        .arg("--results-dir")
        .arg(&results)
        .arg(repo("scenarios/quickstart.toml"))
        .assert()
        .success();
    let run = run_dir(&results);
    coldbench()
        .arg("compare")
        .arg(&run)
        .arg(&run)
        .assert()
        .success()
        .stdout(predicate::str::contains("full-like"))
        .stdout(predicate::str::contains("model against a measurement").not())
        .stderr(predicate::str::contains("model against a measurement").not());
    let out = coldbench()
        .arg("compare")
        .arg(repo("tests/fixtures/run-quickstart.json"))
        .arg(run.join("run.json"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("baseline measured, this run simulated (uncalibrated defaults)"),
        "{text}"
    );
}

/// Runs `coldbench run` on `text` saved as `file`; returns the assertion and the results dir.
fn run_text(dir: &Path, file: &str, text: &str) -> assert_cmd::assert::Assert {
    let path = write(dir, file, text);
    coldbench()
        .args(["run", "--no-progress", "--results-dir"])
        .arg(dir.join("results"))
        .arg(&path)
        .assert()
}

/// Bad simulation input exits 2 at `file:line:col`, says what to do, and starts no run.
#[test]
fn bad_simulation_input_exits_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let variant = "[[variant]]\nname = \"small\"\nsynth = { size = \"2MB\" }\n";
    let cases = [
        (
            "dockerfile.toml",
            "driver = \"sim\"\n[[variant]]\nname = \"app\"\ndockerfile = { context = \".\" }\n"
                .to_string(),
            vec![
                "dockerfile.toml:3:8: variant[0]",
                "[sim] images",
                "calibration",
            ],
        ),
        (
            "calibration.toml",
            format!("driver = \"sim\"\n[sim]\ncalibration = \"missing.toml\"\n{variant}"),
            vec![
                "calibration.toml:3:15: sim.calibration",
                "missing.toml",
                "coldbench calibrate",
            ],
        ),
        (
            "images.toml",
            format!("driver = \"sim\"\n[sim]\nimages = \"no-such-run\"\n{variant}"),
            vec!["images.toml:3:10: sim.images", "no-such-run"],
        ),
        (
            "nodes.toml",
            format!("driver = \"sim\"\n[burst]\nnodes = 10001\nreplicas = 10\n{variant}"),
            vec!["nodes.toml:3:9: burst.nodes", "1 to 10000"],
        ),
        (
            "replicas.toml",
            format!("driver = \"sim\"\n[burst]\nnodes = 10\nreplicas = 100001\n{variant}"),
            vec!["replicas.toml:4:12: burst.replicas", "1 to 100000"],
        ),
        (
            "docker-nodes.toml",
            format!("[burst]\nnodes = 17\nreplicas = 10\n{variant}"),
            vec!["docker-nodes.toml:2:9: burst.nodes", "1 to 16"],
        ),
    ];
    for (file, text, needles) in cases {
        let out = run_text(dir.path(), file, &text)
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "{file}: {needle:?} not in {stderr}"
            );
        }
        assert_eq!(stderr.matches("error:").count(), 1, "said once: {stderr}");
    }
    let made = std::fs::read_dir(dir.path().join("results")).map_or(0, |d| d.count());
    assert_eq!(made, 0, "no run directory was made");
}

/// `--calibration` or `--images` without a simulated driver is refused, not ignored.
#[test]
fn sim_flags_without_the_sim_driver_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    coldbench()
        .args(["run", "--no-progress", "--calibration", "c.toml"])
        .arg(repo("scenarios/quickstart.toml"))
        .arg("--results-dir")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("add --driver sim"));
}

/// `coldbench history` marks a simulated run's rows.
#[test]
fn history_marks_simulated_runs() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    coldbench()
        .args(["run", "--no-progress", "--no-report", "--driver", "sim"])
        .arg("--results-dir")
        .arg(&results)
        .arg(repo("scenarios/quickstart.toml"))
        .assert()
        .success();
    coldbench()
        .arg("history")
        .arg(run_dir(&results))
        .arg("--out")
        .arg(dir.path().join("history"))
        .assert()
        .success()
        .stdout(predicate::str::contains("(simulated)"));
}

/// A malformed calibration keeps its own location.
#[test]
fn a_malformed_calibration_is_located_in_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "cal.toml", "coldbench = 3\n");
    let text = "driver = \"sim\"\n[sim]\ncalibration = \"cal.toml\"\n[[variant]]\nname = \"s\"\nsynth = { size = \"2MB\" }\n";
    run_text(dir.path(), "s.toml", text)
        .code(2)
        .stderr(predicate::str::contains("cal.toml:1:13"));
}

/// `--shared-cores 2` (or `[sim] shared_cores`) makes the nodes of a simulated burst share two
/// cores, as coldbench's own emulated nodes do: never faster than a CPU per node, and a value
/// that is not a number of cores exits 2 where it was given.
#[test]
fn shared_cores_slow_a_burst_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let full_capacity = |extra: &[&str], out: &str| -> u64 {
        let results = dir.path().join(out);
        coldbench()
            .args(["run", "--no-progress", "--no-report", "--driver", "sim"])
            .args(extra)
            .arg("--results-dir")
            .arg(&results)
            .arg(repo("scenarios/burst.toml"))
            .assert()
            .success();
        let text = std::fs::read_to_string(run_dir(&results).join("run.json")).unwrap();
        let record: RunRecord = serde_json::from_str(&text).unwrap();
        record
            .bursts
            .iter()
            .filter_map(|b| b.full_ready_us)
            .max()
            .unwrap()
    };
    let own = full_capacity(&[], "own");
    let shared = full_capacity(&["--shared-cores", "2"], "shared");
    let one = full_capacity(&["--shared-cores", "1"], "one");
    assert!(own < shared && shared < one, "{own} {shared} {one}");
    coldbench()
        .args(["run", "--driver", "sim", "--shared-cores", "0"])
        .arg(repo("scenarios/burst.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--shared-cores"));
    let bad = "driver = \"sim\"\n[sim]\nshared_cores = -1\n[[variant]]\nname = \"a\"\nsynth = { size = \"2MB\" }\n";
    run_text(dir.path(), "cores.toml", bad)
        .code(2)
        .stderr(predicate::str::contains("cores.toml:3:16"))
        .stderr(predicate::str::contains("above 0"));
}

/// A reader that goes away (`coldbench run … | head -1`) ends nothing badly: the run is
/// written, the exit code is 0, and nothing panics.
#[test]
fn a_closed_stdout_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("coldbench"))
        .args(["run", "--no-progress", "--driver", "sim", "--results-dir"])
        .arg(dir.path())
        .arg(repo("scenarios/quickstart.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(run_dir(dir.path()).join("run.json").exists());
}
