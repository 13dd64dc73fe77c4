//! `coldbench cost FILE`: load (a cost file or a scenario's `[cost]`), apply the what-ifs,
//! calculate, print the table (or JSON), write cost.md, cost.json and charts/cost.svg|png; with
//! `--sweep` also the sweep's table, sweep.md, sweep.json and charts/sweep.svg|png. Exit 2 on a
//! bad file, 1 when writing fails.

use std::path::{Path, PathBuf};

use crate::cli::CostArgs;
use crate::cost::render::{render_markdown, render_table};
use crate::cost::render_sweep::{render_sweep_markdown, render_sweep_table};
use crate::cost::sweep::{sweep, SweepResult};
use crate::cost::whatif::apply;
use crate::cost::{calculate, load_with, CostResult, Overrides};
use crate::report::charts::{cost_chart, sweep_chart};

/// Runs `coldbench cost`; returns the exit code.
pub fn cost(args: &CostArgs) -> u8 {
    let overrides = Overrides {
        calibration: args.calibration.clone(),
        run: args.run.clone(),
    };
    let mut loaded = match load_with(&args.file, &overrides) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for w in &args.what_if {
        apply(&mut loaded, w);
    }
    let result = calculate(&loaded);
    let swept = args
        .sweep
        .as_ref()
        .map(|spec| sweep(&loaded, spec, args.steps as usize));
    let serialized = serde_json::to_string_pretty(&result).and_then(|c| {
        let s = swept
            .as_ref()
            .map(serde_json::to_string_pretty)
            .transpose()?;
        Ok((c, s))
    });
    let (cost_json, sweep_json) = match serialized {
        Ok(both) => both,
        Err(e) => {
            eprintln!("error: serializing the result: {e}");
            return 1;
        }
    };
    if args.json {
        match &sweep_json {
            Some(s) => println!("{{\n\"cost\": {cost_json},\n\"sweep\": {s}\n}}"),
            None => println!("{cost_json}"),
        }
    } else {
        print!("{}", render_table(&result));
        if let Some(s) = &swept {
            println!();
            print!("{}", render_sweep_table(s));
        }
    }
    let written =
        write_cost(&result, &cost_json, &args.out).and_then(|()| match (&swept, &sweep_json) {
            (Some(s), Some(j)) => write_sweep(s, j, &args.out),
            _ => Ok(()),
        });
    match written {
        Ok(()) => {
            let extra = if swept.is_some() {
                ", sweep.md, sweep.json and charts/sweep.svg|png"
            } else {
                ""
            };
            eprintln!(
                "cost: cost.md, cost.json, charts/cost.svg|png{extra} in {}",
                args.out.display()
            );
            0
        }
        Err(message) => {
            eprintln!("error: {message}; check that the --out directory is writable");
            1
        }
    }
}

/// cost.md, cost.json and the chart into `out`.
fn write_cost(result: &CostResult, json: &str, out: &Path) -> Result<(), String> {
    let chart = cost_chart(result).map_err(|e| e.to_string())?;
    let markdown = render_markdown(result);
    write_all(
        out,
        &[
            (PathBuf::from("cost.md"), markdown.as_bytes()),
            (PathBuf::from("cost.json"), json.as_bytes()),
            (PathBuf::from("charts/cost.svg"), chart.svg.as_bytes()),
            (PathBuf::from("charts/cost.png"), &chart.png),
        ],
    )
}

/// sweep.md, sweep.json and the line chart into `out`.
fn write_sweep(result: &SweepResult, json: &str, out: &Path) -> Result<(), String> {
    let chart = sweep_chart(result).map_err(|e| e.to_string())?;
    let markdown = render_sweep_markdown(result);
    write_all(
        out,
        &[
            (PathBuf::from("sweep.md"), markdown.as_bytes()),
            (PathBuf::from("sweep.json"), json.as_bytes()),
            (PathBuf::from("charts/sweep.svg"), chart.svg.as_bytes()),
            (PathBuf::from("charts/sweep.png"), &chart.png),
        ],
    )
}

/// Each (path under `out`, bytes), creating `out/charts`.
fn write_all(out: &Path, files: &[(PathBuf, &[u8])]) -> Result<(), String> {
    let charts = out.join("charts");
    std::fs::create_dir_all(&charts).map_err(|e| format!("creating {}: {e}", charts.display()))?;
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}
