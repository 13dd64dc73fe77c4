//! Scenario files: parsing, validation, and errors that point at `file:line:column`.

mod schema;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use schema::{
    BurstSpec, DockerSettings, DockerfileSpec, DriverKind, NodeChoice, Placement, ReadySpec,
    RegistrySettings, ScenarioFile, StepSpec, SynthSpec, VariantSpec,
};

/// A parsed and validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it was read from.
    pub path: PathBuf,
    /// The file's text, kept for the results.
    pub source: String,
    /// Its name (the `name` key or the file's stem).
    pub name: String,
    /// The parsed content.
    pub file: ScenarioFile,
}

/// A scenario that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The scenario file.
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// Dotted path of the offending key (`registry.bandwidth`, `variant[1].name`).
    pub field: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl Scenario {
    /// Reads, parses and validates the scenario at `path`.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let source = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: path.to_path_buf(),
            position: None,
            field: None,
            message: format!("cannot read the scenario file: {e}"),
        })?;
        Scenario::parse(path, source)
    }

    /// Parses and validates scenario text; `path` is used in errors and for the default name.
    pub fn parse(path: &Path, source: String) -> Result<Scenario, ScenarioError> {
        let error =
            |span: Option<Range<usize>>, field: Option<String>, message: String| ScenarioError {
                file: path.to_path_buf(),
                position: span.map(|s| line_column(&source, s.start)),
                field,
                message,
            };
        let deserializer = toml::de::Deserializer::parse(&source)
            .map_err(|e| error(e.span(), None, e.message().trim().to_string()))?;
        let file: ScenarioFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let field = (!field.is_empty() && field != ".").then_some(field);
            let inner = e.into_inner();
            error(inner.span(), field, inner.message().trim().to_string())
        })?;
        let name = scenario_name(&file, path)
            .map_err(|(span, field, message)| error(span, Some(field), message))?;
        validate(&file).map_err(|(span, field, message)| error(span, Some(field), message))?;
        Ok(Scenario {
            path: path.to_path_buf(),
            source,
            name,
            file,
        })
    }
}

type Invalid = (Option<Range<usize>>, String, String);

/// Whether `name` is ASCII letters (lowercase only unless `uppercase`) and digits in parts
/// separated by single `.`, `_` or `-`, at most 64 characters: safe as a directory and image
/// name (no `/`, `\`, `..`, control characters, spaces or leading dot).
fn is_valid_name(name: &str, uppercase: bool) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.split(['.', '_', '-']).all(|part| {
            !part.is_empty()
                && part.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || (uppercase && c.is_ascii_uppercase())
                })
        })
}

