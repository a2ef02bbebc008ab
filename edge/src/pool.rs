//! The objects of one deployment, as each sees the others: sessions are spread over a
//! pool of objects, and an operation on sockets of other objects is one sub-request per
//! object that holds some, never one per socket.
//!
//! Calls go straight from object to object through their stubs, never through the
//! Worker, which forwards no request to the call path.

use std::cell::Cell;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sio_core::eio::packet::Packet;
use sio_core::Target;
use sio_engine::{LogEntry, PendingAck, ServerSideEvent};
use thiserror::Error;
use worker::{web_sys, ObjectNamespace, Request};

use crate::route;

/// The path objects call each other on.
pub const CALL_PATH: &str = "/__sio/call";

/// What one object asks of another, about the sockets and sessions that one owns.
///
/// Externally tagged (`{"join":[...]}`): an internally tagged enum is read through serde's
/// buffered `Content`, which compiles a second deserializer for every field type. Tuple
/// variants, read as JSON arrays: a struct variant compiles a deserializer of its own
/// that also takes the object form and matches field names, which costs wasm size.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// Its sockets a target designates. With a log entry, an event logged for recovery
    /// (and the time before which entries may go), which it keeps in its own log if it
    /// holds a socket the event may be for.
    Members(Target, Option<(LogEntry, u64)>),
    /// These packets to these sessions (ids) of its: on their WebSockets, or queued for
    /// polling; volatile ones only to a session that can take them now
    /// ([`sio_engine::Host::deliver`]).
    Deliver(Vec<String>, Vec<Packet>, bool),
    /// Socket `id` of namespace `nsp` joins these rooms, unless it would then be in more
    /// than `max`: `(nsp, id, rooms, max)`.
    Join(String, String, Vec<String>, usize),
    /// `(nsp, id, rooms)`
    Leave(String, String, Vec<String>),
    /// Its record: `(nsp, id)`.
    Socket(String, String),
    /// Its rooms: `(nsp, id)`.
    RoomsOf(String, String),
    /// Sets its `socket.data`: `(nsp, id, data)`.
    SetData(String, String, Value),
    /// Acknowledgements its sockets are to send: kept where their ACK packets arrive,
    /// unless a socket already awaits `max` (the second field).
    AddAcks(Vec<PendingAck>, usize),
    /// Hands over the socket it keeps for recovery under `pid` (`Store::restore_socket`)
    /// to object `to`, and forgets it.
    Restore { pid: String, offset: String, not_before: u64, nsp: String, to: String },
    /// A reply its hub awaits in a task (`emit_with_ack` across objects): `(socket, ack
    /// id, values, binary attachments)`.
    AckRelayed(String, u64, Vec<Value>, Vec<bytes::Bytes>),
    /// Disconnects these sockets of its (`disconnect_sockets` across objects): `(nsp,
    /// ids, close)`, `close` ending their whole connection.
    Disconnect(String, Vec<String>, bool),
    /// Whether it still keeps a socket it recovered, live or for recovery since a time:
    /// `(id, pid, since)` (`SqlStore::check_away`).
    Keeps(String, String, u64),
    /// Nothing but to be started (the object that runs the schedules, whose alarm then
    /// keeps it going).
    Start,
    /// Its own sessions and sockets per namespace ([`sio_core::Census`]).
    Census,
    /// Runs a server-side event on its hub; answered with the handler's acknowledgement,
    /// `(values, binary attachments)`, when one was asked for and came.
    ServerSide(ServerSideEvent),
}

impl Call {
    /// The socket a call is about, when it is about one.
    pub fn socket(&self) -> Option<&str> {
        match self {
            Call::Join(_, id, ..)
            | Call::Leave(_, id, _)
            | Call::Socket(_, id)
            | Call::RoomsOf(_, id)
            | Call::SetData(_, id, _) => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, Error)]
pub enum PoolError {
    #[error("sub-request to object {object} failed: {reason}")]
    Call { object: String, reason: String },
}

pub struct Pool {
    namespace: ObjectNamespace,
    me: String,
    objects: u32,
    /// Sub-requests made since last asked, for measurements.
    calls: Cell<u64>,
}

impl Pool {
    pub fn new(namespace: ObjectNamespace, me: String, objects: u32) -> Self {
        Self { namespace, me, objects, calls: Cell::new(0) }
    }

