//! Ctrl-C (SIGINT) and SIGTERM as a value that every long step of a run can wait on, so that an
//! interrupt at any point ends in clean-up rather than an abrupt exit. Tests trigger it by hand.

use tokio::sync::watch;

/// Resolves [`Interrupt::recv`] for every clone once triggered.
#[derive(Debug, Clone)]
pub struct Interrupt {
    rx: watch::Receiver<bool>,
}

/// Triggers an [`Interrupt`] made by [`Interrupt::manual`].
#[derive(Debug)]
pub struct InterruptTrigger {
    tx: watch::Sender<bool>,
}

impl InterruptTrigger {
    /// Interrupts the run.
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }
}

impl Interrupt {
    /// Listens for SIGINT and SIGTERM from now on (Ctrl-C elsewhere).
    pub fn signals() -> std::io::Result<Interrupt> {
        let (trigger, interrupt) = Interrupt::manual();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut int = signal(SignalKind::interrupt())?;
            let mut term = signal(SignalKind::terminate())?;
            tokio::spawn(async move {
                tokio::select! {
                    _ = int.recv() => trigger.trigger(),
                    _ = term.recv() => trigger.trigger(),
                    // Every Interrupt is gone: stop listening.
                    _ = trigger.tx.closed() => {}
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            tokio::select! {
                r = tokio::signal::ctrl_c() => if r.is_ok() { trigger.trigger() },
                _ = trigger.tx.closed() => {}
            }
        });
        Ok(interrupt)
    }

    /// An interrupt only `trigger` sets off.
    pub fn manual() -> (InterruptTrigger, Interrupt) {
        let (tx, rx) = watch::channel(false);
        (InterruptTrigger { tx }, Interrupt { rx })
    }

    /// Resolves once interrupted; never, if the trigger is gone without firing.
    pub async fn recv(&mut self) {
        if self.rx.wait_for(|fired| *fired).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// True once interrupted.
    pub fn fired(&self) -> bool {
        *self.rx.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn every_clone_hears_the_trigger_once_fired() {
        let (trigger, mut interrupt) = Interrupt::manual();
        let mut other = interrupt.clone();
        let quiet = tokio::time::timeout(Duration::from_secs(1), interrupt.recv()).await;
        assert!(quiet.is_err(), "nothing fired yet");
        trigger.trigger();
        interrupt.recv().await;
        other.recv().await;
        assert!(interrupt.fired() && other.fired());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_trigger_never_fires() {
        let (trigger, mut interrupt) = Interrupt::manual();
        drop(trigger);
        let waited = tokio::time::timeout(Duration::from_secs(5), interrupt.recv()).await;
        assert!(waited.is_err());
        assert!(!interrupt.fired());
    }
}
