//! An application: namespaces and their handlers, registered once at start-up.

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use super::args::Args;
use super::handle::{Ack, EngineSocket, Server, Socket};
use super::ops::{AckError, Handshake};
use crate::config::Config;
use crate::eio::packet::Data;
use crate::maybe::{boxed, BoxFuture, MaybeSend};

/// Why a socket left its namespace; the texts are the reference server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DisconnectReason {
    TransportClose,
    TransportError,
    PingTimeout,
    ParseError,
    /// `socket.disconnect(true)` on the server.
    ForcedClose,
    /// `socket.disconnect()` on the server.
    ServerNamespaceDisconnect,
    /// The client disconnected from the namespace.
    ClientNamespaceDisconnect,
    ServerShuttingDown,
}

impl DisconnectReason {
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
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    pub message: String,
    pub data: Option<Value>,
}

impl ConnectError {
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(data) => serde_json::json!({ "message": self.message, "data": data }),
            None => serde_json::json!({ "message": self.message }),
        }
    }
}

pub type Middleware = Arc<dyn Fn(Socket) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;
pub type ConnectHandler = Arc<dyn Fn(Socket) -> BoxFuture<'static, ()> + Send + Sync>;
pub type EventHandler = Arc<dyn Fn(Socket, Args, Option<Ack>) -> BoxFuture<'static, ()> + Send + Sync>;
pub type AnyHandler = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, ()> + Send + Sync>;
pub type PacketMiddleware = Arc<dyn Fn(Socket, String, Args) -> BoxFuture<'static, Result<Args, String>> + Send + Sync>;
pub type DisconnectHandler = Arc<dyn Fn(Socket, DisconnectReason) -> BoxFuture<'static, ()> + Send + Sync>;
pub type AllowRequest = Arc<dyn Fn(Handshake, Server) -> BoxFuture<'static, bool> + Send + Sync>;
pub type EngineHandler = Arc<dyn Fn(EngineSocket, Data) -> BoxFuture<'static, ()> + Send + Sync>;
pub type Predicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;
pub type AckHandler = Arc<dyn Fn(Socket, Result<Args, AckError>, Value) -> BoxFuture<'static, ()> + Send + Sync>;

/// The handlers of one namespace. Handlers are plain async functions of the handles they
/// receive: they capture nothing that must outlive one invocation, because the next
/// packet of the same socket may be served by another process.
///
/// Handler closures themselves are `Send + Sync` on every target because definitions are
/// shared read-only across a runtime's threads; the futures they return use
/// [`MaybeSend`], so on wasm they may hold non-`Send` values.
#[derive(Clone, Default)]
pub struct NamespaceDef {
    pub middlewares: Vec<Middleware>,
    pub on_connect: Vec<ConnectHandler>,
    pub events: Vec<(String, EventHandler)>,
    pub on_any: Vec<AnyHandler>,
    pub on_any_outgoing: Vec<AnyHandler>,
    pub packet_middlewares: Vec<PacketMiddleware>,
    pub on_disconnecting: Vec<DisconnectHandler>,
    pub on_disconnect: Vec<DisconnectHandler>,
    /// Named handlers for acknowledgements the server asked clients for.
    pub ack_handlers: Vec<(String, AckHandler)>,
}

impl NamespaceDef {
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection middleware (`io.use`): runs before the socket connects, may refuse it.
    pub fn use_middleware<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + MaybeSend + 'static,
    {
        self.middlewares.push(Arc::new(move |s| boxed(f(s))));
        self
    }

    pub fn on_connect<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_connect.push(Arc::new(move |s| boxed(f(s))));
        self
    }

    /// An event handler; `ack` is `Some` when the client asked for an acknowledgement.
    pub fn on<F, Fut>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(Socket, Args, Option<Ack>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.events.push((event.to_owned(), Arc::new(move |s, a, k| boxed(f(s, a, k)))));
        self
    }

    /// Sees every incoming event before its handler (`socket.onAny`).
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
    /// drop the event by returning an error (logged, like an `error` event in Node).
    pub fn use_packet<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, String, Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Args, String>> + MaybeSend + 'static,
    {
        self.packet_middlewares.push(Arc::new(move |s, e, a| boxed(f(s, e, a))));
        self
    }

    /// Runs while the socket is still in its rooms.
    pub fn on_disconnecting<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket, DisconnectReason) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.on_disconnecting.push(Arc::new(move |s, r| boxed(f(s, r))));
        self
    }

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
    pub fn on_ack<F, Fut>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(Socket, Result<Args, AckError>, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.ack_handlers.push((name.to_owned(), Arc::new(move |s, r, c| boxed(f(s, r, c)))));
        self
    }

    pub fn ack_handler(&self, name: &str) -> Option<&AckHandler> {
        self.ack_handlers.iter().find(|(n, _)| n == name).map(|(_, h)| h)
    }

    pub fn handler(&self, event: &str) -> Option<&EventHandler> {
        self.events.iter().find(|(name, _)| name == event).map(|(_, h)| h)
    }
}

/// An application: its options, static namespaces by name, dynamic ones by predicate
/// (Node's `io.of(/regex/)` or `io.of((name, auth, next) => ...)`).
///
/// This is the whole of what a user writes: every runtime takes an `App` and serves it.
#[derive(Clone, Default)]
pub struct App {
    /// The server's options (`new Server({ pingInterval, ... })` in Node).
    pub config: Config,
    pub allow_request: Option<AllowRequest>,
    /// Set for a bare Engine.IO application: messages go here instead of to Socket.IO.
    pub engine: Option<EngineHandler>,
    pub namespaces: Vec<(String, NamespaceDef)>,
    pub dynamic: Vec<(Predicate, NamespaceDef)>,
}

impl App {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the application's options.
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Decides whether an Engine.IO handshake may proceed (`allowRequest`); refused
    /// requests get 403 `{"code":4,"message":"Forbidden"}`.
    pub fn allow_request<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Handshake, Server) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + MaybeSend + 'static,
    {
        self.allow_request = Some(Arc::new(move |h, s| boxed(f(h, s))));
        self
    }

    /// Makes this a bare Engine.IO application (Node's `engine.io` server without
    /// Socket.IO on top): every message is handed to `f` as it arrived.
    pub fn engine<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(EngineSocket, Data) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + MaybeSend + 'static,
    {
        self.engine = Some(Arc::new(move |s, d| boxed(f(s, d))));
        self
    }

    pub fn namespace(mut self, name: &str, def: NamespaceDef) -> Self {
        self.namespaces.push((name.to_owned(), def));
        self
    }

    /// Every namespace whose name satisfies `matches` gets these handlers.
    pub fn dynamic_namespace<P>(mut self, matches: P, def: NamespaceDef) -> Self
    where
        P: Fn(&str) -> bool + Send + Sync + 'static,
    {
        self.dynamic.push((Arc::new(matches), def));
        self
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
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The request path, e.g. `/index.html`; `/` is answered with `/index.html`.
    pub path: &'static str,
    /// The `content-type` header.
    pub content_type: &'static str,
    /// The file's bytes, usually `include_bytes!`.
    pub body: &'static [u8],
}
