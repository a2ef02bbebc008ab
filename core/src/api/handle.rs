//! Handles the application holds: a socket, a namespace, a broadcast, an ack.
//!
//! Each is a small cloneable value (names plus the runtime's [`Ops`]); none keeps state of
//! its own, so a handler can run in whichever instance of whichever runtime received the
//! packet.
//!
//! Runtimes build these handles and hand them to the handlers; an application receives
//! them as handler arguments and never calls their `new` functions.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::args::Args;
use super::ops::{AckError, AckReplies, Handshake, OpError, Ops, SocketInfo, Target};
use super::rooms::Rooms;
use crate::eio::packet::Data;

/// The operations of the runtime hosting the application, shared by every handle.
pub type SharedOps = Arc<dyn Ops>;

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
///     match socket.emit_with_ack("ready?", (), Some(5_000)).await {
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

    /// Sends an event to this socket (`socket.emit(event, ...args)`).
    pub async fn emit(&self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.emit(self.me(), event.to_owned(), args.into()).await
    }

    /// Emits a `message` event (`socket.send` in Node).
    pub async fn send(&self, args: impl Into<Args>) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Sends an event and waits for the client's acknowledgement for at most
    /// `timeout_ms` (`socket.timeout(ms).emitWithAck(...)`); `None` waits until the socket
    /// disconnects (`socket.emitWithAck(...)`).
    ///
    /// The handler stays suspended until the answer; for a reply that may take long,
    /// [`Self::emit_with_ack_to`] hands it to a named handler instead.
    ///
    /// ```
    /// use sio_core::{AckError, NamespaceDef};
    ///
    /// let def = NamespaceDef::new().on_connect(|socket| async move {
    ///     // const answer = await socket.timeout(3000).emitWithAck("question", "colour?")
    ///     match socket.emit_with_ack("question", "colour?", Some(3_000)).await {
    ///         Ok(answer) => println!("{:?}", answer.str(0)),
    ///         Err(AckError::Timeout) => println!("no answer in time"),
    ///         Err(e) => println!("failed: {e}"),
    ///     }
    /// });
    /// # let _ = def;
    /// ```
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

/// A namespace as a target for server-side operations (`io.of("/chat")`).
///
/// Get it from a socket ([`Socket::namespace`]) or from the server ([`Server::of`]). Unlike
/// [`Socket::to`], its broadcasts include the socket that caused them.
///
/// ```
/// use serde_json::json;
/// use sio_core::NamespaceDef;
///
/// let def = NamespaceDef::new().on("chat", |socket, args, _ack| async move {
///     let nsp = socket.namespace();
///     let text = args.str(0).unwrap_or_default().to_owned();
///     // io.to("lobby").emit("chat", ...): the sender gets it too
///     let _ = nsp.to("lobby").emit("chat", json!({ "from": socket.id(), "text": text })).await;
///     // io.emit("activity", ...): every socket of the namespace
///     let _ = nsp.emit("activity", socket.id()).await;
///     // const sockets = await io.in("lobby").fetchSockets()
///     let sockets = nsp.within("lobby").fetch_sockets().await.unwrap_or_default();
///     let _ = socket.emit("lobby size", json!(sockets.len())).await;
/// });
/// # let _ = def;
/// ```
#[derive(Clone)]
pub struct Namespace {
    nsp: Arc<str>,
    ops: SharedOps,
}

impl Namespace {
    /// Built by runtimes; applications use [`Socket::namespace`] or [`Server::of`].
    pub fn new(nsp: &str, ops: SharedOps) -> Self {
        Self { nsp: nsp.into(), ops }
    }

    /// The namespace's name, e.g. `/chat`.
    pub fn name(&self) -> &str {
        &self.nsp
    }

    fn all(&self) -> Broadcast {
        Broadcast::new(self.ops.clone(), Target::namespace(&self.nsp))
    }

    /// The sockets in a room or several ([`Rooms`]; `io.to(room)`, `io.to([a, b])`); a
    /// socket in several of them gets the event once.
    pub fn to(&self, rooms: impl Rooms) -> Broadcast {
        self.all().to(rooms)
    }

    /// Same as [`Self::to`], Node's `io.in(room)` (`in` is a Rust keyword).
    pub fn within(&self, rooms: impl Rooms) -> Broadcast {
        self.all().to(rooms)
    }

    /// Every socket of the namespace but those in `room` (`io.except(room)`).
    pub fn except(&self, rooms: impl Rooms) -> Broadcast {
        self.all().except(rooms)
    }

    /// Every socket, the event kept out of the recovery log (`io.volatile`). See
    /// [`Broadcast::volatile`].
    pub fn volatile(&self) -> Broadcast {
        self.all().volatile()
    }

