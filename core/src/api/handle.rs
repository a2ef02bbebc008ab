//! Handles the application holds: a socket, a namespace, a broadcast, an ack.
//!
//! Each is a small cloneable value (names plus the runtime's [`Ops`]); none keeps state of
//! its own, so a handler can run in whichever instance of whichever runtime received the
//! packet.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::args::Args;
use super::ops::{AckError, AckReplies, Handshake, OpError, Ops, SocketInfo, Target};
use crate::eio::packet::Data;

/// The operations of the runtime hosting the application.
pub type SharedOps = Arc<dyn Ops>;

/// One client's connection to one namespace (`socket` in Node).
#[derive(Clone)]
pub struct Socket {
    id: Arc<str>,
    nsp: Arc<str>,
    handshake: Option<Arc<Handshake>>,
    recovered: bool,
    ops: SharedOps,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id).field("nsp", &self.nsp).finish()
    }
}

impl Socket {
    /// `handshake` may be left out where the runtime does not have it at hand (an event
    /// handler); [`Self::handshake`] then loads it.
    pub fn new(id: &str, nsp: &str, handshake: Option<Arc<Handshake>>, recovered: bool, ops: SharedOps) -> Self {
        Self { id: id.into(), nsp: nsp.into(), handshake, recovered, ops }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The handshake details (`socket.handshake`).
    pub async fn handshake(&self) -> Result<Handshake, OpError> {
        match &self.handshake {
            Some(h) => Ok(Handshake::clone(h)),
            None => Ok(self.info().await?.handshake),
        }
    }

    /// Waits on the runtime's clock.
    pub async fn sleep(&self, ms: u64) {
        self.ops.sleep(ms).await
    }

    /// Milliseconds since the Unix epoch, from the runtime.
    pub fn now(&self) -> u64 {
        self.ops.now()
    }

    /// Whether connection state recovery restored this socket (same id, rooms and data,
    /// missed packets replayed).
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    fn me(&self) -> Target {
        Target::socket(&self.nsp, &self.id)
    }

    /// Sends an event to this socket.
    pub async fn emit(&self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.emit(self.me(), event.to_owned(), args.into()).await
    }

    /// Emits a `message` event (`socket.send` in Node).
    pub async fn send(&self, args: impl Into<Args>) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Sends an event and waits for the client's acknowledgement for at most
    /// `timeout_ms` (`socket.timeout(ms).emitWithAck(...)`).
    pub async fn emit_with_ack(
        &self,
        event: &str,
        args: impl Into<Args>,
        timeout_ms: Option<u64>,
    ) -> Result<Args, AckError> {
        let mut replies = self.ops.emit_with_ack(self.me(), event.to_owned(), args.into(), timeout_ms).await?;
        match replies.replies.pop() {
            Some(reply) => Ok(reply),
            None if replies.timed_out => Err(AckError::Timeout),
            None if replies.refused > 0 => Err(AckError::TooManyPendingAcks),
            None => Err(AckError::Disconnected),
        }
    }

    /// Emits with an acknowledgement that the namespace's ack handler `handler` receives
    /// with `context` (see [`crate::NamespaceDef::on_ack`]): the form that survives the
    /// invocation on stateless runtimes, where nothing can wait in memory for the reply.
    pub async fn emit_with_ack_to(
        &self,
        event: &str,
        args: impl Into<Args>,
        handler: &str,
        context: impl Serialize,
        timeout_ms: Option<u64>,
    ) -> Result<(), OpError> {
        let context = serde_json::to_value(context).map_err(|e| OpError::Data(e.to_string()))?;
        self.ops
            .emit_with_ack_to(self.me(), event.to_owned(), args.into(), handler.to_owned(), context, timeout_ms)
            .await
    }

    pub async fn join(&self, room: impl Into<String>) -> Result<(), OpError> {
        self.ops.join(self.me(), vec![room.into()]).await
    }

    pub async fn leave(&self, room: impl Into<String>) -> Result<(), OpError> {
        self.ops.leave(self.me(), vec![room.into()]).await
    }

    async fn info(&self) -> Result<SocketInfo, OpError> {
        self.ops.fetch_sockets(self.me()).await?.into_iter().next().ok_or(OpError::NotConnected)
    }

    /// The rooms this socket is in, its own id among them.
    pub async fn rooms(&self) -> Result<Vec<String>, OpError> {
        Ok(self.info().await?.rooms)
    }

    /// `socket.data` as JSON.
    pub async fn data_value(&self) -> Result<Value, OpError> {
        Ok(self.info().await?.data)
    }

    /// `socket.data` deserialized; `None` when it has another shape.
    pub async fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, OpError> {
        Ok(T::deserialize(self.data_value().await?).ok())
    }

    pub async fn set_data(&self, data: impl Serialize) -> Result<(), OpError> {
        let value = serde_json::to_value(data).map_err(|e| OpError::Data(e.to_string()))?;
        self.ops.set_data(str::to_owned(&self.nsp), str::to_owned(&self.id), value).await
    }

    /// Disconnects this socket from its namespace; with `close`, closes the client's whole
    /// connection (every namespace).
    pub async fn disconnect(&self, close: bool) -> Result<(), OpError> {
        self.ops.disconnect(self.me(), close).await
    }

    /// Every other socket of the namespace (`socket.broadcast`).
    pub fn broadcast(&self) -> Broadcast {
        Broadcast::new(
            self.ops.clone(),
            Target { exclude: Some(str::to_owned(&self.id)), ..Target::namespace(&self.nsp) },
        )
    }

    /// The other sockets in `room` (`socket.to(room)`: the sender is left out).
    pub fn to(&self, room: impl Into<String>) -> Broadcast {
        self.broadcast().to(room)
    }

    /// The whole namespace this socket belongs to (`socket.nsp` / `io.of(nsp)`).
    pub fn namespace(&self) -> Namespace {
        Namespace::new(&self.nsp, self.ops.clone())
    }
}

/// A namespace as a target for server-side operations (`io.of("/chat")`).
#[derive(Clone)]
pub struct Namespace {
    nsp: Arc<str>,
    ops: SharedOps,
}

impl Namespace {
    pub fn new(nsp: &str, ops: SharedOps) -> Self {
        Self { nsp: nsp.into(), ops }
    }

