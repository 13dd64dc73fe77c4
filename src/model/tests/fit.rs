//! Calibration: the least-squares fit, the extraction points of real runs, and the fitted
//! model against runs it was and was not fitted on (tests/fixtures/model, measured runs).

use crate::model::fit::{calibrate, fit_extraction, least_squares, ExtractPoint};
use crate::model::predict::{predict_run, FULL_CAPACITY, PULL_P50};
use crate::results::RunRecord;

fn fixture(name: &str) -> RunRecord {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn near(a: f64, b: f64, relative: f64) -> bool {
    (a - b).abs() <= relative * b.abs()
}

/// Exact points of `0.05 + 2e-8 · bytes + 2e-4 · files` give back those coefficients.
#[test]
fn least_squares_recovers_a_known_plane() {
    let truth = [0.05, 2e-8, 2e-4];
    let rows: Vec<([f64; 3], f64)> = [(40e6, 1.0), (5e6, 3.0), (500e6, 11_000.0), (170e6, 3_600.0)]
        .iter()
        .map(|&(bytes, files)| {
            let x = [1.0, bytes, files];
            (x, truth[0] + truth[1] * bytes + truth[2] * files)
        })
        .collect();
    let c = least_squares(&rows);
    for k in 0..3 {
        assert!(near(c[k], truth[k], 1e-6), "{c:?} vs {truth:?}");
    }
}

/// A fit whose intercept would be negative is refitted without it: no parameter is negative.
#[test]
fn a_negative_term_is_dropped() {
    // seconds = bytes / 50 MB/s − 0.1 s: the intercept would be −0.1.
    let rows: Vec<([f64; 3], f64)> = [10e6, 20e6, 40e6]
        .iter()
        .map(|&b| ([1.0, b, 0.0], b / 50e6 - 0.1))
        .collect();
    let c = least_squares(&rows);
    assert_eq!(c[0], 0.0);
    assert!(c[1] > 0.0 && c.iter().all(|x| *x >= 0.0), "{c:?}");
}

/// Layers of one to three files cannot tell a per-file cost from the per-layer overhead.
#[test]
fn few_files_fit_no_per_file_cost() {
    let points: Vec<ExtractPoint> = [(42e6, 1.0, 0.8), (5.6e6, 3.0, 0.2), (1.4e6, 1.0, 0.1)]
        .iter()
        .map(|&(bytes, files, seconds)| ExtractPoint {
            bytes,
            files,
            seconds,
        })
        .collect();
    let fit = fit_extraction(&points);
    assert_eq!(fit.per_file_s, 0.0);
    assert!(fit.rate > 0.0 && fit.rate.is_finite());
}

/// Calibrated on a quickstart run, the model reproduces it within 15 % (the fit's own error),
/// with an extraction rate in the range a 2-core VM gives.
#[test]
fn a_quickstart_calibration_fits_its_own_run() {
    let run = fixture("model/quickstart.json");
    let calibration = calibrate(std::slice::from_ref(&run)).unwrap();
    let p = calibration.params;
    assert!((30e6..150e6).contains(&p.extract_bytes_per_sec), "{p:?}");
    assert_eq!(
        p.extract_file_us, 0.0,
        "synthetic layers hold a file or two"
    );
    assert!(
        p.create_us_per_mb > 0.0,
        "create grows with the image: {p:?}"
    );
    assert_eq!(calibration.fit.len(), 4);
    for row in &calibration.fit {
        assert!(row.error_pct.abs() <= 15.0, "{row:?}");
    }
}

/// Calibrated on quickstart + node-bases, the model predicts the burst run (not used to fit:
/// nodes sharing the host's cores) and the same scenarios measured on another day within 20 %,
/// and the burst's full capacity within 15 %.
#[test]
fn a_calibration_predicts_runs_it_was_not_fitted_on() {
    let runs = [
        fixture("model/quickstart.json"),
        fixture("model/node-bases.json"),
    ];
    let calibration = calibrate(&runs).unwrap();
    let per_file = calibration.params.extract_file_us;
    assert!((100.0..500.0).contains(&per_file), "{per_file} µs per file");
    let held_out = [
        "model/burst.json",
        "run-burst.json",
        "run-quickstart.json",
        "run-node-bases.json",
    ];
    for name in held_out {
        let rows = predict_run(&fixture(name), &calibration.params);
        assert!(!rows.is_empty(), "{name}");
        for row in rows {
            let bound = if row.metric == FULL_CAPACITY {
                15.0
            } else {
                20.0
            };
            assert!(row.error_pct.abs() <= bound, "{name}: {row:?}");
        }
    }
}

/// A burst run is predicted per node (pull) and per burst (full capacity), never faster than
/// its floor.
#[test]
fn burst_predictions_respect_the_wire_floor() {
    let burst = fixture("model/burst.json");
    let calibration = calibrate(&[fixture("model/quickstart.json")]).unwrap();
    let rows = predict_run(&burst, &calibration.params);
    let metrics: Vec<&str> = rows.iter().map(|r| r.metric.as_str()).collect();
    assert_eq!(metrics, [PULL_P50, FULL_CAPACITY, PULL_P50, FULL_CAPACITY]);
    for b in &burst.bursts {
        let floor_s = b.floor_us.unwrap() as f64 / 1e6;
        let row = rows
            .iter()
            .find(|r| r.variant == b.variant && r.metric == FULL_CAPACITY)
            .unwrap();
        assert!(row.modelled_s >= floor_s, "{row:?} below {floor_s} s");
    }
}

/// Simulated runs are refused: a model cannot be calibrated on itself.
#[test]
fn simulated_runs_are_refused() {
    let mut run = fixture("model/quickstart.json");
    run.engine.driver = "sim".into();
    let error = calibrate(&[run]).unwrap_err().to_string();
    assert!(error.contains("simulated run"), "{error}");
}

/// A run without single cold starts (a burst) has nothing to fit.
#[test]
fn bursts_alone_cannot_calibrate() {
    let error = calibrate(&[fixture("model/burst.json")])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no cold, successful single cold start"),
        "{error}"
    );
}
