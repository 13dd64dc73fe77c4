//! The first request, through the API server's pod proxy
//! (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`): polled from the moment the container
//! runs, every `interval`, without kube's retries, until the expected status or the deadline.
//! What it adds to `first_request`: up to one interval of polling, plus the round trip through
//! the API server to the node (the README gives the figures).

use std::time::Duration;

use kube::client::Body;
use kube::Client;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::watch::{Seen, Stamped};

/// Poll interval for a single cold start.
pub const SINGLE_INTERVAL: Duration = Duration::from_millis(20);
/// Poll interval per pod in a burst (hundreds of pods poll the same API server).
pub const BURST_INTERVAL: Duration = Duration::from_millis(100);
/// Longest one probe request may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// One pod's probe.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Namespace.
    pub ns: String,
    /// Pod name.
    pub pod: String,
    /// Container port.
    pub port: u16,
    /// Path to GET (starts with `/`).
    pub path: String,
    /// Expected status.
    pub status: u16,
    /// Poll interval.
    pub interval: Duration,
    /// Give up at.
    pub deadline: Instant,
}

impl Probe {
    fn uri(&self) -> String {
        let path = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        format!(
            "/api/v1/namespaces/{}/pods/{}:{}/proxy{path}",
            self.ns, self.pod, self.port
        )
    }

    /// Polls until the expected answer (sends `Answered`, stamped when the answer's headers
    /// arrived) or the deadline (sends `ProbeGaveUp` with the last thing it got).
    pub async fn run(self, client: Client, tx: mpsc::Sender<Stamped>) {
        let mut last = "no answer yet".to_string();
        loop {
            let attempt_at = Instant::now();
            if attempt_at >= self.deadline {
                break;
            }
            match self.attempt(&client).await {
                Ok(at) => {
                    let seen = Seen::Answered(self.pod.clone());
                    let _ = tx.send(Stamped { at, seen }).await;
                    return;
                }
                Err(e) => last = e,
            }
            tokio::time::sleep_until((attempt_at + self.interval).min(self.deadline)).await;
        }
        let mut message = format!(
            "pod {} gave no {} on {} through the API server's pod proxy in time; last: {last}",
            self.pod, self.status, self.path
        );
        if last.contains("403") {
            message.push_str(
                " (the kubeconfig's user needs `get` on pods/proxy in the run's namespace)",
            );
        }
        let seen = Seen::ProbeGaveUp(self.pod.clone(), message);
        let _ = tx
            .send(Stamped {
                at: Instant::now(),
                seen,
            })
            .await;
    }

    async fn attempt(&self, client: &Client) -> Result<Instant, String> {
        let request = hyper::Request::get(self.uri())
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let answer = tokio::time::timeout(ATTEMPT_TIMEOUT, client.send(request)).await;
        let at = Instant::now();
        match answer {
            Err(_) => Err(format!("no answer within {}s", ATTEMPT_TIMEOUT.as_secs())),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(response)) if response.status().as_u16() == self.status => Ok(at),
            Ok(Ok(response)) => Err(format!("status {}", response.status())),
        }
    }
}
