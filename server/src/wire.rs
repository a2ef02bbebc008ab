//! The sending side of one WebSocket, shared by everyone with frames for it.
//!
//! Whoever has frames for a connection (a broadcast, an acknowledgement, the connection's
//! own task) writes them to the socket itself, as Node does: a broadcast to a thousand
//! members is a thousand `send` calls from the emitting task, not a thousand channel sends
//! and task wake-ups, each followed by a poll of the connection's task and its frame
//! codec. Broadcast frames are encoded once ([`ws_frames`]) and written as they are.
//!
//! The connection's task only reads, and flushes what the socket did not take at once.

use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use sio_core::eio::packet::{Frame, Packet};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// How long a closing connection may take to hand its last frames to a slow reader.
const LINGER: Duration = Duration::from_secs(5);

/// Encodes Engine.IO packets as complete WebSocket frames, ready for the socket.
pub fn ws_frames(packets: &[Packet]) -> Bytes {
    let mut out = Vec::new();
    for packet in packets {
        let frame = match packet.to_frame() {
            Frame::Text(text) => WsFrame::message(text, OpCode::Data(Data::Text), true),
            Frame::Binary(bytes) => WsFrame::message(bytes, OpCode::Data(Data::Binary), true),
        };
        // Sized first: the frame writes its header piece by piece.
        out.reserve(frame.len());
        // Writing into a Vec cannot fail.
        let _ = frame.format(&mut out);
    }
    out.into()
}

/// The socket is closed, or closing: the frames were not sent.
#[derive(Debug, thiserror::Error)]
#[error("the WebSocket is closed")]
pub struct Closed;

pub struct Wire {
    tcp: Arc<TcpStream>,
    state: Mutex<State>,
    /// Tells the connection's task there is a backlog to flush, or that the wire closed.
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// Bytes the socket has not taken yet, in order.
    backlog: BytesMut,
    /// Set during an upgrade's flush: where in the backlog the frames held back begin
    /// (they wait behind the packets queued before the upgrade).
    held: Option<usize>,
    /// A close frame is on its way: nothing is sent after it.
    closing: bool,
    /// The socket failed: nothing more can be sent.
    failed: bool,
}

