//! An application: namespaces and their handlers, registered once at start-up.
//!
//! [`App`] holds the options and the namespaces; [`NamespaceDef`] holds one namespace's
//! handlers. The type aliases ([`EventHandler`] and the others) are the boxed forms the
//! builder methods store: runtimes call them, applications pass plain closures.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use super::args::Args;
use super::handle::{Ack, EngineSocket, Server, ServerAck};
use super::hooks::EngineHooks;
use super::ops::{AckError, Handshake};
use super::schedule::Schedule;
use super::socket::Socket;
use crate::config::Config;
use crate::eio::error::Refusal;
use crate::eio::packet::Data;
use crate::maybe::{boxed, BoxFuture, MaybeSend};

/// Why a socket left its namespace; the texts are the reference server's.
///
/// [`NamespaceDef::on_disconnecting`] and [`NamespaceDef::on_disconnect`] handlers receive
/// it; [`DisconnectReason::as_str`] gives the text Node passes as `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DisconnectReason {
    /// The connection was closed: the client closed it or the network dropped it.
    TransportClose,
    /// The connection failed, or a polling client fell too far behind
    /// ([`crate::EngineConfig::max_buffered_packets`]).
    TransportError,
    /// The client did not answer a ping within [`crate::EngineConfig::ping_timeout`].
    PingTimeout,
    /// The client sent a packet that could not be decoded.
    ParseError,
    /// The server closed the connection itself, e.g. after a failed transport upgrade.
    /// (`socket.disconnect(true)` reports [`Self::ServerNamespaceDisconnect`] to every
    /// namespace of the connection, as Node does.)
    ForcedClose,
    /// `socket.disconnect()` on the server.
    ServerNamespaceDisconnect,
    /// The client disconnected from the namespace.
    ClientNamespaceDisconnect,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// The reason as Node writes it, e.g. `"transport close"`.
    ///
    /// ```
    /// use sio_core::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::PingTimeout.as_str(), "ping timeout");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
            Self::ServerNamespaceDisconnect => "server namespace disconnect",
            Self::ClientNamespaceDisconnect => "client namespace disconnect",
            Self::ServerShuttingDown => "server shutting down",
        }
    }

    /// Whether the client will come back and may resume: the reasons for which Node
    /// keeps a socket's state for connection state recovery.
    pub fn recoverable(self) -> bool {
        !matches!(self, Self::ServerNamespaceDisconnect | Self::ClientNamespaceDisconnect)
    }
}

impl From<crate::eio::session::CloseReason> for DisconnectReason {
    fn from(reason: crate::eio::session::CloseReason) -> Self {
        use crate::eio::session::CloseReason as C;
        match reason {
            C::TransportClose => Self::TransportClose,
            C::TransportError => Self::TransportError,
            C::PingTimeout => Self::PingTimeout,
            C::ParseError => Self::ParseError,
            C::ForcedClose => Self::ForcedClose,
            C::ServerShutdown => Self::ServerShuttingDown,
        }
    }
}

/// A middleware's refusal: the client gets CONNECT_ERROR `{"message", "data"?}`.
///
/// In Node that is `next(err)` with `err.data`; the client sees it as the `connect_error`
/// event's `err.message` and `err.data`.
///
/// ```
/// use serde_json::json;
/// use sio_core::{ConnectError, NamespaceDef};
///
/// let def = NamespaceDef::new().use_middleware(|_socket| async move {
///     Err(ConnectError::new("not authorized").with_data(json!({ "retry": false })))
/// });
/// # let _ = def;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// The error's message (`err.message` on the client).
    pub message: String,
    /// Details for the client (`err.data`); left out of the packet when `None`.
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with this message and no data.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), data: None }
    }

    /// Adds details for the client (`err.data`).
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The CONNECT_ERROR payload: `{"message": ...}`, with `"data"` when set.
    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(data) => serde_json::json!({ "message": self.message, "data": data }),
            None => serde_json::json!({ "message": self.message }),
        }
    }
}