    pub fn name(&self) -> &str {
        &self.nsp
    }

    fn all(&self) -> Broadcast {
        Broadcast::new(self.ops.clone(), Target::namespace(&self.nsp))
    }

    pub fn to(&self, room: impl Into<String>) -> Broadcast {
        self.all().to(room)
    }

    /// Same as [`Self::to`], Node's `in`.
    pub fn within(&self, room: impl Into<String>) -> Broadcast {
        self.all().to(room)
    }

    pub fn except(&self, room: impl Into<String>) -> Broadcast {
        self.all().except(room)
    }

    pub fn volatile(&self) -> Broadcast {
        self.all().volatile()
    }

    pub fn local(&self) -> Broadcast {
        self.all().local()
    }

    pub fn timeout(&self, ms: u64) -> Broadcast {
        self.all().timeout(ms)
    }

    pub async fn emit(&self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.all().emit(event, args).await
    }

    /// Emits a `message` event to the whole namespace (`io.send` in Node).
    pub async fn send(&self, args: impl Into<Args>) -> Result<(), OpError> {
        self.all().send(args).await
    }

    pub async fn fetch_sockets(&self) -> Result<Vec<SocketInfo>, OpError> {
        self.all().fetch_sockets().await
    }

    pub async fn sockets_join(&self, room: impl Into<String>) -> Result<(), OpError> {
        self.all().sockets_join(room).await
    }

    pub async fn sockets_leave(&self, room: impl Into<String>) -> Result<(), OpError> {
        self.all().sockets_leave(room).await
    }

    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), OpError> {
        self.all().disconnect_sockets(close).await
    }
}

/// A set of sockets built up with `to`/`except`/flags, then acted on once.
#[derive(Clone)]
pub struct Broadcast {
    target: Target,
    timeout_ms: Option<u64>,
    ops: SharedOps,
}

