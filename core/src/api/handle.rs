//! The handles beside a socket and a namespace: the whole server, an acknowledgement to
//! answer, a bare Engine.IO session, and the runtime operations every handle shares.
//!
//! Each is a small cloneable value (names plus the runtime's [`Ops`]); none keeps state of
//! its own, so a handler can run in whichever instance of whichever runtime received the
//! packet. Runtimes build them; an application receives them as handler arguments and
//! never calls their `new` functions.

use std::sync::Arc;

use super::args::Args;
use super::broadcast::Namespace;
use super::into_args::IntoArgs;
use super::ops::{AckReplies, Census, OpError, Ops};
use crate::eio::packet::Data;

/// The operations of the runtime hosting the application, shared by every handle.
pub type SharedOps = Arc<dyn Ops>;

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

    /// Answers the client (`callback(...args)` in Node): anything [`IntoArgs`], a tuple
    /// for several values.
    pub async fn send(self, args: impl IntoArgs) -> Result<(), OpError> {
        self.ops.ack(self.nsp, self.sid, self.id, args.into_args()?).await
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

    /// How many clients (Engine.IO sessions, Node's `io.engine.clientsCount`) and how
    /// many sockets each namespace has (`nsp.sockets.size`), across every instance.
    ///
    /// ```
    /// use sio_core::NamespaceDef;
    ///
    /// let def = NamespaceDef::new().on("stats", |socket, _args, ack| async move {
    ///     if let (Some(ack), Ok(census)) = (ack, socket.server().census().await) {
    ///         let _ = ack.send((census.clients, census.sockets("/chat"))).await;
    ///     }
    /// });
    /// # let _ = def;
    /// ```
    pub async fn census(&self) -> Result<Census, OpError> {
        self.ops.census().await
    }

    /// Milliseconds since the Unix epoch, from the runtime.
    pub fn now(&self) -> u64 {
        self.ops.now()
    }

    /// `io.serverSideEmit(event, ...args)`: [`Namespace::server_side_emit`] on `/`.
    pub async fn server_side_emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        self.of("/").server_side_emit(event, args).await
    }

    /// `io.timeout(ms).serverSideEmitWithAck(event, ...args)`:
    /// [`Namespace::server_side_emit_with_ack`] on `/`.
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: impl IntoArgs,
        timeout_ms: u64,
    ) -> Result<AckReplies, OpError> {
        self.of("/").server_side_emit_with_ack(event, args, timeout_ms).await
    }
}

/// The acknowledgement another instance asked for with a server-side event
/// ([`Namespace::server_side_emit_with_ack`]): answer it once, at once (it is not kept in
/// the store; the asking instance waits for it in memory).
pub struct ServerAck {
    reply: Box<dyn FnOnce(Args) + Send>,
}

impl std::fmt::Debug for ServerAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerAck").finish_non_exhaustive()
    }
}

impl ServerAck {
    /// Built by runtimes: `reply` carries the answer to the asking instance.
    pub fn new(reply: impl FnOnce(Args) + Send + 'static) -> Self {
        Self { reply: Box::new(reply) }
    }

    /// Answers the asking instance (`callback(...args)`); a value that does not serialize
    /// is answered as no argument.
    pub fn send(self, args: impl IntoArgs) {
        (self.reply)(args.into_args().unwrap_or_default())
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
