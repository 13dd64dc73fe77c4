//! Following pods to their first answer: the watch's items go into the [`Tracker`], a probe
//! starts for each pod once its container runs, and pods that pass their deadline are given
//! up on. New pods (a Deployment's) are admitted through a [`Admit`] callback that says when
//! each was requested.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use tokio::time::Instant;

use super::probe::Probe;
use super::tracker::Tracker;
use super::watch::{Seen, Stamped, Watch};
use crate::driver::cluster::PodRequest;

/// How long after a pod's deadline the follower still waits for its probe's last word (one
/// probe request's timeout, and some).
pub const PROBE_GRACE: Duration = Duration::from_secs(3);

/// What follows the pods of one request.
pub struct Follower<'a> {
    /// The probe client (no retries).
    pub probe: &'a Client,
    /// Namespace.
    pub ns: &'a str,
    /// The pod (or pod template).
    pub request: &'a PodRequest,
    /// Probe poll interval.
    pub interval: Duration,
}

/// Decides whether a pod the watch showed is followed: `Some((requested, deadline))` to follow
/// it, `None` to ignore it (a replacement beyond the replicas asked for).
pub trait Admit {
    /// Called for each pod seen for the first time.
    fn admit(&mut self, pod: &Pod, at: Instant) -> Option<(Instant, Instant)>;
    /// Next instant the caller wants control back (a scale step), if any.
    fn next_wake(&self) -> Option<Instant> {
        None
    }
    /// Called at [`Admit::next_wake`].
    fn wake(&mut self) -> impl std::future::Future<Output = ()> + Send {
        async {}
    }
    /// True when no more pods are expected.
    fn complete(&self, tracker: &Tracker) -> bool;
}

impl Follower<'_> {
    /// Follows until `admit` is complete and every followed pod answered or failed, or `end`
    /// (then every pod not done is given up on).
    pub async fn run(
        &self,
        watch: &mut Watch,
        tracker: &mut Tracker,
        admit: &mut impl Admit,
        end: Instant,
    ) {
        loop {
            self.start_probes(watch, tracker);
            if admit.complete(tracker) && tracker.pods.iter().all(|p| p.done()) {
                return;
            }
            let now = Instant::now();
            if now >= end {
                self.time_out(tracker, now, true);
                return;
            }
            let deadline = tracker
                .pods
                .iter()
                .filter(|p| p.waits_on_deadline())
                .map(|p| p.deadline)
                .chain(
                    tracker
                        .pods
                        .iter()
                        .filter(|p| !p.done())
                        .filter_map(|p| p.settles_at()),
                )
                .chain(admit.next_wake())
                .chain([end])
                .min()
                .unwrap_or(end);
            tokio::select! {
                item = watch.rx.recv() => match item {
                    Some(item) => self.take(tracker, admit, item),
                    None => return,
                },
                _ = tokio::time::sleep_until(deadline) => {
                    let now = Instant::now();
                    if admit.next_wake().is_some_and(|w| w <= now) {
                        admit.wake().await;
                    }
                    self.time_out(tracker, now, false);
                }
            }
        }
    }

    fn take(&self, tracker: &mut Tracker, admit: &mut impl Admit, item: Stamped) {
        let at = item.at;
        let Some(pod) = tracker.apply(item) else {
            return;
        };
        let Some(name) = pod.metadata.name.clone() else {
            return;
        };
        if let Some((requested, deadline)) = admit.admit(pod.as_ref(), at) {
            tracker.add(&name, requested, deadline);
            tracker.apply(Stamped {
                at,
                seen: Seen::Pod(pod),
            });
        }
    }

    /// Gives up on pods past their deadline (`all`: on every pod not done, at the end).
    fn time_out(&self, tracker: &mut Tracker, now: Instant, all: bool) {
        for pod in tracker.pods.iter_mut() {
            let due = pod.waits_on_deadline() && pod.deadline <= now;
            if due || (all && !pod.done()) {
                let waited = pod
                    .deadline
                    .saturating_duration_since(pod.timeline.requested);
                pod.time_out(waited);
            }
        }
    }

    fn start_probes(&self, watch: &mut Watch, tracker: &mut Tracker) {
        for pod in tracker.pods.iter_mut().filter(|p| p.wants_probe()) {
            pod.probing = true;
            let probe = Probe {
                ns: self.ns.to_string(),
                pod: pod.timeline.name.clone(),
                port: self.request.port,
                path: self.request.ready.http.get_ref().clone(),
                status: self.request.ready.status,
                interval: self.interval,
                deadline: pod.deadline,
            };
            watch
                .tasks
                .spawn(probe.run(self.probe.clone(), watch.tx.clone()));
        }
    }
}
