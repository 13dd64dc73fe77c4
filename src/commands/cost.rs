//! `coldbench cost FILE`: load, calculate, print the table (or JSON), write cost.md,
//! cost.json and charts/cost.svg|png. Exit 2 on a bad file, 1 when writing fails.

use std::path::Path;

use crate::cli::CostArgs;
use crate::cost::render::{render_markdown, render_table};
use crate::cost::{calculate, load, CostResult};
use crate::report::charts::cost_chart;

/// Runs `coldbench cost`; returns the exit code.
pub fn cost(args: &CostArgs) -> u8 {
    let loaded = match load(&args.file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let result = calculate(&loaded);
    let json = match serde_json::to_string_pretty(&result) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: serializing the result: {e}");
            return 1;
        }
    };
    if args.json {
        println!("{json}");
    } else {
        print!("{}", render_table(&result));
    }
    match write_files(&result, &json, &args.out) {
        Ok(()) => {
            eprintln!(
                "cost: cost.md, cost.json and charts/cost.svg|png in {}",
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
fn write_files(result: &CostResult, json: &str, out: &Path) -> Result<(), String> {
    let charts = out.join("charts");
    std::fs::create_dir_all(&charts).map_err(|e| format!("creating {}: {e}", charts.display()))?;
    let chart = cost_chart(result).map_err(|e| e.to_string())?;
    let markdown = render_markdown(result);
    let files: [(std::path::PathBuf, &[u8]); 4] = [
        (out.join("cost.md"), markdown.as_bytes()),
        (out.join("cost.json"), json.as_bytes()),
        (charts.join("cost.svg"), chart.svg.as_bytes()),
        (charts.join("cost.png"), &chart.png),
    ];
    for (path, bytes) in files {
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}
