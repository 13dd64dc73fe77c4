//! The first request: poll `GET path` on 127.0.0.1 every 250 µs until the expected status.
//!
//! Every probe in the process is run by one shared thread ([`watch`]): it connects, writes the
//! request and waits for answers with `ppoll`, so an answer is timed when it arrives, not at the
//! next round. Probes never use tokio's blocking pool, which serves the registry's file reads
//! (a probe queued behind them would report late), nor tokio's timers (they round up to whole
//! milliseconds, and the poll interval bounds the measurement's resolution).

mod listeners;
mod realtime;
mod watch;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use crate::results::ProbeRecord;

/// Pause between attempts.
const POLL_INTERVAL: Duration = Duration::from_micros(250);

/// Bound on waiting for an answer once connected.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// What to ask and what to expect.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Request path.
    pub path: String,
    /// Expected HTTP status.
    pub status: u16,
    /// Give up after this long.
    pub timeout: Duration,
    /// Set to stop polling early (the container died); `None` polls until the timeout.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Why the probe gave up.
#[derive(Debug, thiserror::Error)]
#[error("no HTTP {expected} from 127.0.0.1:{port}{path} within {timeout:?} ({attempts} attempts; last: {last})")]
pub struct ProbeError {
    port: u16,
    path: String,
    expected: u16,
    timeout: Duration,
    attempts: u64,
    last: String,
}

/// The first expected answer and how precisely the probe located it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    /// When the expected answer arrived.
    pub at: Instant,
    /// Attempts made, the successful one included (≥ 1).
    pub attempts: u64,
    /// Start of the last unsuccessful attempt → start of the successful one: the server began
    /// answering somewhere in this gap, so `at` is late by at most this much (plus the
    /// successful request's own round trip). `None` when the first attempt succeeded.
    pub gap: Option<Duration>,
}

impl Ready {
    /// What a sample keeps of it.
    pub fn record(&self) -> ProbeRecord {
        ProbeRecord {
            attempts: self.attempts,
            gap_us: self.gap.map(super::micros),
        }
    }
}

/// Polls until the expected status arrives; returns the instant it did and the probe's
/// resolution.
pub fn wait_ready(spec: &ProbeSpec) -> Result<Ready, ProbeError> {
    let (tx, rx) = mpsc::channel();
    match watch::submit(spec.clone(), Reply::Sync(tx)) {
        Ok(()) => rx
            .recv()
            .unwrap_or_else(|_| Err(failed(spec, "probe thread failed"))),
        Err(_) => poll_alone(spec),
    }
}

/// Async [`wait_ready`]: never blocks a runtime thread nor uses tokio's blocking pool. Dropping
/// the future ends the probe at the watcher's next round.
pub async fn wait_ready_async(spec: ProbeSpec) -> Result<Ready, ProbeError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    match watch::submit(spec.clone(), Reply::Async(tx)) {
        Ok(()) => rx
            .await
            .unwrap_or_else(|_| Err(failed(&spec, "probe thread failed"))),
        Err(_) => alone_on_a_thread(spec).await,
    }
}

/// Where a probe's outcome goes.
enum Reply {
    Sync(mpsc::Sender<Result<Ready, ProbeError>>),
    Async(tokio::sync::oneshot::Sender<Result<Ready, ProbeError>>),
}

impl Reply {
    fn send(self, outcome: Result<Ready, ProbeError>) {
        match self {
            Reply::Sync(tx) => drop(tx.send(outcome)),
            Reply::Async(tx) => drop(tx.send(outcome)),
        }
    }

    /// The caller no longer waits (its future was dropped).
    fn abandoned(&self) -> bool {
        match self {
            Reply::Sync(_) => false,
            Reply::Async(tx) => tx.is_closed(),
        }
    }
}

/// A [`ProbeError`] for `spec` made before any attempt.
fn failed(spec: &ProbeSpec, why: &str) -> ProbeError {
    ProbeError {
        port: spec.port,
        path: spec.path.clone(),
        expected: spec.status,
        timeout: spec.timeout,
        attempts: 0,
        last: why.into(),
    }
}

/// The request a probe writes.
fn request(spec: &ProbeSpec) -> String {
    format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: coldbench\r\nConnection: close\r\n\r\n",
        spec.path, spec.port
    )
}

/// The status code in the head of an answer ("HTTP/1.1 200 OK").
fn status_of(head: &[u8]) -> std::io::Result<u16> {
    std::str::from_utf8(head)
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}

/// [`poll_alone`] on a thread of its own, for when the shared watcher could not start.
async fn alone_on_a_thread(spec: ProbeSpec) -> Result<Ready, ProbeError> {
    let fallback = spec.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("coldbench-probe-1".into())
        .spawn(move || drop(tx.send(poll_alone(&spec))));
    if let Err(e) = spawned {
        return Err(failed(
            &fallback,
            &format!("probe thread failed to start: {e}"),
        ));
    }
    rx.await
        .unwrap_or_else(|_| Err(failed(&fallback, "probe thread failed")))
}

/// Polls on this thread, one blocking connection per attempt: the fallback when the shared
/// watcher thread could not be started.
fn poll_alone(spec: &ProbeSpec) -> Result<Ready, ProbeError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, spec.port));
    let request = request(spec);
    let deadline = Instant::now() + spec.timeout;
    let cancelled = || {
        spec.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let mut attempts = 0;
    let mut last = String::from("no attempt");
    let mut last_attempt: Option<Instant> = None;
    while Instant::now() < deadline && !cancelled() {
        attempts += 1;
        let began = Instant::now();
        match ask(addr, &request) {
            Ok(status) if status == spec.status => {
                return Ok(Ready {
                    at: Instant::now(),
                    attempts,
                    gap: last_attempt.map(|prev| began - prev),
                })
            }
            Ok(status) => last = format!("HTTP {status}"),
            Err(e) => last = e.to_string(),
        }
        last_attempt = Some(began);
        std::thread::sleep(POLL_INTERVAL);
    }
    Err(ProbeError {
        attempts,
        last,
        ..failed(spec, "")
    })
}

/// One request on a new connection; returns the status code.
fn ask(addr: SocketAddr, request: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT))?;
    stream.set_nodelay(true)?;
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut head[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    status_of(&head[..len])
}

/// A free TCP port on 127.0.0.1 for a container to listen on ([`super::ports`]).
pub use super::ports::free_port;

#[cfg(test)]
mod tests;
