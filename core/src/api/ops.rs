//! The one seam between the application API and whatever runtime hosts it.
//!
//! Every handle the application holds ([`super::Socket`], [`super::Namespace`],
//! [`super::Ack`]) turns its calls into these operations; a runtime implements them over
//! its store and its delivery. Keeping the seam object-safe lets handles stay small,
//! cloneable values that any runtime can build.
//!
//! An application uses the data types here ([`Handshake`], [`Headers`], [`SocketInfo`],
//! [`OpError`], [`AckError`], [`AckReplies`]); only a runtime implements [`Ops`].

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use super::args::Args;
use crate::eio::request::{Query, TransportKind};
use crate::maybe::{BoxFuture, MaybeSend, MaybeSync};

/// Which sockets of a namespace an operation applies to, as Node's `BroadcastOperator`
/// describes them.
///
/// Applications build targets through [`super::Socket::to`], [`super::Namespace::to`] and
/// the other [`super::Broadcast`] modifiers; runtimes read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The namespace, e.g. `/` or `/chat`.
    pub nsp: String,
    /// Sockets in any of these rooms; every socket of the namespace when empty.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// Minus this socket (`socket.broadcast`, `socket.to(room)`).
    pub exclude: Option<String>,
    /// Drop the packet for sockets that cannot take it right now, and keep it out of the
    /// recovery log.
    pub volatile: bool,
    /// Only sockets connected to this instance (`local`): natively on Redis, those whose
    /// WebSocket or parked polling request this process holds; on Cloudflare, those of the
    /// object that runs the handler; in one process or on Lambda (no instance holds
    /// connections), every socket.
    pub local: bool,
}

impl Target {
    /// One socket: the sockets in the room named after its id.
    pub fn socket(nsp: &str, id: &str) -> Self {
        Self { nsp: nsp.to_owned(), rooms: vec![id.to_owned()], ..Self::default() }
    }

    /// Every socket of namespace `nsp`.
    pub fn namespace(nsp: &str) -> Self {
        Self { nsp: nsp.to_owned(), ..Self::default() }
    }
}

/// Request headers by lower-cased name, one value each (the last one sent), sorted by
/// name. A sorted list rather than a map: every connection keeps its handshake's headers
/// for its whole life, and for the few headers of a handshake a list takes less memory
/// than a map.
///
/// ```
/// use sio_core::Headers;
///
/// let headers: Headers = [("origin", "https://example.com"), ("host", "a"), ("host", "b")]
///     .into_iter()
///     .map(|(n, v)| (n.to_owned(), v.to_owned()))
///     .collect();
/// assert_eq!(headers.get("origin"), Some("https://example.com"));
/// assert_eq!(headers.get("host"), Some("b"));
/// assert!(!headers.contains_key("cookie"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The value of header `name`, which must be lower-case.
    pub fn get(&self, name: &str) -> Option<&str> {
        let at = self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok()?;
        Some(&self.0[at].1)
    }

    /// Whether header `name` (lower-case) was sent.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every header as `(name, value)`, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// The last value of a name wins, as in a map built from the same pairs.
impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        // Inserted in place rather than sorted: a request has a few dozen headers at most,
        // and the Worker's wasm would carry a sort of its own.
        let mut sorted: Vec<(String, String)> = Vec::new();
        for (name, value) in pairs {
            match sorted.binary_search_by(|(n, _)| n.cmp(&name)) {
                Ok(at) => sorted[at].1 = value,
                Err(at) => sorted.insert(at, (name, value)),
            }
        }
        sorted.shrink_to_fit();
        Self(sorted)
    }
}

/// Serialized as a JSON object, as Node shows `socket.handshake.headers`.
impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeadersVisitor)
    }
}

struct HeadersVisitor;

impl<'de> serde::de::Visitor<'de> for HeadersVisitor {
    type Value = Headers;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of header names to values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, String>()? {
            pairs.push(pair);
        }
        Ok(pairs.into_iter().collect())
    }
}

