//! The controllers the double plays: the scheduler and kubelet (a pod's scripted timeline), the
//! deployment controller (scale → pods), garbage collection and namespace termination.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::deployment::refresh_deployments;
use super::images;
use super::kubelet::{self, Source};
use super::nodes;
use super::pull::PullJob;
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

/// What the timeline does after a step.
pub enum Flow {
    /// On to the next step.
    Next,
    /// The pod's timeline ends here (unschedulable, or its image failed to pull).
    Stop,
    /// The image is on the node: the `Pulled` step says `already present`.
    Present,
    /// A real pull to run outside the lock; its end is the `Pulled` step.
    Pull(PullJob),
}

async fn run_pod(shared: Shared, ns: String, name: String, mut timeline: Timeline) {
    let mut pulled = false;
    for step in STEPS {
        if step == Step::Pulled && pulled {
            continue;
        }
        tokio::time::sleep(timeline.step).await;
        let flow = {
            let mut inner = lock(&shared);
            if !alive(&inner, &ns, &name) {
                return;
            }
            apply(&mut inner, &ns, &name, step, &timeline)
        };
        match flow {
            Flow::Next => {}
            Flow::Stop => return,
            Flow::Present => timeline.pull.present = true,
            Flow::Pull(job) => {
                if !images::pull(&shared, &ns, &name, &timeline, &job).await {
                    return;
                }
                pulled = true;
            }
        }
    }
}

/// True while the pod exists and is not being deleted.
pub fn alive(inner: &Inner, ns: &str, name: &str) -> bool {
    inner
        .store
        .get(Kind::Pod, ns, name)
        .is_some_and(|p| p["metadata"]["deletionTimestamp"].is_null())
}

/// The pod's first container and its node, as the kubelet sees them.
pub struct PodCtx {
    pub container: String,
    pub image: String,
    pub node: String,
}

impl PodCtx {
    pub fn of(pod: &Value) -> Self {
        let text = |v: &Value, default: &str| v.as_str().unwrap_or(default).to_string();
        PodCtx {
            container: text(&pod["spec"]["containers"][0]["name"], "app"),
            image: text(&pod["spec"]["containers"][0]["image"], ""),
            node: text(&pod["spec"]["nodeName"], ""),
        }
    }

    pub fn kubelet(&self) -> Source<'_> {
        Source::Kubelet {
            node: &self.node,
            container: &self.container,
        }
    }
}

fn apply(inner: &mut Inner, ns: &str, name: &str, step: Step, t: &Timeline) -> Flow {
    let Some(pod) = inner.store.get(Kind::Pod, ns, name).cloned() else {
        return Flow::Stop;
    };
    let ctx = PodCtx::of(&pod);
    let kubelet = ctx.kubelet();
    match step {
        Step::Schedule => return schedule(inner, ns, name, t),
        Step::Pulling => return images::pulling(inner, ns, name, t, &ctx, pod),
        Step::Pulled => emit(
            inner,
            t,
            &pod,
            kubelet,
            "Pulled",
            "Normal",
            &kubelet::pulled(t.format, &ctx.image, &t.pull),
        ),
        Step::Created => emit(
            inner,
            t,
            &pod,
            kubelet,
            "Created",
            "Normal",
            &kubelet::created(t.format, &ctx.container),
        ),
        Step::Started => {
            let image_id = nodes::cached(inner, &ctx.node, &ctx.image).map_or_else(
                || format!("{}@sha256:{}", ctx.image, "ab".repeat(32)),
                |c| c.pinned(),
            );
            let pod = inner
                .store
                .modify(Kind::Pod, ns, name, |p| start(p, &image_id))
                .unwrap_or(pod);
            emit(
                inner,
                t,
                &pod,
                kubelet,
                "Started",
                "Normal",
                &kubelet::started(&ctx.container),
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
    Flow::Next
}

/// The scheduler binds the pod to a node matching its `nodeSelector` (round-robin) and says
/// so; with no such node, the pod stays Pending, `Unschedulable`.
fn schedule(inner: &mut Inner, ns: &str, name: &str, t: &Timeline) -> Flow {
    let Some(pod) = inner.store.get(Kind::Pod, ns, name) else {
        return Flow::Stop;
    };
    if let Some(node) = pod["spec"]["nodeName"].as_str().map(str::to_string) {
        return bound(inner, ns, name, &node);
    }
    let selector = pod["spec"]["nodeSelector"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let node = match nodes::pick(inner, &selector) {
        Ok(node) => node,
        Err(total) => {
            unschedulable(inner, ns, name, t, total);
            return Flow::Stop;
        }
    };
    let Some(pod) = inner.store.modify(Kind::Pod, ns, name, |p| {
        p["spec"]["nodeName"] = json!(node);
        set_condition(p, "PodScheduled", "True", None);
    }) else {
        return Flow::Stop;
    };
    let msg = format!("Successfully assigned {ns}/{name} to {node}");
    let src = Source::Scheduler { action: "Binding" };
    emit(inner, t, &pod, src, "Scheduled", "Normal", &msg);
    Flow::Next
}

/// A pod created with `spec.nodeName` skips the scheduler (no `Scheduled` event): that node's
/// kubelet runs it; with no such node, nothing ever does.
fn bound(inner: &mut Inner, ns: &str, name: &str, node: &str) -> Flow {
    if nodes::state(inner, node).is_none() {
        return Flow::Stop;
    }
    inner.store.modify(Kind::Pod, ns, name, |p| {
        set_condition(p, "PodScheduled", "True", None);
    });
    Flow::Next
}

/// `PodScheduled=False` (`Unschedulable`) and the scheduler's `FailedScheduling` warning.
fn unschedulable(inner: &mut Inner, ns: &str, name: &str, t: &Timeline, total: usize) {
    let msg = nodes::unschedulable_message(total);
    let Some(pod) = inner.store.modify(Kind::Pod, ns, name, |p| {
        set_condition(p, "PodScheduled", "False", Some("Unschedulable"));
        if let Some(c) = p["status"]["conditions"]
            .as_array_mut()
            .and_then(|cs| cs.last_mut())
        {
            c["message"] = json!(msg);
        }
    }) else {
        return;
    };
    let src = Source::Scheduler {
        action: "Scheduling",
    };
    emit(inner, t, &pod, src, "FailedScheduling", "Warning", &msg);
}

/// Stores an event about `pod`, unless the timeline drops its reason.
pub fn emit(
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

/// The kubelet admitted the pod on `node_ip`: initialized, its container creating.
pub fn initialize(p: &mut Value, container: &str, image: &str, node_ip: &str) {
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

/// The container running; `image_id` is the image pinned to its digest (`repo@sha256:…`).
fn start(p: &mut Value, image_id: &str) {
    p["status"]["phase"] = json!("Running");
    p["status"]["podIP"] = json!("10.244.0.7");
    p["status"]["podIPs"] = json!([{"ip": "10.244.0.7"}]);
    let cs = &mut p["status"]["containerStatuses"][0];
    cs["started"] = json!(true);
    cs["containerID"] = json!("containerd://5f0c0ffee");
    cs["imageID"] = json!(image_id);
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
