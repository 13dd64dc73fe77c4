//! Response bodies: small in-memory ones, and file ranges streamed through a throttled path.

use std::collections::VecDeque;
use std::io::{self, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::stream;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
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
/// goes away (the receiving body is dropped).
pub fn paced_file(
    file: std::fs::File,
    offset: u64,
    len: u64,
    path: Path,
    counter: Arc<AtomicU64>,
    delivery: Option<Delivery>,
) -> Body {
    let (tx, rx) = mpsc::channel(CHANNEL_QUANTA);
    let file = tokio::fs::File::from_std(file);
    tokio::spawn(feed(file, offset, len, path, counter, tx, delivery));
    let frames = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    StreamBody::new(frames).boxed_unsync()
}

type FrameSender = mpsc::Sender<Result<Frame<Bytes>, io::Error>>;

/// Quanta booked on the path ahead of the one being sent.
const BOOK_AHEAD: usize = 3;

/// Reads quanta from `file` and sends each one at its departure time. The last quantum is
/// counted, and the delivery logged, just before it is handed over: a client that has read it
/// all (a pull that returned) always finds its bytes counted and its delivery in the log.
///
/// Quanta are booked on the path a few ahead of the one waiting to leave: a link gives no credit
/// for idle time, so booking each quantum only after the (late) timer wake-up of the previous
/// one would lose the timer's lateness on every quantum, while booking ahead keeps a lone
/// transfer at the configured rate. Deadlines stay spaced by the rate, so nothing bursts.
async fn feed(
    mut file: tokio::fs::File,
    offset: u64,
    len: u64,
    path: Path,
    counter: Arc<AtomicU64>,
    tx: FrameSender,
    mut delivery: Option<Delivery>,
) {
    if offset > 0 {
        if let Err(e) = file.seek(SeekFrom::Start(offset)).await {
            let _ = tx.send(Err(e)).await;
            return;
        }
    }
    let quantum = path.quantum() as u64;
    let limited = !path.is_unlimited();
    let mut booked = VecDeque::with_capacity(BOOK_AHEAD + 1);
    let mut unbooked = len;
    let mut remaining = len;
    while remaining > 0 {
        while limited && booked.len() <= BOOK_AHEAD && unbooked > 0 {
            let n = unbooked.min(quantum);
            booked.push_back(path.reserve(n, Instant::now()));
            unbooked -= n;
        }
        let n = remaining.min(quantum);
        let chunk = match read_chunk(&mut file, n as usize).await {
            Ok(chunk) => chunk,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        remaining -= n;
        if let Some(deadline) = booked.pop_front() {
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

/// Reads exactly `n` bytes.
async fn read_chunk(file: &mut tokio::fs::File, n: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(n);
    file.read_exact(&mut buf).await?;
    Ok(buf.freeze())
}
