//! What the kubelet and the scheduler write: event messages in each Kubernetes version's format
//! and the event objects themselves (`core/v1`, rendered to `events.k8s.io/v1` on read).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::time;

/// The kubelet's `Pulled` message format, by the Kubernetes version that introduced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KubeletFormat {
    /// 1.19–1.24: `Successfully pulled image "x" in 1.2s`.
    V1_19,
    /// 1.25–1.29: `… in 1.2s (1.3s including waiting)`.
    V1_25,
    /// 1.30+: `… in 1.2s (1.3s including waiting). Image size: N bytes.`
    V1_30,
}

/// How a pull went, as the `Pulled` message reports it.
#[derive(Clone, Debug)]
pub struct Pull {
    /// The pull itself.
    pub took: Duration,
    /// Including the wait in the kubelet's pull queue (1.25+ formats).
    pub with_waiting: Duration,
    /// The image size (1.30+ format).
    pub size: u64,
    /// The image was on the node: `already present on machine`, no `Pulling` event.
    pub present: bool,
}

impl Default for Pull {
    fn default() -> Self {
        Pull {
            took: Duration::from_millis(1_234),
            with_waiting: Duration::from_millis(1_301),
            size: 12_345_678,
            present: false,
        }
    }
}

/// The `Pulling` message.
pub fn pulling(image: &str) -> String {
    format!("Pulling image \"{image}\"")
}

/// The `Pulled` message in `format`.
pub fn pulled(format: KubeletFormat, image: &str, pull: &Pull) -> String {
    if pull.present {
        return format!("Container image \"{image}\" already present on machine");
    }
    // 1.25+ truncate both durations to milliseconds (`.Truncate(time.Millisecond)`).
    let took = go_duration(truncate_ms(pull.took));
    let waiting = go_duration(truncate_ms(pull.with_waiting));
    match format {
        KubeletFormat::V1_19 => format!(
            "Successfully pulled image \"{image}\" in {}",
            go_duration(pull.took)
        ),
        KubeletFormat::V1_25 => format!(
            "Successfully pulled image \"{image}\" in {took} ({waiting} including waiting)"
        ),
        KubeletFormat::V1_30 => format!(
            "Successfully pulled image \"{image}\" in {took} ({waiting} including waiting). Image size: {} bytes.",
            pull.size
        ),
    }
}

fn truncate_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// The `Created` message; recent kubelets write `Created container: NAME` (the colon arrived
/// during the 1.3x series; this double gives it to every 1.30+ timeline).
pub fn created(format: KubeletFormat, container: &str) -> String {
    match format {
        KubeletFormat::V1_30 => format!("Created container: {container}"),
        _ => format!("Created container {container}"),
    }
}

/// The `Started` message.
pub fn started(container: &str) -> String {
    format!("Started container {container}")
}

/// Go's `time.Duration.String()`: `850ms`, `1.234s`, `1m21.28s`.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", trim(nanos as f64 / 1e6));
    }
    let mins = nanos / 60_000_000_000;
    let secs = trim((nanos % 60_000_000_000) as f64 / 1e9);
    if mins == 0 {
        format!("{secs}s")
    } else {
        format!("{mins}m{secs}s")
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Who reports an event.
pub enum Source<'a> {
    /// The kubelet on `node`, through the legacy (`core/v1`) recorder.
    Kubelet { node: &'a str, container: &'a str },
    /// The scheduler, through the `events.k8s.io/v1` recorder (`eventTime`, `action`:
    /// `Binding` or `Scheduling`).
    Scheduler { action: &'a str },
}

/// A `core/v1` Event about `pod`, named `{pod}.{hex UnixNano}` like client-go's recorder.
pub fn event(pod: &Value, source: Source, reason: &str, type_: &str, message: &str) -> Value {
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let mut involved = json!({
        "kind": "Pod",
        "namespace": pod["metadata"]["namespace"],
        "name": name,
        "uid": pod["metadata"]["uid"],
        "apiVersion": "v1",
        "resourceVersion": pod["metadata"]["resourceVersion"],
    });
    let mut ev = json!({
        "metadata": {
            "name": format!("{name}.{:x}", time::unix_nanos()),
            "namespace": pod["metadata"]["namespace"],
        },
        "reason": reason,
        "message": message,
        "type": type_,
    });
    match source {
        Source::Kubelet { node, container } => {
            involved["fieldPath"] = json!(format!("spec.containers{{{container}}}"));
            let now = time::now_seconds();
            extend(
                &mut ev,
                json!({
                    "source": {"component": "kubelet", "host": node},
                    "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                    "eventTime": null, "reportingComponent": "kubelet", "reportingInstance": node,
                }),
            );
        }
        Source::Scheduler { action } => extend(
            &mut ev,
            json!({
                "source": {}, "firstTimestamp": null, "lastTimestamp": null,
                "eventTime": time::now_micros(), "action": action,
                "reportingComponent": "default-scheduler",
                "reportingInstance": "default-scheduler-control-plane",
            }),
        ),
    }
    ev["involvedObject"] = involved;
    ev
}

/// A stored event rendered in `core/v1` (the stored shape plus kind and apiVersion).
pub fn as_core(ev: &Value) -> Value {
    let mut out = json!({"kind": "Event", "apiVersion": "v1"});
    extend(&mut out, ev.clone());
    out
}

/// A stored event rendered in `events.k8s.io/v1`: `regarding`, `note`, `reportingController`,
/// `deprecated*` for the legacy fields; `eventTime` is null for legacy (kubelet) events.
pub fn as_events_v1(ev: &Value) -> Value {
    let mut out = json!({
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": ev["metadata"],
        "eventTime": ev["eventTime"],
        "reportingController": ev["reportingComponent"],
        "reportingInstance": ev["reportingInstance"],
        "reason": ev["reason"],
        "regarding": ev["involvedObject"],
        "note": ev["message"],
        "type": ev["type"],
    });
    for (from, to) in [
        ("action", "action"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
        ("series", "series"),
    ] {
        let v = &ev[from];
        let empty = v.is_null() || v.as_object().is_some_and(Map::is_empty);
        if !empty {
            out[to] = v.clone();
        }
    }
    out
}

fn extend(target: &mut Value, more: Value) {
    if let (Some(t), Value::Object(m)) = (target.as_object_mut(), more) {
        t.extend(m);
    }
}
