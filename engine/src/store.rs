//! The store seam: where the durable facts of every session live.

use std::future::Future;

use sio_core::eio::packet::Packet;
use sio_core::maybe::{MaybeSend, MaybeSync};
use sio_core::{Census, Target};
use thiserror::Error;

use crate::record::{LogEntry, Member, PendingAck, PersistedSocket, Recovery, SessionRecord, SocketRecord};

/// What became of packets offered to a polling session's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued (or dropped, for a session the store does not know).
    Yes,
    /// Refused whole: the queue would hold more than `max_buffered_packets`.
    Full,
    /// Refused: the session has moved to a WebSocket and its queue was sealed. Whoever
    /// offered them delivers them to the WebSocket instead.
    Sealed,
}

/// Why a store call failed. The hub logs it; a request it was serving is refused, and an
/// application's operation fails with [`OpError::Store`](sio_core::OpError::Store).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StoreError {
    /// The backend could not be reached or refused the call; the message says why.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A record could not be decoded (or encoded). Only the record under `key` is
    /// affected: other sessions go on.
    #[error("corrupt record under {key}: {reason}")]
    Corrupt {
        /// Where the record is kept, in the backend's own terms (a Redis key, a query).
        key: String,
        /// What the decoder said.
        reason: String,
    },
}