    /// The sockets connected to this process only (`io.local`). See [`Broadcast::local`].
    pub fn local(&self) -> Broadcast {
        self.all().local()
    }

    /// Every socket, with `ms` milliseconds to acknowledge (`io.timeout(ms)`), for
    /// [`Broadcast::emit_with_ack`].
    pub fn timeout(&self, ms: u64) -> Broadcast {
        self.all().timeout(ms)
    }

    /// Sends an event to every socket of the namespace (`io.emit(event, ...args)`).
    pub async fn emit(&self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.all().emit(event, args).await
    }

    /// Emits a `message` event to the whole namespace (`io.send` in Node).
    pub async fn send(&self, args: impl Into<Args>) -> Result<(), OpError> {
        self.all().send(args).await
    }

    /// A snapshot of every socket of the namespace (`io.fetchSockets()`), on every
    /// process. Narrow it first: `nsp.within(room).fetch_sockets()`.
    pub async fn fetch_sockets(&self) -> Result<Vec<SocketInfo>, OpError> {
        self.all().fetch_sockets().await
    }

    /// Adds every socket of the namespace to `room` (`io.socketsJoin(room)`).
    pub async fn sockets_join(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.all().sockets_join(rooms).await
    }

    /// Removes every socket of the namespace from `room` (`io.socketsLeave(room)`).
    pub async fn sockets_leave(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.all().sockets_leave(rooms).await
    }

    /// Disconnects every socket of the namespace (`io.disconnectSockets(close)`); with
    /// `close`, closes their whole connections.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), OpError> {
        self.all().disconnect_sockets(close).await
    }
}

/// A set of sockets built up with `to`/`except`/flags, then acted on once (Node's
/// `BroadcastOperator`).
///
/// Start one from [`Socket::to`], [`Socket::broadcast`] or a [`Namespace`] method, add
/// modifiers, and end with one operation (`emit`, `fetch_sockets`, ...), which consumes it.
/// Rooms given to `to` add up (a socket in any of them is included); rooms given to
/// `except` take their sockets out.
///
/// ```
/// use serde_json::json;
/// use sio_core::{AckError, NamespaceDef};
///
/// let def = NamespaceDef::new().on("alert", |socket, _args, _ack| async move {
///     // io.to("room1").to("room2").except("muted").emit("alert")
///     let _ = socket.namespace().to("room1").to("room2").except("muted").emit("alert", ()).await;
///     // socket.volatile.broadcast.emit("position", ...): may be dropped
///     let _ = socket.broadcast().volatile().emit("position", json!({ "x": 4, "y": 2 })).await;
///     // io.local.emit("hello"): this process only
///     let _ = socket.namespace().local().emit("hello", ()).await;
///     // const replies = await io.to("room1").timeout(2000).emitWithAck("ready?")
///     match socket.namespace().to("room1").timeout(2_000).emit_with_ack("ready?", ()).await {
///         Ok(replies) if replies.timed_out => println!("{} answered in time", replies.replies.len()),
///         Ok(replies) => println!("all {} answered", replies.replies.len()),
///         Err(AckError::Op(e)) => println!("failed: {e}"),
///         Err(e) => println!("{e}"),
///     }
/// });
/// # let _ = def;
/// ```
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

    /// Adds the sockets in a room or several (`.to(room)` / `.in(room)`).
    pub fn to(mut self, rooms: impl Rooms) -> Self {
        self.target.rooms.extend(rooms.into_rooms());
        self
    }

    /// Leaves out the sockets in a room or several (`.except(room)`).
    pub fn except(mut self, rooms: impl Rooms) -> Self {
        self.target.except.extend(rooms.into_rooms());
        self
    }

    /// Keeps the event out of the recovery log (`.volatile`): for data that is stale soon
    /// anyway, like positions. Unlike Node, the event is still queued for a socket that
    /// cannot take it right now.
    pub fn volatile(mut self) -> Self {
        self.target.volatile = true;
        self
    }

    /// Only the sockets connected to this process (`.local`). On Cloudflare, the sockets
    /// of the Durable Object that runs the handler; natively and on Lambda (memory or
    /// Redis store) every socket, as when one process serves everything.
    pub fn local(mut self) -> Self {
        self.target.local = true;
        self
    }

    /// Accepted for API parity (`.compress`); it has no effect, since no transport
    /// compresses yet.
    pub fn compress(self, _compress: bool) -> Self {
        self
    }

    /// Gives the recipients `ms` milliseconds to acknowledge (`.timeout(ms)`); used by
    /// [`Self::emit_with_ack`] and [`Self::emit_with_ack_to`], ignored by the others.
    pub fn timeout(mut self, ms: u64) -> Self {
        self.timeout_ms = Some(ms);
        self
    }

    /// Sends an event to every socket of the set (`.emit(event, ...args)`).
    pub async fn emit(self, event: &str, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.emit(self.target, event.to_owned(), args.into()).await
    }

    /// Emits a `message` event (`send` in Node).
    pub async fn send(self, args: impl Into<Args>) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Emits and gathers every recipient's acknowledgement (`emitWithAck` on a broadcast).
    /// Without [`Self::timeout`] it waits until every recipient answered or disconnected.
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

    /// A snapshot of the sockets of the set, on every process (`.fetchSockets()`).
    pub async fn fetch_sockets(self) -> Result<Vec<SocketInfo>, OpError> {
        self.ops.fetch_sockets(self.target).await
    }

    /// Adds the sockets of the set to `room` (`.socketsJoin(room)`).
    pub async fn sockets_join(self, rooms: impl Rooms) -> Result<(), OpError> {
        self.ops.join(self.target, rooms.into_rooms()).await
    }

    /// Removes the sockets of the set from `room` (`.socketsLeave(room)`).
    pub async fn sockets_leave(self, rooms: impl Rooms) -> Result<(), OpError> {
        self.ops.leave(self.target, rooms.into_rooms()).await
    }

    /// Disconnects the sockets of the set (`.disconnectSockets(close)`); with `close`,
    /// closes their whole connections.
    pub async fn disconnect_sockets(self, close: bool) -> Result<(), OpError> {
        self.ops.disconnect(self.target, close).await
    }
}

