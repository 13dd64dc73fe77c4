//! A pod's timeline as the watch showed it ([`PodTimeline`]) turned into what a sample records:
//! phase durations, the outcome and the [`PodRecord`]. A phase whose start or end was never
//! seen is left out and named in `unknown`; nothing is guessed.

use tokio::time::Instant;

use crate::driver::cluster::PodTimeline;
use crate::measure::micros;
use crate::results::{Outcome, Phase, PhaseTimes, PodRecord};

/// What a sample takes from a pod's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// `pull` = `Pulling` → `Pulled`, `create` = `Pulled` → `Created`, `start` = `Created` →
    /// running, `first_request` = running → first answer, `total` = requested → first answer.
    pub phases: PhaseTimes,
    /// How it ended.
    pub outcome: Outcome,
    /// The pod's life, µs after its request.
    pub pod: PodRecord,
}

/// µs from `from` to `to` when both were seen (0 when the watch delivered them out of order).
fn between(from: Option<Instant>, to: Option<Instant>) -> Option<u64> {
    Some(micros(to?.saturating_duration_since(from?)))
}

/// Reads a timeline: phases from consecutive steps, the outcome, the unknown phases.
pub fn measure(t: &PodTimeline) -> Measured {
    let phases = PhaseTimes {
        pull_us: between(t.pulling, t.pulled),
        create_us: between(t.pulled, t.created),
        start_us: between(t.created, t.started),
        first_request_us: between(t.started, t.answered),
        total_us: between(Some(t.requested), t.answered),
    };
    let outcome = match (&t.failure, t.answered) {
        (Some((phase, message)), _) => Outcome::Failed {
            phase: *phase,
            message: message.clone(),
        },
        (None, Some(_)) => Outcome::Ok,
        (None, None) => Outcome::Failed {
            phase: Phase::FirstRequest,
            message: "the pod never answered and the cluster driver gave no reason".into(),
        },
    };
    let reached = match &outcome {
        Outcome::Ok => Phase::Total,
        Outcome::Failed { phase, .. } => *phase,
    };
    let pulled = t.kubelet_pull.as_ref();
    let present = pulled.is_some_and(|p| p.already_present);
    // With the image already present there was no pull to time.
    let unknown = [
        Phase::Pull,
        Phase::Create,
        Phase::Start,
        Phase::FirstRequest,
    ]
    .into_iter()
    .filter(|p| *p < reached && phases.get(*p).is_none())
    .filter(|p| !(present && *p == Phase::Pull))
    .map(|p| p.name().to_string())
    .collect();
    let since = |at: Option<Instant>| between(Some(t.requested), at);
    let pod = PodRecord {
        name: t.name.clone(),
        node: t.node.clone(),
        scheduled_us: since(t.scheduled),
        pulling_us: since(t.pulling),
        pulled_us: since(t.pulled),
        created_us: since(t.created),
        started_us: since(t.started),
        ready_us: since(t.ready),
        answered_us: since(t.answered),
        kubelet_pull_us: pulled.and_then(|p| p.pull).map(micros),
        kubelet_pull_waiting_us: pulled.and_then(|p| p.including_waiting).map(micros),
        kubelet_image_size: pulled.and_then(|p| p.image_size_bytes),
        event_pull_us: t.event_pull.map(micros),
        already_present: present,
        unknown,
    };
    Measured {
        phases,
        outcome,
        pod,
    }
}

/// The last instant anything of the pod was seen (its request when nothing was).
pub fn last_seen(t: &PodTimeline) -> Instant {
    [
        t.scheduled,
        t.pulling,
        t.pulled,
        t.created,
        t.started,
        t.ready,
        t.answered,
    ]
    .into_iter()
    .flatten()
    .fold(t.requested, Instant::max)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::driver::kube::pulled::parse_pulled;

    fn full(t0: Instant) -> PodTimeline {
        let ms = |n: u64| Some(t0 + Duration::from_millis(n));
        let mut t = PodTimeline::new("app-0", t0);
        t.node = Some("node-1".into());
        (t.scheduled, t.pulling, t.pulled, t.created) = (ms(5), ms(10), ms(1_010), ms(1_030));
        (t.started, t.ready, t.answered) = (ms(1_050), ms(1_100), ms(1_060));
        t.kubelet_pull = parse_pulled(
            "Successfully pulled image \"x\" in 980ms (990ms including waiting). Image size: 1234 bytes.",
        );
        t.event_pull = Some(Duration::from_millis(985));
        t
    }

    #[tokio::test(start_paused = true)]
    async fn every_phase_from_consecutive_steps() {
        let t0 = Instant::now();
        let m = measure(&full(t0));
        assert_eq!(m.outcome, Outcome::Ok);
        assert_eq!(m.phases.pull_us, Some(1_000_000));
        assert_eq!(m.phases.create_us, Some(20_000));
        assert_eq!(m.phases.start_us, Some(20_000));
        assert_eq!(m.phases.first_request_us, Some(10_000));
        assert_eq!(m.phases.total_us, Some(1_060_000));
        assert_eq!(m.pod.kubelet_pull_us, Some(980_000));
        assert_eq!(m.pod.kubelet_pull_waiting_us, Some(990_000));
        assert_eq!(m.pod.kubelet_image_size, Some(1234));
        assert_eq!(m.pod.event_pull_us, Some(985_000));
        assert_eq!(m.pod.scheduled_us, Some(5_000));
        assert!(m.pod.unknown.is_empty() && !m.pod.already_present);
        assert_eq!(last_seen(&full(t0)), t0 + Duration::from_millis(1_100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_missing_event_makes_its_phases_unknown_not_wrong() {
        let t0 = Instant::now();
        let mut t = full(t0);
        t.pulled = None;
        let m = measure(&t);
        assert_eq!(m.outcome, Outcome::Ok);
        assert_eq!((m.phases.pull_us, m.phases.create_us), (None, None));
        assert_eq!(m.phases.total_us, Some(1_060_000));
        assert_eq!(m.pod.unknown, ["pull", "create"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_keeps_its_phase_and_what_came_before() {
        let t0 = Instant::now();
        let mut t = full(t0);
        (t.answered, t.ready) = (None, None);
        t.failure = Some((Phase::FirstRequest, "timed out after 2s: proxy 503".into()));
        let m = measure(&t);
        assert!(matches!(
            m.outcome,
            Outcome::Failed {
                phase: Phase::FirstRequest,
                ..
            }
        ));
        assert_eq!(m.phases.start_us, Some(20_000));
        assert_eq!((m.phases.first_request_us, m.phases.total_us), (None, None));
        assert!(m.pod.unknown.is_empty());
        let mut never = PodTimeline::new("x", t0);
        never.failure = Some((Phase::Pull, "0/1 nodes are available".into()));
        let m = measure(&never);
        assert!(m.pod.unknown.is_empty(), "nothing before pull");
    }

    #[tokio::test(start_paused = true)]
    async fn an_image_already_present_is_recorded() {
        let t0 = Instant::now();
        let mut t = full(t0);
        t.pulling = None;
        t.kubelet_pull = parse_pulled(
            "Container image \"x\" already present on machine and can be accessed by the pod",
        );
        let m = measure(&t);
        assert!(m.pod.already_present);
        assert!(
            m.pod.unknown.is_empty(),
            "no pull happened: {:?}",
            m.pod.unknown
        );
    }
}
