//! The controllers the double plays: the scheduler and kubelet (a pod's scripted timeline), the
//! deployment controller (scale → pods), garbage collection and namespace termination.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::deployment::refresh_deployments;
use super::kubelet::{self, Source};
use super::store::Kind;
use super::{Inner, Timeline};

/// The server's state, shared by the routes and the controllers' tasks.
pub type Shared = Arc<Mutex<Inner>>;

/// Locks the state; a panicked holder leaves it usable (tests report the panic itself).
pub fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// One step of a pod's life after creation, `Timeline::step` apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Schedule,
    Pulling,
    Pulled,
    Created,
    Started,
    Ready,
}

const STEPS: [Step; 6] = [
    Step::Schedule,
    Step::Pulling,
    Step::Pulled,
    Step::Created,
    Step::Started,
    Step::Ready,
];

/// Stores a new pod (`Pending`, unscheduled) and starts its timeline.
pub fn create_pod(shared: &Shared, inner: &mut Inner, ns: &str, mut pod: Value) -> Value {
    let spec = &mut pod["spec"];
    if spec["schedulerName"].is_null() {
        spec["schedulerName"] = json!("default-scheduler");
    }
    if spec["restartPolicy"].is_null() {
        spec["restartPolicy"] = json!("Always");
    }
    pod["metadata"]["namespace"] = json!(ns);
    pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    let obj = inner.store.insert(Kind::Pod, ns, pod);
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let timeline = inner.timeline_for(&name);
    tokio::spawn(run_pod(shared.clone(), ns.to_string(), name, timeline));
    obj
}

async fn run_pod(shared: Shared, ns: String, name: String, timeline: Timeline) {
    for step in STEPS {
        tokio::time::sleep(timeline.step).await;
        let mut inner = lock(&shared);
        let alive = inner
            .store
            .get(Kind::Pod, &ns, &name)
            .is_some_and(|p| p["metadata"]["deletionTimestamp"].is_null());
        if !alive {
            return;
        }
        apply(&mut inner, &ns, &name, step, &timeline);
    }
}

