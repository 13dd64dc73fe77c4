//! `coldbench calibrate` and `coldbench predict`: fit the cold-start model on measured runs,
//! and show it against runs it was not fitted on. Exit 2 on bad input, 1 when writing fails.

use std::path::{Path, PathBuf};

use crate::cli::{CalibrateArgs, PredictArgs};
use crate::compare::load;
use crate::model::calibration::{Calibration, FitRow};
use crate::model::fit::calibrate as fit;
use crate::model::predict::predict_run;
use crate::report::export::write_bytes;
use crate::report::prediction::{render_markdown, render_table};
use crate::results::RunRecord;

/// Runs `coldbench calibrate`; returns the exit code.
pub fn calibrate(args: &CalibrateArgs) -> u8 {
    let records = match load_all(&args.runs) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let calibration = match fit(&records) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Err(e) = write_atomically(&args.out, calibration.to_toml().as_bytes()) {
        eprintln!(
            "error: writing {}: {e}; check that its directory exists and is writable",
            args.out.display()
        );
        return 1;
    }
    print!("{}", describe(&calibration));
    print!("{}", render_table(&calibration.fit));
    eprintln!("calibration: {}", args.out.display());
    0
}

/// Runs `coldbench predict`; returns the exit code.
pub fn predict(args: &PredictArgs) -> u8 {
    let calibration = match Calibration::load(&args.calibration) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let records = match load_all(&args.runs) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if let Some(r) = records.iter().find(|r| r.engine.driver == "sim") {
        eprintln!(
            "error: {} is a simulated run: predict measured runs (a simulated one is the model itself)",
            r.run_id
        );
        return 2;
    }
    let rows: Vec<FitRow> = records
        .iter()
        .flat_map(|r| predict_run(r, &calibration.params))
        .collect();
    if rows.is_empty() {
        eprintln!("error: nothing to predict: the runs have no summarized single cold start or measured burst");
        return 2;
    }
    println!(
        "model calibrated on {} ({})",
        calibration.runs.join(", "),
        calibration.engine
    );
    print!("{}", render_table(&rows));
    if let Some(target) = &args.export_markdown {
        if let Err(e) = write_bytes(render_markdown(&rows).as_bytes(), target) {
            eprintln!("error: {e}");
            return 1;
        }
    }
    0
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<RunRecord>, u8> {
    paths
        .iter()
        .map(|p| {
            load(p).map_err(|e| {
                eprintln!("error: {e}");
                2
            })
        })
        .collect()
}

/// The fitted parameters in a few lines.
fn describe(c: &Calibration) -> String {
    let p = &c.params;
    format!(
        "calibrated on {} ({})\n  extraction {:.1} MB/s of uncompressed layer + {:.1} ms per layer{}; pull overhead {:.1} ms\n  create {:.1} ms + {:.2} ms per MB of image · start {:.1} ms · first request {:.2} ms\n",
        c.runs.join(", "),
        c.engine,
        p.extract_bytes_per_sec / 1e6,
        p.extract_overhead_us as f64 / 1e3,
        per_file(p.extract_file_us),
        p.pull_overhead_us as f64 / 1e3,
        p.create_us as f64 / 1e3,
        p.create_us_per_mb / 1e3,
        p.start_us as f64 / 1e3,
        p.first_request_us as f64 / 1e3,
    )
}

/// ` + 0.226 ms per file`, or why there is none.
fn per_file(us: f64) -> String {
    if us > 0.0 {
        format!(" + {:.3} ms per file", us / 1e3)
    } else {
        " (no per-file cost: no layer of these runs has many files)".to_string()
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
