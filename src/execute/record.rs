//! The RunRecord builder: the run's header first, then samples as they are taken (each appended
//! to samples.jsonl at once, so an interrupted run keeps them), then summaries at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analysis::Recorder;
use crate::results::writers::{write_csv, write_json, SamplesLog, WriteError};
use crate::results::{
    now_utc, BurstRecord, EngineContext, HostContext, NetworkContext, RunRecord, Sample,
    ScenarioRecord, Simulation, ToolInfo, VariantRecord, SCHEMA_VERSION,
};

/// What a run record says before its first sample.
#[derive(Debug, Clone)]
pub struct Header {
    /// `<scenario>-<UTC timestamp>`.
    pub run_id: String,
    /// UTC start, RFC 3339.
    pub started_at: String,
    /// The engine of node 0, with the node kind.
    pub engine: EngineContext,
    /// The registry link in force.
    pub network: NetworkContext,
    /// The scenario as given.
    pub scenario: ScenarioRecord,
    /// Seed of the shuffled order.
    pub seed: u64,
    /// Each variant's image.
    pub variants: Vec<VariantRecord>,
    /// How a simulated run was modelled (`None` when measured).
    pub simulation: Option<Simulation>,
}

/// Builds a run's record and its files in the run directory.
pub struct RecordBuilder {
    dir: PathBuf,
    record: RunRecord,
    log: SamplesLog,
    recorder: Recorder,
}

impl RecordBuilder {
    /// Starts the record in `dir` (which must exist) and opens its samples.jsonl.
    pub fn new(dir: &Path, header: Header) -> Result<RecordBuilder, WriteError> {
        let log = SamplesLog::create(&dir.join("samples.jsonl"))?;
        let record = RunRecord {
            schema_version: SCHEMA_VERSION,
            run_id: header.run_id,
            coldbench: ToolInfo::current(),
            started_at: header.started_at,
            finished_at: String::new(),
            interrupted: false,
            host: HostContext::detect(),
            engine: header.engine,
            network: header.network,
            scenario: header.scenario,
            seed: header.seed,
            variants: header.variants,
            samples: Vec::new(),
            bursts: Vec::new(),
            summaries: BTreeMap::new(),
            histograms: BTreeMap::new(),
            simulation: header.simulation,
        };
        Ok(RecordBuilder {
            dir: dir.to_path_buf(),
            record,
            log,
            recorder: Recorder::new(),
        })
    }

    /// Samples recorded so far.
    pub fn samples_taken(&self) -> usize {
        self.record.samples.len()
    }

    /// Records one sample (samples.jsonl first, flushed).
    pub fn add_sample(&mut self, sample: Sample) -> Result<(), WriteError> {
        self.log.append(&sample)?;
        self.recorder.record(&sample);
        self.record.samples.push(sample);
        Ok(())
    }

    /// Records a batch of samples (samples.jsonl first, flushed once): a simulated step.
    pub fn add_samples(&mut self, samples: Vec<Sample>) -> Result<(), WriteError> {
        self.log.append_all(&samples)?;
        for sample in &samples {
            self.recorder.record(sample);
        }
        self.record.samples.extend(samples);
        Ok(())
    }

    /// Records one burst.
    pub fn add_burst(&mut self, burst: BurstRecord) {
        self.record.bursts.push(burst);
    }

    /// Closes the record (end time, summaries, histograms) and writes run.json and samples.csv.
    pub fn finish(mut self, interrupted: bool) -> Result<(PathBuf, RunRecord), WriteError> {
        self.record.finished_at = now_utc();
        self.record.interrupted = interrupted;
        self.record.summaries = self.recorder.summaries();
        self.record.histograms = self.recorder.serialized();
        write_json(&self.dir.join("run.json"), &self.record)?;
        write_csv(&self.dir.join("samples.csv"), &self.record)?;
        Ok((self.dir, self.record))
    }
}
