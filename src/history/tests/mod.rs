//! History tests on hand-made runs written to temporary directories.

mod charts;
mod collect;
mod markdown;
mod pattern;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::compare::{Cell, CompareOptions, CompareReport, Metric, RunRef, Verdict};
use crate::digest::Digest;
use crate::results::{
    EngineContext, HostContext, NetworkContext, Outcome, PhaseTimes, RunRecord, Sample,
    ScenarioRecord, StoredImage, ToolInfo, VariantRecord,
};

/// One cold, successful sample: pull is 60 % of `total_us`.
fn sample(index: usize, variant: &str, total_us: u64) -> Sample {
    Sample {
        index,
        repetition: 0,
        variant: variant.into(),
        warmup: false,
        node: 0,
        started_at: String::new(),
        phases: PhaseTimes {
            pull_us: Some(total_us / 10 * 6),
            create_us: Some(40_000),
            start_us: Some(60_000),
            first_request_us: Some(5_000),
            total_us: Some(total_us),
        },
        blob_bytes: 100,
        manifest_bytes: 10,
        expected_bytes: 100,
        cold: true,
        layers: vec![],
        outcome: Outcome::Ok,
        burst: None,
        replica: None,
        requested_at_us: None,
        ready_at_us: None,
        finished_at_us: None,
        pod: None,
        registry: None,
        probe: None,
    }
}

/// A variant whose image is a stub.
fn variant(name: &str) -> VariantRecord {
    let digest = Digest::of(name.as_bytes());
    VariantRecord {
        name: name.into(),
        source: "synth".into(),
        compression_level: None,
        image: StoredImage {
            repository: format!("coldbench/{name}"),
            tag: "latest".into(),
            digest: digest.clone(),
            config_digest: digest,
            compressed_size: 100,
            uncompressed_size: 200,
            layers: vec![],
        },
        anatomy: None,
        wire_floor_us: None,
    }
}

/// A run started at `started_at` by `commit`, with each variant's totals (µs) as samples.
fn record(
    run_id: &str,
    started_at: &str,
    commit: Option<&str>,
    variants: &[(&str, &[u64])],
) -> RunRecord {
    let mut samples = Vec::new();
    for (name, totals) in variants {
        for &t in *totals {
            samples.push(sample(samples.len(), name, t));
        }
    }
    RunRecord {
        schema_version: crate::results::SCHEMA_VERSION,
        run_id: run_id.into(),
        coldbench: ToolInfo {
            version: "0.1.0".into(),
            git_commit: commit.map(str::to_string),
        },
        started_at: started_at.into(),
        finished_at: started_at.into(),
        interrupted: false,
        host: HostContext::default(),
        engine: EngineContext::default(),
        network: NetworkContext {
            bandwidth: None,
            bandwidth_bytes_per_sec: None,
            latency_us: 0,
            registry: "127.0.0.1:5000".into(),
        },
        scenario: ScenarioRecord {
            path: "scenario.toml".into(),
            name: "nightly".into(),
            source: String::new(),
            parsed: serde_json::Value::Null,
        },
        seed: 1,
        variants: variants.iter().map(|(n, _)| variant(n)).collect(),
        samples,
        bursts: vec![],
        summaries: BTreeMap::new(),
        histograms: BTreeMap::new(),
        simulation: None,
    }
}

/// A compare.json of `new` against `base` where the `regressed` cells regressed and every
/// other cell of `new`'s variants saw no change.
fn compare_report(
    base: &RunRecord,
    new: &RunRecord,
    regressed: &[(&str, Metric)],
) -> CompareReport {
    let mut cells = Vec::new();
    for v in &new.variants {
        for metric in Metric::ALL {
            let verdict = if regressed.contains(&(v.name.as_str(), metric)) {
                Verdict::Regressed
            } else {
                Verdict::NoChange
            };
            cells.push(Cell {
                variant: v.name.clone(),
                metric,
                base_n: 5,
                new_n: 5,
                base_median_us: Some(1),
                new_median_us: Some(2),
                ratio: Some(2.0),
                ci: Some((1.5, 2.5)),
                p_value: Some(0.01),
                p_adjusted: Some(0.01),
                noise_band: Some(0.05),
                verdict,
            });
        }
    }
    CompareReport {
        base: RunRef::of(base),
        new: RunRef::of(new),
        options: CompareOptions::default(),
        differences: vec![],
        only_in_base: vec![],
        only_in_new: vec![],
        cells,
    }
}

/// Writes `record` as `parent/<run id>/run.json`; returns the run directory.
fn write_run(parent: &Path, record: &RunRecord) -> PathBuf {
    let dir = parent.join(&record.run_id);
    std::fs::create_dir_all(&dir).unwrap();
    let json = serde_json::to_vec_pretty(record).unwrap();
    std::fs::write(dir.join("run.json"), json).unwrap();
    dir
}

/// Writes `report` as `dir/compare.json`.
fn write_compare(dir: &Path, report: &CompareReport) {
    let json = serde_json::to_vec_pretty(report).unwrap();
    std::fs::write(dir.join("compare.json"), json).unwrap();
}

const S: u64 = 1_000_000;

/// Three nightly runs written out of order, the newest regressed in `full-like` total against
/// the one before; plus a corrupt run. Returns the directory holding them.
fn nightly() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("nightly");
    let a = record(
        "nightly-a",
        "2026-11-26T02:00:00.000000Z",
        Some("0a1b2c3d4e5f"),
        &[
            (
                "full-like",
                &[5 * S, 5_200_000, 5_400_000, 4_900_000, 5_100_000],
            ),
            (
                "static-like",
                &[900_000, 950_000, 1_000_000, 920_000, 980_000],
            ),
        ],
    );
    let b = record(
        "nightly-b",
        "2026-11-27T02:00:00.000000Z",
        Some("1b2c3d4e5f60"),
        &[
            (
                "full-like",
                &[5_100_000, 5_300_000, 5_000_000, 5_200_000, 5_250_000],
            ),
            (
                "static-like",
                &[910_000, 940_000, 990_000, 930_000, 970_000],
            ),
        ],
    );
    let c = record(
        "nightly-c",
        "2026-11-28T02:00:00.000000Z",
        Some("2c3d4e5f6071"),
        &[
            (
                "full-like",
                &[6_400_000, 6_600_000, 6_500_000, 6_800_000, 6_700_000],
            ),
            (
                "static-like",
                &[900_000, 960_000, 1_010_000, 925_000, 975_000],
            ),
        ],
    );
    // Written in an order that is not the time order.
    let dir_c = write_run(&runs, &c);
    write_run(&runs, &a);
    let dir_b = write_run(&runs, &b);
    write_compare(
        &dir_c,
        &compare_report(
            &b,
            &c,
            &[("full-like", Metric::Phase(crate::results::Phase::Total))],
        ),
    );
    write_compare(&dir_b, &compare_report(&a, &b, &[]));
    let corrupt = runs.join("nightly-broken");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join("run.json"), b"{\"run_id\": ").unwrap();
    tmp
}