/// A connection middleware as stored, see [`NamespaceDef::use_middleware`].
pub type Middleware = Arc<dyn Fn(Socket) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;
/// A connection handler as stored, see [`NamespaceDef::on_connect`].
pub type ConnectHandler = Arc<dyn Fn(Socket) -> BoxFuture<'static, ()> + Send + Sync>;
/// An event handler as stored, see [`NamespaceDef::on`].
pub type EventHandler = Arc<dyn Fn(Socket, Args, Option<Ack>) -> BoxFuture<'static, ()> + Send + Sync>;
/// A catch-all handler as stored, see [`NamespaceDef::on_any`].
pub type AnyHandler = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, ()> + Send + Sync>;
/// What happened to a room of a namespace (the events of Node's `nsp.adapter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// The room got its first socket (`create-room`).
    Create(String),
    /// The room lost its last socket (`delete-room`).
    Delete(String),
    /// A socket joined the room (`join-room`): `(room, socket id)`.
    Join(String, String),
    /// A socket left the room (`leave-room`): `(room, socket id)`.
    Leave(String, String),
}

/// A room event handler as stored, see [`NamespaceDef::on_room_event`].
pub type RoomEventHandler = Arc<dyn Fn(Server, RoomEvent) -> BoxFuture<'static, ()> + Send + Sync>;
/// A `new_namespace` handler as stored, see [`App::on_new_namespace`].
pub type NewNamespaceHandler = Arc<dyn Fn(Server, String) -> BoxFuture<'static, ()> + Send + Sync>;
/// A server-side event handler as stored, see [`NamespaceDef::on_server_side`].
pub type ServerSideHandler = Arc<dyn Fn(Server, Args, Option<ServerAck>) -> BoxFuture<'static, ()> + Send + Sync>;
/// An `error` handler as stored, see [`NamespaceDef::on_error`].
pub type ErrorHandler = Arc<dyn Fn(Socket, String) -> BoxFuture<'static, ()> + Send + Sync>;
/// A packet middleware as stored, see [`NamespaceDef::use_packet`].
pub type PacketMiddleware = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, Result<Args, String>> + Send + Sync>;
/// A disconnection handler as stored, see [`NamespaceDef::on_disconnect`].
pub type DisconnectHandler = Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<'static, ()> + Send + Sync>;
/// A handshake filter as stored, see [`App::allow_request`].
pub type AllowRequest = Arc<dyn Fn(Handshake, Server) -> BoxFuture<'static, Result<(), Refusal>> + Send + Sync>;

/// What an [`App::allow_request`] filter answers: a `bool`, or `Result<(), Refusal>` to
/// choose the refusal's message and status.
pub trait Admission {
    /// `Ok` to let the handshake proceed.
    fn admit(self) -> Result<(), Refusal>;
}

impl Admission for bool {
    fn admit(self) -> Result<(), Refusal> {
        match self {
            true => Ok(()),
            false => Err(Refusal::default()),
        }
    }
}

impl Admission for Result<(), Refusal> {
    fn admit(self) -> Result<(), Refusal> {
        self
    }
}
/// A bare Engine.IO message handler as stored, see [`App::engine`].
pub type EngineHandler = Arc<dyn Fn(EngineSocket, Data) -> BoxFuture<'static, ()> + Send + Sync>;
/// A dynamic namespace's name test, see [`App::dynamic_namespace`].
pub type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;
/// A named acknowledgement handler as stored, see [`NamespaceDef::on_ack`].
pub type AckHandler = Arc<dyn Fn(Socket, Result<Args, AckError>, Value) -> BoxFuture<'static, ()> + Send + Sync>;

