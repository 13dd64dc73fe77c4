//! The first request: poll `GET path` on 127.0.0.1 every ≤ 1 ms until the expected status.
//!
//! Runs on its own OS thread (not tokio's blocking pool, which serves the registry's file reads:
//! a probe queued behind them would report late) with std sockets and a 250 µs sleep, because
//! async timers round up to whole milliseconds and the poll interval bounds the measurement's
//! resolution.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::results::ProbeRecord;

/// Pause between attempts.
const POLL_INTERVAL: Duration = Duration::from_micros(250);

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
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, spec.port));
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: coldbench\r\nConnection: close\r\n\r\n",
        spec.path, spec.port
    );
    let deadline = Instant::now() + spec.timeout;
    let mut attempts = 0;
    let mut last = String::from("no attempt");
    let mut last_attempt: Option<Instant> = None;
    let cancelled = || {
        spec.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
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
        port: spec.port,
        path: spec.path.clone(),
        expected: spec.status,
        timeout: spec.timeout,
        attempts,
        last,
    })
}

/// Async wrapper: runs [`wait_ready`] on a dedicated thread (never tokio's blocking pool, so a
/// probe never waits for a pool thread busy with file I/O). Dropping the future does not stop
/// the thread: it ends at the spec's timeout or when `cancel` is set.
pub async fn wait_ready_async(spec: ProbeSpec) -> Result<Ready, ProbeError> {
    let fallback = spec.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("coldbench-probe".into())
        .spawn(move || {
            let _ = tx.send(wait_ready(&spec));
        });
    let failed = |why: String| ProbeError {
        port: fallback.port,
        path: fallback.path.clone(),
        expected: fallback.status,
        timeout: fallback.timeout,
        attempts: 0,
        last: why,
    };
    if let Err(e) = spawned {
        return Err(failed(format!("probe thread failed to start: {e}")));
    }
    rx.await
        .unwrap_or_else(|_| Err(failed("probe thread failed".into())))
}

/// One request; returns the status code.
fn ask(addr: SocketAddr, request: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
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
    // "HTTP/1.1 200 OK"
    std::str::from_utf8(&head[..len])
        .ok()
        .and_then(|s| s.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepts one connection on `listener` and answers it 200.
    fn answer_once(listener: std::net::TcpListener) {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    }

    #[test]
    fn waits_for_a_server_that_comes_up_late() {
        let port = free_port().unwrap();
        let server = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            answer_once(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
        });
        let spec = ProbeSpec {
            port,
            path: "/".into(),
            status: 200,
            timeout: Duration::from_secs(5),
            cancel: None,
        };
        let t0 = Instant::now();
        let ready = wait_ready(&spec).unwrap();
        assert!(ready.at - t0 >= Duration::from_millis(50));
        // The server came up after several refused attempts: the gap is recorded, and it is
        // at least the pause between attempts and at most the time the probe ran (physics
        // bounds only; the machine is noisy).
        assert!(ready.attempts > 1, "{ready:?}");
        let gap = ready.gap.expect("a gap after refused attempts");
        assert!(gap >= POLL_INTERVAL, "{gap:?}");
        assert!(gap <= ready.at - t0, "{gap:?} > {:?}", ready.at - t0);
        server.join().unwrap();
    }

    #[test]
    fn the_async_probe_does_not_wait_for_a_busy_blocking_pool() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let port = free_port().unwrap();
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let server = std::thread::spawn(move || answer_once(listener));
        rt.block_on(async {
            // The only blocking thread is busy for 2 s.
            let busy = tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_secs(2)));
            tokio::task::yield_now().await;
            let spec = ProbeSpec {
                port,
                path: "/".into(),
                status: 200,
                timeout: Duration::from_secs(5),
                cancel: None,
            };
            let t0 = Instant::now();
            wait_ready_async(spec).await.unwrap();
            assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
            busy.await.unwrap();
        });
        server.join().unwrap();
    }

    #[test]
    fn a_server_already_up_answers_the_first_attempt_without_a_gap() {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || answer_once(listener));
        let spec = ProbeSpec {
            port,
            path: "/".into(),
            status: 200,
            timeout: Duration::from_secs(5),
            cancel: None,
        };
        let ready = wait_ready(&spec).unwrap();
        assert_eq!((ready.attempts, ready.gap), (1, None));
        assert_eq!(ready.record().gap_us, None);
        server.join().unwrap();
    }

    #[test]
    fn gives_up_after_the_timeout() {
        let spec = ProbeSpec {
            port: free_port().unwrap(),
            path: "/".into(),
            status: 200,
            timeout: Duration::from_millis(30),
            cancel: None,
        };
        let e = wait_ready(&spec).unwrap_err().to_string();
        assert!(e.contains("no HTTP 200") && e.contains("attempts"), "{e}");
    }
}