/// The scenario's name: the `name` key, else the file's stem; either must be a valid name.
fn scenario_name(file: &ScenarioFile, path: &Path) -> Result<String, Invalid> {
    const ALLOWED: &str =
        "letters and digits, separated by single '.', '_' or '-' (at most 64 characters)";
    if let Some(name) = &file.name {
        let value = name.get_ref();
        if !is_valid_name(value, true) {
            return Err((
                Some(name.span()),
                "name".into(),
                format!("invalid scenario name {value:?}: use {ALLOWED}"),
            ));
        }
        return Ok(value.clone());
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    if !is_valid_name(&stem, true) {
        return Err((
            None,
            "name".into(),
            format!(
                "no name, and the file's stem {stem:?} is not a valid scenario name: add name = \"...\" with {ALLOWED}"
            ),
        ));
    }
    Ok(stem)
}

/// Checks what serde cannot: sources, names, ranges. `source` is the file's text, read again
/// for positions the schema does not keep.
fn validate(file: &ScenarioFile) -> Result<(), Invalid> {
    match *file.driver.get_ref() {
        DriverKind::Docker => {}
        other => {
            return Err((
                Some(file.driver.span()),
                "driver".into(),
                format!(
                    "driver \"{}\" is not available yet; use \"docker\"",
                    format!("{other:?}").to_lowercase()
                ),
            ))
        }
    }
    if let Some(burst) = &file.burst {
        for (value, key, max) in [
            (&burst.nodes, "burst.nodes", 16),
            (&burst.replicas, "burst.replicas", 500),
        ] {
            if !(1..=max).contains(value.get_ref()) {
                return Err((
                    Some(value.span()),
                    key.into(),
                    format!("{key} = {}: expected 1 to {max}", value.get_ref()),
                ));
            }
        }
        if let Some(step) = &burst.step {
            if *step.add.get_ref() == 0 {
                return Err((
                    Some(step.add.span()),
                    "burst.step.add".into(),
                    "burst.step.add = 0: expected at least 1 replica per step".into(),
                ));
            }
        }
        let sockets = file.docker.node_sockets.len();
        if sockets > 0 && sockets != *burst.nodes.get_ref() as usize {
            return Err((
                Some(burst.nodes.span()),
                "docker.node_sockets".into(),
                format!(
                    "{sockets} node_sockets for burst.nodes = {}: give one socket per node",
                    burst.nodes.get_ref()
                ),
            ));
        }
    }
    if file.variants.is_empty() {
        return Err((
            None,
            "variant".into(),
            "no variants: add at least one [[variant]] table".into(),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, v) in file.variants.iter().enumerate() {
        let field = |key: &str| format!("variant[{i}].{key}");
        let name = v.name.get_ref();
        if !is_valid_name(name, false) {
            return Err((
                Some(v.name.span()),
                field("name"),
                format!(
                    "invalid variant name {name:?}: use lowercase letters and digits, separated by single '.', '_' or '-' (at most 64 characters)"
                ),
            ));
        }
        if let Some(first) = seen.insert(name, i) {
            return Err((
                Some(v.name.span()),
                field("name"),
                format!("duplicate variant name {name:?} (also used by variant[{first}]): names must be unique"),
            ));
        }
        let sources = [
            v.synth.is_some(),
            v.dockerfile.is_some(),
            v.image.is_some(),
            v.registry.is_some(),
        ]
        .iter()
        .filter(|&&s| s)
        .count();
        if sources != 1 {
            let what = if sources == 0 {
                "has no image source"
            } else {
                "has more than one image source"
            };
            return Err((
                Some(v.name.span()),
                format!("variant[{i}]"),
                format!("variant {name:?} {what}: give exactly one of synth = {{ size = \"50MB\" }}, dockerfile = {{ context = \"dir\" }}, image = \"name:tag\", registry = \"host:port/repo:tag\""),
            ));
        }
        if let Some(level) = &v.compression_level {
            if *level.get_ref() > 9 {
                return Err((
                    Some(level.span()),
                    field("compression_level"),
                    format!("compression_level = {}: expected 0 to 9", level.get_ref()),
                ));
            }
        }
        if let Some(synth) = &v.synth {
            let layers = *synth.layers.get_ref();
            if !(1..=100).contains(&layers) {
                return Err((
                    Some(synth.layers.span()),
                    field("synth.layers"),
                    format!("layers = {layers}: expected 1 to 100"),
                ));
            }
            let c = *synth.compressibility.get_ref();
            if !(0.0..=0.95).contains(&c) {
                return Err((
                    Some(synth.compressibility.span()),
                    field("synth.compressibility"),
                    format!(
                        "compressibility = {c}: expected a fraction from 0 (random bytes) to 0.95"
                    ),
                ));
            }
        }
        if !v.ready.http.starts_with('/') {
            return Err((
                None,
                field("ready.http"),
                format!(
                    "ready.http = {:?}: expected a path starting with '/'",
                    v.ready.http
                ),
            ));
        }
        if let (Some(port), Some(_)) = (&v.ready.port, &file.burst) {
            return Err((
                Some(port.span()),
                field("ready.port"),
                format!("ready.port = {}: in a burst each replica gets its own free port through the PORT environment variable; remove `port` (the app must listen on $PORT)", port.get_ref()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
