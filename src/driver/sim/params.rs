//! A simulated run's parameters: `[sim] calibration` (or `--calibration`) read with
//! [`Calibration::load`], else the model's uncalibrated defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::located::{line_column, FileError};
use crate::model::calibration::{Calibration, ImageEntry};
use crate::model::ModelParams;
use crate::results::Simulation;
use crate::scenario::Scenario;

/// What [`Simulation::model`] says without a calibration.
pub const UNCALIBRATED: &str = "uncalibrated defaults";

/// Run ids named in the model's label before `and N more`.
const RUNS_SHOWN: usize = 3;

/// The parameters and where they came from.
#[derive(Debug, Clone)]
pub struct Model {
    /// What run.json records.
    pub simulation: Simulation,
    /// The calibration, when there is one, with the path it was read from.
    pub calibration: Option<(Calibration, PathBuf)>,
}

impl Model {
    /// The calibration's images and its path, when there is a calibration.
    pub fn images(&self) -> Option<(&BTreeMap<String, ImageEntry>, &Path)> {
        self.calibration
            .as_ref()
            .map(|(c, path)| (&c.images, path.as_path()))
    }
}

/// The calibration named by `cli` (relative to the working directory) or by the scenario's
/// `[sim] calibration` (relative to the scenario), else the defaults.
/// `shared_cores` (`--shared-cores`) replaces `[sim] shared_cores`; either sets the parameter.
pub fn load(
    scenario: &Scenario,
    cli: Option<&Path>,
    shared_cores: Option<f64>,
) -> Result<Model, FileError> {
    let mut model = load_params(scenario, cli)?;
    let from_scenario = scenario.file.sim.as_ref().and_then(|s| s.shared_cores);
    let shared = shared_cores.or(from_scenario);
    model.simulation.params.shared_cores = shared.or(model.simulation.params.shared_cores);
    Ok(model)
}

/// The calibration's parameters, or the defaults.
fn load_params(scenario: &Scenario, cli: Option<&Path>) -> Result<Model, FileError> {
    let Some((path, shown)) = calibration_path(scenario, cli) else {
        return Ok(Model {
            simulation: Simulation {
                model: UNCALIBRATED.into(),
                calibration: None,
                params: ModelParams::default(),
            },
            calibration: None,
        });
    };
    let calibration = Calibration::load(&path).map_err(|e| locate(scenario, cli, &path, e))?;
    Ok(Model {
        simulation: Simulation {
            model: label(&calibration),
            calibration: Some(shown),
            params: calibration.params,
        },
        calibration: Some((calibration, path)),
    })
}

/// The path to read and the path as given.
fn calibration_path(scenario: &Scenario, cli: Option<&Path>) -> Option<(PathBuf, String)> {
    if let Some(path) = cli {
        return Some((path.to_path_buf(), path.display().to_string()));
    }
    let given = scenario.file.sim.as_ref()?.calibration.as_ref()?.get_ref();
    Some((relative_to(scenario, given), given.clone()))
}

/// `given` relative to the scenario's directory.
pub fn relative_to(scenario: &Scenario, given: &str) -> PathBuf {
    scenario.path.parent().unwrap_or(Path::new("")).join(given)
}

/// A calibration that cannot be read at all is the scenario's error, at `[sim] calibration`;
/// one that is malformed keeps its own `file:line:col`.
fn locate(scenario: &Scenario, cli: Option<&Path>, path: &Path, e: FileError) -> FileError {
    let key = scenario
        .file
        .sim
        .as_ref()
        .and_then(|s| s.calibration.as_ref());
    match (e.position, cli, key) {
        (None, None, Some(key)) => FileError {
            file: scenario.path.clone(),
            position: Some(line_column(&scenario.source, key.span().start)),
            field: Some("sim.calibration".into()),
            message: format!(
                "{}: {}; give the path of a calibration.toml written by `coldbench calibrate`, relative to the scenario",
                path.display(),
                e.message
            ),
        },
        (None, Some(_), _) => FileError {
            message: format!(
                "{} (--calibration): give a calibration.toml written by `coldbench calibrate`",
                e.message
            ),
            ..e
        },
        _ => e,
    }
}

/// `calibrated on run-a, run-b (docker 20.10.24 · overlay2 · fresh)`.
fn label(calibration: &Calibration) -> String {
    let runs = &calibration.runs;
    let mut shown = runs
        .iter()
        .take(RUNS_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if runs.len() > RUNS_SHOWN {
        shown.push_str(&format!(" and {} more", runs.len() - RUNS_SHOWN));
    }
    if shown.is_empty() {
        shown = "no named runs".into();
    }
    format!("calibrated on {shown} ({})", calibration.engine)
}
