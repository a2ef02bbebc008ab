//! A socket found by `fetch_sockets`: its snapshot, and the operations of a live socket.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::args::Args;
use super::handle::SharedOps;
use super::into_args::IntoArgs;
use super::ops::{AckError, Handshake, OpError, SocketInfo};
use super::rooms::Rooms;
use super::socket::{Emitter, Socket};

/// A socket as `fetch_sockets` found it, wherever it is connected (Node's `RemoteSocket`):
/// a snapshot of its rooms, data and handshake, and the operations Node's `RemoteSocket`
/// offers, which act on the live socket through the store on any runtime.
///
/// The fields are the snapshot: they do not change when the socket does. [`Self::socket`]
/// gives the full [`Socket`] handle for anything else (`set_data`, `rooms()` as they are
/// now, `connected()`).
///
/// ```
/// use sio_core::NamespaceDef;
///
/// let def = NamespaceDef::new().on("kick-idle", |socket, _args, _ack| async move {
///     // for (const s of await io.in("lobby").fetchSockets()) { ... }
///     for s in socket.namespace().within("lobby").fetch_sockets().await.unwrap_or_default() {
///         if s.data.get("idle").and_then(|v| v.as_bool()) == Some(true) {
///             let _ = s.emit("bye", "idle too long").await; // s.emit(...)
///             let _ = s.leave("lobby").await; // s.leave("lobby")
///             let _ = s.disconnect(false).await; // s.disconnect()
///         }
///     }
/// });
/// # let _ = def;
/// ```
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    /// The socket's id (`socket.id`).
    pub id: String,
    /// The socket's namespace.
    pub nsp: String,
    /// The rooms the socket was in, its own id room included.
    pub rooms: Vec<String>,
    /// `socket.data` as it was: `null` until a handler sets it.
    pub data: Value,
    /// The socket's handshake details.
    pub handshake: Handshake,
    socket: Socket,
}

impl RemoteSocket {
    pub(super) fn new(info: SocketInfo, ops: SharedOps) -> Self {
        let socket = Socket::new(&info.id, &info.nsp, None, false, ops);
        let SocketInfo { id, nsp, rooms, data, handshake } = info;
        Self { id, nsp, rooms, data, handshake, socket }
    }

    /// The handle of the live socket, with every [`Socket`] operation.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// `data` deserialized; `None` when it has another shape (or was never set).
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(&self.data).ok()
    }

    /// Sends an event to the socket (`remoteSocket.emit(...)`).
    pub async fn emit(&self, event: &str, args: impl IntoArgs) -> Result<(), OpError> {
        self.socket.emit(event, args).await
    }

    /// Sends an event and waits for the socket's acknowledgement until it disconnects;
    /// bound the wait with [`Self::timeout`].
    pub async fn emit_with_ack(&self, event: &str, args: impl IntoArgs) -> Result<Args, AckError> {
        self.socket.emit_with_ack(event, args).await
    }

    /// The next acknowledgement waits at most `ms` milliseconds
    /// (`remoteSocket.timeout(ms).emitWithAck(...)`).
    pub fn timeout(&self, ms: u64) -> Emitter {
        self.socket.timeout(ms)
    }

    /// Adds the socket to a room or several (`remoteSocket.join(room)`).
    pub async fn join(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.socket.join(rooms).await
    }

    /// Removes the socket from a room or several (`remoteSocket.leave(room)`).
    pub async fn leave(&self, rooms: impl Rooms) -> Result<(), OpError> {
        self.socket.leave(rooms).await
    }

    /// Disconnects the socket; with `close`, its whole connection
    /// (`remoteSocket.disconnect(close)`).
    pub async fn disconnect(&self, close: bool) -> Result<(), OpError> {
        self.socket.disconnect(close).await
    }
}
