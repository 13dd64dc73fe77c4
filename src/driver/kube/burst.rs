//! A burst: a Deployment created with 0 replicas and scaled on the plan's steps (its `scale`
//! subresource, like an HPA); each pod the watch shows is followed from the scale request that
//! asked for it. Capacity over time is the pods' first answers; placement is where the
//! scheduler put them.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use tokio::time::Instant;

use super::connect::bounded;
use super::follow::{Admit, Follower, PROBE_GRACE};
use super::objects;
use super::probe::BURST_INTERVAL;
use super::single::{delete_and_wait, failed_before};
use super::tracker::Tracker;
use super::watch::Watch;
use super::KubeDriver;
use crate::driver::cluster::{PodRequest, PodTimeline, ScaleStep};
use crate::results::Phase;

/// Scales the Deployment on schedule and admits its pods in the order they appear.
struct Scaler<'a> {
    deployments: Api<Deployment>,
    name: &'a str,
    t0: Instant,
    steps: &'a [ScaleStep],
    /// Steps requested so far, with when each was sent.
    sent: Vec<Instant>,
    timeout: Duration,
    admitted: usize,
    /// Why a scale request failed.
    error: Option<String>,
}

impl Scaler<'_> {
    fn total(&self) -> usize {
        self.steps.last().map_or(0, |s| s.replicas)
    }
}

impl Admit for Scaler<'_> {
    fn admit(&mut self, _: &Pod, _: Instant) -> Option<(Instant, Instant)> {
        let k = self.admitted;
        let step = self.steps[..self.sent.len()]
            .iter()
            .position(|s| s.replicas > k)?;
        self.admitted += 1;
        let requested = self.sent[step];
        Some((requested, requested + self.timeout))
    }

    fn next_wake(&self) -> Option<Instant> {
        self.steps.get(self.sent.len()).map(|s| self.t0 + s.offset)
    }

    async fn wake(&mut self) {
        let Some(step) = self.steps.get(self.sent.len()) else {
            return;
        };
        self.sent.push(Instant::now());
        let patch = Patch::Merge(json!({"spec": {"replicas": step.replicas}}));
        let what = format!("scaling deployment {} to {}", self.name, step.replicas);
        let params = PatchParams::default();
        let scaled = self.deployments.patch_scale(self.name, &params, &patch);
        if let Err(message) = bounded(&what, scaled).await {
            self.error = Some(message);
        }
    }

    fn complete(&self, _: &Tracker) -> bool {
        self.sent.len() == self.steps.len() && self.admitted >= self.total()
    }
}

/// The burst of `request` on `steps` after `t0`: one timeline per replica asked for.
pub async fn burst(
    driver: &KubeDriver,
    request: &PodRequest,
    steps: &[ScaleStep],
    t0: Instant,
) -> Vec<PodTimeline> {
    let ns = driver.namespace.as_str();
    let client = &driver.clients.api;
    let total = steps.last().map_or(0, |s| s.replicas);
    let fail_all = |message: String| {
        (0..total)
            .map(|i| failed_before(&format!("{}-{i}", request.name), t0, message.clone()))
            .collect()
    };
    let mut watch = match Watch::start(client, ns, &request.name, None).await {
        Ok(w) => w,
        Err(e) => return fail_all(e),
    };
    let deployment = match objects::deployment(request, &driver.pods) {
        Ok(d) => d,
        Err(e) => return fail_all(format!("deployment spec: {e}")),
    };
    let deployments = Api::<Deployment>::namespaced(client.clone(), ns);
    let what = format!("creating deployment {}", request.name);
    let params = PostParams::default();
    if let Err(message) = bounded(&what, deployments.create(&params, &deployment)).await {
        return fail_all(message);
    }
    let timeout = request.ready.timeout.0;
    let mut scaler = Scaler {
        deployments: deployments.clone(),
        name: &request.name,
        t0,
        steps,
        sent: Vec::new(),
        timeout,
        admitted: 0,
        error: None,
    };
    let mut tracker = Tracker::default();
    let follower = Follower {
        probe: &driver.clients.probe,
        ns,
        request,
        interval: BURST_INTERVAL,
    };
    let last = steps.last().map_or(Duration::ZERO, |s| s.offset);
    let end = t0 + last + timeout + PROBE_GRACE;
    follower
        .run(&mut watch, &mut tracker, &mut scaler, end)
        .await;
    drop(watch);
    let names: Vec<String> = tracker
        .pods
        .iter()
        .map(|p| p.timeline.name.clone())
        .collect();
    let params = DeleteParams::background();
    let _ = bounded(
        "deleting the deployment",
        deployments.delete(&request.name, &params),
    )
    .await;
    let pods = Api::<Pod>::namespaced(client.clone(), ns);
    delete_and_wait(&pods, &request.name, &names).await;
    let mut timelines: Vec<PodTimeline> = tracker.pods.into_iter().map(|p| p.timeline).collect();
    missing(&mut timelines, &scaler, request, t0, timeout);
    timelines
}

/// Replicas the Deployment never created: failed timelines saying why.
fn missing(
    timelines: &mut Vec<PodTimeline>,
    scaler: &Scaler<'_>,
    request: &PodRequest,
    t0: Instant,
    timeout: Duration,
) {
    for k in timelines.len()..scaler.total() {
        let step = scaler
            .steps
            .iter()
            .position(|s| s.replicas > k)
            .unwrap_or(0);
        let requested = scaler.sent.get(step).copied().unwrap_or(t0);
        let why = scaler.error.clone().unwrap_or_else(|| {
            format!(
                "deployment {} did not create replica {} within {}s of its scale request (quota, admission webhook, or too slow a controller: kubectl describe replicaset -n <namespace>)",
                request.name,
                k + 1,
                timeout.as_secs_f64()
            )
        });
        let mut timeline = PodTimeline::new(format!("{}-missing-{k}", request.name), requested);
        timeline.failure = Some((Phase::Pull, why));
        timelines.push(timeline);
    }
}
