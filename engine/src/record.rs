//! The records a store keeps: what a stateless handler loads, steps and saves.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sio_core::eio::session::{earliest, EngineSession};
use sio_core::sio::packet::Partial;
use sio_core::{Args, Handshake, Target};

/// One Engine.IO session and the Socket.IO state riding on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The Engine.IO state: id, transport, ping deadlines, upgrade.
    pub eio: EngineSession,
    /// Namespaces connected on this session: (namespace, socket id).
    pub sockets: Vec<(String, String)>,
    /// A binary packet whose attachments are still arriving.
    pub partial: Option<Partial>,
    /// The session closes if no namespace is connected by then.
    pub connect_deadline: Option<u64>,
    /// Shared with the session's sockets: in memory, one copy per connection.
    pub handshake: Arc<Handshake>,
}

impl SessionRecord {
    /// When the session must next be stepped: the earlier of its Engine.IO deadline and
    /// its connect deadline.
    pub fn deadline(&self) -> Option<u64> {
        earliest(self.eio.deadline(), self.connect_deadline)
    }

    /// The id of the session's socket in namespace `nsp`, if it is connected there.
    pub fn socket_in(&self, nsp: &str) -> Option<&str> {
        self.sockets.iter().find(|(n, _)| n == nsp).map(|(_, id)| id.as_str())
    }

    /// Whether the session may connect to `nsp` too, given at most `max` namespaces.
    pub fn admits(&self, nsp: &str, max: usize) -> Result<(), NamespaceRefusal> {
        match self.socket_in(nsp) {
            Some(_) => Err(NamespaceRefusal::AlreadyConnected),
            None if self.sockets.len() >= max => Err(NamespaceRefusal::TooMany),
            None => Ok(()),
        }
    }
}

/// Why a session cannot connect to one more namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceRefusal {
    /// It is connected there already: the CONNECT is ignored, as in Node.
    AlreadyConnected,
    /// It is connected to `max_namespaces` namespaces.
    TooMany,
}

/// One socket: a session's connection to one namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketRecord {
    /// The socket id, as the client sees it; also the name of its own room.
    pub id: String,
    /// The namespace it is connected to.
    pub nsp: String,
    /// The Engine.IO session carrying it.
    pub sid: String,
    /// The application's `socket.data`.
    pub data: Value,
    /// Connection state recovery's private id, when recovery is on.
    pub pid: Option<String>,
    /// The handshake of the session that carries it.
    pub handshake: Arc<Handshake>,
}

/// A socket that may come back: kept by connection state recovery after a disconnect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersistedSocket {
    /// Its socket id, which it keeps when it comes back.
    pub id: String,
    /// Its namespace.
    pub nsp: String,
    /// The rooms it was in, its own among them.
    pub rooms: Vec<String>,
    /// Its `socket.data` when it left.
    pub data: Value,
    /// When it disconnected (ms since the epoch): the start of its recovery window.
    pub disconnected_at: u64,
}

impl PersistedSocket {
    /// The record it takes back on session `sid`: its id and `socket.data`, with the
    /// handshake of the connection that recovered it.
    pub fn revive(&self, pid: &str, sid: &str, handshake: Arc<Handshake>) -> SocketRecord {
        SocketRecord {
            id: self.id.clone(),
            nsp: self.nsp.clone(),
            sid: sid.to_owned(),
            data: self.data.clone(),
            pid: Some(pid.to_owned()),
            handshake,
        }
    }

    /// The rooms it re-joins: those it was in, its own id among them.
    pub fn rejoined(&self) -> Vec<String> {
        let mut rooms = self.rooms.clone();
        if !rooms.contains(&self.id) {
            rooms.push(self.id.clone());
        }
        rooms
    }
}

/// A CONNECT asking for its socket back (connection state recovery), with what the
/// socket needs to be back in service on the connection that sent it.
#[derive(Debug, Clone)]
pub struct Recovery {
    /// The socket's private id, from the CONNECT's auth.
    pub pid: String,
    /// The last event offset the client saw.
    pub offset: String,
    /// Sockets kept since earlier than this (ms) are past the recovery window.
    pub not_before: u64,
    /// The namespace of the CONNECT: the socket must have been kept for this one.
    pub nsp: String,
    /// The session whose CONNECT asks; the socket comes back on it.
    pub sid: String,
    /// That session's handshake, which the socket takes.
    pub handshake: Arc<Handshake>,
}

/// An event kept for sockets that are away, with who it was addressed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Its place in the log, unique across instances; a client sends back the last one
    /// it saw to recover.
    pub offset: String,
    /// When it was emitted (ms since the epoch); the log drops it once it is older than
    /// the recovery window.
    pub emitted_at: u64,
    /// Who it was addressed to.
    pub target: Target,
    /// The event name.
    pub event: String,
    /// Its JSON arguments, without the offset.
    pub values: Vec<Value>,
    /// Its binary attachments.
    pub binary: Vec<bytes::Bytes>,
}

impl LogEntry {
    /// Whether a socket that was in `rooms` (its own id among them) would have got it.
    pub fn addressed_to(&self, nsp: &str, rooms: &[String]) -> bool {
        let t = &self.target;
        t.nsp == nsp
            && (t.rooms.is_empty() || t.rooms.iter().any(|r| rooms.contains(r)))
            && !t.except.iter().any(|r| rooms.contains(r))
            && t.exclude.as_ref().is_none_or(|id| !rooms.contains(id))
    }

    /// The event's arguments with the offset appended, as the client expects them.
    pub fn args(&self) -> Args {
        let mut values = self.values.clone();
        values.push(Value::String(self.offset.clone()));
        Args { values, binary: self.binary.clone() }
    }
}

/// A socket a broadcast reaches: its id and the session that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    /// The socket id.
    pub id: String,
    /// The id of the Engine.IO session carrying the socket.
    pub sid: String,
}

/// A server-to-client acknowledgement awaited: a fact in the store, so that whichever
/// instance receives the client's ACK, or sweeps the deadline, can resolve it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingAck {
    /// The namespace of the socket.
    pub nsp: String,
    /// The id of the socket that owes the acknowledgement.
    pub socket: String,
    /// The acknowledgement id sent with the event.
    pub id: u64,
    /// When it times out; `None` waits as long as the socket lives.
    pub deadline: Option<u64>,
    /// The namespace's ack handler to run; `None` when a task of the emitting instance
    /// awaits the reply itself (the native runtime's plain `await`).
    pub handler: Option<String>,
    /// The hub instance whose task awaits the reply, when `handler` is `None`.
    #[serde(default)]
    pub waiter: Option<String>,
    /// What the emitter passed along for `handler`, which gets it back with the reply.
    pub context: Value,
}
