//! The sending side of one WebSocket, shared by everyone with frames for it.
//!
//! Whoever has frames for a connection (a broadcast, an acknowledgement, the connection's
//! own task) writes them to the socket itself, as Node does: a broadcast to a thousand
//! members is a thousand `send` calls from one task, not a thousand channel sends and task
//! wake-ups, each followed by a poll of the connection's task and its frame codec.
//! Broadcast frames are encoded once ([`ws_frames`]) and written as they are; to many
//! members they are queued first ([`Wire::queue`]), so that broadcasts that follow one
//! another closely share each socket's system call.
//!
//! The connection's task only reads, and flushes what the socket did not take at once.
//!
//! A wire's connection is a TCP socket, written with `try_write` from any task, or (behind
//! a tower stack whose server wraps its connections, as axum's does) any other stream
//! hyper upgraded, polled without a waker by those with frames and with the connection
//! task's waker when it must wait.

use std::cell::{OnceCell, RefCell};
use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use sio_core::eio::packet::{base64_text, FrameRef, Packet};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame as WsFrame, FrameHeader};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// How long a closing connection may take to hand its last frames to a slow reader.
const LINGER: Duration = Duration::from_secs(5);

/// Encodes Engine.IO packets as complete WebSocket frames, ready for the socket; with
/// `base64` (the client asked for `b64`), binary messages as text frames, `b` + base64.
fn ws_frames(packets: &[Packet], base64: bool) -> Bytes {
    let mut out = Vec::new();
    for packet in packets {
        match packet.frame_ref() {
            FrameRef::Text(kind, rest) => push_frame(&mut out, Data::Text, Some(kind as u8), rest.as_bytes()),
            FrameRef::Binary(bytes) if base64 => push_frame(&mut out, Data::Text, None, base64_text(bytes).as_bytes()),
            FrameRef::Binary(bytes) => push_frame(&mut out, Data::Binary, None, bytes),
        }
    }
    out.into()
}

/// Appends one frame: `kind` (a text packet's type character), then `rest`.
fn push_frame(out: &mut Vec<u8>, opcode: Data, kind: Option<u8>, rest: &[u8]) {
    let header = FrameHeader { opcode: OpCode::Data(opcode), ..FrameHeader::default() };
    let len = usize::from(kind.is_some()) + rest.len();
    // Sized first: the header is written piece by piece.
    out.reserve(header.len(len as u64) + len);
    // Writing into a Vec cannot fail.
    let _ = header.format(len as u64, out);
    out.extend(kind);
    out.extend_from_slice(rest);
}

/// A delivery's frames, encoded once in each form that its recipients take.
pub struct Frames<'a> {
    packets: &'a [Packet],
    binary: OnceCell<Bytes>,
    base64: OnceCell<Bytes>,
}

impl<'a> Frames<'a> {
    pub fn new(packets: &'a [Packet]) -> Self {
        Self { packets, binary: OnceCell::new(), base64: OnceCell::new() }
    }

    /// The frames for `wire`, encoded at its first need.
    pub fn for_wire(&self, wire: &Wire) -> &[u8] {
        let cell = if wire.base64 { &self.base64 } else { &self.binary };
        cell.get_or_init(|| ws_frames(self.packets, wire.base64))
    }
}

/// The writing half of a connection that is not a bare TCP socket.
pub type WriteStream = Pin<Box<dyn AsyncWrite + Send>>;

/// The reading half of such a connection.
pub type ReadStream = Pin<Box<dyn AsyncRead + Send>>;

/// Where a wire writes.
enum Io {
    Tcp(Arc<TcpStream>),
    /// Locked only while the wire's state is (state first).
    Stream(Mutex<WriteStream>),
}

impl Io {
    /// Writes what the connection takes now; `WouldBlock` when it takes nothing. Without
    /// `cx`, a stream is polled with no waker: the connection's task waits with its own.
    fn try_write(&self, bytes: &[u8], cx: Option<&mut Context<'_>>) -> io::Result<usize> {
        match self {
            Io::Tcp(tcp) => tcp.try_write(bytes),
            Io::Stream(stream) => poll_now(cx, |cx| lock(stream).as_mut().poll_write(cx, bytes)),
        }
    }

    /// Pushes out what a stream buffered (a TCP socket buffers nothing of ours).
    fn try_flush(&self, cx: Option<&mut Context<'_>>) -> io::Result<()> {
        match self {
            Io::Tcp(_) => Ok(()),
            Io::Stream(stream) => poll_now(cx, |cx| lock(stream).as_mut().poll_flush(cx)),
        }
    }
}