/// The handlers of one namespace. Handlers are plain async functions of the handles they
/// receive: they capture nothing that must outlive one invocation, because the next
/// packet of the same socket may be served by another process.
///
/// Handler closures themselves are `Send + Sync` on every target because definitions are
/// shared read-only across a runtime's threads; the futures they return use
/// [`MaybeSend`], so on wasm they may hold non-`Send` values.
///
/// Build one with [`NamespaceDef::new`] and the builder methods, then register it with
/// [`App::namespace`] (Node's `io.of("/chat")`). Keep what must last between packets in
/// `socket.data` ([`Socket::set_data`]) or in rooms, not in captured variables.
///
/// ```
/// use serde_json::json;
/// use sio_core::{App, ConnectError, NamespaceDef};
///
/// let chat = NamespaceDef::new()
///     // io.of("/chat").use((socket, next) => ...)
///     .use_middleware(|socket| async move {
///         let auth = socket.handshake().await.map(|h| h.auth).unwrap_or_default();
///         match auth.get("name").and_then(|n| n.as_str()) {
///             Some(name) if !name.is_empty() => Ok(()),
///             _ => Err(ConnectError::new("a name is required")),
///         }
///     })
///     // io.of("/chat").on("connection", (socket) => ...)
///     .on_connect(|socket| async move {
///         let _ = socket.join("lobby").await;
///     })
///     // socket.on("say", (text, callback) => ...)
///     .on("say", |socket, args, ack| async move {
///         let text = args.str(0).unwrap_or_default().to_owned();
///         let _ = socket.to("lobby").emit("said", json!({ "from": socket.id(), "text": text })).await;
///         if let Some(ack) = ack {
///             let _ = ack.send(json!({ "ok": true })).await;
///         }
///     })
///     // socket.on("disconnect", (reason) => ...)
///     .on_disconnect(|socket, reason| async move {
///         let _ = socket.namespace().emit("left", json!({ "id": socket.id(), "reason": reason.as_str() })).await;
///     });
///
/// let app = App::new().namespace("/chat", chat);
/// assert!(app.resolve("/chat").is_some_and(|def| def.handler("say").is_some()));
/// ```
#[derive(Clone, Default)]
pub struct NamespaceDef {
    /// Connection middlewares, in the order they run.
    pub middlewares: Vec<Middleware>,
    /// Handlers run once a socket has connected.
    pub on_connect: Vec<ConnectHandler>,
    /// Event handlers by event name; the first one registered for a name serves it.
    pub events: Vec<(String, EventHandler)>,
    /// Handlers that see every incoming event.
    pub on_any: Vec<AnyHandler>,
    /// Handlers that see every event sent to a socket.
    pub on_any_outgoing: Vec<AnyHandler>,
    /// Packet middlewares, in the order they run on each incoming event.
    pub packet_middlewares: Vec<PacketMiddleware>,
    /// Handlers of the `error` event: a packet middleware refused an event.
    pub on_error: Vec<ErrorHandler>,
    /// Handlers run as a socket leaves, while it is still in its rooms.
    pub on_disconnecting: Vec<DisconnectHandler>,
    /// Handlers run after a socket has left.
    pub on_disconnect: Vec<DisconnectHandler>,
    /// Named handlers for acknowledgements the server asked clients for.
    pub ack_handlers: Vec<(String, AckHandler)>,
    /// Server-side event handlers by event name ([`NamespaceDef::on_server_side`]).
    pub server_side: Vec<(String, ServerSideHandler)>,
    /// Handlers of room changes ([`NamespaceDef::on_room_event`]).
    pub on_room_event: Vec<RoomEventHandler>,
}

impl NamespaceDef {
    /// A namespace without handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection middleware (`io.use`): runs before the socket connects, may refuse it.
    ///
    /// Middlewares run in the order they were added; the first `Err` stops the chain and
    /// the client gets a `connect_error` with the [`ConnectError`].
    ///
    /// ```
    /// use sio_core::{ConnectError, NamespaceDef};
    ///
    /// // io.use((socket, next) => socket.handshake.auth.token ? next() : next(new Error("no token")))
    /// let def = NamespaceDef::new().use_middleware(|socket| async move {
    ///     let handshake = socket.handshake().await.map_err(|e| ConnectError::new(e.to_string()))?;
    ///     match handshake.auth.get("token") {
    ///         Some(_) => Ok(()),
    ///         None => Err(ConnectError::new("no token")),
    ///     }
    /// });
    /// assert_eq!(def.middlewares.len(), 1);
    /// ```
    pub fn use_middleware<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + MaybeSend + 'static,
    {
        self.middlewares.push(Arc::new(move |s| boxed(f(s))));
        self
    }

