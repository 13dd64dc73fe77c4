//! The files a cost file may name besides its prices: the model's calibration and a measured
//! run, each from the `[cost]` key (relative to the file) or the command line.

use std::path::{Path, PathBuf};

use super::input::CostInput;
use super::load::{beside, referenced, CostError};
use super::result::Provenance;
use crate::compare::baseline::BaselineError;
use crate::located::{FileError, Located};
use crate::model::calibration::Calibration;
use crate::model::ModelParams;
use crate::results::RunRecord;

/// The burst model in force: its parameters and where they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstModel {
    /// The parameters.
    pub params: ModelParams,
    /// [`Provenance::Calibrated`] or [`Provenance::Uncalibrated`].
    pub provenance: Provenance,
    /// The calibration file, when there is one.
    pub calibration: Option<PathBuf>,
}

/// Files given on the command line instead of the `[cost]` keys (paths as given).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--calibration FILE`.
    pub calibration: Option<PathBuf>,
    /// `--run DIR`.
    pub run: Option<PathBuf>,
}

/// The calibration named by `--calibration` or `calibration = "…"` (returned too, for its
/// images), else the model's defaults.
pub(super) fn burst_model(
    input: &CostInput,
    overrides: &Overrides,
    at: &Located,
) -> Result<(BurstModel, Option<Calibration>), CostError> {
    let path = match (&overrides.calibration, &input.calibration) {
        (Some(p), _) => p.clone(),
        (None, Some(key)) => {
            let p = beside(at.path, key.get_ref());
            if !p.is_file() {
                let e = FileError {
                    file: p,
                    position: None,
                    field: None,
                    message: "no such calibration file (write one with `coldbench calibrate`)"
                        .into(),
                };
                return Err(referenced(at, key, "cost.calibration", &e));
            }
            p
        }
        (None, None) => {
            let model = BurstModel {
                params: ModelParams::default(),
                provenance: Provenance::Uncalibrated,
                calibration: None,
            };
            return Ok((model, None));
        }
    };
    let calibration = Calibration::load(&path).map_err(|mut e| {
        if overrides.calibration.is_some() && e.field.is_none() {
            e.field = Some("--calibration".into());
        }
        e
    })?;
    let model = BurstModel {
        params: calibration.params,
        provenance: Provenance::Calibrated,
        calibration: Some(path),
    };
    Ok((model, Some(calibration)))
}

/// The run named by `--run` or `run = "…"`, with its path as shown.
pub(super) fn run_of(
    input: &CostInput,
    overrides: &Overrides,
    at: &Located,
) -> Result<Option<(RunRecord, String)>, CostError> {
    let read = |p: &Path| {
        crate::compare::baseline::load(p).map_err(|e| match e {
            BaselineError::Read { cause, .. } => cause,
            other => other.to_string(),
        })
    };
    match (&overrides.run, &input.run) {
        (Some(p), _) => read(p)
            .map(|r| Some((r, p.display().to_string())))
            .map_err(|cause| FileError {
                file: p.clone(),
                position: None,
                field: Some("--run".into()),
                message: cause,
            }),
        (None, Some(key)) => {
            let p = beside(at.path, key.get_ref());
            read(&p)
                .map(|r| Some((r, key.get_ref().clone())))
                .map_err(|cause| {
                    at.error(
                        Some(key.span()),
                        Some("cost.run"),
                        &format!(
                            "{}: {cause}; give a path relative to this file",
                            p.display()
                        ),
                    )
                })
        }
        (None, None) => Ok(None),
    }
}
