//! One thread (`coldbench-probe`) runs every pending probe in the process, in rounds every
//! [`POLL_INTERVAL`] (and at once when a probe is submitted): each round tries to connect to the
//! ports not yet connected and writes the request; between rounds it waits for answers with
//! `ppoll`, so an answer is timed when it arrives.
//!
//! One thread instead of one per probe: in a 24-replica burst on two cores, 24 threads each
//! making a refused `connect` every 250 µs (≈ 12 µs of CPU each) took about a core from the
//! containers being timed, and delayed each other. With more than [`CONNECT_AT_MOST`] ports
//! waiting, a round asks the kernel once which ports listen ([`Listeners`], ≈ 50 µs) and
//! connects only to those. Where allowed (root or `CAP_SYS_NICE`) the thread runs `SCHED_FIFO`
//! at the lowest real-time priority: the work per round is the same, but it is done on time
//! instead of after the containers' next time slices (stalls of 10–75 ms were measured for a
//! normal thread during a burst; see docs/performance.md).

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::listeners::Listeners;
use super::{request, status_of, ProbeError, ProbeSpec, Ready, Reply};
use super::{ANSWER_TIMEOUT, POLL_INTERVAL};

/// Up to this many ports waiting, a round connects to each; above it, it lists listeners first.
pub(super) const CONNECT_AT_MOST: usize = 4;

/// Bound on one connection attempt (on loopback a connect is refused or accepted at once; this
/// bounds a listener whose accept queue is full).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(50);

/// Bytes of an answer read: enough for its status line.
const HEAD: usize = 64;

/// Hands a probe to the shared thread (started on first use) and wakes it, so the probe's
/// first attempt is made at once rather than at the next round. Gives the reply back when that
/// thread could not be started; the caller then polls alone.
pub(super) fn submit(spec: ProbeSpec, reply: Reply) -> Result<(), Reply> {
    static WATCHER: OnceLock<Option<(Sender<Watch>, UnixStream)>> = OnceLock::new();
    let watcher = WATCHER.get_or_init(start);
    let watch = Watch::new(spec, reply);
    let Some((tx, wake)) = watcher else {
        return Err(watch.reply.expect("a new watch has its reply"));
    };
    tx.send(watch)
        .map_err(|mpsc::SendError(w)| w.reply.expect("a new watch has its reply"))?;
    // Non-blocking: a full pipe means the watcher already has wake-ups to read.
    let _ = (&*wake).write(&[1]);
    Ok(())
}

/// Starts the watcher thread: its channel and the socket that wakes it.
fn start() -> Option<(Sender<Watch>, UnixStream)> {
    let (tx, rx) = mpsc::channel();
    let (wake, woken) = UnixStream::pair()
        .and_then(|(a, b)| {
            a.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            Ok((a, b))
        })
        .map_err(|e| {
            tracing::warn!("probe thread's wake-up socket failed ({e}); probes poll alone")
        })
        .ok()?;
    std::thread::Builder::new()
        .name("coldbench-probe".into())
        .spawn(move || run(rx, woken))
        .map_err(|e| tracing::warn!("probe thread failed to start ({e}); probes poll alone"))
        .ok()
        .map(|_| (tx, wake))
}

/// One probe as the watcher runs it.
pub(super) struct Watch {
    spec: ProbeSpec,
    request: String,
    deadline: Instant,
    /// Taken when the probe ends.
    reply: Option<Reply>,
    attempts: u64,
    /// Start of the last unsuccessful attempt.
    previous: Option<Instant>,
    last: String,
    exchange: Option<Exchange>,
}

/// A connection whose request is written and whose answer is awaited.
struct Exchange {
    stream: TcpStream,
    began: Instant,
    head: [u8; HEAD],
    len: usize,
}

impl Watch {
    /// A probe that has made no attempt yet.
    pub fn new(spec: ProbeSpec, reply: Reply) -> Self {
        Watch {
            request: request(&spec),
            deadline: Instant::now() + spec.timeout,
            spec,
            reply: Some(reply),
            attempts: 0,
            previous: None,
            last: "no attempt".into(),
            exchange: None,
        }
    }

    /// Whether a connection is open and its answer awaited.
    #[cfg(test)]
    pub(super) fn connected(&self) -> bool {
        self.exchange.is_some()
    }

    fn finished(&self) -> bool {
        self.reply.is_none()
    }

    fn finish(&mut self, outcome: Result<Ready, ProbeError>) {
        if let Some(reply) = self.reply.take() {
            reply.send(outcome);
        }
        self.exchange = None;
    }