    /// A connection handler (`io.on("connection")`): runs once a socket has passed the
    /// middlewares and connected.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// // io.on("connection", (socket) => { socket.join("news"); socket.emit("hello", "world"); })
    /// let def = NamespaceDef::new().on_connect(|socket| async move {
    ///     if !socket.recovered() {
    ///         let _ = socket.join("news").await;
    ///         let _ = socket.emit("hello", "world").await;
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_connect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_connect.push(Arc::new(move |s| boxed(f(s))));
        self
    }

    /// An event handler (`socket.on(event, ...)`); `ack` is `Some` when the client asked
    /// for an acknowledgement (passed a callback, or used `emitWithAck`).
    ///
    /// ```
    /// use serde_json::json;
    /// use sio_core::NamespaceDef;
    ///
    /// // socket.on("add", (a, b, callback) => callback(a + b))
    /// let def = NamespaceDef::new().on("add", |_socket, args, ack| async move {
    ///     let sum = args.parse::<i64>(0).unwrap_or(0) + args.parse::<i64>(1).unwrap_or(0);
    ///     if let Some(ack) = ack {
    ///         let _ = ack.send(json!(sum)).await;
    ///     }
    /// });
    /// assert!(def.handler("add").is_some());
    /// ```
    pub fn on<F, Fut>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(Socket, Args, Option<Ack>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.events.push((event.to_owned(), Arc::new(move |s, a, k| boxed(f(s, a, k)))));
        self
    }

    /// Sees every incoming event before its handler (`socket.onAny`).
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new().on_any(|socket, event, args| async move {
    ///     println!("{} sent {event} with {} arguments", socket.id(), args.len());
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_any<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_any.push(Arc::new(move |s, e, a| boxed(f(s, e, a))));
        self
    }

    /// Sees every event sent to a socket of this namespace (`socket.onAnyOutgoing`).
    pub fn on_any_outgoing<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_any_outgoing.push(Arc::new(move |s, e, a| boxed(f(s, e, a))));
        self
    }

    /// A packet middleware (`socket.use`): may rewrite an incoming event's arguments, or
    /// drop the event by returning an error, which the `error` handlers receive
    /// ([`Self::on_error`]; logged when there is none).
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// // socket.use(([event, ...args], next) => ...)
    /// let def = NamespaceDef::new().use_packet(|_socket, event, args| async move {
    ///     if event.starts_with("admin:") {
    ///         return Err(format!("{event} is not allowed"));
    ///     }
    ///     Ok(args)
    /// });
    /// # let _ = def;
    /// ```
    pub fn use_packet<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Args, String>> + MaybeSend + 'static,
    {
        self.packet_middlewares.push(Arc::new(move |s, e, a| boxed(f(s, e, a))));
        self
    }

    /// A handler of a server-side event another instance emitted
    /// (`io.on(event, (...args, callback) => ...)` for `serverSideEmit`): it gets the
    /// server, the arguments and, when the emitter waits for acknowledgements, a
    /// [`ServerAck`]. See [`crate::Namespace::server_side_emit`] for which instances
    /// receive it on each runtime.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// // io.on("flush-cache", (key) => cache.delete(key))
    /// let def = NamespaceDef::new().on_server_side("flush-cache", |_server, args, _ack| async move {
    ///     println!("flushing {:?}", args.str(0));
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_server_side<F, Fut>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(Server, Args, Option<ServerAck>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.server_side.push((event.to_owned(), Arc::new(move |s, a, k| boxed(f(s, a, k)))));
        self
    }

    /// A handler of the namespace's room changes (Node's
    /// `io.of(nsp).adapter.on("create-room" | "delete-room" | "join-room" | "leave-room")`):
    /// a socket joined or left a room, a room got its first socket or lost its last. Each
    /// socket's own room counts, as in Node. The rooms are the namespace's across every
    /// instance (Node's adapters report each server's own sockets), so a change is told
    /// once, where it happens; two joins of an empty room at the same moment on two
    /// instances may both report `Create`. Telling costs a look at the socket's rooms and
    /// at each changed room's sockets: set it only when you need it. Rooms a recovered
    /// socket comes back into are not reported.
    ///
    /// ```
    /// use sio_core::{NamespaceDef, RoomEvent};
    ///
    /// // io.of("/").adapter.on("create-room", (room) => ...)
    /// let def = NamespaceDef::new().on_room_event(|server, event| async move {
    ///     if let RoomEvent::Create(room) = event {
    ///         let _ = server.of("/").to("admins").emit("room created", room).await;
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_room_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Server, RoomEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_room_event.push(Arc::new(move |s, e| boxed(f(s, e))));
        self
    }

    /// The handler of server-side event `event`, if any.
    pub fn server_side_handler(&self, event: &str) -> Option<&ServerSideHandler> {
        self.server_side.iter().find(|(name, _)| name == event).map(|(_, h)| h)
    }

    /// A handler of the socket's `error` event (`socket.on("error", (err) => ...)`): it
    /// receives the message of a packet middleware that refused an event. As in Node, the
    /// client is told nothing unless the handler tells it.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new()
    ///     .use_packet(|_socket, event, args| async move {
    ///         match event.as_str() {
    ///             "delete-all" => Err("unauthorized event".to_owned()),
    ///             _ => Ok(args),
    ///         }
    ///     })
    ///     // socket.on("error", (err) => { if (err.message === "unauthorized event") socket.disconnect() })
    ///     .on_error(|socket, message| async move {
    ///         if message == "unauthorized event" {
    ///             let _ = socket.disconnect(false).await;
    ///         }
    ///     });
    /// # let _ = def;
    /// ```
    pub fn on_error<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_error.push(Arc::new(move |s, m| boxed(f(s, m))));
        self
    }

    /// A handler that runs as a socket leaves, while it is still in its rooms
    /// (`socket.on("disconnecting")`): the place to tell those rooms.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new().on_disconnecting(|socket, _reason| async move {
    ///     for room in socket.rooms().await.unwrap_or_default() {
    ///         let _ = socket.to(room).emit("user left", socket.id()).await;
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_disconnecting<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_disconnecting.push(Arc::new(move |s, r| boxed(f(s, r))));
        self
    }

    /// A handler that runs after a socket has left its namespace
    /// (`socket.on("disconnect")`). Its rooms and `data` are gone by then (reading them
    /// fails with [`crate::OpError::NotConnected`]): read them in
    /// [`NamespaceDef::on_disconnecting`].
    ///
    /// ```
    /// use sio_core::{DisconnectReason, NamespaceDef};
    ///
    /// // socket.on("disconnect", (reason) => ...)
    /// let def = NamespaceDef::new().on_disconnect(|socket, reason| async move {
    ///     if reason == DisconnectReason::PingTimeout {
    ///         println!("{} stopped answering", socket.id());
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub fn on_disconnect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_disconnect.push(Arc::new(move |s, r| boxed(f(s, r))));
        self
    }

    /// A named handler for client acknowledgements: [`Socket::emit_with_ack_to`] names it,
    /// and it runs with the reply (or the timeout) and the context given at emit time, in
    /// whichever instance receives the reply, even one that did not send the event.
    ///
    /// ```
    /// use serde_json::json;
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new()
    ///     .on_connect(|socket| async move {
    ///         // Ask the client to confirm; "confirmed" gets the answer with this context.
    ///         let _ = socket.timeout(5_000).emit_with_ack_to("confirm", "ready?", "confirmed", json!({ "step": 1 })).await;
    ///     })
    ///     .on_ack("confirmed", |socket, reply, context| async move {
    ///         match reply {
    ///             Ok(args) => println!("{} answered {:?} at step {}", socket.id(), args.get(0), context["step"]),
    ///             Err(e) => println!("{} did not answer: {e}", socket.id()),
    ///         }
    ///     });
    /// assert!(def.ack_handler("confirmed").is_some());
    /// ```
    pub fn on_ack<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Socket, Result<Args, AckError>, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.ack_handlers.push((name.to_owned(), Arc::new(move |s, r, c| boxed(f(s, r, c)))));
        self
    }

    /// The ack handler registered under `name`.
    pub fn ack_handler(&self, name: &str) -> Option<&AckHandler> {
        self.ack_handlers.iter().find(|(n, _)| n == name).map(|(_, h)| h)
    }

    /// The handler of `event`: the first one registered under that name.
    pub fn handler(&self, event: &str) -> Option<&EventHandler> {
        self.events.iter().find(|(name, _)| name == event).map(|(_, h)| h)
    }
}

