//! What `run --baseline` and `compare` do after the numbers exist: compare with the baseline,
//! check the thresholds, print the verdict, write compare.json/compare.md and the CI exports,
//! and choose exit 3 when anything regressed or failed.

use std::path::Path;

use crate::cli::CheckArgs;
use crate::compare::threshold::{self, Threshold, ThresholdOutcome};
use crate::compare::{compare, CompareOptions, CompareReport};
use crate::report::export::{check_target, write_bytes};
use crate::report::verdict;
use crate::results::RunRecord;

/// The checks asked for, parsed and with their targets verified (before any run starts).
#[derive(Debug, Clone)]
pub struct Checks {
    /// Thresholds from the command line, then the scenario's.
    pub thresholds: Vec<Threshold>,
    /// The verdict rule.
    pub options: CompareOptions,
    /// `--export-junit`.
    pub junit: Option<String>,
    /// `--export-gab`.
    pub gab: Option<String>,
    /// `--export-bmf`.
    pub bmf: Option<String>,
}

impl Checks {
    /// Parses `--threshold`s and checks every export target; `Err` is the message of an exit 2.
    pub fn from_args(args: &CheckArgs) -> Result<Checks, String> {
        let thresholds = args
            .thresholds
            .iter()
            .map(|t| threshold::parse(t).map_err(|e| format!("--threshold {t:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let flags = [
            ("--export-junit", &args.export_junit),
            ("--export-gab", &args.export_gab),
            ("--export-bmf", &args.export_bmf),
        ];
        for (flag, target) in flags {
            if let Some(t) = target.as_deref().filter(|t| *t != "-") {
                check_target(t).map_err(|problem| format!("{flag} {t}: {problem}"))?;
            }
        }
        Ok(Checks {
            thresholds,
            options: CompareOptions {
                noise: args.noise_threshold,
                ..CompareOptions::default()
            },
            junit: args.export_junit.clone(),
            gab: args.export_gab.clone(),
            bmf: args.export_bmf.clone(),
        })
    }

    /// These checks with the scenario's thresholds after the command line's.
    pub fn with_scenario(mut self, thresholds: &[Threshold]) -> Checks {
        self.thresholds.extend_from_slice(thresholds);
        self
    }

    /// The first relative threshold, which needs a baseline.
    pub fn first_relative(&self) -> Option<&Threshold> {
        self.thresholds.iter().find(|t| t.is_relative())
    }
}

/// The comparison and the threshold results of one run.
#[derive(Debug, Clone)]
pub struct Conclusion {
    /// Against the baseline, when there is one.
    pub compared: Option<CompareReport>,
    /// Every threshold on every variant it applies to.
    pub thresholds: Vec<ThresholdOutcome>,
}

impl Conclusion {
    /// Compares `new` with `base` (if any) and evaluates the thresholds; relative thresholds
    /// are left out without a baseline (said on stderr), so a first night is not a failure.
    pub fn of(new: &RunRecord, base: Option<&RunRecord>, checks: &Checks) -> Conclusion {
        let (relative, absolute): (Vec<Threshold>, Vec<Threshold>) = checks
            .thresholds
            .iter()
            .cloned()
            .partition(|t| t.is_relative());
        let usable = if base.is_some() {
            checks.thresholds.clone()
        } else {
            if !relative.is_empty() {
                eprintln!(
                    "note: {} relative threshold(s) not checked: no baseline to compare with",
                    relative.len()
                );
            }
            absolute
        };
        Conclusion {
            compared: base.map(|b| compare(b, new, &checks.options)),
            thresholds: threshold::evaluate(&usable, new, base),
        }
    }

    /// True when a cell regressed or a threshold did not pass.
    pub fn failed(&self) -> bool {
        let regressed = self
            .compared
            .as_ref()
            .is_some_and(|c| c.regressions().next().is_some());
        regressed || self.thresholds.iter().any(ThresholdOutcome::failed)
    }

    /// The verdict table and the thresholds, for a terminal or as Markdown.
    fn render(&self, format: Format) -> String {
        use verdict::markdown::{render_markdown, render_thresholds_markdown};
        use verdict::table::{render_terminal, render_thresholds};
        match (&self.compared, format) {
            (Some(c), Format::Terminal) => render_terminal(c, &self.thresholds),
            (Some(c), Format::Markdown) => render_markdown(c, &self.thresholds),
            (None, Format::Terminal) => render_thresholds(&self.thresholds),
            (None, Format::Markdown) => render_thresholds_markdown(&self.thresholds),
        }
    }

    /// Whether anything is worth printing.
    fn is_empty(&self) -> bool {
        self.compared.is_none() && self.thresholds.is_empty()
    }
}

/// Where a conclusion is shown.
#[derive(Debug, Clone, Copy)]
enum Format {
    Terminal,
    Markdown,
}

/// Prints the verdict, writes compare.json and compare.md into `dir` (when given) and the
/// exports; returns the exit code: 0, 3 when something regressed or failed, 1 when a file could
/// not be written.
pub fn conclude(
    new: &RunRecord,
    conclusion: &Conclusion,
    checks: &Checks,
    dir: Option<&Path>,
    markdown: Option<&str>,
) -> u8 {
    if !conclusion.is_empty() {
        super::out(&conclusion.render(Format::Terminal));
    }
    if let Err(message) = write_files(new, conclusion, checks, dir, markdown) {
        eprintln!("error: {message}");
        return 1;
    }
    if conclusion.failed() {
        3
    } else {
        0
    }
}

/// compare.json, compare.md and every export asked for.
fn write_files(
    new: &RunRecord,
    conclusion: &Conclusion,
    checks: &Checks,
    dir: Option<&Path>,
    markdown: Option<&str>,
) -> Result<(), String> {
    let write = |bytes: &[u8], target: &str| write_bytes(bytes, target).map_err(|e| e.to_string());
    let md = conclusion.render(Format::Markdown);
    if let Some(dir) = dir {
        if let Some(report) = &conclusion.compared {
            let json = serde_json::to_vec_pretty(report).map_err(|e| e.to_string())?;
            write(&json, &dir.join("compare.json").to_string_lossy())?;
        }
        if !conclusion.is_empty() {
            write(md.as_bytes(), &dir.join("compare.md").to_string_lossy())?;
        }
    }
    if let Some(target) = markdown {
        write(md.as_bytes(), target)?;
    }
    if let Some(target) = &checks.junit {
        let xml = verdict::render_junit(conclusion.compared.as_ref(), &conclusion.thresholds);
        write(xml.as_bytes(), target)?;
    }
    let rows = verdict::metric_rows(new);
    if let Some(target) = &checks.gab {
        write(
            verdict::render_gab(&rows, conclusion.compared.as_ref()).as_bytes(),
            target,
        )?;
    }
    if let Some(target) = &checks.bmf {
        write(verdict::render_bmf(&rows).as_bytes(), target)?;
    }
    Ok(())
}
