//! Analysis tests: the percentile definition, which samples are summarized, relative speed,
//! bursts; on hand-made samples and on the real fixtures.

use super::percentile::{percentile, rank};
use super::*;
use crate::results::{Outcome, Phase, PhaseTimes, Sample};

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn sample(variant: &str, total: u64) -> Sample {
    Sample {
        index: 0,
        repetition: 0,
        variant: variant.into(),
        warmup: false,
        node: 0,
        started_at: String::new(),
        phases: PhaseTimes {
            pull_us: Some(total / 2),
            create_us: Some(10),
            start_us: Some(20),
            first_request_us: Some(30),
            total_us: Some(total),
        },
        blob_bytes: 0,
        manifest_bytes: 0,
        expected_bytes: 0,
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

fn failed(mut s: Sample) -> Sample {
    s.outcome = Outcome::Failed {
        phase: Phase::Start,
        message: "boom".into(),
    };
    s
}

#[test]
fn percentile_is_nearest_rank_at_three_figures() {
    assert_eq!(percentile(&[], 0.5), None);
    assert_eq!(percentile(&[7], 0.5), Some(7));
    assert_eq!(percentile(&[30, 10, 20], 0.5), Some(20));
    // Even counts: the lower middle value.
    assert_eq!(percentile(&[40, 10, 30, 20], 0.5), Some(20));
    assert_eq!(percentile(&[10, 20, 30, 40], 0.95), Some(40));
    assert_eq!(percentile(&[10, 20, 30, 40], 0.0), Some(10));
    // 2 000 000 µs lies in a bucket 1024 µs wide: reported as its highest equivalent value.
    let p = percentile(&[1_000_000, 2_000_000, 3_000_000], 0.5);
    assert_eq!(p, Some(2_000_895));
    // Zero is recorded as 1 µs.
    assert_eq!(percentile(&[0], 0.5), Some(1));
}

#[test]
fn rank_matches_the_percentile() {
    assert_eq!(rank(0, 0.5), None);
    assert_eq!(rank(1, 0.5), Some(0));
    assert_eq!(rank(3, 0.5), Some(1));
    assert_eq!(rank(4, 0.5), Some(1));
    assert_eq!(rank(5, 0.95), Some(4));
    assert_eq!(rank(4, 0.0), Some(0));
    assert_eq!(rank(4, f64::NAN), Some(0));
    let values = [5, 1, 4, 2, 3, 9];
    let mut sorted = values;
    sorted.sort_unstable();
    for q in [0.0, 0.25, 0.5, 0.9, 0.95, 1.0] {
        let at = rank(values.len(), q).map(|i| sorted[i]);
        assert_eq!(percentile(&values, q), at, "q = {q}");
    }
}

#[test]
fn recorder_skips_warmups_failures_and_not_cold() {
    let mut r = Recorder::new();
    for t in [1_000_000, 2_000_000, 3_000_000] {
        r.record(&sample("a", t));
    }
    let mut warm = sample("a", 99_000_000);
    warm.warmup = true;
    r.record(&warm);
    r.record(&failed(sample("a", 99_000_000)));
    let mut not_cold = sample("a", 99_000_000);
    not_cold.cold = false;
    r.record(&not_cold);
    let s = r.summary("a", Phase::Total).unwrap();
    assert_eq!(s.count, 3);
    assert_eq!(s.p50, 2_000_895);
    assert!((s.max as f64 - 3e6).abs() / 3e6 < 0.001, "{s:?}");
    assert!(r.summary("b", Phase::Total).is_none());
    assert!(r.serialized()["a"].contains_key("total"));
}

/// The quickstart fixture with `edit` applied to the first sample of `full-like`.
fn quickstart_with(edit: impl FnOnce(&mut Sample)) -> (RunRecord, Analysis) {
    let mut record = fixture("run-quickstart");
    let s = record
        .samples
        .iter_mut()
        .find(|s| s.variant == "full-like")
        .unwrap();
    edit(s);
    let a = analyze(&record);
    (record, a)
}

#[test]
fn not_cold_samples_are_excluded_and_warned() {
    let (_, a) = quickstart_with(|s| s.cold = false);
    let v = a.variant("full-like").unwrap();
    assert_eq!(v.counts.not_cold, 1);
    assert_eq!(v.counts.measured, 3);
    assert_eq!(v.counts.summarized(), 2);
    // The stored histograms held 3 values: recomputed from the 2 cold samples.
    assert_eq!(v.phase(Phase::Total).unwrap().count, 2);
    assert_eq!(
        a.warnings,
        [Warning::NotCold {
            variant: "full-like".into(),
            count: 1
        }]
    );
    let text = a.warnings[0].to_string();
    assert!(text.starts_with("full-like: 1 sample moved"), "{text}");
    assert!(text.contains("excluded from the summaries"), "{text}");
}

#[test]
fn warmups_are_excluded_without_warning() {
    let (_, a) = quickstart_with(|s| s.warmup = true);
    let v = a.variant("full-like").unwrap();
    assert_eq!((v.counts.measured, v.counts.warmup), (2, 1));
    assert_eq!(v.phase(Phase::Pull).unwrap().count, 2);
    assert!(a.warnings.is_empty());
}

#[test]
fn failed_samples_are_counted_and_warned() {
    let (_, a) = quickstart_with(|s| *s = failed(s.clone()));
    let v = a.variant("full-like").unwrap();
    assert_eq!((v.counts.failed, v.counts.ok), (1, 2));
    assert_eq!(v.phase(Phase::Total).unwrap().count, 2);
    assert_eq!(
        a.warnings[0].to_string(),
        "full-like: 1 sample failed (see samples.csv)"
    );
}

#[test]
fn stored_histograms_and_samples_agree() {
    for name in ["run-quickstart", "run-burst", "run-node-bases"] {
        let mut record = fixture(name);
        let stored = analyze(&record);
        record.histograms.clear();
        assert_eq!(analyze(&record), stored, "{name}");
    }
}

#[test]
fn garbled_histograms_fall_back_to_the_samples() {
    let mut record = fixture("run-quickstart");
    let expected = analyze(&record);
    // A V2 cookie with a 4 GB payload length, and plain garbage.
    let huge = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        [0x1c, 0x84, 0x93, 0x03, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0],
    );
    for (i, phases) in record.histograms.values_mut().enumerate() {
        for text in phases.values_mut() {
            *text = if i == 0 {
                huge.clone()
            } else {
                "~~not base64~~".into()
            };
        }
    }
    assert_eq!(analyze(&record), expected);
}

#[test]
fn relative_speed_against_the_fastest() {
    let a = analyze(&fixture("run-quickstart"));
    let fast = a.variant("static-like").unwrap();
    let slow = a.variant("full-like").unwrap();
    let r = fast.relative.unwrap();
    assert_eq!((r.ratio, r.spread), (1.0, None));
    let r = slow.relative.unwrap();
    let (s, f) = (
        slow.phase(Phase::Total).unwrap(),
        fast.phase(Phase::Total).unwrap(),
    );
    assert_eq!(r.ratio, s.p50 as f64 / f.p50 as f64);
    assert!(r.spread.unwrap() > 0.0);
    let c = a.comparison.unwrap();
    assert_eq!(
        (c.fastest.as_str(), c.slowest.as_str()),
        ("static-like", "full-like")
    );
    assert_eq!(c.times, r.ratio);
}

#[test]
fn burst_times_floor_uses_the_burst_floor() {
    let record = fixture("run-burst");
    let a = analyze(&record);
    let v = a.variant("big").unwrap();
    let b = v.burst.as_ref().unwrap();
    let wire = record.variants.iter().find(|v| v.name == "big").unwrap();
    // 3 nodes × 60 015 532 B over a shared 50 MB/s egress.
    assert_eq!(b.floor_us, Some(3_600_931));
    assert_ne!(wire.wire_floor_us, b.floor_us);
    let full = b.full_ready_p50_us.unwrap();
    assert_eq!(b.full_x_floor, Some(full as f64 / 3_600_931.0));
    assert_eq!(
        v.pull_floor,
        Some(Floor {
            us: 3_600_931,
            kind: FloorKind::Burst
        })
    );
    let pull = v.phase(Phase::Pull).unwrap().p50;
    assert_eq!(v.pull_x_floor, Some(pull as f64 / 3_600_931.0));
    assert_eq!(
        (b.replicas, b.nodes, b.bursts, b.failed_replicas),
        (9, 3, 2, 0)
    );
    // The p50 of two bursts is the lower one, at 3 significant figures.
    assert_eq!(
        b.first_ready_p50_us,
        percentile(&[6_564_717, 6_636_445], 0.5)
    );
    assert_eq!(
        burst_floor_us(3, 60_015_532, Some(50e6), None),
        Some(3_600_931)
    );
}

#[test]
fn burst_floor_is_the_larger_limit() {
    assert_eq!(burst_floor_us(4, 100_000_000, None, None), None);
    // Egress: 4 × 100 MB / 100 MB/s = 4 s; downlink: 100 MB / 50 MB/s = 2 s.
    assert_eq!(
        burst_floor_us(4, 100_000_000, Some(100e6), Some(50e6)),
        Some(4_000_000)
    );
    assert_eq!(
        burst_floor_us(1, 100_000_000, Some(100e6), Some(25e6)),
        Some(4_000_000)
    );
    assert_eq!(
        burst_floor_us(2, 1_000, Some(0.0), Some(f64::NAN)),
        None,
        "zero and NaN rates are unlimited"
    );
}

/// A burst replica requested at `requested` (µs) that became ready at `ready`.
fn replica(requested: u64, ready: Option<u64>) -> Sample {
    let mut s = sample("a", 1);
    s.requested_at_us = Some(requested);
    s.ready_at_us = ready;
    s.finished_at_us = ready;
    s
}

#[test]
fn milestones_of_four_replicas() {
    let replicas = [
        replica(0, Some(3_000_000)),
        replica(0, Some(1_000_000)),
        replica(500_000, Some(2_500_000)),
        replica(500_000, Some(4_000_000)),
    ];
    let m = burst_milestones(&replicas);
    assert_eq!(m.first_ready_us, Some(1_000_000));
    assert_eq!(m.half_ready_us, Some(2_500_000));
    assert_eq!(m.full_ready_us, Some(4_000_000));
    // 3 + 1 + 2 + 3.5 replica-seconds.
    assert!((m.capacity_seconds_lost - 9.5).abs() < 1e-9, "{m:?}");
}

#[test]
fn a_failed_replica_is_lost_until_the_window_ends() {
    let mut gave_up = failed(replica(1_000_000, None));
    gave_up.finished_at_us = Some(5_000_000);
    // A failed replica that still reports a ready time never counts as ready.
    let mut broken = failed(replica(0, Some(500_000)));
    broken.finished_at_us = Some(600_000);
    let replicas = [replica(0, Some(2_000_000)), gave_up, broken];
    let m = burst_milestones(&replicas);
    assert_eq!(m.first_ready_us, Some(2_000_000));
    assert_eq!(m.half_ready_us, None, "2 of 3 needed, 1 ready");
    assert_eq!(m.full_ready_us, None);
    // 2 s ready + 4 s (1 s → window end 5 s) + 5 s (0 → 5 s).
    assert!((m.capacity_seconds_lost - 11.0).abs() < 1e-9, "{m:?}");
}

#[test]
fn full_capacity_needs_every_replica() {
    let replicas = [
        replica(0, Some(1_000_000)),
        replica(0, Some(2_000_000)),
        failed(replica(0, None)),
    ];
    let m = burst_milestones(&replicas);
    assert_eq!(m.half_ready_us, Some(2_000_000));
    assert_eq!(m.full_ready_us, None);
    // Without finished_at_us the window ends at the last ready replica: 1 + 2 + 2.
    assert!((m.capacity_seconds_lost - 5.0).abs() < 1e-9, "{m:?}");
    assert_eq!(burst_milestones(&[]), Milestones::default());
}

#[test]
fn probe_gaps_summarize_only_samples_with_a_gap() {
    use crate::results::ProbeRecord;
    let probed = |gap_us: Option<u64>| {
        let mut s = sample("a", 1000);
        s.probe = Some(ProbeRecord {
            attempts: if gap_us.is_some() { 3 } else { 1 },
            gap_us,
        });
        s
    };
    let samples = [
        probed(Some(300)),
        probed(Some(900)),
        probed(None),
        sample("a", 1000),
    ];
    let refs: Vec<&Sample> = samples.iter().collect();
    let g = ProbeGaps::of(&refs).unwrap();
    assert_eq!((g.samples, g.p50_us, g.max_us), (2, 300, 900));
    assert_eq!(
        ProbeGaps::of(&refs[2..]),
        None,
        "no gap recorded: nothing to show"
    );
}
