//! containerd's own events for one node: when a layer's extraction completed.
//!
//! CRI reports no per-layer progress, but containerd 1.6 unpacks a pulled image one layer at a
//! time, in layer order: it prepares a snapshot keyed `extract-<n>-<rand> <chain ID>`, applies
//! the layer into it, and commits it under the layer's chain ID, publishing `/snapshot/prepare`
//! and `/snapshot/commit`. A layer whose snapshot already exists is skipped without any event.
//!
//! [`NodeEvents::open`] subscribes once per node, when the node starts (before any measured
//! pull), to those two topics; a background task stamps every event with its receive instant on
//! tokio's monotonic clock and keeps the last [`BUFFER_EVENTS`] of them. The subscription is
//! confirmed before `open` returns: it publishes a marker event on [`HANDSHAKE_TOPIC`] until the
//! task sees it come back. [`NodeEvents::layer_timings`] maps the commits received since a
//! pull's start to the image's layers by chain ID.
//!
//! The client is generated at build time from `proto/containerd/` (coldbench's own subset of
//! containerd's API, with its package names and field numbers), like the CRI client.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message;
use sha2::{Digest as _, Sha256};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tonic::transport::Channel;

use super::cri::unix_channel;
use crate::image::LayerInfo;
use crate::measure::micros;
use crate::results::LayerTiming;

/// Generated containerd API subset (`proto/containerd/`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod api {
    /// `containerd.services.events.v1`: the events service and its envelope.
    pub mod events {
        tonic::include_proto!("containerd.services.events.v1");
    }
    /// `containerd.events`: the snapshot event payloads.
    pub mod snapshot {
        tonic::include_proto!("containerd.events");
    }
}

use api::events::events_client::EventsClient;

/// Topic of a snapshot prepared (an extraction starts).
pub const TOPIC_PREPARE: &str = "/snapshot/prepare";
/// Topic of a snapshot committed (an extraction completed).
pub const TOPIC_COMMIT: &str = "/snapshot/commit";
/// Topic of the marker event that confirms the subscription.
pub const HANDSHAKE_TOPIC: &str = "/coldbench/subscribed";
/// Namespace the marker event is published in (never one CRI uses).
const HANDSHAKE_NAMESPACE: &str = "coldbench";

/// Events kept per node, oldest dropped first. A cold pull of an n-layer image yields 2n
/// (overlayfs allows at most 128 layers, so 256), and each pull reads its own right after it
/// returns: 4096 holds the events of many pulls, about 1 MB at worst.
pub const BUFFER_EVENTS: usize = 4096;

/// How long a pull waits, after `PullImage` returned, for the commit of a layer whose extraction
/// was seen starting (events travel on another connection than the CRI reply). It is rarely more
/// than a millisecond; a missing commit leaves that layer without a time.
const IN_FLIGHT_WAIT: Duration = Duration::from_millis(500);
/// How long `open` waits for its marker event to come back.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// What happened to a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotAction {
    /// `/snapshot/prepare`: an active snapshot was created (extraction starts).
    Prepare,
    /// `/snapshot/commit`: the snapshot was committed (extraction complete).
    Commit,
}

/// One snapshot event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEvent {
    /// When the task received it (tokio's monotonic clock).
    pub received: Instant,
    /// Prepare or commit.
    pub action: SnapshotAction,
    /// The snapshot key (`extract-<n>-<rand> <chain ID>` for image layers).
    pub key: String,
    /// Commit: the committed name (the layer's chain ID); prepare: the parent.
    pub name: String,
}

/// What the background task shares with the node.
#[derive(Default)]
struct Shared {
    events: Mutex<VecDeque<SnapshotEvent>>,
    /// Why events are unavailable (the subscription failed or ended).
    failure: Mutex<Option<String>>,
    subscribed: tokio::sync::Notify,
    confirmed: AtomicBool,
}

impl Shared {
    fn push(&self, event: SnapshotEvent) {
        if let Ok(mut events) = self.events.lock() {
            if events.len() >= BUFFER_EVENTS {
                events.pop_front();
            }
            events.push_back(event);
        }
    }

    fn fail(&self, why: String) {
        if let Ok(mut failure) = self.failure.lock() {
            failure.get_or_insert(why);
        }
    }

    fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    fn since(&self, start: Instant) -> Vec<SnapshotEvent> {
        self.events
            .lock()
            .map(|e| e.iter().filter(|e| e.received >= start).cloned().collect())
            .unwrap_or_default()
    }
}

