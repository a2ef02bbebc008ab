//! A namespace and the sets of its sockets that broadcasts reach.

use std::sync::Arc;

use serde::Serialize;

use super::handle::SharedOps;
use super::into_args::IntoArgs;
use super::ops::{AckError, AckReplies, OpError, Target};
use super::parent::ParentNamespace;
use super::remote::RemoteSocket;
use super::rooms::Rooms;

/// A namespace as a target for server-side operations (`io.of("/chat")`).
///
/// Get it from a socket ([`Socket::namespace`](crate::Socket::namespace)) or from the server ([`Server::of`](crate::Server::of)). Unlike
/// [`Socket::to`](crate::Socket::to), its broadcasts include the socket that caused them.
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
    /// Built by runtimes; applications use [`Socket::namespace`](crate::Socket::namespace) or [`Server::of`](crate::Server::of).
    pub fn new(nsp: &str, ops: SharedOps) -> Self {
        Self { nsp: nsp.into(), ops }
    }

    /// The namespace's name, e.g. `/chat`.
    pub fn name(&self) -> &str {
        &self.nsp
    }

    /// Every namespace served by the same [`crate::App::dynamic_namespace`] definition as
    /// this one, together (Node's parent namespace); `None` for a static namespace.
    pub fn parent(&self) -> Option<ParentNamespace> {
        self.ops.same_parent(&self.nsp, &self.nsp).then(|| ParentNamespace::new(self.nsp.clone(), self.ops.clone()))
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
    pub async fn emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        self.all().emit(event, args).await
    }

    /// Emits a `message` event to the whole namespace (`io.send` in Node).
    pub async fn send(&self, args: impl IntoArgs) -> Result<(), OpError> {
        self.all().send(args).await
    }

    /// Every socket of the namespace (`io.fetchSockets()`), on every process: a snapshot
    /// of each, with the operations of Node's `RemoteSocket`. Narrow it first:
    /// `nsp.within(room).fetch_sockets()`.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, OpError> {
        self.all().fetch_sockets().await
    }

    /// Runs this namespace's server-side event handler ([`crate::NamespaceDef::on_server_side`])
    /// on every other instance of the application (`nsp.serverSideEmit(event, ...args)`):
    /// the other processes on Redis, the other Durable Objects on Cloudflare; none
    /// natively in memory (one process) or on Lambda (no standing instances).
    pub async fn server_side_emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        self.ops.server_side_emit(str::to_owned(&self.nsp), event.to_owned(), args.into_args()?, None).await?;
        Ok(())
    }

    /// As [`Self::server_side_emit`], and gathers the instances' acknowledgements for at
    /// most `timeout_ms` (`nsp.timeout(ms).serverSideEmitWithAck(...)`): the replies that
    /// came, and `timed_out` when some instance did not answer in time.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new()
    ///     // io.on("load?", (callback) => callback(os.loadavg()[0]))
    ///     .on_server_side("load?", |_server, _args, ack| async move {
    ///         if let Some(ack) = ack {
    ///             ack.send(0.5);
    ///         }
    ///     })
    ///     .on("cluster-load", |socket, _args, ack| async move {
    ///         // const loads = await io.timeout(1000).serverSideEmitWithAck("load?")
    ///         let loads = socket.namespace().server_side_emit_with_ack("load?", (), 1_000).await;
    ///         if let (Some(ack), Ok(loads)) = (ack, loads) {
    ///             let _ = ack.send(loads.replies.iter().filter_map(|r| r.parse::<f64>(0)).collect::<Vec<_>>()).await;
    ///         }
    ///     });
    /// # let _ = def;
    /// ```
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: impl IntoArgs,
        timeout_ms: u64,
    ) -> Result<AckReplies, OpError> {
        self.ops.server_side_emit(str::to_owned(&self.nsp), event.to_owned(), args.into_args()?, Some(timeout_ms)).await
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
/// Start one from [`Socket::to`](crate::Socket::to), [`Socket::broadcast`](crate::Socket::broadcast) or a [`Namespace`] method, add
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
    pub(super) fn new(ops: SharedOps, target: Target) -> Self {
        Self { target, timeout_ms: None, ops }
    }

    /// Adds the sockets in a room or several (`.to(room)` / `.in(room)`).
    pub fn to(mut self, rooms: impl Rooms) -> Self {
        self.target.rooms.extend(rooms.into_rooms());
        self
    }

    /// Same as [`Self::to`] (`.in(room)`; `in` is a Rust keyword).
    pub fn within(self, rooms: impl Rooms) -> Self {
        self.to(rooms)
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
    pub async fn emit(self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        self.ops.emit(self.target, event.to_owned(), args.into_args()?).await
    }

    /// Emits a `message` event (`send` in Node).
    pub async fn send(self, args: impl IntoArgs) -> Result<(), OpError> {
        self.emit("message", args).await
    }

    /// Emits and gathers every recipient's acknowledgement (`emitWithAck` on a broadcast).
    /// Without [`Self::timeout`] it waits until every recipient answered or disconnected.
    pub async fn emit_with_ack(self, event: &str, args: impl IntoArgs) -> Result<AckReplies, AckError> {
        self.ops.emit_with_ack(self.target, event.to_owned(), args.into_args()?, self.timeout_ms).await
    }

    /// Emits asking each socket for an acknowledgement that the namespace's ack handler
    /// `handler` receives, once per socket, with `context`.
    pub async fn emit_with_ack_to(
        self,
        event: &str,
        args: impl IntoArgs,
        handler: &str,
        context: impl Serialize,
    ) -> Result<(), OpError> {
        let context = serde_json::to_value(context).map_err(|e| OpError::Data(e.to_string()))?;
        self.ops
            .emit_with_ack_to(
                self.target,
                event.to_owned(),
                args.into_args()?,
                handler.to_owned(),
                context,
                self.timeout_ms,
            )
            .await
    }

    /// The sockets of the set, on every process (`.fetchSockets()`): a snapshot of each,
    /// with the operations of Node's `RemoteSocket`.
    pub async fn fetch_sockets(self) -> Result<Vec<RemoteSocket>, OpError> {
        let sockets = self.ops.fetch_sockets(self.target).await?;
        Ok(sockets.into_iter().map(|info| RemoteSocket::new(info, self.ops.clone())).collect())
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
