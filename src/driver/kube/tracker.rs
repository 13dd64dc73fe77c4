//! Turning what the watch delivered into each pod's [`PodTimeline`]: the first time each step
//! was seen (a pod object or an event, whichever came first), kubelet's `Pulled` message, the
//! events' own nanosecond names, and failures (a pull the kubelet gave up on, a container that
//! exited, a pod deleted under us).

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use tokio::time::Instant;

use super::pulled::{event_name_nanos, parse_pulled};
use super::watch::{Seen, Stamped};
use crate::driver::cluster::PodTimeline;
use crate::results::Phase;

/// Container waiting reasons that end a sample: the pull or the start will not succeed.
const FATAL_WAITING: [(&str, Phase); 8] = [
    ("ErrImagePull", Phase::Pull),
    ("ImagePullBackOff", Phase::Pull),
    ("InvalidImageName", Phase::Pull),
    ("ErrImageNeverPull", Phase::Pull),
    ("CreateContainerConfigError", Phase::Create),
    ("CreateContainerError", Phase::Create),
    ("RunContainerError", Phase::Start),
    ("CrashLoopBackOff", Phase::Start),
];

/// How long a pod whose pull failed is still followed for its `Pulling` event: events come on
/// their own watch, so the pod's `ErrImagePull` may arrive before the `Pulling` event the
/// kubelet sent first.
const EVENT_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// One pod being followed.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// What has been seen.
    pub timeline: PodTimeline,
    /// When the sample gives up on it.
    pub deadline: Instant,
    /// A probe is running for it.
    pub probing: bool,
    /// The last warning about it (`FailedScheduling`, `Unhealthy`…), for a timeout's message.
    pub warning: Option<String>,
    /// Answered, and no longer waited for its `Ready` condition (the deadline passed).
    settled: bool,
    /// When its failure was seen.
    failed_at: Option<Instant>,
    pulling_nanos: Option<u64>,
    pulled_nanos: Option<u64>,
}

impl Tracked {
    /// Failed (and not waiting for a late `Pulling` event), or answered and Ready (or no longer
    /// waited for Ready): nothing more to see.
    pub fn done(&self) -> bool {
        let t = &self.timeline;
        let failed = t.failure.is_some() && self.settles_at().is_none_or(|s| Instant::now() >= s);
        failed || (t.answered.is_some() && (t.ready.is_some() || self.settled))
    }

    /// For a pull that failed before its `Pulling` event was seen: when to stop waiting for it.
    pub fn settles_at(&self) -> Option<Instant> {
        let t = &self.timeline;
        let pull_failed = matches!(t.failure, Some((Phase::Pull, _)));
        let unseen = t.pulling.is_none() && t.scheduled.is_some();
        self.failed_at
            .filter(|_| pull_failed && unseen)
            .map(|at| at + EVENT_GRACE)
    }

    /// Running, not yet answered, not failed, not probed: time to start probing.
    pub fn wants_probe(&self) -> bool {
        !self.probing
            && self.timeline.failure.is_none()
            && self.timeline.answered.is_none()
            && self.timeline.started.is_some()
    }

    /// Waits on its own deadline (its probe, while one runs, reports the deadline instead).
    pub fn waits_on_deadline(&self) -> bool {
        !self.done() && (!self.probing || self.timeline.answered.is_some())
    }

    fn fail(&mut self, phase: Phase, message: String) {
        if !self.done() && self.timeline.failure.is_none() {
            self.timeline.failure = Some((phase, message));
            self.failed_at = Some(Instant::now());
        }
    }

    /// Gives up at the deadline: the phase it was stuck in and the last warning. An answered
    /// pod is only no longer waited for its `Ready` condition.
    pub fn time_out(&mut self, waited: std::time::Duration) {
        if self.timeline.answered.is_some() {
            self.settled = true;
            return;
        }
        let t = &self.timeline;
        let (phase, stuck) = if t.scheduled.is_none() {
            (Phase::Pull, "was never scheduled")
        } else if t.pulled.is_none() && t.created.is_none() && t.started.is_none() {
            (Phase::Pull, "never got its image")
        } else if t.created.is_none() && t.started.is_none() {
            (Phase::Create, "was never created")
        } else if t.started.is_none() {
            (Phase::Start, "never started")
        } else {
            (Phase::FirstRequest, "never answered")
        };
        let mut message = format!("pod {} {stuck} within {}s", t.name, waited.as_secs_f64());
        if let Some(w) = &self.warning {
            message.push_str(&format!(" (last: {w})"));
        }
        self.fail(phase, message);
    }
}

/// Every pod followed so far, in the order each was first seen.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The pods.
    pub pods: Vec<Tracked>,
    by_name: HashMap<String, usize>,
    /// Events about pods not seen yet (the two watches race), replayed when the pod shows up.
    early: Vec<(Instant, CoreEvent)>,
}

/// Bound on buffered early events; older ones are dropped (their pod never showed up).
const MAX_EARLY: usize = 10_000;

