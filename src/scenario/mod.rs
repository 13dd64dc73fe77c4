//! Scenario files: parsing, validation, and errors that point at `file:line:column`.

mod checked;
pub mod faults;
pub mod kube;
pub mod limits;
mod schema;
pub mod sockets;
mod thresholds;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::compare::threshold::Threshold;
use crate::located::{line_column, read_text, FileError, SPANNED_FIELD};
use crate::units::{clip, clip_to};
use limits::*;

pub use schema::{
    BurstSpec, ColdMode, ContainerdSettings, DockerSettings, DockerfileSpec, DriverKind,
    KubeSettings, NodeChoice, Placement, ReadySpec, RegistrySettings, ScenarioFile, SimSettings,
    StepSpec, SynthSpec, VariantSpec,
};
pub use thresholds::{ThresholdEntry, ThresholdTable};

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
    /// The `[thresholds]`, parsed, in file order.
    pub thresholds: Vec<Threshold>,
}

/// A scenario that cannot be used, with where and why.
pub type ScenarioError = FileError;

/// Longest error message: what serde or toml say is clipped to this many characters.
const MAX_MESSAGE_CHARS: usize = 1000;

/// `message` with every quoted (`"…"`, `` `…` ``) part clipped to
/// [`crate::units::MAX_ECHO_CHARS`], then the whole to [`MAX_MESSAGE_CHARS`].
fn clip_message(message: &str) -> String {
    let mut out = String::new();
    let mut inside: Option<(char, String, bool)> = None; // quote, text so far, escaping
    for c in message.chars() {
        match &mut inside {
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    inside = Some((c, String::new(), false));
                }
            }
            Some((_, text, escaping)) if *escaping => {
                text.push(c);
                *escaping = false;
            }
            Some((quote, text, escaping)) => {
                if c == *quote {
                    out.push_str(&clip(text));
                    out.push(c);
                    inside = None;
                } else {
                    *escaping = c == '\\' && *quote == '"';
                    text.push(c);
                }
            }
        }
    }
    if let Some((_, text, _)) = inside {
        out.push_str(&clip(&text));
    }
    clip_to(&out, MAX_MESSAGE_CHARS)
}

/// Says a recursion-limit error plainly: the parser's nesting limit, not a crash.
fn explain(message: &str) -> String {
    if message.contains("recursion") || message.contains("recurse") {
        format!("nested too deeply: arrays, tables or dotted keys past the TOML parser's limit ({message})")
    } else {
        message.to_string()
    }
}

impl Scenario {
    /// Reads, parses and validates the scenario at `path` (at most [`MAX_FILE_BYTES`]).
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_as(path, None)
    }

    /// [`Scenario::load`] with the driver replaced by `driver` when given (`run --driver`),
    /// before validation: the driver's bounds apply.
    pub fn load_as(path: &Path, driver: Option<DriverKind>) -> Result<Scenario, ScenarioError> {
        let source = read_text(path, "scenario file")?;
        Scenario::parse_as(path, source, driver)
    }

    /// True when the run is simulated (`driver = "sim"`).
    pub fn is_simulated(&self) -> bool {
        *self.file.driver.get_ref() == DriverKind::Sim
    }

    /// `file:line:column` of `span` in this scenario's text.
    pub fn locate(&self, span: Range<usize>) -> String {
        let (line, column) = line_column(&self.source, span.start);
        format!("{}:{line}:{column}", self.path.display())
    }

    /// Parses and validates scenario text; `path` is used in errors and for the default name.
    pub fn parse(path: &Path, source: String) -> Result<Scenario, ScenarioError> {
        Scenario::parse_as(path, source, None)
    }

    /// [`Scenario::parse`] with the driver replaced by `driver` when given.
    pub fn parse_as(
        path: &Path,
        source: String,
        driver: Option<DriverKind>,
    ) -> Result<Scenario, ScenarioError> {
        let error =
            |span: Option<Range<usize>>, field: Option<String>, message: String| ScenarioError {
                file: path.to_path_buf(),
                position: span.map(|s| line_column(&source, s.start)),
                field: field.map(|f| clip(&f)),
                message: clip_message(&explain(message.trim())),
            };
        let deserializer = toml::de::Deserializer::parse(&source)
            .map_err(|e| error(e.span(), None, e.message().to_string()))?;
        let mut file: ScenarioFile =
            serde_path_to_error::deserialize(deserializer).map_err(|e| {
                // A value read with its span (`toml::Spanned`) shows up as a private field.
                let field = e.path().to_string().replace(SPANNED_FIELD, "");
                let field = (!field.is_empty() && field != ".").then_some(field);
                let inner = e.into_inner();
                error(inner.span(), field, inner.message().to_string())
            })?;
        if let Some(driver) = driver {
            file.driver = toml::Spanned::new(file.driver.span(), driver);
        }
        let name = scenario_name(&file, path)
            .map_err(|(span, field, message)| error(span, Some(field), message))?;
        validate(&file).map_err(|(span, field, message)| error(span, Some(field), message))?;
        let thresholds = thresholds::check(&file, &source)
            .map_err(|(span, field, message)| error(span, Some(field), message))?;
        Ok(Scenario {
            path: path.to_path_buf(),
            source,
            name,
            file,
            thresholds,
        })
    }
}