fn apply(inner: &mut Inner, ns: &str, name: &str, step: Step, t: &Timeline) {
    let Some(pod) = inner.store.get(Kind::Pod, ns, name).cloned() else {
        return;
    };
    let container = pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or("app")
        .to_string();
    let image = pod["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let node = pod["spec"]["nodeName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kubelet = Source::Kubelet {
        node: &node,
        container: &container,
    };
    match step {
        Step::Schedule => schedule(inner, ns, name, t),
        Step::Pulling => {
            let pod = inner
                .store
                .modify(Kind::Pod, ns, name, |p| initialize(p, &container, &image))
                .unwrap_or(pod);
            if !t.pull.present {
                emit(
                    inner,
                    t,
                    &pod,
                    kubelet,
                    "Pulling",
                    "Normal",
                    &kubelet::pulling(&image),
                );
            }
        }
        Step::Pulled => emit(
            inner,
            t,
            &pod,
            kubelet,
            "Pulled",
            "Normal",
            &kubelet::pulled(t.format, &image, &t.pull),
        ),
        Step::Created => emit(
            inner,
            t,
            &pod,
            kubelet,
            "Created",
            "Normal",
            &kubelet::created(t.format, &container),
        ),
        Step::Started => {
            let pod = inner
                .store
                .modify(Kind::Pod, ns, name, start)
                .unwrap_or(pod);
            emit(
                inner,
                t,
                &pod,
                kubelet,
                "Started",
                "Normal",
                &kubelet::started(&container),
            );
        }
        Step::Ready if t.never_ready => {
            let msg = "Readiness probe failed: HTTP probe failed with statuscode: 503";
            emit(inner, t, &pod, kubelet, "Unhealthy", "Warning", msg);
        }
        Step::Ready => {
            inner.store.modify(Kind::Pod, ns, name, ready);
            refresh_deployments(inner, ns);
        }
    }
}

/// The scheduler binds the pod to the next scripted node and says so.
fn schedule(inner: &mut Inner, ns: &str, name: &str, t: &Timeline) {
    let node = inner.next_node();
    let Some(pod) = inner.store.modify(Kind::Pod, ns, name, |p| {
        p["spec"]["nodeName"] = json!(node);
        set_condition(p, "PodScheduled", "True", None);
    }) else {
        return;
    };
    let msg = format!("Successfully assigned {ns}/{name} to {node}");
    emit(
        inner,
        t,
        &pod,
        Source::Scheduler,
        "Scheduled",
        "Normal",
        &msg,
    );
}

fn emit(
    inner: &mut Inner,
    t: &Timeline,
    pod: &Value,
    src: Source,
    reason: &str,
    type_: &str,
    msg: &str,
) {
    if t.dropped.iter().any(|d| d == reason) {
        return;
    }
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ev = kubelet::event(pod, src, reason, type_, msg);
    inner.store.insert(Kind::Event, &ns, ev);
}

fn initialize(p: &mut Value, container: &str, image: &str) {
    let node_ip = "172.18.0.2";
    p["status"]["hostIP"] = json!(node_ip);
    p["status"]["hostIPs"] = json!([{"ip": node_ip}]);
    p["status"]["startTime"] = json!(super::time::now_seconds());
    set_condition(p, "Initialized", "True", None);
    set_condition(p, "Ready", "False", Some("ContainersNotReady"));
    set_condition(p, "ContainersReady", "False", Some("ContainersNotReady"));
    p["status"]["containerStatuses"] = json!([{
        "name": container, "image": image, "imageID": "", "ready": false, "restartCount": 0,
        "started": false, "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
    }]);
}

fn start(p: &mut Value) {
    p["status"]["phase"] = json!("Running");
    p["status"]["podIP"] = json!("10.244.0.7");
    p["status"]["podIPs"] = json!([{"ip": "10.244.0.7"}]);
    let cs = &mut p["status"]["containerStatuses"][0];
    cs["started"] = json!(true);
    cs["containerID"] = json!("containerd://5f0c0ffee");
    cs["imageID"] = json!(format!(
        "{}@sha256:{}",
        cs["image"].as_str().unwrap_or_default(),
        "ab".repeat(32)
    ));
    cs["state"] = json!({"running": {"startedAt": super::time::now_seconds()}});
}

fn ready(p: &mut Value) {
    set_condition(p, "ContainersReady", "True", None);
    set_condition(p, "Ready", "True", None);
    p["status"]["containerStatuses"][0]["ready"] = json!(true);
}

/// Sets (or adds) a pod condition; `lastTransitionTime` has one-second resolution, as real.
fn set_condition(p: &mut Value, type_: &str, status: &str, reason: Option<&str>) {
    let mut c = json!({"type": type_, "status": status, "lastProbeTime": null,
        "lastTransitionTime": super::time::now_seconds()});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    let conds = &mut p["status"]["conditions"];
    if !conds.is_array() {
        *conds = json!([]);
    }
    if let Some(list) = conds.as_array_mut() {
        list.retain(|x| x["type"] != type_);
        list.push(c);
    }
}

/// Marks a pod terminating and removes it `Inner::pod_termination` later (kubelet confirms).
pub fn delete_pod(shared: &Shared, inner: &mut Inner, ns: &str, name: &str) -> Option<Value> {
    let obj = inner.store.modify(Kind::Pod, ns, name, |p| {
        p["metadata"]["deletionTimestamp"] = json!(super::time::now_seconds());
        p["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    })?;
    let (shared, ns, name, after) = (
        shared.clone(),
        ns.to_string(),
        name.to_string(),
        inner.pod_termination,
    );
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let mut inner = lock(&shared);
        inner.store.remove(Kind::Pod, &ns, &name);
        refresh_deployments(&mut inner, &ns);
    });
    Some(obj)
}

/// True when the pod's `Ready` condition is `True`.
pub fn is_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

/// Namespace deletion: `Terminating` now; contents and then the namespace gone
/// `Inner::namespace_termination` later (the namespace controller's sweep).
pub fn delete_namespace(shared: &Shared, inner: &mut Inner, name: &str) -> Option<Value> {
    let obj = inner.store.modify(Kind::Namespace, "", name, |n| {
        n["metadata"]["deletionTimestamp"] = json!(super::time::now_seconds());
        n["status"]["phase"] = json!("Terminating");
    })?;
    let (shared, name, after) = (
        shared.clone(),
        name.to_string(),
        inner.namespace_termination,
    );
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let mut inner = lock(&shared);
        for kind in [Kind::Deployment, Kind::Pod, Kind::Event] {
            for o in inner.store.list(kind, Some(&name)) {
                let n = o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                inner.store.remove(kind, &name, &n);
            }
        }
        inner.store.remove(Kind::Namespace, "", &name);
    });
    Some(obj)
}
