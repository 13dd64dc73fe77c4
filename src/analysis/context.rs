//! The pieces of a run's context line: link, engine, samples per variant.

use std::fmt::Write as _;
use std::time::Duration;

use super::variant::VariantAnalysis;
use crate::results::{Phase, RunRecord};
use crate::units::format_duration;

/// The conditions a run measured under, as short texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Bandwidth and latency, e.g. `100.0 MB/s · 2.0 ms latency`.
    pub link: String,
    /// Engine, e.g. `docker 20.10.24 (overlay2, fresh node)`.
    pub engine: String,
    /// Fewest and most summarized samples of total over the variants that have any.
    pub samples_per_variant: Option<(u64, u64)>,
    /// `simulated (uncalibrated defaults)` for a simulated run ([`RunRecord::simulated_mark`]).
    pub simulated: Option<String>,
}

impl Context {
    /// The context of `record`.
    pub fn of(record: &RunRecord, variants: &[VariantAnalysis]) -> Self {
        let counts = variants
            .iter()
            .filter_map(|v| v.phase(Phase::Total).map(|s| s.count));
        let samples_per_variant = counts.clone().min().zip(counts.max());
        Context {
            link: link_line(record),
            engine: engine_line(record),
            samples_per_variant,
            simulated: record.simulated_mark(),
        }
    }
}

/// The bandwidth and latency line, e.g. `100.0 MB/s · 2.0 ms latency`.
fn link_line(record: &RunRecord) -> String {
    let bandwidth = record
        .network
        .bandwidth
        .clone()
        .unwrap_or_else(|| "unlimited bandwidth".to_string());
    let latency = format_duration(Duration::from_micros(record.network.latency_us));
    format!("{bandwidth} · {latency} latency")
}

/// The engine line, e.g. `docker 20.10.24 (overlay2, fresh node)`, `containerd 1.6.20
/// (overlayfs, runc, sockets node)`.
fn engine_line(record: &RunRecord) -> String {
    let e = &record.engine;
    let mut out = e.driver.clone();
    if let Some(v) = &e.version {
        // containerd's version already starts with its name.
        match v.strip_prefix(&format!("{} ", e.driver)) {
            Some(rest) => {
                let _ = write!(out, " {rest}");
            }
            None => {
                let _ = write!(out, " {v}");
            }
        }
    }
    let mut detail: Vec<String> = [&e.storage_driver, &e.snapshotter, &e.runtime_handler]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if !e.node.is_empty() {
        detail.push(format!("{} node", e.node));
    }
    if !detail.is_empty() {
        let _ = write!(out, " ({})", detail.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::EngineContext;

    fn record_with(engine: serde_json::Value) -> RunRecord {
        let text = include_str!("../../tests/fixtures/run-quickstart.json");
        let mut value: serde_json::Value = serde_json::from_str(text).unwrap();
        value["engine"] = engine;
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn engine_lines_name_docker_storage_and_containerd_snapshotter_and_handler() {
        let docker = record_with(serde_json::json!({
            "driver": "docker", "endpoint": "unix:///x", "node": "fresh",
            "version": "20.10.24", "api_version": "1.41", "storage_driver": "overlay2",
            "kernel": null, "os": null
        }));
        assert_eq!(
            engine_line(&docker),
            "docker 20.10.24 (overlay2, fresh node)"
        );
        let containerd = EngineContext {
            driver: "containerd".into(),
            node: "sockets".into(),
            version: Some("containerd 1.6.20~ds1".into()),
            api_version: Some("v1".into()),
            snapshotter: Some("overlayfs".into()),
            runtime_handler: Some("runc".into()),
            ..Default::default()
        };
        let record = record_with(serde_json::to_value(&containerd).unwrap());
        assert_eq!(record.engine, containerd);
        assert_eq!(
            engine_line(&record),
            "containerd 1.6.20~ds1 (overlayfs, runc, sockets node)"
        );
    }

    #[test]
    fn an_older_containerd_record_without_the_new_fields_still_loads() {
        let record = record_with(serde_json::json!({
            "driver": "containerd", "endpoint": "unix:///tmp/cbc0-x/c.sock", "node": "fresh",
            "version": "containerd 1.6.20~ds1 (CRI v1, runtime handler runc)",
            "api_version": "v1", "storage_driver": "overlayfs", "kernel": null, "os": null
        }));
        assert_eq!(record.engine.snapshotter, None);
        assert_eq!(record.engine.runtime_handler, None);
        assert_eq!(
            engine_line(&record),
            "containerd 1.6.20~ds1 (CRI v1, runtime handler runc) (overlayfs, fresh node)"
        );
    }
}
