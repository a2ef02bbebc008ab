//! A socket: one client's connection to one namespace, and its emits.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::args::Args;
use super::broadcast::{Broadcast, Namespace};
use super::handle::{Server, SharedOps};
use super::into_args::IntoArgs;
use super::ops::{AckError, Handshake, OpError, SocketInfo, Target};
use super::rooms::Rooms;
use crate::eio::request::TransportKind;

/// One client's connection to one namespace (`socket` in Node).
///
/// Handlers receive it; cloning it is cheap. Every call goes to the runtime's store, so it
/// sees the socket's current rooms and data wherever the socket is connected. Calls are
/// `async` and return a `Result`: an error means the store failed or the socket is gone.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
/// use sio_core::NamespaceDef;
///
/// #[derive(Default, Serialize, Deserialize)]
/// struct Profile {
///     name: String,
///     room: Option<String>,
/// }
///
/// let def = NamespaceDef::new().on("enter", |socket, args, ack| async move {
///     let Some(room) = args.str(0).map(str::to_owned) else { return };
///
///     // socket.handshake.auth.name
///     let name = match socket.handshake().await {
///         Ok(h) => h.auth.get("name").and_then(|n| n.as_str()).unwrap_or("anonymous").to_owned(),
///         Err(_) => return,
///     };
///
///     // socket.data, kept in the store between packets
///     let mut me: Profile = socket.data().await.ok().flatten().unwrap_or_default();
///     if let Some(old) = me.room.take() {
///         let _ = socket.leave(old).await; // socket.leave(old)
///     }
///     let _ = socket.join(room.clone()).await; // socket.join(room)
///     me = Profile { name, room: Some(room.clone()) };
///     let _ = socket.set_data(&me).await; // socket.data = me
///
///     // socket.to(room).emit(...): everyone in the room but this socket
///     let _ = socket.to(room.clone()).emit("entered", json!({ "name": me.name })).await;
///     // socket.emit(...): this socket only
///     let _ = socket.emit("welcome", json!({ "room": room })).await;
///
///     // socket.timeout(5000).emitWithAck("ready?")
///     match socket.timeout(5_000).emit_with_ack("ready?", ()).await {
///         Ok(reply) => println!("client answered {:?}", reply.get(0)),
///         Err(e) => println!("no answer: {e}"),
///     }
///
///     if let Some(ack) = ack {
///         let _ = ack.send(json!({ "ok": true })).await;
///     }
/// });
/// # let _ = def;
/// ```
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
    /// Built by runtimes. `handshake` may be left out where the runtime does not have it
    /// at hand (an event handler); [`Self::handshake`] then loads it.
    pub fn new(id: &str, nsp: &str, handshake: Option<Arc<Handshake>>, recovered: bool, ops: SharedOps) -> Self {
        Self { id: id.into(), nsp: nsp.into(), handshake, recovered, ops }
    }

    /// The socket's id (`socket.id`), also the name of the room only it is in.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name of the socket's namespace (`socket.nsp.name`), e.g. `/` or `/chat`.
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

    /// Waits `ms` milliseconds on the runtime's clock. Use it rather than a runtime's own
    /// timer, so the handler runs on every runtime.
    pub async fn sleep(&self, ms: u64) {
        self.ops.sleep(ms).await
    }

    /// Milliseconds since the Unix epoch, from the runtime (wasm has no system clock).
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

    /// The emits of this socket with default flags: acknowledgements wait until the socket
    /// disconnects, events go into the recovery log.
    fn emitter(&self) -> Emitter {
        Emitter { socket: self.clone(), volatile: false, timeout_ms: None }
    }

    /// Sends an event to this socket (`socket.emit(event, ...args)`): `args` is anything
    /// [`IntoArgs`], a tuple for several arguments.
    pub async fn emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        // Straight to the runtime, without an Emitter's copy of the handle: the hot path.
        self.ops.emit(self.me(), event.to_owned(), args.into_args()?).await
    }

    /// Emits a `message` event (`socket.send` in Node).
    pub async fn send(&self, args: impl IntoArgs) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Sends an event and waits for the client's acknowledgement, until the socket
    /// disconnects (`socket.emitWithAck(...)`); [`Self::timeout`] bounds the wait.
    ///
    /// The handler stays suspended until the answer; for a reply that may take long,
    /// [`Self::emit_with_ack_to`] hands it to a named handler instead.
    pub async fn emit_with_ack(&self, event: &str, args: impl IntoArgs) -> Result<Args, AckError> {
        self.emitter().emit_with_ack(event, args).await
    }

    /// Emits with an acknowledgement that the namespace's ack handler `handler` receives
    /// with `context` (see [`crate::NamespaceDef::on_ack`]): the form that survives the
    /// invocation on stateless runtimes, where nothing can wait in memory for the reply.
    pub async fn emit_with_ack_to(
        &self,
        event: &str,
        args: impl IntoArgs,
        handler: &str,
        context: impl Serialize,
    ) -> Result<(), OpError> {
        self.emitter().emit_with_ack_to(event, args, handler, context).await
    }

    /// The next acknowledgement waits at most `ms` milliseconds (`socket.timeout(ms)`);
    /// then [`Emitter::emit_with_ack`] fails with [`AckError::Timeout`], and a named ack
    /// handler gets that error.
    ///
    /// ```
    /// use sio_core::{AckError, NamespaceDef};
    ///
    /// let def = NamespaceDef::new().on_connect(|socket| async move {
    ///     // const answer = await socket.timeout(3000).emitWithAck("question", "colour?")
    ///     match socket.timeout(3_000).emit_with_ack("question", "colour?").await {
    ///         Ok(answer) => println!("{:?}", answer.str(0)),
    ///         Err(AckError::Timeout) => println!("no answer in time"),
    ///         Err(e) => println!("failed: {e}"),
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub fn timeout(&self, ms: u64) -> Emitter {
        self.emitter().timeout(ms)
    }

    /// The next event stays out of the recovery log (`socket.volatile`): for data that is
    /// stale soon anyway. See [`Broadcast::volatile`].
    pub fn volatile(&self) -> Emitter {
        self.emitter().volatile()
    }

    /// Accepted for API parity (`socket.compress(false)`); no transport compresses yet.
    pub fn compress(&self, compress: bool) -> Emitter {
        self.emitter().compress(compress)
    }

    /// Whether the socket is still connected to its namespace (`socket.connected`). It
    /// asks the store, so it sees a disconnection on any process.
    pub async fn connected(&self) -> Result<bool, OpError> {
        Ok(!self.ops.fetch_sockets(self.me()).await?.is_empty())
    }

    /// The transport the socket's connection uses now (`socket.conn.transport.name`):
    /// polling until an upgrade to WebSocket completes. Asks the store.
    pub async fn transport(&self) -> Result<TransportKind, OpError> {
        self.ops.transport(self.nsp.to_string(), self.id.to_string()).await
    }

    /// The whole server (`io`): another namespace ([`Server::of`]), the runtime's clock.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// // io.of("/admin").emit("joined", socket.id)
    /// let def = NamespaceDef::new().on_connect(|socket| async move {
    ///     let _ = socket.server().of("/admin").emit("joined", socket.id()).await;
    /// });
    /// # let _ = def;
    /// ```
    pub fn server(&self) -> Server {
        Server::new(self.ops.clone())
    }

    /// Adds this socket to a room or several ([`Rooms`]; `socket.join(room)`,
    /// `socket.join([a, b])`). Fails with [`OpError::TooManyRooms`] past
    /// [`crate::SocketConfig::max_rooms`].
    pub async fn join(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.ops.join(self.me(), rooms.into_rooms()).await
    }

    /// Removes this socket from a room or several (`socket.leave(room)`).
    pub async fn leave(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.ops.leave(self.me(), rooms.into_rooms()).await
    }

    async fn info(&self) -> Result<SocketInfo, OpError> {
        self.ops.fetch_sockets(self.me()).await?.into_iter().next().ok_or(OpError::NotConnected)
    }

    /// The rooms this socket is in, its own id among them (`socket.rooms`).
    pub async fn rooms(&self) -> Result<Vec<String>, OpError> {
        Ok(self.info().await?.rooms)
    }

    /// `socket.data` as JSON: `null` until a handler sets it.
    pub async fn data_value(&self) -> Result<Value, OpError> {
        Ok(self.info().await?.data)
    }

    /// `socket.data` deserialized; `None` when it has another shape (or was never set).
    ///
    /// `socket.data` lives in the runtime's store, not in the handler: it is what carries
    /// a socket's state from one packet to the next, on whichever process serves it.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use sio_core::NamespaceDef;
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// struct Score {
    ///     points: u32,
    /// }
    ///
    /// let def = NamespaceDef::new().on("score", |socket, _args, _ack| async move {
    ///     // socket.data.points += 1
    ///     let mut score: Score = socket.data().await.ok().flatten().unwrap_or_default();
    ///     score.points += 1;
    ///     let _ = socket.set_data(&score).await;
    /// });
    /// # let _ = def;
    /// ```
    pub async fn data<T: DeserializeOwned>(&self) -> Result<Option<T>, OpError> {
        Ok(T::deserialize(self.data_value().await?).ok())
    }

    /// Replaces `socket.data` (`socket.data = value`). Fails with [`OpError::Data`] when
    /// `data` does not serialize to JSON.
    pub async fn set_data(&self, data: impl Serialize) -> Result<(), OpError> {
        let value = serde_json::to_value(data).map_err(|e| OpError::Data(e.to_string()))?;
        self.ops.set_data(str::to_owned(&self.nsp), str::to_owned(&self.id), value).await
    }

    /// Disconnects this socket from its namespace; with `close`, closes the client's whole
    /// connection (every namespace), as `socket.disconnect(close)` in Node.
    pub async fn disconnect(&self, close: bool) -> Result<(), OpError> {
        self.ops.disconnect(self.me(), close).await
    }

    /// Every other socket of the namespace (`socket.broadcast`).
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// // socket.broadcast.emit("arrived", socket.id)
    /// let def = NamespaceDef::new().on_connect(|socket| async move {
    ///     let _ = socket.broadcast().emit("arrived", socket.id()).await;
    /// });
    /// # let _ = def;
    /// ```
    pub fn broadcast(&self) -> Broadcast {
        Broadcast::new(
            self.ops.clone(),
            Target { exclude: Some(str::to_owned(&self.id)), ..Target::namespace(&self.nsp) },
        )
    }

    /// The other sockets in a room or several ([`Rooms`]; `socket.to(room)`,
    /// `socket.to([a, b])`: the sender is left out).
    pub fn to(&self, rooms: impl Rooms) -> Broadcast {
        self.broadcast().to(rooms)
    }

    /// The same as [`Self::to`]: Node's `socket.in(room)` (`in` is a Rust keyword).
    pub fn within(&self, rooms: impl Rooms) -> Broadcast {
        self.to(rooms)
    }

    /// Every other socket of the namespace but those in `rooms` (`socket.except(room)`):
    /// [`Self::broadcast`] then [`Broadcast::except`].
    pub fn except(&self, rooms: impl Rooms) -> Broadcast {
        self.broadcast().except(rooms)
    }

    /// The whole namespace this socket belongs to (`socket.nsp` / `io.of(nsp)`).
    pub fn namespace(&self) -> Namespace {
        Namespace::new(&self.nsp, self.ops.clone())
    }
}

