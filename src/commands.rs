//! What each subcommand does at the edge: call the core, print results and errors, choose the
//! exit code (0 ok · 1 run failed · 2 bad input · 3 a check failed · 130 interrupted).

use crate::cli::{InspectArgs, ReportArgs, RunArgs, ServeArgs};
use crate::registry::Registry;
use crate::report;
use crate::run::{run as run_scenario, RunError};

fn print_error(e: &dyn std::error::Error) {
    for line in error_lines(e) {
        eprintln!("{line}");
    }
}

/// `error: …` then one `  caused by: …` per source, skipping a cause whose text was already
/// said (a `{0}` or `#[error(transparent)]` repeating its source).
fn error_lines(e: &dyn std::error::Error) -> Vec<String> {
    let mut said = e.to_string();
    let mut lines = vec![format!("error: {said}")];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !said.contains(&text) {
            lines.push(format!("  caused by: {text}"));
            said.push('\n');
            said.push_str(&text);
        }
        source = s.source();
    }
    lines
}

/// `coldbench run`.
pub async fn run(args: &RunArgs) -> u8 {
    let targets = args.exports.targets();
    if let Err(e) = targets.check() {
        print_error(&e);
        return 2;
    }
    match run_scenario(&args.options()).await {
        Ok(outcome) => {
            print!("{}", report::table::render(&outcome.record));
            println!("results: {}", outcome.dir.display());
            if !args.no_report {
                match report::files::write_report(&outcome.record, &outcome.dir) {
                    Ok(_) => println!(
                        "report:  {}/report.html, summary.md, charts/",
                        outcome.dir.display()
                    ),
                    Err(e) => {
                        print_error(&e);
                        return 1;
                    }
                }
            }
            if let Err(e) = report::files::write_exports(&outcome.record, &targets) {
                print_error(&e);
                return 1;
            }
            let failures = outcome.failures();
            if failures > 0 {
                eprintln!(
                    "error: {failures} sample(s) failed; see {}/samples.csv",
                    outcome.dir.display()
                );
                1
            } else {
                0
            }
        }
        Err(e @ RunError::Interrupted { .. }) => {
            eprintln!("{e}");
            130
        }
        Err(e) => {
            print_error(&e);
            e.exit_code() as u8
        }
    }
}

/// `coldbench registry serve`.
pub async fn registry_serve(args: &ServeArgs) -> u8 {
    let config = args.config();
    let registry = match Registry::start(config.clone()).await {
        Ok(r) => r,
        Err(e) => {
            print_error(&e);
            return 1;
        }
    };
    let bandwidth = config
        .bandwidth
        .map_or("unlimited".to_string(), |b| b.to_string());
    eprintln!(
        "coldbench registry: serving {} on http://{} (egress {bandwidth}, latency {:?}); Ctrl-C stops",
        config.store_dir.display(),
        registry.addr(),
        config.latency
    );
    let _ = tokio::signal::ctrl_c().await;
    registry.shutdown().await;
    0
}

/// `coldbench hello-binary --output PATH`: the static entrypoint of synthetic images.
pub fn hello_binary(output: &std::path::Path) -> u8 {
    use std::os::unix::fs::PermissionsExt;
    if crate::image::HELLO_BINARY.is_empty() {
        print_error(&crate::image::ImageError::NoHelloBinary);
        return 1;
    }
    let written = std::fs::write(output, crate::image::HELLO_BINARY)
        .and_then(|()| std::fs::set_permissions(output, std::fs::Permissions::from_mode(0o755)));
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: writing {}: {e}", output.display());
            1
        }
    }
}

/// `coldbench inspect`: prepares one image into a temporary store and shows its anatomy.
pub async fn inspect(args: &InspectArgs) -> u8 {
    match crate::inspect::inspect(&args.options()).await {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            print_error(e.as_ref());
            2
        }
    }
}

/// `coldbench report RUN_DIR`: the report of an earlier run, from its run.json.
pub fn report(args: &ReportArgs) -> u8 {
    let record = match report::files::load_run(&args.run_dir) {
        Ok(r) => r,
        Err(e) => {
            print_error(&e);
            return 2;
        }
    };
    let out = args.out.clone().unwrap_or_else(|| args.run_dir.clone());
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: creating {}: {e}", out.display());
        return 1;
    }
    match report::files::write_report(&record, &out) {
        Ok(files) => eprintln!("wrote {} files into {}", files.len(), out.display()),
        Err(e) => {
            print_error(&e);
            return 1;
        }
    }
    if let Err(e) = report::files::write_exports(&record, &args.exports.targets()) {
        print_error(&e);
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::error_lines;

    #[derive(Debug, thiserror::Error)]
    #[error("reading x: {0}")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("reading x")]
    struct Plain(#[source] std::io::Error);

    #[test]
    fn print_error_skips_a_cause_already_said() {
        let e = Outer(std::io::Error::other("gone"));
        assert_eq!(error_lines(&e), ["error: reading x: gone"]);
        let e = Plain(std::io::Error::other("gone"));
        assert_eq!(error_lines(&e), ["error: reading x", "  caused by: gone"]);
    }
}
