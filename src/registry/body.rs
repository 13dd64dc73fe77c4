//! Response bodies: small in-memory ones, and file ranges streamed through a throttled path.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::sent::Delivery;
use crate::throttle::Path;

/// The body type of every registry response.
pub type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, io::Error>;

/// Quanta buffered between the file reader and the connection.
const CHANNEL_QUANTA: usize = 1;

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A small body held in memory.
pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Streams `len` bytes of `file` from `offset`, in quanta of `path.quantum()` bytes, each sent
/// only once the path lets it leave; bytes sent are added to `counter`. When the range ends at
/// the blob's end, `delivery` (if any) records when its last byte was handed over.
///
/// A spawned task reads ahead by at most [`CHANNEL_QUANTA`] quanta; it stops when the client
/// goes away (the receiving body is dropped). Each quantum is read on the task's own thread
/// when the page cache holds it all (see [`read_quantum`]), else on the blocking pool.
pub fn paced_file(
    file: std::fs::File,
    offset: u64,
    len: u64,
    path: Path,
    counter: Arc<AtomicU64>,
    delivery: Option<Delivery>,
) -> Body {
    let (tx, rx) = mpsc::channel(CHANNEL_QUANTA);
    tokio::spawn(feed(
        Arc::new(file),
        offset,
        len,
        path,
        counter,
        tx,
        delivery,
    ));
    let frames = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    StreamBody::new(frames).boxed_unsync()
}

type FrameSender = mpsc::Sender<Result<Frame<Bytes>, io::Error>>;

/// Quanta are booked on the path until the latest booked departure is this far ahead: a task
/// woken up to this late (a busy machine) still sends at the configured rate, catching up with
/// at most this much of the rate at once.
const BOOK_SPAN: std::time::Duration = std::time::Duration::from_millis(10);

/// Quanta always booked ahead of the one being sent, whatever [`BOOK_SPAN`] says.
const BOOK_AHEAD: usize = 3;

/// Most quanta booked at once.
const MAX_BOOKED: usize = 64;

/// Quanta due less than this after the next one share its timer wake-up and leave together, at
/// the latest one's departure time (never early). At a lone transfer's rate ≥ 16 MB/s (quanta
/// of about 1 ms) that is two or three quanta per wake-up instead of one; connections sharing a
/// link have their own quanta further apart and keep one per wake-up.
const WAKE_SPAN: std::time::Duration = std::time::Duration::from_millis(2);

/// Most quanta sent on one wake-up.
const MAX_GROUP: usize = 3;

/// Reads exactly `n` bytes of `file` at `at`. Bytes the page cache holds are copied at once on
/// the calling thread (`preadv2` with `RWF_NOWAIT`, which never waits for the disk); the rest,
/// if any, is read on the blocking pool. A filesystem that refuses `RWF_NOWAIT` clears `nowait`,
/// and later reads go straight to the blocking pool.
///
/// Before: every quantum went through `tokio::fs` (a blocking-pool round trip, two thread
/// wake-ups, per quantum), the largest share of the registry's CPU time at a throttled rate.
async fn read_quantum(
    file: &Arc<std::fs::File>,
    at: u64,
    n: usize,
    nowait: &mut bool,
) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(n);
    if *nowait {
        match read_cached(file, &mut buf, at) {
            Ok(()) => {}
            Err(e) if refuses_nowait(&e) => *nowait = false,
            Err(e) => return Err(e),
        }
        if buf.len() == n {
            return Ok(Bytes::from(buf));
        }
    }
    let file = file.clone();
    tokio::task::spawn_blocking(move || {
        let done = buf.len();
        buf.resize(n, 0);
        file.read_exact_at(&mut buf[done..], at + done as u64)?;
        Ok(Bytes::from(buf))
    })
    .await
    .unwrap_or_else(|e| Err(io::Error::other(format!("file read failed: {e}"))))
}

/// Fills `buf` up to its capacity from `file` at `at` with what the page cache holds; stops
/// early (`Ok`) at the first byte that would need the disk.
fn read_cached(file: &std::fs::File, buf: &mut Vec<u8>, at: u64) -> io::Result<()> {
    while buf.len() < buf.capacity() {
        let spare = buf.spare_capacity_mut();
        let iov = libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: spare.len(),
        };
        let offset = libc::off_t::try_from(at + buf.len() as u64).map_err(io::Error::other)?;
        // SAFETY: the iovec points at `buf`'s spare capacity, which outlives the call; the
        // kernel writes at most `iov_len` bytes there, and only those it reports are kept.
        let got = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_NOWAIT) };
        if got < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return Ok(()),
                _ => return Err(e),
            }
        }
        if got == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        // SAFETY: the kernel initialized `got` more bytes, within the capacity.
        unsafe { buf.set_len(buf.len() + got as usize) };
    }
    Ok(())
}

/// True for the errors of a kernel or filesystem without `RWF_NOWAIT` reads.
fn refuses_nowait(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS)
    )
}

/// Reads quanta from `file` and sends each one at its departure time. The last
/// quantum is counted, and the delivery logged, just before it is handed over: a client that has
/// read it all (a pull that returned) always finds its bytes counted and its delivery in the log.
///
/// Quanta are booked on the path ahead of the one waiting to leave (at least [`BOOK_AHEAD`],
/// up to [`BOOK_SPAN`] of departures): a link gives no credit for idle time, so booking each
/// quantum only after the (late) timer wake-up of the previous one would lose the timer's
/// lateness on every quantum, while booking ahead keeps a lone transfer at the configured rate.
/// Deadlines stay spaced by the rate, so nothing bursts beyond catching up with a late wake-up.
/// Quanta due within [`WAKE_SPAN`] of each other leave on one wake-up, as one frame.
async fn feed(
    file: Arc<std::fs::File>,
    offset: u64,
    len: u64,
    path: Path,
    counter: Arc<AtomicU64>,
    tx: FrameSender,
    mut delivery: Option<Delivery>,
) {
    let quantum = path.quantum() as u64;
    let limited = !path.is_unlimited();
    let mut booked = VecDeque::with_capacity(MAX_BOOKED);
    let mut unbooked = len;
    let mut remaining = len;
    let mut at = offset;
    let mut nowait = true;
    while remaining > 0 {
        let now = Instant::now();
        while limited
            && unbooked > 0
            && booked.len() < MAX_BOOKED
            && (booked.len() <= BOOK_AHEAD
                || booked.back().is_some_and(|&last| last < now + BOOK_SPAN))
        {
            let n = unbooked.min(quantum);
            booked.push_back(path.reserve(n, now));
            unbooked -= n;
        }
        // The quanta leaving on this wake-up, and when.
        let (group, deadline) = match booked.front() {
            Some(&first) => {
                let due = booked
                    .iter()
                    .take(MAX_GROUP)
                    .take_while(|&&d| d < first + WAKE_SPAN)
                    .count();
                (due, booked.drain(..due).next_back())
            }
            None => (1, None),
        };
        let n = remaining.min(quantum * group as u64);
        let chunk = match read_quantum(&file, at, n as usize, &mut nowait).await {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        at += n;
        remaining -= n;
        if let Some(deadline) = deadline {
            tokio::time::sleep_until(deadline).await;
        }
        let last = remaining == 0;
        if last {
            counter.fetch_add(n, Ordering::Relaxed);
            if let Some(d) = delivery.take() {
                d.done(Instant::now());
            }
        }
        if tx.send(Ok(Frame::data(chunk))).await.is_err() {
            return; // the client went away
        }
        if !last {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
    // An empty range has no last quantum.
    if let Some(d) = delivery {
        d.done(Instant::now());
    }
}
