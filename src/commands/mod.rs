//! What each subcommand does at the edge: call the core, print results and errors, choose the
//! exit code (0 ok · 1 run failed · 2 bad input · 3 a check failed · 130 interrupted).

pub mod check;
pub mod cost;
pub mod model;

use std::path::Path;

use crate::cli::{CompareArgs, HistoryArgs, InspectArgs, ReportArgs, RunArgs, ServeArgs};
use crate::compare::{load, load_baseline, save_baseline};
use crate::registry::Registry;
use crate::report;
use crate::results::RunRecord;
use crate::run::{run as run_scenario, RunError};
use check::{conclude, Checks, Conclusion};

/// Writes `text` to stdout; a reader that went away (`| head`) is not an error worth a panic:
/// the run's files are already written.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

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
    let (checks, base) = match run_checks(args) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    match run_scenario(&args.options()).await {
        Ok(outcome) => {
            out(&report::table::render(&outcome.record));
            out(&format!("results: {}\n", outcome.dir.display()));
            if let Err(code) = write_run_files(args, &outcome.record, &outcome.dir, &targets) {
                return code;
            }
            let checks = checks.with_scenario(&outcome.thresholds);
            let conclusion = Conclusion::of(&outcome.record, base.as_ref(), &checks);
            let verdict = conclude(
                &outcome.record,
                &conclusion,
                &checks,
                Some(&outcome.dir),
                None,
            );
            if let Some(name) = &args.save_baseline {
                match save_baseline(&outcome.dir, &args.results_dir, name) {
                    Ok(dir) => out(&format!("baseline {name:?} saved: {}\n", dir.display())),
                    Err(e) => {
                        print_error(&e);
                        return 1;
                    }
                }
            }
            let failures = outcome.failures();
            if failures > 0 {
                eprintln!(
                    "error: {failures} sample(s) failed; see {}/samples.csv",
                    outcome.dir.display()
                );
                1
            } else {
                verdict
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

/// The checks of `run` and its baseline, read before the run so bad input costs nothing.
fn run_checks(args: &RunArgs) -> Result<(Checks, Option<RunRecord>), String> {
    let checks = Checks::from_args(&args.checks)?;
    let base = match &args.baseline {
        Some(name) => Some(load_baseline(&args.results_dir, name).map_err(|e| e.to_string())?),
        None => None,
    };
    if let (None, Some(t)) = (&base, checks.first_relative()) {
        return Err(format!(
            "--threshold {t} is relative to a baseline: add --baseline NAME"
        ));
    }
    if let Some(name) = &args.save_baseline {
        crate::compare::baseline::baseline_dir(&args.results_dir, name)
            .map_err(|e| e.to_string())?;
    }
    Ok((checks, base))
}

/// summary.md, charts, report.html and the run exports; `Err(exit code)` after printing why.
fn write_run_files(
    args: &RunArgs,
    record: &RunRecord,
    dir: &Path,
    targets: &report::ExportTargets,
) -> Result<(), u8> {
    if !args.no_report {
        match report::files::write_report(record, dir) {
            Ok(_) => out(&format!(
                "report:  {}/report.html, summary.md, charts/\n",
                dir.display()
            )),
            Err(e) => {
                print_error(&e);
                return Err(1);
            }
        }
    }
    report::files::write_exports(record, targets).map_err(|e| {
        print_error(&e);
        1
    })
}

/// `coldbench compare BASE NEW`.
pub fn compare(args: &CompareArgs) -> u8 {
    let checks = match Checks::from_args(&args.checks) {
        Ok(c) => c,
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
    };
    if let Some(t) = args.export_markdown.as_deref().filter(|t| *t != "-") {
        if let Err(problem) = crate::report::export::check_target(t) {
            eprintln!("error: --export-markdown {t}: {problem}");
            return 2;
        }
    }
    let (base, new) = match (load(&args.base), load(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            print_error(&e);
            return 2;
        }
    };
    let conclusion = Conclusion::of(&new, Some(&base), &checks);
    let dir = args.new.is_dir().then_some(args.new.as_path());
    conclude(
        &new,
        &conclusion,
        &checks,
        dir,
        args.export_markdown.as_deref(),
    )
}

/// `coldbench history RUNS...`.
pub fn history(args: &HistoryArgs) -> u8 {
    let history = match crate::history::collect(&args.runs) {
        Ok(h) => h,
        Err(e) => {
            print_error(&e);
            return 2;
        }
    };
    for warning in &history.warnings {
        eprintln!("warning: {warning}");
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: creating {}: {e}", args.out.display());
        return 1;
    }
    match crate::report::history::write_history(&history, &args.out) {
        Ok(files) => {
            print!("{}", crate::report::history::render_markdown(&history));
            println!("history: {} files in {}", files.len(), args.out.display());
            0
        }
        Err(e) => {
            print_error(&e);
            1
        }
    }
}

/// `coldbench registry serve`.
pub async fn registry_serve(args: &ServeArgs) -> u8 {
    let config = args.config();
    match serve_checks(&config) {
        Err(message) => {
            eprintln!("error: {message}");
            return 2;
        }
        Ok(Some(warning)) => eprintln!("warning: {warning}"),
        Ok(None) => {}
    }
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

/// The bounds a scenario has, for `registry serve`'s flags; and a warning when the registry
/// (no authentication) listens beyond loopback.
fn serve_checks(config: &crate::registry::RegistryConfig) -> Result<Option<String>, String> {
    use crate::scenario::limits::{MAX_LATENCY, MAX_RATE_BYTES_PER_SEC, MIN_RATE_BYTES_PER_SEC};
    if let Some(rate) = config.bandwidth {
        let bps = rate.bytes_per_sec();
        if !(MIN_RATE_BYTES_PER_SEC..=MAX_RATE_BYTES_PER_SEC).contains(&bps) {
            return Err(format!(
                "--bandwidth {rate}: expected at least 1 kB/s and at most 100 GB/s"
            ));
        }
    }
    if config.latency > MAX_LATENCY {
        return Err(format!(
            "--latency {:?}: expected at most {MAX_LATENCY:?}",
            config.latency
        ));
    }
    Ok((!config.listen.ip().is_loopback()).then(|| {
        format!(
            "listening on {}: this registry has no authentication, so anyone who can reach that address can push and pull; use 127.0.0.1 unless you mean it",
            config.listen
        )
    }))
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

    #[test]
    fn registry_serve_flags_are_bounded_and_open_listeners_warned() {
        use crate::registry::RegistryConfig;
        let at = |listen: &str| RegistryConfig::new("/tmp/s".into(), listen.parse().unwrap());
        assert_eq!(super::serve_checks(&at("127.0.0.1:5000")), Ok(None));
        let open = super::serve_checks(&at("0.0.0.0:5000")).unwrap().unwrap();
        assert!(open.contains("no authentication"), "{open}");
        let slow = RegistryConfig {
            bandwidth: Some("1bit/s".parse().unwrap()),
            ..at("127.0.0.1:5000")
        };
        assert!(super::serve_checks(&slow)
            .unwrap_err()
            .contains("--bandwidth"));
        let late = RegistryConfig {
            latency: std::time::Duration::from_secs(3600),
            ..at("127.0.0.1:5000")
        };
        assert!(super::serve_checks(&late)
            .unwrap_err()
            .contains("--latency"));
    }

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