    /// Ends the probe if its time is up, it was cancelled or nobody waits for it; ends an
    /// exchange whose answer is overdue.
    fn expire(&mut self, now: Instant) {
        let cancelled = self
            .spec
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed));
        let abandoned = self.reply.as_ref().is_some_and(Reply::abandoned);
        if now >= self.deadline || cancelled || abandoned {
            let error = ProbeError {
                attempts: self.attempts,
                last: std::mem::take(&mut self.last),
                ..super::failed(&self.spec, "")
            };
            self.finish(Err(error));
        } else if let Some(x) = &self.exchange {
            if now - x.began > ANSWER_TIMEOUT {
                let began = x.began;
                self.missed(began, format!("no answer within {ANSWER_TIMEOUT:?}"));
            }
        }
    }

    fn missed(&mut self, began: Instant, why: String) {
        self.previous = Some(began);
        self.last = why;
        self.exchange = None;
    }

    /// One attempt in the round that began at `round`; `listening` (if known) says whether
    /// connecting can succeed.
    pub(super) fn attempt(&mut self, listening: Option<&HashSet<u16>>, round: Instant) {
        self.attempts += 1;
        let began = match listening {
            Some(ports) if !ports.contains(&self.spec.port) => {
                return self.missed(round, "connection refused (not listening)".into());
            }
            Some(_) => round,
            None => Instant::now(),
        };
        match open(self.spec.port, &self.request) {
            Ok(stream) => {
                self.exchange = Some(Exchange {
                    stream,
                    began,
                    head: [0; HEAD],
                    len: 0,
                })
            }
            Err(e) => self.missed(began, e.to_string()),
        }
    }

    /// Reads what has arrived of the answer; ends the probe on the expected status.
    fn read(&mut self) {
        let Some(x) = &mut self.exchange else { return };
        let began = x.began;
        let read = x.stream.read(&mut x.head[x.len..]);
        let complete = match read {
            Ok(0) => true,
            Ok(n) => {
                x.len += n;
                x.len >= 12 || x.len == HEAD
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
            Err(e) => return self.missed(began, e.to_string()),
        };
        if !complete {
            return;
        }
        match status_of(&x.head[..x.len]) {
            Ok(status) if status == self.spec.status => {
                let ready = Ready {
                    at: Instant::now(),
                    attempts: self.attempts,
                    gap: self.previous.map(|p| began - p),
                };
                self.finish(Ok(ready));
            }
            Ok(status) => self.missed(began, format!("HTTP {status}")),
            Err(e) => self.missed(began, e.to_string()),
        }
    }
}

/// Connects to 127.0.0.1:`port`, writes `request` and leaves the socket non-blocking.
fn open(port: u16, request: &str) -> std::io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    stream.set_nodelay(true)?;
    stream.write_all(request.as_bytes())?;
    stream.set_nonblocking(true)?;
    Ok(stream)
}

/// The watcher's loop: rounds every [`POLL_INTERVAL`] while anything is pending, asleep on the
/// channel otherwise.
fn run(incoming: Receiver<Watch>, woken: UnixStream) {
    let realtime = super::realtime::raise();
    tracing::debug!(realtime, "probe thread started");
    let mut listeners = Listeners::open()
        .map_err(|e| tracing::debug!("sock_diag unavailable ({e}); probes connect every round"))
        .ok();
    let mut pending: Vec<Watch> = Vec::new();
    loop {
        if pending.is_empty() {
            match incoming.recv() {
                Ok(w) => pending.push(w),
                Err(_) => return,
            }
        }
        pending.extend(incoming.try_iter());
        let round = Instant::now();
        pending.iter_mut().for_each(|w| w.expire(round));
        pending.retain(|w| !w.finished());
        let idle = |w: &&mut Watch| w.exchange.is_none();
        let waiting = pending.iter_mut().filter(idle).count();
        let listening = listening_now(&mut listeners, waiting);
        for w in pending.iter_mut().filter(idle) {
            w.attempt(listening.as_ref(), round);
        }
        await_answers(&mut pending, &woken, round + POLL_INTERVAL);
        pending.retain(|w| !w.finished());
    }
}

/// The listening ports when `waiting` is large enough for one dump to be cheaper than a
/// connect per port; `None` means "connect to every port". A failing dump turns dumps off.
fn listening_now(listeners: &mut Option<Listeners>, waiting: usize) -> Option<HashSet<u16>> {
    if waiting <= CONNECT_AT_MOST {
        return None;
    }
    let ports = listeners.as_mut()?.ports();
    ports
        .map_err(|e| {
            tracing::debug!("sock_diag dump failed ({e}); probes connect every round");
            *listeners = None;
        })
        .ok()
}

/// Until `until`, reads answers as they arrive on the open exchanges; returns early when a new
/// probe was submitted (`woken` readable), so that its first attempt is made at once.
fn await_answers(pending: &mut [Watch], woken: &UnixStream, until: Instant) {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut open: Vec<&mut Watch> = pending
            .iter_mut()
            .filter(|w| w.exchange.is_some() && !w.finished())
            .collect();
        let mut fds: Vec<libc::pollfd> = std::iter::once(woken.as_raw_fd())
            .chain(
                open.iter()
                    .filter_map(|w| w.exchange.as_ref())
                    .map(|x| x.stream.as_raw_fd()),
            )
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        if poll(&mut fds, left) == 0 {
            continue;
        }
        for (w, fd) in open.iter_mut().zip(&fds[1..]) {
            if fd.revents != 0 {
                w.read();
            }
        }
        if fds[0].revents != 0 {
            drain(woken);
            return;
        }
    }
}

/// Reads every pending wake-up byte.
fn drain(woken: &UnixStream) {
    let mut buf = [0u8; 64];
    while matches!((&*woken).read(&mut buf), Ok(n) if n > 0) {}
}

/// `ppoll(2)` with a nanosecond timeout; returns how many descriptors are ready (0 on timeout
/// or interruption).
fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> usize {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `fds` is a valid slice of pollfd for its length; `ts` outlives the call.
    let rc = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            &ts,
            std::ptr::null(),
        )
    };
    usize::try_from(rc).unwrap_or(0)
}
