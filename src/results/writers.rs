//! Writers for a run's files: samples.jsonl (appended live), run.json, samples.csv.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::RunRecord;
use super::{Outcome, Sample};

/// Error writing a results file, naming it.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    path: PathBuf,
    source: io::Error,
}

fn at(path: &Path) -> impl Fn(io::Error) -> WriteError + '_ {
    move |source| WriteError {
        path: path.to_path_buf(),
        source,
    }
}

/// `samples.jsonl`: one JSON object per sample, flushed as each completes, so an interrupted
/// run keeps every sample it took.
pub struct SamplesLog {
    path: PathBuf,
    file: File,
}

impl SamplesLog {
    /// Creates (or appends to) the log at `path`.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(at(path))?;
        Ok(SamplesLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one sample and flushes it to disk.
    pub fn append(&mut self, sample: &Sample) -> Result<(), WriteError> {
        let mut line = serde_json::to_vec(sample).map_err(|e| WriteError {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(at(&self.path))?;
        self.file.sync_data().map_err(at(&self.path))
    }

    /// Appends `samples` in one write and flushes once.
    pub fn append_all(&mut self, samples: &[Sample]) -> Result<(), WriteError> {
        let mut lines = Vec::new();
        for sample in samples {
            serde_json::to_writer(&mut lines, sample).map_err(|e| WriteError {
                path: self.path.clone(),
                source: e.into(),
            })?;
            lines.push(b'\n');
        }
        self.file.write_all(&lines).map_err(at(&self.path))?;
        self.file.sync_data().map_err(at(&self.path))
    }
}

/// Writes `value` as pretty JSON to `path` atomically (temp file, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WriteError> {
    let tmp = path.with_extension("json.tmp");
    {
        let file = File::create(&tmp).map_err(at(&tmp))?;
        let mut w = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut w, value).map_err(|e| WriteError {
            path: tmp.clone(),
            source: e.into(),
        })?;
        w.write_all(b"\n").map_err(at(&tmp))?;
        w.flush().map_err(at(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(at(path))
}

/// One row of samples.csv.
#[derive(Serialize)]
struct CsvRow<'a> {
    index: usize,
    repetition: u32,
    variant: &'a str,
    warmup: bool,
    node: usize,
    burst: Option<usize>,
    replica: Option<usize>,
    requested_at_us: Option<u64>,
    ready_at_us: Option<u64>,
    finished_at_us: Option<u64>,
    started_at: &'a str,
    status: &'static str,
    failed_phase: Option<&'static str>,
    pull_us: Option<u64>,
    create_us: Option<u64>,
    start_us: Option<u64>,
    first_request_us: Option<u64>,
    total_us: Option<u64>,
    blob_bytes: u64,
    manifest_bytes: u64,
    expected_bytes: u64,
    cold: bool,
    error: Option<&'a str>,
}

/// Writes samples.csv: one row per sample, times in microseconds.
pub fn write_csv(path: &Path, record: &RunRecord) -> Result<(), WriteError> {
    let file = File::create(path).map_err(at(path))?;
    write_csv_to(file, record).map_err(at(path))
}

/// Writes the samples.csv content (header, then one row per sample) to any writer.
pub fn write_csv_to<W: Write>(writer: W, record: &RunRecord) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(writer);
    for s in &record.samples {
        let (status, failed_phase, error) = match &s.outcome {
            Outcome::Ok => ("ok", None, None),
            Outcome::Failed { phase, message } => {
                ("failed", Some(phase.name()), Some(message.as_str()))
            }
        };
        w.serialize(CsvRow {
            index: s.index,
            repetition: s.repetition,
            variant: &s.variant,
            warmup: s.warmup,
            node: s.node,
            burst: s.burst,
            replica: s.replica,
            requested_at_us: s.requested_at_us,
            ready_at_us: s.ready_at_us,
            finished_at_us: s.finished_at_us,
            started_at: &s.started_at,
            status,
            failed_phase,
            pull_us: s.phases.pull_us,
            create_us: s.phases.create_us,
            start_us: s.phases.start_us,
            first_request_us: s.phases.first_request_us,
            total_us: s.phases.total_us,
            blob_bytes: s.blob_bytes,
            manifest_bytes: s.manifest_bytes,
            expected_bytes: s.expected_bytes,
            cold: s.cold,
            error,
        })?;
    }
    w.flush()
}
