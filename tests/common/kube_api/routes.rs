//! Routing and the verbs: namespaces, pods (+ proxy), deployments (+ scale), events in
//! `core/v1` and `events.k8s.io/v1`, and `/version`.

use std::collections::HashMap;
use std::convert::Infallible;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::deployment;
use super::http::{self, json_response, merge_patch, not_found, Body};
use super::kubelet;
use super::lifecycle::{self, lock, Shared};
use super::store::Kind;
use super::watch;
use super::Recorded;

/// The API group a request addressed (it decides how objects are rendered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    Core,
    Apps,
    Events,
}

impl Api {
    /// `apiVersion` of this group's objects.
    pub fn version(self) -> &'static str {
        match self {
            Api::Core => "v1",
            Api::Apps => "apps/v1",
            Api::Events => "events.k8s.io/v1",
        }
    }
}

/// A parsed resource path.
#[derive(Clone, Debug)]
pub struct Target {
    pub api: Api,
    pub kind: Kind,
    pub ns: Option<String>,
    pub name: Option<String>,
    /// Subresource and the rest: `["scale"]`, `["proxy", "healthz"]`.
    pub sub: Vec<String>,
}

/// Binds 127.0.0.1:0 and serves HTTP/1.1 until the returned task is aborted.
pub async fn serve(shared: Shared) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                // A client that goes away mid-watch is normal.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    (url, task)
}

async fn handle(shared: Shared, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let query = req.uri().query().unwrap_or("").to_string();
    lock(&shared).requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
    });
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(http::bad_request(format!("reading the body: {e}"))),
    };
    if path == "/version" {
        return Ok(json_response(StatusCode::OK, &version()));
    }
    let Some(target) = parse(&path) else {
        return Ok(http::no_route());
    };
    let q = http::query_params(&query);
    Ok(dispatch(&shared, &method, &target, &q, &body))
}

fn dispatch(
    shared: &Shared,
    method: &Method,
    t: &Target,
    q: &HashMap<String, String>,
    body: &[u8],
) -> Response<Body> {
    let sub = t.sub.first().map(String::as_str);
    // The nodes are the test's to set (`KubeApi::set_nodes`): read-only here.
    if t.kind == Kind::Node && method != Method::GET {
        return http::not_allowed();
    }
    match (method.as_str(), t.name.as_deref(), sub) {
        ("GET", None, _) => watch::list_or_watch(shared, t, q),
        ("POST", None, _) => with_body(body, |obj| create(shared, t, obj)),
        ("GET", Some(name), None) => get(shared, t, name),
        ("GET", Some(name), Some("proxy")) if t.kind == Kind::Pod => proxy(shared, t, name),
        ("GET", Some(name), Some("scale")) if t.kind == Kind::Deployment => {
            scale_of(shared, t, name)
        }
        ("PUT" | "PATCH", Some(name), None | Some("scale")) if t.kind == Kind::Deployment => {
            with_body(body, |b| update(shared, t, name, method == Method::PUT, b))
        }
        ("DELETE", Some(name), None) => delete(shared, t, name),
        _ => http::not_allowed(),
    }
}

/// Runs `verb` on the JSON body, or answers `400` when it is not JSON.
fn with_body(body: &[u8], verb: impl FnOnce(Value) -> Response<Body>) -> Response<Body> {
    match serde_json::from_slice(body) {
        Ok(v) => verb(v),
        Err(e) => http::bad_request(format!("the body is not JSON: {e}")),
    }
}

/// Maps a path onto a resource; `None` for paths a real server would 404.
fn parse(path: &str) -> Option<Target> {
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(str::to_string)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (api, rest) = match s.as_slice() {
        ["api", "v1", rest @ ..] => (Api::Core, rest),
        ["apis", "apps", "v1", rest @ ..] => (Api::Apps, rest),
        ["apis", "events.k8s.io", "v1", rest @ ..] => (Api::Events, rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, res, rest @ ..] => (Some(ns.to_string()), [&[*res][..], rest].concat()),
        _ => (None, rest.to_vec()),
    };
    let (resource, name, sub) = match rest.as_slice() {
        [res] => (*res, None, vec![]),
        [res, name, sub @ ..] => (
            *res,
            Some(name.to_string()),
            sub.iter().map(|x| x.to_string()).collect(),
        ),
        _ => return None,
    };
    let kind = match (api, resource) {
        (Api::Core, "namespaces") if ns.is_none() => Kind::Namespace,
        (Api::Core, "nodes") if ns.is_none() => Kind::Node,
        (Api::Core, "pods") => Kind::Pod,
        (Api::Core | Api::Events, "events") => Kind::Event,
        (Api::Apps, "deployments") => Kind::Deployment,
        _ => return None,
    };
    // `/api/v1/namespaces/NAME` is the namespace NAME, not a namespaced collection.
    let (ns, name) = match (kind, ns, name) {
        (Kind::Namespace, _, name) => (None, name),
        (_, ns, name) => (ns, name),
    };
    Some(Target {
        api,
        kind,
        ns,
        name,
        sub,
    })
}