/// A node's subscription to containerd's snapshot events; the task ends when this is closed
/// or dropped.
pub struct NodeEvents {
    index: usize,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
    warned: AtomicBool,
}

impl NodeEvents {
    /// Subscribes to the snapshot events of the containerd serving `socket` (node `index`) and
    /// waits until the subscription is confirmed. Never fails: without events, pulls report
    /// their layers without times (see [`NodeEvents::failure`]).
    pub async fn open(socket: &Path, index: usize) -> NodeEvents {
        let shared = Arc::new(Shared::default());
        let mut events = NodeEvents {
            index,
            shared: shared.clone(),
            task: None,
            warned: AtomicBool::new(false),
        };
        // No call timeout: the subscription lasts.
        let channel = match unix_channel(socket, None).await {
            Ok(c) => c,
            Err(e) => {
                shared.fail(format!("connecting to {}: {e}", socket.display()));
                return events;
            }
        };
        let client = EventsClient::new(channel);
        events.task = Some(tokio::spawn(receive(client.clone(), shared.clone())));
        if let Err(why) = handshake(client, &shared).await {
            shared.fail(why);
            events.abort();
        }
        events
    }

    /// Why events are unavailable, if they are.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure()
    }

    /// Snapshot events received at or after `start`, in order of receipt.
    pub fn since(&self, start: Instant) -> Vec<SnapshotEvent> {
        self.shared.since(start)
    }

    /// One [`LayerTiming`] per layer of an image whose pull started at `start` and succeeded:
    /// extraction complete at its commit's receipt, or already present when no commit came.
    /// Without events the layers have no times, and the first such pull logs a warning.
    pub async fn layer_timings(&self, layers: &[LayerInfo], start: Instant) -> Vec<LayerTiming> {
        let chains = chain_ids(layers);
        let deadline = Instant::now() + IN_FLIGHT_WAIT;
        loop {
            // A stream that failed, even after the pull, may have lost some of its commits.
            if let Some(why) = self.failure() {
                self.warn_once(&why);
                return untimed(layers);
            }
            let seen = self.since(start);
            if settled(&seen, &chains) || Instant::now() >= deadline {
                return timings(layers, &chains, &seen, start);
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn warn_once(&self, why: &str) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "containerd node {}: no snapshot events ({why}); layer extraction times are unknown",
                self.index
            );
        }
    }

    /// Ends the task and closes its connection.
    pub async fn close(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Whether the background task is still running.
    pub fn running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    fn abort(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for NodeEvents {
    fn drop(&mut self) {
        self.abort();
    }
}

/// The filters of the subscription: the snapshot topics and the marker.
fn filters() -> Vec<String> {
    [TOPIC_PREPARE, TOPIC_COMMIT, HANDSHAKE_TOPIC]
        .iter()
        .map(|t| format!("topic=={t:?}"))
        .collect()
}

/// The background task: subscribes, then records every event until the stream ends.
async fn receive(mut client: EventsClient<Channel>, shared: Arc<Shared>) {
    let request = api::events::SubscribeRequest { filters: filters() };
    let mut stream = match client.subscribe(request).await {
        Ok(r) => r.into_inner(),
        Err(e) => return shared.fail(format!("Subscribe: {}", e.message())),
    };
    loop {
        match stream.message().await {
            Ok(Some(envelope)) => record(&shared, envelope, Instant::now()),
            Ok(None) => return shared.fail("containerd ended the event stream".into()),
            Err(e) => return shared.fail(format!("event stream: {}", e.message())),
        }
    }
}

/// Files one envelope received at `received`.
fn record(shared: &Shared, envelope: api::events::Envelope, received: Instant) {
    if envelope.topic == HANDSHAKE_TOPIC {
        shared.confirmed.store(true, Ordering::Release);
        shared.subscribed.notify_waiters();
        return;
    }
    match decode(&envelope.topic, envelope.event.as_ref(), received) {
        Some(event) => shared.push(event),
        None => tracing::debug!("ignoring a {} event that does not decode", envelope.topic),
    }
}

/// A snapshot event from its topic and payload.
fn decode(
    topic: &str,
    event: Option<&prost_types::Any>,
    received: Instant,
) -> Option<SnapshotEvent> {
    let value = event?.value.as_slice();
    let (action, key, name) = match topic {
        TOPIC_PREPARE => {
            let e = api::snapshot::SnapshotPrepare::decode(value).ok()?;
            (SnapshotAction::Prepare, e.key, e.parent)
        }
        TOPIC_COMMIT => {
            let e = api::snapshot::SnapshotCommit::decode(value).ok()?;
            (SnapshotAction::Commit, e.key, e.name)
        }
        _ => return None,
    };
    Some(SnapshotEvent {
        received,
        action,
        key,
        name,
    })
}

/// Publishes the marker event until the task has seen one (the subscription is then live).
async fn handshake(client: EventsClient<Channel>, shared: &Shared) -> Result<(), String> {
    let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
    let mut last = String::from("no marker came back");
    while Instant::now() < deadline {
        let notified = shared.subscribed.notified();
        if shared.confirmed.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(why) = shared.failure() {
            return Err(why);
        }
        if let Err(e) = publish_marker(client.clone()).await {
            last = format!("Publish: {}", e.message());
        }
        let _ = tokio::time::timeout(Duration::from_millis(25), notified).await;
    }
    if shared.confirmed.load(Ordering::Acquire) {
        return Ok(());
    }
    Err(format!(
        "the subscription was not confirmed within {HANDSHAKE_TIMEOUT:?} ({last})"
    ))
}

async fn publish_marker(mut client: EventsClient<Channel>) -> Result<(), tonic::Status> {
    let mut request = tonic::Request::new(api::events::PublishRequest {
        topic: HANDSHAKE_TOPIC.into(),
        event: Some(prost_types::Any {
            type_url: "coldbench.Subscribed".into(),
            value: Vec::new(),
        }),
    });
    request.metadata_mut().insert(
        "containerd-namespace",
        tonic::metadata::MetadataValue::from_static(HANDSHAKE_NAMESPACE),
    );
    client.publish(request).await.map(|_| ())
}

/// Chain IDs of an image's layers, base first: ChainID(L0) = DiffID(L0),
/// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
pub fn chain_ids(layers: &[LayerInfo]) -> Vec<String> {
    chain_ids_of(layers.iter().map(|l| l.diff_id.as_str()))
}

/// [`chain_ids`] from the diff IDs alone.
pub fn chain_ids_of<'a>(diff_ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut chains: Vec<String> = Vec::new();
    for diff_id in diff_ids {
        let chain = match chains.last() {
            None => diff_id.to_string(),
            Some(parent) => {
                let sum = Sha256::digest(format!("{parent} {diff_id}").as_bytes());
                format!("sha256:{}", hex::encode(sum))
            }
        };
        chains.push(chain);
    }
    chains
}

/// Whether a pull's events are complete: the top layer was committed, or no layer of the image
/// was even prepared (all were present).
fn settled(seen: &[SnapshotEvent], chains: &[String]) -> bool {
    let Some(top) = chains.last() else {
        return true;
    };
    let ours = |e: &&SnapshotEvent| chains.iter().any(|c| names_chain(e, c));
    let committed_top = seen
        .iter()
        .any(|e| e.action == SnapshotAction::Commit && names_chain(e, top));
    committed_top || !seen.iter().any(|e| ours(&e))
}

/// Whether an event concerns the snapshot of chain ID `chain`: a commit named so, or a prepare
/// whose key ends in it.
fn names_chain(event: &SnapshotEvent, chain: &str) -> bool {
    match event.action {
        SnapshotAction::Commit => event.name == chain,
        SnapshotAction::Prepare => event.key.rsplit(' ').next() == Some(chain),
    }
}

/// Layer timings from the events seen since `start`.
fn timings(
    layers: &[LayerInfo],
    chains: &[String],
    seen: &[SnapshotEvent],
    start: Instant,
) -> Vec<LayerTiming> {
    layers
        .iter()
        .zip(chains)
        .map(|(layer, chain)| {
            let commit = seen
                .iter()
                .find(|e| e.action == SnapshotAction::Commit && names_chain(e, chain));
            let prepared = seen
                .iter()
                .any(|e| e.action == SnapshotAction::Prepare && names_chain(e, chain));
            LayerTiming {
                extract_complete_us: commit.map(|e| micros(e.received.duration_since(start))),
                already_present: commit.is_none() && !prepared,
                ..LayerTiming::new(layer.digest.to_string())
            }
        })
        .collect()
}

/// The layers without times (events unavailable).
fn untimed(layers: &[LayerInfo]) -> Vec<LayerTiming> {
    layers
        .iter()
        .map(|l| LayerTiming::new(l.digest.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    /// Diff IDs and chain IDs of a 6-layer synthetic image as containerd 1.6 listed them
    /// (`ctr -n k8s.io snapshots ls` after a CRI pull).
    const DIFF_IDS: [&str; 2] = [
        "sha256:8ba19ea5ec23b4710e61ced7a2cd31e765c7fa110391849db8c676ddc503331e",
        "sha256:7639ab3df147ae50f4a0f97591d63c4707757475676afc586a53a384f6bd5cba",
    ];
    const CHAIN_1: &str = "sha256:b442b5a6375a11d71b223e2c7b75aabbd42e3c2f15bf84e53da28efb2dfb55be";

    fn layer(i: u8, diff_id: &str) -> LayerInfo {
        LayerInfo {
            digest: Digest::of(&[i]),
            size: 1,
            diff_id: diff_id.parse().expect("a valid diff id"),
            uncompressed_size: 1,
            created_by: String::new(),
        }
    }

    fn event(at: Instant, action: SnapshotAction, chain: &str) -> SnapshotEvent {
        SnapshotEvent {
            received: at,
            action,
            key: format!("extract-1-abcd {chain}"),
            name: match action {
                SnapshotAction::Commit => chain.to_string(),
                SnapshotAction::Prepare => String::new(),
            },
        }
    }

    #[test]
    fn chain_ids_match_containerd() {
        let chains = chain_ids_of(DIFF_IDS);
        assert_eq!(chains, vec![DIFF_IDS[0].to_string(), CHAIN_1.to_string()]);
        assert!(chain_ids_of([]).is_empty());
    }

    #[test]
    fn commits_map_to_layers_and_missing_ones_are_present() {
        let layers = [layer(0, DIFF_IDS[0]), layer(1, DIFF_IDS[1])];
        let chains = chain_ids(&layers);
        let start = Instant::now();
        let seen = [
            event(start, SnapshotAction::Prepare, CHAIN_1),
            event(
                start + Duration::from_millis(7),
                SnapshotAction::Commit,
                CHAIN_1,
            ),
        ];
        assert!(settled(&seen, &chains));
        let t = timings(&layers, &chains, &seen, start);
        assert_eq!(t[0].digest, layers[0].digest.to_string());
        assert!(t[0].already_present && t[0].extract_complete_us.is_none());
        assert_eq!(t[1].extract_complete_us, Some(7000));
        assert!(!t[1].already_present);
        assert!(t.iter().all(|l| l.download_complete_us.is_none()));
    }

    #[test]
    fn a_prepared_top_layer_is_not_settled() {
        let layers = [layer(0, DIFF_IDS[0]), layer(1, DIFF_IDS[1])];
        let chains = chain_ids(&layers);
        let start = Instant::now();
        let seen = [event(start, SnapshotAction::Prepare, CHAIN_1)];
        assert!(!settled(&seen, &chains));
        assert!(settled(&[], &chains), "no events: every layer was present");
        let t = timings(&layers, &chains, &seen, start);
        assert!(!t[1].already_present && t[1].extract_complete_us.is_none());
    }

    #[test]
    fn the_buffer_drops_the_oldest() {
        let shared = Shared::default();
        let start = Instant::now();
        for i in 0..BUFFER_EVENTS + 3 {
            shared.push(event(start, SnapshotAction::Commit, &i.to_string()));
        }
        let kept = shared.since(start);
        assert_eq!(kept.len(), BUFFER_EVENTS);
        assert_eq!(kept[0].name, "3");
    }

    #[tokio::test]
    async fn without_a_socket_pulls_get_untimed_layers() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let events = NodeEvents::open(&dir.path().join("none.sock"), 3).await;
        assert!(events.failure().is_some());
        assert!(!events.running());
        let layers = [layer(0, DIFF_IDS[0])];
        let t = events.layer_timings(&layers, Instant::now()).await;
        assert_eq!(t.len(), 1);
        assert!(t[0].extract_complete_us.is_none() && !t[0].already_present);
    }

    #[test]
    fn filters_use_containerd_syntax() {
        assert_eq!(filters()[1], r#"topic=="/snapshot/commit""#);
    }
}