/// An application: its options, static namespaces by name, dynamic ones by predicate
/// (Node's `io.of(/regex/)` or `io.of((name, auth, next) => ...)`).
///
/// This is the whole of what a user writes: every runtime takes an `App` and serves it.
/// Write a function that returns it, and hand it to a runtime:
/// `sio_server::Server::new(app())` natively, `sio_cloudflare::worker!(crate::app)` on
/// Cloudflare, `sio_lambda::Functions::new(app()).run().await` on AWS Lambda.
///
/// A client connecting to a namespace the application does not have gets a
/// `connect_error` "Invalid namespace", as in Node.
///
/// ```
/// use serde_json::json;
/// use sio_core::{App, NamespaceDef};
///
/// pub fn app() -> App {
///     App::new()
///         // io.on("connection", ...)
///         .namespace("/", NamespaceDef::new().on("ping", |_socket, _args, ack| async move {
///             if let Some(ack) = ack {
///                 let _ = ack.send("pong").await;
///             }
///         }))
///         // io.of("/admin").on("connection", ...)
///         .namespace("/admin", NamespaceDef::new().on_connect(|socket| async move {
///             let _ = socket.emit("welcome", json!({ "id": socket.id() })).await;
///         }))
/// }
///
/// let app = app();
/// assert!(app.resolve("/admin").is_some());
/// assert!(app.resolve("/other").is_none());
/// ```
#[derive(Clone, Default)]
pub struct App {
    /// The server's options (`new Server({ pingInterval, ... })` in Node).
    pub config: Config,
    /// The handshake filter set by [`App::allow_request`].
    pub allow_request: Option<AllowRequest>,
    /// The engine's HTTP hooks ([`App::headers`] and the others).
    pub hooks: EngineHooks,
    /// Handlers the server runs by itself ([`App::every`]).
    pub schedules: Vec<Schedule>,
    /// Told when a dynamic namespace gets its first socket ([`App::on_new_namespace`]).
    pub new_namespace: Option<NewNamespaceHandler>,
    /// Set for a bare Engine.IO application: messages go here instead of to Socket.IO.
    pub engine: Option<EngineHandler>,
    /// Namespaces by exact name, in the order they were added.
    pub namespaces: Vec<(String, NamespaceDef)>,
    /// Dynamic namespaces, tried in order after the static ones.
    pub dynamic: Vec<(Predicate, NamespaceDef)>,
}

