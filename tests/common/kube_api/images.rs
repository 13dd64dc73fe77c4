//! The kubelet's image manager: a pod's image comes from the timeline's script, the node's
//! cache (`already present on machine`) or a real pull from a mapped registry host, one pull at
//! a time per node (`serializeImagePulls`), with `Pulled` or `Failed`/`ErrImagePull` at its end.

use serde_json::{json, Value};

use super::kubelet::{self, Pull};
use super::lifecycle::{alive, emit, initialize, lock, Flow, PodCtx, Shared};
use super::nodes::{self, CachedImage};
use super::pull::{Fetched, ImageRef, PullJob};
use super::store::Kind;
use super::{Inner, Timeline};

/// Runs `job` for the pod `ns/name` outside the state lock, then records its end: the image
/// cached on the node (even when the pod was deleted meanwhile: the runtime keeps it) and the
/// pod's `Pulled` or failure. False when the pod cannot go on.
pub async fn pull(shared: &Shared, ns: &str, name: &str, t: &Timeline, job: &PullJob) -> bool {
    let outcome = serialized_pull(shared, job).await;
    let mut inner = lock(shared);
    if let Ok(fetched) = &outcome {
        nodes::cache_image(&mut inner, &job.node, cached_image(job, fetched));
    }
    alive(&inner, ns, name) && finish_pull(&mut inner, ns, name, t, job, outcome)
}

/// The kubelet's serialized pulls (`serializeImagePulls`, the default): wait for the node's
/// earlier pulls, then pull; when one of them brought the image meanwhile, the runtime only
/// resolves the reference again (no blob is fetched twice). `with_waiting` counts the wait.
async fn serialized_pull(shared: &Shared, job: &PullJob) -> Result<Fetched, String> {
    let queued = std::time::Instant::now();
    let _turn = job.queue.lock().await;
    let present = {
        let inner = lock(shared);
        nodes::cached(&inner, &job.node, &job.image).is_some()
    };
    let mut fetched = job.run(present).await?;
    fetched.with_waiting = queued.elapsed();
    Ok(fetched)
}

fn cached_image(job: &PullJob, fetched: &Fetched) -> CachedImage {
    CachedImage {
        reference: job.image.clone(),
        digest: fetched.digest.clone(),
        size: fetched.size,
    }
}

/// How the node gets the pod's image.
enum Plan {
    /// The timeline's scripted pull (no registry host mapped for the image).
    Scripted,
    /// In the node's cache already.
    Cached,
    /// A real pull from the mapped registry.
    Fetch(PullJob),
}

/// The kubelet's image step: the pod initialized, then a scripted, cached or real pull.
pub fn pulling(
    inner: &mut Inner,
    ns: &str,
    name: &str,
    t: &Timeline,
    ctx: &PodCtx,
    pod: Value,
) -> Flow {
    let host_ip = nodes::state(inner, &ctx.node)
        .map_or_else(|| "172.18.0.2".to_string(), |n| n.ip.to_string());
    let pod = inner
        .store
        .modify(Kind::Pod, ns, name, |p| {
            initialize(p, &ctx.container, &ctx.image, &host_ip)
        })
        .unwrap_or(pod);
    let pulling = |inner: &mut Inner| {
        emit(
            inner,
            t,
            &pod,
            ctx.kubelet(),
            "Pulling",
            "Normal",
            &kubelet::pulling(&ctx.image),
        );
    };
    match plan(inner, &ctx.node, &ctx.image) {
        Plan::Scripted => {
            if !t.pull.present {
                pulling(inner);
            }
            Flow::Next
        }
        Plan::Cached => Flow::Present,
        Plan::Fetch(job) => {
            pulling(inner);
            Flow::Pull(job)
        }
    }
}

/// A real pull when the image's registry host is mapped, unless the node has the image.
fn plan(inner: &Inner, node: &str, image: &str) -> Plan {
    let Some(target) = ImageRef::parse(image) else {
        return Plan::Scripted;
    };
    let Some(dial) = inner
        .registry_hosts
        .iter()
        .find(|(h, _)| *h == target.host)
        .map(|(_, d)| d.clone())
    else {
        return Plan::Scripted;
    };
    if nodes::cached(inner, node, image).is_some() {
        return Plan::Cached;
    }
    let Some(state) = nodes::state(inner, node) else {
        return Plan::Scripted;
    };
    Plan::Fetch(PullJob {
        image: image.to_string(),
        target,
        dial,
        node: node.to_string(),
        node_ip: state.ip,
        queue: state.pulls.clone(),
    })
}

/// The end of a real pull for the pod: `Pulled`, or the kubelet's `Failed` events and
/// `ErrImagePull`. False when the pod cannot go on.
fn finish_pull(
    inner: &mut Inner,
    ns: &str,
    name: &str,
    t: &Timeline,
    job: &PullJob,
    outcome: Result<Fetched, String>,
) -> bool {
    let Some(pod) = inner.store.get(Kind::Pod, ns, name).cloned() else {
        return false;
    };
    let ctx = PodCtx::of(&pod);
    match outcome {
        Ok(fetched) => {
            let pull = Pull {
                took: fetched.took,
                with_waiting: fetched.with_waiting,
                size: fetched.size,
                present: false,
            };
            let msg = kubelet::pulled(t.format, &job.image, &pull);
            emit(inner, t, &pod, ctx.kubelet(), "Pulled", "Normal", &msg);
            true
        }
        Err(reason) => {
            let pod = inner
                .store
                .modify(Kind::Pod, ns, name, |p| image_pull_error(p, &reason))
                .unwrap_or(pod);
            let msg = format!("Failed to pull image \"{}\": {reason}", job.image);
            emit(inner, t, &pod, ctx.kubelet(), "Failed", "Warning", &msg);
            emit(
                inner,
                t,
                &pod,
                ctx.kubelet(),
                "Failed",
                "Warning",
                "Error: ErrImagePull",
            );
            false
        }
    }
}

fn image_pull_error(p: &mut Value, reason: &str) {
    p["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "ErrImagePull", "message": reason}});
}