impl Wire {
    pub fn new(tcp: Arc<TcpStream>) -> Arc<Self> {
        Arc::new(Self { tcp, state: Mutex::default(), wake: Notify::new() })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends complete frames: written at once as far as the socket takes them, the rest
    /// flushed by the connection's task.
    pub fn send(&self, frames: &[u8]) -> Result<(), Closed> {
        let mut state = self.lock();
        if state.closing || state.failed {
            return Err(Closed);
        }
        self.write(&mut state, frames);
        Ok(())
    }

    /// Sends a close frame, then nothing more; the connection's task ends once it is out.
    pub fn close(&self, frame: Option<CloseFrame>) {
        let mut state = self.lock();
        if state.closing {
            return;
        }
        state.closing = true;
        let mut bytes = Vec::new();
        let _ = WsFrame::close(frame).format(&mut bytes);
        self.write(&mut state, &bytes);
        self.wake.notify_one();
    }

    /// Holds what is sent from now on until [`Wire::release`].
    pub fn hold(&self) {
        let mut state = self.lock();
        state.held = Some(state.backlog.len());
    }

    /// Sends `first`, then what was held behind it.
    pub fn release(&self, first: &[u8]) {
        let mut state = self.lock();
        let Some(at) = state.held.take() else { return self.write(&mut state, first) };
        let held = state.backlog.split_off(at);
        self.write(&mut state, first);
        self.write(&mut state, &held);
    }

    fn write(&self, state: &mut State, mut bytes: &[u8]) {
        if bytes.is_empty() || state.failed {
            return;
        }
        if state.backlog.is_empty() && state.held.is_none() {
            match self.tcp.try_write(bytes) {
                Ok(n) if n == bytes.len() => return,
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => state.failed = true,
            }
        }
        if !state.failed {
            state.backlog.extend_from_slice(bytes);
        }
        self.wake.notify_one();
    }

    /// Resolves when there is a backlog to flush or the wire closed.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// True once closed or failed: the connection is over.
    pub fn is_over(&self) -> bool {
        let state = self.lock();
        state.closing || state.failed
    }

    /// Writes the backlog as the socket takes it.
    pub async fn flush(&self) -> io::Result<()> {
        loop {
            {
                let mut state = self.lock();
                if state.failed {
                    return Err(ErrorKind::BrokenPipe.into());
                }
                loop {
                    let ready = state.held.unwrap_or(state.backlog.len());
                    if ready == 0 {
                        return Ok(());
                    }
                    match self.tcp.try_write(&state.backlog[..ready]) {
                        Ok(0) => state.failed = true,
                        Ok(n) => {
                            state.backlog.advance(n);
                            state.held = state.held.map(|at| at - n);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => state.failed = true,
                    }
                    if state.failed {
                        return Err(ErrorKind::BrokenPipe.into());
                    }
                }
            }
            self.tcp.writable().await?;
        }
    }

    /// The connection is over: its last frames get a moment to leave, then nothing
    /// more is written.
    pub async fn finish(&self) {
        let _ = tokio::time::timeout(LINGER, self.flush()).await;
        let mut state = self.lock();
        state.failed = true;
        state.backlog = BytesMut::new();
    }
}

/// The socket as the WebSocket codec sees it: reads from the connection (after the bytes
/// hyper read past the upgrade request), writes (pongs, the closing handshake) through
/// the shared wire, so that they keep their place among the other frames.
pub struct Socket {
    tcp: Arc<TcpStream>,
    wire: Arc<Wire>,
    unread: Bytes,
}

impl Socket {
    pub fn new(tcp: Arc<TcpStream>, wire: Arc<Wire>, unread: Bytes) -> Self {
        let mut socket = Self { tcp, wire, unread: Bytes::new() };
        socket.keep(unread);
        socket
    }

    /// Even an empty slice of hyper's read buffer keeps the whole buffer alive (kilobytes
    /// per connection): only bytes still to read are kept.
    fn keep(&mut self, unread: Bytes) {
        self.unread = if unread.is_empty() { Bytes::new() } else { unread };
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.unread.is_empty() {
            let n = this.unread.len().min(buf.remaining());
            let mut unread = std::mem::take(&mut this.unread);
            buf.put_slice(&unread.split_to(n));
            this.keep(unread);
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            let room = unfilled.len();
            let mut read = 0;
            // A read shorter than the room offered took all the socket had: readiness is
            // cleared now, as tokio's own `poll_read` does, rather than by a second read that
            // finds nothing (one `recvfrom` per message instead of two).
            let outcome = this.tcp.try_io(Interest::READABLE, || {
                read = this.tcp.try_read(unfilled)?;
                if read > 0 && read < room {
                    Err(ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            });
            match outcome {
                Err(e) if e.kind() == ErrorKind::WouldBlock && read == 0 => continue,
                Err(e) if e.kind() != ErrorKind::WouldBlock => return Poll::Ready(Err(e)),
                _ => {}
            }
            buf.advance(read);
            return Poll::Ready(Ok(()));
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut state = self.wire.lock();
        if state.failed {
            return Poll::Ready(Err(ErrorKind::BrokenPipe.into()));
        }
        // After our close frame the codec may still answer the peer's: nothing may follow
        // a close frame, so it goes nowhere.
        if !state.closing {
            self.wire.write(&mut state, buf);
        }
        Poll::Ready(Ok(buf.len()))
    }

    /// The wire flushes its backlog on its own.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A wire on the server end of a loopback connection, and the client end.
    async fn pair() -> (Arc<Wire>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (Wire::new(Arc::new(server)), client)
    }

    async fn read_exact(client: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut bytes = vec![0; n];
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut bytes));
        read.await.expect("the bytes within 10 s").unwrap();
        bytes
    }

    #[tokio::test]
    async fn what_the_socket_does_not_take_is_flushed_later_in_order() {
        let (wire, mut client) = pair().await;
        let chunks: Vec<Vec<u8>> = (0..=255u8).map(|i| vec![i; 64 * 1024]).collect();
        for chunk in &chunks {
            wire.send(chunk).unwrap();
        }
        assert!(!wire.lock().backlog.is_empty(), "16 MiB unread must exceed the socket's buffers");
        let flusher = tokio::spawn({
            let wire = wire.clone();
            async move { wire.flush().await }
        });
        let received = read_exact(&mut client, 256 * 64 * 1024).await;
        flusher.await.unwrap().unwrap();
        assert_eq!(received, chunks.concat());
        assert!(wire.lock().backlog.is_empty());
    }

    #[tokio::test]
    async fn frames_sent_while_held_follow_the_frames_released_before_them() {
        let (wire, mut client) = pair().await;
        wire.send(b"first ").unwrap();
        wire.hold();
        wire.send(b"third").unwrap();
        assert_eq!(read_exact(&mut client, 6).await, b"first ");
        wire.release(b"second ");
        wire.flush().await.unwrap();
        assert_eq!(read_exact(&mut client, 12).await, b"second third");
    }

    #[tokio::test]
    async fn nothing_is_sent_after_the_close_frame() {
        let (wire, mut client) = pair().await;
        wire.send(&ws_frames(&[Packet::Ping(String::new())])).unwrap();
        wire.close(None);
        assert!(wire.send(&ws_frames(&[Packet::Noop])).is_err());
        assert!(wire.is_over());
        wire.finish().await;
        drop(wire);
        let mut bytes = Vec::new();
        client.read_to_end(&mut bytes).await.unwrap();
        // A text frame "2" (ping), then a close frame with no payload, then the end.
        assert_eq!(bytes, [0x81, 0x01, b'2', 0x88, 0x00]);
    }
}