/// Everything a runtime keeps about sessions, sockets and rooms.
///
/// Updates take closures so each backend can make them atomic its own way (a lock in
/// memory, a transaction elsewhere); a closure may run more than once, so it must only
/// touch the record it is given.
///
/// The [`Hub`](crate::Hub) is the only caller. Every method is async and answers
/// `Err` only when the backend fails; "no such session" or "no such socket" is an
/// ordinary answer (`None`, `false`, an empty list). Times are milliseconds since the
/// Unix epoch, as [`Host::now`](crate::Host::now) gives them.
///
/// A backend provides all the methods below. Besides [`MemoryStore`](crate::MemoryStore)
/// here, `sio-redis` and `sio-cloudflare` hold implementations. The `suite` module (feature
/// `store-suite`) checks that a backend behaves as the hub expects; run it in the
/// backend's tests.
///
/// # Example
///
/// A store that counts the sessions it has opened and keeps everything in memory. A
/// real backend writes each method against its own storage; this one hands them on.
///
/// ```
/// use std::future::Future;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// use sio_core::maybe::MaybeSend;
/// use sio_engine::{MemoryStore, SessionRecord, Store, StoreError};
/// # use sio_core::eio::packet::Packet;
/// # use sio_core::Target;
/// # use sio_engine::{LogEntry, Member, PendingAck, PersistedSocket, Queued, Recovery, SocketRecord};
///
/// #[derive(Default)]
/// struct Counting {
///     inner: MemoryStore,
///     opened: AtomicUsize,
/// }
///
/// impl Store for Counting {
///     async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
///         self.opened.fetch_add(1, Ordering::Relaxed);
///         self.inner.insert_session(record).await
///     }
///
///     fn update_session<R, F>(
///         &self,
///         sid: &str,
///         f: F,
///     ) -> impl Future<Output = Result<Option<R>, StoreError>> + MaybeSend
///     where
///         R: MaybeSend,
///         F: FnMut(&mut SessionRecord) -> R + MaybeSend,
///     {
///         self.inner.update_session(sid, f)
///     }
///
///     // ... and the other methods alike.
/// #   async fn session_count(&self) -> Result<usize, StoreError> { self.inner.session_count().await }
/// #   async fn census(&self) -> Result<sio_core::Census, StoreError> { self.inner.census().await }
/// #   async fn remove_session(&self, sid: &str) -> Result<Option<(SessionRecord, Vec<Packet>)>, StoreError> {
/// #       self.inner.remove_session(sid).await
/// #   }
/// #   async fn insert_socket(&self, r: SocketRecord) -> Result<(), StoreError> { self.inner.insert_socket(r).await }
/// #   async fn socket(&self, nsp: &str, id: &str) -> Result<Option<SocketRecord>, StoreError> {
/// #       self.inner.socket(nsp, id).await
/// #   }
/// #   async fn set_socket_data(&self, nsp: &str, id: &str, d: serde_json::Value) -> Result<bool, StoreError> {
/// #       self.inner.set_socket_data(nsp, id, d).await
/// #   }
/// #   async fn remove_socket(&self, nsp: &str, id: &str) -> Result<Option<(SocketRecord, Vec<String>)>, StoreError> {
/// #       self.inner.remove_socket(nsp, id).await
/// #   }
/// #   async fn join(&self, nsp: &str, id: &str, rooms: &[String], max: usize) -> Result<bool, StoreError> {
/// #       self.inner.join(nsp, id, rooms, max).await
/// #   }
/// #   async fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> Result<(), StoreError> {
/// #       self.inner.leave(nsp, id, rooms).await
/// #   }
/// #   async fn rooms_of(&self, nsp: &str, id: &str) -> Result<Vec<String>, StoreError> {
/// #       self.inner.rooms_of(nsp, id).await
/// #   }
/// #   async fn members(&self, t: &Target) -> Result<Vec<Member>, StoreError> { self.inner.members(t).await }
/// #   async fn push_outbound(&self, sid: &str, p: &[Packet], max: usize) -> Result<Queued, StoreError> {
/// #       self.inner.push_outbound(sid, p, max).await
/// #   }
/// #   async fn take_outbound(&self, sid: &str) -> Result<Vec<Packet>, StoreError> {
/// #       self.inner.take_outbound(sid).await
/// #   }
/// #   async fn seal_outbound(&self, sid: &str) -> Result<Vec<Packet>, StoreError> {
/// #       self.inner.seal_outbound(sid).await
/// #   }
/// #   async fn set_deadline(&self, sid: &str, at: Option<u64>) -> Result<(), StoreError> {
/// #       self.inner.set_deadline(sid, at).await
/// #   }
/// #   async fn due(&self, now: u64, lease: u64) -> Result<(Vec<String>, Option<u64>), StoreError> {
/// #       self.inner.due(now, lease).await
/// #   }
/// #   async fn add_acks(&self, a: Vec<PendingAck>, max: usize) -> Result<Vec<PendingAck>, StoreError> {
/// #       self.inner.add_acks(a, max).await
/// #   }
/// #   async fn take_ack(&self, nsp: &str, s: &str, id: u64) -> Result<Option<PendingAck>, StoreError> {
/// #       self.inner.take_ack(nsp, s, id).await
/// #   }
/// #   async fn due_acks(&self, now: u64) -> Result<(Vec<PendingAck>, Option<u64>), StoreError> {
/// #       self.inner.due_acks(now).await
/// #   }
/// #   async fn take_acks_of(&self, nsp: &str, s: &str) -> Result<Vec<PendingAck>, StoreError> {
/// #       self.inner.take_acks_of(nsp, s).await
/// #   }
/// #   async fn log_event(&self, e: LogEntry, keep: u64, t: &Target) -> Result<Vec<Member>, StoreError> {
/// #       self.inner.log_event(e, keep, t).await
/// #   }
/// #   async fn persist_socket(&self, pid: &str, s: PersistedSocket) -> Result<(), StoreError> {
/// #       self.inner.persist_socket(pid, s).await
/// #   }
/// #   async fn restore_socket(&self, r: Recovery) -> Result<Option<(PersistedSocket, Vec<LogEntry>)>, StoreError> {
/// #       self.inner.restore_socket(r).await
/// #   }
/// }
/// ```
pub trait Store: MaybeSend + MaybeSync + 'static {
    /// Adds a session just opened by a handshake, keyed by its id (`record.eio.sid`).
    fn insert_session(&self, record: SessionRecord) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// How many sessions are open, for `max_sessions`. It may lag by the sessions being
    /// opened or closed at that moment.
    fn session_count(&self) -> impl Future<Output = Result<usize, StoreError>> + MaybeSend;

    /// How many sessions are open and how many sockets each namespace has, sorted by name
    /// and without empty ones, for the whole application: a store that one instance alone
    /// uses (a Durable Object's storage) asks the others. Like [`Store::session_count`],
    /// it may lag by what is changing at that moment.
    fn census(&self) -> impl Future<Output = Result<Census, StoreError>> + MaybeSend;

    /// Applies `f` to the session; `None` when there is no such session. `f` may run more
    /// than once, each time on a fresh copy of the record (a store that compares and swaps
    /// runs it again when the record changed under it), so it must change nothing but the
    /// record it is handed: what it moves out of its captures is gone for the next run.
    fn update_session<R, F>(&self, sid: &str, f: F) -> impl Future<Output = Result<Option<R>, StoreError>> + MaybeSend
    where
        R: MaybeSend,
        F: FnMut(&mut SessionRecord) -> R + MaybeSend;

    /// Removes the session with its deadline; returns it with the packets still queued for
    /// it, which a parked poll delivers before the close.
    #[allow(clippy::type_complexity)]
    fn remove_session(
        &self,
        sid: &str,
    ) -> impl Future<Output = Result<Option<(SessionRecord, Vec<Packet>)>, StoreError>> + MaybeSend;

    /// Adds a socket that has just connected to a namespace, keyed by namespace and id.
    /// Its rooms are joined apart ([`Store::join`]).
    fn insert_socket(&self, record: SocketRecord) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// The socket `id` of namespace `nsp`, if it is connected.
    fn socket(&self, nsp: &str, id: &str)
        -> impl Future<Output = Result<Option<SocketRecord>, StoreError>> + MaybeSend;

    /// Replaces the socket's `data` (the application's `socket.data`); `false` when
    /// there is no such socket.
    fn set_socket_data(
        &self,
        nsp: &str,
        id: &str,
        data: serde_json::Value,
    ) -> impl Future<Output = Result<bool, StoreError>> + MaybeSend;

    /// Removes the socket and its room memberships, returning both.
    fn remove_socket(
        &self,
        nsp: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<(SocketRecord, Vec<String>)>, StoreError>> + MaybeSend;

    /// Adds the socket to `rooms`, unless it would then be in more than `max` rooms: then
    /// it joins none of them and the answer is `false` (`max_rooms`, atomic per socket).
    fn join(
        &self,
        nsp: &str,
        id: &str,
        rooms: &[String],
        max: usize,
    ) -> impl Future<Output = Result<bool, StoreError>> + MaybeSend;

    /// Removes the socket from `rooms`; rooms it is not in are skipped.
    fn leave(&self, nsp: &str, id: &str, rooms: &[String]) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// The socket's rooms, sorted.
    fn rooms_of(&self, nsp: &str, id: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + MaybeSend;

    /// The sockets a target designates, each once.
    fn members(&self, target: &Target) -> impl Future<Output = Result<Vec<Member>, StoreError>> + MaybeSend;

    /// Queues packets for a polling session, unless its queue would then hold more than
    /// `max` ([`Queued::Full`]: nothing is queued) or is sealed. An unknown session queues
    /// nothing and answers [`Queued::Yes`].
    fn push_outbound(
        &self,
        sid: &str,
        packets: &[Packet],
        max: usize,
    ) -> impl Future<Output = Result<Queued, StoreError>> + MaybeSend;

    /// Takes every queued packet of a polling session.
    fn take_outbound(&self, sid: &str) -> impl Future<Output = Result<Vec<Packet>, StoreError>> + MaybeSend;

    /// Takes every queued packet of a session that has just moved to a WebSocket, and
    /// seals its queue for good, in one step. Without the seal, an instance that found no
    /// WebSocket a moment before the upgrade would queue packets after the flush, where no
    /// one would ever read them; sealed, it is told to deliver them to the WebSocket.
    fn seal_outbound(&self, sid: &str) -> impl Future<Output = Result<Vec<Packet>, StoreError>> + MaybeSend;

    /// Sets (or with `None` clears) when the session must next be stepped.
    fn set_deadline(&self, sid: &str, at: Option<u64>) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// Claims the sessions whose deadline is at or before `now`, and returns the earliest
    /// later deadline. A claimed deadline moves to `now + lease`, so that of several
    /// instances sweeping one store exactly one steps each session, and if that one dies
    /// before stepping it (which sets its next deadline) another does after the lease.
    fn due(
        &self,
        now: u64,
        lease: u64,
    ) -> impl Future<Output = Result<(Vec<String>, Option<u64>), StoreError>> + MaybeSend;

    /// Records acknowledgements awaited from clients, except for a socket that already
    /// awaits `max` (`max_pending_acks`): those are handed back, not recorded.
    fn add_acks(
        &self,
        acks: Vec<PendingAck>,
        max: usize,
    ) -> impl Future<Output = Result<Vec<PendingAck>, StoreError>> + MaybeSend;

    /// Takes acknowledgement `id` awaited from socket `socket`, if it still is.
    fn take_ack(
        &self,
        nsp: &str,
        socket: &str,
        id: u64,
    ) -> impl Future<Output = Result<Option<PendingAck>, StoreError>> + MaybeSend;

    /// Takes the acknowledgements whose deadline is at or before `now`, and returns the
    /// earliest later deadline.
    fn due_acks(
        &self,
        now: u64,
    ) -> impl Future<Output = Result<(Vec<PendingAck>, Option<u64>), StoreError>> + MaybeSend;

    /// Takes every acknowledgement still awaited from a socket that is gone.
    fn take_acks_of(
        &self,
        nsp: &str,
        socket: &str,
    ) -> impl Future<Output = Result<Vec<PendingAck>, StoreError>> + MaybeSend;

    /// Appends an event to the recovery log, dropping entries emitted before
    /// `keep_since` (and sockets kept since before then), and returns the sockets its
    /// target designates (as [`Store::members`]), in one step with respect
    /// to [`Store::restore_socket`]: a socket being recovered either finds the event
    /// among those it missed or is among its members, never neither. A backend whose log
    /// is not one for all (a Durable Object's) also logs the event where the target's
    /// other sockets are kept, so that a socket recovered anywhere finds what it missed.
    fn log_event(
        &self,
        entry: LogEntry,
        keep_since: u64,
        target: &Target,
    ) -> impl Future<Output = Result<Vec<Member>, StoreError>> + MaybeSend;

    /// Keeps a disconnected socket for recovery under its private id.
    fn persist_socket(
        &self,
        pid: &str,
        socket: PersistedSocket,
    ) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// Takes the socket kept under `recovery.pid` back if it was kept for
    /// `recovery.nsp`, at or after `recovery.not_before`, and the log still holds
    /// `recovery.offset`; puts it back in service on `recovery.sid` (its record, its
    /// rooms and its own id room) and returns it with the events it missed since. Taking
    /// it, re-joining and reading the log are one step with respect to
    /// [`Store::log_event`], so that no event falls between what it missed and what
    /// reaches it live, and a kept socket comes back at most once.
    fn restore_socket(
        &self,
        recovery: Recovery,
    ) -> impl Future<Output = Result<Option<(PersistedSocket, Vec<LogEntry>)>, StoreError>> + MaybeSend;

    /// Claims tick `tick` of schedule `name` for the instance asking: `true` for the one
    /// instance of all sharing the store that gets it first, which runs the schedule's
    /// handler for that tick. The claim may be forgotten after `ttl_ms`. A store that one
    /// instance alone uses (memory, a Durable Object's storage) grants every claim.
    fn claim_tick(
        &self,
        name: &str,
        tick: u64,
        ttl_ms: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + MaybeSend {
        let _ = (name, tick, ttl_ms);
        std::future::ready(Ok(true))
    }
}