impl Broadcast {
    fn new(ops: SharedOps, target: Target) -> Self {
        Self { target, timeout_ms: None, ops }
    }

    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.target.rooms.push(room.into());
        self
    }

    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.target.except.push(room.into());
        self
    }

    pub fn volatile(mut self) -> Self {
        self.target.volatile = true;
        self
    }

    pub fn local(mut self) -> Self {
        self.target.local = true;
        self
    }

    /// Permessage compression is negotiated per connection by the transport; the flag is
    /// accepted for API parity and has no further effect.
    pub fn compress(self, _compress: bool) -> Self {
        self
    }

    pub fn timeout(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    pub async fn emit(self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.emit(self.target, event.to_owned(), args.into()).await
    }

    /// Emits a `message` event (`send` in Node).
    pub async fn send(self, args: impl Into<Args>) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Emits and gathers every recipient's acknowledgement (`emitWithAck` on a broadcast).
    pub async fn emit_with_ack(self, event: &str, args: impl Into<Args>) -> Result<AckReplies, AckError> {
        self.ops.emit_with_ack(self.target, event.to_owned(), args.into(), self.timeout_ms).await
    }

    /// Emits asking each socket for an acknowledgement that the namespace's ack handler
    /// `handler` receives, once per socket, with `context`.
    pub async fn emit_with_ack_to(
        self,
        event: &str,
        args: impl Into<Args>,
        handler: &str,
        context: impl Serialize,
    ) -> Result<(), OpError> {
        let context = serde_json::to_value(context).map_err(|e| OpError::Data(e.to_string()))?;
        self.ops
            .emit_with_ack_to(self.target, event.to_owned(), args.into(), handler.to_owned(), context, self.timeout_ms)
            .await
    }

    pub async fn fetch_sockets(self) -> Result<Vec<SocketInfo>, OpError> {
        self.ops.fetch_sockets(self.target).await
    }

    pub async fn sockets_join(self, room: impl Into<String>) -> Result<(), OpError> {
        self.ops.join(self.target, vec![room.into()]).await
    }

    pub async fn sockets_leave(self, room: impl Into<String>) -> Result<(), OpError> {
        self.ops.leave(self.target, vec![room.into()]).await
    }

    pub async fn disconnect_sockets(self, close: bool) -> Result<(), OpError> {
        self.ops.disconnect(self.target, close).await
    }
}

/// The client asked for an acknowledgement: answer it once. Owned names, since the one
/// answer hands them on.
pub struct Ack {
    nsp: String,
    sid: String,
    id: u64,
    ops: SharedOps,
}

impl Ack {
    /// `sid` is the Engine.IO session the request came on.
    pub fn new(nsp: &str, sid: &str, id: u64, ops: SharedOps) -> Self {
        Self { nsp: nsp.to_owned(), sid: sid.to_owned(), id, ops }
    }

    pub async fn send(self, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.ack(self.nsp, self.sid, self.id, args.into()).await
    }
}

/// The whole server (`io` in Node): reach any namespace, wait on the runtime's clock.
#[derive(Clone)]
pub struct Server {
    ops: SharedOps,
}

impl Server {
    pub fn new(ops: SharedOps) -> Self {
        Self { ops }
    }

    pub fn of(&self, nsp: &str) -> Namespace {
        Namespace::new(nsp, self.ops.clone())
    }

    pub async fn sleep(&self, ms: u64) {
        self.ops.sleep(ms).await
    }

    pub fn now(&self) -> u64 {
        self.ops.now()
    }
}

/// A bare Engine.IO session, for applications without Socket.IO.
#[derive(Clone)]
pub struct EngineSocket {
    sid: Arc<str>,
    ops: SharedOps,
}

impl EngineSocket {
    pub fn new(sid: &str, ops: SharedOps) -> Self {
        Self { sid: sid.into(), ops }
    }

    pub fn sid(&self) -> &str {
        &self.sid
    }

    pub async fn send(&self, data: Data) {
        self.ops.send_message(str::to_owned(&self.sid), data).await
    }
}
