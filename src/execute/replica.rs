//! One container from a pulled image: create, start, wait for its first answer — the part of a
//! cold start that single runs and bursts share.

use tokio::time::Instant;

use crate::driver::{ContainerSpec, Driver};
use crate::measure::micros;
use crate::results::{Outcome, Phase, PhaseTimes, ProbeRecord};

/// What became of one replica.
#[derive(Debug, Clone)]
pub struct Replica {
    /// `create_us`, `start_us`, `first_request_us`.
    pub phases: PhaseTimes,
    /// How it ended.
    pub outcome: Outcome,
    /// When the first expected answer arrived.
    pub ready_at: Option<Instant>,
    /// The probe's attempts and resolution, when the driver probed.
    pub probe: Option<ProbeRecord>,
}

fn failed(phase: Phase, message: String) -> Outcome {
    Outcome::Failed { phase, message }
}

/// Creates and starts `container` on `node` and waits until it answers. The container is left
/// running; the caller removes it.
pub async fn start_replica(driver: &dyn Driver, node: usize, container: &ContainerSpec) -> Replica {
    let mut phases = PhaseTimes::default();
    let t = Instant::now();
    if let Err(e) = driver.create(node, container).await {
        return Replica {
            phases,
            outcome: failed(Phase::Create, e),
            ready_at: None,
            probe: None,
        };
    }
    phases.create_us = Some(micros(t.elapsed()));
    let t = Instant::now();
    if let Err(e) = driver.start(node, container).await {
        return Replica {
            phases,
            outcome: failed(Phase::Start, e),
            ready_at: None,
            probe: None,
        };
    }
    let started = Instant::now();
    phases.start_us = Some(micros(started - t));
    match driver.wait_ready(node, container).await {
        Ok(answered) => {
            phases.first_request_us = Some(micros(answered.at.saturating_duration_since(started)));
            Replica {
                phases,
                outcome: Outcome::Ok,
                ready_at: Some(answered.at),
                probe: answered.probe,
            }
        }
        Err(e) => Replica {
            phases,
            outcome: failed(Phase::FirstRequest, e),
            ready_at: None,
            probe: None,
        },
    }
}

/// A port for a replica that was given none: `Err` becomes the replica's failure.
pub fn no_port(e: &std::io::Error) -> Replica {
    Replica {
        phases: PhaseTimes::default(),
        outcome: failed(Phase::Create, format!("no free port on 127.0.0.1: {e}")),
        ready_at: None,
        probe: None,
    }
}
