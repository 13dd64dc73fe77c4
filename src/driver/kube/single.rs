//! A single cold start: watch, create the pod, follow it to its first answer, delete it and
//! wait until it is gone (so the next sample's node is not busy with it).

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;
use tokio::time::Instant;

use super::connect::bounded;
use super::follow::{Admit, Follower, PROBE_GRACE};
use super::objects::{self, GROUP_LABEL};
use super::probe::SINGLE_INTERVAL;
use super::tracker::Tracker;
use super::watch::Watch;
use super::KubeDriver;
use crate::driver::cluster::{PodRequest, PodTimeline};
use crate::results::Phase;

/// Longest the driver waits for a deleted pod (or a Deployment's pods) to be gone.
pub const GONE_WAIT: Duration = Duration::from_secs(60);

/// A single pod: nothing more to admit.
struct One;

impl Admit for One {
    fn admit(&mut self, _: &Pod, _: Instant) -> Option<(Instant, Instant)> {
        None
    }
    fn complete(&self, _: &Tracker) -> bool {
        true
    }
}

/// A timeline that failed before the pod existed.
pub fn failed_before(name: &str, requested: Instant, message: String) -> PodTimeline {
    let mut timeline = PodTimeline::new(name, requested);
    timeline.failure = Some((Phase::Pull, message));
    timeline
}

/// One pod's cold start.
pub async fn cold_start(driver: &KubeDriver, request: &PodRequest) -> PodTimeline {
    let ns = driver.namespace.as_str();
    let client = &driver.clients.api;
    let mut watch = match Watch::start(client, ns, &request.name, Some(&request.name)).await {
        Ok(w) => w,
        Err(e) => return failed_before(&request.name, Instant::now(), e),
    };
    let pod = match objects::pod(request, &driver.pods) {
        Ok(p) => p,
        Err(e) => return failed_before(&request.name, Instant::now(), format!("pod spec: {e}")),
    };
    let pods = Api::<Pod>::namespaced(client.clone(), ns);
    let requested = Instant::now();
    let timeout = request.ready.timeout.0;
    let mut tracker = Tracker::default();
    tracker.add(&request.name, requested, requested + timeout);
    let what = format!("creating pod {}", request.name);
    if let Err(message) = bounded(&what, pods.create(&PostParams::default(), &pod)).await {
        return failed_before(&request.name, requested, message);
    }
    let follower = Follower {
        probe: &driver.clients.probe,
        ns,
        request,
        interval: SINGLE_INTERVAL,
    };
    follower
        .run(
            &mut watch,
            &mut tracker,
            &mut One,
            requested + timeout + PROBE_GRACE,
        )
        .await;
    drop(watch);
    delete_and_wait(&pods, &request.name, std::slice::from_ref(&request.name)).await;
    tracker.pods.swap_remove(0).timeline
}

/// Deletes the pods `names` of `group` (one pod, or what a deleted Deployment leaves) and
/// waits, at most [`GONE_WAIT`], until no pod of the group is left.
pub async fn delete_and_wait(pods: &Api<Pod>, group: &str, names: &[String]) {
    let selector = format!("{GROUP_LABEL}={group}");
    let params = ListParams::default().labels(&selector);
    let now = DeleteParams::default().grace_period(0);
    for name in names {
        let _ = bounded("deleting a pod", pods.delete(name, &now)).await;
    }
    let gone = async {
        loop {
            match pods.list(&params).await {
                Ok(list) if list.items.is_empty() => return,
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    };
    let _ = tokio::time::timeout(GONE_WAIT, gone).await;
}