type Invalid = (Option<Range<usize>>, String, String);

/// Whether `name` is ASCII letters (lowercase only unless `uppercase`) and digits in parts
/// separated by single `.`, `_` or `-`, at most 64 characters: safe as a directory and image
/// name (no `/`, `\`, `..`, control characters, spaces or leading dot).
fn is_valid_name(name: &str, uppercase: bool) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
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
                format!("invalid scenario name {:?}: use {ALLOWED}", clip(value)),
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

/// Checks what serde cannot: sources, names, ranges of spanned values.
fn validate(file: &ScenarioFile) -> Result<(), Invalid> {
    if let Some(burst) = &file.burst {
        check_burst(
            burst,
            &file.docker,
            *file.driver.get_ref() == DriverKind::Sim,
        )?;
    }
    kube::check(
        &file.kube,
        &file.registry,
        *file.driver.get_ref() == DriverKind::Kube,
    )?;
    sockets::check(
        &file.containerd,
        *file.driver.get_ref() == DriverKind::Containerd,
        file.burst.as_ref().map(|b| &b.nodes),
    )?;
    if let Some(f) = &file.registry.faults {
        let nodes = file.burst.as_ref().map_or(1, |b| *b.nodes.get_ref());
        faults::check(f, nodes, *file.driver.get_ref() == DriverKind::Kube)?;
    }
    if file.variants.is_empty() {
        return Err((
            None,
            "variant".into(),
            "no variants: add at least one [[variant]] table".into(),
        ));
    }
    if file.variants.len() > MAX_VARIANTS {
        return Err((
            Some(file.variants[MAX_VARIANTS].name.span()),
            "variant".into(),
            format!(
                "{} variants: at most {MAX_VARIANTS} are allowed",
                file.variants.len()
            ),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, v) in file.variants.iter().enumerate() {
        // A cluster's pods each have their own network: replicas may share a port.
        let shared_ports = file.burst.is_some() && *file.driver.get_ref() != DriverKind::Kube;
        check_variant(i, v, &mut seen, shared_ports)?;
    }
    check_sample_count(file)
}

/// Samples of a run (variants × rounds × replicas) at most [`MAX_SAMPLES`], so a run's memory,
/// run.json and time stay bounded whatever the other bounds multiply to.
fn check_sample_count(file: &ScenarioFile) -> Result<(), Invalid> {
    let rounds = u64::from(file.repetitions.get()) + u64::from(file.warmup);
    let replicas = file
        .burst
        .as_ref()
        .map_or(1, |b| u64::from(*b.replicas.get_ref()));
    let samples = file.variants.len() as u64 * rounds * replicas;
    if samples <= MAX_SAMPLES {
        return Ok(());
    }
    Err((
        file.burst.as_ref().map(|b| b.replicas.span()),
        "repetitions".into(),
        format!(
            "{} variant(s) × {rounds} round(s) × {replicas} replica(s) = {samples} samples: at most {MAX_SAMPLES} per run; lower repetitions, replicas or variants, or split the scenario",
            file.variants.len()
        ),
    ))
}

/// `value` within `1..=max`, else an error at it naming `key` and the range.
fn check_count(
    value: &toml::Spanned<u32>,
    key: &str,
    field: String,
    max: u32,
) -> Result<(), Invalid> {
    if (1..=max).contains(value.get_ref()) {
        return Ok(());
    }
    Err((
        Some(value.span()),
        field,
        format!("{key} = {}: expected 1 to {max}", value.get_ref()),
    ))
}

/// `[burst]`: node and replica counts (larger bounds when `simulated`), steps, sockets.
fn check_burst(burst: &BurstSpec, docker: &DockerSettings, simulated: bool) -> Result<(), Invalid> {
    let (max_nodes, max_replicas) = if simulated {
        (MAX_SIM_BURST_NODES, MAX_SIM_BURST_REPLICAS)
    } else {
        (MAX_BURST_NODES, MAX_BURST_REPLICAS)
    };
    check_count(&burst.nodes, "burst.nodes", "burst.nodes".into(), max_nodes)?;
    check_count(
        &burst.replicas,
        "burst.replicas",
        "burst.replicas".into(),
        max_replicas,
    )?;
    if let Some(step) = &burst.step {
        check_count(
            &step.add,
            "burst.step.add",
            "burst.step.add".into(),
            max_replicas,
        )?;
    }
    let sockets = docker.node_sockets.len();
    if !simulated && sockets > 0 && sockets != *burst.nodes.get_ref() as usize {
        return Err((
            Some(burst.nodes.span()),
            "docker.node_sockets".into(),
            format!(
                "{sockets} node_sockets for burst.nodes = {}: give one socket per node",
                burst.nodes.get_ref()
            ),
        ));
    }
    Ok(())
}

/// One `[[variant]]`: its name, its one source, and its ranges.
fn check_variant<'a>(
    i: usize,
    v: &'a VariantSpec,
    seen: &mut HashMap<&'a str, usize>,
    in_burst: bool,
) -> Result<(), Invalid> {
    let field = |key: &str| format!("variant[{i}].{key}");
    let name = v.name.get_ref();
    if !is_valid_name(name, false) {
        return Err((
            Some(v.name.span()),
            field("name"),
            format!(
                "invalid variant name {:?}: use lowercase letters and digits, separated by single '.', '_' or '-' (at most {MAX_NAME_LEN} characters)",
                clip(name)
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
    check_source(i, v)?;
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
        check_synth(synth, &field)?;
    }
    check_ready(&v.ready, &field, in_burst)
}

/// Exactly one of `synth`, `dockerfile`, `image`, `registry`.
fn check_source(i: usize, v: &VariantSpec) -> Result<(), Invalid> {
    let sources = [
        v.synth.is_some(),
        v.dockerfile.is_some(),
        v.image.is_some(),
        v.registry.is_some(),
    ]
    .iter()
    .filter(|&&s| s)
    .count();
    if sources == 1 {
        return Ok(());
    }
    let what = if sources == 0 {
        "has no image source"
    } else {
        "has more than one image source"
    };
    Err((
        Some(v.name.span()),
        format!("variant[{i}]"),
        format!("variant {:?} {what}: give exactly one of synth = {{ size = \"50MB\" }}, dockerfile = {{ context = \"dir\" }}, image = \"name:tag\", registry = \"host:port/repo:tag\"", v.name.get_ref()),
    ))
}

/// `synth`: layer count and compressibility (the size is checked while parsing).
fn check_synth(synth: &SynthSpec, field: &dyn Fn(&str) -> String) -> Result<(), Invalid> {
    check_count(
        &synth.layers,
        "layers",
        field("synth.layers"),
        MAX_SYNTH_LAYERS,
    )?;
    let c = *synth.compressibility.get_ref();
    if !(0.0..=0.95).contains(&c) {
        return Err((
            Some(synth.compressibility.span()),
            field("synth.compressibility"),
            format!("compressibility = {c}: expected a fraction from 0 (random bytes) to 0.95"),
        ));
    }
    Ok(())
}

/// `ready`: the path and the port (status and timeout are checked while parsing).
fn check_ready(
    ready: &ReadySpec,
    field: &dyn Fn(&str) -> String,
    in_burst: bool,
) -> Result<(), Invalid> {
    let http = ready.http.get_ref();
    let problem = if !http.starts_with('/') {
        Some("expected a path starting with '/'".to_string())
    } else if http.len() > MAX_TEXT_LEN {
        Some(format!(
            "{} bytes long: expected at most {MAX_TEXT_LEN}",
            http.len()
        ))
    } else if http.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("expected a path without spaces or control characters".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err((
            Some(ready.http.span()),
            field("ready.http"),
            format!("ready.http = {:?}: {problem}", clip(http)),
        ));
    }
    let Some(port) = &ready.port else {
        return Ok(());
    };
    if *port.get_ref() == 0 {
        return Err((
            Some(port.span()),
            field("ready.port"),
            "ready.port = 0: expected a TCP port, 1 to 65535".into(),
        ));
    }
    if in_burst {
        return Err((
            Some(port.span()),
            field("ready.port"),
            format!("ready.port = {}: in a burst each replica gets its own free port through the PORT environment variable; remove `port` (the app must listen on $PORT)", port.get_ref()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod threshold_tests;
