//! Serving listeners: the accept loop, HTTP/1.1 connections, latency and graceful shutdown.
//!
//! Every listener is served with its own [`Path`] and byte counters ([`Lane`]) over the state
//! all listeners share ([`Shared`]): the seam for one listener per emulated node later.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::handlers;
use super::reply;
use super::sent::SentLog;
use super::store::Store;
use super::uploads::Uploads;
use super::ServedBytes;
use crate::throttle::Path;

/// How long open connections get to finish their response after shutdown is asked.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// A request head must arrive within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// State shared by every listener of one registry.
#[derive(Debug)]
pub struct Shared {
    /// The content store.
    pub store: Store,
    /// Uploads in progress.
    pub uploads: Uploads,
    /// Delay before each response head.
    pub latency: Duration,
    /// One permit per connection served, over every listener
    /// ([`super::RegistryLimits::max_connections`] of them).
    pub connections: Arc<Semaphore>,
}

/// Bytes sent in response bodies through one listener.
#[derive(Debug, Default)]
pub struct Counters {
    /// Blob body bytes.
    pub blobs: Arc<AtomicU64>,
    /// Manifest body bytes.
    pub manifests: Arc<AtomicU64>,
}

impl Counters {
    /// The counters now.
    pub fn snapshot(&self) -> ServedBytes {
        ServedBytes {
            blobs: self.blobs.load(Ordering::Relaxed),
            manifests: self.manifests.load(Ordering::Relaxed),
        }
    }
}

/// What is particular to one listener: the links its responses cross and its counters.
#[derive(Debug, Clone)]
pub struct Lane {
    /// Links every response body of this listener is paced through.
    pub path: Path,
    /// Bytes served through this listener.
    pub counters: Arc<Counters>,
    /// When each blob's last byte left through this listener.
    pub sent: Arc<SentLog>,
    /// The client of one connection (set per accepted connection).
    pub peer: Option<std::net::IpAddr>,
    /// The faults of this listener and its request log.
    pub faults: Arc<super::faults::LaneFaults>,
}

/// Accepts connections on `listener` until `shutdown` turns true (or its sender goes away), then
/// lets open connections finish for up to [`SHUTDOWN_GRACE`] and aborts the rest.
///
/// A connection is accepted only with a permit of [`Shared::connections`]: at the cap, new ones
/// wait in the kernel's accept backlog (their handshake done, their request unread) until a
/// served connection closes, rather than being closed at once; an engine pulling many layers
/// then sees a slower start, not a reset.
pub async fn serve_listener(
    listener: TcpListener,
    lane: Lane,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let lane = Arc::new(lane);
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            () = stopped(&mut shutdown) => break,
            permit = shared.connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // closed: the registry is going away
            },
        };
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let lane = Arc::new(Lane { peer: Some(peer.ip()), ..Lane::clone(&lane) });
                    let conn = serve_connection(stream, lane, shared.clone(), shutdown.clone());
                    connections.spawn(holding(permit, conn));
                }
                Err(e) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!("registry: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::debug!("registry: aborting connections still open after shutdown");
    }
}

/// Runs `conn`, then gives its connection permit back.
async fn holding(permit: OwnedSemaphorePermit, conn: impl std::future::Future<Output = ()>) {
    conn.await;
    drop(permit);
}

/// Serves one HTTP/1.1 connection. Anything that is not HTTP (such as the TLS hello Docker tries
/// first) fails this connection only.
async fn serve_connection(
    stream: TcpStream,
    lane: Arc<Lane>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| {
        let (lane, shared) = (lane.clone(), shared.clone());
        async move {
            if !shared.latency.is_zero() {
                tokio::time::sleep(shared.latency).await;
            }
            let method = req.method().clone();
            let uri = req.uri().clone();
            let mut resp = handlers::handle(req, &shared, &lane).await;
            tracing::debug!("registry: {method} {uri} -> {}", resp.status());
            reply::set(&mut resp, "docker-distribution-api-version", "registry/2.0");
            Ok::<_, Infallible>(resp)
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("registry: connection ended: {e}");
    }
}

/// Resolves once shutdown is asked (or the registry is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