/// The handshake details of a socket, as `socket.handshake` in Node.
///
/// Middlewares read it to authenticate a connection, from [`super::Socket::handshake`]:
///
/// ```
/// use sio_core::{ConnectError, NamespaceDef};
///
/// let def = NamespaceDef::new().use_middleware(|socket| async move {
///     let handshake = socket.handshake().await.map_err(|e| ConnectError::new(e.to_string()))?;
///     // `socket.handshake.auth.token` in Node: what the client passed as `auth`.
///     let token = handshake.auth.get("token").and_then(|t| t.as_str());
///     // `socket.handshake.headers["user-agent"]`.
///     let _agent = handshake.headers.get("user-agent");
///     match token {
///         Some("let-me-in") => Ok(()),
///         _ => Err(ConnectError::new("unauthorized")),
///     }
/// });
/// # let _ = def;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Handshake {
    /// Query parameters of the Engine.IO handshake request.
    pub query: Query,
    /// Request headers, lower-cased names.
    pub headers: Headers,
    /// The CONNECT packet's payload (`auth` on the client), `{}` when absent.
    pub auth: Value,
    /// When the handshake happened, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The client's IP address; empty when the runtime does not know it.
    pub address: String,
    /// The URL of the handshake request (its path and query).
    pub url: String,
}

impl Handshake {
    /// The shape Node's `socket.handshake` serializes to, for applications that hand it
    /// to a client.
    pub fn to_json(&self) -> Value {
        let query: serde_json::Map<String, Value> =
            self.query.pairs.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        serde_json::json!({
            "headers": self.headers,
            "time": self.issued.to_string(),
            "address": self.address,
            "xdomain": self.headers.contains_key("origin"),
            "secure": false,
            "issued": self.issued,
            "url": self.url,
            "query": query,
            "auth": self.auth,
        })
    }
}

/// A socket as the store sees it, wherever it is connected: what a runtime answers
/// `fetch_sockets` with (applications get a [`super::RemoteSocket`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket's id (`socket.id`).
    pub id: String,
    /// The socket's namespace.
    pub nsp: String,
    /// The rooms the socket is in, its own id room included.
    pub rooms: Vec<String>,
    /// `socket.data`: `null` until a handler sets it.
    pub data: Value,
    /// The socket's handshake details.
    pub handshake: Handshake,
}

/// How many clients the application serves, across every instance: Node's
/// `io.engine.clientsCount` and each namespace's `nsp.sockets.size`, from the store.
///
/// ```
/// use sio_core::Census;
///
/// let census = Census { clients: 3, namespaces: vec![("/".into(), 3), ("/chat".into(), 1)] };
/// assert_eq!(census.sockets("/chat"), 1);
/// assert_eq!(census.sockets("/admin"), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    /// Open Engine.IO sessions, connected to a namespace or not yet.
    pub clients: usize,
    /// Each namespace that has sockets, with how many, sorted by name.
    pub namespaces: Vec<(String, usize)>,
}

impl Census {
    /// How many sockets namespace `nsp` has.
    pub fn sockets(&self, nsp: &str) -> usize {
        self.namespaces.iter().find(|(n, _)| n == nsp).map_or(0, |(_, count)| *count)
    }
}

/// Why an operation could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpError {
    /// The runtime's store (memory, Redis, Durable Object storage) failed; the text says how.
    #[error("the store failed: {0}")]
    Store(String),
    /// The socket is gone: it disconnected before the operation reached it.
    #[error("the socket is not connected")]
    NotConnected,
    /// A value given as arguments, as `socket.data` or as an ack context does not
    /// serialize to JSON.
    #[error("a value does not serialize to JSON: {0}")]
    Data(String),
    /// `join` would put the socket in more rooms than [`crate::SocketConfig::max_rooms`].
    #[error("the socket is in as many rooms as max_rooms allows")]
    TooManyRooms,
}

/// Why an acknowledgement did not arrive.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AckError {
    /// No answer within the timeout; the text is Node's.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected before it answered; the text is Node's.
    #[error("socket has been disconnected")]
    Disconnected,
    /// The socket already had [`crate::SocketConfig::max_pending_acks`] acknowledgements
    /// pending, so the event was not sent to it.
    #[error("the socket has as many acknowledgements pending as max_pending_acks allows")]
    TooManyPendingAcks,
    /// The emit itself failed.
    #[error(transparent)]
    Op(#[from] OpError),
}

/// What a broadcast with acknowledgements gathered: every answer that arrived in time,
/// and whether some socket did not answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AckReplies {
    /// The answers that arrived, one per answering socket, in no particular order.
    pub replies: Vec<Args>,
    /// Whether the timeout passed before every recipient answered.
    pub timed_out: bool,
    /// Recipients skipped because they already had `max_pending_acks` acknowledgements
    /// pending: they got no event and are not waited for.
    pub refused: usize,
}