impl App {
    /// An application with the default options and no namespace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the application's options.
    ///
    /// ```
    /// use sio_core::{App, Config, EngineConfig, RecoveryConfig, SocketConfig};
    ///
    /// // new Server({ pingInterval: 10000, connectionStateRecovery: {} })
    /// let app = App::new().with_config(Config {
    ///     engine: EngineConfig { ping_interval: 10_000, ..EngineConfig::default() },
    ///     socket: SocketConfig { recovery: Some(RecoveryConfig::default()), ..SocketConfig::default() },
    /// });
    /// # let _ = app;
    /// ```
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Decides whether an Engine.IO handshake may proceed (`allowRequest`). `f` answers
    /// `true` or `false` (refused with 403 `{"code":4,"message":"Forbidden"}`), or a
    /// `Result<(), Refusal>` to choose the message and the status.
    ///
    /// ```
    /// use sio_core::{App, Refusal};
    ///
    /// let app = App::new().allow_request(|handshake, _server| async move {
    ///     handshake.headers.get("origin") == Some("https://example.com")
    /// });
    ///
    /// // callback("no token", false), answered with 401 rather than Node's 403
    /// let app = App::new().allow_request(|handshake, _server| async move {
    ///     match handshake.query.get("token") {
    ///         Some(_) => Ok(()),
    ///         None => Err(Refusal::new("no token").with_status(401)),
    ///     }
    /// });
    /// # let _ = app;
    /// ```
    pub fn allow_request<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Handshake, Server) -> Fut + Send + Sync + 'static,
        Fut: Future + MaybeSend + 'static,
        Fut::Output: Admission,
    {
        self.allow_request = Some(Arc::new(move |h, s| {
            let verdict = f(h, s);
            boxed(async move { verdict.await.admit() })
        }));
        self
    }

    /// Makes this a bare Engine.IO application (Node's `engine.io` server without
    /// Socket.IO on top): every message is handed to `f` as it arrived.
    ///
    /// ```
    /// use sio_core::App;
    ///
    /// // An echo server for Engine.IO clients.
    /// let app = App::new().engine(|socket, data| async move { socket.send(data).await });
    /// # let _ = app;
    /// ```
    pub fn engine<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(EngineSocket, Data) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.engine = Some(Arc::new(move |s, d| boxed(f(s, d))));
        self
    }

    /// Adds the namespace `name` (`io.of(name)`), e.g. `/` or `/chat`.
    pub fn namespace(mut self, name: &str, def: NamespaceDef) -> Self {
        self.namespaces.push((name.to_owned(), def));
        self
    }

    /// Every namespace whose name satisfies `matches` gets these handlers (Node's
    /// `io.of(/^\/room-\w+$/)`). Static namespaces are tried first.
    ///
    /// ```
    /// use sio_core::{App, NamespaceDef};
    ///
    /// let app = App::new().dynamic_namespace(
    ///     |name| name.starts_with("/room-"),
    ///     NamespaceDef::new().on_connect(|socket| async move {
    ///         // Each dynamic namespace is its own: this reaches /room-1 only, from /room-1.
    ///         let _ = socket.namespace().emit("joined", socket.id()).await;
    ///     }),
    /// );
    /// assert!(app.resolve("/room-1").is_some());
    /// assert!(app.resolve("/lobby").is_none());
    /// ```
    pub fn dynamic_namespace<P>(mut self, matches: P, def: NamespaceDef) -> Self
    where
        P: Fn(&str) -> bool + Send + Sync + 'static,
    {
        self.dynamic.push((Arc::new(matches), def));
        self
    }

    /// Told when a namespace of [`Self::dynamic_namespace`] comes into being (Node's
    /// `io.on("new_namespace", (namespace) => ...)`): here, when a socket connects to
    /// one that has no other socket, on any instance. That is Node's behaviour with
    /// `cleanupEmptyChildNamespaces`, which forgets a child once its last socket leaves:
    /// a namespace emptied and joined again is new again. Static namespaces exist from
    /// the start and are never reported. Telling needs a look at the namespace's sockets
    /// on each connection to a dynamic namespace, which costs as much as `fetch_sockets`
    /// on it: set it only when you need it.
    ///
    /// ```
    /// use sio_core::{App, NamespaceDef};
    ///
    /// let app = App::new()
    ///     .dynamic_namespace(|name| name.starts_with("/room-"), NamespaceDef::new())
    ///     // io.on("new_namespace", (namespace) => ...)
    ///     .on_new_namespace(|server, name| async move {
    ///         let _ = server.of("/").to("admins").emit("room opened", name).await;
    ///     });
    /// # let _ = app;
    /// ```
    pub fn on_new_namespace<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Server, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.new_namespace = Some(Arc::new(move |s, n| boxed(f(s, n))));
        self
    }

    /// Whether `name` is a namespace of [`Self::dynamic_namespace`] (not a static one).
    pub fn is_dynamic(&self, name: &str) -> bool {
        !self.namespaces.iter().any(|(n, _)| n == name) && self.dynamic.iter().any(|(p, _)| p(name))
    }

    /// Whether namespaces `a` and `b` are both dynamic and served by the same
    /// [`Self::dynamic_namespace`] definition (the first whose predicate matches).
    pub fn same_parent(&self, a: &str, b: &str) -> bool {
        let parent = |name: &str| match self.is_dynamic(name) {
            true => self.dynamic.iter().position(|(p, _)| p(name)),
            false => None,
        };
        parent(a).is_some_and(|of_a| parent(b) == Some(of_a))
    }

    /// The handlers serving namespace `name`, if the application has it.
    pub fn resolve(&self, name: &str) -> Option<&NamespaceDef> {
        self.namespaces
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d)
            .or_else(|| self.dynamic.iter().find(|(p, _)| p(name)).map(|(_, d)| d))
    }
}

/// A static file served beside the Socket.IO endpoint (a page and its scripts), by the
/// runtimes that serve files themselves: the native server and the Lambda HTTP function.
/// On Cloudflare, Workers static assets (`[assets]` in `wrangler.toml`) serve them.
///
/// ```
/// use sio_core::Asset;
///
/// pub static ASSETS: &[Asset] = &[Asset {
///     path: "/index.html",
///     content_type: "text/html; charset=utf-8",
///     body: b"<!doctype html><title>hello</title>",
/// }];
/// # assert_eq!(ASSETS.len(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The request path, e.g. `/index.html`; `/` is answered with `/index.html`.
    pub path: &'static str,
    /// The `content-type` header.
    pub content_type: &'static str,
    /// The file's bytes, usually `include_bytes!`.
    pub body: &'static [u8],
}
