//! Named baselines (criterion's idea): a run copied under `<results>/baselines/<NAME>/`, and
//! reading a run back from its directory or its run.json.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::results::RunRecord;

/// Longest baseline name.
pub const MAX_NAME_LEN: usize = 64;
/// Largest run.json read back (a run of 500 replicas × 1,000 repetitions stays far below it).
pub const MAX_RUN_JSON_BYTES: u64 = 512 << 20;

/// Why a baseline or a run could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The name is not usable as a directory name.
    #[error(
        "baseline name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.')"
    )]
    BadName(String),
    /// No baseline of that name.
    #[error("no baseline {name:?} in {dir}: save one first with `coldbench run SCENARIO --save-baseline {name}`")]
    Missing {
        /// The name asked for.
        name: String,
        /// Where baselines live.
        dir: String,
    },
    /// A run could not be read.
    #[error("reading {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong, with what to do.
        cause: String,
    },
    /// Saving failed.
    #[error("saving baseline {name:?} into {path}: {source}")]
    Save {
        /// The baseline's name.
        name: String,
        /// Where it was written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// The directory of baseline `name` under `results_dir`, checking the name.
pub fn baseline_dir(results_dir: &Path, name: &str) -> Result<PathBuf, BaselineError> {
    let usable = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !usable {
        return Err(BaselineError::BadName(name.chars().take(80).collect()));
    }
    Ok(results_dir.join("baselines").join(name))
}

/// Reads baseline `name`; a missing one says how to make it.
pub fn load_baseline(results_dir: &Path, name: &str) -> Result<RunRecord, BaselineError> {
    let dir = baseline_dir(results_dir, name)?;
    if !dir.join("run.json").is_file() {
        return Err(BaselineError::Missing {
            name: name.to_string(),
            dir: results_dir.join("baselines").display().to_string(),
        });
    }
    load(&dir)
}

/// Copies the files of `run_dir` (its top level and `charts/`) into baseline `name`, replacing
/// an earlier one only once the copy is complete.
pub fn save_baseline(
    run_dir: &Path,
    results_dir: &Path,
    name: &str,
) -> Result<PathBuf, BaselineError> {
    let target = baseline_dir(results_dir, name)?;
    let at = |path: &Path| {
        let (name, path) = (name.to_string(), path.to_path_buf());
        move |source| BaselineError::Save { name, path, source }
    };
    let parent = target.parent().unwrap_or(results_dir);
    fs::create_dir_all(parent).map_err(at(parent))?;
    let staging = parent.join(format!(".{name}.saving"));
    let _ = fs::remove_dir_all(&staging);
    copy_dir(run_dir, &staging, 2).map_err(at(&staging))?;
    if target.exists() {
        fs::remove_dir_all(&target).map_err(at(&target))?;
    }
    fs::rename(&staging, &target).map_err(at(&target))?;
    Ok(target)
}

/// Copies regular files and, `depth` levels down, directories (symlinks are skipped).
fn copy_dir(from: &Path, to: &Path, depth: u32) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_file() {
            fs::copy(entry.path(), dest)?;
        } else if kind.is_dir() && depth > 1 {
            copy_dir(&entry.path(), &dest, depth - 1)?;
        }
    }
    Ok(())
}

/// Reads a run from a run directory or a run.json file.
pub fn load(path: &Path) -> Result<RunRecord, BaselineError> {
    let file = if path.is_dir() {
        path.join("run.json")
    } else {
        path.to_path_buf()
    };
    let read = |cause: String| BaselineError::Read {
        path: file.clone(),
        cause,
    };
    let size = fs::metadata(&file)
        .map_err(|e| read(format!("{e} (expected a run directory or its run.json)")))?
        .len();
    if size > MAX_RUN_JSON_BYTES {
        return Err(read(format!(
            "{size} bytes is more than the {MAX_RUN_JSON_BYTES} a run.json may have"
        )));
    }
    let bytes = fs::read(&file).map_err(|e| read(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| read(format!("not a coldbench run.json: {e}")))
}
