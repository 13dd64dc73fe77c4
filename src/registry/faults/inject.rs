//! Resets and stalls part-way through a blob body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

use super::super::body::Body;
use super::Action;

/// Wraps `body` so that after `fraction` of its `len` bytes it fails (reset) or pauses (stall).
pub fn inject(body: Body, len: u64, action: Action) -> Body {
    let (fraction, stall) = match action {
        Action::Reset(f) => (f, None),
        Action::Stall(f, d) => (f, Some(d)),
        Action::None | Action::Error(_) => return body,
    };
    let at = ((len as f64) * fraction.clamp(0.0, 1.0)).floor() as u64;
    Faulty {
        inner: body,
        left: at.min(len.saturating_sub(1)),
        stall,
        sleeping: None,
        held: None,
        fired: false,
        flushed: false,
    }
    .boxed_unsync()
}

/// A body that misbehaves once `left` bytes have passed.
struct Faulty {
    inner: Body,
    left: u64,
    /// `None`: reset; `Some`: stall this long.
    stall: Option<Duration>,
    sleeping: Option<Pin<Box<Sleep>>>,
    /// The part of a frame past the fault point, sent after a stall.
    held: Option<Bytes>,
    fired: bool,
    /// A reset has waited [`RESET_FLUSH`] for the bytes before it to leave.
    flushed: bool,
}

/// How long a reset waits, once its bytes are handed over, before cutting the connection.
const RESET_FLUSH: Duration = Duration::from_millis(20);

impl HttpBody for Faulty {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Some(sleep) = this.sleeping.as_mut() {
            ready!(sleep.as_mut().poll(cx));
            this.sleeping = None;
        }
        if let Some(rest) = this.held.take() {
            return Poll::Ready(Some(Ok(Frame::data(rest))));
        }
        if !this.fired && this.left == 0 {
            this.fired = true;
            match this.stall {
                None if !this.flushed => {
                    // Pending a moment first, so the connection writes out the bytes before
                    // the cut: the client gets exactly `after` of the body.
                    this.flushed = true;
                    this.fired = false;
                    let mut sleep = Box::pin(tokio::time::sleep(RESET_FLUSH));
                    if sleep.as_mut().poll(cx).is_pending() {
                        this.sleeping = Some(sleep);
                    } else {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
                None => {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "coldbench fault: connection reset",
                    ))))
                }
                Some(d) => {
                    let mut sleep = Box::pin(tokio::time::sleep(d));
                    if sleep.as_mut().poll(cx).is_pending() {
                        this.sleeping = Some(sleep);
                        return Poll::Pending;
                    }
                }
            }
        }
        let frame = match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            other => return Poll::Ready(other),
        };
        if this.fired {
            return Poll::Ready(Some(Ok(frame)));
        }
        let Ok(mut data) = frame.into_data() else {
            return Poll::Ready(None);
        };
        let n = data.len() as u64;
        if n > this.left {
            let rest = data.split_off(this.left as usize);
            this.held = this.stall.map(|_| rest);
            this.left = 0;
        } else {
            this.left -= n;
        }
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        (self.fired || self.left > 0)
            && self.held.is_none()
            && self.sleeping.is_none()
            && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