/// The client asked for an acknowledgement: answer it once. Owned names, since the one
/// answer hands them on.
///
/// An event handler gets `Some(ack)` when the client passed a callback or used
/// `emitWithAck`. [`Ack::send`] takes the `Ack` by value, so it can only answer once;
/// whatever it sends is what the client's callback receives.
///
/// ```
/// use serde_json::json;
/// use sio_core::NamespaceDef;
///
/// // socket.on("save", (doc, callback) => callback({ ok: true, id: 7 }))
/// let def = NamespaceDef::new().on("save", |_socket, args, ack| async move {
///     let reply = match args.get(0) {
///         Some(_doc) => json!({ "ok": true, "id": 7 }),
///         None => json!({ "ok": false, "error": "save(doc)" }),
///     };
///     if let Some(ack) = ack {
///         let _ = ack.send(reply).await;
///     }
/// });
/// # let _ = def;
/// ```
pub struct Ack {
    nsp: String,
    sid: String,
    id: u64,
    ops: SharedOps,
}

impl Ack {
    /// Built by runtimes. `sid` is the Engine.IO session the request came on.
    pub fn new(nsp: &str, sid: &str, id: u64, ops: SharedOps) -> Self {
        Self { nsp: nsp.to_owned(), sid: sid.to_owned(), id, ops }
    }

    /// Answers the client (`callback(...args)` in Node). A JSON value, a string or `()`
    /// convert into [`Args`]; build an `Args` for several arguments.
    pub async fn send(self, args: impl Into<Args>) -> Result<(), OpError> {
        self.ops.ack(self.nsp, self.sid, self.id, args.into()).await
    }
}

/// The whole server (`io` in Node): reach any namespace, wait on the runtime's clock.
///
/// [`crate::App::allow_request`] receives it.
///
/// ```
/// use sio_core::App;
///
/// let app = App::new().allow_request(|_handshake, server| async move {
///     // io.of("/admin").fetchSockets()
///     let admins = server.of("/admin").fetch_sockets().await.unwrap_or_default();
///     admins.len() < 10
/// });
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct Server {
    ops: SharedOps,
}

impl Server {
    /// Built by runtimes.
    pub fn new(ops: SharedOps) -> Self {
        Self { ops }
    }

    /// The namespace `nsp` (`io.of(nsp)`).
    pub fn of(&self, nsp: &str) -> Namespace {
        Namespace::new(nsp, self.ops.clone())
    }

    /// Waits `ms` milliseconds on the runtime's clock.
    pub async fn sleep(&self, ms: u64) {
        self.ops.sleep(ms).await
    }

    /// Milliseconds since the Unix epoch, from the runtime.
    pub fn now(&self) -> u64 {
        self.ops.now()
    }
}

/// A bare Engine.IO session, for applications without Socket.IO. See [`crate::App::engine`].
#[derive(Clone)]
pub struct EngineSocket {
    sid: Arc<str>,
    ops: SharedOps,
}

impl EngineSocket {
    /// Built by runtimes.
    pub fn new(sid: &str, ops: SharedOps) -> Self {
        Self { sid: sid.into(), ops }
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// Sends a text or binary message to the session.
    pub async fn send(&self, data: Data) {
        self.ops.send_message(str::to_owned(&self.sid), data).await
    }
}