/// Polls once, with `cx` or with no waker; `Pending` is `WouldBlock`.
fn poll_now<T>(
    cx: Option<&mut Context<'_>>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>,
) -> io::Result<T> {
    let mut noop = Context::from_waker(Waker::noop());
    match poll(cx.unwrap_or(&mut noop)) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(ErrorKind::WouldBlock.into()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The socket is closed, or closing: the frames were not sent.
#[derive(Debug, thiserror::Error)]
#[error("the WebSocket is closed")]
pub struct Closed;

pub struct Wire {
    io: Io,
    /// The client takes binary messages as base64 text alone (see [`ws_frames`]).
    base64: bool,
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
    /// Frames were queued ([`Wire::queue`]) and whoever queued them first is yet to call
    /// [`Wire::write_queued`].
    queued: bool,
}

impl State {
    /// Frames wait for the socket: what is sent now would wait behind them.
    fn busy(&self) -> bool {
        !self.backlog.is_empty() || self.held.is_some()
    }
}

impl Wire {
    pub fn new(tcp: Arc<TcpStream>, base64: bool) -> Arc<Self> {
        Arc::new(Self { io: Io::Tcp(tcp), base64, state: Mutex::default(), wake: Notify::new() })
    }

    /// A wire writing to `stream`, any connection but a bare TCP socket.
    pub fn stream(stream: WriteStream, base64: bool) -> Arc<Self> {
        Arc::new(Self { io: Io::Stream(Mutex::new(stream)), base64, state: Mutex::default(), wake: Notify::new() })
    }

    /// Encodes packets for this wire's client.
    pub fn frames(&self, packets: &[Packet]) -> Bytes {
        ws_frames(packets, self.base64)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
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

    /// Sends volatile frames ([`Wire::send`]) unless the socket has not yet taken what
    /// was sent before: `Ok(false)`, dropped.
    pub fn send_volatile(&self, frames: &[u8]) -> Result<bool, Closed> {
        let mut state = self.lock();
        if state.closing || state.failed {
            return Err(Closed);
        }
        if state.busy() {
            return Ok(false);
        }
        self.write(&mut state, frames);
        Ok(true)
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

    /// Adds frames behind the backlog without writing them; `true` when the caller is the
    /// first to queue since the last [`Wire::write_queued`], and must call it.
    ///
    /// A broadcast to many sockets queues to each, then writes each in turn from a task of
    /// its own (see `NativeHost::deliver_local`): broadcasts sent meanwhile join the frames
    /// still waiting, and leave in the same system call.
    ///
    /// `volatile` frames are dropped when the socket has not yet taken what was sent or
    /// queued before (`Ok(false)`, nothing to write).
    pub fn queue(&self, frames: &[u8], volatile: bool) -> Result<bool, Closed> {
        let mut state = self.lock();
        if state.closing || state.failed {
            return Err(Closed);
        }
        if volatile && state.busy() {
            return Ok(false);
        }
        state.backlog.extend_from_slice(frames);
        Ok(!std::mem::replace(&mut state.queued, true))
    }

    /// Writes the backlog as far as the socket takes it at once; the connection's task
    /// writes the rest.
    pub fn write_queued(&self) {
        let mut state = self.lock();
        state.queued = false;
        if !matches!(self.write_backlog(&mut state, None), Ok(true)) {
            self.wake.notify_one();
        }
    }

    fn write(&self, state: &mut State, mut bytes: &[u8]) {
        if bytes.is_empty() || state.failed {
            return;
        }
        if state.backlog.is_empty() && state.held.is_none() {
            match self.io.try_write(bytes, None) {
                Ok(n) if n == bytes.len() && self.io.try_flush(None).is_ok() => return,
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

    /// Resolves when there is a backlog to flush or the wire closed. Kept across the
    /// connection task's turns rather than made anew for each message: a fresh one joins
    /// and leaves the notifier's waiter list (a lock each) every time.
    pub fn woken(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// True once closed or failed: the connection is over.
    pub fn is_over(&self) -> bool {
        let state = self.lock();
        state.closing || state.failed
    }

    /// Writes the backlog as the socket takes it.
    pub async fn flush(&self) -> io::Result<()> {
        match &self.io {
            Io::Tcp(tcp) => {
                while !self.write_backlog(&mut self.lock(), None)? {
                    tcp.writable().await?;
                }
                Ok(())
            }
            Io::Stream(_) => {
                std::future::poll_fn(|cx| match self.write_backlog(&mut self.lock(), Some(cx)) {
                    Ok(true) => Poll::Ready(Ok(())),
                    Ok(false) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(e)),
                })
                .await
            }
        }
    }

    /// Writes the backlog (up to what is held) until it is out, `true`, or the socket takes
    /// no more for now, `false` (with `cx`, a stream wakes it once it takes more).
    fn write_backlog(&self, state: &mut State, mut cx: Option<&mut Context<'_>>) -> io::Result<bool> {
        while !state.failed {
            let ready = state.held.unwrap_or(state.backlog.len());
            if ready == 0 {
                if state.backlog.is_empty() {
                    // A burst of queued broadcasts leaves a large buffer behind: an idle
                    // connection holds none.
                    state.backlog = BytesMut::new();
                }
                return match self.io.try_flush(cx) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(false),
                    Err(e) => Err(e),
                };
            }
            match self.io.try_write(&state.backlog[..ready], cx.as_deref_mut()) {
                Ok(0) => state.failed = true,
                Ok(n) => {
                    state.backlog.advance(n);
                    state.held = state.held.map(|at| at - n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(_) => state.failed = true,
            }
        }
        Err(ErrorKind::BrokenPipe.into())
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
    read: Read,
    wire: Arc<Wire>,
    unread: Bytes,
}

/// Where a socket reads.
enum Read {
    Tcp(Arc<TcpStream>),
    Stream(ReadStream),
}

impl Socket {
    pub fn new(tcp: Arc<TcpStream>, wire: Arc<Wire>, unread: Bytes) -> Self {
        let mut socket = Self { read: Read::Tcp(tcp), wire, unread: Bytes::new() };
        socket.keep(unread);
        socket
    }

    /// A socket reading `stream`, any connection but a bare TCP socket.
    pub fn stream(stream: ReadStream, wire: Arc<Wire>) -> Self {
        Self { read: Read::Stream(stream), wire, unread: Bytes::new() }
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
        let tcp = match &mut this.read {
            Read::Tcp(tcp) => tcp,
            Read::Stream(stream) => return stream.as_mut().poll_read(cx, buf),
        };
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            let mut read = 0;
            let mut offered = 0;
            // A read shorter than what it offered took all the socket had: readiness is
            // cleared now, as tokio's own `poll_read` does, rather than by a second read that
            // finds nothing (one `recvfrom` per message instead of two).
            let outcome = tcp.try_io(Interest::READABLE, || {
                (read, offered) = recv(tcp, buf, &mut this.unread)?;
                if read > 0 && read < offered {
                    Err(ErrorKind::WouldBlock.into())
                } else {
                    Ok(())
                }
            });
            match outcome {
                Err(e) if e.kind() == ErrorKind::WouldBlock && read == 0 => continue,
                Err(e) if e.kind() != ErrorKind::WouldBlock => return Poll::Ready(Err(e)),
                _ => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// Reads offering less room than this go through a scratch buffer.
const SCRATCH: usize = 4096;

thread_local! {
    static SCRATCH_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One `recv` into `buf`; what did not fit is left in `unread`. Returns the bytes read and
/// the room the read offered.
///
/// The codec offers the room left at the end of its buffer, which is often less than the
/// next frame: read straight into it, a frame split at the end costs a second `recvfrom`
/// for its tail. Read into a scratch buffer instead, the tail waits in `unread`.
fn recv(tcp: &TcpStream, buf: &mut ReadBuf<'_>, unread: &mut Bytes) -> io::Result<(usize, usize)> {
    let room = buf.remaining();
    if room >= SCRATCH {
        let read = tcp.try_read(buf.initialize_unfilled())?;
        buf.advance(read);
        return Ok((read, room));
    }
    SCRATCH_BUF.with_borrow_mut(|scratch| {
        scratch.resize(SCRATCH, 0);
        let read = tcp.try_read(scratch)?;
        let fits = read.min(room);
        buf.put_slice(&scratch[..fits]);
        if fits < read {
            *unread = Bytes::copy_from_slice(&scratch[fits..read]);
        }
        Ok((read, SCRATCH))
    })
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
pub(crate) mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A wire on the server end of a loopback connection, and the client end.
    pub(crate) async fn pair() -> (Arc<Wire>, TcpStream) {
        let (_, wire, client) = tcp_pair().await;
        (wire, client)
    }

    /// The server end of a loopback connection, a wire on it, and the client end.
    async fn tcp_pair() -> (Arc<TcpStream>, Arc<Wire>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server = Arc::new(server);
        (server.clone(), Wire::new(server, false), client)
    }

    pub(crate) async fn read_exact(client: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut bytes = vec![0; n];
        let read = tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut bytes));
        read.await.expect("the bytes within 10 s").unwrap();
        bytes
    }

    #[test]
    fn frames_are_written_as_tungstenite_writes_them() {
        use sio_core::eio::packet::{Data as Payload, Frame};
        let packets: Vec<Packet> = [0, 124, 125, 65_534, 65_535, 70_000]
            .into_iter()
            .map(|n| Packet::Message(Payload::Text("a".repeat(n))))
            .chain([Packet::Ping("probe".into()), Packet::Close, Packet::Noop])
            .chain([0, 126, 65_536].map(|n| Packet::Message(Payload::Binary(vec![7; n].into()))))
            .collect();
        let mut expected = Vec::new();
        for packet in &packets {
            let frame = match packet.to_frame() {
                Frame::Text(text) => WsFrame::message(text, OpCode::Data(Data::Text), true),
                Frame::Binary(bytes) => WsFrame::message(bytes, OpCode::Data(Data::Binary), true),
            };
            frame.format(&mut expected).unwrap();
        }
        assert_eq!(ws_frames(&packets, false), expected);
        // For a client that asked for `b64`, every frame is text: binary as `b` + base64.
        let mut base64 = Vec::new();
        for packet in &packets {
            WsFrame::message(packet.to_text(), OpCode::Data(Data::Text), true).format(&mut base64).unwrap();
        }
        assert_eq!(ws_frames(&packets, true), base64);
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
    async fn a_read_offering_little_room_keeps_the_rest_for_the_next() {
        use tokio::io::AsyncWriteExt;
        let (tcp, wire, mut client) = tcp_pair().await;
        let sent: Vec<u8> = (0..=255).cycle().take(SCRATCH + 1000).collect();
        client.write_all(&sent).await.unwrap();
        drop(client);
        let mut socket = Socket::new(tcp, wire, Bytes::from_static(b"unread "));
        let mut got = Vec::new();
        loop {
            let mut room = [0; 7];
            let n = socket.read(&mut room).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&room[..n]);
        }
        assert_eq!(got, [b"unread ".as_slice(), &sent].concat());
    }

    #[tokio::test]
    async fn queued_frames_leave_together_in_order_with_those_sent_meanwhile() {
        let (wire, mut client) = pair().await;
        assert!(wire.queue(b"one ", false).unwrap(), "the first to queue writes");
        assert!(!wire.queue(b"two ", false).unwrap(), "later ones join it");
        wire.send(b"three ").unwrap();
        wire.write_queued();
        assert_eq!(read_exact(&mut client, 14).await, b"one two three ");
        assert_eq!(wire.lock().backlog.capacity(), 0, "written out, the wire holds no buffer");
        assert!(wire.queue(b"four", false).unwrap(), "written: the next to queue writes again");
        wire.close(None);
        assert!(wire.queue(b"five", false).is_err(), "nothing after the close frame");
        wire.write_queued();
        assert_eq!(read_exact(&mut client, 6).await, [b'f', b'o', b'u', b'r', 0x88, 0x00]);
    }

    #[tokio::test]
    async fn nothing_is_sent_after_the_close_frame() {
        let (wire, mut client) = pair().await;
        wire.send(&wire.frames(&[Packet::Ping(String::new())])).unwrap();
        wire.close(None);
        assert!(wire.send(&wire.frames(&[Packet::Noop])).is_err());
        assert!(wire.is_over());
        wire.finish().await;
        drop(wire);
        let mut bytes = Vec::new();
        client.read_to_end(&mut bytes).await.unwrap();
        // A text frame "2" (ping), then a close frame with no payload, then the end.
        assert_eq!(bytes, [0x81, 0x01, b'2', 0x88, 0x00]);
    }

    /// A connection that is not a bare TCP socket (what an axum server upgrades): frames
    /// the stream does not take at once wait, in order, for the connection's task to flush
    /// them once it takes more; the codec's reads come from the stream.
    #[tokio::test]
    async fn a_stream_that_takes_little_at_a_time_gets_everything_in_order() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (server, mut client) = tokio::io::duplex(8);
        let (read, write) = tokio::io::split(server);
        let wire = Wire::stream(Box::pin(write), false);
        let mut socket = Socket::stream(Box::pin(read), wire.clone());
        wire.send(b"first frame, longer than the pipe").unwrap();
        wire.send(b" and a second").unwrap();
        let flusher = tokio::spawn({
            let wire = wire.clone();
            async move { wire.flush().await }
        });
        let mut got = vec![0; 46];
        tokio::time::timeout(Duration::from_secs(10), client.read_exact(&mut got)).await.unwrap().unwrap();
        assert_eq!(got, b"first frame, longer than the pipe and a second");
        flusher.await.unwrap().unwrap();
        let mut read = vec![0; 15];
        let (written, reading) = tokio::join!(client.write_all(b"from the client"), socket.read_exact(&mut read));
        written.unwrap();
        reading.unwrap();
        assert_eq!(read, b"from the client");
    }
}