/// The operations a runtime provides to the application API.
///
/// For runtime authors: an application never calls these directly, it calls the handles
/// ([`super::Socket`], [`super::Namespace`], [`super::Broadcast`], [`super::Ack`]).
pub trait Ops: MaybeSend + MaybeSync + 'static {
    /// Emits an event to every socket of `target`.
    fn emit(&self, target: Target, event: String, args: Args) -> BoxFuture<'_, Result<(), OpError>>;

    /// Emits an event to every socket of `target` and gathers their acknowledgements for
    /// at most `timeout_ms` (forever when `None`, until the sockets disconnect).
    fn emit_with_ack(
        &self,
        target: Target,
        event: String,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, AckError>>;

    /// Emits an event to every socket of `target` asking for acknowledgements that the
    /// namespace's ack handler `handler` receives, one call per socket, with `context`.
    /// Nothing waits in memory: the expectation is a record in the store.
    fn emit_with_ack_to(
        &self,
        target: Target,
        event: String,
        args: Args,
        handler: String,
        context: Value,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<(), OpError>>;

    /// Answers a client's acknowledgement request `id` on namespace `nsp` of the
    /// Engine.IO session `sid` (the connection the request came on: no look-up needed).
    fn ack(&self, nsp: String, sid: String, id: u64, args: Args) -> BoxFuture<'_, Result<(), OpError>>;

    /// Adds the sockets of `target` to `rooms`.
    fn join(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>>;

    /// Removes the sockets of `target` from `rooms`.
    fn leave(&self, target: Target, rooms: Vec<String>) -> BoxFuture<'_, Result<(), OpError>>;

    /// The sockets of `target`.
    fn fetch_sockets(&self, target: Target) -> BoxFuture<'_, Result<Vec<SocketInfo>, OpError>>;

    /// Disconnects the sockets of `target` from their namespace, or closes their whole
    /// connection when `close` is set.
    fn disconnect(&self, target: Target, close: bool) -> BoxFuture<'_, Result<(), OpError>>;

    /// Sends a bare Engine.IO message to a session.
    fn send_message(&self, sid: String, data: crate::eio::packet::Data) -> BoxFuture<'_, ()>;

    /// Milliseconds since the Unix epoch on the runtime's clock (applications must not
    /// read the system clock themselves: wasm has none).
    fn now(&self) -> u64;

    /// Waits `ms` milliseconds on the runtime's clock.
    fn sleep(&self, ms: u64) -> BoxFuture<'static, ()>;

    /// Replaces `socket.data`.
    fn set_data(&self, nsp: String, socket: String, data: Value) -> BoxFuture<'_, Result<(), OpError>>;

    /// The transport socket `socket` of namespace `nsp` uses now.
    fn transport(&self, nsp: String, socket: String) -> BoxFuture<'_, Result<TransportKind, OpError>>;

    /// How many clients and sockets the application has, across every instance.
    fn census(&self) -> BoxFuture<'_, Result<Census, OpError>>;

    /// Whether namespaces `a` and `b` are both served by one dynamic namespace definition
    /// ([`crate::App::dynamic_namespace`]): children of one parent.
    fn same_parent(&self, a: &str, b: &str) -> bool;

    /// Runs the server-side event handler of namespace `nsp` on every other instance of
    /// the application (`serverSideEmit`); with `timeout_ms`, gathers their
    /// acknowledgements for that long (`serverSideEmitWithAck`).
    fn server_side_emit(
        &self,
        nsp: String,
        event: String,
        args: Args,
        timeout_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<AckReplies, OpError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn headers_keep_the_last_value_of_a_name_and_read_as_a_map() {
        let h = headers(&[("upgrade", "websocket"), ("host", "a"), ("x-a", "1"), ("host", "b"), ("accept", "*/*")]);
        assert_eq!(h.get("host"), Some("b"));
        assert_eq!(h.get("x-a"), Some("1"));
        assert_eq!(h.get("origin"), None);
        assert!(h.contains_key("accept"));
        let names: Vec<_> = h.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["accept", "host", "upgrade", "x-a"]);
    }

    #[test]
    fn headers_serialize_as_an_object_and_back() {
        let h = headers(&[("host", "a"), ("accept", "*/*")]);
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(json, serde_json::json!({"accept": "*/*", "host": "a"}));
        assert_eq!(serde_json::from_value::<Headers>(json).unwrap(), h);
        assert!(serde_json::from_value::<Headers>(serde_json::json!(["host"])).is_err());
    }
}