impl Tracker {
    /// Follows pod `name`, requested at `requested`, until `deadline`.
    pub fn add(&mut self, name: &str, requested: Instant, deadline: Instant) -> usize {
        let index = self.pods.len();
        self.pods.push(Tracked {
            timeline: PodTimeline::new(name, requested),
            deadline,
            probing: false,
            warning: None,
            settled: false,
            failed_at: None,
            pulling_nanos: None,
            pulled_nanos: None,
        });
        self.by_name.insert(name.to_string(), index);
        let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.early)
            .into_iter()
            .partition(|(_, e)| e.involved_object.name.as_deref() == Some(name));
        self.early = others;
        for (at, event) in mine {
            self.apply_event(at, &event);
        }
        index
    }

    /// The pod called `name`, when followed.
    pub fn get(&self, name: &str) -> Option<&Tracked> {
        self.by_name.get(name).map(|i| &self.pods[*i])
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Tracked> {
        let index = *self.by_name.get(name)?;
        self.pods.get_mut(index)
    }

    /// Applies one arrival. Returns the name of a pod the watch showed that is not followed yet.
    pub fn apply(&mut self, item: Stamped) -> Option<Box<Pod>> {
        let at = item.at;
        match item.seen {
            Seen::Pod(pod) => {
                let name = pod.metadata.name.clone().unwrap_or_default();
                match self.get_mut(&name) {
                    Some(t) => apply_pod(t, at, &pod),
                    None => return Some(pod),
                }
            }
            Seen::PodGone(name) => {
                if let Some(t) = self.get_mut(&name) {
                    let phase = reached(&t.timeline);
                    t.fail(phase, format!("pod {name} was deleted before it answered"));
                }
            }
            Seen::Event(event) => self.apply_event(at, &event),
            Seen::Answered(name) => {
                if let Some(t) = self.get_mut(&name) {
                    if !t.done() && t.timeline.failure.is_none() {
                        t.timeline.answered = Some(at);
                    }
                }
            }
            Seen::ProbeGaveUp(name, last) => {
                if let Some(t) = self.get_mut(&name) {
                    t.fail(Phase::FirstRequest, last);
                }
            }
        }
        None
    }

    fn apply_event(&mut self, at: Instant, event: &CoreEvent) {
        let Some(name) = event.involved_object.name.clone() else {
            return;
        };
        if let Some(t) = self.get_mut(&name) {
            apply_event(t, at, event);
        } else if self.early.len() < MAX_EARLY {
            self.early.push((at, event.clone()));
        }
    }
}

/// The phase a pod was in when seen last.
fn reached(t: &PodTimeline) -> Phase {
    match (t.pulled, t.created, t.started) {
        (_, _, Some(_)) => Phase::FirstRequest,
        (_, Some(_), None) => Phase::Start,
        (Some(_), None, None) => Phase::Create,
        (None, None, None) => Phase::Pull,
    }
}

fn first(slot: &mut Option<Instant>, at: Instant) {
    if slot.is_none_or(|s| at < s) {
        *slot = Some(at);
    }
}

fn apply_pod(t: &mut Tracked, at: Instant, pod: &Pod) {
    if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
        t.timeline.node = Some(node);
        first(&mut t.timeline.scheduled, at);
    }
    let Some(status) = pod.status.as_ref() else {
        return;
    };
    let ready = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    if ready {
        first(&mut t.timeline.ready, at);
    }
    for container in status.container_statuses.iter().flatten() {
        let Some(state) = &container.state else {
            continue;
        };
        if state.running.is_some() {
            first(&mut t.timeline.started, at);
        }
        if let Some(waiting) = &state.waiting {
            let reason = waiting.reason.as_deref().unwrap_or_default();
            if let Some((_, phase)) = FATAL_WAITING.iter().find(|(r, _)| *r == reason) {
                let detail = waiting.message.as_deref().unwrap_or_default();
                t.fail(
                    *phase,
                    format!("{reason}: {detail}")
                        .trim_end_matches([':', ' '])
                        .to_string(),
                );
            }
        }
        if let Some(done) = &state.terminated {
            let reason = done.reason.as_deref().unwrap_or("terminated");
            t.fail(
                Phase::FirstRequest.min(reached(&t.timeline)),
                format!(
                    "the container exited ({reason}, exit code {})",
                    done.exit_code
                ),
            );
        }
    }
    if matches!(status.phase.as_deref(), Some("Failed" | "Succeeded")) {
        let why = status.message.as_deref().unwrap_or("the pod ended");
        t.fail(reached(&t.timeline), why.to_string());
    }
}

fn apply_event(t: &mut Tracked, at: Instant, event: &CoreEvent) {
    let reason = event.reason.as_deref().unwrap_or_default();
    let message = event.message.as_deref().unwrap_or_default();
    let nanos = event.metadata.name.as_deref().and_then(event_name_nanos);
    let tl = &mut t.timeline;
    match reason {
        "Scheduled" => first(&mut tl.scheduled, at),
        "Pulling" => {
            first(&mut tl.pulling, at);
            t.pulling_nanos = t.pulling_nanos.or(nanos);
        }
        "Pulled" => {
            first(&mut tl.pulled, at);
            tl.kubelet_pull = tl.kubelet_pull.take().or_else(|| parse_pulled(message));
            t.pulled_nanos = t.pulled_nanos.or(nanos);
        }
        "Created" => first(&mut tl.created, at),
        "Started" => first(&mut tl.started, at),
        "Failed" => {
            let phase = if message.to_ascii_lowercase().contains("pull") {
                Phase::Pull
            } else {
                reached(tl).max(Phase::Create)
            };
            t.fail(phase, message.to_string());
        }
        "FailedScheduling" | "Unhealthy" | "BackOff" | "FailedMount" => {
            t.warning = Some(format!("{reason}: {message}"));
        }
        _ => {}
    }
    if let (Some(from), Some(to)) = (t.pulling_nanos, t.pulled_nanos) {
        if to >= from {
            t.timeline.event_pull = Some(std::time::Duration::from_nanos(to - from));
        }
    }
}
