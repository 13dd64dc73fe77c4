//! Watching the run's pods and their events with `kube::runtime::watcher`, each item stamped on
//! arrival with the harness's monotonic clock. Both watchers have listed (and so are watching)
//! before [`Watch::start`] returns, so nothing that happens after it is missed; a broken watch
//! resumes from its last resource version (re-listing on `410 Gone`).

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{Event as CoreEvent, Pod};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::connect::API_TIMEOUT;
use super::objects::GROUP_LABEL;

/// What arrived.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A pod as it is now.
    Pod(Box<Pod>),
    /// A pod was deleted.
    PodGone(String),
    /// An event about a pod.
    Event(Box<CoreEvent>),
    /// The pod's first expected answer through the proxy.
    Answered(String),
    /// The probe gave up on the pod (its deadline passed): the last thing it got.
    ProbeGaveUp(String, String),
}

/// An item and when it arrived.
#[derive(Debug, Clone)]
pub struct Stamped {
    /// Arrival on the harness's clock.
    pub at: Instant,
    /// The item.
    pub seen: Seen,
}

/// Items buffered between the watchers and the follower (a burst of 1 000 pods sends a few
/// thousand; the senders wait when it is full, they never drop).
const CHANNEL: usize = 4096;

/// The watchers of one pod or one Deployment's pods; they stop when this is dropped.
pub struct Watch {
    /// Items in arrival order per watcher.
    pub rx: mpsc::Receiver<Stamped>,
    /// A sender for the probes.
    pub tx: mpsc::Sender<Stamped>,
    /// The watcher and probe tasks (aborted on drop).
    pub tasks: JoinSet<()>,
}

impl Watch {
    /// Watches the pods labelled `coldbench.group=group` in `ns` and the events about pods
    /// there (about `pod` only when given); returns once both watchers are listening.
    pub async fn start(
        client: &Client,
        ns: &str,
        group: &str,
        pod: Option<&str>,
    ) -> Result<Watch, String> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let mut tasks = JoinSet::new();
        let pods = Api::<Pod>::namespaced(client.clone(), ns);
        let pod_config = watcher::Config::default().labels(&format!("{GROUP_LABEL}={group}"));
        let events = Api::<CoreEvent>::namespaced(client.clone(), ns);
        let mut fields = "involvedObject.kind=Pod".to_string();
        if let Some(pod) = pod {
            fields.push_str(&format!(",involvedObject.name={pod}"));
        }
        let event_config = watcher::Config::default().fields(&fields);
        let (pods_ready, pods_listed) = oneshot::channel();
        let (events_ready, events_listed) = oneshot::channel();
        tasks.spawn(forward(pods, pod_config, tx.clone(), pods_ready, pod_seen));
        tasks.spawn(forward(
            events,
            event_config,
            tx.clone(),
            events_ready,
            event_seen,
        ));
        let listed = async {
            pods_listed
                .await
                .map_err(|_| "the pod watch ended".to_string())??;
            events_listed
                .await
                .map_err(|_| "the event watch ended".to_string())?
        };
        match tokio::time::timeout(API_TIMEOUT, listed).await {
            Ok(Ok(())) => Ok(Watch { rx, tx, tasks }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "the API server did not list pods and events within {}s",
                API_TIMEOUT.as_secs()
            )),
        }
    }
}

fn pod_seen(event: Event<Pod>) -> Option<Seen> {
    match event {
        Event::Apply(p) | Event::InitApply(p) => Some(Seen::Pod(Box::new(p))),
        Event::Delete(p) => Some(Seen::PodGone(p.metadata.name.unwrap_or_default())),
        Event::Init | Event::InitDone => None,
    }
}

fn event_seen(event: Event<CoreEvent>) -> Option<Seen> {
    match event {
        Event::Apply(e) | Event::InitApply(e) => Some(Seen::Event(Box::new(e))),
        Event::Delete(_) | Event::Init | Event::InitDone => None,
    }
}

/// Forwards one watcher's items, stamped; says when its first list is done (or why it failed).
async fn forward<K>(
    api: Api<K>,
    config: watcher::Config,
    tx: mpsc::Sender<Stamped>,
    ready: oneshot::Sender<Result<(), String>>,
    seen: fn(Event<K>) -> Option<Seen>,
) where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let stream = watcher::watcher(api, config).default_backoff();
    futures_util::pin_mut!(stream);
    let mut ready = Some(ready);
    while let Some(item) = stream.next().await {
        let at = Instant::now();
        match item {
            Ok(Event::InitDone) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(()));
                }
            }
            Ok(event) => {
                if let Some(seen) = seen(event) {
                    if tx.send(Stamped { at, seen }).await.is_err() {
                        return;
                    }
                }
            }
            // The first list failing is fatal (no permission, no such namespace); later
            // errors are retried by the watcher's backoff.
            Err(e) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(format!("watching: {e}")));
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