    /// The other object that minted `id`; `None` for this object's own ids.
    pub fn remote<'a>(&self, id: &'a str) -> Option<&'a str> {
        route::owner(id, self.objects).ok().filter(|owner| *owner != self.me)
    }

    /// This object's name.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Every other object of the pool.
    pub fn others(&self) -> Vec<String> {
        (0..self.objects).map(route::object_name).filter(|name| *name != self.me).collect()
    }

    /// The other objects that may hold members of `target`: when its rooms all are socket
    /// ids (`socket.rooms`, `socket.data`, an emit to one socket), those that `keeper`
    /// names for them (the objects that minted them, unless a socket recovered on
    /// another); else every other object of the pool.
    pub fn holders(&self, target: &Target, keeper: impl Fn(&str) -> Option<String>) -> Vec<String> {
        let everyone = || self.others();
        if target.rooms.is_empty() {
            return everyone();
        }
        // A sorted, deduplicated list of owned strings rather than a set of borrowed ones:
        // the sort is then the one the store's room lists already compile in.
        let mut owners = Vec::new();
        for room in &target.rooms {
            match route::id_owner(room, self.objects) {
                None => return everyone(),
                Some(_) => owners.extend(keeper(room)),
            }
        }
        owners.sort();
        owners.dedup();
        owners
    }

    /// The rooms of `target` when they all are socket ids: only then was this object
    /// asked for them alone, as the object that minted them or one they went through.
    pub fn socket_ids<'a>(&self, target: &'a Target) -> Vec<&'a str> {
        match target.rooms.iter().all(|room| route::id_owner(room, self.objects).is_some()) {
            true => target.rooms.iter().map(String::as_str).collect(),
            false => Vec::new(),
        }
    }

    /// Sub-requests made since the last call.
    #[cfg(feature = "inspect")]
    pub fn take_calls(&self) -> u64 {
        self.calls.take()
    }

    pub async fn call<T: DeserializeOwned>(&self, object: &str, call: &Call) -> Result<T, PoolError> {
        let answer = self.send(object, call).await?;
        serde_json::from_str(&answer).map_err(|e| PoolError::Call { object: object.to_owned(), reason: e.to_string() })
    }

    /// The sub-request itself, apart from [`Pool::call`] so that only reading the answer
    /// is compiled once per answer type; its answer as JSON text, for the caller or to
    /// pass on.
    pub async fn send(&self, object: &str, call: &Call) -> Result<String, PoolError> {
        self.calls.set(self.calls.get() + 1);
        let failed = |reason: String| PoolError::Call { object: object.to_owned(), reason };
        let body = serde_json::to_string(call).map_err(|e| failed(e.to_string()))?;
        // Logged as the JSON it goes as: a `Debug` of the call would compile one for every
        // type a call carries, for this line alone.
        tracing::debug!(from = %self.me, to = %object, call = %body, "sub-request");
        // Built on web_sys: worker's RequestInit conversion compiles in every `cf` option
        // of a fetch to the Internet, none of which a call to an object uses.
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&body.into());
        let req = web_sys::Request::new_with_str_and_init(&format!("https://objects{CALL_PATH}"), &init)
            .map_err(|e| failed(worker::Error::from(e).to_string()))?;
        let stub = self.namespace.get_by_name(object).map_err(|e| failed(e.to_string()))?;
        let mut res = stub.fetch_with_request(Request::from(req)).await.map_err(|e| failed(e.to_string()))?;
        if res.status_code() != 200 {
            return Err(failed(format!("status {}", res.status_code())));
        }
        res.text().await.map_err(|e| failed(e.to_string()))
    }
}
