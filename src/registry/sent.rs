//! When each blob's last byte left through a port: the registry's own per-layer download times,
//! for every engine (containerd reports no per-layer progress over CRI).
//!
//! A blob counts as sent when the response that carries its last byte has handed that byte to
//! the connection (whole-blob and ranged responses alike; a `HEAD` never counts). Each port
//! keeps the latest [`MAX_SENT_RECORDS`] deliveries; older ones are dropped.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

use tokio::time::Instant;

/// Deliveries each port remembers; older ones are dropped (a cold pull of the largest image
/// moves far fewer blobs than this).
pub const MAX_SENT_RECORDS: usize = 4096;

/// One blob's last byte leaving the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSent {
    /// The blob's digest (`sha256:…`).
    pub digest: String,
    /// When its last byte was handed to the connection (tokio's clock).
    pub at: Instant,
    /// The client's address (the node, on a cluster whose nodes reach the registry directly).
    pub peer: Option<IpAddr>,
    /// Bytes the response carried (the whole blob, or the range that ended it).
    pub bytes: u64,
}

/// The deliveries of one port, oldest first, at most [`MAX_SENT_RECORDS`].
#[derive(Debug, Default)]
pub struct SentLog {
    entries: Mutex<VecDeque<BlobSent>>,
}

impl SentLog {
    /// Records a delivery.
    pub fn record(&self, sent: BlobSent) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_SENT_RECORDS {
                entries.pop_front();
            }
            entries.push_back(sent);
        }
    }

    /// Deliveries at or after `from`, oldest first.
    pub fn since(&self, from: Instant) -> Vec<BlobSent> {
        self.entries
            .lock()
            .map(|entries| entries.iter().filter(|e| e.at >= from).cloned().collect())
            .unwrap_or_default()
    }
}

/// Where a paced body reports its blob's delivery: the port's log, and what to record.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The port's log.
    pub log: std::sync::Arc<SentLog>,
    /// The blob being served.
    pub digest: String,
    /// The client's address.
    pub peer: Option<IpAddr>,
    /// The response's body length.
    pub bytes: u64,
}

impl Delivery {
    /// Logs the delivery as complete at `at`.
    pub fn done(self, at: Instant) {
        self.log.record(BlobSent {
            digest: self.digest,
            at,
            peer: self.peer,
            bytes: self.bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn keeps_the_latest_deliveries_and_filters_by_time() {
        let log = SentLog::default();
        let t0 = Instant::now();
        for i in 0..MAX_SENT_RECORDS + 10 {
            log.record(BlobSent {
                digest: format!("sha256:{i}"),
                at: t0 + Duration::from_millis(i as u64),
                peer: None,
                bytes: 1,
            });
        }
        let all = log.since(t0);
        assert_eq!(all.len(), MAX_SENT_RECORDS);
        assert_eq!(all[0].digest, "sha256:10");
        let late = log.since(t0 + Duration::from_millis(MAX_SENT_RECORDS as u64 + 8));
        let names: Vec<_> = late.iter().map(|e| e.digest.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("sha256:{}", MAX_SENT_RECORDS + 8),
                format!("sha256:{}", MAX_SENT_RECORDS + 9)
            ]
        );
    }
}