/// The object as `api` serves it: events in that API's shape, others with kind/apiVersion.
pub fn render(api: Api, kind: Kind, obj: &Value) -> Value {
    let (kind_s, version) = match kind {
        Kind::Event if api == Api::Events => return kubelet::as_events_v1(obj),
        Kind::Event => return kubelet::as_core(obj),
        Kind::Namespace => ("Namespace", "v1"),
        Kind::Node => ("Node", "v1"),
        Kind::Pod => ("Pod", "v1"),
        Kind::Deployment => ("Deployment", "apps/v1"),
    };
    let mut out = json!({"kind": kind_s, "apiVersion": version});
    if let (Some(o), Some(m)) = (out.as_object_mut(), obj.as_object()) {
        o.extend(m.clone());
    }
    out
}

fn plural(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Namespace => ("namespaces", ""),
        Kind::Node => ("nodes", ""),
        Kind::Pod => ("pods", ""),
        Kind::Deployment => ("deployments", "apps"),
        Kind::Event => ("events", ""),
    }
}

fn store_ns(t: &Target) -> &str {
    t.ns.as_deref().unwrap_or("")
}

fn get(shared: &Shared, t: &Target, name: &str) -> Response<Body> {
    let inner = lock(shared);
    match inner.store.get(t.kind, store_ns(t), name) {
        Some(o) => json_response(StatusCode::OK, &render(t.api, t.kind, o)),
        None => not_found(plural(t.kind).0, plural(t.kind).1, name),
    }
}

/// A new namespace object as the server completes it.
pub fn new_namespace(name: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

fn create(shared: &Shared, t: &Target, mut obj: Value) -> Response<Body> {
    let mut inner = lock(shared);
    let (plural_s, group) = plural(t.kind);
    let name = match (obj["metadata"]["name"].as_str(), obj["metadata"]["generateName"].as_str()) {
        (Some(n), _) => n.to_string(),
        (None, Some(prefix)) => format!("{prefix}{}", inner.suffix()),
        (None, None) => return http::status(StatusCode::UNPROCESSABLE_ENTITY, "Invalid",
            format!("{plural_s} \"\" is invalid: metadata.name: Required value: name or generateName is required"), Value::Null),
    };
    obj["metadata"]["name"] = json!(name);
    if let Some(ns) = &t.ns {
        if let Some(refusal) = namespace_refusal(&inner, ns, plural_s, &name) {
            return refusal;
        }
    }
    if inner.store.get(t.kind, store_ns(t), &name).is_some() {
        let full = if group.is_empty() {
            plural_s.to_string()
        } else {
            format!("{plural_s}.{group}")
        };
        return http::status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{full} \"{name}\" already exists"),
            json!({"name": name, "group": group, "kind": plural_s}),
        );
    }
    let ns = store_ns(t).to_string();
    let created = match t.kind {
        Kind::Namespace => {
            let mut full = new_namespace(&name);
            merge_patch(&mut full["metadata"], &obj["metadata"]);
            inner.store.insert(Kind::Namespace, "", full)
        }
        Kind::Node => return http::not_allowed(),
        Kind::Pod => lifecycle::create_pod(shared, &mut inner, &ns, obj),
        Kind::Deployment => deployment::create_deployment(shared, &mut inner, &ns, obj),
        Kind::Event => {
            obj["metadata"]["namespace"] = json!(ns);
            inner.store.insert(Kind::Event, &ns, obj)
        }
    };
    json_response(StatusCode::CREATED, &render(t.api, t.kind, &created))
}

/// `404` for a missing namespace, `403` for one being terminated.
fn namespace_refusal(
    inner: &super::Inner,
    ns: &str,
    plural_s: &str,
    name: &str,
) -> Option<Response<Body>> {
    let Some(n) = inner.store.get(Kind::Namespace, "", ns) else {
        return Some(not_found("namespaces", "", ns));
    };
    (n["status"]["phase"] == "Terminating").then(|| {
        http::status(StatusCode::FORBIDDEN, "Forbidden",
            format!("{plural_s} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"),
            json!({"name": name, "kind": plural_s}))
    })
}

