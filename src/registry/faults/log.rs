//! What each port saw: a log of its requests with their faults, and a sample's counts.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::{FaultKind, Target, MAX_FAULT_RECORDS};

/// One request as the port saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// When it arrived (tokio's clock).
    pub at: Instant,
    /// What it asked for.
    pub target: Target,
    /// The manifest reference or blob digest (empty for others).
    pub name: String,
    /// The fault it got.
    pub fault: Option<FaultKind>,
}

/// What a sample saw of the registry: requests, retries and faults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCounts {
    /// Requests its node made (every method and path).
    pub requests: u64,
    /// `GET`s of a manifest or blob its node had already asked for in the sample.
    pub retries: u64,
    /// Faults by kind (`error`, `rate_limit`, `reset`, `stall`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub faults: BTreeMap<FaultKind, u64>,
}

impl RegistryCounts {
    /// Faults of every kind.
    pub fn fault_total(&self) -> u64 {
        self.faults.values().sum()
    }
}

/// The requests of one port, oldest first, at most [`MAX_FAULT_RECORDS`].
#[derive(Debug, Default)]
pub struct FaultLog {
    entries: Mutex<VecDeque<RequestRecord>>,
}

impl FaultLog {
    /// Records a request.
    pub fn record(&self, rec: RequestRecord) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_FAULT_RECORDS {
                entries.pop_front();
            }
            entries.push_back(rec);
        }
    }

    /// Requests at or after `from`, oldest first.
    pub fn since(&self, from: Instant) -> Vec<RequestRecord> {
        self.entries
            .lock()
            .map(|e| e.iter().filter(|r| r.at >= from).cloned().collect())
            .unwrap_or_default()
    }

    /// The counts of the requests at or after `from`.
    pub fn counts(&self, from: Instant) -> RegistryCounts {
        counts_of(&self.since(from))
    }
}

/// Counts requests, retries (a repeated manifest or blob `GET`) and faults.
pub fn counts_of(records: &[RequestRecord]) -> RegistryCounts {
    let mut counts = RegistryCounts::default();
    let mut seen = HashSet::new();
    for r in records {
        counts.requests += 1;
        if matches!(r.target, Target::Manifest | Target::Blob)
            && !seen.insert((r.target == Target::Blob, r.name.as_str()))
        {
            counts.retries += 1;
        }
        if let Some(kind) = r.fault {
            *counts.faults.entry(kind).or_default() += 1;
        }
    }
    counts
}
