//! Lists and watches: `?labelSelector=`, `?fieldSelector=`, `metadata.resourceVersion` on lists,
//! and `?watch=true&resourceVersion=N` streams of `{"type":…,"object":…}` lines.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::http::{json_response, with_headers, Body};
use super::lifecycle::{lock, Shared};
use super::routes::{render, Api, Target};
use super::store::{field, label, Change, Kind, Selector};

/// What a list or watch selects.
struct Filter {
    api: Api,
    kind: Kind,
    ns: Option<String>,
    labels: Selector,
    fields: Selector,
}

impl Filter {
    fn new(t: &Target, q: &HashMap<String, String>) -> Self {
        let get = |k: &str| q.get(k).map_or("", String::as_str);
        Filter {
            api: t.api,
            kind: t.kind,
            ns: t.ns.clone(),
            labels: Selector::parse(get("labelSelector")),
            fields: Selector::parse(get("fieldSelector")),
        }
    }

    /// The object rendered for this API when it is selected.
    fn select(&self, kind: Kind, ns: &str, obj: &Value) -> Option<Value> {
        if kind != self.kind || self.ns.as_deref().is_some_and(|n| n != ns) {
            return None;
        }
        let out = render(self.api, kind, obj);
        let labels_ok = self.labels.matches(|k| label(&out, k));
        let fields_ok = self
            .fields
            .matches(|k| Some(field(&out, k).unwrap_or_default()));
        (labels_ok && fields_ok).then_some(out)
    }
}

/// `GET` on a collection: a list, or a watch with `watch=true`.
pub fn list_or_watch(shared: &Shared, t: &Target, q: &HashMap<String, String>) -> Response<Body> {
    let filter = Filter::new(t, q);
    if q.get("watch").is_some_and(|w| w == "true" || w == "1") {
        return watch(shared, filter, q);
    }
    let inner = lock(shared);
    let items: Vec<Value> = inner
        .store
        .list(t.kind, t.ns.as_deref())
        .iter()
        .filter_map(|o| filter.select(t.kind, o["metadata"]["namespace"].as_str().unwrap_or(""), o))
        .map(strip_type)
        .collect();
    let list = json!({
        "kind": format!("{}List", kind_name(t.kind)),
        "apiVersion": t.api.version(),
        "metadata": {"resourceVersion": inner.store.rv().to_string()},
        "items": items,
    });
    json_response(StatusCode::OK, &list)
}

/// List items carry no `kind`/`apiVersion` (the list says it), as on a real server.
fn strip_type(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    v
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Namespace => "Namespace",
        Kind::Node => "Node",
        Kind::Pod => "Pod",
        Kind::Deployment => "Deployment",
        Kind::Event => "Event",
    }
}

/// A watch: `ADDED` for what exists when `resourceVersion` is absent or `0`, else every change
/// after it; then live changes until `timeoutSeconds` (default 30 min) or the client leaves.
fn watch(shared: &Shared, filter: Filter, q: &HashMap<String, String>) -> Response<Body> {
    let rv: u64 = q
        .get("resourceVersion")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1800);
    let (first, rx) = {
        let inner = lock(shared);
        if rv == 0 {
            let now = inner.store.list(filter.kind, filter.ns.as_deref());
            let first = now
                .iter()
                .filter_map(|o| line(&filter, "ADDED", filter.kind, ns_of(o), o))
                .collect();
            (first, inner.store.since(inner.store.rv()).1)
        } else if inner.store.expired(rv) {
            return expired(rv, inner.store.rv());
        } else {
            let (backlog, rx) = inner.store.since(rv);
            (
                backlog
                    .iter()
                    .filter_map(|c| change_line(&filter, c))
                    .collect(),
                rx,
            )
        }
    };
    stream(first, rx, filter, timeout)
}

/// A watch from a compacted resourceVersion: `200` with one `ERROR` event carrying a
/// `410 Expired` Status, then the end of the stream (what makes clients re-list).
fn expired(rv: u64, now: u64) -> Response<Body> {
    let status = super::status_failure(
        410,
        "Expired",
        &format!("too old resource version: {rv} ({now})"),
    );
    let line = format!("{}\n", json!({"type": "ERROR", "object": status}));
    let body = http_body_util::Full::new(Bytes::from(line)).boxed();
    with_headers(StatusCode::OK, "application/json", body)
}

fn ns_of(o: &Value) -> &str {
    o["metadata"]["namespace"].as_str().unwrap_or("")
}

fn change_line(f: &Filter, c: &Change) -> Option<Bytes> {
    line(f, c.kind_of_change, c.kind, &c.namespace, &c.object)
}

/// One watch event line: `{"type":"ADDED","object":{…}}\n`.
fn line(f: &Filter, type_: &str, kind: Kind, ns: &str, obj: &Value) -> Option<Bytes> {
    let object = f.select(kind, ns, obj)?;
    Some(Bytes::from(format!(
        "{}\n",
        json!({"type": type_, "object": object})
    )))
}

/// Streams `first`, then every selected change from `rx`, for `timeout_s` seconds.
fn stream(
    first: Vec<Bytes>,
    mut rx: tokio::sync::broadcast::Receiver<Change>,
    f: Filter,
    timeout_s: u64,
) -> Response<Body> {
    let (tx, out) = tokio::sync::mpsc::channel::<Bytes>(256);
    tokio::spawn(async move {
        for b in first {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout_s);
        while let Ok(Ok(change)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            if let Some(b) = change_line(&f, &change) {
                if tx.send(b).await.is_err() {
                    return;
                }
            }
        }
    });
    let frames = futures_util::stream::unfold(out, |mut out| async move {
        let b = out.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(Frame::data(b)), out))
    });
    with_headers(
        StatusCode::OK,
        "application/json",
        StreamBody::new(frames).boxed(),
    )
}