fn delete(shared: &Shared, t: &Target, name: &str) -> Response<Body> {
    let mut inner = lock(shared);
    let ns = store_ns(t).to_string();
    let (plural_s, group) = plural(t.kind);
    let gone = match t.kind {
        Kind::Namespace => lifecycle::delete_namespace(shared, &mut inner, name).map(|o| render(t.api, t.kind, &o)),
        Kind::Node => return http::not_allowed(),
        Kind::Pod => lifecycle::delete_pod(shared, &mut inner, &ns, name).map(|o| render(t.api, t.kind, &o)),
        Kind::Deployment => deployment::delete_deployment(shared, &mut inner, &ns, name).map(|o| {
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": group, "kind": plural_s, "uid": o["metadata"]["uid"]}})
        }),
        Kind::Event => inner.store.remove(Kind::Event, &ns, name).map(|o| render(t.api, t.kind, &o)),
    };
    match gone {
        Some(v) => json_response(StatusCode::OK, &v),
        None => not_found(plural_s, group, name),
    }
}

/// `PUT`/`PATCH` of a deployment or its `scale`: the new `spec` goes to the controller.
fn update(shared: &Shared, t: &Target, name: &str, put: bool, body: Value) -> Response<Body> {
    let mut inner = lock(shared);
    let ns = store_ns(t).to_string();
    let Some(current) = inner.store.get(Kind::Deployment, &ns, name).cloned() else {
        return not_found("deployments", "apps", name);
    };
    let scale = t.sub.first().is_some_and(|s| s == "scale");
    let sent_rv = body["metadata"]["resourceVersion"].as_str().unwrap_or("");
    if put && !sent_rv.is_empty() && current["metadata"]["resourceVersion"] != sent_rv {
        return http::status(StatusCode::CONFLICT, "Conflict",
            format!("Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
            json!({"name": name, "group": "apps", "kind": "deployments"}));
    }
    let mut spec = current["spec"].clone();
    match (scale, put) {
        (true, _) => merge_patch(&mut spec["replicas"], &body["spec"]["replicas"]),
        (false, true) => spec = body["spec"].clone(),
        (false, false) => merge_patch(&mut spec, &body["spec"]),
    }
    let Some(updated) = deployment::update_deployment(shared, &mut inner, &ns, name, spec) else {
        return not_found("deployments", "apps", name);
    };
    let out = if scale {
        scale_json(&updated)
    } else {
        render(t.api, t.kind, &updated)
    };
    json_response(StatusCode::OK, &out)
}

fn scale_of(shared: &Shared, t: &Target, name: &str) -> Response<Body> {
    let inner = lock(shared);
    match inner.store.get(Kind::Deployment, store_ns(t), name) {
        Some(d) => json_response(StatusCode::OK, &scale_json(d)),
        None => not_found("deployments", "apps", name),
    }
}

/// The `autoscaling/v1` Scale of a deployment.
fn scale_json(d: &Value) -> Value {
    let selector = d["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let m = &d["metadata"];
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"]},
        "spec": {"replicas": d["spec"]["replicas"]},
        "status": {"replicas": d["status"]["replicas"].as_u64().unwrap_or(0), "selector": selector}})
}

/// `GET …/pods/NAME[:PORT]/proxy/PATH`: the app's answer once its container started; a
/// never-ready pod's app answers 503; before it starts, the API server cannot dial it.
fn proxy(shared: &Shared, t: &Target, name_port: &str) -> Response<Body> {
    let mut parts: Vec<&str> = name_port.split(':').collect();
    if parts.len() > 1 && matches!(parts[0], "http" | "https") {
        parts.remove(0);
    }
    let name = parts[0];
    let port = parts.get(1).copied().unwrap_or("80");
    let inner = lock(shared);
    let Some(pod) = inner.store.get(Kind::Pod, store_ns(t), name) else {
        return not_found("pods", "", name);
    };
    if pod["status"]["phase"] != "Running" {
        let ip = pod["status"]["podIP"].as_str().unwrap_or("10.244.0.7");
        return http::status(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            format!(
                "error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"
            ),
            Value::Null,
        );
    }
    if inner.timeline_for(name).never_ready {
        return http::text_response(StatusCode::SERVICE_UNAVAILABLE, "not ready\n");
    }
    http::text_response(StatusCode::OK, &inner.proxy_body)
}

fn version() -> Value {
    json!({"major": "1", "minor": "35", "gitVersion": "v1.35.0", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2025-12-17T00:00:00Z", "goVersion": "go1.25.5",
        "compiler": "gc", "platform": "linux/amd64"})
}