/// One emit from a socket with its flags set: [`Socket::timeout`], [`Socket::volatile`],
/// [`Socket::compress`] give it, and its methods chain as Node's do
/// (`socket.volatile.timeout(100).emitWithAck(...)`).
#[derive(Clone, Debug)]
#[must_use = "an Emitter does nothing until one of its emits is awaited"]
pub struct Emitter {
    socket: Socket,
    volatile: bool,
    timeout_ms: Option<u64>,
}

impl Emitter {
    fn target(&self) -> Target {
        Target { volatile: self.volatile, ..self.socket.me() }
    }

    /// Gives the acknowledgement `ms` milliseconds (`.timeout(ms)`).
    pub fn timeout(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Keeps the event out of the recovery log (`.volatile`).
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Accepted for API parity (`.compress(bool)`); no transport compresses yet.
    pub fn compress(self, _compress: bool) -> Self {
        self
    }

    /// Sends an event to the socket (`.emit(event, ...args)`).
    pub async fn emit(self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        let args = args.into_args()?;
        self.socket.ops.emit(self.target(), event.to_owned(), args).await
    }

    /// Emits a `message` event (`.send(...)`).
    pub async fn send(self, args: impl IntoArgs) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Sends an event and waits for the client's acknowledgement (`.emitWithAck(...)`):
    /// every argument of the answer, or why none came.
    pub async fn emit_with_ack(self, event: &str, args: impl IntoArgs) -> Result<Args, AckError> {
        let args = args.into_args()?;
        let target = self.target();
        let mut replies = self.socket.ops.emit_with_ack(target, event.to_owned(), args, self.timeout_ms).await?;
        match replies.replies.pop() {
            Some(reply) => Ok(reply),
            None if replies.timed_out => Err(AckError::Timeout),
            None if replies.refused > 0 => Err(AckError::TooManyPendingAcks),
            None => Err(AckError::Disconnected),
        }
    }

    /// Emits asking for an acknowledgement that the namespace's ack handler `handler`
    /// receives with `context` (see [`Socket::emit_with_ack_to`]).
    pub async fn emit_with_ack_to(
        self,
        event: &str,
        args: impl IntoArgs,
        handler: &str,
        context: impl Serialize,
    ) -> Result<(), OpError> {
        let args = args.into_args()?;
        let context = serde_json::to_value(context).map_err(|e| OpError::Data(e.to_string()))?;
        let target = self.target();
        self.socket
            .ops
            .emit_with_ack_to(target, event.to_owned(), args, handler.to_owned(), context, self.timeout_ms)
            .await
    }
}
